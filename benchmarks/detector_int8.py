"""Does int8 earn its place for the detector? Static int8 quantization with ONNX Runtime
(QDQ, per-channel weights, activations calibrated on training photos) against the fp32
ONNX model and eager PyTorch: latency in the same run, and accuracy on validation photos.

    python benchmarks/detector_int8.py ../shared/data/ccpd/images --json runs/det_int8.json
"""
from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

import cv2
import numpy as np
import torch

from lpr_models.detector.detector import PlateDetector
from lpr_models.detector.preprocess import to_tensor
from lpr_models.geometry import letterbox
from lpr_models.optimize import OnnxRunner, export_onnx
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
        quantize_static(str(prepared), str(quantized), Frames(), quant_format=QuantFormat.QDQ, per_channel=True,
                        activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8)
        return quantized.read_bytes()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("data", type=Path, help="folder of CCPD-named photos")
    parser.add_argument("--weights", help="detector weights (default: shipped)")
    parser.add_argument("--input-size", type=int, nargs=2, default=(640, 640), metavar=("H", "W"))
    parser.add_argument("--calibration", type=int, default=64, help="training photos that set the activation ranges")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=30)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    size = tuple(args.input_size)
    detector = PlateDetector.from_weights(args.weights, refine=False, input_size=size, backend="eager")
    train_paths, val_paths = split_ccpd(args.data)
    rng = np.random.default_rng(0)
    calibration = [to_tensor(letterbox(cv2.imread(str(train_paths[i])), size)[0][None])
                   for i in rng.choice(len(train_paths), args.calibration, replace=False)]

    fp32 = export_onnx(detector.net, calibration[0])
    variants = {"eager": detector.net.eval(), "onnx_fp32": OnnxRunner(fp32), "onnx_int8": OnnxRunner(quantize(fp32, calibration))}
    x = calibration[0]
    report: dict = {"input_size": size, "threads": args.threads, "validation_photos": len(val_paths)}
    for name, forward in variants.items():
        with torch.inference_mode():
            row = {"ms": median_ms(lambda: forward(x), args.repeats)}
        detector.forward = forward  # the wrapper's letterbox and decoding around this back-end
        row.update(evaluate_detector(detector, val_paths))
        report[name] = row
    for name in variants:
        report[name]["speedup_vs_eager"] = report["eager"]["ms"] / report[name]["ms"]
    print(json.dumps(report, indent=1))
    if args.json:
        args.json.write_text(json.dumps(report, indent=1) + "\n")


if __name__ == "__main__":
    main()
