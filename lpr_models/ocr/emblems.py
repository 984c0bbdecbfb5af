"""Emblems beside a US plate's characters (Pennsylvania's keystone, Arkansas's diamond, a state's outline or a
tree between the groups or before them), which the reader takes for a character, or beside which it drops one. With
the emblem painted over in the plate's ground, the rest reads as a plain plate (lpr_models.ocr.reader.
read_past_emblems)."""

from __future__ import annotations

import numpy as np

from lpr_models.ocr.stacks import Characters, paint_band

# An emblem between the groups: a gap between two of the plate's own characters wider than EMBLEM_GAP of their
# height, and narrower than MAX_EMBLEM (wider, the "characters" are bits of the plate's rim on either side).
EMBLEM_GAP = 0.6
MAX_EMBLEM = 3.0
# An emblem at an end: a shape of the ink beyond the first or the last character, reaching into their band, at
# least END_HEIGHT of their height tall, narrower than MAX_EMBLEM heights and wider than END_ASPECT of its own
# height, as a badge, a state's outline or an animal is and a character is not: a stack of small characters not
# found as one (lpr_models.ocr.stacks: they touch each other or the rim) stays, where painted over its plate was read
# surely without it (4 more of 200 rendered stacked plates read wrong at 0.5 sure or more without the rule, 1 with).
END_HEIGHT = 0.3
END_ASPECT = 0.8
# Fewer characters than this found, the plate's own are not known well enough to tell an emblem from them.
MIN_CHARACTERS = 3


def emblem_spans(own: Characters) -> list[tuple[int, int]]:
    """The columns (from, to) of a plate crop where emblems stand beside its own characters (`own`): the wide
    gaps between them, and the ink shapes beyond their ends."""
    width = own.ink.shape[1]  # a shape at the crop's edge is the rim or the car beyond the plate, not a character
    shapes, height = [s for s in own.shapes if s[0] > 0 and s[0] + s[2] < width], own.height
    if len(shapes) < MIN_CHARACTERS:
        return []
    spans = [
        (a[0] + a[2] + 1, b[0] - 1)
        for a, b in zip(shapes, shapes[1:])
        if EMBLEM_GAP * height < b[0] - (a[0] + a[2]) < MAX_EMBLEM * height
    ]
    (top, bottom), first, last = own.band, shapes[0][0], max(s[0] + s[2] for s in shapes)
    characters = set(own.shapes)
    spans += [
        (s[0] - 2, s[0] + s[2] + 2)
        for s in own.solid
        if s not in characters
        and (s[0] + s[2] <= first or s[0] >= last)
        and s[3] >= END_HEIGHT * height
        and s[2] > END_ASPECT * s[3]
        and s[2] < MAX_EMBLEM * height
        and s[1] < bottom
        and s[1] + s[3] > top
    ]
    return spans


def without_emblems(crop: np.ndarray, own: Characters) -> np.ndarray | None:
    """The crop with the emblems beside its own characters (`own`) painted over; None where it shows none."""
    spans = emblem_spans(own)
    if not spans:
        return None
    out = crop.copy()
    for x0, x1 in spans:
        paint_band(out, own, max(0, x0), min(out.shape[1], x1))
    return out
