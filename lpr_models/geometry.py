"""Geometry shared by training and inference: letterboxing and plate rectification.

Keeping one implementation of each is what guarantees that the models see the same
pre-processing at training and at inference.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np


@dataclass(frozen=True)
class Letterbox:
    """How a frame was scaled and padded into the network input, to map outputs back."""

    scale: float
    pad_x: int
    pad_y: int

    def to_frame(self, points: np.ndarray) -> np.ndarray:
        """Map (..., 2) points in network-input pixels back to frame pixels."""
        out = np.asarray(points, dtype=np.float32).copy()
        out[..., 0] = (out[..., 0] - self.pad_x) / self.scale
        out[..., 1] = (out[..., 1] - self.pad_y) / self.scale
        return out

    def to_input(self, points: np.ndarray) -> np.ndarray:
        """Map (..., 2) points in frame pixels into network-input pixels."""
        out = np.asarray(points, dtype=np.float32).copy()
        out[..., 0] = out[..., 0] * self.scale + self.pad_x
        out[..., 1] = out[..., 1] * self.scale + self.pad_y
        return out


def shrink(image: np.ndarray, width: int, height: int) -> np.ndarray:
    """`image` made smaller by area-averaged halvings (OpenCV's fast path) while it is at least twice the size,
    then bilinear for the rest, under 2x: 3-10 times faster than one area resize by a ratio such as 3 or 1.8,
    which OpenCV does the slow way, and within a grey level of it on average."""
    while image.shape[1] >= 2 * width and image.shape[0] >= 2 * height:
        h, w = image.shape[0] // 2, image.shape[1] // 2
        image = cv2.resize(image[: 2 * h, : 2 * w], (w, h), interpolation=cv2.INTER_AREA)
    if image.shape[:2] == (height, width):
        return image
    return cv2.resize(image, (width, height), interpolation=cv2.INTER_LINEAR)


def letterbox(image: np.ndarray, size: tuple[int, int], pad_value: int = 114) -> tuple[np.ndarray, Letterbox]:
    """Resize `image` to fit (height, width) `size` keeping its aspect ratio, centred on a padded canvas."""
    out_h, out_w = size
    h, w = image.shape[:2]
    scale = min(out_w / w, out_h / h)
    new_w, new_h = max(1, round(w * scale)), max(1, round(h * scale))
    resized = shrink(image, new_w, new_h) if scale < 1 else cv2.resize(image, (new_w, new_h))
    pad_x, pad_y = (out_w - new_w) // 2, (out_h - new_h) // 2
    canvas = np.full((out_h, out_w, 3), pad_value, dtype=np.uint8)
    canvas[pad_y : pad_y + new_h, pad_x : pad_x + new_w] = resized
    return canvas, Letterbox(scale, pad_x, pad_y)


def quad_to_rect(corners: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """The 3x3 perspective matrix taking the quadrilateral `corners` (TL, TR, BR, BL) onto a (height, width) image."""
    h, w = size
    src = np.asarray(corners, dtype=np.float32).reshape(4, 2)
    dst = np.array([[0, 0], [w, 0], [w, h], [0, h]], dtype=np.float32)
    return cv2.getPerspectiveTransform(src, dst)


def warp_quad(image: np.ndarray, corners: np.ndarray, size: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """Warp the quadrilateral `corners` (TL, TR, BR, BL) of `image` to a (height, width) image; also the matrix used."""
    h, w = size
    matrix = quad_to_rect(corners, size)
    return cv2.warpPerspective(image, matrix, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE), matrix


def rectify(image: np.ndarray, corners: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Warp the quadrilateral `corners` (TL, TR, BR, BL) of `image` to a (height, width) plate image."""
    return warp_quad(image, corners, size)[0]


def transform_points(matrix: np.ndarray, points: np.ndarray) -> np.ndarray:
    """Apply a 3x3 perspective matrix to (..., 2) points."""
    pts = np.asarray(points, dtype=np.float32)
    return cv2.perspectiveTransform(pts.reshape(-1, 1, 2), matrix).reshape(pts.shape)


def rotation_matrix(centre: np.ndarray | tuple[float, float], degrees: float) -> np.ndarray:
    """The 3x3 matrix turning points about `centre` by `degrees`, counter-clockwise on screen (OpenCV's sense), for
    `transform_points` and, as its top two rows, `cv2.warpAffine`."""
    top = cv2.getRotationMatrix2D((float(centre[0]), float(centre[1])), degrees, 1.0)
    return np.vstack([top, [0, 0, 1]])


def plate_axes(corners: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A TL, TR, BR, BL quadrilateral's left-to-right and top-to-bottom edge vectors (means of opposite edges)."""
    c = np.asarray(corners, dtype=np.float32).reshape(4, 2)
    return ((c[1] - c[0]) + (c[2] - c[3])) / 2, ((c[3] - c[0]) + (c[2] - c[1])) / 2


def expand_quad(corners: np.ndarray, margin_x: float, margin_y: float) -> np.ndarray:
    """Grow a TL, TR, BR, BL quadrilateral by a share of its own width (left and right) and height (top and bottom)."""
    c = np.asarray(corners, dtype=np.float32).reshape(4, 2)
    across, down = plate_axes(c)
    dx, dy = across * margin_x, down * margin_y
    return np.stack([c[0] - dx - dy, c[1] + dx - dy, c[2] + dx + dy, c[3] - dx + dy])


def order_corners(corners: np.ndarray) -> np.ndarray:
    """Put 4 points in TL, TR, BR, BL order, whatever order they came in."""
    pts = np.asarray(corners, dtype=np.float32).reshape(4, 2)
    centre = pts.mean(axis=0)
    angles = np.arctan2(pts[:, 1] - centre[1], pts[:, 0] - centre[0])
    pts = pts[np.argsort(angles)]  # clockwise in image coordinates, starting near -pi (left)
    start = int(np.argmin(pts.sum(axis=1)))  # top-left has the smallest x + y
    return np.roll(pts, -start, axis=0)


def quad_box(corners: np.ndarray) -> np.ndarray:
    """The (4,) x1, y1, x2, y2 bounding box of (4, 2) corners."""
    corners = np.asarray(corners, dtype=np.float32)
    return np.concatenate([corners.min(axis=0), corners.max(axis=0)])


def box_iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """IoU matrix between (N, 4) and (M, 4) boxes in x1, y1, x2, y2."""
    a = np.asarray(a, dtype=np.float32).reshape(-1, 4)
    b = np.asarray(b, dtype=np.float32).reshape(-1, 4)
    lt = np.maximum(a[:, None, :2], b[None, :, :2])
    rb = np.minimum(a[:, None, 2:], b[None, :, 2:])
    inter = np.clip(rb - lt, 0, None).prod(axis=2)
    area_a = np.clip(a[:, 2:] - a[:, :2], 0, None).prod(axis=1)
    area_b = np.clip(b[:, 2:] - b[:, :2], 0, None).prod(axis=1)
    union = area_a[:, None] + area_b[None, :] - inter
    return np.where(union > 0, inter / np.maximum(union, 1e-9), 0.0)


def tilt_matrix(corners: np.ndarray, yaw: float, pitch: float, focal: float = 6.0) -> np.ndarray:
    """The 3x3 matrix that shows the plate `corners` (TL, TR, BR, BL) as a camera sees it when the plate is turned
    `yaw` degrees about its upright axis (its right edge comes nearer) and `pitch` about its horizontal one, with a
    lens `focal` plate widths away: a car seen from the side of the road, as in CCPD's tilt subset. Applied to the
    whole photo, the plate's surroundings turn with it, as a car's front does."""
    corners = np.asarray(corners, np.float32).reshape(4, 2)
    width = float(np.linalg.norm(corners[1] - corners[0]) + np.linalg.norm(corners[2] - corners[3])) / 2
    height = float(np.linalg.norm(corners[3] - corners[0]) + np.linalg.norm(corners[2] - corners[1])) / 2
    plate = np.array([[-width, -height, 0], [width, -height, 0], [width, height, 0], [-width, height, 0]]) / 2
    y, p = np.radians(yaw), np.radians(pitch)
    turn_y = np.array([[np.cos(y), 0, np.sin(y)], [0, 1, 0], [-np.sin(y), 0, np.cos(y)]])
    turn_x = np.array([[1, 0, 0], [0, np.cos(p), -np.sin(p)], [0, np.sin(p), np.cos(p)]])
    f = focal * width
    seen = plate @ (turn_x @ turn_y).T + [0, 0, f]
    target = corners.mean(axis=0) + f * seen[:, :2] / seen[:, 2:]
    return cv2.getPerspectiveTransform(corners, target.astype(np.float32))
