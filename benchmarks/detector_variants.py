"""What each speed-up tool gives the detector: latency in one run, and accuracy on validation photos.

    python benchmarks/detector_variants.py ../shared/data/ccpd/images --json runs/det_variants.json

PyTorch's own tools (inference_mode, channels_last, BatchNorm folded into the convolutions,
TorchScript, torch.compile, int8 static quantization with FX graph mode) against ONNX Runtime
fp32 (the shipped default) and int8 (QDQ, per-channel weights). Int8 activations are
calibrated on training photos. Dynamic int8 quantization is not listed: it only quantizes
Linear and recurrent layers, and the detector has none.
"""

from __future__ import annotations

import argparse
import copy
import json
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np
import torch
from torch import nn
from torch.nn.utils.fusion import fuse_conv_bn_eval

from lpr_models.detector.detector import PlateDetector
from lpr_models.detector.preprocess import to_tensor
from lpr_models.geometry import letterbox
from lpr_models.optimize import OnnxRunner, compile_for_inference, export_onnx
from stream.cli_bench import median_ms
from train.det_data import split_ccpd
from train.det_eval import evaluate_detector


def quantize(fp32: bytes, calibration: list[torch.Tensor]) -> bytes:
    from onnxruntime.quantization import CalibrationDataReader, QuantFormat, QuantType, quantize_static
    from onnxruntime.quantization.shape_inference import quant_pre_process

    class Frames(CalibrationDataReader):
        def __init__(self) -> None:
            self.items = iter([{"input": x.numpy()} for x in calibration])

        def get_next(self):
            return next(self.items, None)

    with tempfile.TemporaryDirectory() as tmp:
        raw, prepared, quantized = (Path(tmp) / n for n in ("fp32.onnx", "prep.onnx", "int8.onnx"))
        raw.write_bytes(fp32)
        quant_pre_process(str(raw), str(prepared))
        quantize_static(
            str(prepared),
            str(quantized),
            Frames(),
            quant_format=QuantFormat.QDQ,
            per_channel=True,
            activation_type=QuantType.QUInt8,
            weight_type=QuantType.QInt8,
        )
        return quantized.read_bytes()


def torch_int8(net: torch.nn.Module, calibration: list[torch.Tensor]) -> torch.nn.Module:
    """Static int8 with PyTorch's FX graph mode (x86 back-end, per-channel weights)."""
    from torch.ao.quantization import get_default_qconfig_mapping
    from torch.ao.quantization.quantize_fx import convert_fx, prepare_fx

    prepared = prepare_fx(copy.deepcopy(net).eval(), get_default_qconfig_mapping("x86"), (calibration[0],))
    with torch.inference_mode():
        for x in calibration:
            prepared(x)
    return convert_fx(prepared)


def fold_batchnorm(net: torch.nn.Module) -> torch.nn.Module:
    """A copy with every BatchNorm folded into the convolution before it (torch.fx's `fuse` gets this model wrong)."""
    model = copy.deepcopy(net).eval()
    for module in model.modules():
        if isinstance(module, nn.Sequential):
            for i in range(len(module) - 1):
                if isinstance(module[i], nn.Conv2d) and isinstance(module[i + 1], nn.BatchNorm2d):
                    module[i], module[i + 1] = fuse_conv_bn_eval(module[i], module[i + 1]), nn.Identity()
    return model


def channels_last(net: torch.nn.Module):
    model = copy.deepcopy(net).to(memory_format=torch.channels_last)
    return lambda x: model(x.contiguous(memory_format=torch.channels_last))


def no_grad(net: torch.nn.Module):
    """Plain eager under no_grad instead of inference_mode, to show what inference_mode gives."""

    def forward(x: torch.Tensor) -> torch.Tensor:
        with torch.inference_mode(False), torch.no_grad():
            return net(x)

    return forward


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("data", type=Path, help="folder of CCPD-named photos")
    parser.add_argument("--weights", help="detector weights (default: shipped)")
    parser.add_argument("--input-size", type=int, nargs=2, default=(640, 640), metavar=("H", "W"))
    parser.add_argument("--calibration", type=int, default=64, help="training photos that set the activation ranges")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=30)
    parser.add_argument("--val-images", type=int, help="score on only the first N validation photos")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    size = tuple(args.input_size)
    detector = PlateDetector.from_weights(args.weights, refine=False, input_size=size, backend="eager")
    train_paths, val_paths = split_ccpd(args.data)
    val_paths = val_paths[: args.val_images]
    rng = np.random.default_rng(0)
    calibration = [
        to_tensor(letterbox(cv2.imread(str(train_paths[i])), size)[0][None])
        for i in rng.choice(len(train_paths), args.calibration, replace=False)
    ]

    net = detector.net.eval()
    x = calibration[0]
    fp32 = export_onnx(net, x)
    builders = {
        "eager": lambda: net,
        "eager_no_grad": lambda: no_grad(net),
        "eager_channels_last": lambda: channels_last(net),
        "bn_folded": lambda: fold_batchnorm(net),
        "torchscript_frozen": lambda: compile_for_inference(net, x, "jit"),
        "torch_compile": lambda: torch.compile(copy.deepcopy(net)),
        "torch_int8_fx": lambda: torch_int8(net, calibration),
        "onnx_fp32": lambda: OnnxRunner(fp32),
        "onnx_int8": lambda: OnnxRunner(quantize(fp32, calibration)),
    }
    report: dict = {"input_size": size, "threads": args.threads, "validation_photos": len(val_paths)}
    for name, build in builders.items():
        started = time.perf_counter()
        try:
            forward = build()
            with torch.inference_mode():
                forward(x)  # torch.compile compiles here
        except Exception as err:  # noqa: BLE001 - a tool that fails here is a result to report, not a crash
            report[name] = {"error": str(err).splitlines()[0]}
            continue
        with torch.inference_mode():
            row = {
                "build_s": time.perf_counter() - started,
                "ms": median_ms(lambda forward=forward: forward(x), args.repeats),
            }
        detector.forward = forward  # the wrapper's letterbox and decoding around this back-end
        row.update(evaluate_detector(detector, val_paths))
        report[name] = row
    for row in report.values():
        if isinstance(row, dict) and "ms" in row:
            row["speedup_vs_eager"] = report["eager"]["ms"] / row["ms"]
    print(json.dumps(report, indent=1))
    if args.json:
        args.json.write_text(json.dumps(report, indent=1) + "\n")


if __name__ == "__main__":
    main()
