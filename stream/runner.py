"""Run cameras: build the models and sinks, wire them to each camera's pipeline, stop cleanly.

One camera runs in this process. Several cameras run one worker process each, so a dead
or slow camera never stalls the others; workers push their messages to this process,
which owns the publisher and the JSONL file, and a worker that dies is restarted. With
`[inference] shared = true` they run as threads of this process instead, around one
detector and reader (stream.inference).
"""

from __future__ import annotations

import json
import logging
import multiprocessing as mp
import os
import shutil
import signal
import sys
import tempfile
import threading
import time
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Protocol

import numpy as np
import torch
import zmq

from lpr_models.detector.detector import PlateDetector
from lpr_models.ocr.reader import PlateReader
from stream.annotate import VideoAnnotator
from stream.config import CameraSection, Config
from stream.events import decode_event, encode_event
from stream.exits import EXIT_FAILED, EXIT_OK, EXIT_PARTIAL
from stream.frames import Frame
from stream.gating import DetectionGate
from stream.jobs import Job, identity
from stream.pipeline import CameraPipeline, Detector, PipelineStats, Reader
from stream.progress import ReplayProgress, summary_table
from stream.sinks import Sinks
from stream.snapshot import SnapshotOptions
from stream.sources import FrameGrabber, GrabberOptions, SourceError, SourceSpec, SourceStats, classify
from stream.tracking import PlateTracker

log = logging.getLogger(__name__)


class Send(Protocol):
    """(kind, camera id, payload, plate crop JPEG[, vehicle snapshot JPEG])."""

    def __call__(self, kind: str, camera_id: str, payload: dict, jpeg: bytes, snapshot: bytes = b"", /) -> None: ...


@dataclass
class CameraResult:
    camera_id: str
    source: SourceStats
    pipeline: PipelineStats
    interrupted: bool
    files: list[dict] = field(default_factory=list)  # replays: each file's duration, frames, events, error

    @property
    def exit_code(self) -> int:
        if self.source.decoded == 0 and self.source.error:
            return EXIT_FAILED
        if self.source.error or self.source.corrupt:
            return EXIT_PARTIAL
        return EXIT_OK

    def summary(self) -> str:
        s, p = self.source, self.pipeline
        text = (
            f"{s.decoded} frames decoded, {p.frames} processed, {p.detections} detections, {p.events} events, "
            f"{p.dropped_tracks} tracks too short to count (events.min_frames); "
            f"{s.dropped} frames dropped, {s.corrupt} corrupt, {s.reconnects} reconnects"
        )
        return text + (f"; error: {s.error}" if s.error else "")


def build_models(cfg: Config) -> tuple[PlateDetector, PlateReader]:
    if cfg.detector.threads:
        torch.set_num_threads(cfg.detector.threads)
    d = cfg.detector
    photo_passes = d.photo_passes and bool(cfg.cameras) and all(_spec(camera.source).still for camera in cfg.cameras)
    detector = PlateDetector.from_weights(
        d.weights or None,
        d.refiner_weights or None,
        d.refine,
        input_size=d.input_size,
        score_threshold=d.score_threshold,
        nms_iou=d.nms_iou,
        backend=d.backend,
        coarse_pass=d.coarse_pass or photo_passes,
        fine_pass=d.fine_pass or photo_passes,
    )
    reader = PlateReader.from_weights(
        cfg.ocr.weights or None,
        backend=cfg.ocr.backend,
        shifted_reads=cfg.ocr.shifted_reads,
        second_looks=cfg.ocr.second_looks,
        stacked_characters=cfg.ocr.stacked_characters,
    )
    warm_up(detector, reader)
    return detector, reader


def warm_up(detector: PlateDetector, reader: PlateReader) -> None:
    """Build the inference back-ends now, not on the first frame: a live camera would drop frames meanwhile."""
    detector.warm_up()
    reader.read([np.zeros((*reader.crop_size, 3), np.uint8)])


def grabber_options(camera: CameraSection) -> GrabberOptions:
    return GrabberOptions(
        queue_size=camera.queue_size,
        stride=camera.stride,
        realtime=camera.realtime,
        speed=camera.speed,
        range_from=camera.replay_from,
        range_to=camera.replay_to,
        drop_when_behind=camera.drop_when_behind,
        open_timeout_s=camera.open_timeout_s,
        read_timeout_s=camera.read_timeout_s,
        rtsp_transport=camera.rtsp_transport,
        backoff_max_s=camera.backoff_max_s,
        start_time=camera.start_time,
        time_pattern=camera.time_pattern,
        time_zone=camera.time_zone,
        give_up_after_s=camera.give_up_after_s,
    )


def run_camera(
    cfg: Config,
    camera: CameraSection,
    send: Send,
    stop: threading.Event,
    models: tuple[Detector, Reader] | None = None,
    job: Job | None = None,
) -> CameraResult:
    """Run one camera until its source ends or `stop` is set; open tracks are flushed either way.

    `job`: resume a replay (the supervisor's, for a restarted worker); otherwise `camera.job` names one."""
    if job is None and camera.job:
        job = Job(camera.job, cfg.store.folder, camera.source, camera.id, cfg.publish.jsonl)
    if job and job.finished:
        log.info("camera %s: job %s has finished; nothing is left to replay", camera.id, job.name)
        return CameraResult(camera.id, SourceStats(), PipelineStats(), False)

    def health(state: str, stats: SourceStats) -> None:
        send(
            "health",
            camera.id,
            {"camera_id": camera.id, "state": state, "time": time.time(), "pid": os.getpid(), **asdict(stats)},
            b"",
        )

    options = grabber_options(camera)
    if job and job.resume_from is not None:
        log.info("camera %s: job %s resumes %.1f s into the recording", camera.id, job.name, job.resume_from)
        options = replace(options, range_from=f"{job.resume_from:.3f}")
    grabber = FrameGrabber(camera.source, camera.id, options, on_health=health)
    if job and not grabber.spec.replay:
        raise SourceError(f"--job resumes replays of files and footage sets, not a {grabber.spec.kind}")
    grabber.check()
    detector, reader = models or build_models(cfg)  # after the source is known to be readable: a typo fails at once
    progress = ReplayProgress(camera.id) if grabber.spec.replay else None

    def publish(event: dict, jpeg: bytes, snapshot: bytes = b"") -> None:
        if job and job.already_published(event):
            return  # the killed run published it
        if progress:
            progress.count_event()
        send("plate", camera.id, event, jpeg, snapshot)
        if job:
            job.record(event)

    annotator = VideoAnnotator(cfg.publish.video) if cfg.publish.video else None
    tracker = PlateTracker(
        cfg.tracking.distance_threshold, cfg.tracking.hit_counter_max, cfg.tracking.initialization_delay
    )
    pipeline = CameraPipeline(
        camera.id,
        detector,
        reader,
        publish,
        tracker,
        cfg.events,
        on_frame=annotator,
        still_images=grabber.spec.still,
        lines=camera.line,
        snapshot=SnapshotOptions(camera.snapshot_width, camera.snapshot_annotate) if camera.snapshot else None,
        gate=DetectionGate(
            cfg.detector.every_n_frames, cfg.detector.motion_gate, cfg.detector.motion_threshold, camera.zone
        ),
    )
    finished = threading.Event()

    def watch() -> None:  # stop the grabber on request; end with the camera, never outlive it
        while not finished.is_set():
            if stop.wait(0.2):
                grabber.stop()
                return

    watcher = threading.Thread(target=watch, name=f"stop-{camera.id}", daemon=True)
    watcher.start()
    log.info("camera %s: reading %s", camera.id, camera.source)
    frames: Iterable[Frame] = progress.wrap(grabber) if progress else grabber
    if job:
        frames = job.follow(frames, lambda: [s.first.pts for s in pipeline.tracks.values() if s.first.pts is not None])
    try:
        pipeline.run(frames)
    finally:
        finished.set()
        grabber.stop()
        watcher.join()
        if annotator:
            annotator.close()
    health("stopped", grabber.stats)
    if job and not stop.is_set() and not grabber.stats.error:
        job.finish()
    files = progress.summary(grabber.failed) if progress else []
    return CameraResult(camera.id, grabber.stats, pipeline.stats, stop.is_set(), files)


def log_files(result: CameraResult) -> None:
    """A footage set's table of files, once the camera (all its parts) has ended."""
    if len(result.files) > 1:
        log.info("%s", summary_table(result.camera_id, result.files))


def write_summary(path: Path, results: list[CameraResult]) -> None:
    cameras = [
        {
            "camera_id": r.camera_id,
            "exit_code": r.exit_code,
            "summary": r.summary(),
            "source": asdict(r.source),
            "events": r.pipeline.events,
            "frames_processed": r.pipeline.frames,
            "files": r.files,
        }
        for r in results
    ]
    path.write_text(json.dumps({"cameras": cameras}, indent=1) + "\n", encoding="utf-8")


def stop_on_signals(stop: threading.Event, doing: str = "flushing open tracks and stopping") -> None:
    """SIGINT/SIGTERM set `stop` so the pipeline flushes its tracks and sockets close cleanly; `doing` is what
    the log says happens next."""

    def handler(signum, _frame):
        log.warning("received %s: %s", signal.Signals(signum).name, doing)
        stop.set()

    signal.signal(signal.SIGINT, handler)
    signal.signal(signal.SIGTERM, handler)


def run(cfg: Config, summary: Path | None = None, parts: int = 1) -> dict[str, int]:
    """Run every camera of `cfg` until their sources end or a signal stops them; exit code per camera.

    `summary`: write the run's figures there as JSON (one camera: each replayed file's too); `parts`: read
    the one camera's recording as that many parts at once (stream.parts)."""
    stop = threading.Event()
    stop_on_signals(stop)
    sinks = Sinks(cfg)
    page = None
    try:
        if cfg.serve.enabled:
            from web.server import BackgroundServer, make_server

            page = BackgroundServer(
                make_server(cfg.store.folder, cfg.serve.bind, cfg.publish.endpoint, cfg.serve.token)
            )
            log.info("web page on http://%s/", cfg.serve.bind)
        if len(cfg.cameras) > 1 and not cfg.inference.shared:
            codes = Supervisor(cfg, sinks).run(stop)
            if summary:
                cameras = [{"camera_id": c, "exit_code": x} for c, x in codes.items()]
                summary.write_text(json.dumps({"cameras": cameras}))
            return codes
        if len(cfg.cameras) > 1:
            results = run_cameras_shared(cfg, sinks.send, stop)
        elif parts > 1:
            from stream.parts import run_parts

            results = [run_parts(cfg, cfg.cameras[0], sinks.send, stop, parts)]
            log.info("camera %s: %s (%d parts)", results[0].camera_id, results[0].summary(), parts)
        else:
            results = [run_camera(cfg, cfg.cameras[0], sinks.send, stop)]
            log.info("camera %s: %s", results[0].camera_id, results[0].summary())
        if summary:
            write_summary(summary, results)
        for result in results:
            log_files(result)
        return {result.camera_id: result.exit_code for result in results}
    finally:
        if page:
            page.close()
        sinks.close()


RESTART_BACKOFF_MAX_S = 30.0  # the longest wait before a failed camera starts again


def restart_delay(restarts: int, most: float) -> float:
    """Seconds before a camera's `restarts`-th start after a failure: 0.5 s, doubling, at most `most`."""
    return min(most, 0.5 * 2 ** (restarts - 1))


def restart_health(camera_id: str, restarts: int) -> dict:
    """The health message saying a failed camera starts again (its worker process, or its thread)."""
    return {"camera_id": camera_id, "state": "worker_restart", "restarts": restarts, "time": time.time()}


def run_cameras_shared(
    cfg: Config, send: Send, stop: threading.Event, models: tuple | None = None
) -> list[CameraResult]:
    """Every camera of `cfg` in a thread of this process, their detection and reading batched by one
    inference service (stream.inference). `models`: (detector, reader) to share instead of loading them."""
    return run_shared(cfg, [(camera, send) for camera in cfg.cameras], stop, models)


def run_shared(
    cfg: Config, runs: list[tuple[CameraSection, Send]], stop: threading.Event, models: tuple | None = None
) -> list[CameraResult]:
    """Each (camera, where its messages go) in a thread of its own, around one inference service."""
    from stream.inference import InferenceService

    detector, reader = models or build_models(cfg)
    service = InferenceService(detector, reader, cfg.inference.max_batch, cfg.inference.workers)
    lock = threading.Lock()  # the sinks are written from every camera's thread
    results: list[CameraResult | None] = [None] * len(runs)

    def camera_thread(n: int, camera: CameraSection, send: Send) -> None:
        def locked_send(kind: str, camera_id: str, payload: dict, jpeg: bytes, snapshot: bytes = b"") -> None:
            with lock:
                send(kind, camera_id, payload, jpeg, snapshot)

        client = service.client(camera.id)
        restarts = 0
        while True:
            try:
                result = run_camera(cfg, camera, locked_send, stop, models=(client, client))
                break
            except Exception as err:  # this camera's failure; the others go on
                log.exception("camera %s failed", camera.id)
                result = CameraResult(camera.id, SourceStats(error=str(err)), PipelineStats(), stop.is_set())
                if stop.is_set() or _spec(camera.source).replay:
                    break  # a replay started over would publish its events twice
                restarts += 1  # a live camera starts again, as the process design restarts its worker
                delay = restart_delay(restarts, RESTART_BACKOFF_MAX_S)
                log.error("camera %s: restarting in %.1fs", camera.id, delay)
                locked_send("health", camera.id, restart_health(camera.id, restarts), b"")
                if stop.wait(delay):
                    break
        log.info("camera %s: %s", camera.id, result.summary())
        results[n] = result

    threads = [
        threading.Thread(target=camera_thread, args=(n, camera, send), name=f"camera-{camera.id}")
        for n, (camera, send) in enumerate(runs)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    service.close()
    stats = service.stats
    log.info(
        "shared inference: %d batches for %d requests (largest %d)",
        stats.batches,
        sum(stats.requests.values()),
        stats.largest_batch,
    )
    return [result for result in results if result is not None]


# -- several cameras: one worker process each ----------------------------------------------

WORKER_EXIT_BASE = 10  # a worker that ends normally exits with this + its camera's exit code


def die_with_parent(parent_pid: int) -> None:
    """SIGTERM this process when its parent dies, however it dies (kill -9 included), so no worker is orphaned.

    Linux's PR_SET_PDEATHSIG does it; a thread watching the parent id covers the race where the
    parent died before the call, and systems without prctl.
    """
    try:
        import ctypes

        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGTERM)  # 1 = PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass

    def watch() -> None:
        while os.getppid() == parent_pid:
            time.sleep(0.5)
        os.kill(os.getpid(), signal.SIGTERM)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


def _spec(source: str) -> SourceSpec:
    """What kind of source this is; an unknown kind where it cannot be told (the camera says why when it opens it)."""
    try:
        return classify(source)
    except SourceError:
        return SourceSpec(source, "unknown")


def _worker(
    cfg: Config, camera: CameraSection, endpoint: str, parent_pid: int, resume: tuple[str, list[str]] | None
) -> None:
    """One camera's process. `resume`: (the supervisor's job folder, the events it has received), for a replay."""
    logging.basicConfig(
        level=logging.INFO,
        stream=sys.stderr,
        format=f"%(asctime)s %(levelname)s camera {camera.id}: %(name)s: %(message)s",
    )
    stop = threading.Event()
    stop_on_signals(stop)
    die_with_parent(parent_pid)
    socket: zmq.Socket = zmq.Context.instance().socket(zmq.PUSH)
    socket.setsockopt(zmq.LINGER, 2000)
    socket.connect(endpoint)

    lock = threading.Lock()  # health comes from the grabber's threads, plates from the pipeline's: one socket

    def send(kind: str, cam: str, payload: dict, jpeg: bytes, snapshot: bytes = b"") -> None:
        with lock:
            socket.send_multipart([kind.encode(), cam.encode(), encode_event(payload), jpeg, snapshot])

    job = None
    if resume:
        folder, received = resume
        job = Job(f"worker-{camera.id}", folder, camera.source, camera.id, published=received)
    try:
        result = run_camera(cfg, camera, send, stop, job=job)
        log_files(result)
        code = result.exit_code
    finally:
        socket.close()
    sys.exit(WORKER_EXIT_BASE + code)


class Supervisor:
    """Starts a worker per camera, forwards their messages to the sinks, restarts the ones that die."""

    def __init__(self, cfg: Config, sinks: Sinks, restart_backoff_max_s: float = RESTART_BACKOFF_MAX_S) -> None:
        self.cfg, self.sinks, self.backoff_max = cfg, sinks, restart_backoff_max_s
        self.socket_dir = tempfile.mkdtemp(prefix="lpr-")  # private (mode 700), removed when run() ends
        self.endpoint = f"ipc://{self.socket_dir}/workers.ipc"
        self.ctx = mp.get_context("spawn")
        self.restarts: dict[str, int] = {c.id: 0 for c in cfg.cameras}
        # replays without a job of their own: a restarted worker resumes (stream.jobs) instead of starting over, and
        # skips the events this process has received (a killed worker's own record may list ones that never left it)
        self.received: dict[str, set[str]] = {c.id: set() for c in cfg.cameras if not c.job and _spec(c.source).replay}

    def _start(self, camera: CameraSection):
        resume = (self.socket_dir, sorted(self.received[camera.id])) if camera.id in self.received else None
        process = self.ctx.Process(
            target=_worker,
            args=(self.cfg, camera, self.endpoint, os.getpid(), resume),
            name=f"camera-{camera.id}",
            daemon=True,
        )
        process.start()
        return process

    def run(self, stop: threading.Event) -> dict[str, int]:
        """Exit code of every camera once all have ended (or `stop` was set)."""
        pull: zmq.Socket = zmq.Context.instance().socket(zmq.PULL)
        pull.bind(self.endpoint)
        workers = {c.id: self._start(c) for c in self.cfg.cameras}
        cameras = {c.id: c for c in self.cfg.cameras}
        finished: dict[str, int] = {}
        restart_at: dict[str, float] = {}
        stopping = False
        try:
            while len(finished) < len(cameras):
                if stop.is_set() and not stopping:
                    stopping = True
                    for p in workers.values():
                        if p.is_alive():
                            p.terminate()  # SIGTERM: the worker flushes its tracks
                self._forward(pull, timeout_ms=200)
                for cam, process in workers.items():
                    if cam in finished or process.is_alive():
                        continue
                    code = process.exitcode
                    if code is not None and WORKER_EXIT_BASE <= code <= WORKER_EXIT_BASE + EXIT_PARTIAL:
                        finished[cam] = code - WORKER_EXIT_BASE
                    elif stop.is_set():
                        finished[cam] = EXIT_OK
                    elif cam not in restart_at:
                        self.restarts[cam] += 1
                        delay = restart_delay(self.restarts[cam], self.backoff_max)
                        log.error("camera %s: worker died (exit %s); restarting in %.1fs", cam, process.exitcode, delay)
                        self.sinks.send("health", cam, restart_health(cam, self.restarts[cam]), b"")
                        restart_at[cam] = time.monotonic() + delay
                    elif time.monotonic() >= restart_at[cam]:
                        del restart_at[cam]
                        workers[cam] = self._start(cameras[cam])
            self._forward(pull, timeout_ms=100)
        finally:
            for p in workers.values():
                p.join(timeout=5)
            pull.close(0)
            shutil.rmtree(self.socket_dir, ignore_errors=True)
        return {cam: finished.get(cam, EXIT_FAILED) for cam in cameras}

    def _forward(self, pull: zmq.Socket, timeout_ms: int) -> None:
        while pull.poll(timeout_ms):
            kind, cam, payload, jpeg, snapshot = pull.recv_multipart()
            message = decode_event(payload) if kind == b"plate" else json.loads(payload)
            if kind == b"plate" and cam.decode() in self.received:
                self.received[cam.decode()].add(identity(message))
            self.sinks.send(kind.decode(), cam.decode(), message, jpeg, snapshot)
            timeout_ms = 0
