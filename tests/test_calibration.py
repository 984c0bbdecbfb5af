"""Calibrated confidence: the fit recovers a known miscalibration, and the calibration travels with the weights."""

import shutil

import cv2
import numpy as np
import pytest
import torch

from lpr_models.detector.detector import PlateDetector
from lpr_models.ocr.calibration import (
    Calibration,
    chance_calibration_error,
    expected_calibration_error,
    fit_temperature,
    fit_text_map,
    log_loss,
)
from lpr_models.ocr.model import MaskOCR
from lpr_models.ocr.reader import PlateReader, Reading, read_batch
from lpr_models.weights import DIGESTS_FILE
from stream.voting import vote
from tests.test_ocr_model import TINY
from train import calibrate
from train.calibrate import detected_ccpd, trusted_label, visible_product, write_calibration
from train.evaluate import DEGRADATIONS
from train.loop import save_checkpoint
from train.ocr_data import PlateSample, load_splits


def test_temperature_scaling_undoes_overconfidence():
    rng = np.random.default_rng(0)
    true_logits = rng.normal(0, 2, (4000, 12))
    probs = np.exp(true_logits) / np.exp(true_logits).sum(axis=1, keepdims=True)
    targets = np.array([rng.choice(12, p=p) for p in probs])
    assert abs(fit_temperature(true_logits * 3.0, targets) - 3.0) < 0.3  # a model 3x too sure
    assert abs(fit_temperature(true_logits, targets) - 1.0) < 0.1


def test_ece_tells_calibrated_from_overconfident_and_the_text_map_fixes_it():
    rng = np.random.default_rng(1)
    confidence = rng.uniform(0, 1, 5000)
    right = rng.uniform(0, 1, 5000) < confidence
    assert expected_calibration_error(confidence, right) < 0.03
    # a reader whose product of character probabilities overstates: right with sigmoid(3 log p - 0.5)
    product = rng.uniform(0.05, 1, 20000)
    truth = 1 / (1 + np.exp(-(3 * np.log(product) - 0.5)))
    right = rng.uniform(0, 1, len(product)) < truth
    assert expected_calibration_error(product, right) > 0.1
    scale, bias, gap_scale = fit_text_map(product, right)
    assert abs(scale - 3) < 0.4 and abs(bias + 0.5) < 0.3 and gap_scale < 0.3  # no gap term in the truth
    mapped = np.array([Calibration(1.0, scale, bias, gap_scale, fitted=True).text_confidence(c) for c in product])
    assert expected_calibration_error(mapped, right) < 0.03


def test_the_text_map_trusts_sure_reads_fully_and_doubts_middling_ones_at_once():
    # read end to end, sure reads are nearly always right and middling ones often wrong: right with
    # sigmoid(2 logit(p) + 1), which a map of log(p) alone cannot follow (it levels off at sigmoid(bias))
    rng = np.random.default_rng(4)
    product = rng.beta(8, 1, 20000)
    truth = 1 / (1 + np.exp(-(2 * (np.log(product) - np.log1p(-product)) + 1)))
    right = rng.uniform(0, 1, len(product)) < truth
    calibration = Calibration(1.0, *fit_text_map(product, right), fitted=True)
    mapped = np.array([calibration.text_confidence(p) for p in product])
    assert np.abs(mapped - truth).mean() < 0.01  # the map found is the truth's (its parameters trade off near p = 1)
    assert expected_calibration_error(mapped, right) < 0.02
    assert calibration.text_confidence(0.999) > 0.99 and calibration.text_confidence(0.6) < 0.9
    assert log_loss(mapped, right) < log_loss(np.clip(mapped + 0.05, 0, 1), right)  # the truth scores best
    assert log_loss(mapped, right) < log_loss(np.clip(mapped - 0.05, 0, 1), right)


def test_a_surer_reading_never_gets_a_lower_confidence():
    # data whose gap term would come out negative: right less often as the product nears 1 past a point
    rng = np.random.default_rng(5)
    product = rng.uniform(0.05, 0.9999, 20000)
    truth = 1 / (1 + np.exp(-(3 * np.log(product) + 0.5 * np.log1p(-product) + 1)))
    scale, bias, gap_scale = fit_text_map(product, rng.uniform(0, 1, len(product)) < truth)
    calibration = Calibration(1.0, scale, bias, gap_scale, fitted=True)
    grid = [calibration.text_confidence(p) for p in np.linspace(0.01, 0.9999, 200)]
    assert gap_scale == 0 and np.all(np.diff(grid) >= 0)


def test_chance_ece_shrinks_with_the_set_and_bounds_a_calibrated_readers_ece():
    rng = np.random.default_rng(3)
    small, large = rng.uniform(0.5, 1, 80), rng.uniform(0.5, 1, 8000)
    small_median, small_high = chance_calibration_error(small, draws=300)
    large_median, large_high = chance_calibration_error(large, draws=100)
    assert small_median > 0.03 > large_high  # 80 reads: ECE well above 0 with nothing to correct
    assert small_median < small_high
    calibrated = [expected_calibration_error(small, rng.random(80) < small) for _ in range(100)]
    assert 0.85 < np.mean(np.array(calibrated) <= small_high) <= 1  # about 95% of calibrated readers within
    assert expected_calibration_error(small, rng.random(80) < small - 0.3) > small_high  # 0.3 too sure: beyond it


def test_regions_read_alike_but_right_differently_get_maps_of_their_own(tmp_path):
    from train.calibrate import fit_region_maps

    rng = np.random.default_rng(2)
    product = rng.uniform(0.05, 1, 8000)
    region = np.where(rng.uniform(size=8000) < 0.5, "br", "vn")
    slope, shift = np.where(region == "br", 3.0, 1.0), np.where(region == "br", 0.5, -1.5)
    right = rng.uniform(size=8000) < 1 / (1 + np.exp(-(slope * np.log(product) + shift)))
    one = Calibration(1.0, *fit_text_map(product, right), fitted=True)
    maps = fit_region_maps(product, right, np.append(region[:-1], "uk"), min_reads=100)
    assert sorted(maps) == ["br", "vn"]  # one uk read is too few for a map of its own
    own = Calibration(1.0, one.text_scale, one.text_bias, fitted=True, regions=maps)
    for name in ("br", "vn"):
        mask = region == name
        shared = [one.text_confidence(p, name) for p in product[mask]]
        theirs = [own.text_confidence(p, name) for p in product[mask]]
        assert expected_calibration_error(theirs, right[mask]) < 0.03 < expected_calibration_error(shared, right[mask])
    assert own.text_confidence(0.5, "uk") == one.text_confidence(0.5)  # the rest share the global map
    earlier = Calibration(1.0, 3.0, 0.5, fitted=True, regions={"br": [2.0, 1.0]})  # maps fitted before the gap term
    assert earlier.text_confidence(0.5, "br") == pytest.approx(1 / (1 + np.exp(-(2 * np.log(0.5) + 1))))
    assert earlier.text_confidence(0.5) == pytest.approx(1 / (1 + np.exp(-(3 * np.log(0.5) + 0.5))))
    weights = tmp_path / "ocr.pt"
    save_checkpoint(weights, kind="ocr", config=TINY.to_dict(), model={}, calibration=own.to_dict())
    assert Calibration.from_dict(torch.load(weights, weights_only=True)["calibration"]) == own


def test_a_calibration_is_saved_with_the_weights_and_applied_when_read(tmp_path):
    torch.manual_seed(0)
    model = MaskOCR(TINY)
    weights = tmp_path / "ocr.pt"
    save_checkpoint(weights, kind="ocr", config=TINY.to_dict(), model=model.state_dict())
    calibration = Calibration(temperature=2.0, text_scale=0.5, text_bias=1.0, fitted=True)
    write_calibration(weights, calibration)
    assert torch.load(weights, weights_only=True)["calibration"] == calibration.to_dict()
    reader = PlateReader.from_weights(weights, backend="eager")
    assert reader.calibration == calibration
    plates = np.random.default_rng(0).integers(0, 255, (2, 32, 64, 3), dtype=np.uint8)
    raw = read_batch(reader.model, plates, TINY)
    tempered = read_batch(reader.model, plates, TINY, Calibration(temperature=2.0))  # the temperature alone
    calibrated = reader.read(list(plates))
    assert [c.text for c in calibrated] == [t.text for t in tempered]
    for r, t, c in zip(raw, tempered, calibrated):
        assert c.char_confidences == t.char_confidences
        if r.text == t.text:  # a softer temperature lowers every confident character's probability
            assert all(tc <= rc + 1e-6 for tc, rc in zip(t.char_confidences, r.char_confidences) if rc >= 0.5)
        assert abs(c.confidence - calibration.text_confidence(t.confidence)) < 1e-9


def test_the_vote_gives_each_character_its_own_confidence():
    from lpr_models.ocr.reader import Reading

    result = vote([Reading("AB12", 0.8, (0.99, 0.95, 0.7, 0.9)), Reading("AB12", 0.6, (0.9, 0.9, 0.6, 0.8))])
    assert result.char_confidences == (0.99, 0.95, 0.7, 0.9) and result.confidence == 0.8


def test_the_calibration_command_scores_every_plate_cross_fitted_and_writes_the_fit_on_all(data_root, tmp_path):
    weights = tmp_path / "ocr.pt"
    shutil.copy(DIGESTS_FILE.parent / "ocr.pt", weights)
    report = calibrate.main(["--ocr", str(weights), "--data", str(data_root), "--limit", "24", "--write"])
    _, val = load_splits(data_root, 24)
    plates = {name: figures["plates"] for name, figures in report["sets"].items()}
    detected = {name: plates.pop(name) for name in DETECTED_SETS}  # the validation photos, as the detector cuts them
    assert plates == {name: len(samples) for name, samples in val.items() if samples}
    assert detected["ccpd, detected"] == len(val["ccpd"]) and all(0 < n <= len(val["ccpd"]) for n in detected.values())
    assert report["folds"][0] != report["folds"][1] != report["calibration"]  # each fold fitted on its own half
    for figures in report["sets"].values():  # chance alone leaves some ECE on a dozen plates
        assert 0 < figures["text_ece_by_chance"][0] <= figures["text_ece_by_chance"][1]
    assert torch.load(weights, weights_only=True)["calibration"] == report["calibration"]


def test_the_fit_trusts_written_labels_and_machine_read_ones_that_fit_a_format():
    image = np.zeros((8, 16, 3), np.uint8)
    plate = lambda text, source, region: PlateSample(image, None, text, source, region)  # noqa: E731
    assert trusted_label(plate("51LD12345", "vn_crops", "vn"))
    assert not trusted_label(plate("590206428", "vn_crops", "vn"))  # machine-read, fits no Vietnamese format
    assert trusted_label(plate("12-4B-D", "uc3m", "eu"))  # written by people; hidden positions do not count
    assert trusted_label(plate("ANYTEXT", "us_crops", "us"))


def test_the_hidden_positions_of_a_label_leave_the_product_a_confidence_is_fitted_on():
    image = np.zeros((8, 16, 3), np.uint8)
    reading = Reading("1234BCD", 0.5 * 0.9**6 * 0.8, (0.9, 0.9, 0.5, 0.9, 0.9, 0.9, 0.9))
    painted = PlateSample(image, None, "12-4BCD", "uc3m", "eu")  # the 3 is painted over: its 0.5 must not count
    assert visible_product(reading, painted) == pytest.approx(0.9**6 * 0.8)
    assert visible_product(reading, PlateSample(image, None, "1234BCD", "uc3m", "eu")) == reading.confidence
    assert visible_product(reading, PlateSample(image, None, "12-4BC", "uc3m", "eu")) == reading.confidence


def test_the_detected_sets_hold_the_validation_plates_cut_where_the_detector_finds_them(data_root):
    _, val = load_splits(data_root, 24)
    sets = detected_ccpd(data_root / "ccpd" / "images", PlateDetector.from_weights(coarse_pass=True), limit=24)
    assert set(sets) == set(DETECTED_SETS)
    clean = sets["ccpd, detected"]
    assert [s.text for s in clean] == [s.text for s in val["ccpd"]]
    reader = PlateReader.from_weights()  # cut at the detected corners, the clean plates read as the pipeline reads them
    assert [r.text for r in reader.read([reader.crop(s.image, s.corners) for s in clean])] == [s.text for s in clean]
    plate = {s.text: reader.crop(s.image, s.corners) for s in clean}

    def sharpness(image):
        return cv2.Laplacian(cv2.cvtColor(image, cv2.COLOR_BGR2GRAY), cv2.CV_64F).var()

    for condition, changed in {
        "blur": lambda before, after: sharpness(after) < sharpness(before) / 2,
        "dark": lambda before, after: after.mean() < before.mean() / 2,
        "overexposed": lambda before, after: after.mean() > before.mean(),
        "haze": lambda before, after: after.std() < before.std(),
    }.items():
        for s in sets[f"ccpd {condition}, detected"]:  # the same plates, under the condition `lpr eval ccpd` applies
            assert changed(plate[s.text], reader.crop(s.image, s.corners)), (condition, s.text)


DETECTED_SETS = ("ccpd, detected", *(f"ccpd {condition}, detected" for condition in DEGRADATIONS))
