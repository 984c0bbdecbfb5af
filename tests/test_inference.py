"""The shared inference service: one detector and reader for every camera of a host."""

import threading
import time

import numpy as np
import pytest

from stream.config import CameraSection, Config, EventOptions, InferenceSection, StoreSection
from stream.inference import InferenceService
from stream.runner import run_camera, run_cameras_shared
from tests.conftest import ColourPlateDetector, ColourPlateReader, free_port


class CountingDetector:
    """Answers each frame with its own mean value, slowly, and records the batch sizes."""

    def __init__(self) -> None:
        self.batches: list[int] = []

    def detect_batch(self, frames):
        self.batches.append(len(frames))
        time.sleep(0.01)
        return [[float(f.mean())] for f in frames]


@pytest.mark.parametrize("workers", [1, 2])
def test_every_camera_gets_its_own_answers_from_shared_batches(workers):
    detector = CountingDetector()
    service = InferenceService(detector, ColourPlateReader(), max_batch=8, workers=workers)
    answers: dict[int, list] = {}

    def camera(n: int) -> None:
        client = service.client(f"cam{n}")
        answers[n] = [client.detect(np.full((4, 4, 3), n * 10 + i, np.uint8))[0] for i in range(20)]

    threads = [threading.Thread(target=camera, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    service.close()
    assert answers == {n: [float(n * 10 + i) for i in range(20)] for n in range(4)}
    assert max(detector.batches) <= 4  # one request a camera at most
    assert max(detector.batches) > 1 or workers > 1  # batched (two workers may each find one request waiting)
    assert service.stats.requests == {f"cam{n}": 20 for n in range(4)}  # fair: no camera served more often


def test_a_failing_batch_fails_the_cameras_that_asked_and_the_service_goes_on():
    class Flaky(CountingDetector):
        def detect_batch(self, frames):
            if any(f.mean() == 13 for f in frames):
                raise RuntimeError("bad frame")
            return super().detect_batch(frames)

    service = InferenceService(Flaky(), ColourPlateReader())
    client = service.client("cam")
    with pytest.raises(RuntimeError, match="bad frame"):
        client.detect(np.full((4, 4, 3), 13, np.uint8))
    assert client.detect(np.full((4, 4, 3), 7, np.uint8)) == [7.0]
    assert client.read([]) == []  # nothing to read: no request at all
    service.close()


def test_three_cameras_one_dead_share_one_model_and_give_the_offline_events(plates_video):
    """Two cameras replay the clip, the third is an RTSP address nobody serves: the two publish what one
    camera alone would, the dead one gives up after its limit without holding them up."""
    options = EventOptions(publish_after_s=100)
    base = Config(store=StoreSection(enabled=False), events=options, inference=InferenceSection(shared=True))
    models = (ColourPlateDetector(), ColourPlateReader())
    alone: list[dict] = []
    camera = CameraSection(id="a", source=str(plates_video))
    run_camera(base, camera, lambda k, c, p, *_: alone.append(p) if k == "plate" else None, threading.Event(), models)
    dead = CameraSection(id="dead", source=f"rtsp://127.0.0.1:{free_port()}/x", give_up_after_s=1, open_timeout_s=0.5)
    cameras = (camera, CameraSection(id="b", source=str(plates_video)), dead)
    got: dict[str, list] = {"a": [], "b": [], "dead": []}
    states: list[str] = []

    def send(kind, camera_id, payload, *_):
        if kind == "plate":
            got[camera_id].append(payload)
        elif camera_id == "dead":
            states.append(payload["state"])

    shared = RecordingDetector()
    cfg = Config(cameras=cameras, store=base.store, events=options)
    results = run_cameras_shared(cfg, send, threading.Event(), (shared, ColourPlateReader()))
    texts = sorted(e["text"] for e in alone)
    assert texts == ["BLU333", "RED111"]
    assert sorted(e["text"] for e in got["a"]) == texts and sorted(e["text"] for e in got["b"]) == texts
    assert got["dead"] == [] and "reconnecting" in states
    assert [r.exit_code for r in results] == [0, 0, 1]
    assert shared.frames == 2 * 60  # both cameras' every frame went through the one detector


class RecordingDetector(ColourPlateDetector):
    frames = 0

    def detect_batch(self, frames):
        self.frames += len(frames)
        return super().detect_batch(frames)
