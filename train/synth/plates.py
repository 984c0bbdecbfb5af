"""Synthetic plates of every supported type, composited into real photos.

Chinese plates of every type (train.synth.cn_plates) and plates of the other regions
(train.synth.world_plates) are pasted over the labelled plates of real CCPD training photos
under those photos' light (train.synth.composite). Provinces and plate types are drawn
evenly: the real photos are nearly all 皖 blue plates, and these plates are how the reader
learns every other one. Plate art is read from `--art` (../shared/plate_art), never shipped.

    python -m train.synth.plates OUT_DIR --count 200   # writes sample JPEGs and labels.csv (text, style, region, rows, corners)
"""

from __future__ import annotations

import argparse
import csv
from pathlib import Path

import cv2
import numpy as np
from tqdm import tqdm

from lpr_models.geometry import quad_box
from train.arguments import keyed_number
from train.ccpd import list_ccpd_images, parse_ccpd_name
from train.ocr_data import PlateSample, cut_box, read_image
from train.splits import is_validation
from train.synth.cn_plates import CN_TYPES, random_cn_text, render_cn_plate
from train.synth.composite import composite_plate, cover_quad
from train.synth.world_plates import WORLD_STYLES, render_world_plate

STYLES = tuple(f"cn_{kind}" for kind in CN_TYPES) + WORLD_STYLES
CN_SHARE = 0.55  # of synthetic plates; the rest are split evenly among the other regions
DEFAULT_ART = Path("../shared/plate_art")


def render(style: str, art: Path, rng: np.random.Generator) -> tuple[np.ndarray, str, str, int]:
    """(frontal plate image, text, region, rows) of a random plate of `style`."""
    if style.startswith("cn_"):
        kind = style.removeprefix("cn_")
        text = random_cn_text(kind, rng)
        return render_cn_plate(kind, text, art, rng), text, "cn", CN_TYPES[kind].rows
    plate = render_world_plate(style, art, rng)
    return plate.image, plate.text, plate.region, plate.rows


def style_weights(
    styles: tuple[str, ...] = STYLES, cn_share: float = CN_SHARE, boost: dict[str, float] | None = None
) -> np.ndarray:
    """How often each style is drawn: `cn_share` split evenly among the Chinese types, the rest among the others;
    `boost` then multiplies some styles' weights (a type the models still miss drawn more often)."""
    unknown = set(boost or {}) - set(styles)
    if unknown:
        raise ValueError(f"unknown plate styles {sorted(unknown)}; known: {', '.join(styles)}")
    cn = [s.startswith("cn_") for s in styles]
    n_cn, n_world = sum(cn), len(styles) - sum(cn)
    weights = np.array([cn_share / n_cn if c else (1 - cn_share) / max(n_world, 1) for c in cn])
    weights *= [(boost or {}).get(s, 1.0) for s in styles]
    return weights / weights.sum()


style_boost = keyed_number(STYLES, float, "STYLE")


def scene_plates(photos: Path, limit: int | None = None, split: str = "train") -> list[PlateSample]:
    """Real plates to paste over: CCPD photos of `split`, cut around the plate with room for taller plates."""
    paths = [p for p in list_ccpd_images(photos) if is_validation(parse_ccpd_name(p.name).text) == (split == "val")]
    out = []
    for path in tqdm(paths[:limit], desc="cutting scenes", leave=False):
        label = parse_ccpd_name(path.name)
        # room above and below: a two-row or square plate pasted here is up to 2.3x taller
        crop, corners = cut_box(read_image(path), label.box, 0.45, 1.4, label.corners)
        out.append(PlateSample(crop, corners, label.text, "ccpd", "cn"))
    return out


def synthetic_samples(
    count: int,
    scenes: list[PlateSample],
    art: Path = DEFAULT_ART,
    seed: int = 0,
    styles: tuple[str, ...] = STYLES,
    boost: dict[str, float] | None = None,
) -> list[PlateSample]:
    """`count` rendered plates, each composited over the plate of a random scene, with exact corners and text;
    `boost` draws some styles more often (`style_weights`)."""
    if not scenes:
        raise ValueError("no real scenes to composite synthetic plates into")
    rng = np.random.default_rng(seed)
    weights = style_weights(styles, boost=boost)
    samples = []
    for _ in tqdm(range(count), desc="rendering plates", leave=False):
        style = styles[rng.choice(len(styles), p=weights)]
        plate, text, region, rows = render(style, art, rng)
        scene = scene_for(plate.shape[1] / plate.shape[0], scenes, rng)
        image, corners = composite_plate(scene.image, scene.corners, plate, rng)
        image, corners = cut_around(image, corners)
        samples.append(PlateSample(image, corners, text, f"synth_{style}", region, rows))
    return samples


# Scenes drawn for a plate before giving up: a long plate (EU, UK, one-row Vietnamese, 4.7:1) sticks out of 15% of the
# CCPD validation scenes, so fifty draws all failing means no scene can hold it.
SCENE_DRAWS = 50


def holds(scene: PlateSample, aspect: float) -> bool:
    """Whether a plate of width / height `aspect` pasted over the scene's plate lies wholly inside the scene. One
    sticking out is cut off: part of its text is gone while its label keeps all of it (4 of the 24 rendered
    validation plates a reader of this release missed were such)."""
    corners = cover_quad(scene.corners, aspect)
    height, width = scene.image.shape[:2]
    return bool((corners >= 0).all() and (corners[:, 0] <= width).all() and (corners[:, 1] <= height).all())


def scene_for(aspect: float, scenes: list[PlateSample], rng: np.random.Generator) -> PlateSample:
    """A random scene that holds a plate of width / height `aspect`."""
    for _ in range(SCENE_DRAWS):
        scene = scenes[rng.integers(len(scenes))]
        if holds(scene, aspect):
            return scene
    raise ValueError(f"no scene of {len(scenes)} holds a plate of {aspect:.1f}:1 (drawn {SCENE_DRAWS} times)")


def cut_around(image: np.ndarray, corners: np.ndarray, margin: float = 0.35) -> tuple[np.ndarray, np.ndarray]:
    """The plate with a margin of `margin` of its size (room for corner jitter), and its corners there."""
    return cut_box(image, quad_box(corners), margin, margin, corners, end_pad=1)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("out", type=Path)
    parser.add_argument("--count", type=int, default=100)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--art", type=Path, default=DEFAULT_ART, help="the plate art folder (fonts, glyphs, blanks)")
    parser.add_argument(
        "--photos", type=Path, default=Path("../shared/data/ccpd/images"), help="CCPD photos to composite into"
    )
    args = parser.parse_args(argv)
    (args.out / "images").mkdir(parents=True, exist_ok=True)
    samples = synthetic_samples(args.count, scene_plates(args.photos, limit=200), args.art, args.seed)
    with (args.out / "labels.csv").open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["file", "text", "style", "region", "rows", "corners"])
        for i, sample in enumerate(samples):
            name = f"images/synth-{i:05d}.jpg"
            cv2.imwrite(str(args.out / name), sample.image)
            corners = " ".join(f"{v:.1f}" for v in sample.corners.reshape(-1))
            writer.writerow(
                [name, sample.text, sample.source.removeprefix("synth_"), sample.region, sample.rows, corners]
            )
    print(f"wrote {args.count} plates to {args.out}")


if __name__ == "__main__":
    main()
