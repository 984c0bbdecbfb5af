"""What flows through the pipeline: one decoded frame and where it came from.

A video frame stays in the decoder's YUV until something looks at its colours: the frames the detector
skips (a steady track, a still road) never pay the conversion to BGR, which at 1080p costs about as much
as decoding them. The motion gate reads the luma plane directly.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import av
import cv2
import numpy as np

# pixel formats whose first plane is 8-bit luma, full size: what cameras and files decode to
LUMA_FIRST = frozenset({"yuv420p", "yuvj420p", "yuv422p", "yuvj422p", "yuv444p", "yuvj444p", "nv12", "nv21", "gray"})


def upright(image: np.ndarray, rotation: float) -> np.ndarray:
    """Apply a video's display rotation (degrees counterclockwise, as phones record it)."""
    quarter_turns = round(rotation / 90) % 4
    return np.ascontiguousarray(np.rot90(image, quarter_turns)) if quarter_turns else image


class VideoPicture:
    """A decoded video frame, turned upright and into BGR only on request."""

    def __init__(self, frame: av.VideoFrame) -> None:
        self.frame = frame

    def bgr(self) -> np.ndarray:
        frame = self.frame
        if frame.format.name == "yuv420p" and frame.width % 2 == 0 and frame.height % 2 == 0:
            # OpenCV's conversion of the planes takes half the time of swscale's bgr24, within 3 grey levels of it
            image = cv2.cvtColor(frame.to_ndarray(), cv2.COLOR_YUV2BGR_I420)
        else:
            image = frame.to_ndarray(format="bgr24")
        return upright(image, frame.rotation)

    def luma(self) -> np.ndarray | None:
        """The grey image, read from the luma plane without conversion (None for other pixel formats)."""
        frame = self.frame
        if frame.format.name not in LUMA_FIRST:
            return None
        plane = frame.planes[0]
        rows = np.frombuffer(memoryview(plane), np.uint8, count=plane.line_size * frame.height).reshape(
            frame.height, -1
        )
        return upright(rows[:, : frame.width], frame.rotation)


@dataclass(frozen=True)
class Frame:
    camera_id: str
    index: int  # position in the source, counting every decoded frame (strided ones too)
    pts: float | None  # presentation time in seconds, as the source stamps it
    wall_time: float  # UNIX time when the frame was decoded
    pixels: np.ndarray | VideoPicture  # BGR uint8, or a decoded video frame (see `image`)
    live: bool = False  # from a live source, whose timestamps restart when it reconnects
    recorded: float | None = None  # UNIX time the frame was recorded (files with a known start, stream.recording_time)
    time_source: str = "processing"  # where `recorded` came from: given, metadata, file_name; processing: none
    cut: bool = False  # the first frame after a gap in a footage set: tracks do not continue across it
    file: str | None = None  # the footage set's file it came from

    @cached_property
    def image(self) -> np.ndarray:
        """The frame as BGR uint8, converted from the decoder's format on first use."""
        return self.pixels if isinstance(self.pixels, np.ndarray) else self.pixels.bgr()

    def grey(self) -> np.ndarray:
        """The frame as one channel of brightness, the cheapest way there is (one way for all of a source's frames:
        a video's luma plane keeps its limited range)."""
        luma = None if isinstance(self.pixels, np.ndarray) else self.pixels.luma()
        return luma if luma is not None else cv2.cvtColor(self.image, cv2.COLOR_BGR2GRAY)

    @property
    def utc(self) -> float:
        """When the frame was recorded, where known; when it was decoded otherwise."""
        return self.recorded if self.recorded is not None else self.wall_time
