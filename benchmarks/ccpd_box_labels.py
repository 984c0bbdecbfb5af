"""How consistent are CCPD's box labels with its corner labels? An upper bound for the
detection rate at IoU > 0.7 that any predictor of the plate's outline can expect.

    python benchmarks/ccpd_box_labels.py ../shared/data/ccpd/images

Two predictors of the labelled box from the labelled (exact) corners: their bounding box,
and the least-squares linear map from corners to box fitted on the training split.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from lpr_models.geometry import box_iou
from train.evaluate import LabelledImage, ccpd_items


def corner_features(item: LabelledImage) -> np.ndarray:
    """The 8 corner coordinates, their bounding box (x1, y1, x2, y2 at columns 8-11) and a bias term."""
    c = item.corners
    return np.concatenate([c.reshape(-1), c.min(axis=0), c.max(axis=0), [1.0]])


def scores(predicted: np.ndarray, truth: np.ndarray, threshold: float = 0.7) -> dict[str, float]:
    ious = np.array([box_iou(p[None], t[None])[0, 0] for p, t in zip(predicted, truth)])
    return {"rate_iou70": float((ious > threshold).mean()), "mean_iou": float(ious.mean())}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("data", type=Path, help="folder of CCPD-named photos")
    args = parser.parse_args()
    train, val = ccpd_items(args.data, "train"), ccpd_items(args.data, "val")
    fit, *_ = np.linalg.lstsq(
        np.stack([corner_features(i) for i in train]), np.stack([i.box for i in train]), rcond=None
    )
    features, truth = np.stack([corner_features(i) for i in val]), np.stack([i.box for i in val])
    report = {
        "validation_photos": len(val),
        "corners_bounding_box": scores(features[:, 8:12], truth),
        "linear_map_from_corners": scores(features @ fit, truth),
    }
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
