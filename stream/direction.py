"""Where a plate went in the image: its motion from the first to the last sighting, and counting lines.

A plate that grows on screen comes towards the camera (`approaching`), one that shrinks goes
away (`receding`); otherwise a sideways move names `left` or `right`, and a plate that barely
moved is `stationary`. A counting line (two points in frame pixels, `[[camera.line]]`) is
crossed `in` when the plate passes from the left of the line to its right, seen standing on
the first point looking towards the second, and `out` the other way.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

GROWTH = 1.25  # a plate this much wider (or narrower, 1 / GROWTH) at the end moved along the camera's axis
SIDEWAYS = 0.5  # a move of half the plate's width sideways counts as moving left or right


@dataclass(frozen=True)
class CountingLine:
    name: str
    points: tuple[tuple[float, float], tuple[float, float]]


def _width(box: np.ndarray) -> float:
    return max(float(box[2] - box[0]), 1e-6)


def _centre(box: np.ndarray) -> np.ndarray:
    return np.array([(box[0] + box[2]) / 2, (box[1] + box[3]) / 2], np.float64)


def motion_direction(first_box: np.ndarray, last_box: np.ndarray) -> str:
    """`approaching`, `receding`, `left`, `right` or `stationary` from two x1, y1, x2, y2 boxes."""
    growth = _width(last_box) / _width(first_box)
    if growth >= GROWTH:
        return "approaching"
    if growth <= 1 / GROWTH:
        return "receding"
    dx = float(_centre(last_box)[0] - _centre(first_box)[0])
    if abs(dx) >= SIDEWAYS * max(_width(first_box), _width(last_box)):
        return "right" if dx > 0 else "left"
    return "stationary"


def _side(line: CountingLine, point: np.ndarray) -> float:
    """Positive on the line's right (image coordinates: y grows downwards), negative on its left."""
    (ax, ay), (bx, by) = line.points
    return (bx - ax) * (point[1] - ay) - (by - ay) * (point[0] - ax)


def crossings(first_box: np.ndarray, last_box: np.ndarray, lines: tuple[CountingLine, ...]) -> list[dict]:
    """The lines the plate's centre crossed between the two boxes: [{"line": name, "direction": "in"|"out"}]."""
    start, end = _centre(first_box), _centre(last_box)
    out = []
    for line in lines:
        s0, s1 = _side(line, start), _side(line, end)
        if s0 == 0 or s1 == 0 or (s0 > 0) == (s1 > 0):
            continue
        # the path must pass between the line's two points, not beyond its ends
        a, b = (np.array(p, np.float64) for p in line.points)
        path = end - start
        t0, t1 = np.cross(path, a - start), np.cross(path, b - start)
        if (t0 > 0) == (t1 > 0) and t0 != 0 and t1 != 0:
            continue
        out.append({"line": line.name, "direction": "in" if s1 > 0 else "out"})
    return out
