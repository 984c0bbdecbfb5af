"""Turn rectified BGR plates into the reader's input tensor."""
from __future__ import annotations

import numpy as np
import torch


def to_tensor(plates: np.ndarray) -> torch.Tensor:
    """(B, H, W, 3) BGR uint8 -> (B, 3, H, W) float in [-1, 1], RGB."""
    x = torch.from_numpy(np.ascontiguousarray(plates[..., ::-1])).permute(0, 3, 1, 2).float()
    return x.div_(127.5).sub_(1.0)
