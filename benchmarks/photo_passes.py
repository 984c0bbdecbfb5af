"""What the coarse and fine passes cost a photo: detection (with the corner refiner) at the input size only, with
the coarse pass, and with both (as photos are detected), in turns.

    python benchmarks/photo_passes.py ../shared/data/ccpd/images [--photos 60] [--repeats 3]

The detectors run on the same validation photos (720x1160: the fine pass sees them), one after the other on each
photo, so the shared machine's load falls on all alike; the medians and their ratios to the first are printed.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import cv2
import numpy as np
import torch

from lpr_models.detector.detector import PlateDetector
from train.evaluate import ccpd_items


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("data", type=Path, help="folder of CCPD-named photos")
    parser.add_argument("--photos", type=int, default=60)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    detectors = {
        "full size only": PlateDetector.from_weights(),
        "with the coarse pass": PlateDetector.from_weights(coarse_pass=True),
        "with the coarse and fine passes": PlateDetector.from_weights(coarse_pass=True, fine_pass=True),
    }
    for detector in detectors.values():
        detector.warm_up()
    photos = [cv2.imread(str(item.path)) for item in ccpd_items(args.data, "val")[: args.photos]]
    times: dict[str, list[float]] = {name: [] for name in detectors}
    for _ in range(args.repeats):
        for photo in photos:
            for name, detector in detectors.items():
                started = time.perf_counter()
                detector.detect(photo)
                times[name].append(1000 * (time.perf_counter() - started))
    medians = {name: float(np.median(t)) for name, t in times.items()}
    report = {
        "photos": len(photos),
        "backend": detectors["full size only"].forward.backend,
        "median_ms": medians,
        "ratio": {name: median / medians["full size only"] for name, median in medians.items()},
    }
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
