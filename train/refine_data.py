"""Corner-refiner training samples: labelled plates seen through a deliberately wrong quadrilateral.

Each sample moves a plate's labelled corners the way the detector errs (a shift, a
change of size and independent per-corner moves, larger across the plate's height than
its width), warps the photo onto the refiner's canvas around that guess, and asks for the
true corners there. Some plates are first shrunk to 16-80 pixels wide, the small
plates of wide camera views.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import torch
from tqdm import tqdm

from lpr_models.detector.preprocess import to_tensor
from lpr_models.detector.refiner import RefinerConfig, canvas_size, warp_to_canvas
from lpr_models.geometry import plate_axes, rotation_matrix, transform_points
from train.augment import harsh, photometric
from train.ccpd import parse_ccpd_name
from train.det_data import LabelledPhoto, PlateSwap, hflip
from train.loop import RandomSamples

# Standard deviations of the simulated detector error, as shares of the plate's width (x) and height (y).
SHIFT = (0.04, 0.08)
CORNER = (0.03, 0.07)
SCALE = 0.06


@dataclass
class PlatePatch:
    """The neighbourhood of one labelled plate, with its labels in the patch's pixels."""

    image: np.ndarray
    corners: np.ndarray  # (4, 2) TL, TR, BR, BL


def load_patches(paths: list[Path], context: float = 0.7) -> list[PlatePatch]:
    """Cut each CCPD photo down to its plate grown by `context` plate widths on every side."""
    patches = []
    for path in tqdm(paths, desc="loading plates", leave=False):
        label = parse_ccpd_name(path.name)
        image = cv2.imread(str(path), cv2.IMREAD_COLOR)
        if image is None:
            raise ValueError(f"cannot read image {path}")
        pad = context * (label.box[2] - label.box[0])
        x1, y1 = (max(0, int(v - pad)) for v in label.box[:2])
        x2, y2 = int(min(image.shape[1], label.box[2] + pad)), int(min(image.shape[0], label.box[3] + pad))
        offset = np.array([x1, y1], np.float32)
        patches.append(PlatePatch(image[y1:y2, x1:x2].copy(), label.corners - offset))
    return patches


def perturb(corners: np.ndarray, rng: np.random.Generator, amount: float = 1.0) -> np.ndarray:
    """A detector-like wrong guess of `corners`: shifted, rescaled and each corner moved, along the plate's axes."""
    across, down = plate_axes(corners)
    gauss = lambda *shape: np.clip(rng.normal(0, 1, shape), -2.5, 2.5) * amount  # noqa: E731
    shift = gauss(2) * SHIFT
    moves = gauss(4, 2) * CORNER
    centre = corners.mean(axis=0)
    guess = centre + (corners - centre) * (1 + gauss(1) * SCALE)
    return (guess + (shift[0] + moves[:, :1]) * across + (shift[1] + moves[:, 1:]) * down).astype(np.float32)


def turn(corners: np.ndarray, degrees: float) -> np.ndarray:
    """`corners` turned about their centre by `degrees` (counter-clockwise on screen)."""
    return transform_points(rotation_matrix(corners.mean(axis=0), degrees), corners)


def mirror(patch: PlatePatch) -> PlatePatch:
    """Left-right flip with the corners re-ordered so they stay TL, TR, BR, BL."""
    image, _, corners = hflip(patch.image, np.zeros((0, 4, 2), np.float32), patch.corners[None])
    return PlatePatch(image, corners[0].astype(np.float32))


def shrink(patch: PlatePatch, plate_width: float) -> PlatePatch:
    """Resize so the plate is about `plate_width` pixels wide (the low resolution of small, distant plates)."""
    scale = plate_width / max(1.0, float(np.linalg.norm(plate_axes(patch.corners)[0])))
    if scale >= 1:
        return patch
    image = cv2.resize(patch.image, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    return PlatePatch(image, patch.corners * scale)


TURNED_SHARE = 1 / 3  # of the guesses, with RefinerDataset(rotation=...)


class RefinerDataset(RandomSamples):
    """Random plates seen through perturbed quads: (canvas, true corners as fractions of the canvas)."""

    def __init__(
        self,
        patches: list[PlatePatch],
        cfg: RefinerConfig,
        length: int,
        strength: float = 1.0,
        seed: int = 0,
        swap: PlateSwap | None = None,
        rotation: float = 0.0,
        harsh_share: float = 0.0,
    ) -> None:
        """`swap`: replaces a share of the plates by rendered plates of every type (yellow, green, two-row, EU...);
        `rotation`: a third of the guesses are also turned by up to this many degrees, as the detector's corners
        of a plate turned in the frame lag behind its turn, and the refiner must turn them the rest of the way;
        `harsh_share`: this share of the canvases is shown under one harsh condition (train.augment.harsh: long
        motion blur, defocus, night, overexposure, haze) instead of the usual degradations, as the detector and
        the reader are trained."""
        super().__init__(length, strength, seed)
        self.patches, self.cfg, self.swap, self.rotation = patches, cfg, swap, rotation
        self.harsh_share = harsh_share

    def __getitem__(self, index: int) -> tuple[torch.Tensor, torch.Tensor]:
        rng = self.rng
        patch = self.patches[rng.integers(len(self.patches))]
        if self.swap is not None:
            photo = self.swap(LabelledPhoto(patch.image, patch.corners[None], patch.corners[None]), rng)
            patch = PlatePatch(photo.image, photo.corners[0].astype(np.float32))
        if rng.random() < 0.5:
            patch = mirror(patch)
        if rng.random() < 0.25 * self.strength:
            patch = shrink(patch, rng.uniform(16, 80))
        guess = perturb(patch.corners, rng, rng.uniform(0.2, 1.2))
        if self.rotation and rng.random() < TURNED_SHARE:
            guess = turn(guess, rng.uniform(-self.rotation, self.rotation))
        canvas, matrix = warp_to_canvas(patch.image, guess, self.cfg)
        if self.harsh_share and rng.random() < self.harsh_share:  # no draw at 0: earlier runs' samples stay the same
            canvas = harsh(canvas, rng)
        else:
            canvas = photometric(canvas, rng, self.strength)
        target = transform_points(matrix, patch.corners) / canvas_size(self.cfg)
        return to_tensor(canvas[None])[0], torch.from_numpy(target)
