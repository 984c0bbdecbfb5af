"""Score the reader on labelled plates: exact match, per-character accuracy, frequent confusions,
the region it names, and how often it puts a Chinese character on a plate from elsewhere.

A `-` in a label is a position hidden in the image (UC3M): it matches whatever is read there.
"""

from __future__ import annotations

from collections import Counter

import numpy as np
import torch

from lpr_models.ocr.model import MaskOCR
from lpr_models.ocr.preprocess import plate_crop
from lpr_models.ocr.reader import COPIES, SECOND_LOOK_BELOW, read_batch
from lpr_models.vocab import has_chinese
from train.ocr_data import UNREADABLE, PlateSample


def matches(predicted: str, truth: str) -> bool:
    """Exact match, a hidden (`-`) position of the truth matching any character."""
    return len(predicted) == len(truth) and all(t == UNREADABLE or p == t for p, t in zip(predicted, truth))


# Letters many plates draw exactly as a digit: many US states' fonts draw O as 0 and I as 1, so on those plates
# the pixels cannot tell them apart and only the state's format could. `exact_glyphs` scores a reading up to them.
SAME_GLYPH = str.maketrans("OI", "01")


def matches_glyphs(predicted: str, truth: str) -> bool:
    """`matches` with O and 0, and I and 1, counted as one glyph."""
    return matches(predicted.translate(SAME_GLYPH), truth.translate(SAME_GLYPH))


def char_accuracy(predicted: str, truth: str) -> float:
    """Share of the truth's readable positions read correctly (a missing position is wrong)."""
    if not truth:
        return float(predicted == truth)
    hidden = truth.count(UNREADABLE)
    right = sum(p == t for p, t in zip(predicted, truth) if t != UNREADABLE)
    return right / max(len(truth) - hidden, len(predicted) - hidden, 1)


def invents_province(predicted: str, region: str) -> bool:
    """A Chinese character read on a plate that is not Chinese."""
    return region != "cn" and has_chinese(predicted)


def confusions(pairs: list[tuple[str, str]], top: int = 10) -> list[tuple[str, str, int]]:
    """Most frequent (truth char, predicted char) substitutions among same-length readings."""
    counts: Counter = Counter()
    for predicted, truth in pairs:
        if len(predicted) == len(truth):
            counts.update((t, p) for p, t in zip(predicted, truth) if p != t)
    return [(t, p, n) for (t, p), n in counts.most_common(top)]


def score(rows: list[tuple[str, str, str, str]]) -> dict:
    """Figures for (predicted text, truth, predicted region, true region) rows."""
    n = max(1, len(rows))
    return {
        "plates": float(len(rows)),
        "exact": sum(matches(p, t) for p, t, _, _ in rows) / n,
        "exact_glyphs": sum(matches_glyphs(p, t) for p, t, _, _ in rows) / n,
        "char_accuracy": sum(char_accuracy(p, t) for p, t, _, _ in rows) / n,
        "region_accuracy": sum(pr == tr for _, _, pr, tr in rows) / n,
        "invented_province": sum(invents_province(p, tr) for p, _, _, tr in rows) / n,
        "confusions": confusions([(p, t) for p, t, _, _ in rows]),
    }


@torch.inference_mode()
def read_samples(
    model: MaskOCR,
    samples: list[PlateSample],
    batch: int = 128,
    copies: tuple[tuple[float, float], ...] = COPIES,
    second_look_below: float = SECOND_LOOK_BELOW,
    stacked: bool = True,
) -> list[tuple[str, str, str, str]]:
    """(predicted text, truth, predicted region, true region) for plates cropped from their labelled corners,
    read as the shipped reader reads (`copies`, `second_look_below`: lpr_models.ocr.reader's COPIES and
    SECOND_LOOK_BELOW; `stacked`: a US plate's stacked characters read, reader.read_stacked)."""
    model.eval()
    rows = []
    for start in range(0, len(samples), batch):
        chunk = samples[start : start + batch]
        plates = np.stack([plate_crop(s.image, s.corners, model.cfg) for s in chunk])
        rows += [
            (r.text, s.text, r.region, s.region)
            for r, s in zip(
                read_batch(
                    model, plates, model.cfg, copies=copies, second_look_below=second_look_below, stacked=stacked
                ),
                chunk,
            )
        ]
    return rows


def evaluate_reader(
    model: MaskOCR, samples: list[PlateSample], batch: int = 128, copies: tuple[tuple[float, float], ...] = COPIES
) -> dict:
    """Figures for plates cropped from their labelled corners."""
    return score(read_samples(model, samples, batch, copies))


def score_by(samples: list[PlateSample], rows: list[tuple[str, str, str, str]], group) -> dict[str, dict]:
    """Figures per group of already read plates (`rows`: read_samples of `samples`; `group(sample) -> name`:
    province, plate type, region, or None to leave the plate out), so the average hides nothing."""
    groups: dict[str, list] = {}
    for sample, row in zip(samples, rows):
        name = group(sample)
        if name is not None:
            groups.setdefault(name, []).append(row)
    return {name: score(r) for name, r in sorted(groups.items())}
