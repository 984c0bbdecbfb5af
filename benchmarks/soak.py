"""Soak test: run the pipeline over a looped clip for many minutes and record RSS, open
file descriptors and threads over time; they must stay flat.

    python benchmarks/soak.py samples/sample.mp4 --minutes 10 --json soak.json
"""

from __future__ import annotations

import argparse
import json
import os
import threading
import time
from pathlib import Path

from lpr_models.detector.detector import PlateDetector
from lpr_models.ocr.reader import PlateReader
from stream.config import CameraSection, Config
from stream.runner import run_camera


def rss_mb() -> float:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def sample(started: float) -> dict:
    return {
        "t_s": round(time.monotonic() - started, 1),
        "rss_MB": round(rss_mb(), 1),
        "fds": len(os.listdir("/proc/self/fd")),
        "threads": threading.active_count(),
        "os_threads": len(os.listdir("/proc/self/task")),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("video", type=Path)
    parser.add_argument("--minutes", type=float, default=10)
    parser.add_argument("--every", type=float, default=15, help="seconds between samples")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    models = (PlateDetector.from_weights(), PlateReader.from_weights())
    camera = CameraSection(id="soak", source=str(args.video))
    cfg = Config(cameras=(camera,))
    started = time.monotonic()
    samples, loops, events = [sample(started)], 0, 0

    def count(kind, *_):
        nonlocal events
        events += kind == "plate"

    while time.monotonic() - started < args.minutes * 60:
        run_camera(cfg, camera, count, threading.Event(), models=models)  # one loop of the clip: new grabber, tracker
        loops += 1
        if time.monotonic() - started >= len(samples) * args.every:
            samples.append(sample(started))
            print(json.dumps({**samples[-1], "loops": loops, "events": events}), flush=True)
    samples.append(sample(started))
    warm = samples[min(2, len(samples) - 1) :]  # after warm-up (first compilations, allocator growth)
    report = {
        "minutes": args.minutes,
        "loops": loops,
        "events": events,
        "samples": samples,
        "rss_growth_MB_after_warmup": round(warm[-1]["rss_MB"] - warm[0]["rss_MB"], 1),
        "fd_growth": warm[-1]["fds"] - warm[0]["fds"],
        "thread_growth": warm[-1]["os_threads"] - warm[0]["os_threads"],
    }
    print(json.dumps({k: v for k, v in report.items() if k != "samples"}, indent=1))
    if args.json:
        args.json.write_text(json.dumps(report, indent=1) + "\n")


if __name__ == "__main__":
    main()
