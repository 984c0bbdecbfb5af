"""BiFPN neck (Tan et al., EfficientDet): top-down then bottom-up paths with fast normalised fusion.

Every output keeps the stride of the input it corresponds to, so the head's priors use
exactly the backbone's strides (8, 16, 32).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class SeparableConv(nn.Sequential):
    def __init__(self, channels: int) -> None:
        super().__init__(
            nn.Conv2d(channels, channels, 3, 1, 1, groups=channels, bias=False),
            nn.Conv2d(channels, channels, 1, bias=False),
            nn.BatchNorm2d(channels),
            nn.ReLU(inplace=True),
        )


class Fusion(nn.Module):
    """Fast normalised fusion: relu(w_i) / (sum relu(w) + eps) weighted sum, then a separable conv."""

    def __init__(self, inputs: int, channels: int) -> None:
        super().__init__()
        self.weights = nn.Parameter(torch.ones(inputs))
        self.conv = SeparableConv(channels)

    def forward(self, xs: list[torch.Tensor]) -> torch.Tensor:
        w = F.relu(self.weights)
        w = w / (w.sum() + 1e-4)
        return self.conv(sum(w[i] * x for i, x in enumerate(xs)))  # indexing, not zip(w, ...): torch.fx can trace it


class BiFPNCell(nn.Module):
    def __init__(self, levels: int, channels: int) -> None:
        super().__init__()
        self.top_down = nn.ModuleList(Fusion(2, channels) for _ in range(levels - 1))
        self.bottom_up = nn.ModuleList(Fusion(3, channels) for _ in range(levels - 2))
        self.last = Fusion(2, channels)

    def forward(self, feats: list[torch.Tensor]) -> list[torch.Tensor]:
        # top-down: from the coarsest level to the finest
        td = [feats[-1]]
        for i in range(len(feats) - 2, -1, -1):
            up = F.interpolate(td[0], size=feats[i].shape[-2:], mode="nearest")
            td.insert(0, self.top_down[i]([feats[i], up]))
        # bottom-up: the finest top-down output is final; middle levels take 3 inputs
        out = [td[0]]
        for i in range(1, len(feats)):
            down = F.max_pool2d(out[-1], kernel_size=3, stride=2, padding=1)
            down = down[..., : feats[i].shape[-2], : feats[i].shape[-1]]
            if i < len(feats) - 1:
                out.append(self.bottom_up[i - 1]([feats[i], td[i], down]))
            else:
                out.append(self.last([feats[i], down]))
        return out


class BiFPN(nn.Module):
    def __init__(self, in_channels: list[int], channels: int, repeats: int) -> None:
        super().__init__()
        self.lateral = nn.ModuleList(
            nn.Sequential(nn.Conv2d(c, channels, 1, bias=False), nn.BatchNorm2d(channels)) for c in in_channels
        )
        self.cells = nn.Sequential(*(BiFPNCell(len(in_channels), channels) for _ in range(repeats)))

    def forward(self, feats: list[torch.Tensor]) -> list[torch.Tensor]:
        return self.cells([lat(f) for lat, f in zip(self.lateral, feats)])
