"""Group detections of the same plate across frames with norfair, and notice when tracks end.

Norfair has no "track ended" event: ended tracks are the ids that were active at the
previous update and are gone now. Its `last_detection` tells whether a track was seen
in the current frame (it is the very Detection object passed in).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from norfair import Detection as NorfairDetection
from norfair import Tracker
from norfair.distances import VectorizedDistance

from lpr_models.detection import Detection


def corner_distances(candidates: np.ndarray, objects: np.ndarray) -> np.ndarray:
    """(C, 8) x (O, 8) flattened corners -> (C, O) mean corner distance in the candidate's plate widths.

    Scale-free, so small and large plates track alike.
    """
    cand, objs = candidates.reshape(-1, 4, 2), objects.reshape(-1, 4, 2)
    widths = np.linalg.norm(cand[:, 1] - cand[:, 0], axis=1) + 1.0
    distances = np.linalg.norm(cand[:, None] - objs[None], axis=3).mean(axis=2)
    return distances / widths[:, None]


@dataclass(frozen=True)
class TrackUpdate:
    seen: list[tuple[int, Detection, Any]]  # (track id, detection, payload) for tracks seen in this frame
    ended_ids: list[int]  # tracks active at the previous update and gone now


class PlateTracker:
    def __init__(
        self, distance_threshold: float = 1.0, hit_counter_max: int = 15, initialization_delay: int = 0
    ) -> None:
        self.distance_threshold, self.hit_counter_max = distance_threshold, hit_counter_max
        self.initialization_delay = initialization_delay
        self.reset()

    def reset(self) -> None:
        """Forget every track (between unrelated still images)."""
        self.tracker = Tracker(
            distance_function="euclidean",
            distance_threshold=self.distance_threshold,
            hit_counter_max=self.hit_counter_max,
            initialization_delay=self.initialization_delay,
        )
        # norfair 2.3 only builds vectorized distances from names; ours is scale-free, so swap it in
        self.tracker.distance_function = VectorizedDistance(corner_distances)  # type: ignore[assignment]
        self.active: set[int] = set()

    def update(self, detections: list[Detection], data: list | None = None) -> TrackUpdate:
        """Feed one frame's detections (with optional per-detection payloads for later retrieval)."""
        data = data if data is not None else [None] * len(detections)
        wrapped = [NorfairDetection(points=d.corners.astype(np.float64), data=(d, p)) for d, p in zip(detections, data)]
        # initialised tracks have ids; the others are not tracks yet
        objects = [(o.id, o) for o in self.tracker.update(detections=wrapped) if o.id is not None]
        current = {track_id for track_id, _ in objects}
        ended = sorted(self.active - current)
        this_frame = {id(w) for w in wrapped}
        seen = [(track_id, *o.last_detection.data) for track_id, o in objects if id(o.last_detection) in this_frame]
        self.active = current
        return TrackUpdate(seen, ended)
