"""Progress of a replay (a file or a footage set): a bar on a terminal, a log line every 30 s
otherwise, and the figures of each file for the run's summary."""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Collection, Iterator
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING

from tqdm import tqdm

from stream.footage import FootageFile
from stream.frames import Frame

if TYPE_CHECKING:  # the grabber imports PyAV; this module is imported by the runner only, but needs no more
    from stream.sources import FrameGrabber

log = logging.getLogger(__name__)
LOG_EVERY_S = 30.0


@dataclass
class FileFigures:
    file: str
    duration_s: float
    frames: int = 0
    events: int = 0
    error: str = ""


class ReplayProgress:
    """Follows the frames a replay yields; the grabber has planned its files and range by the first frame."""

    def __init__(self, camera_id: str, interactive: bool | None = None) -> None:
        self.camera_id = camera_id
        self.interactive = sys.stderr.isatty() if interactive is None else interactive
        self.files: dict[str, FileFigures] = {}
        self.total_s: float | None = None
        self.current: str | None = None
        self.position: float | None = None
        self.started = self._logged = time.monotonic()
        self.bar: tqdm | None = None

    def plan(self, files: list[FootageFile], bounds: tuple[float, float]) -> None:
        """The files of the replay and the range read of them, in seconds of the recording."""
        low, high = bounds
        self.files = {f.name: FileFigures(f.name, round(f.duration, 2)) for f in files}
        covered = [max(0.0, min(f.offset + f.duration, high) - max(f.offset, low)) for f in files]
        self.total_s = sum(covered) if all(f.duration for f in files) and files else None
        self.bar = tqdm(
            total=round(self.total_s, 1) if self.total_s else None,
            unit="s",
            desc=self.camera_id,
            disable=not self.interactive,
            bar_format="{desc}: {percentage:3.0f}%|{bar}| {n:.0f}/{total:.0f} s of video [{elapsed}<{remaining}{postfix}]",
        )

    def wrap(self, grabber: FrameGrabber) -> Iterator[Frame]:
        """The grabber's frames as they come, followed; it has made its plan by the first one."""
        try:
            for frame in grabber:
                if self.bar is None:
                    self.plan(grabber.footage, grabber.bounds)
                self._update(frame)
                yield frame
        finally:
            if self.bar is not None:
                self.bar.close()

    def _update(self, frame: Frame) -> None:
        name = frame.file or next(iter(self.files), None)
        if name is not None and name in self.files:
            self.files[name].frames += 1
            self.current = name
        if frame.pts is None or self.bar is None:
            return
        advance = max(0.0, frame.pts - self.position) if self.position is not None else 0.0
        self.position = frame.pts
        if self.bar.total:
            self.bar.update(min(advance, self.bar.total - self.bar.n))
        elapsed = time.monotonic() - self.started
        pace = self.bar.n / elapsed if elapsed > 0 else 0.0
        self.bar.set_postfix_str(f"{pace:.1f}x real time, {self.current or ''}", refresh=False)
        if self.bar.disable and time.monotonic() - self._logged >= LOG_EVERY_S:
            self._logged = time.monotonic()
            share = f"{100 * self.bar.n / self.total_s:.0f}% " if self.total_s else ""
            eta = (self.total_s - self.bar.n) / pace if self.total_s and pace else None
            log.info(
                "camera %s: %sof the footage (%s), %.1fx real time%s",
                self.camera_id,
                share,
                self.current,
                pace,
                f", about {eta / 60:.0f} min left" if eta is not None else "",
            )

    def count_event(self) -> None:
        if self.current in self.files:
            self.files[self.current].events += 1

    def summary(self, failed: Collection[str] = ()) -> list[dict]:
        for name in failed:
            self.files.setdefault(name, FileFigures(name, 0.0)).error = "could not be read"
        return [asdict(f) for f in self.files.values()]


def summary_table(camera_id: str, files: list[dict]) -> str:
    """The per-file summary as a text table."""
    rows = [("file", "duration", "frames", "events", "error")] + [
        (f["file"], f"{f['duration_s']:.0f} s", str(f["frames"]), str(f["events"]), f["error"]) for f in files
    ]
    widths = [max(len(r[i]) for r in rows) for i in range(5)]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip() for row in rows]
    return f"camera {camera_id}:\n  " + "\n  ".join(lines)
