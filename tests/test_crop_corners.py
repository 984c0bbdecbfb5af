"""Corners found in crops whose labels give none (train.crop_corners, `lpr eval ocr --find-corners`)."""

import numpy as np
import pytest

from lpr_models.detector.refiner import CornerRefiner
from train.crop_corners import has_labelled_corners, with_found_corners
from train.det_eval import corner_error
from train.evaluate import ccpd_items, load_frame, turned_items
from train.ocr_data import PlateSample, full_corners


@pytest.fixture(scope="module")
def refiner():
    return CornerRefiner.from_weights()


@pytest.fixture(scope="module")
def turned_crops(data_root):
    """Real CCPD validation plates turned 20-30 degrees in their photos, each cut out by its bounding box as the
    crop folders cut theirs: (crop, the plate's true corners in it)."""
    crops = []
    for item in turned_items(ccpd_items(data_root / "ccpd" / "images", split="val")[:8], 20, 30):
        frame, item = load_frame(item)
        x1, y1, x2, y2 = np.round(item.box).astype(int)
        crops.append((frame[y1:y2, x1:x2], item.corners - [x1, y1]))
    return crops


def test_the_refiner_finds_a_turned_plates_corners_from_its_crops_box(turned_crops, refiner):
    box_errors, found_errors = [], []
    for crop, truth in turned_crops:
        sample = PlateSample(crop, full_corners(crop), "", "test")
        (found,) = with_found_corners([sample], refiner)
        pad = (found.image.shape[0] - crop.shape[0]) // 2
        assert found.image.shape[:2] == (crop.shape[0] + 2 * pad, crop.shape[1] + 2 * pad) and pad > 0
        box_errors.append(corner_error(sample.corners, truth))
        found_errors.append(corner_error(found.corners - pad, truth))
    assert np.median(found_errors) < 0.05, found_errors
    assert np.median(found_errors) < np.median(box_errors) / 3, (found_errors, box_errors)


def test_samples_with_labelled_corners_are_kept_as_they_are(turned_crops, refiner):
    crop, truth = turned_crops[0]
    labelled = PlateSample(crop, truth.astype(np.float32), "", "test")
    whole = PlateSample(crop, full_corners(crop), "", "test")
    assert has_labelled_corners(labelled) and not has_labelled_corners(whole)
    assert with_found_corners([labelled], refiner)[0] is labelled


def test_training_sees_each_real_crop_whole_and_at_its_found_corners(data_root, refiner):
    from train.crop_corners import with_found_copies
    from train.ocr_data import load_splits

    train, _ = load_splits(data_root, limit=6)
    crops = [s for s in train if not has_labelled_corners(s)]
    assert crops and len(crops) < len(train)  # the CCPD plates cut from photos have labelled corners
    both = with_found_copies(train, refiner)
    assert all(a is b for a, b in zip(both, train)) and len(both) == len(train) + len(crops)
    copies = both[len(train) :]
    assert [c.text for c in copies] == [s.text for s in crops]
    assert all(has_labelled_corners(c) for c in copies)
