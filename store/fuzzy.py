"""Plate-text distance that knows how readers err.

A substitution between characters a reader confuses (0/O/D/Q, 1/I/T, 8/B, 2/Z, 5/S, 6/G)
costs `CONFUSION_COST`; any other substitution, insertion or deletion costs 1. So
`--fuzzy 1` finds a plate with one real misread or up to four confusable ones.

Candidates are found through `fold`: confusable characters map to one representative, so
every confusion vanishes and the remaining (folded) edit distance is at most the full
distance. The store indexes the distinct bigrams of folded texts, and a text within distance d
shares all but at most 2d of the query's distinct padded bigrams (each edit breaks at most two).
"""

from __future__ import annotations

import re

CONFUSABLE = ("0ODQ", "1IT", "8B", "2Z", "5S", "6G")
CONFUSION_COST = 0.25
_FOLD = {c: group[0] for group in CONFUSABLE for c in group}
_SEPARATORS = re.compile(r"[\s\-.·_]+")


def normalise(text: str) -> str:
    """Upper case, separators removed: `ls15 ebc` and `LS15-EBC` are `LS15EBC`."""
    return _SEPARATORS.sub("", text).upper()


def fold(text: str) -> str:
    """`text` with each confusable character replaced by its group's representative."""
    return "".join(_FOLD.get(c, c) for c in text)


def bigrams(folded: str) -> set[str]:
    """Padded bigrams (`^A`, `AB`, ..., `Z$`): every text, even one character long, has some."""
    padded = f"^{folded}$"
    return {padded[i : i + 2] for i in range(len(padded) - 1)}


def min_shared_bigrams(query_folded: str, distance: float) -> int:
    """Distinct bigrams of the query a text within `distance` must share (at most 0: any text may match).

    Folded, only whole edits remain (confusions cost nothing there), at most `int(distance)` of them.
    """
    return len(bigrams(query_folded)) - 2 * int(distance)


def substitution_cost(a: str, b: str) -> float:
    if a == b:
        return 0.0
    return CONFUSION_COST if _FOLD.get(a, a) == _FOLD.get(b, b) else 1.0


def distance(a: str, b: str) -> float:
    """Weighted edit distance between two normalised plate texts."""
    previous = [float(j) for j in range(len(b) + 1)]
    for i, ca in enumerate(a, 1):
        current = [float(i)]
        for j, cb in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + substitution_cost(ca, cb)))
        previous = current
    return previous[-1]
