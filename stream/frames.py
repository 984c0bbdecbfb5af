"""What flows through the pipeline: one decoded frame and where it came from."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Frame:
    camera_id: str
    index: int  # position in the source, counting every decoded frame (strided ones too)
    pts: float | None  # presentation time in seconds, as the source stamps it
    wall_time: float  # UNIX time when the frame was decoded
    image: np.ndarray  # BGR uint8
    live: bool = False  # from a live source, whose timestamps restart when it reconnects
    recorded: float | None = None  # UNIX time the frame was recorded (files with a known start, stream.recording_time)
    time_source: str = "processing"  # where `recorded` came from: given, metadata, file_name; processing: none
    cut: bool = False  # the first frame after a gap in a footage set: tracks do not continue across it
    file: str | None = None  # the footage set's file it came from

    @property
    def utc(self) -> float:
        """When the frame was recorded, where known; when it was decoded otherwise."""
        return self.recorded if self.recorded is not None else self.wall_time
