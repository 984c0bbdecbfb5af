"""MobileNetV4 conv-small backbone (Qin et al., 2024), written here so no model zoo is needed.

Universal Inverted Bottleneck (UIB) blocks with an optional depthwise conv before the
expansion (ExtraDW) and/or after it (IB); FusedIB blocks early on. Returns the stride 8,
16 and 32 feature maps that the neck fuses.
"""

from __future__ import annotations

import torch
from torch import nn


def conv_bn(c_in: int, c_out: int, k: int = 1, stride: int = 1, groups: int = 1, act: bool = True) -> nn.Sequential:
    layers = [nn.Conv2d(c_in, c_out, k, stride, k // 2, groups=groups, bias=False), nn.BatchNorm2d(c_out)]
    if act:
        layers.append(nn.ReLU(inplace=True))
    return nn.Sequential(*layers)


class FusedIB(nn.Module):
    """Full 3x3 conv expansion then 1x1 projection."""

    def __init__(self, c_in: int, c_out: int, expand: int, stride: int) -> None:
        super().__init__()
        self.block = nn.Sequential(conv_bn(c_in, expand, 3, stride), conv_bn(expand, c_out, 1, act=False))
        self.residual = stride == 1 and c_in == c_out

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.block(x)
        return x + y if self.residual else y


class UIB(nn.Module):
    """Universal Inverted Bottleneck: [dw k_start] -> 1x1 expand -> [dw k_mid] -> 1x1 project."""

    def __init__(self, c_in: int, c_out: int, k_start: int, k_mid: int, expand: int, stride: int) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        if k_start:
            layers.append(conv_bn(c_in, c_in, k_start, stride if not k_mid else 1, groups=c_in, act=False))
        layers.append(conv_bn(c_in, expand, 1))
        if k_mid:
            layers.append(conv_bn(expand, expand, k_mid, stride, groups=expand))
        layers.append(conv_bn(expand, c_out, 1, act=False))
        self.block = nn.Sequential(*layers)
        self.residual = stride == 1 and c_in == c_out

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.block(x)
        return x + y if self.residual else y


# (kind, k_start, k_mid, stride, expand, out); "fused" uses k_start as its kernel.
CONV_SMALL = [
    [("fused", 3, 0, 2, 32, 32)],
    [("fused", 3, 0, 2, 96, 64)],
    [
        ("uib", 5, 5, 2, 192, 96),
        ("uib", 0, 3, 1, 192, 96),
        ("uib", 0, 3, 1, 192, 96),
        ("uib", 0, 3, 1, 192, 96),
        ("uib", 0, 3, 1, 192, 96),
        ("uib", 3, 0, 1, 384, 96),
    ],
    [
        ("uib", 3, 3, 2, 576, 128),
        ("uib", 5, 5, 1, 512, 128),
        ("uib", 0, 5, 1, 512, 128),
        ("uib", 0, 5, 1, 384, 128),
        ("uib", 0, 3, 1, 512, 128),
        ("uib", 0, 3, 1, 512, 128),
    ],
]


def _scaled(channels: int, width: float) -> int:
    return max(8, int(channels * width + 4) // 8 * 8)


class MobileNetV4(nn.Module):
    """Backbone returning features at strides 8, 16, 32; `width` scales every channel count."""

    def __init__(self, width: float = 1.0, depth: int = 6) -> None:
        super().__init__()
        self.stem = conv_bn(3, _scaled(32, width), 3, 2)
        c_in = _scaled(32, width)
        self.stages = nn.ModuleList()
        self.out_channels: list[int] = []
        for stage in CONV_SMALL:
            blocks = []
            for kind, k_start, k_mid, stride, expand, out in stage[:depth]:
                c_out, c_exp = _scaled(out, width), _scaled(expand, width)
                block = (
                    FusedIB(c_in, c_out, c_exp, stride)
                    if kind == "fused"
                    else UIB(c_in, c_out, k_start, k_mid, c_exp, stride)
                )
                blocks.append(block)
                c_in = c_out
            self.stages.append(nn.Sequential(*blocks))
            self.out_channels.append(c_in)
        self.out_channels = self.out_channels[1:]  # strides 8, 16, 32

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        x = self.stem(x)
        feats = []
        for stage in self.stages:
            x = stage(x)
            feats.append(x)
        return feats[1:]
