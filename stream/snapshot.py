"""A picture of the whole vehicle: the frame of a track's best crop, scaled down, as a JPEG.

Off by default (`[camera] snapshot = true`): it costs one kept frame per open track and a JPEG
per event. Sent as a fourth message frame and written beside the JSONL file.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from lpr_models.detection import Detection
from stream.annotate import draw


@dataclass(frozen=True)
class SnapshotOptions:
    width: int = 640  # the JPEG's width; the height keeps the frame's aspect
    annotate: bool = True  # draw the plate's box, corners and text
    quality: int = 85


def snapshot_jpeg(frame: np.ndarray, detection: Detection, text: str, options: SnapshotOptions) -> bytes:
    """The frame (with the plate drawn, if asked) scaled to `options.width`, as JPEG bytes."""
    image = draw(frame, [(0, detection, text)]) if options.annotate else frame
    scale = options.width / image.shape[1]
    if scale < 1:
        image = cv2.resize(image, (options.width, max(1, round(image.shape[0] * scale))), interpolation=cv2.INTER_AREA)
    ok, jpeg = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, options.quality])
    return jpeg.tobytes() if ok else b""


def snapshot_name(event: dict) -> str:
    """The snapshot's file name beside the JSONL: camera, track and first frame make it unique per run."""
    return f"{event['camera_id']}-{event['track_id']}-{event['first_seen']['frame']}.jpg"
