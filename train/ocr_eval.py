"""Score the reader on labelled plates: exact match, per-character accuracy, frequent confusions."""
from __future__ import annotations

from collections import Counter

import numpy as np
import torch

from lpr_models.ocr.preprocess import plate_crop
from lpr_models.ocr.model import MaskOCR
from lpr_models.ocr.reader import read_batch
from train.ocr_data import PlateSample


def char_accuracy(predicted: str, truth: str) -> float:
    """Share of the truth's character positions read correctly (a missing position is wrong)."""
    if not truth:
        return float(predicted == truth)
    return sum(p == t for p, t in zip(predicted, truth)) / max(len(truth), len(predicted))


def confusions(pairs: list[tuple[str, str]], top: int = 10) -> list[tuple[str, str, int]]:
    """Most frequent (truth char, predicted char) substitutions among same-length readings."""
    counts: Counter = Counter()
    for predicted, truth in pairs:
        if len(predicted) == len(truth):
            counts.update((t, p) for p, t in zip(predicted, truth) if p != t)
    return [(t, p, n) for (t, p), n in counts.most_common(top)]


@torch.inference_mode()
def evaluate_reader(model: MaskOCR, samples: list[PlateSample], batch: int = 128) -> dict:
    """Figures for plates cropped from their labelled corners."""
    model.eval()
    pairs = []
    for start in range(0, len(samples), batch):
        chunk = samples[start : start + batch]
        plates = np.stack([plate_crop(s.image, s.corners, model.cfg) for s in chunk])
        pairs += [(r.text, s.text) for r, s in zip(read_batch(model, plates), chunk)]
    return {
        "plates": float(len(pairs)),
        "exact": sum(p == t for p, t in pairs) / max(1, len(pairs)),
        "char_accuracy": sum(char_accuracy(p, t) for p, t in pairs) / max(1, len(pairs)),
        "confusions": confusions(pairs),
    }
