"""Replaying recorded footage: folders, globs and lists of files as one recording, ranges that seek,
replay speed, and a summary of each file. Every clip here is a real H.264 file written by the test."""

import datetime as dt
import json
import shutil
import time

import cv2
import numpy as np
import pytest

from stream.footage import FootageError, parse_position
from stream.sources import FrameGrabber, GrabberOptions
from tests.conftest import moving_plates_frames, write_video
from tests.test_cli import lpr
from tests.test_pipeline import collect

EIGHT_AM = dt.datetime(2026, 11, 25, 8, 0, tzinfo=dt.UTC)


def nvr_export(folder, gap_s: float = 0.0):
    """The 60-frame clip (a red plate crossing frames 0-39, a blue one from frame 20) cut in two at frame 30, as an
    NVR exports it: consecutive files, each named and stamped with its start; `gap_s` missing between them."""
    folder.mkdir(parents=True, exist_ok=True)
    frames = moving_plates_frames()
    second = EIGHT_AM + dt.timedelta(seconds=30 / 25 + gap_s)
    for start, part in ((EIGHT_AM, frames[:30]), (second, frames[30:])):
        name = f"cam3_{start:%Y%m%d_%H%M%S}.mp4"
        write_video(folder / name, part, metadata={"creation_time": f"{start:%Y-%m-%dT%H:%M:%S}Z"})
    return folder


def events(source: str, **options) -> list[dict]:
    return [e for e, _ in collect(FrameGrabber(source, "cam", GrabberOptions(**options)))[0]]


def test_a_plate_crossing_a_file_boundary_is_one_event_and_a_gap_starts_fresh(tmp_path):
    folder = nvr_export(tmp_path / "export")
    read = events(str(folder))
    assert sorted(e["text"] for e in read) == ["BLU333", "RED111"]  # the red plate crossed the cut: one event
    red = next(e for e in read if e["text"] == "RED111")
    assert red["frames_seen"] == 40 and red["time_source"] == "metadata"
    last = dt.datetime.fromisoformat(red["last_seen"]["utc"].replace("Z", "+00:00"))
    assert abs((last - EIGHT_AM).total_seconds() - (1 + 9 / 25)) < 0.05  # frame 39: 9 frames into the second file
    gapped = events(str(nvr_export(tmp_path / "gapped", gap_s=300)))
    texts = sorted(e["text"] for e in gapped)
    assert texts == ["BLU333", "BLU333", "RED111", "RED111"]  # five minutes apart: no track continues
    assert sorted(e["reason"] for e in gapped if e["text"] == "RED111") == ["ended", "gap"]


def test_a_glob_and_a_list_file_are_footage_sets_in_recording_order(tmp_path):
    folder = nvr_export(tmp_path / "export")
    names = sorted(p.name for p in folder.iterdir())
    (tmp_path / "day.txt").write_text(
        "# the export, listed backwards\n" + "\n".join(f"export/{n}" for n in reversed(names))
    )
    for source in (str(folder / "cam3_*.mp4"), str(tmp_path / "day.txt")):
        assert sorted(e["text"] for e in events(source)) == ["BLU333", "RED111"], source
    with pytest.raises(Exception, match="no video file matches"):
        FrameGrabber(str(folder / "nothing_*.mp4"), "cam")


def long_clip(path, seconds: int = 30):
    """A clip of `seconds` at 25 fps with a red plate crossing between 24 s and 25.6 s."""
    frames = []
    for i in range(seconds * 25):
        image = np.full((240, 320, 3), 200, np.uint8)
        if 600 <= i < 640:
            x = 10 + (i - 600) * 4
            cv2.rectangle(image, (x, 40), (x + 60, 60), (0, 0, 220), -1)
        frames.append(image)
    return write_video(path, frames, metadata={"creation_time": "2026-11-25T08:00:00Z"})


def test_a_range_seeks_instead_of_decoding_from_the_start(tmp_path):
    clip = long_clip(tmp_path / "long.mp4")
    for start, end in (("24", "27"), ("0:24", "00:00:27"), ("2026-11-25T08:00:24Z", "2026-11-25T08:00:27Z")):
        grabber = FrameGrabber(str(clip), "cam", GrabberOptions(range_from=start, range_to=end))
        read, stats = collect(grabber)
        assert [e["text"] for e, _ in read] == ["RED111"]
        assert stats.frames == 75  # 24 s to 27 s
        assert grabber.stats.decoded < 300, grabber.stats.decoded  # from the keyframe before 24 s, not from 0 (675)
        first = dt.datetime.fromisoformat(read[0][0]["first_seen"]["utc"].replace("Z", "+00:00"))
        assert abs((first - EIGHT_AM).total_seconds() - 24) < 0.05
    read, stats = collect(FrameGrabber(str(clip), "cam", GrabberOptions(range_to="10")))
    assert stats.frames == 250 and not read


def test_positions_are_offsets_or_recording_times():
    start = EIGHT_AM.timestamp()
    assert parse_position("90", start) == parse_position("1:30", None) == parse_position("00:01:30", None) == 90
    assert parse_position("2026-11-25T09:10:00+01:00", start) == 600
    assert parse_position("2026-11-25T08:10:00", start, "UTC") == 600
    with pytest.raises(FootageError, match="start is unknown"):
        parse_position("2026-11-25T08:10:00", None)
    with pytest.raises(FootageError, match="neither"):
        parse_position("ten past eight", start)


def test_replay_speed_paces_the_frames(tmp_path):
    clip = write_video(tmp_path / "clip.mp4", moving_plates_frames())  # 2.4 s of video
    started = time.monotonic()
    collect(FrameGrabber(str(clip), "cam", GrabberOptions(speed=4.0)))
    assert time.monotonic() - started >= 2.4 / 4 * 0.9  # never faster than asked (a slow machine may be slower)


def test_a_set_with_an_unreadable_file_is_read_in_part_with_a_summary(tmp_path):
    folder = nvr_export(tmp_path / "export")
    (folder / "cam3_20261125_090000.mp4").write_bytes(b"not a video")
    summary = tmp_path / "summary.json"
    result = lpr(
        "run", str(folder), "--no-store", "--publish", "ipc://" + str(tmp_path / "bus"), "--summary", str(summary)
    )
    assert result.returncode == 3, result.stderr  # read only in part
    files = {f["file"]: f for f in json.loads(summary.read_text())["cameras"][0]["files"]}
    assert files["cam3_20261125_090000.mp4"]["error"] and files["cam3_20261125_080000.mp4"]["frames"] == 30
    assert sum(f["events"] for f in files.values()) >= 2 and "Traceback" not in result.stderr
    shutil.rmtree(folder)


def sample_export(folder):
    """The shipped sample clip as an NVR export of three 1-file parts: its first 3 s (the first plate), 2 s of empty
    road, then the rest (the second plate), each file stamped and named with its start."""
    import av

    from tests.conftest import ROOT

    with av.open(str(ROOT / "samples" / "sample.mp4")) as clip:
        frames = [f.to_ndarray(format="bgr24") for f in clip.decode(video=0)]
    empty = [np.full_like(frames[0], 90)] * 50
    folder.mkdir(parents=True, exist_ok=True)
    for start_s, part in ((0, frames[:75]), (3, empty), (5, frames[75:])):
        moment = EIGHT_AM + dt.timedelta(seconds=start_s)
        name = f"cam3_{moment:%Y%m%d_%H%M%S}.mp4"
        write_video(folder / name, part, metadata={"creation_time": f"{moment:%Y-%m-%dT%H:%M:%S}Z"})
    return folder, len(frames) + len(empty)


def jsonl_events(path) -> list[tuple[str, str]]:
    return sorted((e["first_seen"]["utc"], e["text"]) for e in map(json.loads, path.read_text().splitlines()))


def test_a_job_killed_half_way_and_rerun_gives_the_events_of_an_uninterrupted_run_none_twice(tmp_path):
    import signal
    import subprocess
    import sys

    from tests.conftest import RUN_DIR

    folder, total = sample_export(tmp_path / "export")
    bus = f"ipc://{tmp_path}/bus"
    whole = tmp_path / "whole.jsonl"
    assert lpr("run", str(folder), "--no-store", "--publish", bus, "--jsonl", str(whole)).returncode == 0
    reference = jsonl_events(whole)
    assert len(reference) >= 2

    resumed = tmp_path / "resumed.jsonl"
    command = ["run", str(folder), "--publish", bus, "--jsonl", str(resumed), "--store", str(tmp_path / "store")]
    process = subprocess.Popen(
        [sys.executable, "-m", "stream.cli", *command, "--job", "day", "--realtime"],
        cwd=RUN_DIR,
        stderr=subprocess.DEVNULL,
    )
    job_file = tmp_path / "store" / "jobs" / "day.json"

    def position() -> float:
        try:
            return json.loads(job_file.read_text())["position"] or 0.0
        except (OSError, ValueError):
            return 0.0

    deadline = time.time() + 120
    while time.time() < deadline and position() < 3.5:  # on the empty road, the first plate published
        time.sleep(0.05)
    process.send_signal(signal.SIGKILL)  # half-way: the rest of the day is not read
    process.wait(timeout=10)
    assert not json.loads(job_file.read_text()).get("finished") and 0 < len(jsonl_events(resumed)) < len(reference)

    rerun = lpr(*command, "--job", "day")
    assert rerun.returncode == 0, rerun.stderr
    import re

    decoded = int(re.search(r"(\d+) frames decoded", rerun.stderr)[1])
    assert "resumes" in rerun.stderr and decoded <= total - 75  # it went on from where it stopped: not the first file
    assert jsonl_events(resumed) == reference  # the same events, none twice
    again = lpr(*command, "--job", "day")
    assert "nothing is left" in again.stderr and jsonl_events(resumed) == reference
