"""`lpr eval`: accuracy of the shipped (or given) models on labelled photos, crops and videos."""

from __future__ import annotations

import argparse
import contextlib
import json
import math
from collections.abc import Iterator
from pathlib import Path
from typing import TextIO


def add_parser(sub) -> None:
    parser = sub.add_parser("eval", help="measure accuracy on labelled photos, plate crops or a video")
    kinds = parser.add_subparsers(dest="kind", required=True)

    def common(p, images=True):
        p.add_argument("--json", type=Path, help="also write the figures here")
        p.add_argument("--detector", help="detector weights (default: shipped)")
        p.add_argument("--refiner", help="corner-refiner weights (default: shipped)")
        p.add_argument(
            "--no-refine", dest="refine", action="store_false", help="use the detector's corners as they are"
        )
        p.add_argument("--ocr", help="reader weights (default: shipped)")
        reading_flags(p)
        p.add_argument("--input-size", type=int, nargs=2, default=(640, 640), metavar=("H", "W"))
        p.add_argument("--limit", type=int, help="only the first N items")
        p.add_argument("--predictions", type=Path, help="write one JSON line per labelled plate (per event for videos)")
        if images:
            p.add_argument("--errors", type=Path, help="write every miss as an annotated image here")
            p.add_argument(
                "--no-coarse-pass",
                dest="coarse_pass",
                action="store_false",
                help="detect at the input size only, as on a stream (photos are also seen at half size)",
            )
            p.add_argument(
                "--no-fine-pass",
                dest="fine_pass",
                action="store_false",
                help="never detect at twice the input's scale, as on a stream (large photos also are, for far plates)",
            )

    ccpd = kinds.add_parser("ccpd", help="CCPD-named photos: detection (IoU > 0.7) and recognition (IoU > 0.6)")
    ccpd.add_argument("folder", type=Path)
    ccpd.add_argument(
        "--split",
        choices=["all", "val", "train"],
        default="all",
        help="keep one side of the project's train/validation split (by plate text)",
    )
    ccpd.add_argument(
        "--swap-plates",
        type=int,
        default=0,
        metavar="N",
        help="score N rendered plates of every type per photo instead, each pasted over its real plate "
        "(synthetic-in-scene; figures by type, region and province)",
    )
    ccpd.add_argument("--art", type=Path, help="plate art for --swap-plates (default ../shared/plate_art)")
    ccpd.add_argument(
        "--turn",
        type=float,
        nargs=2,
        metavar=("MIN", "MAX"),
        help="turn each photo in its plane about its plate by MIN-MAX degrees either way, labels with it "
        "(a rolled camera, as in CCPD's rotate subset: 20 45)",
    )
    ccpd.add_argument(
        "--tilt",
        type=float,
        nargs=2,
        metavar=("MIN", "MAX"),
        help="show each plate turned MIN-MAX degrees either way about its upright axis (and up to 20 about its "
        "horizontal one), the photo warped with it: a car seen from the roadside, as in CCPD's tilt subset: 30 55",
    )
    ccpd.add_argument(
        "--scale",
        type=float,
        default=1.0,
        help="shrink each photo to this share of its width and height first, labels with it (0.33: a 720x1160 "
        "photo at 240x387, its plate about 60 px wide, a web photo's size)",
    )
    ccpd.add_argument(
        "--degrade",
        metavar="CONDITION",
        help="score the photos under one fixed condition of CCPD's hard subsets (train.evaluate.DEGRADATIONS): "
        "blur (motion, 1.5%% of the width), dark, overexposed or haze",
    )
    common(ccpd)
    table = kinds.add_parser("csv", help="a CSV of relpath,x,y,w,h,text (the OpenALPR benchmark layout)")
    table.add_argument("csv", type=Path)
    table.add_argument("--root", type=Path, required=True, help="folder the relpaths are relative to")
    common(table)
    video = kinds.add_parser("video", help="the whole pipeline on a video, scored against its plate list")
    video.add_argument("video", type=Path)
    video.add_argument("--truth", type=Path, required=True, help='JSON {"plates": [...], "ranges": [[s, e], ...]}')
    common(video, images=False)
    small = kinds.add_parser("small", help="detector recall on CCPD plates shrunk to 1/4..1/8 in 1920x1080 frames")
    small.add_argument("folder", type=Path)
    small.add_argument("--split", choices=["all", "val", "train"], default="val")
    small.add_argument(
        "--fine-pass", action="store_true", help="also detect at twice the input's scale, as photos are (far plates)"
    )
    common(small, images=False)
    ocr = kinds.add_parser("ocr", help="the reader alone on the validation crops of each data set")
    ocr.add_argument("data", type=Path, help="folder with ccpd/, ccpd_crops/, br_crops/, us_crops/")
    ocr.add_argument("--json", type=Path)
    ocr.add_argument("--ocr", help="reader weights (default: shipped)")
    reading_flags(ocr)
    ocr.add_argument("--limit", type=int)
    ocr.add_argument(
        "--synthetic",
        type=int,
        default=0,
        metavar="N",
        help="also N rendered plates composited into validation photos (figures by type and province)",
    )
    ocr.add_argument("--art", type=Path, default=Path("../shared/plate_art"), help="plate art for --synthetic")
    ocr.add_argument(
        "--find-corners",
        action="store_true",
        help="read each crop whose labels give no corners (every crop folder) at the corners the corner refiner "
        "finds in it from the crop's own box, as the pipeline reads a detected plate; without it, the whole crop",
    )
    ocr.add_argument("--refiner", help="corner-refiner weights for --find-corners (default: shipped)")
    parser.set_defaults(func=run_eval)


def reading_flags(parser: argparse.ArgumentParser) -> None:
    """The flags that turn off the reader's extra readings, as the [ocr] settings do."""
    parser.add_argument(
        "--no-shifted-reads",
        dest="shifted_reads",
        action="store_false",
        help="read each plate once, as [ocr] shifted_reads = false does (faster, fewer plates read)",
    )
    parser.add_argument(
        "--no-second-looks",
        dest="second_looks",
        action="store_false",
        help="never read a doubtful plate again stretched or inverted, nor its doubtful characters alone, nor a US "
        "plate with its emblem painted over, as [ocr] second_looks = false does",
    )
    parser.add_argument(
        "--no-stacked-characters",
        dest="stacked_characters",
        action="store_false",
        help="leave a US plate's small stacked characters unread, as [ocr] stacked_characters = false does",
    )


def run_eval(args: argparse.Namespace) -> int:
    from lpr_models.ocr.reader import PlateReader

    reader = PlateReader.from_weights(
        args.ocr,
        shifted_reads=args.shifted_reads,
        second_looks=args.second_looks,
        stacked_characters=args.stacked_characters,
    )
    if args.kind == "ocr":
        report = _eval_ocr(args, reader)
    else:
        from lpr_models.detector.detector import PlateDetector

        detector = PlateDetector.from_weights(
            args.detector,
            args.refiner,
            args.refine,
            input_size=tuple(args.input_size),
            coarse_pass=getattr(args, "coarse_pass", False),  # photos only, as `lpr run` does
            fine_pass=getattr(args, "fine_pass", False),
        )
        evaluate = {"ccpd": _eval_ccpd, "csv": _eval_csv, "video": _eval_video, "small": _eval_small}[args.kind]
        with _predictions_file(args) as predictions:
            report = evaluate(args, detector, reader, predictions)
    print_table(report)
    if args.json:
        args.json.write_text(json.dumps(report, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    return 0


@contextlib.contextmanager
def _predictions_file(args: argparse.Namespace) -> Iterator[TextIO | None]:
    path = getattr(args, "predictions", None)
    if path is None:
        yield None
        return
    with path.open("w", encoding="utf-8") as fh:
        yield fh


def _eval_ccpd(args, detector, reader, predictions) -> dict:
    from train.evaluate import (
        ccpd_items,
        degraded_items,
        evaluate_images,
        scaled_items,
        swapped_items,
        tilted_items,
        turned_items,
    )

    items = ccpd_items(args.folder, args.split, args.limit)
    if not items:
        raise ValueError(f"no CCPD-named images in {args.folder} (split {args.split})")
    if args.swap_plates:
        items = swapped_items(items, args.swap_plates)
    if args.turn:
        items = turned_items(items, *args.turn)
    if args.tilt:
        items = tilted_items(items, *args.tilt)
    if args.scale != 1.0:
        items = scaled_items(items, args.scale)
    if args.degrade:
        items = degraded_items(items, args.degrade)
    return evaluate_images(detector, reader, items, 0.7, 0.6, args.errors, args.art, predictions)


def _eval_csv(args, detector, reader, predictions) -> dict:
    from train.evaluate import csv_items, evaluate_images

    items = csv_items(args.csv, args.root, args.limit)
    return evaluate_images(detector, reader, items, 0.5, 0.5, args.errors, predictions=predictions)


def _eval_small(args, detector, reader, _predictions) -> dict:
    from tqdm import tqdm

    from train.det_eval import evaluate_detector
    from train.evaluate import ccpd_items, read_share
    from train.small_plates import small_plate_frames

    paths = [item.path for item in ccpd_items(args.folder, args.split, args.limit)]
    frames, labels = small_plate_frames(paths)
    found = [detector.detect(frame) for frame in tqdm(frames, desc="detecting", leave=False)]
    report = {
        "iou_0.5": evaluate_detector(detector, paths, 0.5, frames, labels, found),
        "iou_0.7": evaluate_detector(detector, paths, 0.7, frames, labels, found),
    }
    return {
        "images": len(frames),
        "recall_iou50": report["iou_0.5"]["detection_rate"],
        "recall_iou70": report["iou_0.7"]["detection_rate"],
        "ap50": report["iou_0.5"]["ap50"],
        "corner_error": report["iou_0.5"]["corner_error"],
        "read": read_share(reader, frames, labels, found),
        "plate_width_px": "1/8 to 1/4 of CCPD's, in 1920x1080",
    }


def _eval_video(args, detector, reader, predictions) -> dict:
    import threading
    import time

    from stream.config import CameraSection, Config
    from stream.runner import run_camera
    from train.evaluate import plate_label, score_video_events

    truth = json.loads(args.truth.read_text(encoding="utf-8"))
    events: list[dict] = []
    camera = CameraSection(id="eval", source=str(args.video))

    def collect(kind, _camera, payload, _jpeg, _snapshot=b""):
        if kind == "plate":
            events.append(payload)

    started = time.perf_counter()
    result = run_camera(Config(cameras=(camera,)), camera, collect, threading.Event(), models=(detector, reader))
    report = score_video_events(events, truth)
    report["tracks_too_short"] = result.pipeline.dropped_tracks  # under events.min_frames: no event, noise
    report["frames"] = result.pipeline.frames
    report["fps"] = result.pipeline.frames / (time.perf_counter() - started)
    report["readings"] = [
        {"text": e["text"], "confidence": e["confidence"], "first_pts": e["first_seen"]["pts"]} for e in events
    ]
    if predictions is not None:
        plates = {plate_label(p) for p in truth.get("plates", [])}
        for e in events:
            row = {
                "path": str(args.video),
                "track_id": e["track_id"],
                "read": e["text"],
                "correct": e["text"] in plates,
                "confidence": e["confidence"],
                "char_confidences": e["char_confidences"],
                "region": e["region"],
                "format_valid": e["format_valid"],
                "readable": e["readable"],
            }
            predictions.write(json.dumps(row, ensure_ascii=False) + "\n")
    return report


def _eval_ocr(args, reader) -> dict:
    from train.ocr_data import load_splits
    from train.ocr_eval import read_samples, score, score_by

    _, val = load_splits(args.data, args.limit)
    if args.find_corners:
        from lpr_models.detector.refiner import CornerRefiner
        from train.crop_corners import with_found_corners

        refiner = CornerRefiner.from_weights(args.refiner)
        val = {name: with_found_corners(samples, refiner) for name, samples in val.items()}
    if args.synthetic:
        from train.synth.plates import scene_plates, synthetic_samples

        scenes = scene_plates(args.data / "ccpd" / "images", args.limit, "val")
        val["synthetic"] = synthetic_samples(args.synthetic, scenes, args.art, seed=2)
    rows = {
        name: read_samples(
            reader.model,
            samples,
            copies=reader.copies,
            second_look_below=reader.second_look_below,
            stacked=reader.stacked_characters,
        )
        for name, samples in val.items()
    }
    report: dict = {name: score(r) for name, r in rows.items() if r}  # each set read once, then grouped
    report["ccpd by province"] = score_by(val["ccpd"], rows["ccpd"], lambda s: s.text[0])
    for name, samples in list(val.items()):
        if name != "synthetic" and any(s.rows == 2 for s in samples):  # real two-row plates (Vietnamese motorbikes)
            report[f"{name} by rows"] = score_by(samples, rows[name], lambda s: f"{s.rows} row(s)")
    if "synthetic" in val:
        synthetic = val["synthetic"], rows["synthetic"]
        report["synthetic by type"] = score_by(*synthetic, lambda s: s.source.removeprefix("synth_"))
        report["synthetic by province"] = score_by(*synthetic, lambda s: s.text[0] if s.region == "cn" else None)
    return report


def print_table(report: dict, indent: str = "") -> None:
    for key, value in report.items():
        if isinstance(value, dict):
            print(f"{indent}{key}:")
            print_table(value, indent + "  ")
        elif isinstance(value, float):
            shown = "nan" if math.isnan(value) else f"{value:.4f}" if value <= 1 else f"{value:.1f}"
            print(f"{indent}{key:<28} {shown}")
        elif key == "confusions":
            shown = ", ".join(f"{t}->{p} x{n}" for t, p, n in value[:8]) or "none"
            print(f"{indent}{'top confusions (truth->read)':<28} {shown}")
        elif key != "readings":
            print(f"{indent}{key:<28} {value}")
