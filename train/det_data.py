"""Detector training images: CCPD photos recomposed so the detector works beyond CCPD's framing.

Each sample is a frame of random aspect ratio tiled with 1 to 3 x 1 to 3 photos at random
scales (so plates range from CCPD's large ones down to about 20 px wide), randomly
cropped (a plate cut by a crop edge is painted out, never left unlabelled), flipped with
its corners re-ordered, warped in perspective, degraded photometrically, and finally
letterboxed exactly as at inference.

Beyond CCPD: a share of the plates is replaced by rendered plates of every Chinese type and
other regions, composited where the real plate was (train.synth), and real scenes from
elsewhere (`--scenes`: UC3M's Spanish streets; the Romanian night frames are kept for evaluation)
join the photos. Those have boxes only: their corners are the box's, close for the mostly
frontal plates they show.
"""

from __future__ import annotations

import csv
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import torch
from tqdm import tqdm

from lpr_models.detector.preprocess import to_tensor
from lpr_models.geometry import letterbox, quad_box, rotation_matrix, transform_points
from train.augment import harsh, photometric
from train.ccpd import list_ccpd_images, parse_ccpd_name
from train.loop import RandomSamples
from train.splits import is_validation
from train.synth.composite import composite_plate
from train.synth.plates import CN_SHARE, STYLES, render, style_weights


@dataclass
class LabelledPhoto:
    image: np.ndarray
    boxes: np.ndarray  # (G, 4, 2) the box's 4 corners, so it survives perspective warps
    corners: np.ndarray  # (G, 4, 2) TL, TR, BR, BL


def box_points(box: np.ndarray) -> np.ndarray:
    x1, y1, x2, y2 = box
    return np.array([[x1, y1], [x2, y1], [x2, y2], [x1, y2]], np.float32)


def load_photos(paths: list[Path], downscale: float = 0.5) -> list[LabelledPhoto]:
    """Decode CCPD photos once, downscaled to keep a whole data set in memory."""
    photos = []
    for path in tqdm(paths, desc="loading photos", leave=False):
        label = parse_ccpd_name(path.name)
        image = cv2.imread(str(path), cv2.IMREAD_COLOR)
        if image is None:
            raise ValueError(f"cannot read image {path}")
        image = cv2.resize(image, None, fx=downscale, fy=downscale, interpolation=cv2.INTER_AREA)
        photos.append(LabelledPhoto(image, box_points(label.box)[None] * downscale, label.corners[None] * downscale))
    return photos


def load_box_scenes(labels: Path, split: str = "train", max_side: int = 640) -> list[LabelledPhoto]:
    """Photos of `split` labelled with plate boxes only (a CSV of file or relpath, x, y, w, h; one row a plate).

    With no plate text to split by, the file name decides (the same rule as the texts').
    """
    by_file: dict[str, list[list[float]]] = {}
    with labels.open(newline="", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            name = row.get("file") or row["relpath"]
            if is_validation(name) == (split == "val"):
                by_file.setdefault(name, []).append([float(row[k]) for k in ("x", "y", "w", "h")])
    photos = []
    for name, rects in tqdm(sorted(by_file.items()), desc=f"loading {labels.parent.name}", leave=False):
        image = cv2.imread(str(labels.parent / name), cv2.IMREAD_COLOR)
        if image is None:
            raise ValueError(f"cannot read image {labels.parent / name}")
        scale = min(1.0, max_side / max(image.shape[:2]))
        if scale < 1:
            image = cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
        points = np.stack([box_points(np.array([x, y, x + w, y + h]) * scale) for x, y, w, h in rects])
        photos.append(LabelledPhoto(image, points, points.copy()))
    return photos


def split_ccpd(folder: Path, limit: int | None = None) -> tuple[list[Path], list[Path]]:
    """(train, validation) CCPD paths, split by plate text."""
    paths = list_ccpd_images(folder)[:limit]
    val = [p for p in paths if is_validation(parse_ccpd_name(p.name).text)]
    val_set = set(val)
    return [p for p in paths if p not in val_set], val


def _paste(canvas: np.ndarray, photo: LabelledPhoto, scale: float, x: int, y: int, boxes: list, corners: list) -> None:
    """Paste a scaled photo with its top-left at (x, y); plates it leaves partly outside are painted out."""
    img = cv2.resize(
        photo.image, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
    )
    h, w = img.shape[:2]
    H, W = canvas.shape[:2]
    x0, y0, x1, y1 = max(x, 0), max(y, 0), min(x + w, W), min(y + h, H)
    if x1 <= x0 or y1 <= y0:
        return
    canvas[y0:y1, x0:x1] = img[y0 - y : y1 - y, x0 - x : x1 - x]
    offset = np.array([x, y], np.float32)
    for b, c in zip(photo.boxes * scale + offset, photo.corners * scale + offset):
        inside = (b[:, 0] >= x0).all() and (b[:, 0] <= x1).all() and (b[:, 1] >= y0).all() and (b[:, 1] <= y1).all()
        if inside:
            boxes.append(b)
            corners.append(c)
        else:
            cv2.fillConvexPoly(canvas, np.round(b).astype(np.int32), (114, 114, 114))


Prepare = Callable[[LabelledPhoto, np.random.Generator], LabelledPhoto]


def compose(
    photos: list[LabelledPhoto],
    rng: np.random.Generator,
    long_side: int = 640,
    prepare: Prepare | None = None,
    weights: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A random frame tiled with photos, each passed through `prepare` first: (image, box points (G, 4, 2), corners (G, 4, 2))."""
    aspect = rng.choice([16 / 9, 4 / 3, 1.0, 3 / 4, 9 / 16]) if rng.random() < 0.7 else 720 / 1160
    W, H = (long_side, round(long_side / aspect)) if aspect >= 1 else (round(long_side * aspect), long_side)
    canvas = np.full((H, W, 3), 114, np.uint8)
    grid = int(rng.choice([1, 2, 3], p=[0.4, 0.35, 0.25]))
    cell_w, cell_h = W / grid, H / grid
    boxes: list = []
    corners: list = []
    for row in range(grid):
        for col in range(grid):
            photo = photos[rng.choice(len(photos), p=weights) if weights is not None else rng.integers(len(photos))]
            if prepare is not None:
                photo = prepare(photo, rng)
            ph, pw = photo.image.shape[:2]
            fit = min(cell_w / pw, cell_h / ph)
            scale = fit * (rng.uniform(0.8, 2.8) if grid == 1 else rng.uniform(0.6, 1.3))
            x = col * cell_w + rng.uniform(min(0, cell_w - pw * scale), max(0, cell_w - pw * scale))
            y = row * cell_h + rng.uniform(min(0, cell_h - ph * scale), max(0, cell_h - ph * scale))
            _paste(canvas, photo, scale, int(x), int(y), boxes, corners)
    b = np.array(boxes, np.float32).reshape(-1, 4, 2)
    c = np.array(corners, np.float32).reshape(-1, 4, 2)
    return canvas, b, c


def hflip(image: np.ndarray, boxes: np.ndarray, corners: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Mirror left-right; corners are re-ordered so they stay TL, TR, BR, BL."""
    w = image.shape[1]
    mirror = lambda pts: np.stack([w - pts[..., 0], pts[..., 1]], axis=-1)  # noqa: E731
    return image[:, ::-1].copy(), mirror(boxes), mirror(corners)[:, [1, 0, 3, 2]]


def perspective(image: np.ndarray, boxes: np.ndarray, corners: np.ndarray, rng: np.random.Generator, amount: float):
    h, w = image.shape[:2]
    src = np.array([[0, 0], [w, 0], [w, h], [0, h]], np.float32)
    dst = (src + rng.uniform(-amount, amount, (4, 2)) * [w, h]).astype(np.float32)
    m = cv2.getPerspectiveTransform(src, dst)
    warp = lambda pts: transform_points(m, pts) if pts.size else pts  # noqa: E731
    out = cv2.warpPerspective(image, m, (w, h), borderValue=(114, 114, 114))
    return out, warp(boxes), warp(corners)


def rotate(
    image: np.ndarray, boxes: np.ndarray, corners: np.ndarray, rng: np.random.Generator, max_degrees: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Turn the frame in its plane by up to `max_degrees` either way about a random point near its centre, as a
    camera rolled on its axis sees plates (CCPD's rotate subset: 20-50 degrees). A plate the turn takes partly out
    of the frame is painted out and dropped, as `_paste` does; the corners keep their TL, TR, BR, BL order, which
    follows the plate, not the frame."""
    h, w = image.shape[:2]
    centre = (float(w * rng.uniform(0.35, 0.65)), float(h * rng.uniform(0.35, 0.65)))
    m = rotation_matrix(centre, rng.uniform(-max_degrees, max_degrees))
    out = cv2.warpAffine(image, m[:2], (w, h), borderValue=(114, 114, 114))
    if not corners.size:
        return out, boxes, corners
    boxes, corners = transform_points(m, boxes), transform_points(m, corners)
    inside = ((boxes >= 0) & (boxes <= [w, h])).all(axis=(1, 2))
    for b in np.round(boxes[~inside]).astype(np.int32):  # the outline too: the turn blurred the plate's rim
        cv2.fillConvexPoly(out, b, (114, 114, 114))
        cv2.polylines(out, [b], True, (114, 114, 114), 3)
    return out, boxes[inside], corners[inside]


def to_target(boxes: np.ndarray, corners: np.ndarray) -> dict:
    xy_min, xy_max = boxes.min(axis=1), boxes.max(axis=1)
    return {
        "boxes": torch.from_numpy(np.concatenate([xy_min, xy_max], axis=1).reshape(-1, 4)).float(),
        "corners": torch.from_numpy(corners.reshape(-1, 4, 2)).float(),
    }


class PlateSwap:
    """Replace each plate of a photo, with probability `share`, by a rendered plate of a random type."""

    def __init__(
        self, art: Path, share: float, cn_share: float = CN_SHARE, boost: dict[str, float] | None = None
    ) -> None:
        self.art, self.share = art, share
        self.weights = style_weights(cn_share=cn_share, boost=boost)

    def __call__(self, photo: LabelledPhoto, rng: np.random.Generator) -> LabelledPhoto:
        image, boxes, corners = photo.image, photo.boxes.copy(), photo.corners.copy()
        for g in range(len(corners)):
            if rng.random() >= self.share:
                continue
            plate = render(STYLES[rng.choice(len(STYLES), p=self.weights)], self.art, rng)[0]
            image, corners[g] = composite_plate(image, corners[g], plate, rng)
            boxes[g] = box_points(quad_box(corners[g]))
        return LabelledPhoto(image, boxes, corners)


ROTATED_SHARE = 0.25  # of the frames, with DetectionDataset(rotation=...)


class DetectionDataset(RandomSamples):
    """Random compositions of the photos, letterboxed to `size`."""

    def __init__(
        self,
        photos: list[LabelledPhoto],
        size: int,
        length: int,
        strength: float = 1.0,
        seed: int = 0,
        prepare: Prepare | None = None,
        weights: np.ndarray | None = None,
        rotation: float = 0.0,
        harsh_share: float = 0.0,
    ) -> None:
        """`weights`: how often each photo is drawn (None: evenly); `rotation`: a quarter of the frames are turned
        by up to this many degrees (`rotate`); `harsh_share`: this share of the frames is shown under one harsh
        condition (train.augment.harsh) instead of the usual degradations."""
        super().__init__(length, strength, seed)
        self.photos, self.size, self.prepare, self.rotation = photos, size, prepare, rotation
        self.harsh_share = harsh_share
        self.weights = None if weights is None else np.asarray(weights, float) / np.sum(weights)

    def sample(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(letterboxed image, box points, corners) in network-input pixels."""
        rng = self.rng
        image, boxes, corners = compose(self.photos, rng, prepare=self.prepare, weights=self.weights)
        if rng.random() < 0.5:
            image, boxes, corners = hflip(image, boxes, corners)
        if rng.random() < 0.3 * self.strength:
            image, boxes, corners = perspective(image, boxes, corners, rng, 0.06 * self.strength)
        if self.rotation and rng.random() < ROTATED_SHARE:
            image, boxes, corners = rotate(image, boxes, corners, rng, self.rotation)
        image = harsh(image, rng) if rng.random() < self.harsh_share else photometric(image, rng, self.strength)
        image, lb = letterbox(image, (self.size, self.size))
        return image, lb.to_input(boxes), lb.to_input(corners)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, dict]:
        image, boxes, corners = self.sample()
        return to_tensor(image[None])[0], to_target(boxes, corners)


def collate(batch: list) -> tuple[torch.Tensor, list[dict]]:
    return torch.stack([b[0] for b in batch]), [b[1] for b in batch]
