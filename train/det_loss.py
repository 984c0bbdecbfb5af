"""Detector training targets and losses: ATSS assignment, quality focal loss, GIoU and corner L1.

ATSS (Zhang et al., 2020) picks, per plate, the k priors nearest its centre on every level
and keeps those whose IoU with the plate beats the mean + std of the candidates: the
threshold adapts to each plate's size, which is what keeps tiny plates from going
unassigned. A plate left with no positive takes its best candidate.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from lpr_models.detector.head import decode

ANCHOR_SCALE = 4.0  # side of the square anchor used only to rank candidates, in strides
# Corner errors that matter for rectification are a fraction of a stride; with the default
# beta of 1 they would sit in smooth L1's quadratic zone, whose gradient fades as they shrink.
CORNER_BETA = 0.1


def box_iou_torch(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    lt = torch.maximum(a[:, None, :2], b[None, :, :2])
    rb = torch.minimum(a[:, None, 2:], b[None, :, 2:])
    inter = (rb - lt).clamp(min=0).prod(-1)
    area_a = (a[:, 2:] - a[:, :2]).clamp(min=0).prod(-1)
    area_b = (b[:, 2:] - b[:, :2]).clamp(min=0).prod(-1)
    return inter / (area_a[:, None] + area_b[None, :] - inter).clamp(min=1e-9)


def giou_loss(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    lt = torch.maximum(pred[:, :2], target[:, :2])
    rb = torch.minimum(pred[:, 2:], target[:, 2:])
    inter = (rb - lt).clamp(min=0).prod(-1)
    area_p = (pred[:, 2:] - pred[:, :2]).clamp(min=0).prod(-1)
    area_t = (target[:, 2:] - target[:, :2]).clamp(min=0).prod(-1)
    union = (area_p + area_t - inter).clamp(min=1e-9)
    hull = (
        (torch.maximum(pred[:, 2:], target[:, 2:]) - torch.minimum(pred[:, :2], target[:, :2])).prod(-1).clamp(min=1e-9)
    )
    return 1 - inter / union + (hull - union) / hull


def atss_assign(priors: torch.Tensor, gt_boxes: torch.Tensor, strides: tuple[int, ...], topk: int = 9) -> torch.Tensor:
    """Index of the assigned plate for every prior, -1 for background."""
    num_priors = priors.shape[0]
    assigned = torch.full((num_priors,), -1, dtype=torch.long)
    if gt_boxes.numel() == 0:
        return assigned
    centres, stride = priors[:, :2], priors[:, 2]
    half = stride[:, None] * ANCHOR_SCALE / 2
    anchors = torch.cat([centres - half, centres + half], dim=1)
    ious = box_iou_torch(anchors, gt_boxes)  # (P, G)
    gt_centres = (gt_boxes[:, :2] + gt_boxes[:, 2:]) / 2
    dist = torch.cdist(centres, gt_centres)  # (P, G)
    candidates = []
    for s in strides:
        level = (stride == s).nonzero().squeeze(1)
        k = min(topk, level.numel())
        candidates.append(level[dist[level].topk(k, dim=0, largest=False).indices])  # (k, G)
    candidates = torch.cat(candidates)  # (K, G)
    cand_iou = ious.gather(0, candidates)
    threshold = cand_iou.mean(0) + cand_iou.std(0)
    best_iou = torch.full((num_priors,), -1.0)
    for g in range(gt_boxes.shape[0]):
        idx = candidates[:, g]
        c = centres[idx]
        inside = (
            (c[:, 0] > gt_boxes[g, 0])
            & (c[:, 0] < gt_boxes[g, 2])
            & (c[:, 1] > gt_boxes[g, 1])
            & (c[:, 1] < gt_boxes[g, 3])
        )
        keep = (cand_iou[:, g] >= threshold[g]) & inside
        if not keep.any():
            keep = cand_iou[:, g] == cand_iou[:, g].max()
        for p, iou in zip(idx[keep].tolist(), cand_iou[keep, g].tolist()):
            if iou > best_iou[p]:
                best_iou[p], assigned[p] = iou, g
    return assigned


def detection_loss(
    raw: torch.Tensor, priors: torch.Tensor, targets: list[dict], strides: tuple[int, ...]
) -> tuple[torch.Tensor, dict[str, float]]:
    """Sum of QFL (score), GIoU (box) and smooth-L1 (corners, in strides) losses over a batch.

    `targets[i]` has "boxes" (G, 4) and "corners" (G, 4, 2) in input pixels.
    """
    logits, boxes, corners = decode(raw, priors)
    score_target = torch.zeros_like(logits)
    pos_pred_boxes, pos_gt_boxes, pos_pred_corners, pos_gt_corners, pos_strides = [], [], [], [], []
    for i, t in enumerate(targets):
        assigned = atss_assign(priors, t["boxes"], strides)
        pos = (assigned >= 0).nonzero().squeeze(1)
        if pos.numel() == 0:
            continue
        gt_idx = assigned[pos]
        pos_pred_boxes.append(boxes[i, pos])
        pos_gt_boxes.append(t["boxes"][gt_idx])
        pos_pred_corners.append(corners[i, pos])
        pos_gt_corners.append(t["corners"][gt_idx])
        pos_strides.append(priors[pos, 2])
        with torch.no_grad():
            iou = box_iou_torch(boxes[i, pos].detach(), t["boxes"][gt_idx]).diagonal().clamp(min=0.01)
        score_target[i, pos] = iou
    num_pos = max(1.0, float(sum(p.shape[0] for p in pos_pred_boxes)))
    prob = logits.sigmoid()
    qfl = (
        F.binary_cross_entropy_with_logits(logits, score_target, reduction="none") * (prob - score_target).abs().pow(2)
    ).sum() / num_pos
    if pos_pred_boxes:
        pred_b, gt_b = torch.cat(pos_pred_boxes), torch.cat(pos_gt_boxes)
        s = torch.cat(pos_strides)[:, None, None]
        box = giou_loss(pred_b, gt_b).sum() / num_pos
        corner = (
            F.smooth_l1_loss(
                torch.cat(pos_pred_corners) / s, torch.cat(pos_gt_corners) / s, reduction="sum", beta=CORNER_BETA
            )
            / num_pos
            / 8
        )
    else:
        box = corner = raw.sum() * 0
    total = qfl + 2.0 * box + 1.0 * corner
    return total, {"qfl": qfl.item(), "giou": box.item(), "corner": corner.item(), "pos": num_pos}
