import numpy as np
import pytest

from lpr_models.detection import Detection
from stream.tracking import PlateTracker, corner_distances


def plate(x, y, w=100, h=30, score=0.9):
    corners = np.array([[x, y], [x + w, y], [x + w, y + h], [x, y + h]], np.float32)
    return Detection(score, np.array([x, y, x + w, y + h], np.float32), corners)


def test_distance_is_in_plate_widths():
    a = plate(0, 0).corners.reshape(1, 8)
    b = plate(50, 0).corners.reshape(1, 8)
    np.testing.assert_allclose(corner_distances(a, b), [[50 / 101]], rtol=1e-5)
    small, moved = plate(0, 0, 20, 6).corners.reshape(1, 8), plate(15, 0, 20, 6).corners.reshape(1, 8)
    assert corner_distances(small, moved)[0, 0] > corner_distances(a, b)[0, 0]  # 15 px is a lot for a small plate


def test_tracks_follow_plates_and_report_their_end():
    tracker = PlateTracker(hit_counter_max=2)
    ids = set()
    for i in range(5):
        update = tracker.update([plate(10 + 5 * i, 10), plate(300 - 5 * i, 200)])
        ids |= {tid for tid, _, _ in update.seen}
    assert len(ids) == 2 and not update.ended_ids
    ended = []
    for _ in range(6):
        ended += tracker.update([]).ended_ids
    assert sorted(ended) == sorted(ids)


def test_seen_reports_only_tracks_detected_in_this_frame_with_their_payload():
    tracker = PlateTracker(hit_counter_max=5)
    tracker.update([plate(0, 0), plate(300, 300)], ["a", "b"])
    update = tracker.update([plate(3, 0)], ["c"])
    assert [(payload) for _, _, payload in update.seen] == ["c"]


def test_a_track_keeps_its_k_best_crops_and_drops_the_worst():
    import numpy as np

    from lpr_models.detection import Detection
    from stream.frames import Frame
    from stream.track_state import TrackState

    rng = np.random.default_rng(0)
    frame = Frame("cam", 0, 0.0, 0.0, np.zeros((10, 10, 3), np.uint8))
    state = TrackState(1, frame, frame, max_crops=2)
    plate = rng.integers(0, 255, (48, 192, 3), dtype=np.uint8)
    for index, score in enumerate([0.5, 0.9, 0.2, 0.7]):
        corners = np.array([[0, 0], [100, 0], [100, 30], [0, 30]], np.float32)
        state.observe(
            Frame("cam", index, 0.0, 0.0, frame.image),
            Detection(score, np.array([0, 0, 100, 30], np.float32), corners),
            plate,
        )
    assert sorted(c.frame_index for c in state.crops) == [1, 3]  # scores 0.9 and 0.7 kept, 0.5 and 0.2 dropped
    assert state.best_crop().frame_index == 1


def _observe(state, index, score, plate_image, x=0):
    from stream.frames import Frame

    corners = np.array([[x, 0], [x + 100, 0], [x + 100, 30], [x, 30]], np.float32)
    detection = Detection(score, np.array([x, 0, x + 100, 30], np.float32), corners)
    image = np.full((10, 10, 3), index + 1, np.uint8)
    state.observe(Frame("cam", index, 0.0, 0.0, image), detection, plate_image)


def _step_edge_plate():
    """8 x 4 px, dark left half, grey 100 right half: Laplacian +100 and -100 on the two edge columns."""
    image = np.zeros((4, 8, 3), np.uint8)
    image[:, 4:] = 100
    return image


def test_crop_quality_is_score_times_root_width_times_log_sharpness():
    from stream.track_state import crop_quality

    corners = np.array([[0, 0], [60, 80], [60, 110], [0, 30]], np.float32)  # top edge 100 px long, slanted
    detection = Detection(0.5, np.array([0, 0, 60, 110], np.float32), corners)
    # Laplacian variance by hand: 4 pixels of +100, 4 of -100, 24 of 0 -> mean 0, variance 80000 / 32 = 2500
    assert crop_quality(_step_edge_plate(), detection) == pytest.approx(0.5 * 10 * np.log1p(2500), rel=1e-5)
    assert crop_quality(np.zeros((4, 8, 3), np.uint8), detection) == 0  # a flat crop has no sharpness
    tiny = Detection(0.5, np.zeros(4, np.float32), np.zeros((4, 2), np.float32))
    assert crop_quality(_step_edge_plate(), tiny) == pytest.approx(0.5 * 1 * np.log1p(2500), rel=1e-5)


def test_a_track_remembers_where_it_was_first_and_last_seen_and_its_best_frame():
    from stream.frames import Frame
    from stream.track_state import TrackState

    first = Frame("cam", 0, 0.0, 0.0, np.zeros((10, 10, 3), np.uint8))
    state = TrackState(1, first, first, max_crops=3, keep_frame=True)
    for index, (score, x) in enumerate([(0.5, 0), (0.9, 10), (0.9, 20), (0.5, 30), (0.2, 40)]):
        _observe(state, index, score, _step_edge_plate(), x)
    assert state.first_box.tolist() == [0, 0, 100, 30] and state.last_box.tolist() == [40, 0, 140, 30]
    assert state.best_frame[0, 0, 0] == 2  # frame 1's: the first of the two best crops, kept through the tie
    assert sorted(c.frame_index for c in state.crops) == [0, 1, 2]  # a tie does not push out a crop kept earlier
    assert state.frames_seen == 5 and state.last.index == 4
    plain = TrackState(2, first, first, max_crops=2)
    _observe(plain, 0, 0.9, _step_edge_plate())
    assert plain.best_frame is None  # frames are kept only for snapshots


def test_the_tracker_s_defaults_are_the_config_s():
    from dataclasses import asdict

    from stream.config import TrackingSection

    configured = PlateTracker(**asdict(TrackingSection()))
    assert _updates_until_ended(PlateTracker()) == _updates_until_ended(configured) == 16  # hit_counter_max 15
    for tracker in (PlateTracker(), PlateTracker(**asdict(TrackingSection()))):
        first = tracker.update([plate(0, 0)]).seen[0][0]
        moved = tracker.update([plate(150, 0)]).seen[0][0]  # 1.5 plate widths away: past distance_threshold 1.0
        assert moved != first, "a jump that far is a new plate, not the same track"


def _updates_until_ended(tracker) -> int:
    for _ in range(30):  # long enough for the hit counter to reach its cap
        tracker.update([plate(10, 10)])
    for n in range(1, 100):
        if tracker.update([]).ended_ids:
            return n
    raise AssertionError("the track never ended")


def test_a_reset_forgets_tracks_but_keeps_the_settings():
    tracker = PlateTracker(hit_counter_max=2)
    before = _updates_until_ended(tracker)
    tracker.update([plate(10, 10)])
    tracker.reset()
    assert tracker.update([]).ended_ids == []  # forgotten: nothing to end
    assert _updates_until_ended(tracker) == before == 3  # still 2 frames of grace, not norfair's default 15


def test_a_better_crop_replaces_the_worst_one_wherever_it_is():
    from stream.frames import Frame
    from stream.track_state import TrackState

    first = Frame("cam", 0, 0.0, 0.0, np.zeros((10, 10, 3), np.uint8))
    state = TrackState(1, first, first, max_crops=3)
    for index, score in enumerate([0.9, 0.5, 0.8, 0.7]):  # the worst kept crop is the middle one
        _observe(state, index, score, _step_edge_plate())
    assert [c.frame_index for c in state.crops] == [0, 3, 2]
