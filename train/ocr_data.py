"""Plate crops for the reader: the shared crop folders and crops cut from CCPD photos.

Every sample keeps its source image and the plate's 4 corners in it, so training warps
each plate exactly as inference does (lpr_models.ocr.preprocess.plate_crop), with corner jitter.
"""
from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import torch
from tqdm import tqdm

from lpr_models.ocr.model import OcrConfig
from lpr_models.ocr.preprocess import plate_crop, to_tensor
from lpr_models.vocab import encode, is_supported
from train.augment import photometric
from train.ccpd import list_ccpd_images, parse_ccpd_name
from train.splits import is_validation

CROP_FOLDERS = ("ccpd_crops", "br_crops", "us_crops")


@dataclass
class PlateSample:
    image: np.ndarray  # BGR uint8
    corners: np.ndarray  # (4, 2) TL, TR, BR, BL in `image`
    text: str
    source: str


def read_image(path: Path) -> np.ndarray:
    image = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if image is None:
        raise ValueError(f"cannot read image {path}")
    return image


def full_corners(image: np.ndarray) -> np.ndarray:
    h, w = image.shape[:2]
    return np.array([[0, 0], [w, 0], [w, h], [0, h]], dtype=np.float32)


def load_crop_folder(folder: Path, limit: int | None = None) -> list[PlateSample]:
    """A crop folder with `labels.csv` (file, text, ...); unsupported texts are skipped."""
    labels = folder / "labels.csv"
    if not labels.is_file():
        raise FileNotFoundError(f"no labels.csv in {folder}")
    with labels.open(newline="", encoding="utf-8") as fh:
        rows = [r for r in csv.DictReader(fh) if r.get("text") and is_supported(r["text"])]
    samples = []
    for row in rows[:limit]:
        image = read_image(folder / row["file"])
        samples.append(PlateSample(image, full_corners(image), row["text"], folder.name))
    return samples


def cut_ccpd_plate(path: Path, margin: float = 0.35) -> PlateSample:
    """The plate region of a CCPD photo with a margin, so corner jitter has pixels to move into."""
    label = parse_ccpd_name(path.name)
    image = read_image(path)
    x1, y1, x2, y2 = label.box
    mx, my = (x2 - x1) * margin, (y2 - y1) * margin
    h, w = image.shape[:2]
    left, top = int(max(0, x1 - mx)), int(max(0, y1 - my))
    right, bottom = int(min(w, x2 + mx)), int(min(h, y2 + my))
    crop = image[top:bottom, left:right].copy()
    return PlateSample(crop, label.corners - np.array([left, top], np.float32), label.text, "ccpd")


def load_ccpd_plates(folder: Path, limit: int | None = None) -> list[PlateSample]:
    paths = list_ccpd_images(folder)[:limit]
    return [cut_ccpd_plate(p) for p in tqdm(paths, desc="cutting CCPD plates", leave=False)]


def load_splits(data_root: Path, limit: int | None = None) -> tuple[list[PlateSample], dict[str, list[PlateSample]]]:
    """(train samples, validation samples by data set), split by plate text.

    CCPD validation plates are the CCPD photos in the validation split, rectified from
    their labelled corners; crops in `ccpd_crops` with one of their texts are left out.
    """
    ccpd = load_ccpd_plates(data_root / "ccpd" / "images", limit)
    val_texts = {s.text for s in ccpd if is_validation(s.text)}
    train = [s for s in ccpd if s.text not in val_texts]
    val: dict[str, list[PlateSample]] = {"ccpd": [s for s in ccpd if s.text in val_texts]}
    for name in CROP_FOLDERS:
        samples = load_crop_folder(data_root / name, limit)
        if name == "ccpd_crops":
            train += [s for s in samples if s.text not in val_texts]
            continue
        key = name.removesuffix("_crops")
        train += [s for s in samples if not is_validation(s.text)]
        val[key] = [s for s in samples if is_validation(s.text)]
    return train, val


# Largest per-corner move in training, as a share of the plate's width and of its height: the
# shipped detector's corners err about 3% of the width and 5.5% of the height on average
# (11% of the height at the 90th percentile), so the reader learns to tolerate as much.
CORNER_JITTER = (0.03, 0.06)


def jitter_corners(corners: np.ndarray, rng: np.random.Generator, amount: float | tuple[float, float]) -> np.ndarray:
    """Err as a detector does: shift and scale the whole quadrilateral, and move each corner a little.

    `amount` is the largest per-corner move as a share of the plate's width (x) and height (y),
    one value for both or one per axis; the whole plate shifts by up to as much again, and
    scales by up to 2 * amount.
    """
    amount = np.broadcast_to(np.asarray(amount, np.float64), (2,))
    width = np.linalg.norm(corners[1] - corners[0])
    height = np.linalg.norm(corners[3] - corners[0])
    size = np.array([width, height])
    centre = corners.mean(axis=0)
    scale = 1 + rng.uniform(-2 * amount, 2 * amount, size=2)
    moved = centre + (corners - centre) * scale + rng.uniform(-amount, amount, size=2) * size
    return (moved + rng.uniform(-amount, amount, size=(4, 2)) * size).astype(np.float32)


class PlateDataset(torch.utils.data.Dataset):
    """Rectified (as at inference), augmented plates and their encoded texts."""

    def __init__(self, samples: list[PlateSample], cfg: OcrConfig, strength: float = 0.0, seed: int = 0,
                 corner_jitter: tuple[float, float] = CORNER_JITTER) -> None:
        self.samples, self.cfg, self.strength, self.corner_jitter = samples, cfg, strength, corner_jitter
        self.rng = np.random.default_rng(seed)

    def __len__(self) -> int:
        return len(self.samples)

    def plate(self, index: int) -> np.ndarray:
        sample = self.samples[index]
        corners = sample.corners
        if self.strength > 0:
            corners = jitter_corners(corners, self.rng, np.multiply(self.corner_jitter, self.strength))
        return photometric(plate_crop(sample.image, corners, self.cfg), self.rng, self.strength)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, torch.Tensor]:
        target = torch.tensor(encode(self.samples[index].text, self.cfg.max_chars))
        return to_tensor(self.plate(index)[None])[0], target
