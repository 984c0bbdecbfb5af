"""The detector's output type, shared by the models and the pipeline."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Detection:
    """One plate in frame pixels: score in [0, 1], box x1, y1, x2, y2, corners TL, TR, BR, BL."""

    score: float
    box: np.ndarray  # (4,)
    corners: np.ndarray  # (4, 2)
