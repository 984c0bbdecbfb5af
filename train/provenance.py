"""Where a checkpoint came from, stored in it: the commit, the command, the resolved settings, the data.

`lpr info WEIGHTS` prints it, so anyone holding a weights file can rebuild it and check that the
documented command is the one that made it.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import subprocess
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


def _git(*args: str) -> str:
    """Git's output as it prints it (`status --porcelain` lines start with a status column that may be a space)."""
    try:
        return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, timeout=10, check=True).stdout
    except (OSError, subprocess.SubprocessError):
        return ""


def code_state() -> tuple[str, list[str]]:
    """(The commit checked out, the files changed since) now."""
    changed = [line[3:] for line in _git("status", "--porcelain").splitlines() if not line[3:].startswith("runs/")]
    return _git("rev-parse", "HEAD").strip(), changed


# The code a training process runs is the code checked out when it started: taken when this module is imported
# (with the training command), not minutes later when the data is loaded and the commit may have moved on.
CODE_AT_START = code_state()


def plain(value: Any) -> Any:
    """`value` with paths (however nested) as strings: checkpoints must load with weights_only=True."""
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    return value


def data_digest(items: Iterable[str]) -> tuple[str, int]:
    """SHA-256 over the sorted item descriptions (file and label of every sample read) and their count."""
    lines = sorted(items)
    return hashlib.sha256("\n".join(lines).encode("utf-8")).hexdigest(), len(lines)


def provenance(module: str, argv: list[str] | None, args: argparse.Namespace, data: Iterable[str]) -> dict:
    """The record a training command stores in each checkpoint (run_epochs adds its time and figures).

    `argv` is what the command parsed (None: the process's own arguments).
    """
    digest, count = data_digest(data)
    commit, changed = CODE_AT_START
    return {
        "commit": commit,
        "uncommitted_changes": changed,
        "command": " ".join(["python", "-m", module, *(sys.argv[1:] if argv is None else argv)]),
        "settings": plain(vars(args)),
        "data_digest": digest,
        "data_items": count,
        "started": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }
