"""The plate event: one per track, its JSON schema and the ZeroMQ message layout."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

SCHEMA_VERSION = 2
REQUIRED_KEYS = {
    "schema_version": int,
    "type": str,
    "camera_id": str,
    "track_id": int,
    "text": str,
    "confidence": float,
    "char_confidences": list,
    "candidates": list,
    "first_seen": dict,
    "last_seen": dict,
    "frames_seen": int,
    "frames_read": int,
    "box": list,
    "corners": list,
    "reason": str,
    "region": str,
    "readable": bool,
    "direction": str,
    "crossed": list,
    "time_source": str,
}
OPTIONAL_BOOL_KEYS = ("format_valid",)  # true, false, or null where the region has no known format


def utc_iso(timestamp: float) -> str:
    return dt.datetime.fromtimestamp(timestamp, dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def event_time_utc(event: dict) -> float:
    """UNIX time of the event's last sighting: when the car passed."""
    return dt.datetime.fromisoformat(event["last_seen"]["utc"].replace("Z", "+00:00")).timestamp()


TOPIC_END = "/"  # no camera id contains it, so `plate.gate/` is no prefix of `plate.gate2/`


def topic(kind: str, camera_id: str | None = None) -> bytes:
    """`plate.<camera>/` or `health.<camera>/`; with no camera, `plate.` (every camera's: subscribers match prefixes)."""
    return f"{kind}.{camera_id}{TOPIC_END}".encode() if camera_id is not None else f"{kind}.".encode()


def validate_event(event: Any) -> dict:
    """Check an event against the schema; ValueError names the first problem."""
    if not isinstance(event, dict):
        raise ValueError("event must be a JSON object")
    for key, kind in REQUIRED_KEYS.items():
        if key not in event:
            raise ValueError(f"event lacks {key!r}")
        value = event[key]
        ok = (
            isinstance(value, (int, float)) and not isinstance(value, bool)
            if kind is float
            else isinstance(value, kind) and not (kind is int and isinstance(value, bool))
        )
        if not ok:
            raise ValueError(f"event key {key!r} should be {kind.__name__}, got {type(value).__name__}")
    for key in OPTIONAL_BOOL_KEYS:
        if key not in event:
            raise ValueError(f"event lacks {key!r}")
        if event[key] is not None and not isinstance(event[key], bool):
            raise ValueError(f"event key {key!r} should be true, false or null, got {type(event[key]).__name__}")
    if "snapshot" in event and not isinstance(event["snapshot"], str):  # present only where snapshots are on
        raise ValueError("event key 'snapshot' should be the snapshot's file name")
    if event["schema_version"] != SCHEMA_VERSION:
        raise ValueError(f"unsupported schema_version {event['schema_version']}")
    return event


def example_event(text: str, camera: str = "gate", t: float = 1_800_000_000.0, track: int = 1, **changes) -> dict:
    """A valid event for `text` seen by `camera` at UNIX time `t` (for tests, benchmarks and consumers' own tests)."""
    event = {
        "schema_version": SCHEMA_VERSION,
        "type": "plate",
        "camera_id": camera,
        "track_id": track,
        "text": text,
        "confidence": 0.9,
        "char_confidences": [0.9] * len(text),
        "candidates": [],
        "first_seen": {"frame": 0, "pts": 0.0, "utc": utc_iso(t - 2)},
        "last_seen": {"frame": 50, "pts": 2.0, "utc": utc_iso(t)},
        "frames_seen": 40,
        "frames_read": 5,
        "box": [10, 20, 110, 50],
        "corners": [[10, 20], [110, 20], [110, 50], [10, 50]],
        "reason": "ended",
        "region": "eu",
        "format_valid": True,
        "readable": True,
        "direction": "approaching",
        "crossed": [],
        "time_source": "processing",
    }
    return event | changes


def encode_event(event: dict) -> bytes:
    return json.dumps(event, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def decode_event(payload: bytes) -> dict:
    try:
        return validate_event(json.loads(payload.decode("utf-8")))
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise ValueError(f"event is not JSON: {err}") from None
