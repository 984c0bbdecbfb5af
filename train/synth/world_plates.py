"""Plates from outside China, rendered with plate fonts: EU countries (with the blue band; one row, and
two on square motorbike plates), UK, Brazil (Mercosur and grey), US and Vietnam (one and two rows).

Texts come from the format table (lpr_models/plate_formats.toml), so every rendered plate fits
a format the reader knows; US plates, which have no table entry, get 5-7 mixed characters.
Fonts are read from `../shared/plate_art/` (see its README for their licences), never shipped.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont

from lpr_models.formats import PlateFormat, grouped, random_text, region_formats
from lpr_models.vocab import DIGITS, LATIN

FONTS = {
    "eu": [
        "eu_de_drorgl_fonts_plates/fonts/GL-Nummernschild-Mtl.ttf",
        "eu_de_drorgl_fonts_plates/fonts/FE-FONT.TTF",
        "eu_de_drorgl_fonts_plates/fonts/EuroPlate.ttf",
        # outside Germany plates use narrower DIN-like faces (Czech, Slovak, Croatian, Polish): without one, the
        # reader learnt the German FE shapes only and misread clean Czech crops (5B11181 as 5B13383)
        "eu_de_drorgl_fonts_plates/fonts/din1451alt.ttf",
    ],
    "uk": ["uk_tocharian_uknumberplate/public/fonts/UKNumberPlate.ttf"],
    "br": ["br_mercosul_luancesar/assets/fonts/FE-Schrift.TTF", "eu_de_drorgl_fonts_plates/fonts/din1451alt.ttf"],
    # US states each use their own face: the licence-plate font and, for the variety, the DIN and FE-like ones
    "us": [
        "us_smuecke_licenseplate/fonts/LicensePlate.ttf",
        "eu_de_drorgl_fonts_plates/fonts/din1451alt.ttf",
        "eu_de_drorgl_fonts_plates/fonts/GL-Nummernschild-Eng.ttf",
    ],
    "vn": [
        "eu_de_drorgl_fonts_plates/fonts/din1451alt.ttf",
        "eu_de_drorgl_fonts_plates/fonts/GL-Nummernschild-Eng.ttf",
    ],
}
MERCOSUR_BLANK = "br_mercosul_luancesar/assets/placa_mercosul.png"
WORLD_STYLES = ("eu", "uk", "br", "us", "vn")
US_STATES = ["TEXAS", "OHIO", "UTAH", "IOWA", "MAINE", "CALIFORNIA", "FLORIDA", "NEW YORK", "ARIZONA", "OREGON"]
US_SLOGANS = ["VACATIONLAND", "LIVE FREE OR DIE", "THE EMPIRE STATE", "LAND OF LINCOLN", "GREEN MOUNTAIN STATE"]
US_INKS = [(25, 40, 120), (130, 20, 20), (20, 20, 20), (20, 80, 30)]
# Shares of US plates printed light on a dark ground (Indiana's navy, Vermont's green) and dark on yellow (New Mexico,
# Wyoming's old plates); the rest are dark on a light, often painted, ground. Rendered dark on light only, the reader
# missed 8 clean light-on-dark plates of the 120 US validation crops (`858GAB` read `899GAB`, `BRRRR` `8RRRR`).
US_DARK_SHARE = 0.25
US_YELLOW_SHARE = 0.1
# Share of US plates printed light on a saturated mid-tone ground (New Mexico's yellow on turquoise): the shipped
# reader misread both such validation plates (`LJM367` read `LJM341`), one of them read right with its colours
# inverted; every rendered light-on-dark ground had been dark.
US_MIDTONE_SHARE = 0.1
# How much brighter (BT.601 luma, 0-255) a mid-tone plate's light ink is than its ground at least. Drawn without a
# bound, one mid-tone plate in five came out yellow on yellow-green or orange, hardly legible even before the
# scene's shading: plates no state issues, which taught the reader to guess and held rendered US plates below reach.
MIDTONE_INK_CONTRAST = 70
# Share of US plates with two or three small characters stacked at one end (a county or a plate type: `NG` before
# `00617`, `LR` after `0594`); the registration includes them, in reading order. None rendered, the reader read none
# of the 5 US validation plates that have them.
US_STACK_SHARE = 0.15
# Shares of US plates with an emblem between the groups of characters (a state's sun, a horse, a peach, a team's
# logo) and at the left end instead (a wheelchair, a university's logo), nearly as tall as the characters. Drawn
# until now as a small polygon in a 32-px gap, such emblems were on 9 of the 32 US validation plates the reader
# missed (New Mexico's Zia: `LMB203` read `30190`; Wyoming's horse: `4475` read as nothing).
US_EMBLEM_SHARE = 0.3
US_END_EMBLEM_SHARE = 0.15
# Share of EU plates rendered square, in two rows, as on motorbikes (and Croatian or Spanish square car plates).
# At 0.25, two-row plates were 4 of the 6 EU plates pasted into the CCPD validation photos that went unread.
EU_TWO_ROW_SHARE = 0.35
# Share of Spanish plates rendered white on red, as temporary and trade plates are. Never shown a red EU plate (only
# the old red Brazilian ones), the reader took the red UC3M plate `-111LS-` (white text on a dark plate, a letter at
# its left) for a Chinese embassy plate, or came within a few points of it (0.27-0.61 Chinese, 0.5 reads a province)
# as training went on.
ES_RED_SHARE = 0.5
# Share of plates (EU, old Brazilian, US, Vietnamese) whose glyphs are drawn narrower than their font and spread
# over the plate, and how much narrower. Real faces are often narrower than these fonts, with wider gaps (Vietnamese,
# Czech, many US states): a reader trained on the fonts' own widths read 46 of 46 rendered 9-character one-row
# Vietnamese plates but 3 of 46 drawn at 0.7 of the width, as it misread the real 50LD-044.11 (EU 94% -> 60%, US 93% ->
# 81%). Of the room left over on such a plate, SPREAD_GAPS goes between the glyphs (each gap at most MAX_GAP of the
# text's height) and the rest to the margins.
CONDENSED_SHARE = 0.35
CONDENSED_WIDTH = (0.6, 0.9)
SPREAD_GAPS = 0.6
MAX_GAP = 0.2
# old grey Brazilian plates carry the owner's state and town above the text; the colour tells the use
BR_OLD_COLOURS = [((185, 185, 185), (25, 25, 25)), ((170, 30, 30), (240, 240, 240)), ((235, 235, 235), (25, 25, 25))]


@dataclass(frozen=True)
class WorldPlate:
    image: np.ndarray  # BGR, frontal
    text: str
    region: str
    rows: int


@lru_cache(maxsize=64)
def _font(art: Path, relpath: str, size: int) -> ImageFont.FreeTypeFont:
    path = art / relpath
    if not path.is_file():
        raise FileNotFoundError(f"no plate font {path}")
    return ImageFont.truetype(str(path), size)


def _text_line(
    draw: ImageDraw.ImageDraw,
    text: str,
    box: tuple[int, int, int, int],
    font_path: str,
    art: Path,
    fill: tuple[int, int, int],
    width: float = 1.0,
) -> None:
    """`text` centred in `box`, as tall as the box and squeezed to its width when too wide. With `width` < 1 each
    glyph is drawn at that share of its font's width and the glyphs are spread over the box (`_spread_line`)."""
    x1, y1, x2, y2 = box
    font = _font(art, font_path, max(8, int((y2 - y1) * 1.25)))
    layer = _ink(text, font)
    bbox = layer.getbbox()
    if bbox is None:
        return
    if width < 1:
        _spread_line(draw, text, box, font, (bbox[1], bbox[3]), fill, width)
        return
    layer = layer.crop(bbox)
    fitted = min(x2 - x1, int(layer.width * (y2 - y1) / layer.height))
    layer = layer.resize((max(1, fitted), y2 - y1))
    draw.bitmap((x1 + (x2 - x1 - fitted) // 2, y1), layer, fill=fill)


def _ink(text: str, font: ImageFont.FreeTypeFont) -> Image.Image:
    """`text` in white on black, drawn from the same origin whatever the text, so that a glyph cut from the rows of
    its whole line keeps its height on that line."""
    layer = Image.new("L", (int(font.size * (len(text) + 2)), int(font.size * 1.6)), 0)
    ImageDraw.Draw(layer).text((font.size // 2, font.size // 5), text, font=font, fill=255)
    return layer


def _spread_line(
    draw: ImageDraw.ImageDraw,
    text: str,
    box: tuple[int, int, int, int],
    font: ImageFont.FreeTypeFont,
    rows: tuple[int, int],
    fill: tuple[int, int, int],
    width: float,
) -> None:
    """Glyph by glyph: each cut from the line's rows (so a dot stays low and a dash in the middle), drawn at `width`
    of its scaled width, the glyphs spread over the box with even gaps (a share of the room left over, at most
    MAX_GAP of the height: a short text stays together)."""
    x1, y1, x2, y2 = box
    scale = (y2 - y1) / (rows[1] - rows[0])
    glyphs: list[Image.Image | None] = []
    for char in text:
        layer = _ink(char, font)
        bbox = layer.getbbox()
        glyphs.append(layer.crop((bbox[0], rows[0], bbox[2], rows[1])) if bbox else None)
    widths = [(g.width if g else font.getlength(char)) * scale * width for g, char in zip(glyphs, text)]
    squeeze = min(1.0, (x2 - x1) / sum(widths))
    widths = [w * squeeze for w in widths]
    gap = min((x2 - x1 - sum(widths)) * SPREAD_GAPS / max(1, len(text) - 1), MAX_GAP * (y2 - y1))
    x = x1 + (x2 - x1 - sum(widths) - gap * (len(text) - 1)) / 2
    for glyph, w in zip(glyphs, widths):
        if glyph is not None:
            draw.bitmap((round(x), y1), glyph.resize((max(1, round(w)), y2 - y1)), fill=fill)
        x += w + gap


def glyph_width(rng: np.random.Generator) -> float:
    """How wide a plate's glyphs are drawn, as a share of their font's width: narrower on CONDENSED_SHARE of plates."""
    return float(rng.uniform(*CONDENSED_WIDTH)) if rng.random() < CONDENSED_SHARE else 1.0


def _blank(size: tuple[int, int], colour: tuple[int, int, int], border: tuple[int, int, int] | None) -> Image.Image:
    image = Image.new("RGB", size, colour)
    if border is not None:
        w, h = size
        ImageDraw.Draw(image).rounded_rectangle(
            (2, 2, w - 3, h - 3), radius=h // 12, outline=border, width=max(2, h // 30)
        )
    return image


def _choose(formats: tuple[PlateFormat, ...], rng: np.random.Generator) -> PlateFormat:
    return formats[rng.integers(len(formats))]


def row_split(groups: tuple[int, ...]) -> int:
    """Characters on the upper row of a two-row plate whose text has these groups (at least two): the group
    boundary that halves it most evenly, on a tie the shorter row on top (Czech 1A2 / 3456, Spanish 1234 / BCD,
    Croatian ZG / 123AB)."""
    total = sum(groups)
    return min(itertools.accumulate(groups[:-1]), key=lambda start: abs(2 * start - total))  # first of a tie


def _render_eu_two_rows(fmt: PlateFormat, text: str, art: Path, rng: np.random.Generator) -> WorldPlate:
    image = _blank((280, 200), (245, 245, 245), (20, 20, 20))
    draw = ImageDraw.Draw(image)
    draw.rectangle((6, 6, 40, 193), fill=(0, 51, 153))
    _text_line(draw, fmt.band or "EU", (9, 150, 37, 176), FONTS["eu"][0], art, (255, 255, 255))
    font = FONTS["eu"][rng.integers(len(FONTS["eu"]))]
    groups = grouped(fmt, text).split(" ")
    top = row_split(fmt.groups)
    upper = [g for i, g in enumerate(groups) if sum(fmt.groups[:i]) < top]
    width = glyph_width(rng)
    _text_line(draw, " ".join(upper), (52, 16, 268, 92), font, art, (15, 15, 15), width)
    _text_line(draw, " ".join(groups[len(upper) :]), (52, 108, 268, 184), font, art, (15, 15, 15), width)
    return WorldPlate(_bgr(image), text, "eu", 2)


def _render_es_red(fmt: PlateFormat, text: str, art: Path, rng: np.random.Generator) -> WorldPlate:
    red = tuple(int(c) for c in rng.integers((150, 10, 10), (215, 50, 50)))
    image = _blank((520, 110), red, (240, 240, 240))
    draw = ImageDraw.Draw(image)
    _text_line(draw, "E", (14, 70, 34, 94), FONTS["eu"][0], art, (240, 240, 240))
    font = FONTS["eu"][rng.integers(len(FONTS["eu"]))]
    _text_line(draw, grouped(fmt, text), (62, 14, 508, 96), font, art, (240, 240, 240), glyph_width(rng))
    return WorldPlate(_bgr(image), text, "eu", 1)


def render_eu(art: Path, rng: np.random.Generator) -> WorldPlate:
    fmt = _choose(region_formats("eu"), rng)
    text = random_text(fmt, rng)
    if len(fmt.groups) > 1 and rng.random() < EU_TWO_ROW_SHARE:  # a plate in one group stays in one row
        return _render_eu_two_rows(fmt, text, art, rng)
    if fmt.band == "E" and rng.random() < ES_RED_SHARE:
        return _render_es_red(fmt, text, art, rng)
    yellow = fmt.band == "NL" and rng.random() < 0.7
    image = _blank((520, 110), (245, 200, 30) if yellow else (245, 245, 245), (20, 20, 20))
    draw = ImageDraw.Draw(image)
    draw.rectangle((6, 6, 50, 103), fill=(0, 51, 153))
    for k in range(12):  # the ring of stars, as dots
        angle = 2 * np.pi * k / 12
        cx, cy = 28 + 12 * np.cos(angle), 32 + 12 * np.sin(angle)
        draw.ellipse((cx - 2, cy - 2, cx + 2, cy + 2), fill=(255, 204, 0))
    _text_line(draw, fmt.band or "EU", (10, 62, 46, 94), FONTS["eu"][0], art, (255, 255, 255))
    font = FONTS["eu"][rng.integers(len(FONTS["eu"]))]
    grouped_text = grouped(fmt, text, " " if fmt.band != "FR" else "-")
    _text_line(draw, grouped_text, (62, 14, 508, 96), font, art, (15, 15, 15), glyph_width(rng))
    return WorldPlate(_bgr(image), text, "eu", 1)


def render_uk(art: Path, rng: np.random.Generator) -> WorldPlate:
    fmt = _choose(region_formats("uk"), rng)
    text = random_text(fmt, rng)
    rear = rng.random() < 0.5
    image = _blank((520, 111), (250, 205, 0) if rear else (245, 245, 245), (20, 20, 20))
    draw = ImageDraw.Draw(image)
    left = 14
    if rng.random() < 0.4:
        draw.rectangle((6, 6, 50, 104), fill=(0, 51, 153))
        _text_line(draw, "UK" if rng.random() < 0.5 else "GB", (10, 64, 46, 94), FONTS["eu"][0], art, (255, 255, 255))
        left = 60
    _text_line(draw, grouped(fmt, text), (left, 18, 508, 94), FONTS["uk"][0], art, (10, 10, 10))
    return WorldPlate(_bgr(image), text, "uk", 1)


def render_br(art: Path, rng: np.random.Generator) -> WorldPlate:
    fmt = _choose(region_formats("br"), rng)
    text = random_text(fmt, rng)
    mercosur = fmt.pattern == "LLL DLDD" or rng.random() < 0.4
    if mercosur:
        image = Image.open(art / MERCOSUR_BLANK).convert("RGB").resize((400, 130))
        draw = ImageDraw.Draw(image)
        _text_line(draw, text, (44, 42, 384, 118), FONTS["br"][0], art, (15, 15, 15))
    else:  # grey (private), red with white letters (commercial) or white (official)
        background, ink = BR_OLD_COLOURS[rng.choice(len(BR_OLD_COLOURS), p=[0.6, 0.3, 0.1])]
        image = _blank((400, 130), background, (40, 40, 40))
        draw = ImageDraw.Draw(image)
        town = "".join(LATIN[i] for i in rng.integers(0, len(LATIN), int(rng.integers(4, 10))))
        state = LATIN[rng.integers(len(LATIN))] + LATIN[rng.integers(len(LATIN))]
        _text_line(
            draw,
            f"{state}-{town}",
            (110, 8, 290, 30),
            FONTS["br"][1],
            art,
            ink,
        )
        _text_line(draw, grouped(fmt, text, "-"), (18, 38, 382, 118), FONTS["br"][1], art, ink, glyph_width(rng))
    return WorldPlate(_bgr(image), text, "br", 1)


def _painted(size: tuple[int, int], rng: np.random.Generator, ground: tuple[int, int] = (170, 256)) -> Image.Image:
    """A US-style background: a gradient between two colours whose channels lie in `ground` (pale by default), with
    a few soft shapes over it (the scenery, birds and emblems printed on many state plates)."""
    w, h = size
    top, bottom = rng.integers(*ground, 3), rng.integers(*ground, 3)
    ramp = np.linspace(0, 1, h)[:, None, None]
    pixels = (top * (1 - ramp) + bottom * ramp).repeat(w, axis=1)
    image = Image.fromarray(pixels.astype(np.uint8), "RGB")
    draw = ImageDraw.Draw(image)
    shapes = (max(0, ground[0] - 110), min(256, ground[1] + 40))
    for _ in range(int(rng.integers(0, 4))):
        x, y, r = int(rng.integers(0, w)), int(rng.integers(0, h)), int(rng.integers(h // 8, h // 2))
        colour = tuple(int(c) for c in rng.integers(*shapes, 3))
        draw.ellipse((x - r, y - r // 2, x + r, y + r // 2), fill=colour)
    return image.filter(ImageFilter.GaussianBlur(radius=float(rng.uniform(1, 6))))


def luma(colour: tuple[int, ...] | np.ndarray) -> float:
    """An RGB colour's brightness as the eye sees it (BT.601)."""
    return 0.299 * colour[0] + 0.587 * colour[1] + 0.114 * colour[2]


def _midtone(rng: np.random.Generator, ink: tuple[int, int, int]) -> tuple[int, int, int]:
    """A saturated colour whose channels average 110-135 (turquoise, teal, red, purple...), dark enough under the
    light `ink` to be read (MIDTONE_INK_CONTRAST)."""
    while True:
        colour = rng.integers(0, 256, 3)
        if (
            110 <= colour.mean() <= 135
            and colour.max() - colour.min() >= 90
            and luma(ink) - luma(colour) >= MIDTONE_INK_CONTRAST
        ):
            return tuple(int(c) for c in colour)


def _us_colours(rng: np.random.Generator) -> tuple[Image.Image, tuple[int, int, int]]:
    """A US plate's ground and ink: dark on light mostly, light on dark (US_DARK_SHARE), dark on yellow
    (US_YELLOW_SHARE) or light on a mid-tone colour (US_MIDTONE_SHARE)."""
    size, pick = (300, 150), rng.random()
    if pick < US_DARK_SHARE:
        return _painted(size, rng, (10, 100)), tuple(int(c) for c in rng.integers(205, 256, 3))
    ink = US_INKS[rng.integers(len(US_INKS))]
    if pick < US_DARK_SHARE + US_YELLOW_SHARE:
        yellow = (int(rng.integers(220, 256)), int(rng.integers(140, 225)), int(rng.integers(0, 80)))
        return _blank(size, yellow, None), ink
    if pick < US_DARK_SHARE + US_YELLOW_SHARE + US_MIDTONE_SHARE:  # yellow or near-white ink
        light = (255, int(rng.integers(205, 245)), int(rng.integers(0, 60))) if rng.random() < 0.6 else (245, 245, 240)
        return _blank(size, _midtone(rng, light), None), light
    if pick < US_DARK_SHARE + US_YELLOW_SHARE + US_MIDTONE_SHARE + 0.4:
        return _painted(size, rng), ink
    return _blank(size, (235, 235, 228), None), ink


def render_us(art: Path, rng: np.random.Generator) -> WorldPlate:
    font = FONTS["us"][int(rng.choice(len(FONTS["us"]), p=[0.5, 0.25, 0.25]))]
    alphabet, width = LATIN + DIGITS, glyph_width(rng)
    # The licence-plate font draws O and 0 alike (2% of their pixels differ); the others tell them apart by width
    # alone, which a narrower face takes away (a free US text has no letter and digit groups to tell them by).
    if font == FONTS["us"][0] or width < 1:
        alphabet = alphabet.replace("O", "")
    text = "".join(alphabet[i] for i in rng.integers(0, len(alphabet), int(rng.integers(5, 8))))
    image, ink = _us_colours(rng)
    draw = ImageDraw.Draw(image)
    draw.rounded_rectangle((2, 2, 297, 147), radius=12, outline=(90, 90, 90), width=5)
    _text_line(draw, US_STATES[rng.integers(len(US_STATES))], (40, 10, 260, 34), FONTS["eu"][0], art, ink)
    if rng.random() < 0.4:
        _text_line(draw, US_SLOGANS[rng.integers(len(US_SLOGANS))], (60, 128, 240, 144), FONTS["eu"][0], art, ink)
    left, right = 16, 284
    label = text
    if rng.random() < US_STACK_SHARE:  # two or three small characters stacked at one end, read top to bottom there
        stack = "".join(alphabet[i] for i in rng.integers(0, len(alphabet), int(rng.integers(2, 4))))
        at_left = rng.random() < 0.6
        x = left if at_left else right - 24
        step = (124 - 42) / len(stack)
        for k, character in enumerate(stack):
            _text_line(draw, character, (x, int(42 + k * step), x + 24, int(42 + (k + 1) * step) - 3), font, art, ink)
        left, right = (left + 32, right) if at_left else (left, right - 32)
        label = stack + text if at_left else text + stack
    size = int(rng.uniform(0.6, 1.0) * 82)  # an emblem's height: most are nearly as tall as the characters
    emblem_at = rng.random()
    if emblem_at < US_END_EMBLEM_SHARE and label == text:  # at the left end, where no stack stands
        _emblem(draw, (left, 83 - size // 2, left + size, 83 + size // 2), rng)
        left += size + 6
    split = int(rng.integers(2, len(text) - 1))
    if US_END_EMBLEM_SHARE <= emblem_at < US_END_EMBLEM_SHARE + US_EMBLEM_SHARE:  # between the groups: no character
        gap = size + 8
        step = (right - left - gap) / len(text)  # the same width per character on both sides of the emblem
        middle = int(left + split * step)
        _text_line(draw, text[:split], (left, 42, middle, 124), font, art, ink, width)
        _text_line(draw, text[split:], (middle + gap, 42, right, 124), font, art, ink, width)
        _emblem(draw, (middle + 4, 83 - size // 2, middle + 4 + size, 83 + size // 2), rng)
    else:
        _text_line(draw, text, (left, 42, right, 124), font, art, ink, width)
    return WorldPlate(_bgr(image), label, "us", 1)


def _emblem(draw: ImageDraw.ImageDraw, box: tuple[int, int, int, int], rng: np.random.Generator) -> None:
    """A plate's emblem filling `box`, in one or two colours: a rayed sun (New Mexico's Zia), a silhouette (a random
    star-shaped outline: a horse, a peach, a state) or a badge (a disc or a rounded square with a mark inside)."""
    x1, y1, x2, y2 = box
    cx, cy, r = (x1 + x2) / 2, (y1 + y2) / 2, min(x2 - x1, y2 - y1) / 2
    first, second = (tuple(int(c) for c in rng.integers(0, 256, 3)) for _ in range(2))
    kind = int(rng.integers(3))
    if kind == 0:
        rays = int(rng.integers(4, 17))
        for k in range(rays):
            angle = 2 * np.pi * k / rays
            ends = [(cx + f * r * np.cos(angle), cy + f * r * np.sin(angle)) for f in (0.45, 1.0)]
            draw.line(ends, fill=first, width=max(2, int(r / 6)))
        draw.ellipse((cx - r * 0.45, cy - r * 0.45, cx + r * 0.45, cy + r * 0.45), fill=second)
    elif kind == 1:
        angles = np.sort(rng.uniform(0, 2 * np.pi, int(rng.integers(7, 15))))
        radii = rng.uniform(0.35, 1.0, len(angles)) * r
        draw.polygon([(cx + a * np.cos(t), cy + a * np.sin(t)) for t, a in zip(angles, radii)], fill=first)
    else:
        if rng.random() < 0.5:
            draw.ellipse((cx - r, cy - r, cx + r, cy + r), fill=first)
        else:
            draw.rounded_rectangle((cx - r, cy - r, cx + r, cy + r), radius=int(r / 4), fill=first)
        draw.regular_polygon((cx, cy, r * 0.55), int(rng.integers(3, 9)), fill=second)


def vn_rows(series: str, rng: np.random.Generator) -> int:
    """Rows of a Vietnamese plate with this series (the upper group): a motorbike's series ends in a digit
    (29-X1, 29-MD1) and its plate has two rows; a car's has one, or two on a square plate (half of them here)."""
    return 2 if series[-1].isdigit() or rng.random() < 0.5 else 1


def render_vn(art: Path, rng: np.random.Generator) -> WorldPlate:
    fmt = _choose(region_formats("vn"), rng)
    text = random_text(fmt, rng)
    font = FONTS["vn"][rng.integers(len(FONTS["vn"]))]
    background = (250, 200, 0) if rng.random() < 0.2 else (240, 240, 240)
    top, bottom = text[: fmt.groups[0]], text[fmt.groups[0] :]
    tail = bottom[:-2] + "." + bottom[-2:] if len(bottom) == 5 else bottom
    width = glyph_width(rng)
    if vn_rows(top, rng) == 2:
        image = _blank((280, 200), background, (20, 20, 20))
        draw = ImageDraw.Draw(image)
        _text_line(draw, top[:2] + "-" + top[2:], (20, 14, 260, 94), font, art, (15, 15, 15), width)
        _text_line(draw, tail, (20, 108, 260, 188), font, art, (15, 15, 15), width)
        return WorldPlate(_bgr(image), text, "vn", 2)
    image = _blank((520, 110), background, (20, 20, 20))
    _text_line(ImageDraw.Draw(image), f"{top}-{tail}", (16, 14, 504, 96), font, art, (15, 15, 15), width)
    return WorldPlate(_bgr(image), text, "vn", 1)


RENDERERS = {"eu": render_eu, "uk": render_uk, "br": render_br, "us": render_us, "vn": render_vn}


def render_world_plate(style: str, art: Path, rng: np.random.Generator) -> WorldPlate:
    """A random plate of `style` (one of WORLD_STYLES)."""
    return RENDERERS[style](art, rng)


def _bgr(image: Image.Image) -> np.ndarray:
    return cv2.cvtColor(np.asarray(image), cv2.COLOR_RGB2BGR)
