"""What the reader's copies cost a stream: the whole pipeline on a clip, reading each plate once, with the shifted
copies, and with the shifted and zoomed ones (the default), in turns.

    python benchmarks/reading_cost.py samples/sample.mp4 [--height 720] [--frames 300] [--repeats 3]

The three readers share one model and the detector; each run is a full `run_camera` over the clip rescaled and
looped (as `lpr bench pipeline` runs it), and the runs take turns so a busy spell of the shared machine hits each
alike, each first in its turn. Printed: the median frame rate and the mean time of the pipeline's ocr stage a frame (the reads of the
tracks' best crops; most frames read nothing), medians over the runs, and the frame rate against one read.
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

import numpy as np
import torch

from lpr_models.detector.detector import PlateDetector
from lpr_models.ocr.reader import COPIES, PlateReader, unzoomed
from stream.cli_bench import _timed_run, loop_clip

SHIFTS = unzoomed(COPIES)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("video", type=Path)
    parser.add_argument("--height", type=int, default=720)
    parser.add_argument("--frames", type=int, default=300)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    detector = PlateDetector.from_weights()
    shipped = PlateReader.from_weights()
    readers = {}
    for name, copies in (("one read", ()), ("shifted", SHIFTS), ("shifted and zoomed (default)", COPIES)):
        readers[name] = PlateReader(shipped.model, calibration=shipped.calibration)
        readers[name].copies = copies
    runs: dict[str, list[dict]] = {name: [] for name in readers}
    with tempfile.TemporaryDirectory() as tmp:
        clip = loop_clip(args.video, args.height, args.frames, Path(tmp) / "clip.mp4")
        names = list(readers)
        for repeat in range(args.repeats):
            first = repeat % len(names)
            for name in names[first:] + names[:first]:  # each reader first in turn
                endpoint = f"ipc://{tmp}/cost-{names.index(name)}-{repeat}.ipc"
                runs[name].append(_timed_run(clip, (detector, readers[name]), endpoint))
    report = {}
    for name, rows in runs.items():
        read_ms = [float(np.mean(r["stage_ms"].get("ocr", [0.0]))) for r in rows]  # most frames read nothing
        report[name] = {
            "fps": float(np.median([r["fps"] for r in rows])),
            "ocr_ms_per_frame": float(np.median(read_ms)),
        }
    base = report["one read"]
    for row in report.values():
        row["fps_ratio"] = row["fps"] / base["fps"]
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
