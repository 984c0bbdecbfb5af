import numpy as np

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
