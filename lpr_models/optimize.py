"""Inference back-ends for the models: ONNX Runtime, TorchScript (traced and frozen), eager PyTorch.

`lpr bench models` measures them side by side. ONNX Runtime is the fastest on a CPU there,
so "auto" uses it when the optional `onnxruntime` package is installed; otherwise
TorchScript, which folds BatchNorm into the convolutions; eager is the plain fallback.
Each back-end is built per input shape on first use (the detector's letterbox size, the
reader's batch size).
"""

from __future__ import annotations

import functools
import hashlib
import importlib.util
import io
import logging
import os
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch

from lpr_models.backends import BACKENDS

log = logging.getLogger(__name__)


def onnx_available() -> bool:
    return importlib.util.find_spec("onnxruntime") is not None and importlib.util.find_spec("onnx") is not None


def resolve(backend: str) -> str:
    if backend not in BACKENDS:
        raise ValueError(f"unknown backend {backend!r}; choose from {', '.join(BACKENDS)}")
    if backend == "auto":
        return "onnx" if onnx_available() else "jit"
    if backend == "onnx" and not onnx_available():
        raise ValueError("backend 'onnx' needs the optional packages onnxruntime and onnx (pip install -e '.[onnx]')")
    return backend


def export_onnx(module: torch.nn.Module, example: torch.Tensor) -> bytes:
    """The module as an ONNX model (opset 17) whose batch size is dynamic; one output per tensor it returns."""
    buffer = io.BytesIO()
    fastpath = torch.backends.mha.get_fastpath_enabled()
    torch.backends.mha.set_fastpath_enabled(False)  # the fused transformer kernels have no ONNX form
    try:
        with torch.no_grad(), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            outputs = module(example)
            count = len(outputs) if isinstance(outputs, tuple) else 1
            names = ["output"] if count == 1 else [f"output{i}" for i in range(count)]
            torch.onnx.export(
                module,
                (example,),
                buffer,  # type: ignore[arg-type]  # a file-like object works; the stubs say a path
                dynamo=False,
                opset_version=17,
                input_names=["input"],
                output_names=names,
                dynamic_axes={"input": {0: "batch"}, **{name: {0: "batch"} for name in names}},
            )
    finally:
        torch.backends.mha.set_fastpath_enabled(fastpath)
    return buffer.getvalue()


@functools.cache
def _code_digest() -> bytes:
    """What else an exported model depends on: this package's code and the exporter's versions."""
    h = hashlib.sha256(
        f"{torch.__version__}|{importlib.util.find_spec('onnx') and __import__('onnx').__version__}".encode()
    )
    for source in sorted(Path(__file__).parent.rglob("*.py")):
        h.update(source.read_bytes())
    return h.digest()


def onnx_cache_path(module: torch.nn.Module, example: torch.Tensor) -> Path:
    """Where the export of `module` for inputs shaped like `example` is kept: named by everything it depends on
    (weights, input shape, code, versions), so a changed model never finds a stale file."""
    h = hashlib.sha256(_code_digest())
    h.update(f"{type(module).__module__}.{type(module).__qualname__}|{tuple(example.shape[1:])}".encode())
    for name, tensor in module.state_dict().items():
        h.update(name.encode())
        h.update(tensor.detach().cpu().contiguous().numpy().tobytes())
    root = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "lpr" / "onnx"
    return root / f"{h.hexdigest()[:32]}.onnx"


def cached_onnx(module: torch.nn.Module, example: torch.Tensor) -> bytes:
    """`export_onnx`, kept on disk: a process that starts the same model again skips the export (about a second).
    A cache that cannot be written is skipped."""
    path = onnx_cache_path(module, example)
    try:
        return path.read_bytes()
    except OSError:
        pass
    model = export_onnx(module, example)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_suffix(f".{os.getpid()}.tmp")
        temporary.write_bytes(model)
        os.replace(temporary, path)  # whole or absent, whoever else writes it at the same time
    except OSError as err:
        log.debug("ONNX cache %s not written: %s", path, err)
    return model


class OnnxRunner:
    """Run an ONNX model (bytes, as `export_onnx` makes them) with ONNX Runtime on the CPU."""

    def __init__(self, model: bytes) -> None:
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.intra_op_num_threads = torch.get_num_threads()
        options.inter_op_num_threads = 1
        # no busy-waiting between ops: the frame grabber's decoder shares these cores
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        self.session = ort.InferenceSession(model, options, providers=["CPUExecutionProvider"])

    def __call__(self, x: torch.Tensor) -> torch.Tensor | tuple[torch.Tensor, ...]:
        outputs = [torch.from_numpy(o) for o in self.session.run(None, {"input": x.contiguous().numpy()})]
        return outputs[0] if len(outputs) == 1 else tuple(outputs)


def compile_for_inference(
    module: torch.nn.Module, example: torch.Tensor, backend: str = "auto"
) -> Callable[[torch.Tensor], Any]:
    """A callable computing `module(x)` for inputs shaped like `example`."""
    backend = resolve(backend)
    module = module.eval()
    if backend == "eager":
        return module
    try:
        if backend == "onnx":
            return OnnxRunner(cached_onnx(module, example))
        with torch.inference_mode(False), torch.no_grad(), warnings.catch_warnings():
            warnings.simplefilter("ignore")  # tracer warnings about Python scalars: shapes are fixed per trace
            return torch.jit.freeze(torch.jit.trace(module, example, check_trace=False))
    except Exception as err:  # noqa: BLE001 - any export failure falls back to eager, loudly
        log.warning("%s back-end failed (%s); using eager PyTorch", backend, str(err).splitlines()[0])
        return module


class ShapeCache:
    """One compiled callable per input shape (per image shape for ONNX, whose batch size is dynamic)."""

    def __init__(self, module: torch.nn.Module, backend: str) -> None:
        self.module, self.backend = module, resolve(backend)
        self.compiled: dict[tuple[int, ...], Callable] = {}

    def __call__(self, x: torch.Tensor) -> Any:
        """The module's output: a tensor, or a tuple of them for a module with several outputs."""
        key = tuple(x.shape[1:]) if self.backend == "onnx" else tuple(x.shape)
        fn = self.compiled.get(key)
        if fn is None:
            fn = self.compiled[key] = compile_for_inference(self.module, x, self.backend)
        return fn(x)
