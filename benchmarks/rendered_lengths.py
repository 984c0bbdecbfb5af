"""How well readers read one region's rendered plates, by the number of characters and of rows.

    python benchmarks/rendered_lengths.py ../shared/data [READER.pt ...] [--style eu] [--plates 1000] [--seed 5]

`--plates` plates of `--style` (eu, uk, br, us, vn or a Chinese type) are rendered as `lpr eval ocr --synthetic`
renders them, pasted into the CCPD validation photos, and read from their labelled corners by every reader given
(the shipped one by default) as it reads in the pipeline. Prints the plates read exactly for each (characters,
rows), and how many readings had a character too few or too many: a reader that drops characters from long or
two-row plates shows it here, where a figure over all plates hides it (docs/training.md, "EU plates in two rows").
"""

from __future__ import annotations

import argparse
from collections import Counter
from pathlib import Path

from lpr_models.ocr.reader import PlateReader
from train.ocr_eval import matches, read_samples
from train.synth.plates import scene_plates, synthetic_samples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("data", type=Path, help="the shared data folder (ccpd/ holds the photos pasted into)")
    parser.add_argument("readers", type=Path, nargs="*", help="reader weights (default: the shipped reader)")
    parser.add_argument("--style", default="eu", help="the plate style rendered (train.synth.plates.STYLES)")
    parser.add_argument("--plates", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=5)
    parser.add_argument("--art", type=Path, default=Path("../shared/plate_art"))
    args = parser.parse_args()
    readers = {str(path): PlateReader.from_weights(path) for path in args.readers} or {
        "shipped": PlateReader.from_weights()
    }
    scenes = scene_plates(args.data / "ccpd" / "images", None, "val")
    samples = synthetic_samples(args.plates, scenes, args.art, seed=args.seed, styles=(args.style,))
    groups = Counter((len(s.text), s.rows) for s in samples)
    read: dict[str, Counter] = {}
    length_errors: dict[str, Counter] = {}
    for name, reader in readers.items():
        rows = read_samples(reader.model, samples, copies=reader.copies, second_look_below=reader.second_look_below)
        read[name] = Counter((len(s.text), s.rows) for s, (p, t, _, _) in zip(samples, rows) if matches(p, t))
        length_errors[name] = Counter(len(p) - len(t) for p, t, _, _ in rows if len(p) != len(t))
    print("| characters, rows | plates | " + " | ".join(readers) + " |")
    print("|---|---|" + "---|" * len(readers))
    for group in sorted(groups):
        cells = " | ".join(f"{read[name][group]} ({read[name][group] / groups[group]:.1%})" for name in readers)
        print(f"| {group[0]}, {group[1]} | {groups[group]} | {cells} |")
    total = " | ".join(f"{sum(read[name].values())}" for name in readers)
    print(f"| all | {len(samples)} | {total} |")
    for name in readers:
        print(
            f"{name}: a character too few {length_errors[name][-1]}, too many {length_errors[name][1]}, "
            f"other lengths {sum(n for d, n in length_errors[name].items() if abs(d) > 1)}"
        )


if __name__ == "__main__":
    main()
