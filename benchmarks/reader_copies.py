"""Which copies of a plate the reader should average: plates read exactly with each set of copies.

    python benchmarks/reader_copies.py ../shared/data [--synthetic 1500] [--seed 5] [--json out.json]

Every real validation set (split by plate text) and, with --synthetic, rendered plates composited into the CCPD
validation photos (a draw of its own: --seed) are read from their labelled corners with the shipped reader,
once for each set of copies below ((shift in strips, zoom) pairs, see lpr_models.ocr.reader.COPIES), and the
plates read exactly are counted per set. The chosen copies are the reader's COPIES; the others are the
alternatives measured against them (docs/training.md).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from tqdm import tqdm

from lpr_models.ocr.reader import COPIES, PlateReader, unzoomed
from train.ocr_data import load_splits
from train.ocr_eval import matches, read_samples

SHIFTS = unzoomed(COPIES)
VARIANTS: dict[str, tuple[tuple[float, float], ...]] = {
    "one read": (),
    "shifted": SHIFTS,
    "shifted, zoomed 4%": SHIFTS + ((0.0, 1.04), (-0.5, 1.04), (0.5, 1.04)),
    "shifted, zoomed 6% (COPIES)": COPIES,
    "shifted, zoomed 9%": SHIFTS + ((0.0, 1.09), (-0.5, 1.09), (0.5, 1.09)),
    "shifted, zoomed out 6%": SHIFTS + ((0.0, 0.94), (-0.5, 0.94), (0.5, 0.94)),
    "shifted, zoomed 6% unshifted": SHIFTS + ((0.0, 1.06),),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("data", type=Path, help="the shared data folder (ccpd/, br_crops/, ...)")
    parser.add_argument("--synthetic", type=int, default=0, help="also this many rendered plates")
    parser.add_argument("--seed", type=int, default=5, help="their draw (lpr eval ocr reports seed 2)")
    parser.add_argument("--art", type=Path, default=Path("../shared/plate_art"))
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    reader = PlateReader.from_weights()
    _, sets = load_splits(args.data)
    if args.synthetic:
        from train.synth.plates import scene_plates, synthetic_samples

        scenes = scene_plates(args.data / "ccpd" / "images", None, "val")
        sets["synthetic"] = synthetic_samples(args.synthetic, scenes, args.art, seed=args.seed)
    report: dict[str, dict[str, int]] = {}
    for name, copies in tqdm(VARIANTS.items(), desc="copies"):
        counts = {
            set_name: sum(matches(p, t) for p, t, _, _ in read_samples(reader.model, samples, copies=copies))
            for set_name, samples in sets.items()
        }
        counts["real from elsewhere"] = sum(n for s, n in counts.items() if s not in ("ccpd", "synthetic"))
        report[name] = counts
    columns = list(next(iter(report.values())))
    print("| copies | " + " | ".join(f"{c} ({len(sets[c])})" if c in sets else c for c in columns) + " |")
    print("|---" * (len(columns) + 1) + "|")
    for name, counts in report.items():
        print(f"| {name} | " + " | ".join(str(counts[c]) for c in columns) + " |")
    if args.json:
        args.json.write_text(json.dumps(report, indent=1) + "\n")


if __name__ == "__main__":
    main()
