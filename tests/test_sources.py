import cv2
import numpy as np
import pytest

from stream.sources import FrameGrabber, GrabberOptions, SourceError, classify
from tests.conftest import moving_plates_frames, write_video


def test_classify_sources(tmp_path):
    image = tmp_path / "a.jpg"
    cv2.imwrite(str(image), np.zeros((8, 8, 3), np.uint8))
    assert classify("rtsp://cam/stream").kind == "stream" and classify("rtsp://cam/stream").live
    assert classify("0").url == "/dev/video0" and classify("/dev/video2").kind == "webcam"
    assert classify(str(image)).kind == "image" and classify(str(tmp_path)).kind == "folder"
    with pytest.raises(SourceError, match="not found"):
        classify(str(tmp_path / "missing.mp4"))


def test_file_frames_carry_camera_index_and_timestamps(plates_video):
    frames = list(FrameGrabber(str(plates_video), "cam1"))
    assert len(frames) == 60
    assert [f.index for f in frames] == list(range(60))
    assert frames[0].camera_id == "cam1" and frames[0].image.shape == (240, 320, 3)
    assert frames[25].pts == pytest.approx(1.0) and frames[1].wall_time >= frames[0].wall_time


def test_stride_keeps_every_nth_frame(plates_video):
    frames = list(FrameGrabber(str(plates_video), "c", GrabberOptions(stride=4)))
    assert [f.index for f in frames] == list(range(0, 60, 4))


def test_files_are_never_dropped_even_with_a_slow_consumer(plates_video):
    grabber = FrameGrabber(str(plates_video), "c", GrabberOptions(queue_size=1))
    assert len(list(grabber)) == 60 and grabber.stats.dropped == 0


def test_images_and_folders(tmp_path):
    for i in range(3):
        cv2.imwrite(str(tmp_path / f"{i}.png"), np.full((10, 10, 3), i, np.uint8))
    (tmp_path / "broken.jpg").write_bytes(b"not a jpeg")
    grabber = FrameGrabber(str(tmp_path), "c")
    assert [int(f.image[0, 0, 0]) for f in grabber] == [0, 1, 2]
    assert grabber.stats.corrupt == 1


def test_a_file_that_is_not_a_video_reports_an_error(tmp_path):
    path = tmp_path / "notes.mp4"
    path.write_text("hello")
    grabber = FrameGrabber(str(path), "c")
    assert list(grabber) == []
    assert "cannot open" in grabber.stats.error


def mpegts_clip(tmp_path, frames: int = 50):
    """A clip re-muxed to MPEG-TS, which survives damage and truncation (an MP4 loses its index)."""
    import av

    source = write_video(tmp_path / "full.mp4", moving_plates_frames(frames))
    ts = tmp_path / "clip.ts"
    with av.open(str(source)) as src, av.open(str(ts), "w", format="mpegts") as dst:
        stream = dst.add_stream_from_template(src.streams.video[0])
        for packet in src.demux(src.streams.video[0]):
            if packet.dts is not None:
                packet.stream = stream
                dst.mux(packet)
    return ts


def test_truncated_video_decodes_what_it_can(tmp_path):
    cut = mpegts_clip(tmp_path)
    cut.write_bytes(cut.read_bytes()[: len(cut.read_bytes()) // 2])
    frames = list(FrameGrabber(str(cut), "c"))
    assert 5 < len(frames) < 50


def test_unreachable_stream_gives_up_after_the_allowed_reconnects():
    options = GrabberOptions(open_timeout_s=1, read_timeout_s=1, backoff_initial_s=0.05, max_reconnects=2)
    states = []
    grabber = FrameGrabber("rtsp://127.0.0.1:9/none", "c", options, on_health=lambda s, st: states.append(s))
    assert list(grabber) == []
    assert grabber.stats.reconnects == 2 and "gave up" in grabber.stats.error
    assert "reconnecting" in states


def test_reconnect_waits_double_up_to_their_limit(caplog):
    """A camera that stays down is retried ever more seldom, never less often than backoff_max_s allows."""
    options = GrabberOptions(
        open_timeout_s=1, read_timeout_s=1, backoff_initial_s=0.1, backoff_max_s=0.4, max_reconnects=5
    )
    with caplog.at_level("WARNING", logger="stream.sources"):
        assert list(FrameGrabber("rtsp://127.0.0.1:9/none", "c", options)) == []
    waits = [
        float(r.getMessage().rsplit("reconnecting in ", 1)[1].rstrip("s"))
        for r in caplog.records
        if "reconnecting in" in r.getMessage()
    ]
    assert waits == [0.1, 0.2, 0.4, 0.4, 0.4]


def test_a_camera_that_came_back_is_retried_soon_again(tmp_path, caplog):
    """Each connection that gave frames starts the waits from backoff_initial_s again: an HTTP stream that plays
    a short clip and ends is reconnected after the first wait every time, never after a grown one."""
    import functools
    import threading
    from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

    clip = mpegts_clip(tmp_path, frames=10)
    handler = functools.partial(SimpleHTTPRequestHandler, directory=str(clip.parent))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    options = GrabberOptions(
        open_timeout_s=2, read_timeout_s=2, backoff_initial_s=0.1, backoff_max_s=0.4, max_reconnects=3
    )
    try:
        with caplog.at_level("WARNING", logger="stream.sources"):
            grabber = FrameGrabber(f"http://127.0.0.1:{server.server_port}/{clip.name}", "c", options)
            frames = list(grabber)
    finally:
        server.shutdown()
    waits = [r.getMessage() for r in caplog.records if "reconnecting in" in r.getMessage()]
    assert len(frames) == 4 * 10 and grabber.stats.reconnects == 3
    assert waits == ["camera c: stream ended; reconnecting in 0.1s"] * 3


def test_a_file_with_no_video_stream_is_reported(tmp_path):
    import av

    path = tmp_path / "voice.wav"
    with av.open(str(path), "w") as container:
        stream = container.add_stream("pcm_s16le", rate=8000)
        frame = av.AudioFrame.from_ndarray(np.zeros((1, 800), np.int16), format="s16", layout="mono")
        frame.sample_rate = 8000
        for packet in stream.encode(frame):
            container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    grabber = FrameGrabber(str(path), "c")
    assert list(grabber) == [] and "no video stream" in grabber.stats.error


def test_unusual_codec_and_pixel_format_decode(tmp_path):
    import av

    path = tmp_path / "clip.avi"
    with av.open(str(path), "w") as container:
        stream = container.add_stream("mjpeg", rate=10)
        stream.width, stream.height, stream.pix_fmt = 64, 48, "yuvj444p"
        for i in range(5):
            image = np.full((48, 64, 3), i * 40, np.uint8)
            for packet in stream.encode(av.VideoFrame.from_ndarray(image, format="bgr24").reformat(format="yuvj444p")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    frames = list(FrameGrabber(str(path), "c"))
    assert len(frames) == 5 and frames[0].image.shape == (48, 64, 3)
    assert abs(int(frames[4].image.mean()) - 160) < 10


def test_decoding_goes_on_after_corrupt_data_mid_file(tmp_path):
    ts = mpegts_clip(tmp_path)
    data = bytearray(ts.read_bytes())
    rng = np.random.default_rng(0)
    middle = len(data) // 2
    data[middle : middle + 4000] = rng.integers(0, 256, 4000, dtype=np.uint8).tobytes()
    ts.write_bytes(bytes(data))
    grabber = FrameGrabber(str(ts), "c")
    frames = list(grabber)
    assert 25 <= len(frames) < 50  # some frames are lost...
    assert frames[-1].pts - frames[0].pts >= 47 / 25  # ...but decoding goes on after the damage


def test_rotated_phone_video_is_turned_upright(tmp_path):
    import av

    path = tmp_path / "phone.mp4"
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=25)
        stream.width, stream.height, stream.pix_fmt = 64, 32, "yuv420p"
        stream.set_display_rotation(90)  # stored landscape, to be shown turned a quarter counterclockwise
        for _ in range(3):
            image = np.zeros((32, 64, 3), np.uint8)
            image[:, :32] = 255  # left half white
            for packet in stream.encode(av.VideoFrame.from_ndarray(image, format="bgr24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    frame = next(iter(FrameGrabber(str(path), "c")))
    assert frame.image.shape == (64, 32, 3)
    assert frame.image[40:].mean() > 200 and frame.image[:24].mean() < 50  # the left half is now at the bottom


def test_a_stop_that_drains_the_end_marker_does_not_hang_the_consumer(plates_video):
    import threading

    grabber = FrameGrabber(str(plates_video), "cam", GrabberOptions(queue_size=2))
    frames = iter(grabber)
    next(frames)
    grabber._thread.join(timeout=0)  # let it run
    grabber._stop.set()
    grabber._thread.join(timeout=10)  # the producer ends and queues its end marker...
    while not grabber._queue.empty():  # ...which a stop() draining the queue takes away
        grabber._queue.get_nowait()
    done = threading.Event()
    threading.Thread(target=lambda: (list(frames), done.set()), daemon=True).start()
    assert done.wait(5), "the consumer waited forever for an end marker that was drained"


def test_a_replay_as_a_live_camera_drops_the_frames_a_slow_consumer_cannot_take(tmp_path):
    import time as clock

    from stream.sources import FrameGrabber, GrabberOptions
    from tests.conftest import moving_plates_frames, write_video

    clip = write_video(tmp_path / "clip.mp4", moving_plates_frames(30))  # 1.2 s

    def consume(**options) -> FrameGrabber:
        grabber = FrameGrabber(str(clip), "cam", GrabberOptions(realtime=True, queue_size=2, **options))
        for _ in grabber:
            clock.sleep(0.08)  # a consumer at 12.5 fps behind a 25 fps camera
        return grabber

    assert consume().stats.dropped == 0  # a file waits for its consumer
    live_like = consume(drop_when_behind=True)
    assert live_like.stats.dropped > 8 and live_like.stats.decoded == 30
