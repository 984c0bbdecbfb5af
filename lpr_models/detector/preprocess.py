"""Turn letterboxed BGR frames into the detector's input tensor."""
from __future__ import annotations

import numpy as np
import torch


def to_tensor(images: np.ndarray) -> torch.Tensor:
    """(B, H, W, 3) BGR uint8 -> (B, 3, H, W) contiguous float in [0, 1], RGB."""
    x = torch.from_numpy(np.ascontiguousarray(images[..., ::-1])).permute(0, 3, 1, 2).float().div_(255.0)
    return x.contiguous()
