"""The scoring functions of `lpr eval` on hand-made cases."""

from types import SimpleNamespace

import cv2
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from lpr_models.geometry import quad_box
from train.det_eval import average_precision, corner_error
from train.evaluate import confidence_figures, csv_items, score_video_events
from train.ocr_eval import char_accuracy, confusions, score


def event(text, start=0.0, end=1.0, confidence=0.9):
    return {"text": text, "first_seen": {"pts": start}, "last_seen": {"pts": end}, "confidence": confidence}


def test_video_scoring_counts_correct_duplicate_misread_and_false_events():
    truth = {"plates": ["AB123", "CD456", "EF789"], "ranges": [[0, 2], [3, 5], [6, 8]]}
    events = [
        event("AB123", 0.1, 1.9),
        event("AB123", 1.0, 2.0),  # a duplicate
        event("CD455", 3.2, 4.8),  # misread during the second plate
        event("ZZ999", 10, 11),
    ]  # nothing expected then
    score = score_video_events(events, truth)
    assert score["found_correct"] == 1 and score["duplicates"] == 1
    assert score["misread_events"] == 1 and score["false_events"] == 1
    assert score["missed"] == ["CD456", "EF789"]


def test_video_scoring_counts_chinese_characters_no_plate_in_view_carries():
    truth = {"plates": ["29C55125", "皖AY339S"], "ranges": [[0, 2], [3, 5]]}
    events = [
        event("皖C55125", 0.1, 1.9),  # a province on the Vietnamese plate
        {**event("皖LL7627", 0.5, 1.5), "readable": False},  # shown to a person all the same
        event("皖AY339S", 3.1, 4.9),  # the Chinese plate: its province is no invention
        event("29C55125", 0.2, 1.8),
    ]
    score = score_video_events(events, truth)
    assert score["chinese_invented"] == 2
    assert score["found_correct"] == 2 and score["misread_events"] == 1 and score["unreadable_events"] == 1


def test_confidence_figures_say_how_often_each_confidence_decile_is_right():
    figures = confidence_figures([(0.95, True), (0.93, False), (0.35, True), (1.0, True)])
    assert figures["reads"] == 4
    assert figures["deciles (confidence, right, reads)"] == {"0.3-0.4": [0.35, 1.0, 1], "0.9-1.0": [0.96, 0.667, 3]}
    assert figures["ece"] == pytest.approx((3 * abs(0.96 - 2 / 3) + 1 * 0.65) / 4)
    assert confidence_figures([]) == {"reads": 0, "ece": 0.0, "deciles (confidence, right, reads)": {}}


def test_video_scoring_reports_the_confidence_of_right_and_wrong_events():
    truth = {"plates": ["AB123", "CD456"], "ranges": [[0, 2], [3, 5]]}
    events = [event("AB123", 0.1, 1.9, 0.95), event("CD455", 3.2, 4.8, 0.92), event("ZZ999", 10, 11, 0.15)]
    deciles = score_video_events(events, truth)["confidence"]["deciles (confidence, right, reads)"]
    assert deciles == {"0.1-0.2": [0.15, 0.0, 1], "0.9-1.0": [0.935, 0.5, 2]}  # a misread and a false event: wrong


def test_video_scoring_without_ranges_matches_by_text_only():
    score = score_video_events([event("AB123", 50, 60), event("XX")], {"plates": ["AB123"]})
    assert score["found_correct"] == 1 and score["false_events"] == 1


def test_video_truth_is_matched_as_the_reader_writes_plates_whatever_the_separators():
    score = score_video_events([event("LS15EBC", 50, 60)], {"plates": ["LS15 EBC"]})
    assert score["found_correct"] == 1 and score["false_events"] == 0


def test_video_scoring_rejects_mismatched_ranges():
    with pytest.raises(ValueError, match="one \\[start, end\\] per plate"):
        score_video_events([], {"plates": ["A", "B"], "ranges": [[0, 1]]})


def test_character_accuracy():
    assert char_accuracy("皖A12345", "皖A12345") == 1.0
    assert char_accuracy("皖A12845", "皖A12345") == pytest.approx(6 / 7)
    assert char_accuracy("", "AB") == 0.0 and char_accuracy("ABC", "AB") == pytest.approx(2 / 3)
    assert confusions([("AB8", "AB3"), ("XB8", "AB3"), ("AB", "ABC")]) == [("3", "8", 2), ("A", "X", 1)]


def test_exact_up_to_glyphs_counts_o_as_0_and_i_as_1_only():
    rows = [
        ("5A0J230", "5AOJ230", "us", "us"),  # O read 0: one glyph in most US states' fonts
        ("1361H1", "1361HI", "us", "us"),
        ("BB18001", "BB1B001", "us", "us"),  # B read 8: a misread either way
        ("0QK466", "OQK46", "us", "us"),  # a character lost: a misread either way
    ]
    figures = score(rows)
    assert figures["exact"] == 0.0 and figures["exact_glyphs"] == 0.5


def test_average_precision_edge_cases():
    assert average_precision([(0.9, True), (0.8, True)], 2) == pytest.approx(1.0)
    assert average_precision([(0.9, False), (0.8, True)], 1) == pytest.approx(0.5)
    assert average_precision([(0.9, True)], 2) == pytest.approx(0.5)
    assert average_precision([], 3) == 0.0 and average_precision([(0.5, False)], 0) == 0.0


@given(st.lists(st.tuples(st.floats(0, 1), st.booleans()), max_size=30))
def test_average_precision_is_a_fraction(scored):
    truths = max(1, sum(h for _, h in scored))
    assert 0.0 <= average_precision(scored, truths) <= 1.0


def test_corner_error_is_relative_to_plate_width():
    truth = np.array([[0, 0], [100, 0], [100, 30], [0, 30]], np.float32)
    assert corner_error(truth + [5, 0], truth) == pytest.approx(0.05)


def test_csv_labels(tmp_path):
    (tmp_path / "labels.csv").write_text("relpath,x,y,w,h,text,extra\na.jpg,10,20,30,40,AB123,z\n")
    [item] = csv_items(tmp_path / "labels.csv", tmp_path)
    assert item.path == tmp_path / "a.jpg" and item.text == "AB123" and item.box.tolist() == [10, 20, 40, 60]
    # labels as people write them: separators between the groups, small letters
    (tmp_path / "written.csv").write_text("relpath,x,y,w,h,text\na.jpg,1,1,1,1, ls15 ebc \nb.jpg,1,1,1,1,ABC-1234\n")
    assert [i.text for i in csv_items(tmp_path / "written.csv", tmp_path)] == ["LS15EBC", "ABC1234"]
    # Chinese plates are also scored per province and length, so a photo set shows which provinces fail
    (tmp_path / "cn.csv").write_text("relpath,x,y,w,h,text\na.jpg,1,1,1,1,湘A12345\nb.jpg,1,1,1,1,粤BD12345\n")
    groups = [i.groups for i in csv_items(tmp_path / "cn.csv", tmp_path)]
    assert groups == [("province 湘", "chinese, 7 characters"), ("province 粤", "chinese, 8 characters")]
    assert all(i.groups == () for i in csv_items(tmp_path / "written.csv", tmp_path))
    (tmp_path / "bad.csv").write_text("relpath,x,y,w,text\n")
    with pytest.raises(ValueError, match="missing column"):
        csv_items(tmp_path / "bad.csv", tmp_path)
    (tmp_path / "nan.csv").write_text("relpath,x,y,w,h,text\na.jpg,ten,0,1,1,A\n")
    with pytest.raises(ValueError, match="nan.csv:2"):
        csv_items(tmp_path / "nan.csv", tmp_path)


@given(st.lists(st.tuples(st.text(max_size=6), st.text(max_size=4), st.text(max_size=4)), max_size=5))
def test_any_csv_is_read_or_refused_clearly(rows):
    import csv
    import io
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "l.csv"
        buf = io.StringIO()
        writer = csv.writer(buf)
        writer.writerow(["relpath", "x", "y", "w", "h", "text"])
        for name, x, text in rows:
            writer.writerow([name, x, "1", "2", "3", text])
        path.write_text(buf.getvalue())
        try:
            items = csv_items(path, Path(tmp))
            assert len(items) == len(rows)
        except ValueError:
            pass


def test_only_the_best_scored_overlapping_detection_is_a_hit():
    from types import SimpleNamespace

    from train.det_eval import match_plates

    dets = [SimpleNamespace(score=s) for s in (0.5, 0.9, 0.7)]
    ious = np.array([[0.8], [0.6], [0.2]])
    assert match_plates(dets, ious) == [(0.9, True), (0.7, False), (0.5, False)]


def test_each_plate_of_a_photo_is_hit_once_by_the_detection_overlapping_it_most():
    """Two labelled plates in one photo: each detection over a plate is a hit, a second one on the same plate and
    one overlapping none are false, the way VOC counts."""
    from types import SimpleNamespace

    from train.det_eval import match_plates

    dets = [SimpleNamespace(score=s) for s in (0.95, 0.9, 0.8, 0.3)]
    ious = np.array([[0.8, 0.0], [0.0, 0.7], [0.6, 0.1], [0.1, 0.2]])
    assert match_plates(dets, ious) == [(0.95, True), (0.9, True), (0.8, False), (0.3, False)]
    assert match_plates(dets, np.zeros((4, 0))) == [(d.score, False) for d in dets]


def test_unreadable_events_are_counted_apart_from_misreads():
    truth = {"plates": ["AB123"], "ranges": [[0.0, 2.0]]}
    events = [event("AB123", 0.1, 1.9), {**event("XX", 0.5, 1.0, 0.01), "readable": False}, event("AB128", 0.2, 1.5)]
    score = score_video_events(events, truth)
    assert score["found_correct"] == 1 and score["unreadable_events"] == 1 and score["misread_events"] == 1


def test_a_validation_with_nothing_found_scores_the_worst_corner_error():
    from train.det_eval import corner_penalty

    assert corner_penalty({"corner_error": float("nan")}) == 1.0
    assert corner_penalty({"corner_error": 0.03}) == 0.03


def plate_photo(tmp_path, background: int = 0, plate: int = 255):
    """A 500x300 photo holding one plain 120x40 plate, saved, and its labelled item; and the photo."""
    from train.evaluate import LabelledImage

    corners = np.array([[200, 150], [320, 150], [320, 190], [200, 190]], np.float32)
    photo = np.full((300, 500, 3), background, np.uint8)
    cv2.fillConvexPoly(photo, corners.astype(np.int32), (plate, plate, plate))
    cv2.imwrite(str(tmp_path / "plate.png"), photo)
    return LabelledImage(tmp_path / "plate.png", quad_box(corners), "A1", corners), photo


def test_a_turned_photo_keeps_its_labels_on_the_plate(tmp_path):
    from train.evaluate import load_frame, turned_items

    item, _ = plate_photo(tmp_path)
    corners = item.corners
    (turned,) = turned_items([item], 30, 40, seed=1)
    assert 30 <= abs(turned.turn) <= 40
    frame, labels = load_frame(turned)
    ys, xs = np.nonzero(frame[..., 0] > 128)
    np.testing.assert_allclose([xs.min(), ys.min(), xs.max(), ys.max()], labels.box, atol=1.5)
    np.testing.assert_allclose(labels.corners.mean(axis=0), corners.mean(axis=0), atol=1e-3)  # turned about the plate
    assert np.linalg.norm(labels.corners[1] - labels.corners[0]) == pytest.approx(120, abs=0.5)


def test_a_tilted_photo_shows_its_plate_from_the_side_with_its_labels_on_it(tmp_path):
    from train.evaluate import load_frame, tilted_items

    item, _ = plate_photo(tmp_path)
    (tilted,) = tilted_items([item], 40, 50, max_pitch=0, seed=1)
    assert 40 <= abs(tilted.tilt[0]) <= 50 and tilted.tilt[1] == 0
    frame, labels = load_frame(tilted)
    ys, xs = np.nonzero(frame[..., 0] > 128)
    np.testing.assert_allclose([xs.min(), ys.min(), xs.max(), ys.max()], labels.box, atol=1.5)
    tl, tr, br, bl = labels.corners
    assert 0.6 * 120 < tr[0] - tl[0] < 0.8 * 120  # turned 40-50 degrees: cos shows 64-77% of its width
    left, right = bl[1] - tl[1], br[1] - tr[1]
    assert abs(left - right) > 2 and (right > left) == (tilted.tilt[0] > 0)  # the nearer edge looks taller


def test_a_degraded_photo_keeps_its_labels_and_shows_its_condition(tmp_path):
    from train.evaluate import degraded_items, load_frame

    item, photo = plate_photo(tmp_path, background=60, plate=200)
    corners = item.corners
    frames = {}
    for condition in ("blur", "dark", "overexposed", "haze"):
        (degraded,) = degraded_items([item], condition)
        frames[condition], labels = load_frame(degraded)
        np.testing.assert_array_equal(labels.corners, corners)
    row, column = frames["blur"][170, :, 0].astype(int), frames["blur"][:, 260, 0].astype(int)
    assert 60 < row[198] < 200 and column[148] in (60, 200)  # smeared along the rows only
    assert frames["dark"].mean() < 0.5 * photo.mean() < frames["overexposed"].mean()
    assert np.ptp(frames["haze"]) < 0.5 * np.ptp(photo)
    with pytest.raises(ValueError, match="unknown condition"):
        degraded_items([item], "fog")


def test_read_plates_are_scored_per_group_and_a_plate_of_no_group_is_left_out():
    from train.ocr_eval import score_by

    samples = [
        SimpleNamespace(text=t, region=r) for t, r in (("皖A1", "cn"), ("皖B2", "cn"), ("苏C3", "cn"), ("AB1", "eu"))
    ]
    rows = [
        ("皖A1", "皖A1", "cn", "cn"),
        ("皖B9", "皖B2", "cn", "cn"),
        ("苏C3", "苏C3", "cn", "cn"),
        ("AB1", "AB1", "eu", "eu"),
    ]
    figures = score_by(samples, rows, lambda s: s.text[0] if s.region == "cn" else None)
    assert list(figures) == ["皖", "苏"]
    assert figures["皖"]["exact"] == 0.5 and figures["苏"]["exact"] == 1.0
