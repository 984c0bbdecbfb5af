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

from stream.errors import SourceError, StreamStalled
from stream.footage import FootageError, FootageFile, footage_paths, parse_position, plan
from stream.frames import Frame, VideoPicture
from stream.recording_time import RecordingClock, recording_clock

log = logging.getLogger(__name__)
IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff"}
NETWORK_PREFIXES = ("rtsp://", "rtsps://", "rtmp://", "http://", "https://", "udp://", "tcp://", "srt://")


@dataclass(frozen=True)
class SourceSpec:
    """What a source string names, and how to open it."""

    url: str
    kind: str  # "file", "footage" (a folder of videos, a glob, a list file: stream.footage), "stream", "webcam",
    # "image", "folder" (of images)

    @property
    def live(self) -> bool:
        return self.kind in ("stream", "webcam")

    @property
    def still(self) -> bool:
        """Photos: a single image or a folder of them."""
        return self.kind in ("image", "folder")

    @property
    def replay(self) -> bool:
        """A recording read from its start to its end: a file or a footage set."""
        return self.kind in ("file", "footage")


def classify(source: str) -> SourceSpec:
    """Tell a file, URL, webcam (device path or index), image or folder apart; missing paths are errors."""
    if source.isdigit():
        return SourceSpec(f"/dev/video{source}", "webcam")
    if source.startswith("/dev/video"):
        return SourceSpec(source, "webcam")
    if "://" in source:
        return SourceSpec(source, "stream" if source.startswith(NETWORK_PREFIXES) else "file")
    try:
        if footage_paths(source) is not None:
            return SourceSpec(source, "footage")
    except FootageError as err:
        raise SourceError(str(err)) from None
    path = Path(source)
    if path.is_dir():
        return SourceSpec(source, "folder")
    if not path.exists():
        raise SourceError(f"source not found: {source}")
    if path.suffix.lower() in IMAGE_SUFFIXES:
        return SourceSpec(source, "image")
    return SourceSpec(source, "file")


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
    queue_size: int = 25
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
    speed: float = 0.0  # files: replay at this many times real time (0: as fast as the consumer; realtime: 1)
    range_from: str = ""  # files: start here (an offset such as 90 or 1:30, or an ISO-8601 recording time)
    range_to: str = ""  # files: stop here (same forms)
    drop_when_behind: bool = False  # files: drop the oldest frames when the consumer falls behind, as a live camera


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
        self._gap_start: float | None = None  # when a live source was lost: its last frame's time
        self._last_frame_at: float | None = None  # wall time of the last frame of a live source
        self._stall_reported = False
        self.footage: list[FootageFile] = []  # a footage set's files, in recording order
        self.failed: list[str] = []  # those that could not be read
        self.bounds = (0.0, float("inf"))  # the range to read, in seconds of the recording (set before the 1st frame)
        self._pace: tuple[float, float] | None = None  # (monotonic time, recording position) replay pacing starts at

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
            elif self.spec.kind == "footage":
                self._decode_footage()
            else:
                self._decode_container()
        except SourceError as err:
            self.stats.error = str(err)
        except Exception as err:  # noqa: BLE001 - the thread must always end the stream
            log.exception("camera %s: grabber failed", self.camera_id)
            self.stats.error = f"{type(err).__name__}: {err}"
        finally:
            self._put(_END)

    def _watch_for_stalls(self) -> None:
        """Say `stalled` once a live source has sent nothing for the read timeout, without waiting for FFmpeg
        (a frozen server can hold a read open well past its timeout)."""
        while not self._stop.wait(min(0.5, self.options.read_timeout_s / 4)):
            last = self._last_frame_at
            if last is not None and not self._stall_reported and time.time() - last > self.options.read_timeout_s:
                self._report_stall()

    def _report_stall(self) -> None:
        if not self._stall_reported:
            self._stall_reported = True
            self.stats.stalls += 1
            self.on_health("stalled", self.stats)

    def _run_live(self) -> None:
        threading.Thread(target=self._watch_for_stalls, name=f"stalls-{self.camera_id}", daemon=True).start()
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
                self._report_stall()
                reason = str(err)
            except SourceError as err:
                reason = str(err)
            if self._stop.is_set():
                return
            self._gap_start = self._gap_start or self._last_frame_at or time.time()  # the gap began with the last frame
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

    def check(self) -> None:
        """Open a file source once and close it: SourceError now, before anything slow starts, if it cannot be read.
        (Streams and webcams are opened, and retried, by the reading thread.)"""
        if self.spec.kind == "file":
            self._open(self.spec.url).close()

    def _open(self, url: str) -> av.container.InputContainer:
        options: dict[str, str] = {}
        kwargs: dict = {"timeout": (self.options.open_timeout_s, self.options.read_timeout_s)}
        if url.startswith(("rtsp://", "rtsps://")):
            options["rtsp_transport"] = self.options.rtsp_transport
        if self.spec.kind == "webcam":
            kwargs["format"] = "v4l2"
        try:
            container = av.open(url, options=options, **kwargs)
        except (av.error.FFmpegError, OSError) as err:
            raise SourceError(f"cannot open {url}: {err}") from None
        if not container.streams.video:
            container.close()
            raise SourceError(f"{url} has no video stream")
        return container

    def _range(self, start: float | None) -> tuple[float, float]:
        """The part to read, in seconds from the recording's start (`start`: its UNIX time, where known)."""
        o = self.options
        try:
            low = parse_position(o.range_from, start, o.time_zone) if o.range_from else 0.0
            high = parse_position(o.range_to, start, o.time_zone) if o.range_to else float("inf")
        except FootageError as err:
            raise SourceError(str(err)) from None
        if high <= low:
            raise SourceError(f"the range ends ({o.range_to}) before it starts ({o.range_from})")
        return low, high

    def _decode_footage(self) -> None:
        """Each file of the set in recording order, on one timeline; unreadable files are skipped and reported."""
        o = self.options
        try:
            self.footage, self.failed = plan(
                footage_paths(self.spec.url) or [], o.start_time, o.time_pattern, o.time_zone
            )
        except FootageError as err:
            raise SourceError(str(err)) from None
        for name in self.failed:
            log.warning("camera %s: %s cannot be opened; it is left out", self.camera_id, name)
        self.bounds = self._range(self.footage[0].clock.start)
        for entry in self.footage:
            low, high = self.bounds
            if self._stop.is_set() or entry.offset >= high:
                break
            if entry.duration and entry.offset + entry.duration <= low:
                continue  # wholly before the range: not even opened
            try:
                self._decode_container(entry)
            except SourceError as err:
                self.failed.append(entry.name)
                log.warning("camera %s: %s; going on with the next file", self.camera_id, err)
        if self.failed:
            total = len(self.footage) + len(set(self.failed) - {f.name for f in self.footage})
            self.stats.error = f"{len(self.failed)} of {total} files could not be read: {', '.join(self.failed[:5])}"

    def _decode_container(self, entry: FootageFile | None = None) -> None:
        """Decode the source (or one file of a footage set), within the range and at the replay speed asked."""
        container = self._open(str(entry.path) if entry else self.spec.url)
        try:
            stream = container.streams.video[0]
            stream.thread_count = 1  # the detector needs the other core more than the decoder
            last_health = time.monotonic()
            clock = RecordingClock(None, "processing")
            if entry:
                clock = entry.clock
            elif not self.spec.live:
                o = self.options
                clock = recording_clock(
                    self.spec.url, dict(container.metadata), o.start_time, o.time_pattern, o.time_zone
                )
                self.bounds = self._range(clock.start)
                duration = container.duration / av.time_base if container.duration else 0.0
                self.footage = [FootageFile(Path(self.spec.url), clock, duration)]
            start, base = stream.start_time, stream.time_base
            origin = float(start * base) if start is not None and base is not None else 0.0  # pts of the first frame
            offset = entry.offset if entry else 0.0  # where this file starts on the recording's timeline
            low, high = self.bounds
            if low > offset and not self.spec.live and base is not None:  # seek to the keyframe before the range
                container.seek(int((low - offset + origin) / base), stream=stream, backward=True, any_frame=False)
            speed = self.options.speed or (1.0 if self.options.realtime else 0.0)
            first = True
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
                    position = offset + pts - origin if pts is not None else None  # seconds into the recording
                    if position is not None and not self.spec.live:
                        if position >= high:
                            return
                        if position < low:  # between the keyframe sought and the range's start
                            self.stats.decoded += 1
                            continue
                    if self._gap_start is not None:
                        self.stats.gaps.append(time.time() - self._gap_start)
                        self._gap_start = None
                        log.warning("camera %s: stream back after %.1fs gap", self.camera_id, self.stats.gaps[-1])
                        self.on_health("connected", self.stats)
                    elif self._index == 0:  # the first frame out (those decoded before a range's start are not)
                        self.on_health("connected", self.stats)
                        last_health = time.monotonic()
                    elif time.monotonic() - last_health >= self.options.health_every_s:
                        self.on_health("streaming", self.stats)  # the counters, for frame rates and drops
                        last_health = time.monotonic()
                    if speed and not self.spec.live and position is not None:
                        self._pace = self._pace or (time.monotonic(), position)
                        delay = (position - self._pace[1]) / speed - (time.monotonic() - self._pace[0])
                        if delay > 0:
                            self._stop.wait(delay)
                    recorded = clock.at(pts - origin, 0.0) if clock.start is not None and pts is not None else None
                    cut = bool(entry and entry.cut and first)
                    self._emit(
                        VideoPicture(av_frame),
                        position if entry else pts,
                        recorded,
                        clock.source,
                        cut,
                        entry.name if entry else None,
                    )
                    first = False
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
        self,
        pixels: np.ndarray | VideoPicture,
        pts: float | None,
        recorded: float | None = None,
        time_source: str = "processing",
        cut: bool = False,
        file: str | None = None,
    ) -> None:
        index = self._index
        self._index += 1
        self.stats.decoded += 1
        if self.spec.live:
            self._last_frame_at, self._stall_reported = time.time(), False
        if index % self.options.stride and not cut:
            return
        self._put(
            Frame(self.camera_id, index, pts, time.time(), pixels, self.spec.live, recorded, time_source, cut, file)
        )

    def _put(self, item) -> None:
        """Files wait for the consumer; live sources (and a stopping grabber) drop the oldest frame."""
        while not (self.spec.live or self.options.drop_when_behind or self._stop.is_set()):
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
