"""`lpr run RECORDING --jobs N`: one recording (a file or a footage set) read as N parts at once.

The range to read is cut into N stretches of equal length on the recording's timeline; each part
replays its stretch (the grabber seeks to it) in its own thread, and one shared inference service
(stream.inference) detects and reads the frames of all of them. Events keep their camera id and
their place in the recording; track ids are numbered apart by part (part k's from
k * PART_TRACK_IDS), so no two vehicles share one. A vehicle in view across a cut gives an event
on each side of it: N - 1 cuts in all. With --job NAME each part is a resumable job of its own
(NAME.part1, NAME.part2, ...): a rerun with the same N continues every part where it stopped.
"""

from __future__ import annotations

import math
import threading
from dataclasses import fields, replace
from pathlib import Path

from stream.config import CameraSection, Config
from stream.footage import FootageError, footage_paths, parse_position, plan, probe
from stream.pipeline import PipelineStats
from stream.runner import CameraResult, Send, run_shared
from stream.sources import SourceError, SourceStats, classify

PART_TRACK_IDS = 1_000_000


def part_ranges(low: float, high: float, parts: int) -> list[tuple[float, float]]:
    """[low, high) cut into `parts` stretches of equal length, in seconds of the recording."""
    step = (high - low) / parts
    cuts = [low + k * step for k in range(parts)] + [high]
    return list(zip(cuts[:-1], cuts[1:]))


def recording_span(camera: CameraSection) -> tuple[float, float]:
    """The stretch of the recording `camera` asks for (its whole length without --from/--to), in seconds."""
    spec = classify(camera.source)
    if not spec.replay:
        raise SourceError(f"--jobs splits recordings (files and footage sets), not a {spec.kind}")
    try:
        paths = footage_paths(camera.source)
        if paths is None:
            files = [probe(Path(camera.source), camera.start_time, camera.time_pattern, camera.time_zone)]
        else:
            files, _unreadable = plan(paths, camera.start_time, camera.time_pattern, camera.time_zone)
        start = files[0].clock.start
        low = parse_position(camera.replay_from, start, camera.time_zone) if camera.replay_from else 0.0
        end = files[-1].offset + files[-1].duration if files[-1].duration else math.inf
        high = min(end, parse_position(camera.replay_to, start, camera.time_zone) if camera.replay_to else end)
    except FootageError as err:
        raise SourceError(str(err)) from None
    if math.isinf(high):
        raise SourceError(f"{camera.source}: its length is unknown (no duration in the container): give --to")
    if high <= low:
        raise SourceError(f"the range ends ({high:.1f} s) before it starts ({low:.1f} s)")
    return low, high


def run_parts(
    cfg: Config, camera: CameraSection, send: Send, stop: threading.Event, parts: int, models: tuple | None = None
) -> CameraResult:
    """Read `camera`'s recording as `parts` parts at once; one result for the whole."""
    low, high = recording_span(camera)
    part_cameras = [
        replace(
            camera,
            replay_from=f"{a:.3f}",
            replay_to=f"{b:.3f}",
            job=f"{camera.job}.part{k + 1}" if camera.job else "",
        )
        for k, (a, b) in enumerate(part_ranges(low, high, parts))
    ]

    def part_send(k: int) -> Send:
        def send_part(kind: str, camera_id: str, payload: dict, jpeg: bytes, snapshot: bytes = b"") -> None:
            if kind == "plate":
                payload = {**payload, "track_id": k * PART_TRACK_IDS + payload["track_id"]}
            send(kind, camera_id, payload, jpeg, snapshot)

        return send_part

    results = run_shared(cfg, [(c, part_send(k)) for k, c in enumerate(part_cameras)], stop, models)
    return merge_results(camera.id, results)


def merge_results(camera_id: str, results: list[CameraResult]) -> CameraResult:
    """The parts' figures added up; each file's frames and events over the parts that read it."""
    source, pipeline = SourceStats(), PipelineStats()
    for result in results:
        _add_counts(source, result.source)
        _add_counts(pipeline, result.pipeline)
    errors = [r.source.error for r in results if r.source.error]
    source.error = "; ".join(dict.fromkeys(errors)) if errors else None
    files: dict[str, dict] = {}
    for result in results:
        for figures in result.files:
            merged = files.setdefault(figures["file"], {**figures, "frames": 0, "events": 0})
            merged["frames"] += figures["frames"]
            merged["events"] += figures["events"]
            merged["error"] = merged["error"] or figures["error"]
    return CameraResult(camera_id, source, pipeline, any(r.interrupted for r in results), list(files.values()))


def _add_counts(total, part) -> None:
    """Add a part's counters (its int fields) and lists (gaps) to the total's; the rest is not additive."""
    for f in fields(total):
        value = getattr(part, f.name)
        if isinstance(value, (int, list)) and not isinstance(value, bool):
            setattr(total, f.name, getattr(total, f.name) + value)
