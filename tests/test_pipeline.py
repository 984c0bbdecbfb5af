import json
import threading
import time
from dataclasses import replace

import cv2
import numpy as np
import pytest
import zmq

from stream.config import CameraSection, Config, EventOptions, PublishSection
from stream.events import decode_event, validate_event
from stream.pipeline import CameraPipeline
from stream.runner import run_camera
from stream.sinks import Sinks
from stream.sources import FrameGrabber
from tests.conftest import ColourPlateDetector, ColourPlateReader, moving_plates_frames, write_video


def collect(pipeline_frames, options=None, reader=None, detector=None, **pipeline_options):
    """(events as (event, crop JPEG), stats) of the test detector and reader (or `reader`) on `pipeline_frames`."""
    events = []
    pipeline = CameraPipeline(
        "cam",
        detector or ColourPlateDetector(),
        reader or ColourPlateReader(),
        lambda e, j: events.append((e, j)),
        options=options or EventOptions(publish_after_s=100),
        **pipeline_options,
    )
    stats = pipeline.run(pipeline_frames)
    return events, stats


def test_one_event_per_plate_with_its_track_text_and_times(plates_video):
    events, stats = collect(FrameGrabber(str(plates_video), "cam"))
    assert stats.frames == 60
    by_text = {e["text"]: e for e, _ in events}
    assert sorted(by_text) == ["BLU333", "RED111"] and len(events) == 2
    red, blue = by_text["RED111"], by_text["BLU333"]
    assert red["track_id"] != blue["track_id"]
    assert red["first_seen"]["frame"] == 0 and red["last_seen"]["frame"] == 39 and red["frames_seen"] == 40
    assert blue["first_seen"]["pts"] == pytest.approx(20 / 25) and blue["reason"] == "flush"
    assert red["reason"] == "ended"  # the red plate left at frame 40, long before the end
    assert red["frames_read"] == 5  # only the K best crops are read
    for event, jpeg in events:
        validate_event(event)
        assert jpeg[:2] == b"\xff\xd8"


def test_a_confident_track_is_published_before_it_ends(plates_video):
    events, _ = collect(FrameGrabber(str(plates_video), "cam"), EventOptions(publish_after_s=0.5))
    red = next(e for e, _ in events if e["text"] == "RED111")
    assert red["reason"] == "confident" and red["last_seen"]["pts"] < 1.0
    assert len(events) == 2  # still one event per track


def test_tracks_seen_in_fewer_than_min_frames_are_dropped_as_noise(tmp_path):
    """A blip in one frame, and clutter flickering for 4 frames (a door handle, a window's glint: the shipped
    detector's clutter tracks on the videos last 2-4 frames), are noise by default; a plate's track lasts longer."""
    frames = moving_plates_frames(60)
    for start, length in ((10, 1), (50, 4)):
        for blip in range(start, start + length):
            frames[blip] = frames[blip].copy()
            cv2.rectangle(frames[blip], (5, 200), (60, 220), (0, 200, 0), -1)
    video = str(write_video(tmp_path / "v.mp4", frames))
    events, stats = collect(FrameGrabber(video, "cam"), EventOptions(publish_after_s=100))
    assert sorted(e["text"] for e, _ in events) == ["BLU333", "RED111"] and stats.dropped_tracks == 2
    events, stats = collect(FrameGrabber(video, "cam"), EventOptions(publish_after_s=100, min_frames=4))
    assert sorted(e["text"] for e, _ in events) == ["BLU333", "GRN222", "RED111"] and stats.dropped_tracks == 1


def test_lpr_eval_video_counts_the_tracks_too_short_to_count(tmp_path):
    """A video's evaluation reports the clutter tracks left out as noise beside the plates read."""
    import argparse

    from stream.cli_eval import _eval_video

    frames = moving_plates_frames(60)
    for blip in range(50, 53):  # clutter for 3 frames
        frames[blip] = frames[blip].copy()
        cv2.rectangle(frames[blip], (5, 200), (60, 220), (0, 200, 0), -1)
    truth = tmp_path / "truth.json"
    truth.write_text(json.dumps({"plates": ["RED111", "BLU333"]}))
    args = argparse.Namespace(video=write_video(tmp_path / "v.mp4", frames), truth=truth)
    report = _eval_video(args, ColourPlateDetector(), ColourPlateReader(), None)
    assert (report["found_correct"], report["events"], report["tracks_too_short"]) == (2, 2, 1)


def test_events_reach_a_zeromq_subscriber_and_the_jsonl_file(plates_video, endpoint, tmp_path):
    jsonl = tmp_path / "events.jsonl"
    cfg = Config(
        cameras=(CameraSection(id="gate", source=str(plates_video)),),
        publish=PublishSection(endpoint=endpoint, jsonl=str(jsonl)),
    )
    sub = zmq.Context.instance().socket(zmq.SUB)
    sub.connect(endpoint)
    sub.setsockopt(zmq.SUBSCRIBE, b"plate.gate/")
    sinks = Sinks(cfg)
    time.sleep(0.3)  # let the subscription reach the publisher
    try:
        run_camera(
            cfg, cfg.cameras[0], sinks.send, threading.Event(), models=(ColourPlateDetector(), ColourPlateReader())
        )
        received = []
        while sub.poll(1000):
            topic, payload, jpeg = sub.recv_multipart()
            received.append((topic, decode_event(payload), jpeg))
    finally:
        sinks.close()
        sub.close(0)
    assert sorted(e["text"] for _, e, _ in received) == ["BLU333", "RED111"]
    assert all(t == b"plate.gate/" and e["camera_id"] == "gate" and j for t, e, j in received)
    lines = jsonl.read_text().splitlines()
    assert sorted(json.loads(line)["text"] for line in lines) == ["BLU333", "RED111"]


def test_stop_flushes_open_tracks(plates_video):
    stop = threading.Event()

    class StoppingDetector(ColourPlateDetector):
        calls = 0

        def detect(self, frame):
            self.calls += 1
            if self.calls == 30:
                stop.set()  # as SIGINT/SIGTERM would, mid-stream
            return super().detect(frame)

    sent = []
    cfg = Config(cameras=(CameraSection(id="c", source=str(plates_video), queue_size=2),))
    result = run_camera(
        cfg, cfg.cameras[0], lambda *m: sent.append(m), stop, models=(StoppingDetector(), ColourPlateReader())
    )
    assert result.interrupted and result.pipeline.frames < 60
    plates = {p["text"]: p for kind, _, p, *_ in sent if kind == "plate"}
    assert sorted(plates) == ["BLU333", "RED111"]
    assert all(p["reason"] == "flush" for p in plates.values())
    assert sent[-1][0] == "health" and sent[-1][2]["state"] == "stopped"


def test_each_still_image_is_read_on_its_own(tmp_path):
    import cv2

    frames = moving_plates_frames(30)
    for i in (5, 6, 25):  # two consecutive photos with a red plate in about the same place, then a blue one
        cv2.imwrite(str(tmp_path / f"{i:02d}.png"), frames[i])
    events = []
    pipeline = CameraPipeline(
        "photos", ColourPlateDetector(), ColourPlateReader(), lambda e, j: events.append(e), still_images=True
    )
    pipeline.run(FrameGrabber(str(tmp_path), "photos"))
    # photos 5 and 6 show the red plate, photo 25 both plates; no track spans two photos
    assert sorted(e["text"] for e in events) == ["BLU333", "RED111", "RED111", "RED111"]
    assert all(e["reason"] == "image" and e["frames_seen"] == 1 for e in events)
    assert [e["first_seen"]["frame"] for e in events if e["text"] == "RED111"] == [0, 1, 2]
    assert events[0]["first_seen"]["pts"] is None


def test_a_camera_run_leaves_no_thread_behind(plates_video):
    cfg = Config(cameras=(CameraSection(id="c", source=str(plates_video)),))
    models = (ColourPlateDetector(), ColourPlateReader())
    run_camera(cfg, cfg.cameras[0], lambda *m: None, threading.Event(), models=models)
    before = threading.active_count()
    for _ in range(3):
        run_camera(cfg, cfg.cameras[0], lambda *m: None, threading.Event(), models=models)
    assert threading.active_count() == before


def test_early_publishing_waits_for_min_confidence(plates_video):
    # The test reader reads every plate with confidence 0.9: below a 0.95 bar, no early event.
    events, _ = collect(FrameGrabber(str(plates_video), "cam"), EventOptions(publish_after_s=0.5, min_confidence=0.95))
    red = next(e for e, _ in events if e["text"] == "RED111")
    assert red["reason"] == "ended" and len(events) == 2


class DoubtfulReader(ColourPlateReader):
    """Reads every plate, but with almost no confidence (or nothing at all for the blue one)."""

    def read(self, plates):
        from lpr_models.ocr.reader import Reading

        return [
            Reading("", 0.0, ()) if r.text.startswith("BLU") else Reading(r.text, 0.01, (0.2,) * len(r.text))
            for r in super().read(plates)
        ]


def test_a_track_the_reader_cannot_read_is_still_reported_once_and_marked(plates_video):
    events, _ = collect(FrameGrabber(str(plates_video), "cam"), EventOptions(publish_after_s=0.5), DoubtfulReader())
    assert len(events) == 2  # one per vehicle, none dropped, none twice
    by_guess = {e["text"]: e for e, _ in events}
    assert set(by_guess) == {"RED111", ""}
    assert by_guess[""]["confidence"] == 0.0 and by_guess[""]["char_confidences"] == []  # nothing read, no belief
    assert not any(e["readable"] for e, _ in events) and all(j[:2] == b"\xff\xd8" for _, j in events)
    assert by_guess["RED111"]["reason"] == "ended"  # too doubtful to publish early
    for event, _ in events:
        validate_event(event)


def test_events_say_where_the_plate_went_and_which_line_it_crossed(plates_video):
    from stream.direction import CountingLine

    line = CountingLine("x120", ((120.0, 0.0), (120.0, 240.0)))  # vertical, drawn downwards
    events, _ = collect(FrameGrabber(str(plates_video), "cam"), lines=(line,))
    by_text = {e["text"]: e for e, _ in events}
    assert by_text["RED111"]["direction"] == "right" and by_text["BLU333"]["direction"] == "left"
    # looking down the line, the red plate goes from the right-hand side to the left: out
    assert by_text["RED111"]["crossed"] == [{"line": "x120", "direction": "out"}]
    assert by_text["BLU333"]["crossed"] == []  # it stops before x = 120


def test_a_snapshot_of_the_vehicle_comes_only_when_enabled(plates_video, endpoint, tmp_path):
    from stream.snapshot import SnapshotOptions

    with_snapshots, without = [], []
    for options, out in ((SnapshotOptions(width=160), with_snapshots), (None, without)):
        pipeline = CameraPipeline(
            "cam",
            ColourPlateDetector(),
            ColourPlateReader(),
            lambda e, j, *s, out=out: out.append((e, j, s)),
            snapshot=options,
        )
        pipeline.run(FrameGrabber(str(plates_video), "cam"))
    assert len(with_snapshots) == len(without) == 2
    assert all(s == () and "snapshot" not in e for e, _, s in without)
    for event, _, (picture,) in with_snapshots:
        image = cv2.imdecode(np.frombuffer(picture, np.uint8), cv2.IMREAD_COLOR)
        assert image.shape[:2] == (120, 160)  # the 320x240 frame at width 160
        assert event["snapshot"] == f"cam-{event['track_id']}-{event['first_seen']['frame']}.jpg"
    assert all(j[:2] == b"\xff\xd8" for _, j, _ in with_snapshots)  # the plate crop comes with the snapshot

    # through the sinks: a fourth message frame and a file beside the JSONL
    cfg = Config(
        cameras=(CameraSection(id="gate", source=str(plates_video), snapshot=True, snapshot_width=160),),
        publish=PublishSection(endpoint=endpoint, jsonl=str(tmp_path / "events.jsonl")),
    )
    sub = zmq.Context.instance().socket(zmq.SUB)
    sub.connect(endpoint)
    sub.setsockopt(zmq.SUBSCRIBE, b"plate.")
    sinks = Sinks(cfg)
    time.sleep(0.3)
    try:
        run_camera(
            cfg, cfg.cameras[0], sinks.send, threading.Event(), models=(ColourPlateDetector(), ColourPlateReader())
        )
        messages = []
        while sub.poll(1000):
            messages.append(sub.recv_multipart())
    finally:
        sinks.close()
        sub.close(0)
    assert len(messages) == 2 and all(len(m) == 4 and m[3][:2] == b"\xff\xd8" for m in messages)
    names = [json.loads(line)["snapshot"] for line in (tmp_path / "events.jsonl").read_text().splitlines()]
    assert all((tmp_path / "snapshots" / name).read_bytes()[:2] == b"\xff\xd8" for name in names)


def _frames(images, fps=25.0, start=1_800_000_000.0):
    from stream.frames import Frame

    return [Frame("cam", i, i / fps, start + i / fps, image) for i, image in enumerate(images)]


def test_a_camera_too_slow_for_min_frames_is_told_so_once(caplog):
    """At 4 frames a second a plate needs 1.25 s in view to reach min_frames (5): the log says so, once, with the
    value to set; at 25 frames a second it says nothing."""
    still = np.full((240, 320, 3), 200, np.uint8)
    with caplog.at_level("WARNING", logger="stream.frame_rate"):
        collect(_frames([still] * 60, fps=4.0), EventOptions(publish_after_s=100))
    (warning,) = [r.getMessage() for r in caplog.records]
    assert warning.startswith("camera cam: ")  # which of many cameras it is
    assert "4.0 frames a second" in warning and "1.2 s" in warning and "min_frames to 2" in warning
    caplog.clear()
    with caplog.at_level("WARNING", logger="stream.frame_rate"):
        collect(_frames([still] * 300, fps=25.0), EventOptions(publish_after_s=100))
        collect(_frames([still] * 60, fps=4.0), EventOptions(publish_after_s=100, min_frames=2))
        gapped = _frames([still] * 300, fps=25.0)  # a footage set: 2 s, an hour's gap, then the next file
        gapped[50:] = [replace(f, pts=f.pts + 3600, cut=i == 50) for i, f in enumerate(gapped[50:], 50)]
        collect(gapped, EventOptions(publish_after_s=100))
    assert caplog.records == []


def _watched_pipeline(on_frame, **options) -> CameraPipeline:
    """The test detector and reader, events thrown away, each frame's tracks given to `on_frame`."""
    return CameraPipeline(
        "cam", ColourPlateDetector(), ColourPlateReader(), lambda e, j: None, on_frame=on_frame, **options
    )


class OffGridDetector(ColourPlateDetector):
    """The test detector, with coordinates off the pixel grid and an unround score."""

    def detect(self, frame):
        from lpr_models.detection import Detection

        return [Detection(0.912345, d.box + 0.26, d.corners + 0.26) for d in super().detect(frame)]


def test_every_field_of_an_event_the_frame_callback_and_the_run_s_counts():
    events, calls = [], []
    pipeline = CameraPipeline(
        "cam",
        OffGridDetector(),
        ColourPlateReader(),
        lambda e, j: events.append((e, j)),
        options=EventOptions(publish_after_s=100),
        on_frame=lambda frame, tracks: calls.append((frame, tracks)),
    )
    frames = _frames(moving_plates_frames(60))
    stats = pipeline.run(frames)
    # red plate on frames 0-39, blue on 20-59: every frame looked at, each plate found in each of its frames
    assert (stats.frames, stats.skipped, stats.detections, stats.events, stats.dropped_tracks) == (60, 0, 80, 2, 0)
    assert {stage: len(laps) for stage, laps in stats.stage_ms.items()} == dict.fromkeys(
        ("detect", "rectify", "track", "ocr", "publish"), 60
    )
    assert [frame for frame, _ in calls] == frames
    assert [label for _, label in ((t, t[2]) for t in calls[5][1])] == ["RED111"]  # read in its first frame
    assert sorted(label for _, _, label in calls[30][1]) == ["BLU333", "RED111"]
    assert [label for _, _, label in calls[45][1]] == ["BLU333"]
    red = next(e for e, _ in events if e["text"] == "RED111")
    assert red["type"] == "plate" and red["readable"] is True and red["candidates"] == []
    assert red["confidence"] == 0.9 and red["detection_score"] == 0.9123
    assert red["first_seen"] == {"frame": 0, "pts": 0.0, "utc": "2027-01-15T08:00:00.000Z"}  # frames[0].utc
    assert red["last_seen"] == {"frame": 39, "pts": 1.56, "utc": "2027-01-15T08:00:01.560Z"}
    x1, y1, x2, y2 = red["box"]
    assert all(round(v * 10) == v * 10 and round(v % 1, 1) == 0.3 for v in (x1, y1, x2, y2))  # 0.26 off, 1 decimal
    assert [[round(x % 1, 1), round(y % 1, 1)] for x, y in red["corners"]] == [[0.3, 0.3]] * 4
    assert red["corners"][0] == [x1, y1] and red["corners"][2] == [x2, y2]
    crop = cv2.imdecode(np.frombuffer(next(j for e, j in events if e is red), np.uint8), cv2.IMREAD_COLOR)
    assert crop.shape == (48, 192, 3) and crop[..., 2].mean() > 150  # the red plate's rectified crop


class AlternatingReader(ColourPlateReader):
    """Reads every third crop of a plate with its last character wrong."""

    calls = 0

    def read(self, plates):
        from lpr_models.ocr.reader import Reading

        out = []
        for r in super().read(plates):
            self.calls += 1
            out.append(Reading(r.text[:-1] + "9", 0.9, (0.99,) * 6) if self.calls % 3 == 0 else r)
        return out


def test_runner_up_readings_travel_with_their_shares():
    events, _ = collect(_frames(moving_plates_frames(60)), reader=AlternatingReader())
    red = next(e for e, _ in events if e["text"] == "RED111")
    assert [set(c) for c in red["candidates"]] == [{"text", "share"}]
    assert red["candidates"][0]["text"] == "RED119" and 0 < red["candidates"][0]["share"] < 0.5


def test_publishing_at_exactly_the_thresholds():
    """`publish_after_s` 0 and `min_confidence` equal to the vote's confidence: published as soon as the track
    has `min_frames` frames; `min_event_confidence` equal to it: readable."""
    options = EventOptions(publish_after_s=0, min_confidence=0.9, min_event_confidence=0.9, min_frames=2)
    events, stats = collect(_frames(moving_plates_frames(60)), options)
    red = next(e for e, _ in events if e["text"] == "RED111")
    assert red["reason"] == "confident" and red["last_seen"]["frame"] == 1 and red["readable"] is True
    assert stats.dropped_tracks == 0  # a track too young to publish is not counted as noise
    events, _ = collect(_frames(moving_plates_frames(60)), replace(options, min_frames=1))
    assert next(e for e, _ in events if e["text"] == "RED111")["last_seen"]["frame"] == 0


class ShortReader(ColourPlateReader):
    """Reads only the first two characters of every plate, surely: what small clutter reads as."""

    def read(self, plates):
        from lpr_models.ocr.reader import Reading

        return [Reading(r.text[:2], 0.95, (0.97, 0.97)) for r in super().read(plates)]


def test_a_reading_too_short_for_any_plate_is_published_unreadable():
    events, _ = collect(_frames(moving_plates_frames(60)), reader=ShortReader())
    short = next(e for e, _ in events if e["text"] == "RE")
    assert short["readable"] is False and short["confidence"] > 0.5
    events, _ = collect(_frames(moving_plates_frames(60)), EventOptions(min_text_chars=2), reader=ShortReader())
    assert next(e for e, _ in events if e["text"] == "RE")["readable"] is True


def test_the_best_crops_are_read_first_when_reads_per_frame_are_limited():
    image = np.full((240, 320, 3), 200, np.uint8)
    cv2.rectangle(image, (10, 40), (150, 80), (0, 0, 220), -1)  # a large red plate
    cv2.rectangle(image, (200, 150), (260, 165), (220, 60, 0), -1)  # a small blue one
    calls = []
    pipeline = _watched_pipeline(
        options=EventOptions(publish_after_s=100, max_reads_per_frame=1),
        on_frame=lambda frame, tracks: calls.append(sorted(label for _, _, label in tracks)),
    )
    for frame in _frames([image] * 3):
        pipeline.process(frame)  # not run(): its flush at the end reads everything left
    # one read a frame: the larger, sharper plate first, then the other's first read before its second
    assert calls == [["", "RED111"], ["BLU333", "RED111"], ["BLU333", "RED111"]]
    made = {s.vote().text: s.readings_made for s in pipeline.tracks.values()}
    assert made == {"RED111": 2, "BLU333": 1}


def test_frames_the_gate_skips_are_counted_and_still_reach_the_frame_callback():
    from stream.gating import DetectionGate

    still = np.full((240, 320, 3), 200, np.uint8)
    calls = []
    pipeline = _watched_pipeline(
        gate=DetectionGate(motion_gate=True), on_frame=lambda frame, tracks: calls.append((frame.index, tracks))
    )
    stats = pipeline.run(_frames([still] * 5))
    assert (stats.frames, stats.skipped) == (5, 4)  # the first frame is looked at, the still ones after it not
    assert calls == [(i, []) for i in range(5)]


def test_a_cut_in_the_recording_ends_every_open_track_as_a_gap():
    frames = _frames(moving_plates_frames(60))
    frames[30] = replace(frames[30], cut=True)  # both plates in view: the red one since 0, the blue since 20
    events, _ = collect(frames)
    before = sorted((e["text"], e["reason"]) for e, _ in events if e["last_seen"]["frame"] < 30)
    after = sorted((e["text"], e["reason"]) for e, _ in events if e["first_seen"]["frame"] >= 30)
    assert before == [("BLU333", "gap"), ("RED111", "gap")]
    assert after == [("BLU333", "flush"), ("RED111", "ended")]  # tracks start afresh after the cut


class SlowDetector(ColourPlateDetector):
    def detect(self, frame):
        time.sleep(0.02)
        return super().detect(frame)


def test_each_stage_s_time_is_measured_in_milliseconds():
    started = time.perf_counter()
    _, stats = collect(_frames(moving_plates_frames(5)), detector=SlowDetector())
    elapsed_ms = (time.perf_counter() - started) * 1000
    detect = list(stats.stage_ms["detect"])
    assert len(detect) == 5 and all(ms >= 20 for ms in detect)  # at least the 20 ms sleep, in ms
    laps = [ms for stage in stats.stage_ms.values() for ms in stage]
    assert all(ms >= 0 for ms in laps) and sum(laps) <= elapsed_ms  # parts of the run, not more than it


def test_young_tracks_are_detected_on_every_frame_whatever_the_rate():
    from stream.gating import STEADY_AFTER, DetectionGate

    image = np.full((240, 320, 3), 200, np.uint8)
    cv2.rectangle(image, (10, 40), (150, 80), (0, 0, 220), -1)
    seen = []
    pipeline = _watched_pipeline(
        gate=DetectionGate(every_n_frames=3), on_frame=lambda frame, tracks: seen.append(bool(tracks))
    )
    stats = pipeline.run(_frames([image] * 12))
    assert seen[:STEADY_AFTER] == [True] * STEADY_AFTER  # a young track: every frame
    assert seen[STEADY_AFTER:] == [False, False, True] * 2 + [False]  # steady: every third
    assert stats.skipped == 5


def test_each_open_track_is_published_early_on_its_own_terms():
    """The red plate's track comes first and is published first; the blue one, which came five frames later,
    is published as soon as it has min_frames too, not held back behind the red one."""
    frames = []
    for i in range(30):
        image = np.full((240, 320, 3), 200, np.uint8)
        cv2.rectangle(image, (10, 40), (150, 80), (0, 0, 220), -1)
        if i >= 5:
            cv2.rectangle(image, (180, 150), (300, 185), (220, 60, 0), -1)
        frames.append(image)
    events, _ = collect(_frames(frames), EventOptions(publish_after_s=0, min_frames=10))
    last_frames = {e["text"]: (e["reason"], e["last_seen"]["frame"]) for e, _ in events}
    assert last_frames == {"RED111": ("confident", 9), "BLU333": ("confident", 14)}  # each at its 10th frame


def test_every_unread_crop_is_read_before_the_last_events_and_identical_plates_are_both_read():
    image = np.full((240, 320, 3), 200, np.uint8)
    for x in (10, 180):  # two plates alike in every pixel: their crops tie on quality
        cv2.rectangle(image, (x, 40), (x + 120, 75), (0, 0, 220), -1)
    events, _ = collect(_frames([image] * 4), EventOptions(publish_after_s=100, max_reads_per_frame=1, min_frames=2))
    assert sorted(e["frames_read"] for e, _ in events) == [4, 4]  # the flush reads what the frames could not
