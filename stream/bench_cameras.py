"""`lpr bench cameras N SOURCE`: N cameras replaying SOURCE at its own frame rate on this host, as live
cameras (a frame the pipeline cannot keep up with is dropped), with today's design of one worker
process per camera. Reports the aggregate frame rate processed, the share of frames dropped, CPU,
the largest worker's memory, and whether each camera published the same plates as one offline run.
"""

from __future__ import annotations

import resource
import tempfile
import threading
import time
from dataclasses import replace
from pathlib import Path

from stream.config import CameraSection, Config, DetectorSection, PublishSection, StoreSection


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


def bench_cameras(count: int, source: str, detector: DetectorSection, realtime: bool = True) -> dict:
    from stream.runner import Supervisor, build_models, run_camera

    base = Config(store=StoreSection(enabled=False), detector=detector)
    offline = CameraSection(id="offline", source=source)
    reference: list[dict] = []
    run_camera(
        replace(base, cameras=(offline,)),
        offline,
        lambda kind, _cam, payload, *_: reference.append(payload) if kind == "plate" else None,
        threading.Event(),
        models=build_models(base),
    )
    with tempfile.TemporaryDirectory() as tmp:
        cameras = tuple(
            CameraSection(id=f"cam{i}", source=source, realtime=realtime, drop_when_behind=realtime)
            for i in range(count)
        )
        cfg = replace(base, cameras=cameras, publish=PublishSection(endpoint=f"ipc://{tmp}/bus.ipc"))
        recorder = Recorder()
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.monotonic()
        codes = Supervisor(cfg, recorder).run(threading.Event())  # type: ignore[arg-type]
        wall = time.monotonic() - started
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
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
        "cameras": count,
        "source": str(Path(source).name),
        "realtime": realtime,
        "fps": round(processed, 2),
        "dropped_share": round(dropped / max(decoded, 1), 4),
        "events_match": all(r["events_match"] for r in rows.values()),
        "valid_plates_match": all(r["valid_plates_match"] for r in rows.values()),
        "cpu_percent": round(100 * ((after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)) / wall, 1),
        "largest_worker_rss_MB": round(after.ru_maxrss / 1024, 1),
        "wall_s": round(wall, 1),
        "reference_plates": plates(reference),
        "per_camera": rows,
    }
