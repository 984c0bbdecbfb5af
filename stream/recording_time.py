"""When a recording was made, so a replayed file's events carry the time the car passed.

In order: a time given by the user (`--start-time`, `[camera] start_time`), the container's
`creation_time` metadata, the file name read with `[camera] time_pattern` (strptime, for NVR
exports such as `cam3_20261125_080000.mp4`). Times without an offset are in `[camera] time_zone`.
Live sources, and files none of these date, keep the wall clock (`processing`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

TIME_SOURCES = ("given", "metadata", "file_name", "processing")


@dataclass(frozen=True)
class RecordingClock:
    """The recording's wall-clock time at presentation time 0, and where it came from."""

    start: float | None  # UNIX time; None: the wall clock is used (`processing`)
    source: str

    def at(self, pts: float | None, wall_time: float) -> float:
        return self.start + pts if self.start is not None and pts is not None else wall_time


def zone(name: str) -> dt.tzinfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {name!r} (an IANA name such as UTC or Europe/Madrid)") from None


def parse_given(text: str, time_zone: str = "UTC") -> float:
    """An ISO-8601 time (`2026-11-25T08:00:00+01:00`; no offset: `time_zone`) as UNIX time."""
    try:
        moment = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"start time {text!r} is not ISO-8601 (e.g. 2026-11-25T08:00:00+01:00)") from None
    return (moment if moment.tzinfo else moment.replace(tzinfo=zone(time_zone))).timestamp()


def from_file_name(path: str, pattern: str, time_zone: str = "UTC") -> float | None:
    """The time `pattern` (strptime, matched against the start of the file's stem) reads in its name."""
    stem = Path(path).stem
    for end in range(len(stem), 0, -1):  # the pattern may cover only a prefix (cam3_20261125_080000_part2)
        try:
            moment = dt.datetime.strptime(stem[:end], pattern)
        except ValueError:
            continue
        return (moment if moment.tzinfo else moment.replace(tzinfo=zone(time_zone))).timestamp()
    return None


def recording_clock(
    path: str, metadata: dict, start_time: str = "", time_pattern: str = "", time_zone: str = "UTC"
) -> RecordingClock:
    """The clock of a file: the given time, then the container's creation_time, then the file name."""
    if start_time:
        return RecordingClock(parse_given(start_time, time_zone), "given")
    created = metadata.get("creation_time")
    if created:
        try:
            return RecordingClock(parse_given(created, "UTC"), "metadata")  # MP4/MKV store UTC
        except ValueError:
            pass
    if time_pattern:
        start = from_file_name(path, time_pattern, time_zone)
        if start is not None:
            return RecordingClock(start, "file_name")
    return RecordingClock(None, "processing")
