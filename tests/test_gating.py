"""When and where the detector runs: the motion gate, the detection rate and zones (stream.gating)."""

import numpy as np

from stream.gating import DetectionGate, Zone
from stream.sources import FrameGrabber
from tests.conftest import moving_plates_frames, write_video
from tests.test_pipeline import collect


def noisy(frames: list[np.ndarray], seed: int = 0) -> list[np.ndarray]:
    """The frames as a camera sends them: every pixel a little different in every frame."""
    rng = np.random.default_rng(seed)
    return [np.clip(f + rng.normal(0, 4, f.shape), 0, 255).astype(np.uint8) for f in frames]


def test_the_motion_gate_skips_a_still_road_and_still_catches_the_plate_that_comes(tmp_path):
    still = [np.full((240, 320, 3), 200, np.uint8)] * 60
    clip = write_video(tmp_path / "clip.mp4", noisy(still + moving_plates_frames(40)))  # the red plate from frame 60 on
    gated, stats = collect(FrameGrabber(str(clip), "cam"), gate=DetectionGate(motion_gate=True))
    ungated, _ = collect(FrameGrabber(str(clip), "cam"))
    assert stats.skipped >= 55  # the still road, sensor noise and all: only its first frame was looked at
    assert sorted(e["text"] for e, _ in gated) == sorted(e["text"] for e, _ in ungated) == ["BLU333", "RED111"]
    red = next(e for e, _ in gated if e["text"] == "RED111")
    assert red["first_seen"]["frame"] == 60  # not a frame late


def test_frames_the_detector_skips_are_never_converted_to_bgr(tmp_path):
    clip = write_video(tmp_path / "clip.mp4", [np.full((240, 320, 3), 200, np.uint8)] * 30)
    frames = list(FrameGrabber(str(clip), "cam"))
    _, stats = collect(iter(frames), gate=DetectionGate(motion_gate=True))
    assert stats.skipped == 29
    assert [i for i, f in enumerate(frames) if "image" in f.__dict__] == [0]  # only the one the detector saw


def test_a_zone_keeps_only_the_plates_inside_it_in_frame_coordinates(plates_video):
    lower_half = Zone("lane", ((0, 120), (320, 120), (320, 240), (0, 240)))
    events, _ = collect(FrameGrabber(str(plates_video), "cam"), gate=DetectionGate(zones=(lower_half,)))
    assert [e["text"] for e, _ in events] == ["BLU333"]  # the red plate crosses the upper half
    assert events[0][0]["box"][1] >= 140  # the blue plate is drawn at y 150-170 of the frame
    outside = Zone("kerb", ((0, 0), (100, 0), (100, 30), (0, 30)))
    assert collect(FrameGrabber(str(plates_video), "cam"), gate=DetectionGate(zones=(outside,)))[0] == []


def test_a_lower_detection_rate_keeps_the_events(plates_video):
    every, _ = collect(FrameGrabber(str(plates_video), "cam"))
    third, stats = collect(FrameGrabber(str(plates_video), "cam"), gate=DetectionGate(every_n_frames=3))
    assert stats.skipped > 20  # once the tracks are steady, two frames in three skip the detector
    first = {e["text"]: e["first_seen"]["frame"] for e, _ in every}
    assert sorted(e["text"] for e, _ in third) == sorted(first)  # the same plates, each once
    for event, _ in third:  # a plate that comes while the others are steady waits at most two frames to be seen
        assert 0 <= event["first_seen"]["frame"] - first[event["text"]] <= 2
