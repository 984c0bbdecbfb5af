"""`lpr bench cameras N SOURCE`: N cameras replaying SOURCE at its own frame rate on this host, as live
cameras (a frame the pipeline cannot keep up with is dropped), in the worker-per-camera design, the
shared-inference one (stream.inference), or both in one run. Reports the aggregate frame rate processed, the share of frames dropped, CPU,
the largest worker's memory, and whether each camera published the same plates as one offline run.
"""

from __future__ import annotations

import resource
import tempfile
import threading
import time
from dataclasses import replace
from pathlib import Path

from stream.config import CameraSection, Config, DetectorSection, InferenceSection, PublishSection, StoreSection


class Recorder:
    """Stands where the run's sinks stand: keeps every message the workers send."""

    def __init__(self) -> None:
        self.messages: list[tuple[str, str, dict]] = []
        self.lock = threading.Lock()

    def send(self, kind: str, camera_id: str, payload: dict, jpeg: bytes = b"", snapshot: bytes = b"") -> None:
        with self.lock:
            self.messages.append((kind, camera_id, payload))

    def close(self) -> None:
        pass


def plates(events: list[dict], valid_only: bool = False) -> list[str]:
    """The readable events' texts; `valid_only`: those that fit a plate format (false detections seldom do)."""
    return sorted(e["text"] for e in events if e["readable"] and (e["format_valid"] is not False or not valid_only))


def bench_cameras(
    count: int,
    source: str,
    detector: DetectorSection,
    realtime: bool = True,
    designs: tuple[str, ...] = ("process",),
) -> dict:
    """Each design's figures (`process`: a worker process per camera; `shared`: one process and inference service;
    `detector.threads` torch threads a process or a shared worker), measured in this run against one offline
    reference, and the shared design's frame rate as a ratio of the other's where both ran."""
    from stream.runner import build_models, run_camera

    base = Config(store=StoreSection(enabled=False), detector=detector)
    offline = CameraSection(id="offline", source=source)
    reference: list[dict] = []
    models = build_models(base)  # the reference's, then the shared design's
    run_camera(
        replace(base, cameras=(offline,)),
        offline,
        lambda kind, _cam, payload, *_: reference.append(payload) if kind == "plate" else None,
        threading.Event(),
        models=models,
    )
    report: dict = {"cameras": count, "source": str(Path(source).name), "realtime": realtime}
    for design in designs:
        report[design] = _bench_design(design, count, source, base, realtime, reference, models)
        report[design]["threads"] = detector.threads
    if "process" in report and "shared" in report and report["process"]["fps"]:
        report["fps_ratio_shared_to_process"] = round(report["shared"]["fps"] / report["process"]["fps"], 2)
    return report


def _bench_design(
    design: str, count: int, source: str, base: Config, realtime: bool, reference: list[dict], models: tuple
) -> dict:
    from stream.runner import Supervisor, run_cameras_shared

    who = resource.RUSAGE_SELF if design == "shared" else resource.RUSAGE_CHILDREN
    with tempfile.TemporaryDirectory() as tmp:
        cameras = tuple(
            CameraSection(id=f"cam{i}", source=source, realtime=realtime, drop_when_behind=realtime)
            for i in range(count)
        )
        cfg = replace(
            base,
            cameras=cameras,
            publish=PublishSection(endpoint=f"ipc://{tmp}/bus.ipc"),
            inference=InferenceSection(shared=design == "shared"),
        )
        recorder = Recorder()
        before = resource.getrusage(who)
        started = time.monotonic()
        if design == "shared":
            results = run_cameras_shared(cfg, recorder.send, threading.Event(), models)
            codes = {r.camera_id: r.exit_code for r in results}
        else:
            codes = Supervisor(cfg, recorder).run(threading.Event())  # type: ignore[arg-type]
        wall = time.monotonic() - started
        after = resource.getrusage(who)
    by_camera: dict[str, dict] = {c.id: {"events": [], "health": []} for c in cameras}
    for kind, cam, payload in recorder.messages:
        if cam in by_camera:
            by_camera[cam]["events" if kind == "plate" else "health"].append(payload)
    rows, processed, decoded, dropped = {}, 0.0, 0, 0
    for cam, got in by_camera.items():
        health = [h for h in got["health"] if "decoded" in h]
        connected = next((h["time"] for h in health if h["state"] == "connected"), None)
        last: dict = health[-1] if health else {"decoded": 0, "dropped": 0, "time": connected}
        seconds = float(last["time"] - connected) if connected is not None else 0.0
        frames = int(last["decoded"]) - int(last["dropped"])
        processed += frames / seconds if seconds > 0 else 0.0
        decoded, dropped = decoded + int(last["decoded"]), dropped + int(last["dropped"])
        rows[cam] = {
            "fps": round(frames / seconds, 2) if seconds > 0 else None,
            "dropped": last["dropped"],
            "events_match": plates(got["events"]) == plates(reference),
            "valid_plates_match": plates(got["events"], True) == plates(reference, True),
            "plates": plates(got["events"]),
            "exit_code": codes.get(cam),
        }
    return {
        "fps": round(processed, 2),
        "dropped_share": round(dropped / max(decoded, 1), 4),
        "events_match": all(r["events_match"] for r in rows.values()),
        "valid_plates_match": all(r["valid_plates_match"] for r in rows.values()),
        "cpu_percent": round(100 * ((after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)) / wall, 1),
        # a worker's peak, or the shared process's (the offline reference's models included: the same ones)
        "largest_process_rss_MB": round(after.ru_maxrss / 1024, 1),
        "wall_s": round(wall, 1),
        "reference_plates": plates(reference),
        "per_camera": rows,
    }
