"""Average the weights of checkpoints fine-tuned from the same weights (a "model soup", Wortsman et al. 2022).

Two fine-tuning runs of the reader from one starting point trade a few plates between regions from run to run
(one run gained Vietnam and lost Brazil); their average keeps most of both gains and is one model, so it costs
nothing at inference.

python -m train.average runs/ocr_soup.pt runs/ocr_rows/last.pt runs/ocr_rows2/last.pt
"""

from __future__ import annotations

import argparse
from pathlib import Path

import torch

from train.loop import load_checkpoint, save_checkpoint
from train.provenance import plain, provenance


def average_weights(states: list[dict[str, torch.Tensor]]) -> dict[str, torch.Tensor]:
    """The element-wise mean of float tensors (in float32); other tensors (counters) from the first state."""
    if not states:
        raise ValueError("nothing to average")
    keys = set(states[0])
    for state in states[1:]:
        if set(state) != keys or any(state[k].shape != states[0][k].shape for k in keys):
            raise ValueError("checkpoints of different architectures cannot be averaged")
    return {
        k: torch.stack([s[k].float() for s in states]).mean(0) if v.is_floating_point() else v
        for k, v in states[0].items()
    }


def average_checkpoints(out: Path, sources: list[Path], argv: list[str] | None = None) -> Path:
    """Write the average of `sources` (same kind and config) to `out`, its provenance naming each source's."""
    checkpoints = [load_checkpoint(path) for path in sources]
    first = checkpoints[0]
    for path, state in zip(sources, checkpoints):
        if state.get("kind") != first.get("kind") or state["config"] != first["config"]:
            raise ValueError(f"{path} is not the same kind and architecture as {sources[0]}")
    record = provenance("train.average", argv, argparse.Namespace(sources=sources), [])
    record["sources"] = {str(path): plain(state.get("provenance", {})) for path, state in zip(sources, checkpoints)}
    save_checkpoint(
        out,
        kind=first.get("kind"),
        config=first["config"],
        model=average_weights([state["model"] for state in checkpoints]),
        provenance=record,
    )
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("out", type=Path)
    parser.add_argument("sources", type=Path, nargs="+", help="checkpoints of one kind and architecture")
    args = parser.parse_args(argv)
    average_checkpoints(args.out, args.sources, argv)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
