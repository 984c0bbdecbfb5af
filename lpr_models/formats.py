"""Plate formats by region (the table in plate_formats.toml) and format-aware reading.

A reader confuses O with 0, B with 8 and I with 1 because the glyphs look alike; where a
region's formats say which positions hold letters and which digits, the best text that fits a
format is usually the right one. `best_fit` finds it from the reader's per-slot probabilities.
"""

from __future__ import annotations

import itertools
import re
import tomllib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from lpr_models.vocab import CHARSET, DIGITS, INDEX, LATIN, PAD, PROVINCES

TABLE = Path(__file__).with_name("plate_formats.toml")
CLASSES = {"L": LATIN, "D": DIGITS, "X": LATIN + DIGITS, "P": PROVINCES}
SEPARATORS = " -"
_TOKEN = re.compile(r"(\[[^\]]+\]|.)(?:\{(\d+)(?:,(\d+))?\})?")


@dataclass(frozen=True)
class PlateFormat:
    """One plate layout of a region: the characters each position may hold."""

    region: str
    name: str
    pattern: str
    positions: tuple[str, ...]  # allowed characters, one string per position
    groups: tuple[int, ...]  # sizes of the groups the plate shows apart (for rendering)
    band: str | None = None  # the EU band's country code, where there is one

    def fits(self, text: str) -> bool:
        return len(text) == len(self.positions) and all(c in allowed for c, allowed in zip(text, self.positions))


def _expand(pattern: str, classes: dict[str, str] = CLASSES) -> list[list[tuple[str, bool]]]:
    """Every fixed-length reading of `pattern`: lists of (allowed characters, starts a group)."""
    options: list[list[list[tuple[str, bool]]]] = []
    new_group = True
    for match in _TOKEN.finditer(pattern):
        token, low, high = match.group(1), match.group(2), match.group(3)
        if token in SEPARATORS:
            new_group = True
            continue
        allowed = token[1:-1] if token.startswith("[") else classes.get(token, token)
        counts = range(int(low), int(high or low) + 1) if low else range(1, 2)
        options.append([[(allowed, new_group and i == 0) for i in range(n)] for n in counts])
        new_group = False
    return [[slot for part in combo for slot in part] for combo in itertools.product(*options)]


def _groups(slots: list[tuple[str, bool]]) -> tuple[int, ...]:
    sizes: list[int] = []
    for _, starts in slots:
        if starts or not sizes:
            sizes.append(0)
        sizes[-1] += 1
    return tuple(sizes)


@lru_cache(maxsize=4)
def load_formats(path: Path = TABLE) -> tuple[PlateFormat, ...]:
    """Every fixed-length format in the table, quantifiers expanded."""
    with path.open("rb") as fh:
        table = tomllib.load(fh)
    out = []
    for entry in table["format"]:
        name = entry.get("country", entry.get("name", entry["region"]))
        letters = entry.get("letters", LATIN)  # the letters this plate series issues (L, and X's letters)
        classes = {**CLASSES, "L": letters, "X": letters + DIGITS}
        for pattern in entry["patterns"]:
            for slots in _expand(pattern, classes):
                out.append(
                    PlateFormat(
                        entry["region"], name, pattern, tuple(a for a, _ in slots), _groups(slots), entry.get("band")
                    )
                )
    return tuple(out)


def region_formats(region: str) -> tuple[PlateFormat, ...]:
    return tuple(f for f in load_formats() if f.region == region)


def fits_format(region: str, text: str, country: str = "") -> bool | None:
    """Whether `text` fits one of `region`'s formats (only `country`'s, where the table has formats of that
    country); None where the region has none known."""
    formats = region_formats(region)
    formats = tuple(f for f in formats if country and f.name == country) or formats
    if not formats:
        return None
    return any(f.fits(text) for f in formats)


@lru_cache(maxsize=256)
def _allowed_ids(allowed: str) -> np.ndarray:
    return np.array([INDEX[c] for c in allowed if c in INDEX], np.int64)


def best_fit(log_probs: np.ndarray, region: str) -> tuple[str, float] | None:
    """The most probable text that fits one of `region`'s formats, and its log-probability.

    `log_probs` is the reader's (slots, classes) log-softmax; a text of n characters must end
    with the pad class in slot n (when n < slots). None where the region has no known format.
    """
    best: tuple[str, float] | None = None
    slots = log_probs.shape[0]
    for fmt in region_formats(region):
        n = len(fmt.positions)
        if n > slots:
            continue
        total = float(log_probs[n, PAD]) if n < slots else 0.0
        chars = []
        for pos, allowed in enumerate(fmt.positions):
            ids = _allowed_ids(allowed)
            pick = int(ids[np.argmax(log_probs[pos, ids])])
            total += float(log_probs[pos, pick])
            chars.append(CHARSET[pick - 1])
        if best is None or total > best[1]:
            best = ("".join(chars), total)
    return best


def random_text(fmt: PlateFormat, rng: np.random.Generator) -> str:
    """A random text of format `fmt` (for synthetic plates)."""
    return "".join(allowed[rng.integers(len(allowed))] for allowed in fmt.positions)


def grouped(fmt: PlateFormat, text: str, separator: str = " ") -> str:
    """`text` with the format's group separators, as the plate shows it."""
    parts, start = [], 0
    for size in fmt.groups:
        parts.append(text[start : start + size])
        start += size
    return separator.join(parts)
