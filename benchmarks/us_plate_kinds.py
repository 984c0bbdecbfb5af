"""How well readers read each kind of rendered US plate: dark on light, light on dark, dark on yellow, light on a
mid-tone colour, stacked, with an emblem between the groups or at the left end.

    python benchmarks/us_plate_kinds.py ../shared/data [READER.pt ...] [--plates 200] [--seed 11] [--also-as-is]

For each kind, `--plates` US plates are rendered with only that kind drawn (the shares in SHARES, from
train.synth.world_plates), pasted into the CCPD validation photos, and read from their labelled corners by every
reader given (the shipped one by default), as it reads in the pipeline (its copies). Prints the plates read exactly
per kind and reader (docs/training.md, "light characters on dark plates" and "emblems and mid-tone grounds").
`--also-as-is` adds a column for each reader reading every plate as it is, never in a second look (`[ocr]
second_looks = false`: the releases before the second looks).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import train.synth.world_plates as world_plates
from lpr_models.ocr.reader import PlateReader
from train.ocr_eval import matches, read_samples
from train.synth.plates import scene_plates, synthetic_samples

SHARES = (
    "US_DARK_SHARE",
    "US_YELLOW_SHARE",
    "US_MIDTONE_SHARE",
    "US_STACK_SHARE",
    "US_EMBLEM_SHARE",
    "US_END_EMBLEM_SHARE",
)
# the shares (in SHARES' order) that draw one kind only
KINDS = {
    "dark on light": (0.0, 0.0, 0.0, 0.0, 0.0, 0.0),
    "light on dark": (1.0, 0.0, 0.0, 0.0, 0.0, 0.0),
    "dark on yellow": (0.0, 1.0, 0.0, 0.0, 0.0, 0.0),
    "light on a mid-tone colour": (0.0, 0.0, 1.0, 0.0, 0.0, 0.0),
    "stacked characters": (0.0, 0.0, 0.0, 1.0, 0.0, 0.0),
    "emblem between the groups": (0.0, 0.0, 0.0, 0.0, 1.0, 0.0),
    "emblem at the left end": (0.0, 0.0, 0.0, 0.0, 0.0, 1.0),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("data", type=Path, help="the shared data folder (ccpd/ holds the photos pasted into)")
    parser.add_argument("readers", type=Path, nargs="*", help="reader weights (default: the shipped reader)")
    parser.add_argument("--plates", type=int, default=200, help="rendered plates of each kind")
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--art", type=Path, default=Path("../shared/plate_art"))
    parser.add_argument(
        "--also-as-is", action="store_true", help="also read each plate as it is, never in a second look"
    )
    args = parser.parse_args()
    loaded = {str(path): PlateReader.from_weights(path) for path in args.readers} or {
        "shipped": PlateReader.from_weights()
    }
    readers = {(name, True): reader for name, reader in loaded.items()}
    if args.also_as_is:
        readers.update({(name, False): reader for name, reader in loaded.items()})
    scenes = scene_plates(args.data / "ccpd" / "images", None, "val")
    names = [name if looks else f"{name}, as is" for name, looks in readers]
    print("| kind | " + " | ".join(names) + " |")
    print("|---|" + "---|" * len(readers))
    for kind, shares in KINDS.items():
        for name, share in zip(SHARES, shares):
            setattr(world_plates, name, share)
        samples = synthetic_samples(args.plates, scenes, args.art, seed=args.seed, styles=("us",))
        read = []
        for (_, looks), reader in readers.items():
            below = reader.second_look_below if looks else 0.0
            rows = read_samples(reader.model, samples, copies=reader.copies, second_look_below=below)
            read.append(sum(matches(p, t) for p, t, _, _ in rows))
        print(f"| {kind} | " + " | ".join(f"{n}/{len(samples)}" for n in read) + " |", flush=True)


if __name__ == "__main__":
    main()
