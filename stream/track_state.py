"""What the pipeline remembers of one track: when it was seen, its K best crops and their readings.

Crops are ranked by a quality score (detection score, plate size and sharpness) so that
only the K best are read, not every frame; a crop enters unread and is read in the next
batch, so readings trickle in while the track is alive.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np

from lpr_models.detection import Detection
from lpr_models.ocr.reader import Reading
from stream.frames import Frame
from stream.voting import Vote, vote


@dataclass
class Crop:
    plate: np.ndarray  # rectified plate, the reader's input size
    quality: float
    detection: Detection
    frame_index: int
    reading: Reading | None = None


def crop_quality(plate: np.ndarray, detection: Detection) -> float:
    """Higher for confident, large and sharp plates."""
    width = float(np.linalg.norm(detection.corners[1] - detection.corners[0]))
    gray = cv2.cvtColor(plate, cv2.COLOR_BGR2GRAY)
    sharpness = float(cv2.Laplacian(gray, cv2.CV_32F).var())
    return detection.score * np.sqrt(max(width, 1.0)) * np.log1p(sharpness)


@dataclass
class TrackState:
    track_id: int
    first: Frame
    last: Frame
    max_crops: int
    frames_seen: int = 0
    crops: list[Crop] = field(default_factory=list)
    readings_made: int = 0
    published: bool = False
    first_box: np.ndarray | None = None  # where the plate was first and last seen, for its direction
    last_box: np.ndarray | None = None
    keep_frame: bool = False  # keep the frame of the best crop (for a snapshot of the vehicle)
    best_frame: np.ndarray | None = None

    def observe(self, frame: Frame, detection: Detection, plate: np.ndarray) -> None:
        self.last = frame
        self.frames_seen += 1
        if self.first_box is None:
            self.first_box = detection.box
        self.last_box = detection.box
        crop = Crop(plate, crop_quality(plate, detection), detection, frame.index)
        if self.keep_frame and (not self.crops or crop.quality > self.best_crop().quality):
            self.best_frame = frame.image
        if len(self.crops) < self.max_crops:
            self.crops.append(crop)
        else:
            worst = min(range(len(self.crops)), key=lambda i: self.crops[i].quality)
            if crop.quality > self.crops[worst].quality:
                self.crops[worst] = crop

    def unread(self) -> list[Crop]:
        return [c for c in self.crops if c.reading is None]

    def vote(self) -> Vote | None:
        return vote([c.reading for c in self.crops if c.reading is not None])

    def best_crop(self) -> Crop:
        return max(self.crops, key=lambda c: c.quality)
