"""Train the corner refiner on CCPD photos; validation runs it behind a trained detector.

python -m train.refine_train --data ../shared/data/ccpd/images --out runs/refiner --epochs 30
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import torch

from lpr_models.detector.detector import PlateDetector
from lpr_models.detector.refiner import CornerRefiner, CornerRefinerNet, RefinerConfig
from train.det_data import PlateSwap, split_ccpd
from train.det_eval import corner_penalty, evaluate_detector
from train.loop import load_trained, run_epochs
from train.provenance import provenance
from train.refine_data import RefinerDataset, load_patches


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--data", type=Path, default=Path("../shared/data/ccpd/images"), help="folder of CCPD-named photos"
    )
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument(
        "--detector", type=Path, help="detector weights the refiner is validated behind (default: shipped)"
    )
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--samples-per-epoch", type=int, default=8000)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--val-images", type=int, default=200, help="validation photos scored after each epoch")
    parser.add_argument("--lr", type=float, default=2e-3)
    parser.add_argument("--strength", type=float, default=1.0, help="augmentation strength (0 = none)")
    parser.add_argument("--channels", type=int, default=RefinerConfig.channels)
    parser.add_argument("--limit", type=int, help="read at most this many photos (for quick tests)")
    parser.add_argument("--threads", type=int, default=torch.get_num_threads())
    parser.add_argument("--resume", action="store_true")
    parser.add_argument(
        "--swap-share",
        type=float,
        default=0.0,
        help="share of plates replaced by rendered plates of every type (train.synth; needs --art)",
    )
    parser.add_argument("--art", type=Path, default=Path("../shared/plate_art"), help="plate art for --swap-share")
    parser.add_argument("--init", type=Path, help="start from these refiner weights (fine-tuning)")
    parser.add_argument(
        "--rotation",
        type=float,
        default=0.0,
        metavar="DEGREES",
        help="also turn a third of the perturbed guesses by up to this many degrees (plates turned in the frame)",
    )
    parser.add_argument(
        "--harsh-share",
        type=float,
        default=0.0,
        help="share of plates shown under one harsh condition (train.augment.harsh: blur, night, overexposure, haze)",
    )
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)

    if args.init:
        model = load_trained(args.init, lambda config: CornerRefinerNet(RefinerConfig(**config)))
    else:
        model = CornerRefinerNet(RefinerConfig(channels=args.channels))
    cfg = model.cfg
    train_paths, val_paths = split_ccpd(args.data, args.limit)
    swap = PlateSwap(args.art, args.swap_share) if args.swap_share > 0 else None
    dataset = RefinerDataset(
        load_patches(train_paths),
        cfg,
        args.samples_per_epoch,
        args.strength,
        swap=swap,
        rotation=args.rotation,
        harsh_share=args.harsh_share,
    )
    val_paths = val_paths[: args.val_images]
    detector = PlateDetector.from_weights(args.detector, refine=False, backend="eager")
    scale = torch.tensor([cfg.width, cfg.height], dtype=torch.float32)

    def batches():
        return torch.utils.data.DataLoader(dataset, batch_size=args.batch)

    def step_loss(batch) -> torch.Tensor:
        canvases, targets = batch
        return torch.nn.functional.smooth_l1_loss(model(canvases) * scale, targets * scale, beta=1.0)

    def validate() -> tuple[float, dict]:
        detector.refiner = CornerRefiner(model, backend="eager")
        report = evaluate_detector(detector, val_paths)
        print(json.dumps({k: round(v, 4) for k, v in report.items()}))
        model.train()
        return report["detection_rate"] - corner_penalty(report), report

    optimizer = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=0.01)
    run_epochs(
        model=model,
        optimizer=optimizer,
        batches=batches,
        step_loss=step_loss,
        epochs=args.epochs,
        lr=args.lr,
        out_dir=args.out,
        extra_state={"kind": "refiner", "config": cfg.to_dict()},
        validate=validate,
        resume=args.resume,
        provenance=provenance("train.refine_train", argv, args, (p.name for p in train_paths)),
    )


if __name__ == "__main__":
    main()
