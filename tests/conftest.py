from __future__ import annotations

import os
import socket
import tempfile
from pathlib import Path

import cv2
import numpy as np
import pytest
from hypothesis import settings

from stream.events import example_event as make_event  # noqa: F401  (the tests' valid event)

# CI machines are shared: judge properties, not how fast one example ran
settings.register_profile("lpr", deadline=None, max_examples=100)
settings.load_profile("lpr")

# One compute thread a process (torch reads this when first imported, after this file; ONNX Runtime follows torch,
# lpr_models.optimize; the `lpr` processes the tests start inherit it): the workers and the processes they start
# share the cores, and each taking a thread a core thrashed them. On 2 cores, three runs each way back to back: 216-245 s
# with two threads, 187-193 s with one (docs/testing.md).
os.environ.setdefault("OMP_NUM_THREADS", "1")

ROOT = Path(__file__).resolve().parents[1]
DATA = Path(os.environ.get("LPR_DATA", ROOT.parent / "shared" / "data"))
# Where the tests and the `lpr` processes they start run: what a run leaves in its working folder
# (the event store's default ./lpr-data) stays out of the checkout, and each pytest-xdist worker has its own.
RUN_DIR = Path(
    os.environ.setdefault(
        f"LPR_TEST_RUN_DIR_{os.environ.get('PYTEST_XDIST_WORKER', 'main')}", tempfile.mkdtemp(prefix="lpr-tests-")
    )
)  # one for both imports of this file


def pytest_xdist_auto_num_workers(config: pytest.Config) -> int:
    """`-n auto`: a worker a core, and at least 3. Many tests wait on the real processes, servers and sockets they
    start rather than compute: on 2 cores the suite took 200-221 s with 2 workers, 182 s with 3 and 179 s with 4."""
    return int(os.environ.get("PYTEST_XDIST_AUTO_NUM_WORKERS") or max(3, os.cpu_count() or 1))


@pytest.fixture(autouse=True, scope="session")
def _run_outside_the_checkout():
    cwd = os.getcwd()
    os.chdir(RUN_DIR)
    yield
    os.chdir(cwd)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def endpoint() -> str:
    return f"tcp://127.0.0.1:{free_port()}"


@pytest.fixture(scope="session")
def data_root() -> Path:
    if not (DATA / "ccpd" / "images").is_dir():
        pytest.skip(f"shared plate data not found at {DATA}")
    return DATA


class ColourPlateDetector:
    """A test detector for the pipeline's logic: saturated rectangles are plates."""

    def detect(self, frame: np.ndarray):
        from lpr_models.detection import Detection

        hsv = cv2.cvtColor(frame, cv2.COLOR_BGR2HSV)
        mask = cv2.inRange(hsv, (0, 150, 80), (180, 255, 255))
        contours, _ = cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
        out = []
        for c in contours:
            x, y, w, h = cv2.boundingRect(c)
            if w * h < 100:
                continue
            corners = np.array([[x, y], [x + w, y], [x + w, y + h], [x, y + h]], np.float32)
            out.append(Detection(0.9, np.array([x, y, x + w, y + h], np.float32), corners))
        return out

    def detect_batch(self, frames):
        return [self.detect(f) for f in frames]


class ColourPlateReader:
    """A test reader: the plate's hue names it, so the pipeline's voting has something to agree on."""

    names = {"red": "RED111", "green": "GRN222", "blue": "BLU333"}

    def crop(self, image, corners):
        from lpr_models.geometry import rectify

        return rectify(image, corners, (48, 192))

    def read(self, plates):
        from lpr_models.ocr.reader import Reading

        out = []
        for plate in plates:
            b, g, r = plate.reshape(-1, 3).mean(axis=0)
            name = self.names["red" if r > max(g, b) else "green" if g > b else "blue"]
            out.append(Reading(name, 0.9, (0.99,) * len(name)))
        return out


def write_video(path: Path, frames: list[np.ndarray], fps: int = 25, metadata: dict | None = None) -> Path:
    from stream.video_writer import VideoWriter

    with VideoWriter(path, fps, metadata=metadata) as writer:
        for frame in frames:
            writer.write(frame)
    return path


def moving_plates_frames(n: int = 60, size=(320, 240)) -> list[np.ndarray]:
    """A red plate crossing left to right for the first 40 frames, a blue one from frame 20 on."""
    w, h = size
    frames = []
    for i in range(n):
        img = np.full((h, w, 3), 200, np.uint8)
        if i < 40:
            x = 10 + i * 4
            cv2.rectangle(img, (x, 40), (x + 60, 60), (0, 0, 220), -1)
        if i >= 20:
            x = 250 - (i - 20) * 3
            cv2.rectangle(img, (x, 150), (x + 60, 170), (220, 60, 0), -1)
        frames.append(img)
    return frames


@pytest.fixture
def plates_video(tmp_path: Path) -> Path:
    return write_video(tmp_path / "plates.mp4", moving_plates_frames())
