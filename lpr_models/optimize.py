"""Inference back-ends for the models: eager PyTorch, or TorchScript traced and frozen.

Freezing folds BatchNorm into the convolutions and constant-folds the graph; on this
project's benchmark (`lpr bench models`) it is the fastest back-end on a CPU, so the
wrappers use it by default and fall back to eager where tracing fails.
"""
from __future__ import annotations

import logging
import warnings
from typing import Callable

import torch

log = logging.getLogger(__name__)
BACKENDS = ("jit", "eager")


def compile_for_inference(module: torch.nn.Module, example: torch.Tensor, backend: str = "jit") -> Callable[[torch.Tensor], torch.Tensor]:
    """A callable computing `module(x)` for inputs shaped like `example`."""
    if backend not in BACKENDS:
        raise ValueError(f"unknown backend {backend!r}; choose from {', '.join(BACKENDS)}")
    module = module.eval()
    if backend == "eager":
        return module
    try:
        with torch.inference_mode(False), torch.no_grad(), warnings.catch_warnings():
            warnings.simplefilter("ignore")  # tracer warnings about Python scalars: shapes are fixed per trace
            return torch.jit.freeze(torch.jit.trace(module, example, check_trace=False))
    except (RuntimeError, TypeError) as err:  # pragma: no cover - depends on the torch build
        log.warning("TorchScript tracing failed (%s); using eager mode", err)
        return module


class ShapeCache:
    """One compiled callable per input shape (the detector's letterbox size, the reader's batch size)."""

    def __init__(self, module: torch.nn.Module, backend: str) -> None:
        self.module, self.backend = module, backend
        self.compiled: dict[tuple[int, ...], Callable] = {}

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        key = tuple(x.shape)
        fn = self.compiled.get(key)
        if fn is None:
            fn = self.compiled[key] = compile_for_inference(self.module, x, self.backend)
        return fn(x)
