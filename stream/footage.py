"""Footage sets: a recorder's export (a folder of videos, a glob, or a text file listing files)
replayed as one camera's continuous recording.

Files are put in recording order (each file's start from stream.recording_time; by name where any
is undated) on one timeline, whose position 0 is the first file's start. A file that starts
where the previous one ended (within `CONTINUITY_S`) continues its tracks; after a gap the
pipeline starts fresh. Undated files are taken to follow each other without a gap.
"""

from __future__ import annotations

import glob
import re
from dataclasses import dataclass
from pathlib import Path

import av

from stream.recording_time import RecordingClock, parse_given, recording_clock

VIDEO_SUFFIXES = {".mp4", ".mkv", ".mov", ".avi", ".ts", ".m4v", ".webm", ".flv", ".mpg", ".mpeg"}
LIST_SUFFIXES = {".txt", ".lst", ".m3u"}
CONTINUITY_S = 2.0  # a file starting within this long of the previous one's end continues it
_GLOB = re.compile(r"[*?\[]")


class FootageError(ValueError):
    pass


@dataclass(frozen=True)
class FootageFile:
    path: Path
    clock: RecordingClock  # when it was recorded, and how that is known
    duration: float  # seconds (0 where the container does not say)
    offset: float = 0.0  # where it starts on the set's timeline, in seconds
    cut: bool = False  # a gap before it: tracks do not continue across

    @property
    def name(self) -> str:
        return self.path.name


def footage_paths(source: str) -> list[Path] | None:
    """The files of a footage set named by `source`, or None when it names no set (a file, a stream, images)."""
    if _GLOB.search(source) and not Path(source).exists():
        found = [Path(p) for p in glob.glob(source) if Path(p).suffix.lower() in VIDEO_SUFFIXES]
        if not found:
            raise FootageError(f"no video file matches {source}")
        return sorted(found)
    path = Path(source)
    if path.is_dir():
        videos = sorted(p for p in path.iterdir() if p.suffix.lower() in VIDEO_SUFFIXES)
        return videos or None  # a folder of images is not a footage set
    if path.is_file() and path.suffix.lower() in LIST_SUFFIXES:
        lines = [line.strip() for line in path.read_text(encoding="utf-8").splitlines()]
        listed = [Path(line) for line in lines if line and not line.startswith("#")]
        listed = [p if p.is_absolute() else path.parent / p for p in listed]
        missing = [str(p) for p in listed if not p.is_file()]
        if missing:
            raise FootageError(f"{source} lists files that do not exist: {', '.join(missing[:3])}")
        if not listed:
            raise FootageError(f"{source} lists no file")
        return listed
    return None


def probe(path: Path, start_time: str = "", time_pattern: str = "", time_zone: str = "UTC") -> FootageFile:
    """A file's recording clock and duration, from its container (nothing is decoded)."""
    try:
        with av.open(str(path)) as container:
            metadata = dict(container.metadata)
            duration = container.duration / av.time_base if container.duration else 0.0
    except (av.error.FFmpegError, OSError) as err:
        raise FootageError(f"cannot open {path}: {err}") from None
    return FootageFile(path, recording_clock(str(path), metadata, start_time, time_pattern, time_zone), duration)


def plan(
    paths: list[Path], start_time: str = "", time_pattern: str = "", time_zone: str = "UTC"
) -> tuple[list[FootageFile], list[str]]:
    """(The readable files in recording order, each placed on the set's timeline with the gaps marked; the names
    of the files that cannot be opened.)

    A start time given by the user dates the first file only: the others follow it.
    """
    files: list[FootageFile] = []
    unreadable: list[str] = []
    for p in paths:
        try:
            files.append(probe(p, "" if files else start_time, time_pattern, time_zone))
        except FootageError:
            unreadable.append(p.name)
    if not files:
        raise FootageError(f"no readable video among the {len(paths)} files of the set")
    dated = all(f.clock.start is not None for f in files)
    if dated:
        files.sort(key=lambda f: f.clock.start or 0.0)
    placed: list[FootageFile] = []
    for f in files:
        if not placed:
            placed.append(f)
            continue
        before, first = placed[-1], placed[0]
        if dated:
            assert f.clock.start is not None and first.clock.start is not None
            offset = f.clock.start - first.clock.start
            cut = offset - (before.offset + before.duration) > CONTINUITY_S
        else:  # undated: one after the other, dated (where the first is) by the first file's clock
            offset, cut = before.offset + before.duration, False
            if first.clock.start is not None:
                f = FootageFile(f.path, RecordingClock(first.clock.start + offset, first.clock.source), f.duration)
        placed.append(FootageFile(f.path, f.clock, f.duration, offset, cut))
    return placed, unreadable


def parse_position(text: str, set_start: float | None, time_zone: str = "UTC") -> float:
    """Seconds from the start of the recording: `90`, `1:30`, `00:01:30` (offsets), or an ISO-8601 time."""
    text = text.strip()
    if re.fullmatch(r"\d+(\.\d+)?", text):
        return float(text)
    if re.fullmatch(r"\d+(:\d{1,2}){1,2}(\.\d+)?", text):
        seconds = 0.0
        for part in text.split(":"):
            seconds = seconds * 60 + float(part)
        return seconds
    try:
        moment = parse_given(text, time_zone)
    except ValueError:
        raise FootageError(f"{text!r} is neither an offset (90, 1:30, 00:01:30) nor an ISO-8601 time") from None
    if set_start is None:
        raise FootageError(f"{text!r} is a time of day, but the recording's start is unknown (give --start-time)")
    return moment - set_start
