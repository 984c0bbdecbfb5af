"""An annotated copy of the video: box, corners, track id and current reading on every frame."""
from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np

from lpr_models.detection import Detection
from stream.frames import Frame


def draw(image: np.ndarray, tracks: list[tuple[int, Detection, str]]) -> np.ndarray:
    out = image.copy()
    for track_id, det, text in tracks:
        x1, y1, x2, y2 = (int(v) for v in det.box)
        cv2.rectangle(out, (x1, y1), (x2, y2), (0, 255, 0), 2)
        cv2.polylines(out, [np.round(det.corners).astype(np.int32)], True, (0, 0, 255), 1)
        label = f"#{track_id} {text}".encode("ascii", "replace").decode()  # Hershey fonts have no CJK glyphs
        cv2.putText(out, label, (x1, max(12, y1 - 6)), cv2.FONT_HERSHEY_SIMPLEX, 0.6, (0, 255, 0), 2)
    return out


class VideoAnnotator:
    """Writes H.264 frames with PyAV; the size is taken from the first frame."""

    def __init__(self, path: str | Path, fps: float = 25.0) -> None:
        self.path, self.fps = Path(path), fps
        self.container = None
        self.stream = None

    def __call__(self, frame: Frame, tracks: list[tuple[int, Detection, str]]) -> None:
        image = draw(frame.image, tracks)
        if self.container is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.container = av.open(str(self.path), "w")
            self.stream = self.container.add_stream("libx264", rate=Fraction(self.fps).limit_denominator(1000))
            self.stream.height, self.stream.width = (s - s % 2 for s in image.shape[:2])
            self.stream.pix_fmt = "yuv420p"
        image = image[: self.stream.height, : self.stream.width]
        for packet in self.stream.encode(av.VideoFrame.from_ndarray(np.ascontiguousarray(image), format="bgr24")):
            self.container.mux(packet)

    def close(self) -> None:
        if self.container is not None:
            for packet in self.stream.encode():
                self.container.mux(packet)
            self.container.close()
