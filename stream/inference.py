"""One detector and one reader for every camera of a host (`[inference] shared = true`).

Each camera keeps its own thread for decoding, tracking and voting; its detector and reader calls
go to the inference service, whose threads answer them in batches across cameras. N cameras hold one copy
of the models instead of N, and share the cores through a few inference threads instead of N
processes fighting over them.

Fair by construction: a camera waits for its answer before it asks again, so a batch holds at most
one request a camera and a busy camera cannot starve a quiet one. A live camera whose frames come
faster than its answers drops its oldest frames, counted in its health messages (stream.sources),
rather than falling behind. A live camera whose run fails starts again in its thread
(stream.runner.run_shared). The price of one process: a crash in native code (a decoder) stops
every camera of the host; the worker-per-camera design (the default) isolates them.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections import Counter
from concurrent.futures import Future
from dataclasses import dataclass, field

import numpy as np

from lpr_models.detection import Detection
from lpr_models.ocr.reader import Reading

log = logging.getLogger(__name__)


@dataclass
class _Request:
    camera_id: str
    kind: str  # "detect" (frames) or "read" (plate crops)
    items: list[np.ndarray]
    answer: Future = field(default_factory=Future)


@dataclass
class ServiceStats:
    batches: int = 0
    requests: Counter[str] = field(default_factory=Counter)  # by camera
    largest_batch: int = 0  # requests answered together


class InferenceService:
    """Runs `detector.detect_batch` and `reader.read` for every camera's requests, in `workers` threads that each
    take whole batches (ONNX Runtime and torch run concurrent calls on one model; small models use a core better
    as one batch a thread than as one batch over several threads)."""

    def __init__(self, detector, reader, max_batch: int = 8, workers: int = 1) -> None:
        self.detector, self.reader, self.max_batch = detector, reader, max_batch
        self.stats = ServiceStats()
        self._stats_lock = threading.Lock()
        self._requests: queue.Queue[_Request | None] = queue.Queue()
        self._threads = [
            threading.Thread(target=self._serve, name=f"inference-{n}", daemon=True) for n in range(workers)
        ]
        for thread in self._threads:
            thread.start()

    def client(self, camera_id: str) -> SharedModels:
        return SharedModels(self, camera_id)

    def ask(self, camera_id: str, kind: str, items: list[np.ndarray]) -> list:
        request = _Request(camera_id, kind, items)
        self._requests.put(request)
        return request.answer.result()

    def close(self) -> None:
        for _ in self._threads:
            self._requests.put(None)
        for thread in self._threads:
            thread.join()

    def _serve(self) -> None:
        closing = False
        while not closing:
            first = self._requests.get()
            if first is None:
                return
            batch = [first]
            while len(batch) < self.max_batch:  # whatever is waiting now; never wait for more
                try:
                    request = self._requests.get_nowait()
                except queue.Empty:
                    break
                if request is None:
                    closing = True  # answer this batch, then stop
                    break
                batch.append(request)
            with self._stats_lock:
                self.stats.batches += 1
                self.stats.largest_batch = max(self.stats.largest_batch, len(batch))
                self.stats.requests.update(r.camera_id for r in batch)
            for kind in ("detect", "read"):
                group = [r for r in batch if r.kind == kind]
                if group:
                    self._answer(kind, group)

    def _answer(self, kind: str, group: list[_Request]) -> None:
        items = [item for request in group for item in request.items]
        try:
            results = self.detector.detect_batch(items) if kind == "detect" else self.reader.read(items)
        except Exception as err:  # the asking cameras' error, raised in their threads
            for request in group:
                request.answer.set_exception(err)
            return
        start = 0
        for request in group:
            request.answer.set_result(results[start : start + len(request.items)])
            start += len(request.items)


class SharedModels:
    """A camera's detector and reader, answered by the host's inference service."""

    def __init__(self, service: InferenceService, camera_id: str) -> None:
        self.service, self.camera_id = service, camera_id

    def detect(self, frame: np.ndarray) -> list[Detection]:
        return self.service.ask(self.camera_id, "detect", [frame])[0]

    def crop(self, image: np.ndarray, corners: np.ndarray) -> np.ndarray:
        return self.service.reader.crop(image, corners)  # geometry only: done in the camera's own thread

    def read(self, plates: list[np.ndarray]) -> list[Reading]:
        return self.service.ask(self.camera_id, "read", plates) if plates else []
