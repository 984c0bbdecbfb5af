"""Render synthetic plates of the supported styles with real fonts.

Styles: Chinese blue (7 characters) and green new-energy (8) plates with every province
character, Brazilian Mercosur and older grey plates, and US-like plates. The shared CCPD
crops are nearly all from one province: these plates are how the others get learned.
Fonts come from Debian's packages: fonts-noto-cjk for the province characters and
fonts-dejavu-core's condensed bold as the narrow, DIN-like Latin face.

    python -m train.synth.plates OUT_DIR --count 200   # writes sample PNGs and labels.csv
"""
from __future__ import annotations

import argparse
import csv
from functools import lru_cache
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

from lpr_models.vocab import PROVINCES
from train.ocr_data import PlateSample

CJK_FONTS = ["/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc", "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
             "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"]
LATIN_FONTS = ["/usr/share/fonts/truetype/dejavu/DejaVuSansCondensed-Bold.ttf", "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"]
CN_LETTERS = "ABCDEFGHJKLMNPQRSTUVWXYZ"
CN_ALNUM = CN_LETTERS + "0123456789"
LATIN = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
DIGITS = "0123456789"
STYLES = ("cn_blue", "cn_green", "br_mercosur", "br_grey", "us")


class FontMissing(RuntimeError):
    pass


def _first_existing(paths: list[str], what: str, package: str) -> str:
    for path in paths:
        if Path(path).is_file():
            return path
    raise FontMissing(f"no {what} font found (tried {', '.join(paths)}); install Debian's {package}")


@lru_cache(maxsize=64)
def _font(kind: str, size: int) -> ImageFont.FreeTypeFont:
    path = _first_existing(CJK_FONTS, "CJK", "fonts-noto-cjk") if kind == "cjk" else _first_existing(LATIN_FONTS, "Latin", "fonts-dejavu-core")
    return ImageFont.truetype(path, size)


def random_text(style: str, rng: np.random.Generator) -> str:
    pick = lambda alphabet, n: "".join(alphabet[i] for i in rng.integers(0, len(alphabet), n))  # noqa: E731
    if style == "cn_blue":
        return PROVINCES[rng.integers(len(PROVINCES))] + pick(CN_LETTERS, 1) + pick(CN_ALNUM, 5)
    if style == "cn_green":
        return PROVINCES[rng.integers(len(PROVINCES))] + pick(CN_LETTERS, 1) + pick("DF", 1) + pick(CN_ALNUM, 1) + pick(DIGITS, 4)
    if style == "br_mercosur":
        return pick(LATIN, 3) + pick(DIGITS, 1) + pick(LATIN, 1) + pick(DIGITS, 2)
    if style == "br_grey":
        return pick(LATIN, 3) + pick(DIGITS, 4)
    return pick(LATIN + DIGITS, int(rng.integers(5, 8)))


def _draw_chars(draw: ImageDraw.ImageDraw, text: str, box: tuple[int, int, int, int], colour, gap_after: int | None,
                rng: np.random.Generator) -> None:
    """Evenly spaced characters filling `box`, each squeezed to its slot (plates use narrow glyphs)."""
    x0, y0, x1, y1 = box
    slots = len(text) + (0.6 if gap_after is not None else 0)
    slot = (x1 - x0) / slots
    x = x0
    for i, ch in enumerate(text):
        font = _font("cjk" if ch in PROVINCES else "latin", int((y1 - y0) * 1.15))
        glyph = Image.new("L", (int(font.size * 1.3), int(font.size * 1.4)), 0)
        ImageDraw.Draw(glyph).text((glyph.width // 2, glyph.height // 2), ch, font=font, fill=255, anchor="mm")
        bbox = glyph.getbbox() or (0, 0, 1, 1)
        glyph = glyph.crop(bbox).resize((max(1, int(slot * rng.uniform(0.72, 0.86))), y1 - y0))
        draw.bitmap((int(x + (slot - glyph.width) / 2), y0), glyph, fill=colour)
        x += slot * (1.6 if gap_after is not None and i == gap_after else 1)


def render_plate(style: str, text: str, rng: np.random.Generator, height: int = 96) -> np.ndarray:
    """A clean, frontal plate image (BGR) of `style` showing `text`."""
    if style.startswith("cn"):
        width = int(height * 440 / 140)
    elif style.startswith("br"):
        width = int(height * 400 / 130)
    else:
        width = int(height * 2.0)
    jitter = lambda c: tuple(int(np.clip(v + rng.integers(-25, 26), 0, 255)) for v in c)  # noqa: E731
    if style == "cn_blue":
        bg, fg, band = jitter((20, 70, 190)), jitter((240, 240, 240)), None
    elif style == "cn_green":
        bg, fg, band = jitter((160, 225, 170)), jitter((15, 15, 15)), None
    elif style == "br_mercosur":
        bg, fg, band = jitter((238, 238, 238)), jitter((20, 20, 20)), jitter((20, 60, 160))
    elif style == "br_grey":
        bg, fg, band = jitter((175, 175, 175)), jitter((25, 25, 25)), None
    else:
        bg, fg, band = jitter((235, 235, 230)), jitter(tuple(int(v) for v in rng.choice([(20, 20, 120), (120, 20, 20), (20, 20, 20)]))), None
    image = Image.new("RGB", (width, height), bg)
    draw = ImageDraw.Draw(image)
    border = max(2, height // 24)
    draw.rectangle((border, border, width - border - 1, height - border - 1), outline=fg if style.startswith("cn") else (60, 60, 60), width=max(1, border // 2))
    top = int(height * 0.14)
    if band is not None:
        draw.rectangle((0, 0, width, int(height * 0.24)), fill=band)
        small = _font("latin", int(height * 0.15))
        draw.text((width // 2, int(height * 0.12)), "BRASIL", font=small, fill=(240, 240, 240), anchor="mm")
        top = int(height * 0.3)
    if style == "us":
        small = _font("latin", int(height * 0.16))
        draw.text((width // 2, int(height * 0.11)), ["TEXAS", "OHIO", "UTAH", "IOWA", "MAINE"][rng.integers(5)], font=small, fill=fg, anchor="mm")
        top = int(height * 0.26)
    bottom = height - int(height * (0.12 if band is None and style != "us" else 0.1))
    gap = 1 if style == "cn_blue" else None
    _draw_chars(draw, text, (int(width * 0.04), top, int(width * 0.96), bottom), fg, gap, rng)
    if style == "cn_blue":
        cx = int(width * 0.04 + (width * 0.92) / 7.6 * 2.3)
        draw.ellipse((cx - border, height // 2 - border, cx + border, height // 2 + border), fill=fg)
    return cv2.cvtColor(np.asarray(image), cv2.COLOR_RGB2BGR)


def place_in_scene(plate: np.ndarray, rng: np.random.Generator, margin: float = 0.35) -> tuple[np.ndarray, np.ndarray]:
    """Warp the plate in perspective onto a random background; returns the scene and the plate's corners."""
    h, w = plate.shape[:2]
    W, H = int(w * (1 + 2 * margin)), int(h * (1 + 2 * margin))
    scene = np.clip(rng.normal(rng.uniform(40, 200), rng.uniform(5, 40), (H, W, 3)), 0, 255).astype(np.uint8)
    scene = cv2.GaussianBlur(scene, (7, 7), 0)
    x0, y0 = w * margin, h * margin
    rect = np.array([[x0, y0], [x0 + w, y0], [x0 + w, y0 + h], [x0, y0 + h]], np.float32)
    corners = (rect + rng.uniform(-0.12, 0.12, (4, 2)) * [w, h]).astype(np.float32)
    src = np.array([[0, 0], [w, 0], [w, h], [0, h]], np.float32)
    warped = cv2.warpPerspective(plate, cv2.getPerspectiveTransform(src, corners), (W, H))
    mask = cv2.warpPerspective(np.full((h, w), 255, np.uint8), cv2.getPerspectiveTransform(src, corners), (W, H))
    scene[mask > 0] = warped[mask > 0]
    return scene, corners


def synthetic_samples(count: int, seed: int = 0, styles: tuple[str, ...] = STYLES,
                      weights: tuple[float, ...] | None = None) -> list[PlateSample]:
    """`count` plates in random styles, each as a scene with its labelled corners."""
    rng = np.random.default_rng(seed)
    probs = np.array(weights or [0.45, 0.15, 0.15, 0.1, 0.15][: len(styles)], float)
    samples = []
    for _ in range(count):
        style = styles[rng.choice(len(styles), p=probs / probs.sum())]
        text = random_text(style, rng)
        scene, corners = place_in_scene(render_plate(style, text, rng), rng)
        samples.append(PlateSample(scene, corners, text, f"synth_{style}"))
    return samples


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("out", type=Path)
    parser.add_argument("--count", type=int, default=100)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    (args.out / "images").mkdir(parents=True, exist_ok=True)
    with (args.out / "labels.csv").open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["file", "text", "style"])
        for i, sample in enumerate(synthetic_samples(args.count, args.seed)):
            name = f"images/synth-{i:05d}.png"
            cv2.imwrite(str(args.out / name), sample.image)
            writer.writerow([name, sample.text, sample.source.removeprefix("synth_")])
    print(f"wrote {args.count} plates to {args.out}")


if __name__ == "__main__":
    main()
