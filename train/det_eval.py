"""Score the detector on CCPD-labelled photos: detection rate at IoU > 0.7, AP50, corner error."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
from tqdm import tqdm

from lpr_models.detection import Detection
from lpr_models.detector.detector import PlateDetector
from lpr_models.geometry import box_iou
from train.ccpd import parse_ccpd_name


def average_precision(scored: list[tuple[float, bool]], num_truths: int) -> float:
    """Area under the precision/recall curve (all-point interpolation, as in VOC 2010+)."""
    if num_truths == 0:
        return 0.0
    scored = sorted(scored, key=lambda s: -s[0])
    hits = np.cumsum([h for _, h in scored])
    precision = hits / np.arange(1, len(scored) + 1)
    recall = hits / num_truths
    precision = np.concatenate([[0.0], precision, [0.0]])
    recall = np.concatenate([[0.0], recall, [recall[-1] if len(recall) else 0.0]])
    for i in range(len(precision) - 2, -1, -1):
        precision[i] = max(precision[i], precision[i + 1])
    return float(np.sum((recall[1:] - recall[:-1]) * precision[1:]))


def match_plates(detections: list, ious: np.ndarray, iou_threshold: float = 0.5) -> list[tuple[float, bool]]:
    """(score, is true positive) per detection of one image, for AP (VOC's rule): by descending score, each detection
    is a hit when the labelled plate it overlaps most (`ious`: detections x labelled plates) overlaps it above
    `iou_threshold` and no surer detection took that plate already; every other detection is false."""
    scored, taken = [], set()
    for k in np.argsort([-d.score for d in detections]):
        plate = int(np.argmax(ious[k])) if ious.shape[1] else -1
        hit = plate >= 0 and plate not in taken and ious[k, plate] > iou_threshold
        if hit:
            taken.add(plate)
        scored.append((detections[k].score, bool(hit)))
    return scored


def corner_error(predicted: np.ndarray, truth: np.ndarray) -> float:
    """Mean distance between matching corners, as a fraction of the true plate's width."""
    width = (np.linalg.norm(truth[1] - truth[0]) + np.linalg.norm(truth[2] - truth[3])) / 2
    return float(np.linalg.norm(predicted - truth, axis=1).mean() / max(width, 1e-6))


def evaluate_detector(
    detector: PlateDetector,
    paths: list[Path],
    iou_threshold: float = 0.7,
    frames: list[np.ndarray] | None = None,
    labels: list | None = None,
    found_already: list[list[Detection]] | None = None,
) -> dict:
    """Figures for one plate per image (the CCPD layout); `frames`/`labels` override reading `paths`, and
    `found_already` (the frames' detections) detecting them, where several figures are made from one pass."""
    found, corner_errors, scored = 0, [], []
    total = len(frames) if frames is not None else len(paths)
    for i in tqdm(range(total), desc="detecting", leave=False):
        label = labels[i] if labels is not None else parse_ccpd_name(paths[i].name)
        if found_already is not None:
            detections = found_already[i]
        else:
            frame = frames[i] if frames is not None else cv2.imread(str(paths[i]), cv2.IMREAD_COLOR)
            detections = detector.detect(frame)
        if not detections:
            continue
        ious = box_iou(np.stack([d.box for d in detections]), label.box[None])[:, 0]
        best = int(np.argmax(ious))
        scored += match_plates(detections, ious[:, None])
        if ious[best] > iou_threshold:
            found += 1
            corner_errors.append(corner_error(detections[best].corners, label.corners))
    return {
        "images": total,
        "detection_rate": found / max(1, total),
        "ap50": average_precision(scored, total),
        "corner_error": float(np.mean(corner_errors)) if corner_errors else float("nan"),
    }


def corner_penalty(report: dict) -> float:
    """The report's corner error for a validation score: 1.0 (the worst) where nothing was found (NaN)."""
    error = report["corner_error"]
    return 1.0 if error != error else error
