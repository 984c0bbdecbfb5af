"""A small-plate validation set: validation photos shrunk to 1/4 .. 1/8 and pasted into 1920x1080 frames."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from train.ccpd import CcpdLabel, parse_ccpd_name


def small_plate_frames(
    paths: list[Path], size: tuple[int, int] = (1080, 1920), scales: tuple[float, float] = (1 / 8, 1 / 4), seed: int = 0
) -> tuple[list[np.ndarray], list[CcpdLabel]]:
    """One frame per photo: a blurred, enlarged other photo as background, the photo pasted small at random."""
    rng = np.random.default_rng(seed)
    frames, labels = [], []
    height, width = size
    for i, path in enumerate(paths):
        label = parse_ccpd_name(path.name)
        photo = cv2.imread(str(path), cv2.IMREAD_COLOR)
        other = cv2.imread(str(paths[(i + 1) % len(paths)]), cv2.IMREAD_COLOR)
        other_label = parse_ccpd_name(paths[(i + 1) % len(paths)].name)
        cv2.fillConvexPoly(other, np.round(other_label.corners).astype(np.int32), (90, 90, 90))  # no unlabelled plate
        frame = cv2.GaussianBlur(cv2.resize(other, (width, height)), (21, 21), 0)
        scale = float(np.exp(rng.uniform(np.log(scales[0]), np.log(scales[1]))))
        small = cv2.resize(photo, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
        h, w = small.shape[:2]
        x, y = int(rng.integers(0, width - w)), int(rng.integers(0, height - h))
        frame[y : y + h, x : x + w] = small
        offset = np.array([x, y], np.float32)
        labels.append(CcpdLabel(label.box * scale + np.tile(offset, 2), label.corners * scale + offset, label.text))
        frames.append(frame)
    return frames, labels
