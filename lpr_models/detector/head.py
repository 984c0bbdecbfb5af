"""SCRFD/GFL-style anchor-free head: one prior per location and level, shared across levels.

Per prior it predicts a quality-aware score (trained with quality focal loss), the
distances from the prior's centre to the box's 4 sides and the offsets of the plate's
4 corners (TL, TR, BR, BL), both in units of the level's stride.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from lpr_models.detector.bifpn import SeparableConv


def _bias(conv: nn.Conv2d) -> torch.Tensor:
    if conv.bias is None:
        raise ValueError("the head's convolutions have biases")
    return conv.bias


class Scale(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.value = nn.Parameter(torch.ones(1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.value


class PlateHead(nn.Module):
    def __init__(self, channels: int, levels: int, convs: int = 2) -> None:
        super().__init__()
        self.tower = nn.Sequential(*(SeparableConv(channels) for _ in range(convs)))
        self.score = nn.Conv2d(channels, 1, 3, 1, 1)
        self.box = nn.Conv2d(channels, 4, 3, 1, 1)
        self.corners = nn.Conv2d(channels, 8, 3, 1, 1)
        self.box_scales = nn.ModuleList(Scale() for _ in range(levels))
        nn.init.constant_(_bias(self.score), -4.6)  # prior probability 0.01, as in focal loss
        nn.init.normal_(self.box.weight, std=0.01)
        nn.init.constant_(_bias(self.box), 1.0)
        nn.init.normal_(self.corners.weight, std=0.01)
        nn.init.zeros_(_bias(self.corners))

    def forward(self, feats: list[torch.Tensor]) -> torch.Tensor:
        """List of (B, C, H_i, W_i) -> (B, priors, 13): score logit, 4 distances, 8 corner offsets (stride units)."""
        outs = []
        for feat, scale in zip(feats, self.box_scales):
            x = self.tower(feat)
            dist = F.softplus(scale(self.box(x)))
            out = torch.cat([self.score(x), dist, self.corners(x)], dim=1)
            outs.append(out.flatten(2).transpose(1, 2))
        return torch.cat(outs, dim=1)


def make_priors(height: int, width: int, strides: tuple[int, ...], device=None) -> torch.Tensor:
    """(priors, 3) centre x, centre y and stride of every location, in the order the head emits them."""
    rows = []
    for s in strides:
        h, w = -(-height // s), -(-width // s)
        ys, xs = torch.meshgrid(torch.arange(h, device=device), torch.arange(w, device=device), indexing="ij")
        centres = torch.stack([xs.flatten(), ys.flatten()], dim=1).float().add_(0.5).mul_(s)
        rows.append(torch.cat([centres, torch.full((h * w, 1), float(s), device=device)], dim=1))
    return torch.cat(rows)


def decode(raw: torch.Tensor, priors: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Head output -> (score logits (B, P), boxes (B, P, 4) x1y1x2y2, corners (B, P, 4, 2)) in input pixels."""
    centre, stride = priors[:, :2], priors[:, 2:3]
    dist = raw[..., 1:5] * stride
    boxes = torch.cat([centre - dist[..., :2], centre + dist[..., 2:]], dim=-1)
    corners = raw[..., 5:13].unflatten(-1, (4, 2)) * stride[..., None] + centre[:, None, :]
    return raw[..., 0], boxes, corners
