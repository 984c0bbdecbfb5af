"""Small characters stacked at one end of a US plate (a county or plate-type code: `NG` over each other before
`00617`), which the reader cannot read: its full-height strips each hold a whole stack, and no reader trained here
learnt them (docs/training.md). Found by their shapes beside the plate's own characters, the stack is painted over
so the reader reads the rest as a plain plate, and each stacked character is read on a plate of its own, repeated
in a row at the plate's character height: a row of one character is a plate the reader reads well. The same rows
read any doubtful character of a plate alone (lpr_models.ocr.reader.reread_doubtful_characters)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import cv2
import numpy as np

from lpr_models.ocr.preprocess import dark_ground
from lpr_models.vocab import DIGITS, LATIN

# The plate's own characters: components this share of the crop's height tall (a crop is the plate and its
# margins), no wider than tall, and within MAIN_SPREAD of their median height; at least MIN_MAIN of them (two: an
# emblem or a logo often runs into the characters beside it, which then no longer count).
MAIN_HEIGHT = (0.28, 0.8)
MAIN_SPREAD = 0.2
MIN_MAIN = 2
# A stacked character: this share of the plate's character height tall, standing within the characters' band
# (give or take BAND_SLACK of their height), beyond the first or last of them by at most MAX_GAP heights.
STACKED_HEIGHT = (0.22, 0.6)
BAND_SLACK = 0.15
MAX_GAP = 1.2
# It is this share of the characters' height wide, and of a stack's characters at least one is wider than
# MIN_ASPECT of its own height (the plate's rim, cut into slivers by a shadow, stands there too).
STACKED_WIDTH = (0.08, 0.7)
MIN_ASPECT = 0.3
# A stack is 2-3 such characters one above the other, spanning at least this share of the band's height.
STACK_SIZES = (2, 3)
MIN_SPAN = 0.6
# Each stacked character is read repeated this many times, and read as the character most of the reading is
# (at least GLYPH_AGREEMENT of it): a sticker's scribble or a bolt reads as a jumble and leaves the plate as read.
GLYPH_REPEATS = 5
GLYPH_AGREEMENT = 0.6
LATIN_AND_DIGITS = frozenset(LATIN + DIGITS)

Box = tuple[int, int, int, int]  # x, y, width, height in the crop
Shape = tuple[int, ...]  # x, y, width, height, area of a connected shape of the ink


@dataclass(frozen=True)
class Stack:
    at_left: bool  # before the plate's own characters (read first) or after them (read last)
    boxes: tuple[Box, ...]  # the stacked characters, top to bottom


def ink(crop: np.ndarray) -> np.ndarray:
    """The characters' pixels (uint8 0/1): the side of an Otsu threshold of the plate's middle that is not its
    ground (dark_ground), so dark characters on a light plate and light ones on a dark plate alike."""
    grey = cv2.cvtColor(crop, cv2.COLOR_BGR2GRAY)
    h, w = grey.shape
    middle = np.ascontiguousarray(grey[h // 8 : h - h // 8, w // 16 : w - w // 16])
    threshold, _ = cv2.threshold(middle, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    bright = grey > threshold
    return (bright if dark_ground(crop) else ~bright).astype(np.uint8)


@dataclass(frozen=True, eq=False)
class Characters:
    """A plate crop's own characters, as the ink's connected shapes show them, and the ink itself: what stacks are
    found beside, painted over from and read in rows on."""

    shapes: list[Shape]  # left to right
    band: tuple[float, float]  # their top and bottom
    height: float
    solid: list[Shape]  # every filled shape of the ink, the characters' among them
    ink: np.ndarray  # the crop's ink (see ink)

    @property
    def boxes(self) -> list[Box]:
        return [(x, y, w, h) for x, y, w, h, _ in self.shapes]


def characters(crop: np.ndarray) -> Characters | None:
    """The plate's own characters: shapes of the ink as tall as a character (MAIN_HEIGHT), within MAIN_SPREAD of
    their median height; None where fewer than MIN_MAIN stand out."""
    height, mask = crop.shape[0], ink(crop)
    _, _, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
    shapes = [tuple(int(v) for v in s[:5]) for s in stats[1:]]  # x, y, w, h, area; the ground left out
    solid = [s for s in shapes if s[4] > 0.12 * s[2] * s[3]]
    tall = [s for s in solid if MAIN_HEIGHT[0] * height <= s[3] <= MAIN_HEIGHT[1] * height and s[2] <= s[3]]
    if len(tall) < MIN_MAIN:
        return None
    char_height = float(np.median([s[3] for s in tall]))
    main = sorted((s for s in tall if abs(s[3] - char_height) <= MAIN_SPREAD * char_height), key=lambda s: s[0])
    if len(main) < MIN_MAIN:
        return None
    band = float(np.median([s[1] for s in main])), float(np.median([s[1] + s[3] for s in main]))
    return Characters(main, band, char_height, solid, mask)


def find_stacks(own: Characters) -> tuple[Stack, ...]:
    """The columns of 2-3 small characters next to the first and the last of a plate's own characters (`own`, of
    its crop): none, one, or one at each end (Wyoming's `1` over `7` before `692` and `A` over `B` after it)."""
    (top, bottom), char_height = own.band, own.height
    first, last = own.shapes[0][0], max(s[0] + s[2] for s in own.shapes)
    slack = BAND_SLACK * char_height
    small = [
        s
        for s in own.solid
        if STACKED_HEIGHT[0] * char_height <= s[3] <= STACKED_HEIGHT[1] * char_height
        and STACKED_WIDTH[0] * char_height <= s[2] <= STACKED_WIDTH[1] * char_height
        and s[1] >= top - slack
        and s[1] + s[3] <= bottom + slack
    ]
    stacks = []
    for at_left in (True, False):
        beside = [s for s in small if (s[0] + s[2] <= first + 2 if at_left else s[0] >= last - 2)]
        column = _column(beside, at_left, first if at_left else last, char_height)
        if column:
            stacks.append(Stack(at_left, tuple((x, y, w, h) for x, y, w, h, _ in column)))
    return tuple(stacks)


def _column(beside: list[Shape], at_left: bool, edge: int, char_height: float) -> list[Shape]:
    """The small shapes beside the characters' `edge` that stand one above another in the column nearest it, top
    to bottom, if they make a stack; else []."""
    if len(beside) < STACK_SIZES[0]:
        return []
    nearest = max(beside, key=lambda s: s[0] + s[2]) if at_left else min(beside, key=lambda s: s[0])
    gap = edge - (nearest[0] + nearest[2]) if at_left else nearest[0] - edge
    if gap > MAX_GAP * char_height:
        return []
    column = sorted((s for s in beside if _overlap(s, nearest) > 0.3 * min(s[2], nearest[2])), key=lambda s: s[1])
    if not STACK_SIZES[0] <= len(column) <= STACK_SIZES[1]:
        return []
    if any(lower[1] < upper[1] + upper[3] - 2 for upper, lower in zip(column, column[1:])):
        return []  # side by side or overlapping, not one above the other
    if column[-1][1] + column[-1][3] - column[0][1] < MIN_SPAN * char_height:
        return []
    if all(w < MIN_ASPECT * h for _, _, w, h, _ in column):
        return []  # slivers: the plate's rim or a bolt's edge, not characters
    return column


def _overlap(a: Shape, b: Shape) -> int:
    """Horizontal overlap of two components, in pixels."""
    return min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0])


def without_stacks(crop: np.ndarray, own: Characters, stacks: tuple[Stack, ...]) -> np.ndarray:
    """The crop with its stacks painted over in the ground around them: the plate's own characters (`own`) left to
    read."""
    out = crop.copy()
    for stack in stacks:
        _paint_over(out, own, stack)
    return out


def _paint_over(out: np.ndarray, own: Characters, stack: Stack) -> None:
    """Paint the stack's box, across the characters' band, in `out`."""
    x0 = max(0, min(x for x, _, _, _ in stack.boxes) - 2)
    x1 = min(out.shape[1], max(x + w for x, _, w, _ in stack.boxes) + 2)
    paint_band(out, own, x0, x1)


def paint_band(out: np.ndarray, own: Characters, x0: int, x1: int) -> None:
    """Paint columns `x0:x1` of `out`, across the characters' band (`own`, give or take a tenth of their height), in
    the median of the pixels there off the ink: the plate's ground, where a stack or an emblem stood."""
    slack = 0.1 * own.height
    y0, y1 = max(0, int(own.band[0] - slack)), int(round(own.band[1] + slack))
    region, ground = out[y0:y1, x0:x1], own.ink[y0:y1, x0:x1] == 0
    region[:] = np.median(region[ground], axis=0) if ground.any() else region.mean((0, 1))


def glyph_rows(
    crop: np.ndarray, own: Characters, boxes: tuple[Box, ...] | list[Box], repeats: int = GLYPH_REPEATS
) -> list[np.ndarray]:
    """Each character in `boxes` (a stack's, or some of the plate's own) scaled to the height of the plate's own
    characters (`own`) and repeated in a row, on a crop of the plate's ground the size of `crop`, standing in their
    band."""
    height, width = crop.shape[:2]
    ground = np.median(crop[own.ink == 0], axis=0).astype(np.uint8)
    band = own.band
    band_height = max(1, int(round(band[1] - band[0])))
    pad, gap = 2, max(1, int(0.2 * band_height))
    rows = []
    for x, y, w, h in boxes:
        glyph = crop[max(0, y - pad) : y + h + pad, max(0, x - pad) : x + w + pad]
        scale = (band_height + 2 * pad) / glyph.shape[0]
        glyph = cv2.resize(glyph, (max(1, round(glyph.shape[1] * scale)), band_height + 2 * pad))
        span = repeats * glyph.shape[1] + (repeats - 1) * gap
        row = np.empty((height, max(width, span + 2 * gap), 3), np.uint8)
        row[:] = ground
        top = max(0, min(height - glyph.shape[0], int(round(band[0])) - pad))
        left = (row.shape[1] - span) // 2
        for k in range(repeats):
            at = left + k * (glyph.shape[1] + gap)
            row[top : top + glyph.shape[0], at : at + glyph.shape[1]] = glyph
        rows.append(cv2.resize(row, (width, height), interpolation=cv2.INTER_AREA))
    return rows


def glyph_reading(text: str, confidences: tuple[float, ...]) -> tuple[str, float] | None:
    """The character a glyph row reads as, and how sure: most of its characters (GLYPH_AGREEMENT) one Latin
    letter or digit; their mean confidence times that share. None for a jumble."""
    if not text:
        return None
    character, count = Counter(text).most_common(1)[0]
    share = count / max(len(text), GLYPH_REPEATS)
    if character not in LATIN_AND_DIGITS or share < GLYPH_AGREEMENT:
        return None
    mean = float(np.mean([c for t, c in zip(text, confidences) if t == character]))
    return character, mean * share
