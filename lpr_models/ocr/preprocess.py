"""Turn plates into the reader's input: one crop per plate, read in one or two views.

A crop is the plate rectified at twice the reader's height. Its one-row view is the crop
shrunk to the input size. Its two-row view puts the upper band (top row) beside the lower
band (bottom row), each squeezed to half the width, so a two-row plate reads left to right
as one line: the split-and-stitch of well-known Chinese readers, which lets one strip
encoder read both layouts.
"""

from __future__ import annotations

import cv2
import numpy as np
import torch

from lpr_models.geometry import expand_quad, rectify
from lpr_models.ocr.model import OcrConfig


def crop_size(cfg: OcrConfig) -> tuple[int, int]:
    """(height, width) of a crop: twice the input's height, so each band of a two-row plate keeps its pixels."""
    return 2 * cfg.height, cfg.width


def plate_crop(image: np.ndarray, corners: np.ndarray, cfg: OcrConfig) -> np.ndarray:
    """A plate's crop: its corners grown by the config's margins, warped to `crop_size`."""
    return rectify(image, expand_quad(corners, cfg.margin_x, cfg.margin_y), crop_size(cfg))


def one_row_view(crop: np.ndarray, cfg: OcrConfig) -> np.ndarray:
    """The whole plate at the input size."""
    return cv2.resize(crop, (cfg.width, cfg.height), interpolation=cv2.INTER_AREA)


def two_row_view(crop: np.ndarray, cfg: OcrConfig) -> np.ndarray:
    """The upper band beside the lower band, each (height, width / 2): top row, then bottom row."""
    h = crop.shape[0]
    upper = crop[: round(h * cfg.upper_band)]
    lower = crop[round(h * cfg.lower_band) :]
    half = (cfg.width // 2, cfg.height)
    return np.hstack(
        [cv2.resize(upper, half, interpolation=cv2.INTER_AREA), cv2.resize(lower, half, interpolation=cv2.INTER_AREA)]
    )


def view(crop: np.ndarray, cfg: OcrConfig, rows: int) -> np.ndarray:
    """The crop's view for a plate of `rows` rows."""
    return two_row_view(crop, cfg) if rows == 2 else one_row_view(crop, cfg)


def dark_ground(crop: np.ndarray) -> bool:
    """Whether the plate's ground is darker than its characters: fewer than half of its middle's pixels fall on the
    bright side of an Otsu threshold (the ground is most of a plate). Edges are left out, where a loose crop shows
    the car."""
    grey = cv2.cvtColor(crop, cv2.COLOR_BGR2GRAY)
    h, w = grey.shape
    middle = np.ascontiguousarray(grey[h // 8 : h - h // 8, w // 16 : w - w // 16])
    _, bright = cv2.threshold(middle, 0, 1, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    return bool(bright.mean() < 0.5)


def to_tensor(plates: np.ndarray) -> torch.Tensor:
    """(B, H, W, 3) BGR uint8 -> (B, 3, H, W) float in [-1, 1], RGB (in one OpenCV pass, 4x faster than torch ops)."""
    blob = cv2.dnn.blobFromImages(
        list(plates), scalefactor=1 / 127.5, mean=(127.5, 127.5, 127.5), swapRB=True, crop=False, ddepth=cv2.CV_32F
    )
    return torch.from_numpy(blob)
