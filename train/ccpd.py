"""CCPD file-name labels: box, 4 corners and plate text are encoded in the name.

`<area>-<hTilt>_<vTilt>-<x1>&<y1>_<x2>&<y2>-<4 corners>-<7+ char indices>-<brightness>-<blur>.jpg`
Corners are listed from the bottom-right, clockwise; we return them TL, TR, BR, BL.
The same parser reads CCPD2019 (7 characters) and CCPD2020 green plates (8 characters).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

PROVINCES = list("皖沪津渝冀晋蒙辽吉黑苏浙京闽赣鲁豫鄂湘粤桂琼川贵云藏陕甘青宁新警学") + ["O"]
LETTERS = list("ABCDEFGHJKLMNPQRSTUVWXYZ") + ["O"]
ALNUM = list("ABCDEFGHJKLMNPQRSTUVWXYZ0123456789") + ["O"]
IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp"}


@dataclass(frozen=True)
class CcpdLabel:
    """One plate as labelled by a CCPD file name."""

    box: np.ndarray  # (4,) x1, y1, x2, y2
    corners: np.ndarray  # (4, 2) TL, TR, BR, BL
    text: str


def parse_ccpd_name(name: str) -> CcpdLabel:
    """Parse a CCPD file name (with or without folders); ValueError if it is not one."""
    stem = Path(name).stem
    fields = stem.split("-")
    if len(fields) < 7:
        raise ValueError(f"not a CCPD file name (expected 7 '-' fields): {name!r}")
    try:
        (x1, y1), (x2, y2) = (tuple(int(v) for v in p.split("&")) for p in fields[2].split("_"))
        pts = [tuple(int(v) for v in p.split("&")) for p in fields[3].split("_")]
        indices = [int(v) for v in fields[4].split("_")]
    except ValueError:
        raise ValueError(f"not a CCPD file name (bad numbers): {name!r}") from None
    if len(pts) != 4 or any(len(p) != 2 for p in pts) or len(indices) < 7:
        raise ValueError(f"not a CCPD file name (need 4 corners and 7+ characters): {name!r}")
    if x2 <= x1 or y2 <= y1:
        raise ValueError(f"CCPD file name has an empty box: {name!r}")
    try:
        chars = [PROVINCES[indices[0]], LETTERS[indices[1]]] + [ALNUM[i] for i in indices[2:]]
    except IndexError:
        raise ValueError(f"CCPD file name has a character index out of range: {name!r}") from None
    text = "".join(c for c in chars if c != "O")
    br, bl, tl, tr = pts
    corners = np.array([tl, tr, br, bl], dtype=np.float32)
    return CcpdLabel(np.array([x1, y1, x2, y2], dtype=np.float32), corners, text)


def list_ccpd_images(folder: str | Path) -> list[Path]:
    """CCPD-named images under `folder` (recursively, so full CCPD subset folders work), sorted."""
    root = Path(folder)
    if not root.is_dir():
        raise FileNotFoundError(f"CCPD folder not found: {root}")
    return sorted(p for p in root.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES)
