"""Inference with the reader: rectified plates in, texts with per-character confidences out."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np
import torch

from lpr_models.ocr.model import MaskOCR
from lpr_models.ocr.preprocess import plate_crop, to_tensor
from lpr_models.optimize import ShapeCache
from lpr_models.vocab import PAD, decode


@dataclass(frozen=True)
class Reading:
    text: str
    confidence: float  # product of the character confidences (end-of-plate slot included)
    char_confidences: tuple[float, ...]


@torch.inference_mode()
def read_batch(model: Callable[[torch.Tensor], torch.Tensor], plates: np.ndarray) -> list[Reading]:
    """Read (B, H, W, 3) BGR plates already rectified to the model's input size with `model` (or its compiled form)."""
    if len(plates) == 0:
        return []
    probs = model(to_tensor(plates)).softmax(-1)
    conf, ids = probs.max(-1)
    readings = []
    for row_ids, row_conf in zip(ids.tolist(), conf.tolist()):
        text = decode(row_ids)
        used = row_conf[: len(text) + (1 if len(text) < len(row_ids) and row_ids[len(text)] == PAD else 0)]
        readings.append(Reading(text, float(np.prod(used)) if used else 0.0, tuple(row_conf[: len(text)])))
    return readings


class PlateReader:
    """`crop(image, corners)` a plate, then `read(plates) -> list[Reading]` a batch of crops."""

    def __init__(self, model: MaskOCR, max_batch: int = 16, backend: str = "auto") -> None:
        self.model = model.eval()
        self.forward = ShapeCache(self.model, backend)
        self.input_size = (model.cfg.height, model.cfg.width)
        self.max_batch = max_batch

    @classmethod
    def from_weights(cls, path=None, **kwargs) -> "PlateReader":
        """Load shipped (default) or given weights; see lpr_models.weights for the checks made."""
        from lpr_models.ocr.model import OcrConfig
        from lpr_models.weights import build_model

        return cls(build_model("ocr", path, lambda cfg: MaskOCR(OcrConfig(**cfg))), **kwargs)

    def crop(self, image: np.ndarray, corners: np.ndarray) -> np.ndarray:
        """Rectify the plate with `corners` (TL, TR, BR, BL) exactly as the reader was trained."""
        return plate_crop(image, corners, self.model.cfg)

    def read(self, plates: list[np.ndarray]) -> list[Reading]:
        out: list[Reading] = []
        for start in range(0, len(plates), self.max_batch):
            out += read_batch(self.forward, np.stack(plates[start : start + self.max_batch]))
        return out
