"""Chinese plates of every type, drawn from plate-style glyph images on blank templates.

Layouts follow GA 36-2018: a single-row plate is 440x140 mm with 45x90 mm characters 12 mm
apart and a 34 mm gap (the dot) after the second; a new-energy plate is 480x140 mm with eight
characters (45 then 43 mm wide, 9 mm apart, 49 mm gap); a two-row plate is 440x220 mm with
the province and the letter above (80x60 mm) and five 65x110 mm characters below. One pixel
per millimetre here, so a layout box is the standard's own figure.

The glyphs and templates are `../shared/plate_art/cn_pengfei8324_glyphs_templates` (MIT):
read from the folder given, never shipped.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import cv2
import numpy as np

from lpr_models.formats import region_formats
from lpr_models.vocab import DIGITS, PROVINCES

GLYPH_SET = "cn_pengfei8324_glyphs_templates"
CN_LETTERS = region_formats("cn")[0].positions[1]  # the letter after the province, from the format table (no I, O)
CN_ALNUM = CN_LETTERS + DIGITS
WHITE, BLACK, RED = (255, 255, 255), (0, 0, 0), (0, 0, 230)  # BGR


@dataclass(frozen=True)
class CnType:
    """A plate type: its blank template, size in mm, layout, ink and how its texts look."""

    template: str
    size: tuple[int, int]  # width, height
    layout: str  # "single7", "single8" or "double"
    ink: tuple[int, int, int]
    rows: int = 1


CN_TYPES: dict[str, CnType] = {
    "blue": CnType("blue_140", (440, 140), "single7", WHITE),
    "yellow": CnType("yellow_140", (440, 140), "single7", BLACK),
    "yellow_2row": CnType("yellow_220", (440, 220), "double", BLACK, rows=2),
    "white_police": CnType("white_140", (440, 140), "single7", BLACK),
    "white_2row": CnType("white_220", (440, 220), "double", BLACK, rows=2),
    "black": CnType("black_140", (440, 140), "single7", WHITE),
    "embassy": CnType("black_shi_140", (440, 140), "single7", WHITE),
    "green_car": CnType("green_car_140", (480, 140), "single8", BLACK),
    "green_truck": CnType("green_truck_140", (480, 140), "single8", BLACK),
}


def _pick(alphabet: str, n: int, rng: np.random.Generator) -> str:
    return "".join(alphabet[i] for i in rng.integers(0, len(alphabet), n))


def random_cn_text(kind: str, rng: np.random.Generator) -> str:
    """A plausible text for plate type `kind`: province, letter, then the type's own pattern."""
    province = PROVINCES[rng.integers(len(PROVINCES))]
    head = province + _pick(CN_LETTERS, 1, rng)
    if kind == "green_car":  # small new-energy: D/F then a letter or digit, then 4 digits
        return head + _pick("DF", 1, rng) + _pick(CN_ALNUM, 1, rng) + _pick(DIGITS, 4, rng)
    if kind == "green_truck":  # large new-energy: 5 digits then D/F
        return head + _pick(DIGITS, 5, rng) + _pick("DF", 1, rng)
    if kind == "white_police":
        return head + _pick(CN_ALNUM, 4, rng) + "警"
    if kind == "black":  # cross-border cars: 粤Z....港/澳
        return "粤Z" + _pick(CN_ALNUM, 4, rng) + ("港" if rng.random() < 0.5 else "澳")
    if kind == "embassy":
        return "使" + _pick(DIGITS, 6, rng)
    if kind == "yellow" and rng.random() < 0.25:  # learner cars
        return head + _pick(CN_ALNUM, 4, rng) + "学"
    if kind == "yellow_2row" and rng.random() < 0.3:  # trailers
        return head + _pick(CN_ALNUM, 4, rng) + "挂"
    return head + _pick(CN_ALNUM, 5, rng)


def layout_boxes(layout: str, length: int) -> list[tuple[int, int, int, int]]:
    """Each character's box (x1, y1, x2, y2) in mm on the plate, in reading order."""
    if layout == "double":
        top = [(110, 15, 190, 75), (250, 15, 330, 75)]
        return top + [(27 + i * 80, 90, 27 + i * 80 + 65, 200) for i in range(length - 2)]
    wide = layout == "single8"
    step, gap = (9, 49) if wide else (12, 34)
    boxes, x = [], 15
    for i in range(length):
        width = 43 if wide and i > 0 else 45
        if i:
            x += gap if i == 2 else step
        boxes.append((x, 25, x + width, 115))
        x += width
    return boxes


@lru_cache(maxsize=512)
def _glyph(art: Path, name: str) -> np.ndarray:
    """A glyph's ink mask (uint8, 255 = ink); the files are dark ink on white."""
    path = art / GLYPH_SET / "font_model" / f"{name}.jpg"
    image = cv2.imdecode(np.fromfile(str(path), np.uint8), cv2.IMREAD_GRAYSCALE)
    if image is None:
        raise FileNotFoundError(f"no glyph image {path}")
    return 255 - image


@lru_cache(maxsize=16)
def _template(art: Path, name: str, size: tuple[int, int]) -> np.ndarray:
    path = art / GLYPH_SET / "plate_model" / f"{name}.PNG"
    image = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if image is None:
        raise FileNotFoundError(f"no plate template {path}")
    return cv2.resize(image, size, interpolation=cv2.INTER_AREA)


def glyph_name(kind: CnType, char: str, index: int) -> str:
    """The glyph file for `char` at `index`: the two-row set has upper/lower letter shapes."""
    if kind.layout == "single8":
        return f"green_{char}"
    if kind.layout == "double":
        if char in CN_LETTERS:
            return f"220_{'up' if index < 2 else 'down'}_{char}"
        return f"220_{char}"
    return f"140_{char}"


def _ink(kind_name: str, char: str, index: int, kind: CnType) -> tuple[int, int, int]:
    """Red for the police 警 and the diplomatic 使/领 marks, the type's ink otherwise."""
    if (kind_name == "white_police" and char == "警") or char in "使领":
        return RED
    return kind.ink


def render_cn_plate(kind_name: str, text: str, art: Path, rng: np.random.Generator | None = None) -> np.ndarray:
    """A clean, frontal plate (BGR, one pixel per mm) of type `kind_name` showing `text`."""
    kind = CN_TYPES[kind_name]
    plate = _template(art, kind.template, kind.size).copy()
    boxes = layout_boxes(kind.layout, len(text))
    for index, (char, (x1, y1, x2, y2)) in enumerate(zip(text, boxes)):
        mask = cv2.resize(_glyph(art, glyph_name(kind, char, index)), (x2 - x1, y2 - y1), interpolation=cv2.INTER_AREA)
        alpha = (mask.astype(np.float32) / 255.0)[..., None]
        region = plate[y1:y2, x1:x2].astype(np.float32)
        plate[y1:y2, x1:x2] = (
            region * (1 - alpha) + np.array(_ink(kind_name, char, index, kind), np.float32) * alpha
        ).astype(np.uint8)
    if rng is not None:
        plate = _wear(plate, rng)
    return plate


def _wear(plate: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Fading and uneven colour: real plates are years old."""
    faded = plate.astype(np.float32) * rng.uniform(0.8, 1.05) + rng.uniform(-15, 15, 3)
    return np.clip(faded, 0, 255).astype(np.uint8)
