"""Replaying recorded footage: folders, globs and lists of files as one recording, ranges that seek,
replay speed, and a summary of each file. Every clip here is a real H.264 file written by the test."""

import datetime as dt
import json
import shutil
import time

import av
import cv2
import numpy as np
import pytest

from stream.footage import FootageError, parse_position
from stream.sources import FrameGrabber, GrabberOptions
from tests.conftest import ROOT, moving_plates_frames, write_video
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


def test_a_range_announces_its_connection_before_its_first_frame(tmp_path):
    """The frames decoded between the keyframe sought and the range's start are not the range's: a replay started
    part-way (a range, or a restarted worker going on where it stopped) still says `connected` before its first."""
    clip = long_clip(tmp_path / "long.mp4")
    health = []
    options = GrabberOptions(range_from="24.5", range_to="25.5")
    grabber = FrameGrabber(
        str(clip), "cam", options, on_health=lambda state, stats: health.append((state, stats.decoded))
    )
    assert len(list(grabber)) == 25
    assert health[0][0] == "connected"
    assert health[0][1] > 0  # after frames decoded and skipped before the range


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


def sample_export(folder):
    """The shipped sample clip (a real plate in each half) cut in two, as an NVR exports it."""
    with av.open(str(ROOT / "samples" / "sample.mp4")) as clip:
        frames = [frame.to_ndarray(format="bgr24") for frame in clip.decode(video=0)]
    folder.mkdir(parents=True, exist_ok=True)
    half = len(frames) // 2
    for start, part in ((EIGHT_AM, frames[:half]), (EIGHT_AM + dt.timedelta(seconds=half / 25), frames[half:])):
        write_video(folder / f"cam3_{start:%Y%m%d_%H%M%S}.mp4", part, metadata={"creation_time": f"{start:%FT%T}Z"})
    return folder, half


def test_a_set_with_an_unreadable_file_is_read_in_part_with_a_summary(tmp_path):
    folder, half = sample_export(tmp_path / "export")  # real plates: the shipped models read them
    (folder / "cam3_20261125_090000.mp4").write_bytes(b"not a video")
    summary = tmp_path / "summary.json"
    result = lpr(
        "run",
        str(folder),
        "--stride",
        "3",
        "--no-store",
        "--publish",
        f"ipc://{tmp_path}/bus",
        "--summary",
        str(summary),
    )
    assert result.returncode == 3, result.stderr  # read only in part
    files = {f["file"]: f for f in json.loads(summary.read_text())["cameras"][0]["files"]}
    assert files["cam3_20261125_090000.mp4"]["error"]
    assert files["cam3_20261125_080000.mp4"]["frames"] == -(-half // 3)  # every 3rd
    assert sum(f["events"] for f in files.values()) >= 2 and "Traceback" not in result.stderr
    shutil.rmtree(folder)


def plate_pass(colour, frames: int = 40) -> list[np.ndarray]:
    """A plate of `colour` crossing the image left to right."""
    out = []
    for i in range(frames):
        image = np.full((240, 320, 3), 200, np.uint8)
        cv2.rectangle(image, (10 + i * 4, 100), (70 + i * 4, 120), colour, -1)
        out.append(image)
    return out


def day_export(folder):
    """A day as an NVR exports it, three dated files: a red plate passing (2 s), the empty road (2 s), then a
    blue and a green plate (3.2 s)."""
    road = [np.full((240, 320, 3), 200, np.uint8)] * 50
    parts = (plate_pass((0, 0, 220)) + road[:10], road, plate_pass((220, 60, 0)) + plate_pass((0, 200, 0)))
    folder.mkdir(parents=True, exist_ok=True)
    start = 0.0
    for part in parts:
        moment = EIGHT_AM + dt.timedelta(seconds=start)
        write_video(
            folder / f"cam3_{moment:%Y%m%d_%H%M%S}.mp4",
            part,
            metadata={"creation_time": f"{moment:%Y-%m-%dT%H:%M:%S}Z"},
        )
        start += len(part) / 25
    return folder, sum(len(p) for p in parts)


def jsonl_events(path) -> list[tuple[str, str]]:
    return sorted((e["first_seen"]["utc"], e["text"]) for e in map(json.loads, path.read_text().splitlines()))


REPLAY = """
import sys
sys.path.insert(0, {root!r})
from stream.config import CameraSection, Config, PublishSection, StoreSection
from stream.runner import run_camera
from stream.sinks import Sinks
from tests.conftest import ColourPlateDetector, ColourPlateReader
import threading
camera = CameraSection(id="cam3", source={folder!r}, job="day", speed={speed})
cfg = Config(cameras=(camera,), publish=PublishSection(endpoint={endpoint!r}, jsonl={jsonl!r}),
             store=StoreSection(folder={store!r}))
sinks = Sinks(cfg)
result = run_camera(cfg, camera, sinks.send, threading.Event(), models=(ColourPlateDetector(), ColourPlateReader()))
sinks.close()
print(result.source.decoded)
"""


def test_a_job_killed_half_way_and_rerun_gives_the_events_of_an_uninterrupted_run_none_twice(tmp_path):
    import subprocess
    import sys

    from tests.conftest import ROOT, RUN_DIR

    folder, total = day_export(tmp_path / "export")
    whole = tmp_path / "whole.jsonl"

    def replay(jsonl, store, speed: float = 0.0, **popen):
        code = REPLAY.format(
            root=str(ROOT), folder=str(folder), speed=speed, endpoint=f"ipc://{tmp_path}/bus-{speed}-{time.time()}",
            jsonl=str(jsonl), store=str(store),
        )  # fmt: skip
        return subprocess.Popen([sys.executable, "-c", code], cwd=RUN_DIR, stdout=subprocess.PIPE, text=True, **popen)

    assert replay(whole, tmp_path / "whole-store").wait(timeout=120) == 0
    reference = jsonl_events(whole)
    assert [text for _, text in reference] == ["RED111", "BLU333", "GRN222"]

    resumed, store = tmp_path / "resumed.jsonl", tmp_path / "store"
    job_file = store / "jobs" / "day.json"

    def position() -> float:
        try:
            return json.loads(job_file.read_text())["position"] or 0.0
        except (OSError, ValueError):
            return 0.0

    killed = replay(resumed, store, speed=1.0)  # in real time, so the kill lands on the empty road
    deadline = time.time() + 60
    while time.time() < deadline and position() < 2.5:  # the red plate published, the rest of the day not yet
        time.sleep(0.02)
    killed.kill()
    killed.wait(timeout=10)
    assert not json.loads(job_file.read_text()).get("finished") and jsonl_events(resumed) == reference[:1]

    rerun = replay(resumed, store)
    decoded = int(rerun.communicate(timeout=120)[0].split()[-1])
    assert rerun.returncode == 0
    assert jsonl_events(resumed) == reference  # the same events, none twice
    assert decoded <= total - 50  # it went on from where it stopped: the first file was not read again
    again = lpr("run", str(folder), "--camera-id", "cam3", "--job", "day", "--store", str(store))
    assert again.returncode == 0 and "nothing is left" in again.stderr  # a finished job, through the command line
