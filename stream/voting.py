"""Agree on one plate text from the readings of a track's best crops.

The region first: the readings vote on the plate family, weighted by confidence. Unless it is
China, readings with a Chinese character leave the vote (the reader gives a province only to a
plate it reads as Chinese, and so does the vote). A reading
that does not fit a known format of that region counts FORMAT_MISS_WEIGHT of its
confidence: an O read for a 0 in a digit position is outvoted by fewer readings that fit.
Then length: the readings vote on the plate's length. Then, among readings of that length,
every character position votes, each reading weighted by its confidence in that
character. The vote's confidence is the (calibrated) confidence of the best reading of the
voted text, scaled by how far the readings agree; each character's, that reading's
confidence in it scaled by its position's share. Runner-up full readings are kept with their shares.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

import numpy as np

from lpr_models.formats import fits_format
from lpr_models.ocr.reader import FORMAT_PRIOR, Reading
from lpr_models.vocab import has_chinese

FORMAT_MISS_WEIGHT = FORMAT_PRIOR


@dataclass(frozen=True)
class Vote:
    text: str
    confidence: float
    char_confidences: tuple[float, ...]
    candidates: tuple[tuple[str, float], ...]  # other readings and their vote shares, best first
    region: str = "unknown"
    format_valid: bool | None = None  # None: no known format for the region


def vote(readings: list[Reading]) -> Vote | None:
    """The consensus of `readings`, or None when none of them read any character (of the voted region's)."""
    readings = [r for r in readings if r.text]
    if not readings:
        return None
    by_region: dict[str, float] = defaultdict(float)
    for r in readings:
        by_region[r.region] += max(r.confidence, 1e-6)
    region = max(by_region, key=lambda name: by_region[name])
    if region != "cn":
        readings = [r for r in readings if not has_chinese(r.text)]
        if not readings:  # only where readings of another region carried Chinese, which the reader never gives
            return None
    # by position in `readings`, not by object: one Reading object may stand for several crops
    fit_factor = [FORMAT_MISS_WEIGHT if fits_format(region, r.text) is False else 1.0 for r in readings]
    weight = [max(r.confidence, 1e-6) * factor for r, factor in zip(readings, fit_factor)]
    total = sum(weight)
    by_length: dict[int, float] = defaultdict(float)
    for r, w in zip(readings, weight):
        by_length[len(r.text)] += w
    length = max(by_length, key=lambda n: (by_length[n], n))
    same_length = [(r, factor) for r, factor in zip(readings, fit_factor) if len(r.text) == length]
    chars, shares = [], []
    for pos in range(length):
        tally: dict[str, float] = defaultdict(float)
        for r, factor in same_length:
            tally[r.text[pos]] += max(r.char_confidences[pos], 1e-6) * factor
        best = max(tally, key=lambda c: tally[c])
        chars.append(best)
        shares.append(tally[best] / sum(tally.values()))
    text = "".join(chars)
    # The readings' agreement (length share times each position's share) scales the calibrated
    # confidence of the best reading of exactly this text (or, for a text no single reading
    # gave, the best confidence at each position).
    agreement = by_length[length] / total * float(np.prod(shares))
    agreeing = [r for r, _ in same_length if r.text == text]
    if agreeing:
        anchor = max(agreeing, key=lambda r: r.confidence)
        base, base_chars = anchor.confidence, anchor.char_confidences
    else:
        base_chars = tuple(
            max(r.char_confidences[p] for r, _ in same_length if r.text[p] == c) for p, c in enumerate(text)
        )
        base = float(np.prod(base_chars))
    confidence = base * agreement
    char_conf = tuple(round(c * s, 4) for c, s in zip(base_chars, shares))
    by_text: dict[str, float] = defaultdict(float)
    for r, w in zip(readings, weight):
        by_text[r.text] += w / total
    candidates = tuple(sorted(((t, round(s, 4)) for t, s in by_text.items() if t != text), key=lambda c: -c[1]))
    return Vote(text, round(confidence, 4), char_conf, candidates[:5], region, fits_format(region, text))
