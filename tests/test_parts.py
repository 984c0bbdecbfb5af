"""`lpr run RECORDING --jobs N`: one recording read as N parts at once, around one shared model."""

import threading

import pytest

from stream.config import CameraSection, Config, EventOptions, StoreSection
from stream.parts import PART_TRACK_IDS, part_ranges, recording_span, run_parts
from stream.runner import run_camera
from stream.sources import SourceError
from tests.conftest import ColourPlateDetector, ColourPlateReader, moving_plates_frames, write_video


def test_the_range_is_cut_into_equal_touching_stretches():
    assert part_ranges(10.0, 40.0, 3) == [(10.0, 20.0), (20.0, 30.0), (30.0, 40.0)]
    assert part_ranges(0.0, 5.0, 1) == [(0.0, 5.0)]


def _recording(tmp_path):
    """The 60-frame clip twice over, as one 4.8 s file: each copy's two plates come and go within it."""
    return write_video(tmp_path / "twice.mp4", moving_plates_frames() * 2)


def _events(run, *args):
    got: list[dict] = []
    result = run(*args[:2], lambda kind, _c, payload, *_: got.append(payload) if kind == "plate" else None, *args[2:])
    return got, result


def test_two_parts_give_the_events_of_one_run_with_their_own_track_ids(tmp_path):
    camera = CameraSection(id="cam", source=str(_recording(tmp_path)))
    cfg = Config(cameras=(camera,), store=StoreSection(enabled=False), events=EventOptions(publish_after_s=100))
    models = (ColourPlateDetector(), ColourPlateReader())
    whole, alone = _events(run_camera, cfg, camera, threading.Event(), models)
    parted, merged = _events(run_parts, cfg, camera, threading.Event(), 2, models)
    assert recording_span(camera) == pytest.approx((0.0, 4.8), abs=0.05)
    # the cut at 2.4 s falls between the copies, where no plate is in view: the same vehicles, seen alike
    assert sorted((e["text"], round(e["first_seen"]["pts"], 2), e["frames_seen"]) for e in parted) == sorted(
        (e["text"], round(e["first_seen"]["pts"], 2), e["frames_seen"]) for e in whole
    )
    assert len(whole) == 4
    second_part = [e["track_id"] for e in parted if e["first_seen"]["pts"] >= 2.4]
    assert len(second_part) == 2 and all(t > PART_TRACK_IDS for t in second_part)
    assert len({e["track_id"] for e in parted}) == 4
    assert merged.pipeline.frames == alone.pipeline.frames == 120  # every frame read once, by one part
    assert merged.exit_code == 0 and merged.pipeline.events == 4


def test_only_recordings_are_split(tmp_path):
    live = CameraSection(id="cam", source="rtsp://127.0.0.1:9/x")
    with pytest.raises(SourceError, match="--jobs splits recordings"):
        recording_span(live)


def test_each_part_is_a_job_of_its_own_and_a_rerun_finds_nothing_left(tmp_path):
    store = StoreSection(enabled=False, folder=str(tmp_path / "store"))
    camera = CameraSection(id="cam", source=str(_recording(tmp_path)), job="day")
    cfg = Config(cameras=(camera,), store=store, events=EventOptions(publish_after_s=100))
    models = (ColourPlateDetector(), ColourPlateReader())
    first, _ = _events(run_parts, cfg, camera, threading.Event(), 2, models)
    assert len(first) == 4
    assert sorted(p.name for p in (tmp_path / "store" / "jobs").iterdir()) == ["day.part1.json", "day.part2.json"]
    again, result = _events(run_parts, cfg, camera, threading.Event(), 2, models)
    assert again == [] and result.pipeline.frames == 0  # both parts finished: nothing is read twice
