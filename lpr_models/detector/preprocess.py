"""Turn letterboxed BGR frames into the detector's input tensor."""

from __future__ import annotations

import cv2
import numpy as np
import torch


def to_tensor(images: np.ndarray) -> torch.Tensor:
    """(B, H, W, 3) BGR uint8 -> (B, 3, H, W) contiguous float in [0, 1], RGB.

    OpenCV's blob builder does the channel swap, scaling and layout change in one pass,
    several times faster than the same steps in numpy/torch on a 640x640 frame.
    """
    blob = cv2.dnn.blobFromImages(list(images), scalefactor=1 / 255.0, swapRB=True, crop=False, ddepth=cv2.CV_32F)
    return torch.from_numpy(blob)
