"""An annotated copy of the video: box, corners, track id and current reading on every frame."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from lpr_models.detection import Detection
from stream.frames import Frame
from stream.video_writer import VideoWriter


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
    """Frame callback of the pipeline that writes every frame with its plates drawn on it."""

    def __init__(self, path: str | Path, fps: float = 25.0) -> None:
        self.writer = VideoWriter(path, fps, fragmented=True)  # playable after a kill

    def __call__(self, frame: Frame, tracks: list[tuple[int, Detection, str]]) -> None:
        self.writer.write(draw(frame.image, tracks))

    def close(self) -> None:
        self.writer.close()
