"""Ship a trained checkpoint: keep the weights (half precision), the config and the provenance, record its SHA-256.

python -m train.export detector runs/det/best.pt
python -m train.export refiner runs/refiner/best.pt
python -m train.export ocr runs/ocr/best.pt
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from lpr_models.weights import DIGESTS_FILE, SHIPPED, sha256
from train.loop import load_checkpoint, save_checkpoint
from train.provenance import plain


def export(kind: str, checkpoint: Path, out: Path | None = None) -> Path:
    state = load_checkpoint(checkpoint)
    out = out or SHIPPED[kind]
    weights = {k: v.half() if v.is_floating_point() else v for k, v in state["model"].items()}
    if state.get("kind", kind) != kind:
        raise ValueError(f"{checkpoint} holds {state['kind']} weights, not {kind} weights")
    extra = (
        {"provenance": plain({**state["provenance"], "checkpoint": checkpoint.name})} if "provenance" in state else {}
    )
    save_checkpoint(out, kind=kind, config=state["config"], model=weights, **extra)
    if out.parent == DIGESTS_FILE.parent:
        digests = json.loads(DIGESTS_FILE.read_text()) if DIGESTS_FILE.is_file() else {}
        digests[out.name] = sha256(out)
        DIGESTS_FILE.write_text(json.dumps(digests, indent=1, sort_keys=True) + "\n")
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("kind", choices=sorted(SHIPPED))
    parser.add_argument("checkpoint", type=Path)
    parser.add_argument("--out", type=Path, help="default: the shipped weights file")
    args = parser.parse_args(argv)
    path = export(args.kind, args.checkpoint, args.out)
    print(f"wrote {path} ({path.stat().st_size / 1e6:.1f} MB)")


if __name__ == "__main__":
    main()
