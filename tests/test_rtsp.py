"""A live RTSP stream that dies mid-way and comes back: the pipeline reconnects and loses nothing it saw."""

import signal
import subprocess
import threading
import time
from pathlib import Path

import cv2
import numpy as np
import pytest

from stream.config import CameraSection, Config
from stream.runner import run_camera, run_cameras_shared
from tests.conftest import ColourPlateDetector, ColourPlateReader, free_port, write_video

SYSTEM_PYTHON = "/usr/bin/python3"


def gst_rtsp_available() -> bool:
    if not Path(SYSTEM_PYTHON).exists():
        return False
    probe = "import gi; gi.require_version('GstRtspServer', '1.0'); from gi.repository import GstRtspServer"
    return subprocess.run([SYSTEM_PYTHON, "-c", probe], capture_output=True).returncode == 0


pytestmark = pytest.mark.skipif(
    not gst_rtsp_available(), reason="GStreamer RTSP server (gir1.2-gst-rtsp-server-1.0) not installed"
)


def clip(path: Path, colour, plate_frames: int, total: int, size=(320, 240), x0: int = 40) -> Path:
    frames = []
    for i in range(total):
        img = np.full((size[1], size[0], 3), 200, np.uint8)
        if i < plate_frames:
            x = x0 + i
            cv2.rectangle(img, (x, 100), (x + 70, 124), colour, -1)
        frames.append(img)
    return write_video(path, frames)


class Server:
    def __init__(self, port: int, video: Path) -> None:
        self.process = subprocess.Popen(
            [SYSTEM_PYTHON, str(Path(__file__).with_name("rtsp_server.py")), str(port), str(video)],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        assert self.process.stdout.readline().strip() == "ready"

    def kill(self) -> None:
        self.process.kill()
        self.process.wait()


def in_thread(run) -> tuple[list, threading.Event, threading.Thread]:
    """Start `run(send, stop)` in a thread: every message it sends lands in the list, then ("result", what it
    returned)."""
    sent: list = []
    stop = threading.Event()
    thread = threading.Thread(target=lambda: sent.append(("result", run(lambda *m: sent.append(m), stop))))
    thread.start()
    return sent, stop, thread


def test_pipeline_reconnects_after_the_server_dies_and_both_halves_arrive(tmp_path):
    port = free_port()
    first = clip(tmp_path / "red.mp4", (0, 0, 220), plate_frames=250, total=250)  # a red plate for 10 s
    # after the restart the camera also changes resolution: a blue plate right of x = 320 for 3 s
    second = clip(tmp_path / "blue.mp4", (220, 60, 0), plate_frames=75, total=150, size=(480, 360), x0=340)
    camera = CameraSection(
        id="live", source=f"rtsp://127.0.0.1:{port}/test", open_timeout_s=5, read_timeout_s=2, backoff_max_s=1.0
    )
    cfg = Config(cameras=(camera,))
    server = Server(port, first)
    sent, stop, worker = in_thread(
        lambda send, stop: run_camera(cfg, camera, send, stop, models=(ColourPlateDetector(), ColourPlateReader()))
    )
    try:
        deadline = time.time() + 20
        while not any(m[0] == "health" and m[2]["state"] == "connected" for m in sent) and time.time() < deadline:
            time.sleep(0.1)
        time.sleep(2.0)  # about 50 frames of the red plate
        server.kill()
        time.sleep(1.0)
        server = Server(port, second)
        deadline = time.time() + 40
        while not any(m[0] == "plate" and m[2]["text"] == "BLU333" for m in sent) and time.time() < deadline:
            time.sleep(0.2)
    finally:
        stop.set()
        worker.join(timeout=30)
        server.kill()
    plates = [m[2] for m in sent if m[0] == "plate"]
    assert [p["text"] for p in plates] == ["RED111", "BLU333"]
    assert plates[0]["frames_seen"] >= 20 and plates[1]["frames_seen"] >= 20
    assert plates[1]["box"][0] > 320  # read in the new, larger frames
    result = sent[-1][1]
    assert result.source.reconnects >= 1 and len(result.source.gaps) >= 1
    states = [m[2]["state"] for m in sent if m[0] == "health"]
    assert "reconnecting" in states and states.count("connected") >= 2


def test_a_stalled_server_is_detected_by_the_read_timeout_and_the_stream_resumes(tmp_path):
    port = free_port()
    video = clip(tmp_path / "red.mp4", (0, 0, 220), plate_frames=0, total=500)  # 20 s, no plate needed
    camera = CameraSection(
        id="live", source=f"rtsp://127.0.0.1:{port}/test", open_timeout_s=3, read_timeout_s=1.5, backoff_max_s=1.0
    )
    server = Server(port, video)
    sent, stop, worker = in_thread(
        lambda send, stop: run_camera(
            Config(cameras=(camera,)), camera, send, stop, models=(ColourPlateDetector(), ColourPlateReader())
        )
    )
    connected = lambda: sum(m[0] == "health" and m[2]["state"] == "connected" for m in sent)  # noqa: E731
    try:
        deadline = time.time() + 20
        while connected() < 1 and time.time() < deadline:
            time.sleep(0.1)
        time.sleep(1.0)
        frozen_at = time.time()
        server.process.send_signal(signal.SIGSTOP)  # the server hangs without closing anything
        time.sleep(4.0)
        server.process.send_signal(signal.SIGCONT)
        deadline = time.time() + 30
        while connected() < 2 and time.time() < deadline:
            time.sleep(0.2)
    finally:
        stop.set()
        worker.join(timeout=30)
        server.kill()
    result = sent[-1][1]
    assert connected() >= 2 and result.source.reconnects >= 1
    assert (
        result.source.gaps and result.source.gaps[0] >= 3.0
    )  # the 4 s freeze, from the last frame (buffered ones came later)
    states = [m[2]["state"] for m in sent if m[0] == "health"]
    assert "stalled" in states and result.source.stalls >= 1
    stalled_at = next(m[2]["time"] for m in sent if m[0] == "health" and m[2]["state"] == "stalled")
    # said within the read timeout of the last frame (frames already in transit arrive up to a second after the
    # freeze, and the watchdog looks every 0.375 s)
    assert stalled_at - frozen_at <= camera.read_timeout_s + 2.0


def test_with_shared_inference_a_live_camera_whose_run_fails_starts_again_and_reads_its_plate(tmp_path):
    class FailsFirstBatch(ColourPlateDetector):
        failed = False

        def detect_batch(self, frames):
            if not self.failed:
                self.failed = True
                raise RuntimeError("inference failed")
            return super().detect_batch(frames)

    port = free_port()
    video = clip(tmp_path / "red.mp4", (0, 0, 220), plate_frames=50, total=75)
    camera = CameraSection(id="live", source=f"rtsp://127.0.0.1:{port}/test", open_timeout_s=5, backoff_max_s=1.0)
    server = Server(port, video)
    sent, stop, worker = in_thread(
        lambda send, stop: run_cameras_shared(
            Config(cameras=(camera,)), send, stop, (FailsFirstBatch(), ColourPlateReader())
        )
    )
    try:
        deadline = time.time() + 30
        while not any(m[0] == "plate" for m in sent) and time.time() < deadline:
            time.sleep(0.2)
    finally:
        stop.set()
        worker.join(timeout=30)
        server.kill()
    restarts = [m[2]["restarts"] for m in sent if m[0] == "health" and m[2]["state"] == "worker_restart"]
    assert restarts == [1]
    assert [m[2]["text"] for m in sent if m[0] == "plate"] == ["RED111"]
    assert [r.exit_code for r in sent[-1][1]] == [0]  # stopped by us, not by the failure
