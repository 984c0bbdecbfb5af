"""Pieces every training command shares: schedule, checkpoints with resume, the epoch loop."""

from __future__ import annotations

import math
import pathlib
import time
from collections.abc import Callable, Sized
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm


class RandomSamples(torch.utils.data.Dataset):
    """Samples drawn at random from one seeded generator, without end; `length` only sets how many
    make an epoch, and `strength` scales the augmentation (0 = none)."""

    def __init__(self, length: int, strength: float = 1.0, seed: int = 0) -> None:
        self.length, self.strength = length, strength
        self.rng = np.random.default_rng(seed)

    def __len__(self) -> int:
        return self.length


def cosine_lr(step: int, total: int, base: float, warmup: int) -> float:
    """Linear warm-up then cosine decay to 1% of `base`."""
    if step < warmup:
        return base * (step + 1) / warmup
    progress = min(1.0, (step - warmup) / max(1, total - warmup))
    return base * (0.01 + 0.99 * 0.5 * (1 + math.cos(math.pi * progress)))


def save_checkpoint(path: Path, **state) -> None:
    """Write atomically, so an interrupted run never leaves a torn checkpoint."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    torch.save(state, tmp)
    tmp.replace(path)


def load_checkpoint(path: Path) -> dict:
    """A training checkpoint, read with weights_only=True; paths are allowed (runs before
    train.provenance.plain stored some settings as paths)."""
    with torch.serialization.safe_globals([pathlib.PosixPath, pathlib.WindowsPath]):
        return torch.load(path, map_location="cpu", weights_only=True)


def load_trained(path: Path, build: Callable[[dict], torch.nn.Module]) -> torch.nn.Module:
    """The model of a training or shipped checkpoint, rebuilt by `build(config)` with its
    weights in float32 (shipped weights are half precision), to train further."""
    state = load_checkpoint(path)
    model = build(state["config"])
    model.load_state_dict({k: v.float() for k, v in state["model"].items()})
    print(f"starting from {path}")
    return model


def run_epochs(
    *,
    model: torch.nn.Module,
    optimizer: torch.optim.Optimizer,
    batches: Callable[[], Sized],
    step_loss: Callable[[object], torch.Tensor],
    epochs: int,
    lr: float,
    out_dir: Path,
    extra_state: dict,
    validate: Callable[[], float | tuple[float, dict]] | None = None,
    resume: bool = False,
    grad_clip: float = 5.0,
    provenance: dict | None = None,
) -> float:
    """Train for `epochs`, validating after each; keep `last.pt` (for resume) and `best.pt`.

    `validate` returns a score where higher is better (optionally with the figures behind it);
    without it the negative training loss picks the best checkpoint. `provenance`
    (train.provenance) is stored in every checkpoint with the training time so far and the
    epoch's figures. Returns the best score.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    last, best_path = out_dir / "last.pt", out_dir / "best.pt"
    start_epoch, best, seconds = 0, -math.inf, 0.0
    if resume and last.is_file():
        state = load_checkpoint(last)
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        start_epoch, best = state["epoch"] + 1, state["best"]
        seconds = state.get("provenance", {}).get("seconds", 0.0)
        print(f"resumed from {last} at epoch {start_epoch}")
    steps_per_epoch = len(batches())
    total = steps_per_epoch * epochs
    for epoch in range(start_epoch, epochs):
        model.train()
        started, losses = time.time(), []
        bar = tqdm(batches(), total=steps_per_epoch, desc=f"epoch {epoch + 1}/{epochs}")
        for i, batch in enumerate(bar):
            for group in optimizer.param_groups:
                group["lr"] = cosine_lr(epoch * steps_per_epoch + i, total, lr, warmup=min(300, total // 10))
            loss = step_loss(batch)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), grad_clip)
            optimizer.step()
            losses.append(loss.item())
            bar.set_postfix(loss=f"{sum(losses[-50:]) / len(losses[-50:]):.4f}")
        model.eval()
        result = validate() if validate else -sum(losses) / len(losses)
        score, figures = result if isinstance(result, tuple) else (result, {})
        seconds += time.time() - started
        print(
            f"epoch {epoch + 1}: loss {sum(losses) / len(losses):.4f} score {score:.4f} ({time.time() - started:.0f}s)",
            flush=True,
        )
        state = dict(extra_state)
        if provenance is not None:
            state["provenance"] = {
                **provenance,
                "epoch": epoch + 1,
                "epochs": epochs,
                "seconds": round(seconds),
                "loss": sum(losses) / len(losses),
                "figures": figures,
            }
        if score > best:
            best = score
            save_checkpoint(best_path, model=model.state_dict(), epoch=epoch, score=score, **state)
        save_checkpoint(
            last, model=model.state_dict(), optimizer=optimizer.state_dict(), epoch=epoch, best=best, **state
        )
    return best
