"""When and where the detector runs: the cheapest frames are the ones it never sees.

- A motion gate: with no track open, a frame whose small grey thumbnail barely differs from the
  last one the detector saw is skipped: motion is a share of at least `motion_threshold` of the
  thumbnail's pixels changing by more than `PIXEL_CHANGE` grey levels (a mean over the frame would
  miss a plate: one covers a hundredth of it). An empty road costs a resize per frame.
- A detection rate: while every open track is steady (seen `STEADY_AFTER` times), the detector
  runs on every `every_n_frames`-th frame; a young track gets every frame. The tracker only
  sees the frames the detector ran on, so its tracks simply wait in between.
- Zones (`[[camera.zone]]` polygons): the detector sees only the zones' bounding box, and a plate
  whose centre is in no zone is dropped (parked cars, signs, the other carriageway).
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from lpr_models.detection import Detection
from stream.frames import Frame

THUMBNAIL = (64, 36)  # width, height of the grey image the motion gate compares
STEADY_AFTER = 5  # detections after which a track counts as steady
PIXEL_CHANGE = 12  # grey levels a thumbnail pixel must change by to count (the thumbnail's averaging keeps noise lower)


@dataclass(frozen=True)
class Zone:
    """A polygon of the image, in pixels, where plates count."""

    name: str
    points: tuple[tuple[float, float], ...]


def grey_thumbnail(frame: Frame) -> np.ndarray:
    """The frame's brightness averaged down to THUMBNAIL, from every few pixels (enough to average the noise out)."""
    grey = frame.grey()
    width, height = THUMBNAIL
    step = max(1, min(grey.shape[0] // (4 * height), grey.shape[1] // (4 * width)))
    return cv2.resize(grey[::step, ::step], THUMBNAIL, interpolation=cv2.INTER_AREA).astype(np.int16)


def moved_share(thumbnail: np.ndarray, before: np.ndarray) -> float:
    """The share of the thumbnail's pixels that changed by more than PIXEL_CHANGE grey levels."""
    return float((np.abs(thumbnail - before) > PIXEL_CHANGE).mean())


class DetectionGate:
    def __init__(
        self,
        every_n_frames: int = 1,
        motion_gate: bool = False,
        motion_threshold: float = 0.002,
        zones: tuple[Zone, ...] = (),
    ) -> None:
        self.every_n_frames, self.motion_gate, self.motion_threshold = every_n_frames, motion_gate, motion_threshold
        self.zones = [np.array(z.points, np.float32) for z in zones]
        self._since_detection = every_n_frames  # the first frame is always looked at
        self._last_thumbnail: np.ndarray | None = None

    def should_detect(self, frame: Frame, open_track_ages: list[int]) -> bool:
        """Whether the detector runs on this frame, given how often each open track has been detected."""
        self._since_detection += 1
        if open_track_ages:
            young = min(open_track_ages) < STEADY_AFTER
            run = young or self._since_detection >= self.every_n_frames
        elif self.motion_gate:
            thumbnail = grey_thumbnail(frame)
            run = self._last_thumbnail is None or moved_share(thumbnail, self._last_thumbnail) >= self.motion_threshold
            if run:
                self._last_thumbnail = thumbnail
        else:
            run = self._since_detection >= self.every_n_frames
        if run:
            self._since_detection = 0
        return run

    def region(self, image: np.ndarray) -> tuple[np.ndarray, tuple[int, int]]:
        """The part of the frame the detector sees (the zones' bounding box), and its top-left corner."""
        if not self.zones:
            return image, (0, 0)
        points = np.concatenate(self.zones)
        h, w = image.shape[:2]
        x1, y1 = np.clip(np.floor(points.min(axis=0)).astype(int), 0, [w - 1, h - 1])
        x2, y2 = np.clip(np.ceil(points.max(axis=0)).astype(int), [x1 + 1, y1 + 1], [w, h])
        return image[y1:y2, x1:x2], (int(x1), int(y1))

    def keep(self, detections: list[Detection], offset: tuple[int, int]) -> list[Detection]:
        """Detections moved back to frame coordinates, those centred in no zone dropped."""
        if not self.zones:
            return detections
        shift = np.array(offset, np.float32)
        kept = []
        for d in detections:
            moved = Detection(d.score, d.box + np.tile(shift, 2), d.corners + shift)
            centre = tuple(float(v) for v in moved.corners.mean(axis=0))
            if any(cv2.pointPolygonTest(zone, centre, False) >= 0 for zone in self.zones):
                kept.append(moved)
        return kept
