"""From the network's dense outputs to a short list of plates: threshold, top-k, NMS (again after refinement)."""

from __future__ import annotations

import cv2
import numpy as np
import torch

from lpr_models.detection import Detection
from lpr_models.geometry import Letterbox


def select(
    scores: torch.Tensor,
    boxes: torch.Tensor,
    corners: torch.Tensor,
    letterbox: Letterbox,
    score_threshold: float,
    nms_iou: float,
    max_plates: int = 100,
) -> list[Detection]:
    """Detections of one image (scores (P,), boxes (P, 4), corners (P, 4, 2)) in frame pixels."""
    keep = (scores > score_threshold).nonzero().squeeze(1)
    if keep.numel() == 0:
        return []
    if keep.numel() > 1000:
        keep = keep[scores[keep].topk(1000).indices]
    s, b, c = scores[keep].numpy(), boxes[keep].numpy(), corners[keep].numpy()
    chosen = nms(b, s, nms_iou, score_threshold, max_plates)
    frame_boxes = letterbox.to_frame(b[chosen].reshape(-1, 2, 2)).reshape(-1, 4)
    frame_corners = letterbox.to_frame(c[chosen])
    return [Detection(float(s[i]), frame_boxes[k], frame_corners[k]) for k, i in enumerate(chosen)]


def suppress_overlaps(detections: list[Detection], nms_iou: float) -> list[Detection]:
    """The detections left by non-maximum suppression of their final (refined) boxes, best first.

    NMS before refinement can keep two boxes on one plate (a two-row plate whole and its lower row alone);
    the refiner moves both onto the plate, and each would start a track of its own, so one plate would give
    two events."""
    if len(detections) < 2:
        return detections
    boxes, scores = np.stack([d.box for d in detections]), np.array([d.score for d in detections])
    return [detections[i] for i in nms(boxes, scores, nms_iou)]


def nms(boxes: np.ndarray, scores: np.ndarray, iou: float, score_threshold: float = 0.0, top_k: int = 0) -> np.ndarray:
    """Indices of the (N, 4) x1, y1, x2, y2 `boxes` that non-maximum suppression keeps, best first."""
    xywh = np.concatenate([boxes[:, :2], boxes[:, 2:] - boxes[:, :2]], axis=1).astype(float)
    picked = cv2.dnn.NMSBoxes(xywh.tolist(), np.asarray(scores, float).tolist(), score_threshold, iou, top_k=top_k)
    return np.asarray(picked, dtype=np.int64).reshape(-1)
