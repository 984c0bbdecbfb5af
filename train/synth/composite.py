"""Paste a rendered plate into a real photo where a real plate was, under that photo's light.

The labelled quad of a real plate says where the new plate goes; the real plate's pixels say
how it is lit: its low-frequency shading (a shadow across it, a bright corner), its exposure,
and the camera's noise are measured there and applied to the rendered plate, which is then
warped in with an anti-aliased edge. The new plate's corners are exact labels.
"""

from __future__ import annotations

import cv2
import numpy as np

from lpr_models.geometry import plate_axes, warp_quad

# Mean luma of a clean, frontal blue plate (the plate under nearly every CCPD label): the
# real plate's luma against this says how bright the scene made it.
BLUE_PLATE_LUMA = 80.0


def cover_quad(quad: np.ndarray, aspect: float) -> np.ndarray:
    """The quad of a plate of width/height `aspect` that covers `quad` (TL, TR, BR, BL), same centre and axes.

    A taller plate (two rows) grows the quad's height, a longer one (EU) its width, so no
    part of the real plate shows around the new one.
    """
    quad = np.asarray(quad, np.float32).reshape(4, 2)
    across, down = plate_axes(quad)
    old = float(np.linalg.norm(across) / max(np.linalg.norm(down), 1e-6))
    grow = np.array([aspect / old, 1.0]) if aspect > old else np.array([1.0, old / aspect])
    basis = np.stack([across, down], axis=1).astype(np.float64)  # columns: the plate's axes
    centre = quad.mean(axis=0)
    along_axes = np.linalg.solve(basis, (quad - centre).T)  # each corner in the axes' coordinates
    return (centre + (basis @ (along_axes * grow[:, None])).T).astype(np.float32)


def light_of(photo: np.ndarray, quad: np.ndarray, size: tuple[int, int]) -> tuple[np.ndarray, float, float]:
    """(shading field of `size` (w, h) around 1, exposure gain, noise std) of the real plate at `quad`."""
    w, h = size
    region = warp_quad(photo, quad, (h, w))[0]
    luma = cv2.cvtColor(region, cv2.COLOR_BGR2GRAY).astype(np.float32)
    mean = max(float(luma.mean()), 1.0)
    shading = cv2.GaussianBlur(luma, (0, 0), sigmaX=max(2.0, w / 6)) / mean
    noise = float(np.median(np.abs(luma - cv2.medianBlur(luma.astype(np.uint8), 3))) * 1.4826)
    return np.clip(shading, 0.4, 1.8), float(np.clip(mean / BLUE_PLATE_LUMA, 0.25, 2.2)), noise


def composite_plate(
    photo: np.ndarray, quad: np.ndarray, plate: np.ndarray, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """`photo` with `plate` (frontal BGR) pasted over the real plate at `quad`; returns (photo, new corners)."""
    ph, pw = plate.shape[:2]
    corners = cover_quad(quad, pw / ph)
    width = float(np.linalg.norm(plate_axes(corners)[0]))
    # Shrink the plate to about its size in the photo first: warpPerspective does not average.
    scale = float(np.clip(max(width, 1.0) * 1.5 / pw, 0.05, 1.0))
    small = cv2.resize(plate, (max(4, round(pw * scale)), max(2, round(ph * scale))), interpolation=cv2.INTER_AREA)
    sh, sw = small.shape[:2]
    shading, gain, noise = light_of(photo, quad, (sw, sh))
    lit = small.astype(np.float32) * (gain * rng.uniform(0.85, 1.15)) * shading[..., None]
    lit += rng.normal(0.0, max(noise, 0.5), lit.shape)
    sigma = rng.uniform(0.0, 0.9) * max(sw / max(width, 1.0), 1.0)
    if sigma > 0.3:
        lit = cv2.GaussianBlur(lit, (0, 0), sigma)
    src = np.array([[0, 0], [sw, 0], [sw, sh], [0, sh]], np.float32)
    matrix = cv2.getPerspectiveTransform(src, corners)
    out_size = (photo.shape[1], photo.shape[0])
    warped = cv2.warpPerspective(np.clip(lit, 0, 255), matrix, out_size, flags=cv2.INTER_LINEAR)
    mask = cv2.warpPerspective(np.ones((sh, sw), np.float32), matrix, out_size, flags=cv2.INTER_LINEAR)[..., None]
    blended = photo.astype(np.float32) * (1 - mask) + warped * mask
    return np.clip(blended, 0, 255).astype(np.uint8), corners
