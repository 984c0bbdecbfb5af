import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from stream.events import SCHEMA_VERSION, decode_event, encode_event, topic, utc_iso, validate_event

EVENT = {
    "schema_version": SCHEMA_VERSION,
    "type": "plate",
    "camera_id": "c",
    "track_id": 3,
    "text": "皖A12345",
    "confidence": 0.9,
    "char_confidences": [0.9] * 7,
    "candidates": [{"text": "皖A12845", "share": 0.1}],
    "first_seen": {"frame": 0, "pts": 0.0, "utc": utc_iso(0)},
    "last_seen": {"frame": 9, "pts": 0.36, "utc": utc_iso(1)},
    "frames_seen": 10,
    "frames_read": 5,
    "box": [1, 2, 3, 4],
    "corners": [[1, 2]] * 4,
    "reason": "ended",
    "region": "cn",
    "format_valid": True,
    "readable": True,
    "direction": "left",
    "crossed": [{"line": "barrier", "direction": "in"}],
    "time_source": "metadata",
}


def test_round_trip_keeps_unicode_text():
    payload = encode_event(EVENT)
    assert "皖".encode() in payload and decode_event(payload) == EVENT
    assert topic("plate", "gate") == b"plate.gate/" and topic("plate") == b"plate."
    assert utc_iso(0) == "1970-01-01T00:00:00.000Z"


@pytest.mark.parametrize(
    "change,message",
    [
        ({"track_id": "3"}, "track_id"),
        ({"confidence": True}, "confidence"),
        ({"schema_version": 1}, "schema_version"),
        ({"text": None}, "text"),
        ({"format_valid": "yes"}, "format_valid"),
        ({"region": None}, "region"),
    ],
)
def test_bad_events_are_named(change, message):
    with pytest.raises(ValueError, match=message):
        validate_event({**EVENT, **change})


def test_missing_key():
    with pytest.raises(ValueError, match="lacks 'corners'"):
        validate_event({k: v for k, v in EVENT.items() if k != "corners"})


@given(st.binary(max_size=200))
def test_arbitrary_bytes_never_crash_the_decoder(payload):
    try:
        decode_event(payload)
    except ValueError:
        pass


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=6,
)


@given(st.dictionaries(st.sampled_from(sorted(EVENT)), json_values, max_size=6))
def test_any_mutation_is_accepted_or_refused_with_value_error(changes):
    try:
        validate_event(json.loads(json.dumps({**EVENT, **changes})))
    except ValueError:
        pass


def test_format_valid_may_be_null_where_no_format_is_known():
    assert decode_event(encode_event({**EVENT, "region": "us", "format_valid": None}))["format_valid"] is None
    with pytest.raises(ValueError, match="format_valid"):
        decode_event(encode_event({k: v for k, v in EVENT.items() if k != "format_valid"}))


def test_no_camera_topic_is_a_prefix_of_another_cameras():
    ids = ["gate", "gate2", "gate.2", "gate-b", "g"]
    for a in ids:
        for b in ids:
            assert topic("plate", b).startswith(topic("plate", a)) == (a == b)
