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
