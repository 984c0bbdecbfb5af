"""Replayed files: events carry the time the car passed, from the source the user or the file gives."""

import datetime as dt

import pytest

from stream.config import ConfigError, parse_config
from stream.events import validate_event
from stream.recording_time import from_file_name, parse_given
from stream.sources import FrameGrabber, GrabberOptions
from tests.conftest import moving_plates_frames, write_video
from tests.test_pipeline import collect

EIGHT_AM = dt.datetime(2026, 11, 25, 8, 0, tzinfo=dt.UTC).timestamp()


def events_of(path, **options):
    events = [e for e, _ in collect(FrameGrabber(str(path), "cam", GrabberOptions(**options)))[0]]
    for event in events:
        validate_event(event)
    return {e["text"]: e for e in events}


def utc(event, key="first_seen"):
    return dt.datetime.fromisoformat(event[key]["utc"].replace("Z", "+00:00")).timestamp()


def test_the_containers_creation_time_dates_the_events(tmp_path):
    clip = write_video(
        tmp_path / "clip.mp4", moving_plates_frames(), metadata={"creation_time": "2026-11-25T08:00:00Z"}
    )
    red, blue = (events_of(clip)[t] for t in ("RED111", "BLU333"))
    assert red["time_source"] == "metadata" and utc(red) == pytest.approx(EIGHT_AM, abs=0.01)
    assert utc(blue) == pytest.approx(EIGHT_AM + 20 / 25, abs=0.01)  # the blue plate appears at frame 20
    assert utc(red, "last_seen") == pytest.approx(EIGHT_AM + 39 / 25, abs=0.01)


def test_a_given_start_time_wins_over_the_metadata(tmp_path):
    clip = write_video(
        tmp_path / "clip.mp4", moving_plates_frames(), metadata={"creation_time": "2020-01-01T00:00:00Z"}
    )
    red = events_of(clip, start_time="2026-11-25T09:00:00+01:00")["RED111"]
    assert red["time_source"] == "given" and utc(red) == pytest.approx(EIGHT_AM, abs=0.01)


def test_an_nvr_file_name_dates_the_events_in_its_time_zone(tmp_path):
    clip = write_video(tmp_path / "cam3_20261125_090000.mp4", moving_plates_frames())
    red = events_of(clip, time_pattern="cam3_%Y%m%d_%H%M%S", time_zone="Europe/Madrid")["RED111"]
    assert red["time_source"] == "file_name" and utc(red) == pytest.approx(EIGHT_AM, abs=0.01)


def test_an_undated_file_keeps_the_processing_time(tmp_path):
    clip = write_video(tmp_path / "clip.mp4", moving_plates_frames())
    red = events_of(clip, time_pattern="cam3_%Y%m%d_%H%M%S")["RED111"]  # the name does not match
    assert red["time_source"] == "processing"
    assert abs(utc(red) - dt.datetime.now(dt.UTC).timestamp()) < 120


def test_time_helpers_and_config_checks():
    assert parse_given("2026-11-25T08:00:00Z") == EIGHT_AM
    assert parse_given("2026-11-25T09:00:00", "Europe/Madrid") == EIGHT_AM
    assert from_file_name("/x/cam3_20261125_080000_part2.mkv", "cam3_%Y%m%d_%H%M%S") == EIGHT_AM
    assert from_file_name("other.mp4", "cam3_%Y%m%d_%H%M%S") is None
    camera = {"id": "a", "source": "x"}
    for extra, message in [
        ({"start_time": "yesterday"}, "ISO-8601"),
        ({"time_zone": "Mars/Olympus"}, "time zone"),
        ({"time_pattern": "cam3"}, "strptime"),
    ]:
        with pytest.raises(ConfigError, match=message):
            parse_config({"camera": [{**camera, **extra}]})
