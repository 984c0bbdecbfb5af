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
    xywh = np.concatenate([b[:, :2], b[:, 2:] - b[:, :2]], axis=1)
    picked = cv2.dnn.NMSBoxes(xywh.tolist(), s.tolist(), score_threshold, nms_iou, top_k=max_plates)
    chosen = np.asarray(picked, dtype=np.int64).reshape(-1)
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
    xywh = [
        [float(d.box[0]), float(d.box[1]), float(d.box[2] - d.box[0]), float(d.box[3] - d.box[1])] for d in detections
    ]
    picked = cv2.dnn.NMSBoxes(xywh, [d.score for d in detections], 0.0, nms_iou)
    return [detections[i] for i in np.asarray(picked, dtype=np.int64).reshape(-1)]
