"""Train the plate detector from scratch on CCPD photos.

python -m train.det_train --data ../shared/data/ccpd/images --out runs/det --epochs 40
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import torch

from lpr_models.detector.detector import PlateDetector
from lpr_models.detector.head import make_priors
from lpr_models.detector.model import STRIDES, DetectorConfig, PlateDetectorNet
from train.det_data import DetectionDataset, PlateSwap, collate, load_box_scenes, load_photos, split_ccpd
from train.det_eval import corner_penalty, evaluate_detector
from train.det_loss import detection_loss
from train.loop import load_trained, run_epochs
from train.provenance import provenance
from train.synth.plates import CN_SHARE, style_boost


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--data", type=Path, default=Path("../shared/data/ccpd/images"), help="folder of CCPD-named photos"
    )
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--epochs", type=int, default=40)
    parser.add_argument("--samples-per-epoch", type=int, default=2000)
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--size", type=int, default=384, help="square training input (letterboxed)")
    parser.add_argument("--eval-size", type=int, default=640)
    parser.add_argument("--val-images", type=int, default=200, help="validation photos scored after each epoch")
    parser.add_argument("--lr", type=float, default=2e-3)
    parser.add_argument("--strength", type=float, default=1.0, help="augmentation strength (0 = none)")
    parser.add_argument("--width", type=float, default=DetectorConfig.width)
    parser.add_argument("--depth", type=int, default=DetectorConfig.depth)
    parser.add_argument("--neck-channels", type=int, default=DetectorConfig.neck_channels)
    parser.add_argument("--limit", type=int, help="read at most this many photos (for quick tests)")
    parser.add_argument("--threads", type=int, default=torch.get_num_threads())
    parser.add_argument("--resume", action="store_true")
    parser.add_argument("--init", type=Path, help="start from these weights (fine-tuning, e.g. at a larger --size)")
    parser.add_argument(
        "--swap-share",
        type=float,
        default=0.0,
        help="share of plates replaced by rendered plates of every type (train.synth; needs --art)",
    )
    parser.add_argument("--art", type=Path, default=Path("../shared/plate_art"), help="plate art for --swap-share")
    parser.add_argument(
        "--swap-cn-share",
        type=float,
        default=CN_SHARE,
        help="share of Chinese types among the swapped plates (the rest: EU, UK, Brazil, US, Vietnam, evenly)",
    )
    parser.add_argument(
        "--swap-boost",
        type=style_boost,
        nargs="*",
        default=[],
        metavar="STYLE=FACTOR",
        help="draw these swapped plate styles FACTOR times as often (e.g. vn=3)",
    )
    parser.add_argument("--scene-share", type=float, default=0.2, help="share of tiles drawn from the --scenes photos")
    parser.add_argument(
        "--rotation",
        type=float,
        default=0.0,
        metavar="DEGREES",
        help="turn a quarter of the training frames in their plane by up to this many degrees (e.g. 50)",
    )
    parser.add_argument(
        "--harsh-share",
        type=float,
        default=0.0,
        help="share of the training frames shown blurred, dark, overexposed or hazy instead of the usual "
        "augmentation (train.augment.harsh)",
    )
    parser.add_argument(
        "--scenes",
        type=Path,
        nargs="*",
        default=[],
        help="box-labelled scene CSVs to train on too (e.g. ../shared/data/uc3m/scenes.csv)",
    )
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)

    if args.init:
        model = load_trained(args.init, lambda config: PlateDetectorNet(DetectorConfig(**config)))
    else:
        model = PlateDetectorNet(DetectorConfig(width=args.width, depth=args.depth, neck_channels=args.neck_channels))
    cfg = model.cfg
    model = model.to(memory_format=torch.channels_last)
    train_paths, val_paths = split_ccpd(args.data, args.limit)
    photos = load_photos(train_paths)
    data = [p.name for p in train_paths]
    scenes = []
    for labels in args.scenes:
        loaded = load_box_scenes(labels)
        scenes += loaded
        data += [f"{labels.parent.name}: {len(loaded)} photos"]
    weights = None
    if scenes:  # the scenes from elsewhere make `--scene-share` of the tiles, however many there are
        weights = np.array(
            [(1 - args.scene_share) / len(photos)] * len(photos) + [args.scene_share / len(scenes)] * len(scenes)
        )
    boost = dict(args.swap_boost)
    prepare = PlateSwap(args.art, args.swap_share, args.swap_cn_share, boost) if args.swap_share > 0 else None
    dataset = DetectionDataset(
        photos + scenes,
        args.size,
        args.samples_per_epoch,
        args.strength,
        prepare=prepare,
        weights=weights,
        rotation=args.rotation,
        harsh_share=args.harsh_share,
    )
    val_paths = val_paths[: args.val_images]
    priors = make_priors(args.size, args.size, STRIDES)

    def batches():
        return torch.utils.data.DataLoader(dataset, batch_size=args.batch, collate_fn=collate)

    def step_loss(batch) -> torch.Tensor:
        images, targets = batch
        loss, _ = detection_loss(model(images), priors, targets, STRIDES)
        return loss

    def validate() -> tuple[float, dict]:
        report = evaluate_detector(PlateDetector(model, (args.eval_size, args.eval_size)), val_paths)
        print(json.dumps({k: round(v, 4) for k, v in report.items()}))
        model.train()
        return report["detection_rate"] + report["ap50"] - corner_penalty(report), report

    optimizer = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=0.01)
    run_epochs(
        model=model,
        optimizer=optimizer,
        batches=batches,
        step_loss=step_loss,
        epochs=args.epochs,
        lr=args.lr,
        out_dir=args.out,
        extra_state={"kind": "detector", "config": cfg.to_dict()},
        validate=validate,
        resume=args.resume,
        provenance=provenance("train.det_train", argv, args, data),
    )


if __name__ == "__main__":
    main()
