"""Turn rectified BGR plates into the reader's input tensor."""
from __future__ import annotations

import numpy as np
import torch

from lpr_models.geometry import expand_quad, rectify
from lpr_models.ocr.model import OcrConfig


def plate_crop(image: np.ndarray, corners: np.ndarray, cfg: OcrConfig) -> np.ndarray:
    """The reader's view of a plate: its corners grown by the config's margins, warped to the input size."""
    return rectify(image, expand_quad(corners, cfg.margin_x, cfg.margin_y), (cfg.height, cfg.width))


def to_tensor(plates: np.ndarray) -> torch.Tensor:
    """(B, H, W, 3) BGR uint8 -> (B, 3, H, W) float in [-1, 1], RGB."""
    x = torch.from_numpy(np.ascontiguousarray(plates[..., ::-1])).permute(0, 3, 1, 2).float()
    return x.div_(127.5).sub_(1.0)
