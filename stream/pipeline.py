"""One camera's pipeline: frames -> plates -> tracks -> best crops read -> voted events."""

from __future__ import annotations

import logging
import time
from collections import defaultdict, deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from typing import Protocol

import cv2
import numpy as np

from lpr_models.detection import Detection
from lpr_models.ocr.reader import Reading
from stream.config import EventOptions
from stream.direction import CountingLine, crossings, motion_direction
from stream.events import SCHEMA_VERSION, utc_iso
from stream.frame_rate import FrameRateCheck
from stream.frames import Frame
from stream.gating import DetectionGate
from stream.snapshot import SnapshotOptions, snapshot_jpeg, snapshot_name
from stream.track_state import TrackState
from stream.tracking import PlateTracker
from stream.voting import Vote

log = logging.getLogger(__name__)


class Detector(Protocol):
    def detect(self, frame: np.ndarray) -> list[Detection]: ...


class Reader(Protocol):
    def crop(self, image: np.ndarray, corners: np.ndarray) -> np.ndarray: ...

    def read(self, plates: list[np.ndarray]) -> list[Reading]: ...


@dataclass
class PipelineStats:
    frames: int = 0
    detections: int = 0
    events: int = 0
    dropped_tracks: int = 0  # tracks seen in fewer than min_frames frames: noise, no event
    skipped: int = 0  # frames the detector did not see (stream.gating: motion gate, detection rate)
    stage_ms: dict[str, deque] = field(default_factory=lambda: defaultdict(lambda: deque(maxlen=10_000)))  # recent laps


class EventCallback(Protocol):
    """Receives each event, its plate crop (JPEG) and, when snapshots are on, the vehicle's snapshot (JPEG)."""

    def __call__(self, event: dict, jpeg: bytes, snapshot: bytes = b"", /) -> None: ...


FrameCallback = Callable[[Frame, list[tuple[int, Detection, str]]], None]


class CameraPipeline:
    def __init__(
        self,
        camera_id: str,
        detector: Detector,
        reader: Reader,
        emit: EventCallback,
        tracker: PlateTracker | None = None,
        options: EventOptions | None = None,
        on_frame: FrameCallback | None = None,
        still_images: bool = False,
        lines: tuple[CountingLine, ...] = (),
        snapshot: SnapshotOptions | None = None,
        gate: DetectionGate | None = None,
    ) -> None:
        """`still_images`: every frame is an unrelated photo, so each plate is its own one-frame track;
        `lines`: counting lines whose crossings each event reports; `gate`: which frames, and which part of
        them, the detector sees (every frame, whole, by default)."""
        self.camera_id, self.detector, self.reader, self.emit = camera_id, detector, reader, emit
        self.tracker = tracker or PlateTracker()
        self.options = options or EventOptions()
        self.on_frame = on_frame
        self.still_images = still_images
        self.lines = lines
        self.snapshot = snapshot
        self.gate = gate or DetectionGate()
        if still_images:
            self.options = replace(self.options, min_frames=1)
        self.tracks: dict[int, TrackState] = {}
        self.stats = PipelineStats()
        self.rate_check = FrameRateCheck(camera_id, self.options.min_frames)

    def run(self, frames: Iterable[Frame]) -> PipelineStats:
        """Process every frame, then flush the tracks still open."""
        try:
            for frame in frames:
                self.process(frame)
        finally:
            self.flush("flush")
        return self.stats

    def process(self, frame: Frame) -> None:
        if frame.cut:  # a gap in the recording: what was in view before it has left
            self.flush("gap")
            self.tracker.reset()
        if not self.still_images:
            self.rate_check.see(_time_of(frame), frame.cut)
        timer = _Timer(self.stats.stage_ms)
        if not self.still_images and not self.gate.should_detect(frame, [s.frames_seen for s in self.tracks.values()]):
            self.stats.skipped += 1
            self.stats.frames += 1
            self._publish_confident(frame)
            if self.on_frame:
                self.on_frame(frame, [])
            return
        region, offset = self.gate.region(frame.image)
        detections = self.gate.keep(self.detector.detect(region), offset)
        timer.lap("detect")
        plates = [self.reader.crop(frame.image, d.corners) for d in detections]
        timer.lap("rectify")
        update = self.tracker.update(detections, plates)
        timer.lap("track")
        for track_id, detection, plate in update.seen:
            state = self.tracks.get(track_id)
            if state is None:
                state = self.tracks[track_id] = TrackState(
                    track_id, frame, frame, self.options.best_crops, keep_frame=self.snapshot is not None
                )
            state.observe(frame, detection, plate)
        self._read_pending()
        timer.lap("ocr")
        for track_id in update.ended_ids:
            state = self.tracks.pop(track_id, None)
            if state is not None and not state.published:
                self._publish(state, "ended")
        self._publish_confident(frame)
        timer.lap("publish")
        self.stats.frames += 1
        self.stats.detections += len(detections)
        if self.on_frame:
            votes = {tid: s.vote() for tid, s in self.tracks.items()}
            labels = {tid: v.text for tid, v in votes.items() if v}
            self.on_frame(frame, [(tid, det, labels.get(tid, "")) for tid, det, _ in update.seen])
        if self.still_images:
            self.flush("image")
            self.tracker.reset()

    def _publish_confident(self, frame: Frame) -> None:
        """Publish the tracks in view long enough and read surely enough, without waiting for them to end."""
        now = _time_of(frame)
        for state in self.tracks.values():
            if state.published or state.frames_seen < self.options.min_frames:
                continue  # not yet a track: _publish would count it as noise
            if now - _time_of(state.first) >= self.options.publish_after_s:
                result = state.vote()
                if result and result.confidence >= self.options.min_confidence:
                    self._publish(state, "confident")

    def flush(self, reason: str) -> None:
        """Publish every open track that has not been published (end of stream, shutdown)."""
        self._read_pending(limit=None)
        for state in list(self.tracks.values()):
            if not state.published:
                self._publish(state, reason)
        self.tracks.clear()

    def _read_pending(self, limit: int | None = -1) -> None:
        limit = self.options.max_reads_per_frame if limit == -1 else limit
        # a track's first reading before another's next one, then the better crops
        pending = [(s.readings_made, -c.quality, c) for s in self.tracks.values() for c in s.unread()]
        pending.sort(key=lambda p: p[:2])
        crops = [c for *_, c in pending][:limit]
        if crops:
            for crop, reading in zip(crops, self.reader.read([c.plate for c in crops])):
                crop.reading = reading
            for state in self.tracks.values():
                state.readings_made = sum(c.reading is not None for c in state.crops)

    def _publish(self, state: TrackState, reason: str) -> None:
        """One event for the track: every track seen `min_frames` times is reported, readable or not."""
        if state.frames_seen < self.options.min_frames:
            self.stats.dropped_tracks += 1
            return
        result = state.vote() or Vote("", 0.0, (), ())
        readable = (
            len(result.text) >= self.options.min_text_chars and result.confidence >= self.options.min_event_confidence
        )
        state.published = True
        best = state.best_crop()
        first_box, last_box = state.first_box, state.last_box
        assert first_box is not None and last_box is not None  # set by the track's first observation
        event = {
            "schema_version": SCHEMA_VERSION,
            "type": "plate",
            "camera_id": self.camera_id,
            "track_id": state.track_id,
            "text": result.text,
            "confidence": result.confidence,
            "char_confidences": list(result.char_confidences),
            "candidates": [{"text": t, "share": s} for t, s in result.candidates],
            "first_seen": _stamp(state.first),
            "last_seen": _stamp(state.last),
            "frames_seen": state.frames_seen,
            "frames_read": state.readings_made,
            "box": [round(float(v), 1) for v in best.detection.box],
            "corners": [[round(float(x), 1), round(float(y), 1)] for x, y in best.detection.corners],
            "detection_score": round(best.detection.score, 4),
            "reason": reason,
            "region": result.region,
            "format_valid": result.format_valid,
            "readable": readable,
            "time_source": state.first.time_source,
            "direction": motion_direction(first_box, last_box),
            "crossed": crossings(first_box, last_box, self.lines),
        }
        ok, jpeg = cv2.imencode(".jpg", best.plate, [cv2.IMWRITE_JPEG_QUALITY, 90])
        self.stats.events += 1
        if self.snapshot is not None and state.best_frame is not None:
            event["snapshot"] = snapshot_name(event)
            picture = snapshot_jpeg(state.best_frame, best.detection, result.text, self.snapshot)
            self.emit(event, jpeg.tobytes() if ok else b"", picture)
        else:
            self.emit(event, jpeg.tobytes() if ok else b"")


def _time_of(frame: Frame) -> float:
    """Video time for files (replayed at any speed), wall time for live sources."""
    return frame.pts if frame.pts is not None and not frame.live else frame.wall_time


def _stamp(frame: Frame) -> dict:
    return {"frame": frame.index, "pts": frame.pts, "utc": utc_iso(frame.utc)}


class _Timer:
    def __init__(self, sink: dict[str, deque]) -> None:
        self.sink, self.last = sink, time.perf_counter()

    def lap(self, stage: str) -> None:
        now = time.perf_counter()
        self.sink[stage].append((now - self.last) * 1000)
        self.last = now
