"""Corner refinement: a second look at each detected plate, at the plate's own scale.

The detector finds plates on a 640-pixel letterbox with stride-8 features, where a plate
may be 60 pixels wide; its corners err by about 3% of the plate's width, enough to cost
reads. The refiner warps the detected quadrilateral, grown by a margin, from the full
frame onto a small canvas (so the plate fills it at a fixed size and is roughly upright)
and predicts where the true corners lie on that canvas: one heatmap per corner at
stride 4, read out by soft-argmax for sub-pixel positions. Mapping them back through the
warp gives refined corners in frame pixels. The box reported is then halfway between the
detector's box and the refined corners' bounding box: the detector learnt its box from CCPD's
box labels, drawn looser than the plate, the corners give the plate's own extent, and other
people's boxes lie between the two (docs/training.md, "Boxes from the refined corners").
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from pathlib import Path

import cv2
import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from lpr_models.contrast import stretched_if_dark
from lpr_models.detection import Detection
from lpr_models.detector.mobilenetv4 import UIB, conv_bn
from lpr_models.detector.preprocess import to_tensor
from lpr_models.geometry import expand_quad, quad_box, transform_points, warp_quad
from lpr_models.optimize import ShapeCache

POINTS = 4  # plate corners TL, TR, BR, BL
STRIDE = 4  # of the heatmaps
# A canvas darker than this on average (grey levels, 0-255) is a plate at night, and is stretched over every level
# before the refiner looks at it (lpr_models.contrast): on the CCPD validation photos darkened (`lpr eval ccpd
# --degrade dark`, where nine canvases in ten fall under it, against one in twenty on the photos as they are), 90.2% ->
# 93.0% of the plates are read end to end; the photos as they are read as before (docs/training.md).
DARK_CANVAS = 40.0


@dataclass(frozen=True)
class RefinerConfig:
    """Canvas geometry and architecture; stored beside the weights."""

    height: int = 64
    width: int = 160
    margin_x: float = 0.2  # the canvas shows the detected quad grown by this share of its width on each side
    margin_y: float = 0.4  # and of its height above and below
    channels: int = 32

    def to_dict(self) -> dict:
        return asdict(self)


class CornerRefinerNet(nn.Module):
    """(B, 3, H, W) canvases in [0, 1] -> (B, 4, 2) corners as fractions of the canvas width and height."""

    def __init__(self, cfg: RefinerConfig | None = None) -> None:
        super().__init__()
        self.cfg = cfg = cfg or RefinerConfig()
        c = cfg.channels
        self.stem = conv_bn(3, c // 2, 3, 2)
        self.down4 = nn.Sequential(UIB(c // 2, c, 3, 3, 2 * c, 2), UIB(c, c, 0, 3, 2 * c, 1))
        self.down8 = nn.Sequential(UIB(c, 2 * c, 3, 3, 4 * c, 2), UIB(2 * c, 2 * c, 0, 3, 4 * c, 1))
        self.down16 = nn.Sequential(
            UIB(2 * c, 3 * c, 3, 3, 6 * c, 2), UIB(3 * c, 3 * c, 0, 5, 6 * c, 1), UIB(3 * c, 3 * c, 0, 5, 6 * c, 1)
        )
        self.lateral8 = conv_bn(2 * c, c, 1, act=False)
        self.lateral16 = conv_bn(3 * c, c, 1, act=False)
        self.heat = nn.Sequential(conv_bn(c, c, 3, groups=c), conv_bn(c, c, 1), nn.Conv2d(c, POINTS, 1))
        h, w = cfg.height // STRIDE, cfg.width // STRIDE
        ys = (torch.arange(h, dtype=torch.float32) + 0.5) / h
        xs = (torch.arange(w, dtype=torch.float32) + 0.5) / w
        grid_y, grid_x = torch.meshgrid(ys, xs, indexing="ij")
        self.register_buffer("grid", torch.stack([grid_x.flatten(), grid_y.flatten()], dim=1), persistent=False)

    def forward(self, canvas: torch.Tensor) -> torch.Tensor:
        f4 = self.down4(self.stem(canvas))
        f8 = self.down8(f4)
        f16 = self.down16(f8)
        f8 = self.lateral8(f8) + F.interpolate(self.lateral16(f16), scale_factor=2.0, mode="nearest")
        f4 = f4 + F.interpolate(f8, scale_factor=2.0, mode="nearest")
        heat = self.heat(f4).flatten(2)  # (B, 4, h*w)
        return heat.softmax(-1) @ self.grid  # soft-argmax: expected position per corner


def warp_to_canvas(image: np.ndarray, corners: np.ndarray, cfg: RefinerConfig) -> tuple[np.ndarray, np.ndarray]:
    """The refiner's view around the quad `corners` of `image` (stretched where dark, see DARK_CANVAS), and the
    matrix from image pixels to it."""
    canvas, matrix = warp_quad(image, expand_quad(corners, cfg.margin_x, cfg.margin_y), (cfg.height, cfg.width))
    return stretched_if_dark(canvas, DARK_CANVAS), matrix


def canvas_size(cfg: RefinerConfig) -> np.ndarray:
    return np.array([cfg.width, cfg.height], np.float32)


class CornerRefiner:
    """`refine(frame, detections)`: the same plates with their corners re-estimated from a close-up.

    Each of the `iterations` looks starts from the previous one's corners: the next look sees
    a better-centred, better-rectified plate (on CCPD validation photos the mean corner error
    went from 3.3% of the plate's width to 1.0% after one look and 0.85% after two). A plate
    turned in the frame needs the third: its detected corners turn less than the plate does,
    and each look turns them further (docs/training.md, the refiner's fourth stage).
    """

    def __init__(self, net: CornerRefinerNet, iterations: int = 3, backend: str = "auto") -> None:
        self.net = net.eval()
        self.cfg = net.cfg
        self.forward = ShapeCache(self.net, backend)
        self.iterations = iterations

    @classmethod
    def from_weights(cls, path: str | Path | None = None, **kwargs) -> CornerRefiner:
        """Load shipped (default) or given weights; see lpr_models.weights for the checks made."""
        from lpr_models.weights import build_model

        return cls(build_model("refiner", path, lambda cfg: CornerRefinerNet(RefinerConfig(**cfg))), **kwargs)

    @torch.inference_mode()
    def refine(self, frame: np.ndarray, detections: list[Detection]) -> list[Detection]:
        if not detections:
            return []
        corners = np.stack([d.corners for d in detections]).astype(np.float32)
        size = canvas_size(self.cfg)
        for _ in range(self.iterations):
            canvases, matrices = zip(*(warp_to_canvas(frame, c, self.cfg) for c in corners))
            points = self.forward(to_tensor(np.stack(canvases))).numpy() * size
            corners = np.stack([_back_to_frame(m, p, c) for m, p, c in zip(matrices, points, corners)])
        return [replace(d, corners=c, box=(d.box + quad_box(c)) / 2) for d, c in zip(detections, corners)]


def _back_to_frame(matrix: np.ndarray, points: np.ndarray, previous: np.ndarray) -> np.ndarray:
    """Canvas points mapped back to the frame; a degenerate quad (no inverse warp) keeps its `previous` corners."""
    invertible, inverse = cv2.invert(matrix)
    mapped = transform_points(inverse, points) if invertible else previous
    return mapped if np.isfinite(mapped).all() else previous
