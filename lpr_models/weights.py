"""Loading model weights safely: tensors and plain values only, checked before use.

Weights are read with `torch.load(weights_only=True)`, which never unpickles code; the
shipped files' SHA-256 digests are checked so a corrupted or tampered file is refused;
and the checkpoint must say which model it holds.
"""

from __future__ import annotations

import hashlib
import json
import pickle
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import torch

WEIGHTS_DIR = Path(__file__).parent / "weights"
SHIPPED = {
    "detector": WEIGHTS_DIR / "detector.pt",
    "refiner": WEIGHTS_DIR / "refiner.pt",
    "ocr": WEIGHTS_DIR / "ocr.pt",
}
DIGESTS_FILE = WEIGHTS_DIR / "SHA256SUMS.json"


class WeightsError(ValueError):
    """Weights that cannot be used: missing, tampered with, not ours, or of another model."""


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def read_checkpoint(path: Path) -> dict:
    """The checkpoint dict at `path`, read with weights_only=True; one WeightsError line for anything else."""
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except (pickle.UnpicklingError, RuntimeError, EOFError, ValueError, IndexError, KeyError, OSError) as err:
        reason = str(err).splitlines()[0] if str(err) else ""
        raise WeightsError(
            f"{path} is not a weights file this project can load safely "
            f"({type(err).__name__}{': ' + reason if reason else ''})"
        ) from None
    if not isinstance(state, dict):
        raise WeightsError(f"{path} is not a checkpoint of this project (not a dictionary)")
    return state


def load_weights(kind: str, path: str | Path | None = None) -> dict:
    """Checkpoint dict ("kind", "config", "model") for `kind`, from `path` or the shipped file."""
    shipped = path is None
    path = Path(path) if path is not None else SHIPPED[kind]
    if not path.is_file():
        raise WeightsError(f"{kind} weights not found: {path}")
    if shipped:
        expected = json.loads(DIGESTS_FILE.read_text()).get(path.name) if DIGESTS_FILE.is_file() else None
        if expected != sha256(path):
            raise WeightsError(
                f"shipped {kind} weights {path} do not match their SHA-256 in {DIGESTS_FILE.name}: refusing them"
            )
    state = read_checkpoint(path)
    if not {"config", "model"} <= state.keys():
        raise WeightsError(f"{path} is not a checkpoint of this project (no config/model entries)")
    if state.get("kind") != kind:
        held = f"{state['kind']} weights" if "kind" in state else "no 'kind' entry (an old or pre-training checkpoint?)"
        raise WeightsError(f"{path} holds {held}, not {kind} weights")
    return state


def describe_weights(path: str | Path) -> dict:
    """A weights file's kind, config, size, SHA-256 and provenance (commit, command, data digest, time, figures)."""
    path = Path(path)
    if not path.is_file():
        raise WeightsError(f"weights not found: {path}")
    state = read_checkpoint(path)
    if "model" not in state:
        raise WeightsError(f"{path} is not a checkpoint of this project (no model entry)")
    return {
        "file": str(path),
        "sha256": sha256(path),
        "kind": state.get("kind", "unknown"),
        "parameters": sum(v.numel() for v in state["model"].values()),
        "config": state.get("config", {}),
        "provenance": state.get("provenance", "none recorded (trained before provenance was kept)"),
    }


M = TypeVar("M", bound=torch.nn.Module)


def build_model(kind: str, path: str | Path | None, factory: Callable[[dict], M]) -> M:
    """Load a checkpoint and build its model with `factory(config_dict)`; a mismatch is a WeightsError."""
    return load_model(kind, path, factory)[0]


def load_model(kind: str, path: str | Path | None, factory: Callable[[dict], M]) -> tuple[M, dict]:
    """The model and the checkpoint it came from (for entries beside the weights, such as a calibration)."""
    state = load_weights(kind, path)
    try:
        model = factory(state["config"])
        model.load_state_dict(state["model"])
    except (TypeError, RuntimeError) as err:
        raise WeightsError(
            f"{kind} weights {path or SHIPPED[kind]} do not fit this project's {kind}: {str(err).splitlines()[0]}"
        ) from None
    return model, state
