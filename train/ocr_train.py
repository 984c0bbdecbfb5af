"""Train the plate reader: MAE pre-training of the encoder, then recognition.

python -m train.ocr_train mae   --data ../shared/data --out runs/ocr_mae  --epochs 30
python -m train.ocr_train recog --data ../shared/data --out runs/ocr      --epochs 40 --init runs/ocr_mae/best.pt
"""

from __future__ import annotations

import argparse
import json
from dataclasses import fields
from pathlib import Path

import torch

from lpr_models.ocr.model import MaskOCR, OcrConfig
from lpr_models.vocab import PAD, REGIONS
from train.arguments import keyed_number
from train.loop import load_checkpoint, load_trained, run_epochs
from train.ocr_data import CORNER_JITTER, IGNORE, WRONG_VIEW_SHARE, PlateDataset, load_splits, repeat_regions
from train.ocr_eval import evaluate_reader
from train.provenance import provenance
from train.synth.plates import style_boost


def transfer_weights(model: torch.nn.Module, source: dict) -> str:
    """Copy the tensors of `source` that fit `model` by name and shape (the character queries by their first
    slots); say what was copied and what was left as it was."""
    own = model.state_dict()
    copied, skipped = [], []
    for name, value in source.items():
        target = own.get(name)
        if target is None:
            skipped.append(name)
        elif target.shape == value.shape:
            own[name] = value.float()
            copied.append(name)
        elif name == "queries" and target.shape[1] > value.shape[1]:  # one more query (the region's) at the end
            own[name][:, : value.shape[1]] = value.float()
            copied.append(name)
        else:
            skipped.append(name)
    model.load_state_dict(own)
    return f"transferred {len(copied)} tensors; kept {len(skipped)} as they were: {', '.join(skipped) or 'none'}"


region_repeat = keyed_number(REGIONS, int, "REGION")


def hidden_slot_loss(char_logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """Mean -log P(not the end) over the hidden (IGNORE) positions of (B, slots, classes) logits.

    A painted-over character (UC3M) is still a character: ignored by the cross-entropy alone, the
    reader was free to end the plate there, and read 57-4JN- as the six characters 5714JN.
    """
    hidden = targets == IGNORE
    if not hidden.any():
        return char_logits.new_zeros(())
    log_end = char_logits.log_softmax(-1)[..., PAD][hidden]
    return -torch.log(-torch.expm1(log_end).clamp(max=-1e-6)).mean()


def character_loss(char_logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """The reader's loss on its (B, slots, classes) character logits: label-smoothed cross-entropy on the readable
    slots, and `hidden_slot_loss` on the painted-over ones."""
    smoothed = torch.nn.functional.cross_entropy(
        char_logits.flatten(0, 1), targets.flatten(), label_smoothing=0.1, ignore_index=IGNORE
    )
    return smoothed + hidden_slot_loss(char_logits, targets)


def build_config(args: argparse.Namespace) -> OcrConfig:
    overrides = {f.name: getattr(args, f.name) for f in fields(OcrConfig) if getattr(args, f.name, None) is not None}
    return OcrConfig(**overrides)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("stage", choices=["mae", "recog"])
    parser.add_argument(
        "--data",
        type=Path,
        default=Path("../shared/data"),
        help="folder holding ccpd/, ccpd_crops/, br_crops/, us_crops/, vn_crops/, uc3m/",
    )
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--strength", type=float, default=1.0, help="augmentation strength (0 = none)")
    parser.add_argument("--mask-ratio", type=float, default=0.7)
    parser.add_argument(
        "--corner-jitter",
        type=float,
        nargs=2,
        default=CORNER_JITTER,
        metavar=("X", "Y"),
        help="largest per-corner move at strength 1, as shares of the plate's width and height",
    )
    parser.add_argument(
        "--wrong-view-share",
        type=float,
        default=WRONG_VIEW_SHARE,
        help="share of plates shown in the other row layout's view, to be read as nothing (recognition only)",
    )
    parser.add_argument(
        "--harsh-share",
        type=float,
        default=0.0,
        help="share of plates shown blurred, dark, overexposed or hazy instead of the usual augmentation "
        "(train.augment.harsh; recognition only)",
    )
    parser.add_argument(
        "--loose-share",
        type=float,
        default=0.0,
        help="share of plates framed loosely, with up to LOOSE_FRAMING of their size added around them "
        "(train.ocr_data.loosen; recognition only)",
    )
    parser.add_argument(
        "--invert-share",
        type=float,
        default=0.0,
        help="share of plates from outside China shown in inverted colours, light characters on a dark ground "
        "(recognition only; Chinese plates keep the colours that tell their types)",
    )
    parser.add_argument(
        "--found-corners",
        action="store_true",
        help="also train on every real crop at the corners the corner refiner finds in it (train.crop_corners), "
        "as the pipeline crops a detected plate: each crop is then seen twice, whole and at its found corners",
    )
    parser.add_argument("--init", type=Path, help="checkpoint whose encoder starts recognition (MAE pre-training)")
    parser.add_argument("--finetune", type=Path, help="start from this whole trained reader (its config is kept)")
    parser.add_argument(
        "--transfer",
        type=Path,
        help="then copy in every tensor of this reader checkpoint whose name and shape fit (a reader of another "
        "layout: its transformer layers and character head carry over)",
    )
    parser.add_argument(
        "--synthetic", type=int, default=0, help="add this many synthetic plates (train.synth) to training"
    )
    parser.add_argument(
        "--synthetic-val",
        type=int,
        default=0,
        help="score on this many synthetic plates composited into validation photos",
    )
    parser.add_argument(
        "--art", type=Path, default=Path("../shared/plate_art"), help="plate art for the synthetic plates"
    )
    parser.add_argument(
        "--region-weight", type=float, default=0.5, help="weight of the region loss beside the characters'"
    )
    parser.add_argument(
        "--repeat",
        type=region_repeat,
        nargs="*",
        default=[],
        metavar="REGION=N",
        help="show the real plates of REGION N times an epoch (e.g. br=3 us=4)",
    )
    parser.add_argument(
        "--synthetic-seed", type=int, default=1, help="seed of the rendered training plates (a new seed, new plates)"
    )
    parser.add_argument(
        "--synthetic-boost",
        type=style_boost,
        nargs="*",
        default=[],
        metavar="STYLE=FACTOR",
        help="render these plate styles FACTOR times as often (e.g. us=2)",
    )
    parser.add_argument("--limit", type=int, help="read at most this many images per folder (for quick tests)")
    parser.add_argument("--threads", type=int, default=torch.get_num_threads())
    parser.add_argument("--resume", action="store_true")
    for f in fields(OcrConfig):
        parser.add_argument(f"--{f.name.replace('_', '-')}", type=type(f.default), dest=f.name)
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)

    train, val = load_splits(args.data, args.limit)
    if args.found_corners:
        from lpr_models.detector.refiner import CornerRefiner
        from train.crop_corners import with_found_copies

        train = with_found_copies(train, CornerRefiner.from_weights())
        print(f"real crops also at their found corners: {len(train)} training plates")
    if args.repeat:
        train = repeat_regions(train, dict(args.repeat))
        print(f"real plates repeated ({', '.join(f'{r}={n}' for r, n in args.repeat)}): {len(train)} training plates")
    if args.synthetic or args.synthetic_val:
        from train.synth.plates import scene_plates, synthetic_samples

        photos = args.data / "ccpd" / "images"
        if args.synthetic:
            train += synthetic_samples(
                args.synthetic,
                scene_plates(photos, args.limit),
                args.art,
                seed=args.synthetic_seed,
                boost=dict(args.synthetic_boost),
            )
            print(f"{args.synthetic} synthetic plates added: {len(train)} training plates")
        if args.synthetic_val:
            val["synthetic"] = synthetic_samples(
                args.synthetic_val, scene_plates(photos, args.limit, "val"), args.art, seed=2
            )
    if args.finetune:
        model = load_trained(args.finetune, lambda config: MaskOCR(OcrConfig(**config)))
    else:
        model = MaskOCR(build_config(args))
        if args.init:
            encoder = {
                k.removeprefix("encoder."): v
                for k, v in load_checkpoint(args.init)["model"].items()
                if k.startswith("encoder.")
            }
            model.encoder.load_state_dict(encoder)
            print(f"encoder initialised from {args.init}")
        if args.transfer:
            print(transfer_weights(model, load_checkpoint(args.transfer)["model"]))
    cfg = model.cfg
    dataset = PlateDataset(
        train,
        cfg,
        args.strength,
        corner_jitter=tuple(args.corner_jitter),
        wrong_view_share=args.wrong_view_share if args.stage == "recog" else 0.0,
        harsh_share=args.harsh_share if args.stage == "recog" else 0.0,
        loose_share=args.loose_share if args.stage == "recog" else 0.0,
        invert_share=args.invert_share if args.stage == "recog" else 0.0,
    )

    def batches():
        return torch.utils.data.DataLoader(dataset, batch_size=args.batch, shuffle=True, drop_last=True)

    optimizer = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=0.05)
    if args.stage == "mae":
        step_loss = lambda batch: model.mae_loss(batch[0], args.mask_ratio)  # noqa: E731
        validate = None
    else:

        def step_loss(batch) -> torch.Tensor:
            images, targets, regions = batch
            chars, region_logits = model(images)
            region_loss = torch.nn.functional.cross_entropy(region_logits, regions)
            return character_loss(chars, targets) + args.region_weight * region_loss

        def validate() -> tuple[float, dict]:
            report = {name: evaluate_reader(model, samples) for name, samples in val.items() if samples}
            figures = {k: {m: round(v, 4) for m, v in r.items() if isinstance(v, float)} for k, r in report.items()}
            print(json.dumps(figures), flush=True)
            return (report["ccpd"]["exact"] if "ccpd" in report else -1.0), figures

    best = run_epochs(
        model=model,
        optimizer=optimizer,
        batches=batches,
        step_loss=step_loss,
        epochs=args.epochs,
        lr=args.lr,
        out_dir=args.out,
        extra_state={"kind": "ocr" if args.stage == "recog" else "ocr_mae", "config": cfg.to_dict()},
        validate=validate,
        resume=args.resume,
        provenance=provenance("train.ocr_train", argv, args, (f"{s.source}|{s.region}|{s.text}" for s in train)),
    )
    print(f"best score {best:.4f}; checkpoints in {args.out}")


if __name__ == "__main__":
    main()
