"""The plate detector network: MobileNetV4 backbone, BiFPN neck, SCRFD-style head with corners."""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
from torch import nn

from lpr_models.detector.bifpn import BiFPN
from lpr_models.detector.head import PlateHead
from lpr_models.detector.mobilenetv4 import MobileNetV4

STRIDES = (8, 16, 32)


@dataclass(frozen=True)
class DetectorConfig:
    """Architecture; stored beside the weights so a checkpoint rebuilds its own model."""

    width: float = 0.5
    depth: int = 3
    neck_channels: int = 48
    neck_repeats: int = 2
    head_convs: int = 2

    def to_dict(self) -> dict:
        return asdict(self)


class PlateDetectorNet(nn.Module):
    strides = STRIDES

    def __init__(self, cfg: DetectorConfig | None = None) -> None:
        super().__init__()
        self.cfg = cfg = cfg or DetectorConfig()
        self.backbone = MobileNetV4(cfg.width, cfg.depth)
        self.neck = BiFPN(self.backbone.out_channels, cfg.neck_channels, cfg.neck_repeats)
        self.head = PlateHead(cfg.neck_channels, len(STRIDES), cfg.head_convs)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        """(B, 3, H, W) with H, W multiples of 32 -> (B, priors, 13) raw head output."""
        return self.head(self.neck(self.backbone(images)))
