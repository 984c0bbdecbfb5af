"""The run configuration: TOML read with tomllib, checked in full before anything starts.

Every section is a dataclass; unknown keys, wrong types, a missing source, duplicate
camera ids and malformed endpoints are reported in one message naming the file and key.
"""

from __future__ import annotations

import os
import re
import tomllib
import typing
from dataclasses import dataclass, field, fields, is_dataclass, replace
from pathlib import Path

from integrations.mqtt import MqttSection
from integrations.webhook import WebhookSpec
from lpr_models.backends import BACKENDS
from store.watchlist import WatchlistSpec
from stream.direction import CountingLine
from stream.gating import Zone
from stream.publish import DEFAULT_ENDPOINT
from stream.recording_time import parse_given, zone
from stream.security import is_loopback_endpoint


class ConfigError(ValueError):
    pass


@dataclass(frozen=True)
class EventOptions:
    best_crops: int = 5  # K best crops of a track that are read
    publish_after_s: float = 3.0  # a track confident this long is published before it ends
    min_confidence: float = 0.3  # confidence (calibrated: the chance the text is right) needed to publish early
    min_event_confidence: float = 0.15  # tracks read less surely are still published, marked readable: false
    min_text_chars: int = 3  # shorter readings too (clutter, a plate cut off; no plate format is shorter)
    min_frames: int = 5  # tracks seen fewer times are dropped as noise (clutter flickers for 2-4 frames)
    max_reads_per_frame: int = 8  # bounds the OCR work done for one frame


@dataclass(frozen=True)
class DetectorSection:
    weights: str = ""  # empty: the shipped weights
    input_size: tuple[int, int] = (640, 640)
    score_threshold: float = 0.35
    nms_iou: float = 0.5
    threads: int = 0  # torch threads per camera; 0 = torch's default
    backend: str = "auto"  # onnx (if onnxruntime is installed), jit, eager
    refine: bool = True  # re-estimate each plate's corners from a close-up (lpr_models.detector.refiner)
    refiner_weights: str = ""  # empty: the shipped weights
    coarse_pass: bool = False  # also detect at half size, for plates filling the frame
    fine_pass: bool = False  # also detect large frames at twice the size, for far plates
    photo_passes: bool = True  # photos get both passes whatever the two above say
    every_n_frames: int = 1  # while every open track is steady, detect on every Nth frame (young tracks: every one)
    motion_gate: bool = False  # with no track open, skip frames that barely differ from the last one detected on
    motion_threshold: float = 0.002  # share of a 64x36 grey thumbnail's pixels changing by 12+ levels that is motion


@dataclass(frozen=True)
class OcrSection:
    weights: str = ""
    backend: str = "auto"
    shifted_reads: bool = True  # also read each plate shifted and zoomed (reader.COPIES) and average (more read)
    second_looks: bool = True  # a doubtful plate again stretched or inverted, doubtful characters alone, past emblems
    stacked_characters: bool = True  # read a US plate's small stacked characters too (reader.read_stacked)


@dataclass(frozen=True)
class TrackingSection:
    distance_threshold: float = 1.0  # in plate widths
    hit_counter_max: int = 15  # frames a track survives unseen
    initialization_delay: int = 0


@dataclass(frozen=True)
class PublishSection:
    endpoint: str = DEFAULT_ENDPOINT
    connect: bool = False
    high_water_mark: int = 1000
    jsonl: str = ""  # also append events to this file
    video: str = ""  # write an annotated copy of the video here (single camera)
    allow_remote: bool = False  # binding beyond loopback must be asked for
    curve_secret_key: str = ""  # server .key_secret file (lpr keys): encrypt the bus with CURVE
    curve_clients_dir: str = ""  # only subscribers whose public .key is in this folder are let in
    curve_server_key: str = ""  # connect = true to a CURVE broker (lpr broker): its public .key file


@dataclass(frozen=True)
class StoreSection:
    enabled: bool = True  # keep every event in an SQLite store (lpr search, the web page)
    folder: str = "lpr-data"  # the store's folder: events.db, crops/, snapshots/
    max_age_days: float = 30.0  # drop events older than this; 0: keep them all
    max_size_mb: float = 10_000.0  # drop the oldest events past this size (database and files); 0: no limit


@dataclass(frozen=True)
class InferenceSection:
    shared: bool = False  # several cameras: one process, one detector and reader batching every camera's frames
    max_batch: int = 8  # requests (a camera's frame, or its plate crops) answered together
    workers: int = 2  # inference threads, each running whole batches (with [detector] threads = 1: one a core)


@dataclass(frozen=True)
class ServeSection:
    enabled: bool = False  # true: `lpr run` also serves the web page (lpr serve does it on its own)
    bind: str = "127.0.0.1:8080"  # HOST:PORT; beyond loopback a token is required
    token: str = ""  # required in every request when set: ?token=... once, or Authorization: Bearer ...


@dataclass(frozen=True)
class CameraSection:
    id: str
    source: str
    stride: int = 1
    realtime: bool = False
    speed: float = 0.0  # files: replay at this many times real time (0: as fast as possible; realtime = true is 1)
    replay_from: str = ""  # files: start here: an offset (90, 1:30, 00:01:30) or an ISO-8601 recording time
    replay_to: str = ""  # files: stop here (same forms)
    drop_when_behind: bool = False  # files: drop frames the pipeline cannot keep up with, as a live camera (benchmarks)
    job: str = ""  # files: a resumable job's name; a rerun continues where a killed one stopped (jobs/ in the store)
    queue_size: int = 25
    open_timeout_s: float = 10.0
    read_timeout_s: float = 10.0
    rtsp_transport: str = "tcp"
    backoff_max_s: float = 30.0
    line: tuple[CountingLine, ...] = ()  # [[camera.line]] counting lines: name, points = [[x, y], [x, y]]
    zone: tuple[Zone, ...] = ()  # [[camera.zone]] polygons (name, points = [[x, y], ...]): plates count inside only
    start_time: str = ""  # files: when the recording started (ISO-8601); else its metadata or file name
    time_pattern: str = ""  # files: strptime pattern of the time in the file name, e.g. "cam3_%Y%m%d_%H%M%S"
    time_zone: str = "UTC"  # the zone of times given without an offset (IANA name)
    give_up_after_s: float = 0.0  # live sources: stop after this long without frames (0: retry forever)
    snapshot: bool = False  # a JPEG of the whole frame at the best crop's moment with each event
    snapshot_width: int = 640  # its width in pixels (the height keeps the frame's aspect)
    snapshot_annotate: bool = True  # draw the plate's box and text on it
    host: str = ""  # a site-wide config: the machine that runs this camera (`lpr run --host NAME`)


@dataclass(frozen=True)
class Config:
    cameras: tuple[CameraSection, ...] = ()
    detector: DetectorSection = field(default_factory=DetectorSection)
    ocr: OcrSection = field(default_factory=OcrSection)
    tracking: TrackingSection = field(default_factory=TrackingSection)
    events: EventOptions = field(default_factory=EventOptions)
    publish: PublishSection = field(default_factory=PublishSection)
    store: StoreSection = field(default_factory=StoreSection)
    mqtt: MqttSection = field(default_factory=MqttSection)
    serve: ServeSection = field(default_factory=ServeSection)
    inference: InferenceSection = field(default_factory=InferenceSection)
    watchlist: tuple[WatchlistSpec, ...] = ()
    webhook: tuple[WebhookSpec, ...] = ()


SECTIONS = {
    "detector": DetectorSection,
    "ocr": OcrSection,
    "tracking": TrackingSection,
    "events": EventOptions,
    "publish": PublishSection,
    "store": StoreSection,
    "mqtt": MqttSection,
    "serve": ServeSection,
    "inference": InferenceSection,
}
ARRAYS = ("camera", "watchlist", "webhook")  # arrays of tables: [[camera]], [[watchlist]], [[webhook]]

# Every number's allowed range, with the reason when it is not obvious: (low, high, why). Types and
# meanings are the sections' own (above); nan and inf are refused everywhere.
RANGES: dict[str, tuple[float, float, str]] = {
    "detector.input_size": (32, 4096, "larger inputs need gigabytes of feature maps per frame"),
    "detector.score_threshold": (0, 1, "a probability"),
    "detector.nms_iou": (0, 1, "an overlap ratio"),
    "detector.threads": (0, 256, "0 means torch's default"),
    "detector.every_n_frames": (1, 100, ""),
    "detector.motion_threshold": (0, 1, "a share of the pixels"),
    "tracking.distance_threshold": (0.01, 100, "in plate widths"),
    "tracking.hit_counter_max": (1, 100_000, ""),
    "tracking.initialization_delay": (0, 10_000, ""),
    "events.best_crops": (1, 100, ""),
    "events.publish_after_s": (0, 86_400, ""),
    "events.min_confidence": (0, 1, "a probability"),
    "events.min_event_confidence": (0, 1, "a probability"),
    "events.min_text_chars": (1, 20, "characters"),
    "events.min_frames": (1, 1_000_000, ""),
    "events.max_reads_per_frame": (1, 1_000, ""),
    "inference.max_batch": (1, 64, ""),
    "inference.workers": (1, 64, ""),
    "publish.high_water_mark": (1, 10_000_000, "0 would mean an unbounded queue in ZeroMQ"),
    "camera.stride": (1, 100_000, ""),
    "camera.speed": (0, 1000, "0 means as fast as possible"),
    "camera.queue_size": (1, 100_000, ""),
    "camera.open_timeout_s": (0.01, 3_600, "0 or less would retry in a busy loop"),
    "camera.read_timeout_s": (0.01, 3_600, "0 or less would retry in a busy loop"),
    "camera.backoff_max_s": (0.01, 86_400, "0 or less would reconnect in a busy loop"),
    "camera.give_up_after_s": (0, 31_536_000, "0 means never"),
    "camera.snapshot_width": (32, 7680, ""),
    "store.max_age_days": (0, 36_500, "0 means forever"),
    "store.max_size_mb": (0, 1e9, "0 means no limit"),
    "watchlist.fuzzy": (0, 5, "a distance of 5 or more matches nearly any plate"),
    "mqtt.port": (1, 65_535, "a TCP port"),
    "mqtt.qos": (0, 2, "MQTT knows 0, 1 and 2"),
    "mqtt.max_queued": (1, 10_000_000, ""),
    "webhook.timeout_s": (0.1, 600, ""),
    "webhook.backoff_max_s": (0.5, 86_400, ""),
    "webhook.max_queue_mb": (0.01, 1e6, ""),
}
VIDEO_SUFFIXES = (".mp4", ".mkv", ".mov", ".avi")


def _check_ranges(section: object, name: str, where: str) -> None:
    for f in fields(section):  # type: ignore[arg-type]
        key = f"{name}.{f.name}"
        values = getattr(section, f.name)
        for value in values if isinstance(values, tuple) else (values,):
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                continue
            if value != value or value in (float("inf"), float("-inf")):
                raise ConfigError(f"{where}.{f.name}: {value} is not a finite number")
            if key in RANGES:
                low, high, why = RANGES[key]
                if not low <= value <= high:
                    raise ConfigError(
                        f"{where}.{f.name}: {value} is outside {low}..{high}" + (f" ({why})" if why else "")
                    )


NAME = re.compile(r"[\w.-]+")  # camera ids, job and webhook names: safe in topics and file names
ENDPOINT = re.compile(r"^(tcp://[^:/\s]+:(\d+|\*)|ipc://\S+|inproc://\S+)$")


def _check_value(value, kind, where: str):
    origin = typing.get_origin(kind)
    if is_dataclass(kind):  # a nested table ([[camera.line]])
        return _section(kind, value, where)
    if origin is dict:  # a table of one kind of value (webhook headers); TOML keys are strings
        value_kind = typing.get_args(kind)[1]
        if not isinstance(value, dict):
            raise ConfigError(f"{where}: expected a table, got {value!r}")
        return {k: _check_value(v, value_kind, f"{where}.{k}") for k, v in value.items()}
    if origin is tuple and typing.get_args(kind)[1:] == (Ellipsis,):  # any number of one kind
        if not isinstance(value, list):
            raise ConfigError(f"{where}: expected a list, got {value!r}")
        return tuple(_check_value(v, typing.get_args(kind)[0], f"{where}[{i}]") for i, v in enumerate(value))
    if origin is tuple:
        args = typing.get_args(kind)
        if not isinstance(value, list) or len(value) != len(args):
            raise ConfigError(f"{where}: expected a list of {len(args)} values, got {value!r}")
        return tuple(_check_value(v, a, f"{where}[{i}]") for i, (v, a) in enumerate(zip(value, args)))
    if kind is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise ConfigError(f"{where}: expected {kind.__name__}, got {type(value).__name__} {value!r}")
    return value


def _section(cls, table, where: str):
    if not isinstance(table, dict):
        raise ConfigError(f"{where}: expected a table")
    hints = typing.get_type_hints(cls)
    known = {f.name for f in fields(cls)}
    unknown = sorted(set(table) - known)
    if unknown:
        raise ConfigError(f"{where}: unknown key {unknown[0]!r} (known: {', '.join(sorted(known))})")
    values = {k: _check_value(v, hints[k], f"{where}.{k}") for k, v in table.items()}
    try:
        return cls(**values)
    except TypeError as err:
        missing = re.findall(r"'(\w+)'", str(err))
        raise ConfigError(f"{where}: missing key {missing[0] if missing else ''!r}") from None


def parse_config(data: dict, origin: str = "<config>") -> Config:
    unknown = sorted(set(data) - set(SECTIONS) - set(ARRAYS))
    if unknown:
        raise ConfigError(f"{origin}: unknown section {unknown[0]!r} (known: {', '.join((*ARRAYS, *SECTIONS))})")
    sections = {name: _section(cls, data.get(name, {}), f"{origin}: [{name}]") for name, cls in SECTIONS.items()}
    cameras = _array(data, "camera", CameraSection, origin)
    watchlists = _array(data, "watchlist", WatchlistSpec, origin)
    webhooks = _array(data, "webhook", WebhookSpec, origin)
    return check_config(Config(cameras=cameras, watchlist=watchlists, webhook=webhooks, **sections), origin)


def _array(data: dict, name: str, cls, origin: str) -> tuple:
    raw = data.get(name, [])
    if not isinstance(raw, list):
        raise ConfigError(f"{origin}: {name!r} must be an array of tables ([[{name}]])")
    return tuple(_section(cls, table, f"{origin}: [[{name}]] #{i + 1}") for i, table in enumerate(raw))


def check_config(cfg: Config, origin: str) -> Config:
    """The checks every configuration passes, however it was given (a file, the command line, both)."""
    for name in SECTIONS:
        _check_ranges(getattr(cfg, name), name, f"{origin}: [{name}]")
    ids = [c.id for c in cfg.cameras]
    for cam in cfg.cameras:
        _check_ranges(cam, "camera", f"{origin}: [[camera]] {cam.id!r}")
        _check_recording_time(cam, f"{origin}: [[camera]] {cam.id!r}")
        for area in cam.zone:
            where = f"{origin}: [[camera.zone]] {area.name!r} of camera {cam.id!r}"
            flat = [v for point in area.points for v in point]
            if len(area.points) < 3 or not all(abs(v) < 1e7 for v in flat):
                raise ConfigError(f"{where}: points must be three or more finite [x, y] pixels")
        names = [line.name for line in cam.line]
        for line in cam.line:
            where = f"{origin}: [[camera.line]] {line.name!r} of camera {cam.id!r}"
            if not line.name or names.count(line.name) > 1:
                raise ConfigError(f"{where}: every line needs a name of its own")
            flat = [v for point in line.points for v in point]
            if not all(abs(v) < 1e7 for v in flat) or line.points[0] == line.points[1]:
                raise ConfigError(f"{where}: points must be two different finite [x, y] pixels")
        if cam.host and not NAME.fullmatch(cam.host):
            raise ConfigError(
                f"{origin}: [[camera]] {cam.id!r}: host {cam.host!r} must be letters, digits, '_', '-' or '.'"
            )
        if cam.job and not NAME.fullmatch(cam.job):
            raise ConfigError(
                f"{origin}: [[camera]] {cam.id!r}: job {cam.job!r} must be letters, digits, '_', '-' or '.'"
            )
        if not cam.id or not NAME.fullmatch(cam.id):
            raise ConfigError(f"{origin}: [[camera]] id {cam.id!r} must be letters, digits, '_', '-' or '.'")
        if not cam.source:
            raise ConfigError(f"{origin}: [[camera]] {cam.id!r} has an empty source")
        if ids.count(cam.id) > 1:
            raise ConfigError(f"{origin}: duplicate camera id {cam.id!r}")
    _check_watchlists(cfg.watchlist, origin)
    _check_webhooks(cfg.webhook, origin)
    publish = cfg.publish
    if not ENDPOINT.match(publish.endpoint):
        raise ConfigError(
            f"{origin}: [publish].endpoint {publish.endpoint!r} is not a ZeroMQ endpoint (tcp://HOST:PORT, ipc://PATH)"
        )
    for name, section in (("detector", cfg.detector), ("ocr", cfg.ocr)):
        if section.backend not in BACKENDS:
            raise ConfigError(f"{origin}: [{name}].backend {section.backend!r} is not one of {', '.join(BACKENDS)}")
    if not publish.connect and not publish.allow_remote and not is_loopback_endpoint(publish.endpoint):
        raise ConfigError(
            f"{origin}: [publish].endpoint {publish.endpoint!r} is not on loopback; set "
            "[publish].allow_remote = true to expose the bus (and consider curve_secret_key)"
        )
    if cfg.serve.enabled:
        from web.server import check_bind

        try:
            check_bind(cfg.serve.bind, cfg.serve.token)
        except ValueError as err:
            raise ConfigError(f"{origin}: [serve] {err}") from None
        if publish.connect or publish.curve_secret_key or publish.curve_server_key:
            raise ConfigError(
                f"{origin}: [serve] in lpr run reads the bus it binds; with [publish] connect or CURVE, run "
                "`lpr serve --bus ENDPOINT` (with --server-key/--client-key) beside it"
            )
    if publish.curve_server_key and not publish.connect:
        raise ConfigError(f"{origin}: [publish].curve_server_key is the broker's key: it needs connect = true")
    if publish.curve_clients_dir and not publish.curve_secret_key:
        raise ConfigError(f"{origin}: [publish].curve_clients_dir needs curve_secret_key")
    size = cfg.detector.input_size
    if any(s % 32 for s in size):  # 32 or more: RANGES
        raise ConfigError(f"{origin}: [detector].input_size {list(size)} must be positive multiples of 32")
    if publish.video:
        _check_video_out(publish.video, len(cfg.cameras), origin)
    return cfg


def cameras_of_host(cfg: Config, host: str, origin: str) -> Config:
    """The config one host runs: its own cameras of a site-wide file. A file whose cameras name hosts is
    refused without `host`, so that one machine never starts a whole site's cameras by mistake."""
    hosts = sorted({cam.host for cam in cfg.cameras if cam.host})
    if not host:
        if hosts:
            raise ConfigError(f"{origin}: cameras name their hosts ({', '.join(hosts)}); pass --host NAME")
        return cfg
    mine = tuple(cam for cam in cfg.cameras if cam.host == host)
    if not mine:
        raise ConfigError(f"{origin}: no camera has host = {host!r} (hosts: {', '.join(hosts) or 'none named'})")
    return replace(cfg, cameras=mine)


def _check_watchlists(lists: tuple[WatchlistSpec, ...], origin: str) -> None:
    names = [w.name for w in lists]
    for w in lists:
        where = f"{origin}: [[watchlist]] {w.name!r}"
        _check_ranges(w, "watchlist", where)
        if not w.name or names.count(w.name) > 1:
            raise ConfigError(f"{where}: every watchlist needs a name of its own")
        if not w.plates and not w.file:
            raise ConfigError(f'{where}: give plates = [...] or file = "plates.csv"')
        if w.file and not Path(w.file).is_file():
            raise ConfigError(f"{where}: file {w.file!r} not found")
        if not w.action:
            raise ConfigError(f"{where}: action must name what the alert is for (alert, allow, ...)")


def _check_webhooks(hooks: tuple[WebhookSpec, ...], origin: str) -> None:
    names = [h.name for h in hooks]
    for hook in hooks:
        where = f"{origin}: [[webhook]] {hook.name!r}"
        _check_ranges(hook, "webhook", where)
        if not NAME.fullmatch(hook.name) or names.count(hook.name) > 1:
            raise ConfigError(f"{where}: every webhook needs a name of its own (letters, digits, '_', '-', '.')")
        if not re.match(r"^https?://[^/\s]+", hook.url):
            raise ConfigError(f"{where}: url {hook.url!r} is not an http:// or https:// address")


def _check_recording_time(cam: CameraSection, where: str) -> None:
    try:
        zone(cam.time_zone)
        if cam.start_time:
            parse_given(cam.start_time, cam.time_zone)
    except ValueError as err:
        raise ConfigError(f"{where}: {err}") from None
    if cam.time_pattern and "%" not in cam.time_pattern:
        raise ConfigError(f"{where}: time_pattern {cam.time_pattern!r} has no strptime field (%Y, %m, %d, ...)")


def _check_video_out(video: str, cameras: int, origin: str) -> None:
    """An annotated video is one camera's, in a container we can write, in a folder we can write to."""
    path = Path(video)
    if cameras > 1:
        raise ConfigError(
            f"{origin}: [publish].video {video!r} is for one camera; {cameras} cameras would write one file"
        )
    if path.suffix.lower() not in VIDEO_SUFFIXES:
        raise ConfigError(
            f"{origin}: [publish].video {video!r}: unknown video type {path.suffix!r} (use {', '.join(VIDEO_SUFFIXES)})"
        )
    folder = path.parent  # "." for a bare file name
    if not folder.is_dir() or not os.access(folder, os.W_OK):
        raise ConfigError(
            f"{origin}: [publish].video {video!r}: folder {str(folder)!r} does not exist or is not writable"
        )


def load_config(path: str | Path) -> Config:
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"config file not found: {path}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as err:
        raise ConfigError(f"{path}: not valid TOML: {err}") from None
    return parse_config(data, str(path))
