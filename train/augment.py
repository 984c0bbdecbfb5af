"""Photometric degradations shared by both models' training, scaled by one strength knob.

`strength` 0 leaves the image as it is; 1 is the default used for training; values
above 1 make every degradation more likely and harsher.
"""

from __future__ import annotations

import cv2
import numpy as np


def photometric(image: np.ndarray, rng: np.random.Generator, strength: float = 1.0) -> np.ndarray:
    """Colour, lighting, blur, noise and JPEG artefacts, each applied at random."""
    if strength <= 0:
        return image
    p = min(1.0, 0.5 * strength)
    out = image.astype(np.float32)
    if rng.random() < p:  # brightness and contrast
        out = out * rng.uniform(1 - 0.4 * strength, 1 + 0.4 * strength) + rng.uniform(-40, 40) * strength
    if rng.random() < p:  # per-channel colour cast
        out = out * rng.uniform(1 - 0.15 * strength, 1 + 0.15 * strength, size=3)
    if rng.random() < p * 0.3:
        out = out.mean(axis=2, keepdims=True).repeat(3, axis=2)
    out = np.clip(out, 0, 255).astype(np.uint8)
    if rng.random() < p:
        if rng.random() < 0.5:
            k = int(rng.integers(1, 3)) * 2 + 1
            out = cv2.GaussianBlur(out, (k, k), 0)
        else:
            out = _motion_blur(out, int(rng.integers(3, 3 + 4 * strength)), rng)
    if rng.random() < p:
        noise = rng.normal(0, rng.uniform(2, 12 * strength), out.shape)
        out = np.clip(out + noise, 0, 255).astype(np.uint8)
    if rng.random() < p:
        quality = int(rng.uniform(max(10, 90 - 60 * strength), 95))
        ok, buf = cv2.imencode(".jpg", out, [cv2.IMWRITE_JPEG_QUALITY, quality])
        if ok:
            out = cv2.imdecode(buf, cv2.IMREAD_COLOR)
    return out


def _motion_blur(image: np.ndarray, length: int, rng: np.random.Generator) -> np.ndarray:
    kernel = np.zeros((length, length), np.float32)
    kernel[length // 2, :] = 1.0 / length
    rotation = cv2.getRotationMatrix2D((length / 2 - 0.5, length / 2 - 0.5), float(rng.uniform(0, 180)), 1.0)
    kernel = cv2.warpAffine(kernel, rotation, (length, length))
    return cv2.filter2D(image, -1, kernel / max(kernel.sum(), 1e-6))


def harsh(image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """One of the conditions CCPD's hard subsets and night cameras show, past what `photometric` reaches: a long
    motion blur (7-13 px: across a reader's 192 px input, a car a few km/h faster than the shutter), a strong
    defocus, a night frame (dark, low gamma, sensor noise), an overexposed one or haze; each leaves the characters
    legible to a person, so the reader learns to read them rather than to guess. The reader trained without them
    read 78% of the CCPD validation photos blurred 11 px along their rows and 89% darkened, against 99.7% as they
    are."""
    kind = int(rng.integers(5))
    if kind == 0:
        return _motion_blur(image, int(rng.integers(7, 14)), rng)
    if kind == 1:
        return cv2.GaussianBlur(image, (0, 0), float(rng.uniform(1.5, 2.5)))
    out = image.astype(np.float32) / 255.0
    if kind == 2:
        out = out ** rng.uniform(1.4, 2.4) * rng.uniform(0.25, 0.6) + rng.normal(0, rng.uniform(0.01, 0.04), out.shape)
    elif kind == 3:  # a saturating curve: shadows lifted hard, highlights squeezed but never flattened to one white
        k = rng.uniform(2.0, 4.0)
        out = (1 - np.exp(-k * out)) / (1 - np.exp(-k))
    else:
        keep = rng.uniform(0.3, 0.6)
        out = out * keep + (1 - keep) * rng.uniform(0.5, 0.8)
    return np.clip(out * 255, 0, 255).astype(np.uint8)
