"""Fit the reader's calibration on held-out reads and draw its reliability diagram.

    python -m train.calibrate --ocr lpr_models/weights/ocr.pt --data ../shared/data --synthetic 1500 \
        --plot docs/calibration.png --write

Every validation set is split in two by plate text, and each half's expected calibration error (ECE)
is measured under the calibration fitted on the other half (cross-fitting: every plate counts, none
is scored by a fit that saw it), before and after, per set, beside the ECE that chance alone gives a
perfectly calibrated reader on a set of that size (median and 95th percentile). The calibration stored
by `--write` (in the weights file's `calibration` entry, with the shipped digests updated) is fitted on
both halves.
"""

from __future__ import annotations

import argparse
import json
import zlib
from dataclasses import replace
from pathlib import Path

import cv2
import numpy as np
import torch
from tqdm import tqdm

from lpr_models.detector.detector import PlateDetector
from lpr_models.ocr.calibration import (
    Calibration,
    chance_calibration_error,
    expected_calibration_error,
    fit_temperature,
    fit_text_map,
    log_loss,
    reliability,
)
from lpr_models.ocr.preprocess import plate_crop
from lpr_models.ocr.reader import PlateReader, Reading, decode_batch, read_views
from train.ccpd import list_ccpd_images
from train.evaluate import DEGRADATIONS, READ_IOU, ccpd_items, load_frame, overlaps
from train.ocr_data import (
    CROP_FOLDERS,
    IGNORE,
    PHOTO_PLATE_MARGIN,
    UNREADABLE,
    PlateSample,
    cut_box,
    encode_target,
    load_splits,
    plausible_label,
)
from train.ocr_eval import matches


def fit_half(text: str) -> bool:
    """Which half of a validation set a plate text belongs to: fitting (True) or reporting."""
    return zlib.crc32(text.encode("utf-8")) % 2 == 0


@torch.inference_mode()
def outputs(
    reader: PlateReader, samples: list[PlateSample], batch: int = 128
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(character logits (N, slots, classes), region logits (N, regions), rows (N,)) for labelled-corner crops,
    each from the view the reader chooses for it."""
    chars, regions, rows = [], [], []
    cfg = reader.model.eval().cfg
    for start in range(0, len(samples), batch):
        chunk = samples[start : start + batch]
        c, r, v = read_views(reader.model, np.stack([plate_crop(s.image, s.corners, cfg) for s in chunk]), cfg)
        chars.append(c.numpy())
        regions.append(r.numpy())
        rows.append(v)
    return np.concatenate(chars), np.concatenate(regions), np.concatenate(rows)


def char_rows(logits: np.ndarray, samples: list[PlateSample], max_chars: int) -> tuple[np.ndarray, np.ndarray]:
    """(logits, target) of every labelled slot: the characters and the end slot after them."""
    rows, targets = [], []
    for slot_logits, sample in zip(logits, samples):
        if len(sample.text) > max_chars:  # a label no reader of this size can match (machine-read noise)
            continue
        target = encode_target(sample.text, max_chars)
        for pos in range(min(len(sample.text) + 1, max_chars)):
            if target[pos] != IGNORE:
                rows.append(slot_logits[pos])
                targets.append(target[pos])
    return np.array(rows), np.array(targets)


# A region read at least this often in the fitting half (its real and rendered plates) gets a whole-text map of
# its own. Fitted on its real plates alone, from 60 reads, the maps came out worse on the held-out half (Brazil
# 0.101 -> 0.112, Spain 0.043 -> 0.076): too few plates for a stable map. At 150 the US plates (about 125 reads a
# half, real and rendered) fell back on the global map, far too sure of them (ECE 0.258; 0.097 with their own).
MIN_REGION_READS = 100


def visible_product(reading: Reading, sample: PlateSample) -> float:
    """The product of a reading's character probabilities (`reading` decoded without a text map), leaving out the
    label's hidden (`-`) positions where it has the label's length. The score ignores those positions (UC3M paints
    two characters over), so the confidence must too: left in, a painted-over character lowers a reading's product
    without ever costing a match, and the whole-text maps learnt from the Spanish plates that a doubtful reading is
    right anyway, then trusted doubtful Czech ones."""
    if len(reading.text) != len(sample.text):
        return reading.confidence
    hidden = [c for c, t in zip(reading.char_confidences, sample.text) if t == UNREADABLE]
    return reading.confidence / max(float(np.prod(hidden)), 1e-12)


def text_reads(logits, regions, rows, samples, calibration: Calibration) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(whole-text confidence, right or not, region read) of each plate under `calibration`."""
    products = Calibration(temperature=calibration.temperature)  # no text map: a confidence is its product
    reads = decode_batch(torch.from_numpy(logits), torch.from_numpy(regions), rows, products)
    return (
        np.array([calibration.text_confidence(visible_product(r, s), r.region) for r, s in zip(reads, samples)]),
        np.array([matches(r.text, s.text) for r, s in zip(reads, samples)]),
        np.array([r.region for r in reads]),
    )


def fit_region_maps(
    products: np.ndarray, right: np.ndarray, read_region: np.ndarray, min_reads: int = MIN_REGION_READS
) -> dict[str, list[float]]:
    """A whole-text map for each region read at least `min_reads` times."""
    return {
        str(region): list(fit_text_map(products[read_region == region], right[read_region == region]))
        for region in sorted(set(read_region))
        if (read_region == region).sum() >= min_reads
    }


NOISY_FOLDERS = {spec.name for spec in CROP_FOLDERS if spec.noisy}


def trusted_label(sample: PlateSample) -> bool:
    """Whether a validation plate's label may teach the calibration: any label people wrote, and machine-read
    ones that fit their region's formats (the rule training uses, train.ocr_data.plausible_label)."""
    return sample.source not in NOISY_FOLDERS or plausible_label(sample)


def detected_ccpd(
    folder: Path, detector: PlateDetector, hard_conditions: bool = True, limit: int | None = None
) -> dict[str, list[PlateSample]]:
    """The CCPD validation photos as they are and under each fixed hard condition `lpr eval ccpd --degrade` scores
    (motion blur, night, overexposure, haze, applied to the whole photo), one set each, every plate cut at the
    corners `detector` finds for it, as `lpr eval ccpd` and the pipeline read it; a plate no detection overlaps
    (IoU above READ_IOU) gives no reading and is left out. Fitted on the labelled corners of these plates instead,
    the Chinese map said 0.976 for the blurred photos read end to end, which were right 92% of the time: a blurred
    plate's detected corners err more than its labelled ones, and its reads with them."""
    first = set(list_ccpd_images(folder)[:limit])  # the photos load_splits(limit=...) looks at: the sets compare
    items = [item for item in ccpd_items(folder, "val") if item.path in first]
    conditions = ("", *DEGRADATIONS) if hard_conditions else ("",)
    sets = {}
    for condition in conditions:
        name = f"ccpd {condition}, detected" if condition else "ccpd, detected"
        samples = []
        for item in tqdm(items, desc=name, leave=False):
            frame, item = load_frame(replace(item, degrade=condition))
            detections = detector.detect(frame)
            ious, best = overlaps(detections, item.box)
            if best >= 0 and ious[best] > READ_IOU:
                margin = PHOTO_PLATE_MARGIN
                crop, corners = cut_box(frame, detections[best].box, margin, margin, detections[best].corners)
                samples.append(PlateSample(crop, corners, item.text, "ccpd", "cn"))
        sets[name] = samples
    return sets


def fit(logits, regions, views, samples, max_chars: int) -> Calibration:
    rows, targets = char_rows(logits, samples, max_chars)
    temperature = fit_temperature(rows, targets)
    products, right, read_region = text_reads(logits, regions, views, samples, Calibration(temperature=temperature))
    scale, bias, gap_scale = fit_text_map(products, right)
    regions = fit_region_maps(products, right, read_region)
    return Calibration(temperature, scale, bias, gap_scale, fitted=True, regions=regions)


def draw(curves: dict[str, list[tuple[float, float, int]]], path: Path, size: int = 420) -> None:
    """Reliability diagram: accuracy against confidence per set, the diagonal is perfect calibration. Each bin's
    dot grows with its reads: a bin of three reads that zigzags off the diagonal is chance, a large dot off it is
    not."""
    margin = 50
    legend = 30 + max((cv2.getTextSize(name, 0, 0.45, 1)[0][0] for name in curves), default=0)  # every name whole
    canvas = np.full((size + 2 * margin, size + 2 * margin + legend, 3), 255, np.uint8)
    to_px = lambda c, a: (int(margin + c * size), int(margin + (1 - a) * size))  # noqa: E731
    cv2.rectangle(canvas, to_px(0, 1), to_px(1, 0), (0, 0, 0), 1)
    cv2.line(canvas, to_px(0, 0), to_px(1, 1), (160, 160, 160), 1)
    for tick in np.linspace(0, 1, 6):
        cv2.putText(canvas, f"{tick:.1f}", (to_px(tick, 0)[0] - 10, margin + size + 18), 0, 0.4, (0, 0, 0), 1)
        cv2.putText(canvas, f"{tick:.1f}", (margin - 32, to_px(0, tick)[1] + 4), 0, 0.4, (0, 0, 0), 1)
    cv2.putText(canvas, "confidence", (margin + size // 2 - 40, margin + size + 38), 0, 0.5, (0, 0, 0), 1)
    cv2.putText(canvas, "right", (5, margin - 12), 0, 0.5, (0, 0, 0), 1)
    palette = [(200, 80, 0), (0, 140, 0), (0, 0, 200), (160, 0, 160), (0, 160, 200), (90, 90, 90), (200, 160, 0)]
    palette += [(0, 90, 160), (120, 200, 0), (140, 60, 60), (230, 0, 120), (0, 0, 0)]  # one colour a set, up to 12
    for i, (name, points) in enumerate(curves.items()):
        colour = palette[i % len(palette)]
        pts = [to_px(c, a) for c, a, _ in points]
        for a, b in zip(pts, pts[1:]):
            cv2.line(canvas, a, b, colour, 1, cv2.LINE_AA)
        for p, (_, _, count) in zip(pts, points):
            cv2.circle(canvas, p, int(2 + min(10, np.sqrt(count) / 2)), colour, -1, cv2.LINE_AA)
        cv2.putText(canvas, name, (margin + size + 15, margin + 20 + 22 * i), 0, 0.45, colour, 1, cv2.LINE_AA)
    path.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(path), canvas)


def write_calibration(weights: Path, calibration: Calibration) -> None:
    """Store the calibration in the weights file (and its shipped digest, where it is a shipped file)."""
    from lpr_models.weights import DIGESTS_FILE, sha256
    from train.loop import load_checkpoint, save_checkpoint

    state = load_checkpoint(weights)
    state["calibration"] = calibration.to_dict()
    save_checkpoint(weights, **state)
    if weights.resolve().parent == DIGESTS_FILE.parent.resolve():
        digests = json.loads(DIGESTS_FILE.read_text()) if DIGESTS_FILE.is_file() else {}
        digests[weights.name] = sha256(weights)
        DIGESTS_FILE.write_text(json.dumps(digests, indent=1, sort_keys=True) + "\n")


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--ocr", type=Path, default=Path("lpr_models/weights/ocr.pt"))
    parser.add_argument("--data", type=Path, default=Path("../shared/data"))
    parser.add_argument("--synthetic", type=int, default=0, help="also rendered plates in validation photos")
    parser.add_argument(
        "--no-hard-conditions",
        dest="hard_conditions",
        action="store_false",
        help="of the CCPD validation photos read at their detected corners (detected_ccpd), fit on them only as they "
        "are, not under the fixed hard conditions",
    )
    parser.add_argument("--art", type=Path, default=Path("../shared/plate_art"))
    parser.add_argument("--limit", type=int)
    parser.add_argument("--plot", type=Path, help="write the reliability diagram (PNG) here")
    parser.add_argument("--json", type=Path, help="write the figures here")
    parser.add_argument("--write", action="store_true", help="store the fitted calibration in the --ocr weights file")
    args = parser.parse_args(argv)

    reader = PlateReader.from_weights(args.ocr)
    _, val = load_splits(args.data, args.limit)
    if args.synthetic:
        from train.synth.plates import scene_plates, synthetic_samples

        scenes = scene_plates(args.data / "ccpd" / "images", args.limit, "val")
        val["synthetic"] = synthetic_samples(args.synthetic, scenes, args.art, seed=3)
    detector = PlateDetector.from_weights(coarse_pass=True, fine_pass=True)  # photos: as `lpr eval ccpd` reads them
    val.update(detected_ccpd(args.data / "ccpd" / "images", detector, args.hard_conditions, args.limit))
    sets = {name: samples for name, samples in val.items() if samples}
    out = {name: outputs(reader, samples) for name, samples in sets.items()}
    halves = {name: np.array([fit_half(s.text) for s in samples]) for name, samples in sets.items()}
    max_chars = reader.model.cfg.max_chars

    def pick(name: str, half: bool | None = None, fitting: bool = False):
        mask = np.ones(len(sets[name]), bool) if half is None else halves[name] == half
        if fitting:  # machine-read labels that fit no format are mostly wrong: fitted on, they bend every map
            mask &= np.array([trusted_label(s) for s in sets[name]])
        return (*(array[mask] for array in out[name]), [s for s, m in zip(sets[name], mask) if m])

    def fit_on(half: bool | None) -> Calibration:
        parts = [pick(name, half, fitting=True) for name in sets]
        return fit(
            *(np.concatenate([p[i] for p in parts]) for i in (0, 1, 2)), [s for p in parts for s in p[3]], max_chars
        )

    # Cross-fitted figures: each half is scored by the calibration fitted on the other, so every plate of a set
    # counts and none is scored by a fit that saw it. The calibration shipped is fitted on both halves.
    folds = {half: fit_on(not half) for half in (True, False)}
    calibration = fit_on(None)
    report: dict = {"calibration": calibration.to_dict(), "folds": [folds[True].to_dict(), folds[False].to_dict()]}
    report["sets"], curves = {}, {}
    for name in sets:
        text_before, text_after, char_before, char_after, trusted = [], [], [], [], []
        for half, fold in folds.items():
            logits, regions, views, samples = pick(name, half)
            if not samples:
                continue
            text_before.append(text_reads(logits, regions, views, samples, Calibration())[:2])
            text_after.append(text_reads(logits, regions, views, samples, fold)[:2])
            trusted.append(np.array([trusted_label(s) for s in samples]))
            rows, targets = char_rows(logits, samples, max_chars)
            for scores, temperature in ((char_before, 1.0), (char_after, fold.temperature)):
                probabilities = torch.from_numpy(rows / temperature).softmax(-1).numpy()
                scores.append((probabilities.max(axis=1), probabilities.argmax(axis=1) == targets))
        pooled = {
            key: tuple(np.concatenate(parts) for parts in zip(*folds_of))
            for key, folds_of in (
                ("text_before", text_before),
                ("text", text_after),
                ("char_before", char_before),
                ("char", char_after),
            )
        }
        report["sets"][name] = {
            "plates": len(sets[name]),
            **{f"{key}_ece": expected_calibration_error(*pair) for key, pair in pooled.items()},
            # a proper score of the whole-text confidences (lower is better), less noisy than the ECE on a small set
            "text_log_loss": log_loss(*pooled["text"]),
            "exact": float(pooled["text"][1].mean()),
            # what a perfectly calibrated reader with these confidences would show on a set this size
            "text_ece_by_chance": chance_calibration_error(pooled["text"][0]),
        }
        kept = np.concatenate(trusted)
        if not kept.all():  # also on the labels the fit trusts alone
            report["sets"][name]["trusted_plates"] = int(kept.sum())
            report["sets"][name]["trusted_text_ece"] = expected_calibration_error(*(a[kept] for a in pooled["text"]))
        chance = report["sets"][name]["text_ece_by_chance"][0]
        ece = report["sets"][name]["text_ece"]
        curves[f"{name}: ECE {ece:.3f} (chance {chance:.3f})"] = reliability(*pooled["text"])
    print(json.dumps(report, indent=1))
    if args.plot:
        draw(curves, args.plot)
    if args.json:
        args.json.write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")
    if args.write:
        write_calibration(args.ocr, calibration)
    return report


if __name__ == "__main__":
    main()
