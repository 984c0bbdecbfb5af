"""The shipped weights on real validation data (photos and plates no training run saw)."""

import json
import threading
import time
from dataclasses import replace

import cv2
import numpy as np
import pytest
import zmq

from lpr_models.detector.detector import PlateDetector
from lpr_models.geometry import box_iou
from lpr_models.ocr.reader import PlateReader
from stream.config import CameraSection, Config, DetectorSection, PublishSection
from stream.events import decode_event
from stream.runner import build_models, run_camera
from stream.sinks import Sinks
from tests.conftest import ROOT, RUN_DIR
from train.det_eval import corner_error
from train.evaluate import (
    ccpd_items,
    csv_items,
    evaluate_images,
    load_frame,
    read_share,
    scaled_items,
    score_video_events,
    tilted_items,
    turned_items,
)
from train.small_plates import small_plate_frames


@pytest.fixture(scope="module")
def models():
    return PlateDetector.from_weights(), PlateReader.from_weights()


@pytest.fixture(scope="module")
def plain_detector():
    """The shipped detector without the corner refiner, to compare the refiner's work against."""
    return PlateDetector.from_weights(refine=False)


@pytest.fixture(scope="module")
def validation(data_root):
    return ccpd_items(data_root / "ccpd" / "images", split="val")[:20]


def test_detector_finds_the_plate_in_real_validation_photos(models, validation):
    detector, _ = models
    hits = 0
    for item in validation:
        detections = detector.detect(cv2.imread(str(item.path)))
        hits += bool(detections) and box_iou(np.stack([d.box for d in detections]), item.box[None]).max() > 0.7
    assert hits >= 18, f"only {hits}/20 plates found at IoU > 0.7"


def test_no_two_refined_plates_overlap_so_one_plate_starts_one_track(validation, data_root):
    """NMS before refinement kept a two-row plate's whole and its lower row apart; the refiner moved both onto
    the plate, and in a video each started a track: one plate, two events (a rendered virtual-camera video read
    5 of its 50 plates twice). At a low threshold, which keeps more such boxes, nearly every two-row plate did."""
    detector = PlateDetector.from_weights(score_threshold=0.1)
    for item in validation[:8]:
        frame, _ = load_frame(replace(item, swap=("vn", 7)), data_root.parent / "plate_art")
        detections = detector.detect(frame)
        if len(detections) > 1:
            overlaps = box_iou(*(np.stack([d.box for d in detections]),) * 2)
            np.fill_diagonal(overlaps, 0)
            assert overlaps.max() <= detector.nms_iou, item.path.name


def test_refined_corners_are_closer_to_the_labels_than_the_detectors_own(models, plain_detector, validation):
    refined, _ = models
    errors: dict[str, list[float]] = {"plain": [], "refined": []}
    for item in validation:
        frame = cv2.imread(str(item.path))
        for name, detector in (("plain", plain_detector), ("refined", refined)):
            detections = detector.detect(frame)
            best = max(detections, key=lambda d: box_iou(d.box[None], item.box[None])[0, 0])
            errors[name].append(corner_error(best.corners, item.corners))
    assert np.mean(errors["refined"]) < 0.7 * np.mean(errors["plain"]), errors


def test_plates_at_night_are_refined_far_off_less_often_with_their_canvas_stretched(
    plain_detector, data_root, monkeypatch
):
    """The first 80 validation photos darkened as `lpr eval ccpd --degrade dark` darkens them, each plate refined
    from the same detection: corners off by more than 3% of the plate's width on 6 plates as the canvas was, on 5
    stretched (all 357: 24 and 21). The eighth-stage detector, which the stretch was set with, left the refiner
    more to mend (9 and 5; all 357: 29 and 19)."""
    from lpr_models.detector import refiner as refiner_module
    from lpr_models.detector.refiner import CornerRefiner
    from train.evaluate import DEGRADATIONS

    refiner = CornerRefiner.from_weights()
    limits = {"stretched": refiner_module.DARK_CANVAS, "as it was": -1.0}
    far_off = dict.fromkeys(limits, 0)
    for item in ccpd_items(data_root / "ccpd" / "images", split="val")[:80]:
        frame = DEGRADATIONS["dark"](cv2.imread(str(item.path)))
        detections = plain_detector.detect(frame)
        if not detections:
            continue
        best = max(detections, key=lambda d: box_iou(d.box[None], item.box[None])[0, 0])
        for name, limit in limits.items():
            monkeypatch.setattr(refiner_module, "DARK_CANVAS", limit)
            (refined,) = refiner.refine(frame, [best])
            far_off[name] += corner_error(refined.corners, item.corners) > 0.03
    assert far_off["stretched"] < far_off["as it was"], far_off


def test_boxes_halfway_to_the_refined_corners_match_more_labelled_boxes_than_the_detectors_own(
    models, plain_detector, data_root
):
    """CCPD's box labels are looser than its corners: the detector's boxes learnt them, and many plates sit near
    IoU 0.7. Tenth-stage detector, first 60 validation photos: 58 boxes of each kind pass IoU > 0.7, and 45 refined
    boxes pass IoU > 0.8 against 44 of the detector's own (the eighth stage: 58 each, 47 against 42)."""
    refined, _ = models
    hits = {name: {0.7: 0, 0.8: 0} for name in ("plain", "refined")}
    for item in ccpd_items(data_root / "ccpd" / "images", split="val")[:60]:
        frame = cv2.imread(str(item.path))
        for name, detector in (("plain", plain_detector), ("refined", refined)):
            boxes = [d.box for d in detector.detect(frame)]
            best = box_iou(np.stack(boxes), item.box[None]).max() if boxes else 0.0
            for threshold in hits[name]:
                hits[name][threshold] += best > threshold
    assert hits["refined"][0.7] >= hits["plain"][0.7] and hits["refined"][0.8] > hits["plain"][0.8], hits


def test_plates_turned_in_the_frame_are_found_and_read(models, data_root):
    """CCPD's rotate subset, approximated: the first 30 validation photos turned 20-45 degrees about their plates.
    Shipped weights: 29 found at IoU > 0.5 and 29 read (the seventh-stage detector's release: 30 and 29; the one
    before it: 27 and 15)."""
    detector = PlateDetector.from_weights(coarse_pass=True)  # as photos are, but for the fine pass (far plates only)
    items = turned_items(ccpd_items(data_root / "ccpd" / "images", split="val")[:30], 20, 45)
    report = evaluate_images(detector, models[1], items, 0.7, 0.6)
    assert report["found_iou50"] >= 0.9 and report["recognition_rate"] >= 0.9, report


def test_plates_seen_from_the_side_are_found_and_read(models, data_root):
    """CCPD's tilt subset, approximated: the first 30 validation photos with their plates turned 30-55 degrees about
    their upright axis and up to 20 about their horizontal one. Shipped weights: all 30 found and read."""
    detector = PlateDetector.from_weights(coarse_pass=True)
    items = tilted_items(ccpd_items(data_root / "ccpd" / "images", split="val")[:30], 30, 55)
    report = evaluate_images(detector, models[1], items, 0.7, 0.6)
    assert report["found_iou50"] >= 0.9 and report["recognition_rate"] >= 0.9, report


def test_photos_shrunk_to_a_web_photo_s_size_are_found_and_read(models, data_root):
    """The first 20 validation photos at a third of their size (240x387, plates about 60 px wide), labels shrunk
    with them. Shipped weights: all 20 found and read (of all 357: 100% found, 99.7% read)."""
    items = scaled_items(ccpd_items(data_root / "ccpd" / "images", split="val")[:20], 1 / 3)
    frame, item = load_frame(items[0])
    height, width = cv2.imread(str(items[0].path)).shape[:2]
    assert frame.shape[:2] == (round(height / 3), round(width / 3))
    factor = np.array([frame.shape[1] / width, frame.shape[0] / height])
    assert np.allclose(item.corners, items[0].corners * factor) and np.allclose(
        item.box, items[0].box * np.tile(factor, 2)
    )
    report = evaluate_images(*models, items, 0.7, 0.6)
    assert report["found_iou50"] >= 0.95 and report["recognition_rate"] >= 0.9, report
    with pytest.raises(ValueError, match="scale"):
        scaled_items(items, 1.5)


def test_config_can_turn_the_refiner_off():
    refined = build_models(Config())[0]
    assert refined.refiner is not None and refined.refiner.forward.compiled, (
        "the refiner's back-end is built before the first frame"
    )
    assert build_models(Config(detector=DetectorSection(refine=False)))[0].refiner is None


def test_reader_reads_real_validation_plates(models, validation):
    _, reader = models
    plates = [reader.crop(cv2.imread(str(item.path)), item.corners) for item in validation]
    readings = reader.read(plates)
    correct = sum(r.text == item.text for r, item in zip(readings, validation))
    assert correct >= 19, [(r.text, i.text) for r, i in zip(readings, validation) if r.text != i.text]


def test_end_to_end_eval_on_a_few_real_photos(models, validation, tmp_path):
    report = evaluate_images(*models, validation[:6], errors_dir=tmp_path / "errors")
    assert report["images"] == 6 and report["detection_rate"] >= 5 / 6 and report["recognition_rate"] >= 4 / 6
    assert report["recognition_rate_gt_corners"] >= 5 / 6
    misses = round((1 - report["recognition_rate"]) * 6)
    assert len(list((tmp_path / "errors").glob("*.jpg"))) == misses
    confidence = report["confidence"]  # every plate read counts once, in the decile of its confidence
    assert 6 - misses <= confidence["reads"] <= 6
    assert sum(n for *_, n in confidence["deciles (confidence, right, reads)"].values()) == confidence["reads"]


def test_an_image_that_cannot_be_read_counts_as_missed_and_the_evaluation_goes_on(models, validation, tmp_path):
    (tmp_path / "broken.jpg").write_bytes(b"not a picture")
    broken = [replace(validation[0], path=tmp_path / "broken.jpg"), replace(validation[0], path=tmp_path / "gone.jpg")]
    whole = evaluate_images(*models, validation[:2])
    with (tmp_path / "predictions.jsonl").open("w") as predictions:
        report = evaluate_images(*models, [broken[0], *validation[:2], broken[1]], predictions=predictions)
    assert report["images"] == 4 and report["unreadable_images"] == sorted(str(b.path) for b in broken)
    assert report["recognition_rate"] == whole["recognition_rate"] / 2 and report["char_accuracy"] <= 0.5
    rows = [json.loads(line) for line in (tmp_path / "predictions.jsonl").read_text().splitlines()]
    assert [r["path"] for r in rows] == [
        str(broken[0].path),
        *(str(v.path) for v in validation[:2]),
        str(broken[1].path),
    ]
    assert not rows[0]["detected"] and not rows[3]["detected"] and not rows[0]["correct"]


def test_a_photo_with_two_labelled_plates_is_detected_once_and_neither_plate_is_a_false_detection(
    models, validation, tmp_path
):
    """`lpr eval csv` rows sharing a photo: two real validation photos side by side as one photo, one row each."""
    left, right = (cv2.imread(str(item.path)) for item in validation[:2])
    height = min(left.shape[0], right.shape[0])
    cv2.imwrite(str(tmp_path / "pair.jpg"), np.hstack([left[:height], right[:height]]))
    shift = np.array([left.shape[1], 0, left.shape[1], 0], np.float32)
    rows = [(validation[0].box, validation[0].text), (validation[1].box + shift, validation[1].text)]
    with (tmp_path / "pair.csv").open("w", encoding="utf-8") as fh:
        fh.write("relpath,x,y,w,h,text\n")
        for (x1, y1, x2, y2), text in rows:
            fh.write(f"pair.jpg,{x1},{y1},{x2 - x1},{y2 - y1},{text}\n")
    report = evaluate_images(*models, csv_items(tmp_path / "pair.csv", tmp_path), 0.5, 0.5)
    assert report["images"] == 1 and report["plates"] == 2 and report["found_iou50"] == 1.0, report
    assert report["ap50"] == 1.0, "each plate's detection was counted as a false detection of the other"
    assert report["recognition_rate"] == 1.0, report


def test_sample_clip_yields_one_event_per_plate_at_a_zeromq_subscriber(models, endpoint):
    truth = json.loads((ROOT / "samples" / "sample.truth.json").read_text(encoding="utf-8"))
    camera = CameraSection(id="sample", source=str(ROOT / "samples" / "sample.mp4"))
    cfg = Config(cameras=(camera,), publish=PublishSection(endpoint=endpoint))
    sub = zmq.Context.instance().socket(zmq.SUB)
    sub.connect(endpoint)
    sub.setsockopt(zmq.SUBSCRIBE, b"plate.sample")
    sinks = Sinks(cfg)
    time.sleep(0.3)
    try:
        run_camera(cfg, camera, sinks.send, threading.Event(), models=models)
        events = []
        while sub.poll(1000):
            events.append(decode_event(sub.recv_multipart()[1]))
    finally:
        sinks.close()
        sub.close(0)
    score = score_video_events(events, truth)
    assert score["found_correct"] == 2 and score["duplicates"] == 0, events
    for plate, (start, end) in zip(truth["plates"], truth["ranges"]):
        event = next(e for e in events if e["text"] == plate)
        assert start - 0.1 <= event["first_seen"]["pts"] <= start + 0.5 and event["last_seen"]["pts"] <= end + 0.1


@pytest.fixture(scope="module")
def held_out(data_root):
    """The reader's validation plates of every data set (split by plate text), by set name; the first 900
    rows of each folder keep the suite quick (75 two-row Vietnamese plates among them)."""
    from train.ocr_data import load_splits

    return load_splits(data_root, limit=900)[1]


def _reads(reader, samples):
    from lpr_models.ocr.preprocess import plate_crop

    plates = [plate_crop(s.image, s.corners, reader.model.cfg) for s in samples]
    return reader.read(plates)


def _two_row_vietnamese_read(reader, held_out) -> tuple[int, int]:
    from train.ocr_eval import matches

    two_rows = [s for s in held_out["vn_vn"] if s.rows == 2][:60]
    readings = _reads(reader, two_rows)
    return sum(matches(r.text, s.text) for r, s in zip(readings, two_rows)), len(two_rows)


@pytest.fixture(scope="module")
def shipped_two_row_read(models, held_out) -> tuple[int, int]:
    return _two_row_vietnamese_read(models[1], held_out)


def test_reader_reads_nine_in_ten_real_two_row_vietnamese_plates(shipped_two_row_read):
    """Issue #12's 90%, on the first 60 (56 read; 53 read once, without the shifted reads). Over all 245: 88.2%."""
    right, total = shipped_two_row_read
    assert total >= 40 and right >= 0.9 * total, f"{right}/{total}"


def test_shifted_reads_read_more_real_plates_than_one_read(models, held_out, shipped_two_row_read):
    single = PlateReader(models[1].model, calibration=models[1].calibration, shifted_reads=False)
    assert shipped_two_row_read[0] > _two_row_vietnamese_read(single, held_out)[0]


def _rendered(data_root, style: str, count: int = 40):
    from train.synth.plates import scene_plates, synthetic_samples

    scenes = scene_plates(data_root / "ccpd" / "images", limit=400, split="val")
    return synthetic_samples(count, scenes, data_root.parent / "plate_art", seed=5, styles=(style,))


@pytest.mark.parametrize("style", ["cn_green_car", "cn_green_truck", "cn_yellow", "cn_white_police"])
def test_reader_reads_rendered_chinese_plates_of_other_colours_in_real_photos(models, data_root, style):
    samples = _rendered(data_root, style)
    readings = _reads(models[1], samples)
    right = sum(r.text == s.text for r, s in zip(readings, samples))
    assert right >= 0.9 * len(samples), f"{style}: {right}/{len(samples)}"
    assert sum(r.region == "cn" for r in readings) >= 0.9 * len(samples), style


@pytest.mark.parametrize("style", ["cn_yellow_2row", "cn_white_2row"])
def test_reader_reads_rendered_two_row_chinese_plates_in_their_two_row_view(models, data_root, style):
    samples = _rendered(data_root, style)
    readings = _reads(models[1], samples)
    assert sum(r.text == s.text for r, s in zip(readings, samples)) >= 0.9 * len(samples), style
    assert sum(r.rows == 2 for r in readings) >= 0.9 * len(samples)  # read upper row, then lower


def test_reader_reads_rendered_square_eu_plates_upper_row_then_lower(models, data_root):
    """Motorbike (and some Croatian and Spanish car) plates: the last release, which never saw one, read 5 of 36."""
    samples = [s for s in _rendered(data_root, "eu", count=120) if s.rows == 2]
    readings = _reads(models[1], samples)
    assert len(samples) >= 20
    assert sum(r.text == s.text for r, s in zip(readings, samples)) >= 0.7 * len(samples)
    assert sum(r.rows == 2 and r.region == "eu" for r in readings) >= 0.9 * len(samples)


def test_red_spanish_plates_are_not_taken_for_chinese_ones(models, data_root):
    """White on red, a letter at the left (Spanish temporary and trade plates): readers never shown one drifted towards
    a Chinese embassy plate as training went on, and one read the real UC3M plate `-111LS-` as `使111155`. Since some
    plates are drawn with narrow glyphs, an earlier release read a rendered one here `吉D88TRE`. The shipped reader
    reads these small plates (160 x 34) 15 of 15 (16 of 16 and 15 of 16 in the draws of seeds 8 and 9); the
    3000 plates drawn hold about 15 red ones."""
    from train.ocr_data import PlateSample, full_corners
    from train.ocr_eval import invents_province
    from train.synth.world_plates import render_eu

    image = cv2.imread(str(data_root / "uc3m" / "crops" / "train-00975.jpg"))
    samples = [PlateSample(image, full_corners(image), "-111LS-", "uc3m", "eu")]
    rng = np.random.default_rng(7)
    for plate in (render_eu(data_root.parent / "plate_art", rng) for _ in range(3000)):
        inside = plate.image[20:90, 100:400].astype(float)
        if inside[..., 2].mean() > 1.5 * inside[..., 1].mean():  # white on red
            small = cv2.resize(plate.image, (160, 34), interpolation=cv2.INTER_AREA)
            samples.append(PlateSample(small, full_corners(small), plate.text, "rendered", "eu"))
    readings = _reads(models[1], samples)
    assert len(samples) >= 8
    assert all(r.region != "cn" and not invents_province(r.text, "eu") for r in readings), readings
    assert sum(r.text == s.text for r, s in zip(readings[1:], samples[1:])) >= 0.8 * (len(samples) - 1)


def test_every_region_is_named_and_no_province_is_invented_outside_china(models, held_out):
    from train.ocr_eval import invents_province

    for name, region in (("ccpd", "cn"), ("br", "br"), ("us", "us"), ("vn_vn", "vn"), ("uc3m", "eu")):
        samples = held_out[name][:80]
        readings = _reads(models[1], samples)
        named = sum(r.region == region for r in readings) / len(readings)
        assert named >= 0.9, f"{name}: region {region} named for {named:.0%}"
        if region != "cn":
            assert not any(invents_province(r.text, region) for r in readings), name


def test_eval_writes_one_prediction_per_plate(tmp_path, data_root):
    import subprocess
    import sys

    out = tmp_path / "predictions.jsonl"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "stream.cli",
            "eval",
            "ccpd",
            str(data_root / "ccpd" / "images"),
            "--split",
            "val",
            "--limit",
            "3",
            "--predictions",
            str(out),
        ],
        cwd=RUN_DIR,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert len(rows) == 3 and all(
        {"expected", "read", "confidence", "char_confidences", "correct"} <= r.keys() for r in rows
    )
    assert all(r["correct"] == (r["read"] == r["expected"]) for r in rows)


def test_the_sample_clip_reads_the_same_plates_with_a_lower_detection_rate_and_the_motion_gate(models):
    from stream.config import DetectorSection

    truth = json.loads((ROOT / "samples" / "sample.truth.json").read_text(encoding="utf-8"))
    camera = CameraSection(id="sample", source=str(ROOT / "samples" / "sample.mp4"))
    cfg = Config(cameras=(camera,), detector=DetectorSection(every_n_frames=3, motion_gate=True))
    sent = []
    result = run_camera(cfg, camera, lambda *m: sent.append(m), threading.Event(), models=models)
    events = [m[2] for m in sent if m[0] == "plate"]
    score = score_video_events(events, truth)
    assert score["found_correct"] == 2 and score["duplicates"] == 0, events
    assert result.pipeline.skipped > result.pipeline.frames / 3  # the detector saw well under every frame


def test_a_batch_of_frames_of_different_sizes_gives_each_frame_s_own_detections(models):
    """What the shared inference service relies on: batching changes no detection."""
    import av

    with av.open(str(ROOT / "samples" / "sample.mp4")) as clip:
        frames = [f.to_ndarray(format="bgr24") for _, f in zip(range(40), clip.decode(video=0))][::13]
    frames[1] = cv2.resize(frames[1], (1280, 720))
    detector, _ = models
    alone = [detector.detect(f) for f in frames]
    together = detector.detect_batch(frames)
    assert sum(map(len, alone)) >= 2
    for one, batched in zip(alone, together):
        assert len(one) == len(batched)
        for a, b in zip(one, batched):
            np.testing.assert_allclose(a.corners, b.corners, atol=0.05)
            assert a.score == pytest.approx(b.score, abs=1e-4)


def test_a_plate_filling_a_close_up_photo_is_found_by_the_coarse_pass_only(data_root):
    """A validation photo whose plate is 76% of its width: too large for the full-size pass."""
    (path,) = (data_root / "ccpd" / "images").glob("0934710249042-89_84-*.jpg")
    item = next(i for i in ccpd_items(data_root / "ccpd" / "images", split="val") if i.path == path)
    frame = cv2.imread(str(path))

    def best_iou(detector: PlateDetector) -> float:
        found = detector.detect(frame)
        return float(box_iou(np.stack([d.box for d in found]), item.box[None]).max()) if found else 0.0

    assert best_iou(PlateDetector.from_weights()) < 0.5
    coarse = PlateDetector.from_weights(coarse_pass=True)
    assert coarse.coarse is not None and coarse.coarse[0] == (320, 320)
    assert best_iou(coarse) > 0.7


def test_a_far_plate_in_a_large_photo_is_found_by_the_fine_pass_only(data_root):
    """A validation photo shrunk to 1/8 in a 1920x1080 frame: its plate is 21 px wide, 7 px at 640x640."""
    (path,) = (data_root / "ccpd" / "images").glob("00939894636015-89_87-154&529_323&594-*.jpg")
    item = next(i for i in ccpd_items(data_root / "ccpd" / "images", split="val") if i.path == path)
    frame = np.full((1080, 1920, 3), 90, np.uint8)
    small = cv2.resize(cv2.imread(str(path)), None, fx=1 / 8, fy=1 / 8, interpolation=cv2.INTER_AREA)
    frame[500 : 500 + small.shape[0], 900 : 900 + small.shape[1]] = small
    box = item.box / 8 + np.array([900, 500, 900, 500], np.float32)

    def best_iou(detector: PlateDetector) -> float:
        found = detector.detect(frame)
        return float(box_iou(np.stack([d.box for d in found]), box[None]).max()) if found else 0.0

    assert best_iou(PlateDetector.from_weights(coarse_pass=True)) < 0.5
    fine = PlateDetector.from_weights(coarse_pass=True, fine_pass=True)
    assert fine.fine_size(frame.shape) == (768, 1280)  # twice 640x640's scale, with little padding
    assert best_iou(fine) > 0.7


def test_the_read_share_of_frames_counts_the_plates_read_exactly(models, validation):
    """Two validation photos at a third of their size in 1080p frames: the plate of the first is read, the second's
    is painted over, so half the frames are read."""
    frames, labels = small_plate_frames([item.path for item in validation[:2]], scales=(1 / 3, 1 / 3))
    x1, y1, x2, y2 = np.round(labels[1].box).astype(int)
    frames[1][y1 - 2 : y2 + 2, x1 - 2 : x2 + 2] = 90
    detector, reader = models
    assert read_share(reader, frames, labels, [detector.detect(frame) for frame in frames]) == 0.5


def test_photos_get_the_coarse_and_fine_passes_and_streams_only_when_configured(tmp_path):
    photo = tmp_path / "car.jpg"
    cv2.imwrite(str(photo), np.zeros((48, 64, 3), np.uint8))
    on_photos = build_models(Config(cameras=(CameraSection(id="a", source=str(photo)),)))[0]
    on_video = build_models(Config(cameras=(CameraSection(id="a", source=str(ROOT / "samples" / "sample.mp4")),)))[0]
    configured = Config(
        detector=DetectorSection(coarse_pass=True, fine_pass=True),
        cameras=(CameraSection(id="a", source=str(ROOT / "samples" / "sample.mp4")),),
    )
    assert on_photos.coarse is not None and on_video.coarse is None
    assert on_photos.fine is not None and on_video.fine is None
    configured_video = build_models(configured)[0]
    assert configured_video.coarse is not None and configured_video.fine is not None
    plain_photos = Config(
        detector=DetectorSection(photo_passes=False), cameras=(CameraSection(id="a", source=str(photo)),)
    )
    assert build_models(plain_photos)[0].coarse is None and build_models(plain_photos)[0].fine is None


def test_reader_reads_long_vietnamese_plates_drawn_with_narrow_glyphs(models, data_root, monkeypatch):
    """One-row plates of 9 characters in a face narrower than the font, spread over the plate, as on real Vietnamese
    cars (`50LD-044.11`): of 55 drawn at 0.6-0.9 of the width, the last release (trained on the fonts' own widths)
    read 5, this one 45."""
    from train.synth import world_plates

    monkeypatch.setattr(world_plates, "CONDENSED_SHARE", 1.0)
    samples = [s for s in _rendered(data_root, "vn", count=160) if s.rows == 1 and len(s.text) == 9]
    readings = _reads(models[1], samples)
    assert len(samples) >= 15
    assert sum(r.text == s.text for r, s in zip(readings, samples)) >= 0.5 * len(samples)


def test_light_on_dark_plates_are_read_more_often_with_a_second_reading_inverted(
    models, data_root, held_out, monkeypatch
):
    """Rendered US plates, light characters on a dark ground: 104 of 200 read as they are, 168 with the doubtful ones
    read again in their second looks (benchmarks/us_plate_kinds.py); 21 and 34 of these 40. The white Spanish plates,
    doubtful by design at their painted-over positions, read exactly as before."""
    from train.synth import world_plates

    shares = {"US_DARK_SHARE": 1.0, "US_YELLOW_SHARE": 0.0, "US_MIDTONE_SHARE": 0.0, "US_STACK_SHARE": 0.0}
    for name, share in {**shares, "US_EMBLEM_SHARE": 0.0, "US_END_EMBLEM_SHARE": 0.0}.items():
        monkeypatch.setattr(world_plates, name, share)
    light_on_dark, spanish = _rendered(data_root, "us", count=40), held_out["uc3m"][:150]
    as_is = PlateReader(models[1].model, calibration=models[1].calibration, second_looks=False)  # the last release

    def read(reader, samples):
        return [r.text for r in _reads(reader, samples)]

    def right(texts):
        return sum(t == s.text for t, s in zip(texts, light_on_dark))

    assert right(read(models[1], light_on_dark)) >= right(read(as_is, light_on_dark)) + 6
    assert read(models[1], spanish) == read(as_is, spanish)


def _leave_out_look(monkeypatch, minimum: float) -> None:
    """Read without the second look whose reading must reach `minimum` (each look has a minimum of its own)."""
    from lpr_models.ocr import reader as reader_module

    assert len({reader_module.STRETCHED_MIN, reader_module.INVERTED_MIN, reader_module.GREY_MIN}) == 3
    looks = reader_module.second_looks
    monkeypatch.setattr(
        reader_module,
        "second_looks",
        lambda crop, chinese: [look for look in looks(crop, chinese) if look[1] != minimum],
    )


def test_light_on_midtone_plates_are_read_more_often_with_the_grey_look_too(models, data_root, monkeypatch):
    """Rendered US plates, light characters on a mid-tone colour: 74 of 200 read with the inverted look alone, 102
    with the grey, stretched one too (benchmarks/us_plate_kinds.py); 20 and 26 of these 40."""
    from lpr_models.ocr import reader as reader_module
    from train.synth import world_plates

    shares = {"US_DARK_SHARE": 0.0, "US_YELLOW_SHARE": 0.0, "US_MIDTONE_SHARE": 1.0, "US_STACK_SHARE": 0.0}
    for name, share in {**shares, "US_EMBLEM_SHARE": 0.0, "US_END_EMBLEM_SHARE": 0.0}.items():
        monkeypatch.setattr(world_plates, name, share)
    midtone = _rendered(data_root, "us", count=40)

    def right() -> int:
        return sum(r.text == s.text for r, s in zip(_reads(models[1], midtone), midtone))

    with_grey = right()
    _leave_out_look(monkeypatch, reader_module.GREY_MIN)
    assert with_grey >= right() + 3


def test_dark_chinese_plates_are_read_more_often_with_the_stretched_look(models, held_out, monkeypatch):
    """The CCPD validation plates darkened as `lpr eval ccpd --degrade dark` darkens them, each read once (no
    shifted copies, to keep the suite quick): 114 of these 126 read without the stretched look, 121 with it. The
    crops are read as they are (DARK_CROP off): stretched first, as the reader now stretches a crop that dark, they
    leave the look little to do; it is there for the doubtful plates not that dark (dusk, haze)."""
    from lpr_models.ocr import reader as reader_module
    from train.evaluate import DEGRADATIONS

    monkeypatch.setattr(reader_module, "DARK_CROP", -1.0)
    reader = PlateReader(models[1].model, calibration=models[1].calibration, shifted_reads=False)
    ccpd = held_out["ccpd"]
    dark = [reader.crop(DEGRADATIONS["dark"](s.image), s.corners) for s in ccpd]

    def right() -> int:
        return sum(r.text == s.text for r, s in zip(reader.read(dark), ccpd))

    with_stretch = right()
    _leave_out_look(monkeypatch, reader_module.STRETCHED_MIN)
    assert with_stretch >= right() + 4


def test_plates_from_elsewhere_at_night_are_read_more_often_stretched(models, data_root, monkeypatch):
    """Rendered EU and US plates pasted into validation photos, the photos darkened as `lpr eval ccpd --degrade
    dark` darkens them: 62 of the 80 read with a dark crop stretched before reading, 57 as it is (Brazilian, UK
    and Vietnamese ones: 119 of 120 either way)."""
    from lpr_models.ocr import reader as reader_module
    from lpr_models.ocr.preprocess import plate_crop
    from train.evaluate import DEGRADATIONS

    samples = _rendered(data_root, "eu") + _rendered(data_root, "us")
    plates = [plate_crop(DEGRADATIONS["dark"](s.image), s.corners, models[1].model.cfg) for s in samples]

    def right() -> int:
        return sum(r.text == s.text for r, s in zip(models[1].read(plates), samples))

    stretched = right()
    monkeypatch.setattr(reader_module, "DARK_CROP", -1.0)
    assert stretched >= right() + 3


def test_us_plates_with_stacked_characters_are_read_with_them(models, data_root, held_out, monkeypatch):
    """Rendered US plates with two or three small characters stacked at one end: none read without reading the
    stack apart (the reader's strips each hold a whole stack), 26 of these 40 with it (lpr_models.ocr.stacks). The
    real US validation plates: two more read (`NG` before `00617`, `LH` before `00013`), none read fewer."""
    from train.ocr_eval import matches
    from train.synth import world_plates

    shares = {"US_DARK_SHARE": 0.0, "US_YELLOW_SHARE": 0.0, "US_MIDTONE_SHARE": 0.0, "US_STACK_SHARE": 1.0}
    for name, share in {**shares, "US_EMBLEM_SHARE": 0.0, "US_END_EMBLEM_SHARE": 0.0}.items():
        monkeypatch.setattr(world_plates, name, share)
    stacked, real = _rendered(data_root, "us", count=40), held_out["us"]
    unstacked = PlateReader(models[1].model, calibration=models[1].calibration, stacked_characters=False)

    def right(reader, samples) -> list[bool]:
        return [matches(r.text, s.text) for r, s in zip(_reads(reader, samples), samples)]

    assert sum(right(models[1], stacked)) >= sum(right(unstacked, stacked)) + 15
    with_stacks, without = right(models[1], real), right(unstacked, real)
    assert sum(with_stacks) >= sum(without) + 2
    assert all(w for w, o in zip(with_stacks, without) if o)


def test_us_plates_with_an_emblem_are_read_with_it_painted_over(models, data_root, held_out, monkeypatch):
    """Rendered US plates with an emblem between their groups or before them: 58 of these 100 read with the emblem
    painted over and the plate read again (reader.read_past_emblems), 55 without; the real US validation plates:
    none fewer in all (one lost, Oregon's `ANYTEXT` whose tree touches the T, and one gained)."""
    from lpr_models.ocr import reader as reader_module
    from train.ocr_eval import matches
    from train.synth import world_plates

    shares = {"US_DARK_SHARE": 0.0, "US_YELLOW_SHARE": 0.0, "US_MIDTONE_SHARE": 0.0, "US_STACK_SHARE": 0.0}
    for name, share in {**shares, "US_EMBLEM_SHARE": 0.7, "US_END_EMBLEM_SHARE": 0.3}.items():
        monkeypatch.setattr(world_plates, name, share)
    emblems, real = _rendered(data_root, "us", count=100), held_out["us"]

    def right(samples) -> int:
        return sum(matches(r.text, s.text) for r, s in zip(_reads(models[1], samples), samples))

    painted = right(emblems), right(real)
    monkeypatch.setattr(reader_module, "EMBLEM_GAIN", float("inf"))
    assert painted[0] >= right(emblems) + 2
    assert painted[1] >= right(real)


def test_doubtful_characters_read_again_alone_read_more_plates_from_elsewhere(models, held_out, monkeypatch):
    """Real US, Czech/Croatian and Vietnamese validation plates: each doubtful character of a plate not read as
    Chinese, read again alone in a row of its own (reader.reread_doubtful_characters), reads 213 of these 249
    instead of 211 and none fewer (on all 523 of them, 4 more)."""
    from lpr_models.ocr import reader as reader_module
    from train.ocr_eval import matches

    plates = held_out["us"] + held_out["vn_eu"] + held_out["vn_vn"]
    monkeypatch.setattr(reader_module, "EMBLEM_GAIN", float("inf"))  # whose rereads win one of the same plates

    def right() -> list[bool]:
        return [matches(r.text, s.text) for r, s in zip(_reads(models[1], plates), plates)]

    again = right()
    monkeypatch.setattr(reader_module, "GLYPH_RECHECK_BELOW", 0.0)
    once = right()
    assert sum(again) >= sum(once) + 2
    assert all(a for a, o in zip(again, once) if o)
