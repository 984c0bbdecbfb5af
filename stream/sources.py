"""Frame sources: video files, network streams, webcams, images and folders of images.

A `FrameGrabber` decodes in its own thread into a bounded queue. Live sources keep only
the newest frames (dropped ones are counted) and are reopened with capped exponential
backoff when they fail; files are replayed frame by frame at the consumer's pace, or at
their own pace with `realtime`.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import av
import cv2
import numpy as np

from stream.frames import Frame
from stream.recording_time import RecordingClock, recording_clock

log = logging.getLogger(__name__)
IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff"}
NETWORK_PREFIXES = ("rtsp://", "rtsps://", "rtmp://", "http://", "https://", "udp://", "tcp://", "srt://")


class SourceError(RuntimeError):
    """A source that cannot be opened or read at all; the message says which and why."""


class StreamStalled(SourceError):
    """A live source that stays open but sends nothing for longer than the read timeout."""


@dataclass(frozen=True)
class SourceSpec:
    """What a source string names, and how to open it."""

    url: str
    kind: str  # "file", "stream", "webcam", "image", "folder"

    @property
    def live(self) -> bool:
        return self.kind in ("stream", "webcam")


def classify(source: str) -> SourceSpec:
    """Tell a file, URL, webcam (device path or index), image or folder apart; missing paths are errors."""
    if source.isdigit():
        return SourceSpec(f"/dev/video{source}", "webcam")
    if source.startswith("/dev/video"):
        return SourceSpec(source, "webcam")
    if "://" in source:
        return SourceSpec(source, "stream" if source.startswith(NETWORK_PREFIXES) else "file")
    path = Path(source)
    if path.is_dir():
        return SourceSpec(source, "folder")
    if not path.exists():
        raise SourceError(f"source not found: {source}")
    if path.suffix.lower() in IMAGE_SUFFIXES:
        return SourceSpec(source, "image")
    return SourceSpec(source, "file")


def upright(image: np.ndarray, rotation: float) -> np.ndarray:
    """Apply a video's display rotation (degrees counterclockwise, as phones record it)."""
    quarter_turns = round(rotation / 90) % 4
    return np.ascontiguousarray(np.rot90(image, quarter_turns)) if quarter_turns else image


@dataclass
class SourceStats:
    decoded: int = 0
    dropped: int = 0  # live frames dropped to stay real time
    corrupt: int = 0  # packets or images that failed to decode
    reconnects: int = 0
    stalls: int = 0  # times a live source went silent past the read timeout
    gaps: list[float] = field(default_factory=list)  # seconds without frames, one per reconnect
    error: str | None = None  # why the source ended early, if it did


@dataclass(frozen=True)
class GrabberOptions:
    queue_size: int = 8
    stride: int = 1
    realtime: bool = False
    open_timeout_s: float = 10.0
    read_timeout_s: float = 10.0
    rtsp_transport: str = "tcp"
    backoff_initial_s: float = 0.5
    backoff_max_s: float = 30.0
    max_reconnects: int | None = None  # None: retry live sources forever
    give_up_after_s: float = 0.0  # live sources: give up after this long without frames (0: never)
    start_time: str = ""  # files: recording time at pts 0 (ISO-8601), see stream.recording_time
    time_pattern: str = ""  # files: strptime pattern for the time in the file name
    time_zone: str = "UTC"  # for times given without an offset
    health_every_s: float = 5.0  # a `streaming` health message this often while frames flow, with the counters


_END = object()


class FrameGrabber:
    """Decode one source in a background thread; iterate to receive `Frame`s until it ends."""

    def __init__(
        self,
        source: str,
        camera_id: str,
        options: GrabberOptions | None = None,
        on_health: Callable[[str, SourceStats], None] | None = None,
    ) -> None:
        self.spec = classify(source)
        self.camera_id = camera_id
        self.options = options or GrabberOptions()
        self.stats = SourceStats()
        self.on_health = on_health or (lambda state, stats: None)
        self._queue: queue.Queue = queue.Queue(maxsize=self.options.queue_size)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"grabber-{camera_id}", daemon=True)
        self._index = 0
        self._gap_start: float | None = None  # when a live source was lost

    def __iter__(self) -> Iterator[Frame]:
        if self._stop.is_set():
            return  # stopped before it started
        self._thread.start()
        while True:
            try:
                item = self._queue.get(timeout=0.2)
            except queue.Empty:
                # stop() drains the queue to unblock the producer, and may take its end marker with it
                if self._stop.is_set() and not self._thread.is_alive():
                    return
                continue
            if item is _END:
                return
            yield item

    def stop(self) -> None:
        self._stop.set()
        while True:  # unblock a producer waiting on a full queue
            try:
                self._queue.get_nowait()
            except queue.Empty:
                break
        if self._thread.is_alive():
            self._thread.join(timeout=self.options.read_timeout_s + 2)

    # -- producer side ------------------------------------------------------------------
    def _run(self) -> None:
        try:
            if self.spec.kind == "image":
                self._emit_images([Path(self.spec.url)])
            elif self.spec.kind == "folder":
                self._emit_images(
                    sorted(p for p in Path(self.spec.url).iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
                )
            elif self.spec.live:
                self._run_live()
            else:
                self._decode_container()
        except SourceError as err:
            self.stats.error = str(err)
        except Exception as err:  # noqa: BLE001 - the thread must always end the stream
            log.exception("camera %s: grabber failed", self.camera_id)
            self.stats.error = f"{type(err).__name__}: {err}"
        finally:
            self._put(_END)

    def _run_live(self) -> None:
        backoff = self.options.backoff_initial_s
        while not self._stop.is_set():
            try:
                self.on_health("connecting" if self.stats.reconnects == 0 else "reconnecting", self.stats)
                decoded_before = self.stats.decoded
                self._decode_container()
                if self.stats.decoded > decoded_before:
                    backoff = self.options.backoff_initial_s
                reason = "stream ended"
            except StreamStalled as err:
                self.stats.stalls += 1
                self.on_health("stalled", self.stats)
                reason = str(err)
            except SourceError as err:
                reason = str(err)
            if self._stop.is_set():
                return
            self._gap_start = self._gap_start or time.time()
            if self.options.max_reconnects is not None and self.stats.reconnects >= self.options.max_reconnects:
                raise SourceError(f"{self.spec.url}: gave up after {self.stats.reconnects} reconnects ({reason})")
            waited = time.time() - self._gap_start
            if self.options.give_up_after_s and waited >= self.options.give_up_after_s:
                raise SourceError(
                    f"{self.spec.url}: gave up after {waited:.0f}s without frames, "
                    f"{self.stats.reconnects} reconnects (give_up_after_s); last error: {reason}"
                )
            log.warning("camera %s: %s; reconnecting in %.1fs", self.camera_id, reason, backoff)
            self.on_health("reconnecting", self.stats)
            self._stop.wait(backoff)
            backoff = min(backoff * 2, self.options.backoff_max_s)
            self.stats.reconnects += 1

    def _open(self) -> av.container.InputContainer:
        options: dict[str, str] = {}
        kwargs: dict = {"timeout": (self.options.open_timeout_s, self.options.read_timeout_s)}
        if self.spec.url.startswith(("rtsp://", "rtsps://")):
            options["rtsp_transport"] = self.options.rtsp_transport
        if self.spec.kind == "webcam":
            kwargs["format"] = "v4l2"
        try:
            container = av.open(self.spec.url, options=options, **kwargs)
        except (av.error.FFmpegError, OSError) as err:
            raise SourceError(f"cannot open {self.spec.url}: {err}") from None
        if not container.streams.video:
            container.close()
            raise SourceError(f"{self.spec.url} has no video stream")
        return container

    def _decode_container(self) -> None:
        container = self._open()
        try:
            stream = container.streams.video[0]
            stream.thread_count = 1  # the detector needs the other core more than the decoder
            started, first_pts, last_health = time.monotonic(), None, time.monotonic()
            clock = RecordingClock(None, "processing")
            if not self.spec.live:
                o = self.options
                clock = recording_clock(
                    self.spec.url, dict(container.metadata), o.start_time, o.time_pattern, o.time_zone
                )
            start, base = stream.start_time, stream.time_base
            origin = float(start * base) if start is not None and base is not None else 0.0  # pts of the first frame
            for packet in self._packets(container, stream):
                try:
                    frames = packet.decode()
                except av.error.InvalidDataError:
                    self.stats.corrupt += 1
                    continue
                for av_frame in frames:
                    if self._stop.is_set():
                        return
                    pts = float(av_frame.pts * stream.time_base) if av_frame.pts is not None else None
                    if self._gap_start is not None:
                        self.stats.gaps.append(time.time() - self._gap_start)
                        self._gap_start = None
                        log.warning("camera %s: stream back after %.1fs gap", self.camera_id, self.stats.gaps[-1])
                        self.on_health("connected", self.stats)
                    elif self.stats.decoded == 0:
                        self.on_health("connected", self.stats)
                        last_health = time.monotonic()
                    elif time.monotonic() - last_health >= self.options.health_every_s:
                        self.on_health("streaming", self.stats)  # the counters, for frame rates and drops
                        last_health = time.monotonic()
                    if self.options.realtime and not self.spec.live and pts is not None:
                        first_pts = pts if first_pts is None else first_pts
                        delay = (pts - first_pts) - (time.monotonic() - started)
                        if delay > 0:
                            self._stop.wait(delay)
                    recorded = clock.at(pts - origin, 0.0) if clock.start is not None and pts is not None else None
                    image = upright(av_frame.to_ndarray(format="bgr24"), av_frame.rotation)
                    self._emit(image, pts, recorded, clock.source)
        finally:
            container.close()

    def _packets(self, container, stream) -> Iterator:
        demux = container.demux(stream)
        while True:
            try:
                packet = next(demux)
            except StopIteration:
                return
            except av.error.InvalidDataError:
                self.stats.corrupt += 1
                continue
            except av.error.ExitError:  # FFmpeg's interrupt: the read timeout expired
                raise StreamStalled(
                    f"{self.spec.url}: no data for {self.options.read_timeout_s:g}s (stalled)"
                ) from None
            except (av.error.FFmpegError, OSError) as err:
                raise SourceError(f"{self.spec.url}: read failed: {err}") from None
            yield packet  # the last, empty packet flushes the decoder's buffered frames

    def _emit_images(self, paths: list[Path]) -> None:
        for path in paths:
            if self._stop.is_set():
                return
            image = cv2.imread(str(path), cv2.IMREAD_COLOR)
            if image is None:
                self.stats.corrupt += 1
                log.warning("camera %s: cannot decode image %s", self.camera_id, path)
                continue
            self._emit(image, None)
        if self.stats.decoded == 0:
            raise SourceError(f"no readable image in {self.spec.url}")

    def _emit(
        self, image: np.ndarray, pts: float | None, recorded: float | None = None, time_source: str = "processing"
    ) -> None:
        index = self._index
        self._index += 1
        self.stats.decoded += 1
        if index % self.options.stride:
            return
        self._put(Frame(self.camera_id, index, pts, time.time(), image, self.spec.live, recorded, time_source))

    def _put(self, item) -> None:
        """Files wait for the consumer; live sources (and a stopping grabber) drop the oldest frame."""
        while not (self.spec.live or self._stop.is_set()):
            try:
                self._queue.put(item, timeout=0.1)
                return
            except queue.Full:
                continue
        while True:
            try:
                self._queue.put_nowait(item)
                return
            except queue.Full:
                try:
                    if self._queue.get_nowait() is not _END:
                        self.stats.dropped += 1
                except queue.Empty:
                    pass
