"""The reader's size / speed / accuracy trade-off: one row per trained checkpoint, plus the
reference design's size (random weights, speed only) as the baseline of the same run.

    python benchmarks/ocr_sizes.py ../shared/data runs/size/*/recog/last.pt --json runs/ocr_sizes.json

Accuracy is exact match on each data set's validation crops (cut from labelled corners);
speed is the median ms per plate at batch 1 and batch 8 on `--threads` CPU threads, eager
PyTorch and ONNX Runtime (when installed).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import torch

from lpr_models.ocr.model import REFERENCE_CONFIG, MaskOCR, OcrConfig
from lpr_models.ocr.reader import PlateReader
from lpr_models.optimize import compile_for_inference, onnx_available
from stream.cli_bench import median_ms
from train.ocr_data import load_splits
from train.ocr_eval import evaluate_reader


def speed(model: MaskOCR, repeats: int) -> dict[str, float]:
    backends = ["eager"] + (["onnx"] if onnx_available() else [])
    row = {}
    for batch in (1, 8):
        x = torch.rand(batch, 3, model.cfg.height, model.cfg.width)
        for backend in backends:
            fn = model if backend == "eager" else compile_for_inference(model, x, backend)
            with torch.inference_mode():
                row[f"{backend}_b{batch}_ms"] = median_ms(lambda fn=fn, x=x: fn(x), repeats) / batch
    return row


def describe(cfg: OcrConfig) -> str:
    return f"embed {cfg.embed_dim}, {cfg.encoder_layers}+{cfg.decoder_layers} layers, {cfg.heads} heads"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("data", type=Path, help="folder with ccpd/, ccpd_crops/, br_crops/, us_crops/")
    parser.add_argument("weights", type=Path, nargs="+", help="reader checkpoints to compare")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=30)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    _, val = load_splits(args.data)

    reference = MaskOCR(REFERENCE_CONFIG).eval()
    rows = [
        {
            "weights": "reference size (untrained)",
            "config": describe(REFERENCE_CONFIG),
            "params_M": reference.reader_params() / 1e6,
            **speed(reference, max(5, args.repeats // 3)),
        }
    ]
    for path in args.weights:
        model = PlateReader.from_weights(path, backend="eager").model
        accuracy = {
            f"{name}_exact": evaluate_reader(model, samples)["exact"] for name, samples in val.items() if samples
        }
        rows.append(
            {
                "weights": str(path),
                "config": describe(model.cfg),
                "params_M": model.reader_params() / 1e6,
                **speed(model, args.repeats),
                **accuracy,
            }
        )
    fastest_b1 = "onnx_b1_ms" if onnx_available() else "eager_b1_ms"
    for row in rows:
        row["speedup_vs_reference_b1"] = rows[0][fastest_b1] / row[fastest_b1]
    for row in rows:
        print(json.dumps({k: round(v, 4) if isinstance(v, float) else v for k, v in row.items()}))
    if args.json:
        args.json.write_text(json.dumps({"threads": args.threads, "rows": rows}, indent=1) + "\n")


if __name__ == "__main__":
    main()
