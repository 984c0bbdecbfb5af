"""End-to-end scoring of detector + rectification + reader on labelled photos and on videos.

Images: a plate is *detected* when a detection overlaps the labelled box with IoU above
`iou_detect`, and *recognised* when the best-overlapping detection (IoU above
`iou_read`) reads the whole text, every character included. Videos: the pipeline's
events are matched against the expected plate texts.
"""

from __future__ import annotations

import csv
import json
import logging
import time
from collections import defaultdict
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TextIO

import cv2
import numpy as np
from tqdm import tqdm

from lpr_models.detection import Detection
from lpr_models.detector.detector import PlateDetector
from lpr_models.geometry import box_iou, quad_box, rotation_matrix, tilt_matrix, transform_points
from lpr_models.ocr.calibration import expected_calibration_error, reliability
from lpr_models.ocr.reader import PlateReader
from lpr_models.vocab import PROVINCES, has_chinese
from train.ccpd import list_ccpd_images, parse_ccpd_name
from train.det_eval import average_precision, corner_error, match_plates
from train.ocr_eval import char_accuracy, confusions
from train.splits import is_validation

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class LabelledImage:
    path: Path
    box: np.ndarray  # x1, y1, x2, y2
    text: str
    corners: np.ndarray | None = None  # TL, TR, BR, BL where the labels have them
    groups: tuple[str, ...] = ()  # what the figures are also broken down by: province, plate type, region
    swap: tuple[str, int] | None = None  # (style, seed): paste a rendered plate over the labelled one first
    turn: float = 0.0  # degrees: then turn the photo in its plane about the plate (labels turned with it)
    tilt: tuple[float, float] = (0.0, 0.0)  # (yaw, pitch) degrees: or show the plate from the side (labels with it)
    scale: float = 1.0  # then shrink the photo to this share of its size (labels with it): a web photo's size
    degrade: str = ""  # a name in DEGRADATIONS: the photo blurred, darkened, overexposed or hazy last


def _motion_blur(frame: np.ndarray) -> np.ndarray:
    length = max(3, round(frame.shape[1] * 0.015))  # 11 px across a 720 px CCPD photo
    return cv2.blur(frame, (length, 1))


def _dark(frame: np.ndarray) -> np.ndarray:
    noise = np.random.default_rng(0).normal(0, 6, frame.shape)
    return np.clip((frame / 255.0) ** 2.2 * 0.35 * 255 + noise, 0, 255).astype(np.uint8)


# Fixed conditions of CCPD's hard subsets (blur, db: dark or bright, weather) applied to whole photos, each the
# same on every photo so that runs compare. Reader training's harsh conditions (train.augment.harsh) are drawn at
# random on plate crops, not these.
DEGRADATIONS = {
    "blur": _motion_blur,
    "dark": _dark,
    "overexposed": lambda frame: np.clip(frame * 1.6 + 40, 0, 255).astype(np.uint8),
    "haze": lambda frame: np.clip(frame * 0.45 + 140, 0, 255).astype(np.uint8),
}


def ccpd_items(folder: Path, split: str = "all", limit: int | None = None) -> list[LabelledImage]:
    """CCPD-named photos; `split` "val" or "train" keeps that side of the project's text split."""
    items = []
    for path in list_ccpd_images(folder):
        label = parse_ccpd_name(path.name)
        if split == "all" or (split == "val") == is_validation(label.text):
            province = f"province {label.text[0]}"
            items.append(
                LabelledImage(
                    path,
                    label.box,
                    label.text,
                    label.corners,
                    (province, "province: not 皖" if label.text[0] != "皖" else "province: 皖"),
                )
            )
    return items[:limit]


def swapped_items(items: list[LabelledImage], per_photo: int, seed: int = 0) -> list[LabelledImage]:
    """Each photo `per_photo` times, its plate replaced by a rendered plate of a style drawn evenly (see load_frame)."""
    from train.synth.plates import STYLES

    rng = np.random.default_rng(seed)
    return [
        replace(item, swap=(STYLES[rng.integers(len(STYLES))], int(rng.integers(2**31))))
        for item in items
        if item.corners is not None
        for _ in range(per_photo)
    ]


def turned_items(items: list[LabelledImage], low: float, high: float, seed: int = 0) -> list[LabelledImage]:
    """Each photo turned in its plane by `low`-`high` degrees, either way at random (see load_frame): a camera
    rolled on its axis, as in CCPD's rotate subset."""
    rng = np.random.default_rng(seed)
    return [
        replace(item, turn=float(rng.uniform(low, high) * rng.choice([-1, 1])))
        for item in items
        if item.corners is not None
    ]


def tilted_items(
    items: list[LabelledImage], low: float, high: float, max_pitch: float = 20.0, seed: int = 0
) -> list[LabelledImage]:
    """Each photo seen as if its plate were turned `low`-`high` degrees either way about its upright axis and up to
    `max_pitch` about its horizontal one (see load_frame): a car passing a camera at the roadside, as in CCPD's tilt
    subset, which none of the project's photos resemble (their plates face the camera within about 5 degrees)."""
    rng = np.random.default_rng(seed)
    return [
        replace(
            item,
            tilt=(float(rng.uniform(low, high) * rng.choice([-1, 1])), float(rng.uniform(-max_pitch, max_pitch))),
        )
        for item in items
        if item.corners is not None
    ]


def scaled_items(items: list[LabelledImage], scale: float) -> list[LabelledImage]:
    """Each photo shrunk to `scale` of its width and height (see load_frame): a web photo of 400x300 or a far
    camera's frame, whose plates are a few dozen pixels wide."""
    if not 0.0 < scale <= 1.0:
        raise ValueError(f"scale {scale} must be in (0, 1]")
    return [replace(item, scale=scale) for item in items]


def degraded_items(items: list[LabelledImage], condition: str) -> list[LabelledImage]:
    """Each photo under `condition` (a name in DEGRADATIONS)."""
    if condition not in DEGRADATIONS:
        raise ValueError(f"unknown condition {condition!r}: one of {', '.join(DEGRADATIONS)}")
    return [replace(item, degrade=condition) for item in items]


def load_frame(item: LabelledImage, art: Path | None = None) -> tuple[np.ndarray, LabelledImage]:
    """The item's image and labels; a swap item gets its rendered plate pasted in and its labels replaced, a
    turned or tilted item is then warped about its plate, its corners with it and its box their bounding box, a
    scaled item shrunk with its labels, and a degraded item degraded."""
    frame = cv2.imread(str(item.path), cv2.IMREAD_COLOR)
    if frame is None:
        raise ValueError(f"cannot read image {item.path}")
    frame, item = _swap_plate(frame, item, art)
    frame, item = _warp(frame, item)
    frame, item = _shrink(frame, item)
    return (DEGRADATIONS[item.degrade](frame) if item.degrade else frame), item


def _shrink(frame: np.ndarray, item: LabelledImage) -> tuple[np.ndarray, LabelledImage]:
    if item.scale == 1.0:
        return frame, item
    height, width = frame.shape[:2]
    size = (max(1, round(width * item.scale)), max(1, round(height * item.scale)))
    frame = cv2.resize(frame, size, interpolation=cv2.INTER_AREA)  # as a camera or a web page makes a small photo
    factor = np.array([size[0] / width, size[1] / height], np.float32)
    corners = item.corners * factor if item.corners is not None else None
    return frame, replace(item, box=item.box * np.tile(factor, 2), corners=corners)


def _warp(frame: np.ndarray, item: LabelledImage) -> tuple[np.ndarray, LabelledImage]:
    if item.corners is None or not (item.turn or any(item.tilt)):
        return frame, item
    matrix = np.eye(3)
    if item.turn:
        matrix = rotation_matrix(item.corners.mean(axis=0), item.turn)
    if any(item.tilt):
        matrix = tilt_matrix(transform_points(matrix, item.corners), *item.tilt) @ matrix
    warped = cv2.warpPerspective(frame, matrix, frame.shape[1::-1], borderMode=cv2.BORDER_REPLICATE)
    corners = transform_points(matrix, item.corners)
    return warped, replace(item, box=quad_box(corners), corners=corners)


def _swap_plate(frame: np.ndarray, item: LabelledImage, art: Path | None) -> tuple[np.ndarray, LabelledImage]:
    if item.swap is None or item.corners is None:
        return frame, item
    from train.synth.composite import composite_plate
    from train.synth.plates import DEFAULT_ART, render

    style, seed = item.swap
    rng = np.random.default_rng(seed)
    plate, text, region, _ = render(style, art or DEFAULT_ART, rng)
    frame, corners = composite_plate(frame, item.corners, plate, rng)
    box = quad_box(corners)
    groups = (f"type {style}", f"region {region}") + ((f"province {text[0]}",) if region == "cn" else ())
    return frame, replace(item, box=box, text=text, corners=corners, groups=groups)


# What people write between a plate's groups and the reader never reads: `ABC-1234`, `LS15 EBC`, `M·AB 123`.
SEPARATORS = str.maketrans("", "", " \t-·.")


def plate_label(text: str) -> str:
    """A label as the reader writes plates: in capitals, without the separators people put between groups."""
    return text.translate(SEPARATORS).upper()


def label_groups(text: str) -> tuple[str, ...]:
    """What a labelled plate's figures are also broken down by, from its text alone: a Chinese plate's province and
    length (8 characters: a green new-energy plate)."""
    if not text or text[0] not in PROVINCES:
        return ()
    return (f"province {text[0]}", f"chinese, {len(text)} characters")


def csv_items(csv_path: Path, root: Path, limit: int | None = None) -> list[LabelledImage]:
    """Rows of `relpath,x,y,w,h,text` (other columns ignored), the OpenALPR benchmark layout; texts as `plate_label`
    writes them, Chinese plates grouped by `label_groups`."""
    with csv_path.open(newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        missing = {"relpath", "x", "y", "w", "h", "text"} - set(reader.fieldnames or [])
        if missing:
            raise ValueError(f"{csv_path}: missing column(s) {', '.join(sorted(missing))}")
        items = []
        for n, row in enumerate(reader, start=2):
            try:
                x, y, w, h = (float(row[k]) for k in "xywh")
            except (TypeError, ValueError):
                raise ValueError(f"{csv_path}:{n}: x, y, w, h must be numbers") from None
            text = plate_label(row["text"])
            box = np.array([x, y, x + w, y + h], np.float32)
            items.append(LabelledImage(root / row["relpath"], box, text, groups=label_groups(text)))
    return items[:limit]


# A plate is read from the detection overlapping its labelled box most, where that overlap is above this IoU.
READ_IOU = 0.6


def overlaps(detections: list[Detection], box: np.ndarray) -> tuple[np.ndarray, int]:
    """Each detection's IoU with the labelled `box`, and the index of the best-overlapping one (-1: none)."""
    ious = box_iou(np.stack([d.box for d in detections]), box[None])[:, 0] if detections else np.zeros(0)
    return ious, int(np.argmax(ious)) if detections else -1


def read_share(
    reader: PlateReader,
    frames: list[np.ndarray],
    labels: list,
    found: list[list[Detection]],
    iou_read: float = READ_IOU,
) -> float:
    """Share of `frames` whose one labelled plate (`labels`: box, text) is read exactly, from the detection of
    `found` (each frame's) that overlaps it most where that overlap is above `iou_read`: frames made in memory
    (`lpr eval small`)."""
    read = 0
    for frame, label, detections in zip(tqdm(frames, desc="reading", leave=False), labels, found):
        ious, best = overlaps(detections, label.box)
        if best >= 0 and ious[best] > iou_read:
            read += reader.read([reader.crop(frame, detections[best].corners)])[0].text == label.text
    return read / max(1, len(frames))


def photos_of(items: list[LabelledImage]) -> list[list[LabelledImage]]:
    """The items grouped by the photo they are read from, in order of first appearance: the labelled plates of one
    untouched photo share it, so it is detected once and its other plates are not taken for false detections; an
    item that pastes, turns, tilts or shrinks changes its photo and stands alone."""
    photos: dict[object, list[LabelledImage]] = {}
    for item in items:
        untouched = item.swap is None and not item.turn and not any(item.tilt) and item.scale == 1.0
        photos.setdefault((item.path, item.degrade) if untouched else id(item), []).append(item)
    return list(photos.values())


def evaluate_images(
    detector: PlateDetector,
    reader: PlateReader,
    items: list[LabelledImage],
    iou_detect: float = 0.7,
    iou_read: float = READ_IOU,
    errors_dir: Path | None = None,
    art: Path | None = None,
    predictions: TextIO | None = None,
) -> dict:
    """Detection and end-to-end reading figures, each photo detected once (`photos_of`); `predictions` gets one
    JSON line per labelled plate. A plate whose image cannot be read is counted as missed and its image named
    (`unreadable_images`): one broken file in a large set leaves a figure for the rest instead of none."""
    detected = recognised = gt_recognised = found_iou50 = 0
    chars, gt_chars, corner_errors, scored, pairs, seconds = [], [], [], [], [], []
    confidences: list[tuple[float, bool]] = []  # (confidence, right) of every plate read
    by_group: dict[str, list[tuple[bool, bool]]] = defaultdict(list)  # (detected, read) per plate
    unreadable: list[str] = []  # images that could not be read: their plates are counted as missed, and named
    if errors_dir:
        errors_dir.mkdir(parents=True, exist_ok=True)
    photos = photos_of(items)
    for photo in tqdm(photos, desc="evaluating", leave=False):
        try:
            frame, first = load_frame(photo[0], art)
        except ValueError as err:
            log.warning("%s: its plates are counted as missed", err)
            unreadable.append(str(photo[0].path))
            for item in photo:
                chars.append(0.0)
                pairs.append(("", item.text))
                for group in item.groups:
                    by_group[group].append((False, False))
                if predictions is not None:
                    row = prediction_row(str(item.path), item.text, None, False)
                    predictions.write(json.dumps(row, ensure_ascii=False) + "\n")
            continue
        started = time.perf_counter()
        detections = detector.detect(frame)
        plates = [first, *photo[1:]]  # only an untouched photo holds several plates, so only the first can change
        all_ious = box_iou(np.array([d.box for d in detections]), np.stack([p.box for p in plates]))
        scored += match_plates(detections, all_ious)
        for item, ious in zip(plates, all_ious.T):
            best = int(np.argmax(ious)) if detections else -1
            reading = None
            if best >= 0 and ious[best] > iou_read:
                reading = reader.read([reader.crop(frame, detections[best].corners)])[0]
            text = reading.text if reading else ""
            is_detected = best >= 0 and ious[best] > iou_detect
            detected += is_detected
            found_iou50 += best >= 0 and ious[best] > 0.5
            recognised += text == item.text
            for group in item.groups:
                by_group[group].append((bool(is_detected), text == item.text))
            chars.append(char_accuracy(text, item.text))
            pairs.append((text, item.text))
            if reading is not None:
                confidences.append((reading.confidence, text == item.text))
            if item.corners is not None:
                truth_read = reader.read([reader.crop(frame, item.corners)])[0].text
                gt_recognised += truth_read == item.text
                gt_chars.append(char_accuracy(truth_read, item.text))
                if is_detected:
                    corner_errors.append(corner_error(detections[best].corners, item.corners))
            if predictions is not None:
                row = prediction_row(_where(item), item.text, reading, bool(is_detected))
                predictions.write(json.dumps(row, ensure_ascii=False) + "\n")
            if errors_dir and text != item.text:
                _draw_error(frame, item, detections[best] if best >= 0 else None, text, errors_dir)
        seconds.append(time.perf_counter() - started)
    n = max(1, len(items))
    report = {
        "images": len(photos),
        "plates": len(items),
        "detection_rate": detected / n,
        "found_iou50": found_iou50 / n,
        "recognition_rate": recognised / n,
        "char_accuracy": float(np.mean(chars)) if chars else 0.0,
        "ap50": average_precision(scored, len(items)),
        "ms_per_image": 1000 * float(np.median(seconds)) if seconds else 0.0,
        "confusions": confusions(pairs),
        "confidence": confidence_figures(confidences),
    }
    if unreadable:
        report["unreadable_images"] = sorted(set(unreadable))
    if by_group:
        report["groups"] = {
            name: {
                "plates": len(rows),
                "detected": sum(d for d, _ in rows) / len(rows),
                "read": sum(r for _, r in rows) / len(rows),
            }
            for name, rows in sorted(by_group.items())
        }
    if gt_chars:
        report["recognition_rate_gt_corners"] = gt_recognised / n
        report["char_accuracy_gt_corners"] = float(np.mean(gt_chars))
        report["corner_error"] = float(np.mean(corner_errors)) if corner_errors else float("nan")
    return report


def _where(item: LabelledImage) -> str:
    """The item's photo and what was done to it, as `--predictions` names a plate."""
    where = str(item.path) + (f"#swap={item.swap[0]}:{item.swap[1]}" if item.swap else "")
    where += f"#turn={item.turn:.1f}" if item.turn else ""
    where += f"#tilt={item.tilt[0]:.1f},{item.tilt[1]:.1f}" if any(item.tilt) else ""
    where += f"#scale={item.scale:g}" if item.scale != 1.0 else ""
    return where + (f"#{item.degrade}" if item.degrade else "")


def prediction_row(path: str, expected: str, reading, detected: bool = True) -> dict:
    """One labelled plate's outcome, enough to recompute accuracy and calibration (`--predictions`)."""
    return {
        "path": path,
        "expected": expected,
        "read": reading.text if reading else "",
        "correct": bool(reading) and reading.text == expected,
        "detected": detected,
        "confidence": round(reading.confidence, 6) if reading else 0.0,
        "char_confidences": [round(c, 6) for c in reading.char_confidences] if reading else [],
        "region": reading.region if reading else "",
        "format_valid": reading.format_valid if reading else None,
    }


def _draw_error(frame: np.ndarray, item: LabelledImage, detection, text: str, out: Path) -> None:
    image = frame.copy()
    x1, y1, x2, y2 = item.box.astype(int)
    cv2.rectangle(image, (x1, y1), (x2, y2), (0, 255, 0), 2)
    if detection is not None:
        cv2.polylines(image, [np.round(detection.corners).astype(np.int32)], True, (0, 0, 255), 2)
    ascii_ = lambda s: s.encode("ascii", "replace").decode()  # noqa: E731 - Hershey fonts have no CJK glyphs
    cv2.putText(image, f"truth {ascii_(item.text)}", (10, 30), cv2.FONT_HERSHEY_SIMPLEX, 0.9, (0, 255, 0), 2)
    cv2.putText(image, f"read  {ascii_(text) or '-'}", (10, 62), cv2.FONT_HERSHEY_SIMPLEX, 0.9, (0, 0, 255), 2)
    cv2.imwrite(str(out / f"{item.path.stem[:40]}__truth-{item.text}__read-{text or 'none'}.jpg"), image)


def confidence_figures(reads: list[tuple[float, bool]]) -> dict:
    """Whether a confidence means what it says on these photos or this video (issue #13): for each confidence
    decile with reads, their mean confidence, the share of them right and their number, and the expected
    calibration error over the deciles."""
    confidences, right = np.array([c for c, _ in reads], float), np.array([r for _, r in reads], float)
    deciles = {}
    for mean, share, count in reliability(confidences, right):
        low = min(9, int(mean * 10)) / 10  # a decile's mean lies in it
        deciles[f"{low:.1f}-{low + 0.1:.1f}"] = [round(mean, 3), round(share, 3), count]
    return {
        "reads": len(reads),
        "ece": expected_calibration_error(confidences, right) if reads else 0.0,
        "deciles (confidence, right, reads)": deciles,
    }


def score_video_events(events: list[dict], truth: dict) -> dict:
    """Match events to expected plates: correct reads, duplicate events, false events, and Chinese characters
    invented (an event of any kind whose text carries one while no plate of its time range does).

    `truth` is {"plates": [...], "ranges": [[start_s, end_s], ...] (optional)}, each plate as `plate_label` writes
    it; with ranges an event only counts for a plate whose range overlaps the event's first/last seen times.
    """
    plates = [plate_label(p) for p in truth.get("plates", [])]
    ranges = truth.get("ranges")
    if ranges is not None and len(ranges) != len(plates):
        raise ValueError("truth: 'ranges' must have one [start, end] per plate")
    found = [0] * len(plates)
    false_events = misread = unreadable = invented = 0
    reads: list[tuple[float, bool]] = []  # (confidence, right) of every event
    for event in events:
        start, end = event["first_seen"].get("pts"), event["last_seen"].get("pts")
        overlapping = [
            i
            for i in range(len(plates))
            if ranges is None or start is None or (start <= ranges[i][1] + 0.5 and end >= ranges[i][0] - 0.5)
        ]
        invented += has_chinese(event["text"]) and not any(has_chinese(plates[i]) for i in overlapping)
        match = [i for i in overlapping if plates[i] == event["text"]]
        reads.append((event["confidence"], bool(match)))
        if not event.get("readable", True):  # reported for a person to look at, not a read: counted apart
            unreadable += 1
            continue
        if match:
            found[match[0]] += 1
        elif overlapping and ranges is not None:
            misread += 1
        else:
            false_events += 1
    return {
        "expected": len(plates),
        "events": len(events),
        "found_correct": sum(1 for f in found if f),
        "duplicates": sum(max(0, f - 1) for f in found),
        "misread_events": misread,
        "unreadable_events": unreadable,
        "false_events": false_events,
        "chinese_invented": invented,
        "missed": [p for p, f in zip(plates, found) if not f],
        "confidence": confidence_figures(reads),
    }
