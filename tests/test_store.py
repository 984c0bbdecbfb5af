import sqlite3

import pytest

from store.db import DATABASE, SCHEMA_VERSION, EventStore, StoreError, event_key
from tests.conftest import make_event

T0 = 1_800_000_000.0
JPEG = b"\xff\xd8 a crop \xff\xd9"


@pytest.fixture
def store(tmp_path):
    s = EventStore(tmp_path / "store")
    yield s
    s.close()


def test_fuzzy_search_finds_a_confusable_misread_and_not_a_different_plate(store):
    store.add(
        [
            (make_event("AB123CD", "gate", T0, 1), JPEG, b""),
            (make_event("A8I23CD", "lane2", T0 + 60, 2), JPEG, b""),  # B and 1 misread as 8 and I
            (make_event("AB128CX", "gate", T0 + 120, 3), JPEG, b""),  # two real differences
            (make_event("XY987PQ", "gate", T0 + 180, 4), JPEG, b""),
        ]
    )
    found = store.search("ab-123 cd")
    assert [(s.text, s.distance) for s in found] == [("AB123CD", 0.0), ("A8I23CD", 0.5)]
    assert found[1].camera == "lane2" and found[1].crop is not None and found[1].crop.read_bytes() == JPEG
    assert [s.text for s in store.search("AB123CD", max_distance=0)] == ["AB123CD"]
    assert "AB128CX" in [s.text for s in store.search("AB123CD", max_distance=2)]
    assert [s.text for s in store.search("AB123CD", camera="lane2")] == ["A8I23CD"]
    assert [s.text for s in store.search("AB123CD", since=T0 + 1)] == ["A8I23CD"]
    assert [s.text for s in store.search("AB123CD", until=T0 + 1)] == ["AB123CD"]
    assert store.search("ZZZ999") == []


def test_an_event_stored_twice_is_kept_once(store):
    event = make_event("AB123CD")
    assert store.add([(event, JPEG, b"")]) == 1
    assert store.add([(event, JPEG, b""), (make_event("AB123CD", track=2), b"", b"")]) == 1
    assert len(store.search("AB123CD")) == 2 and event_key(event) in store.keys()


def test_retention_drops_old_events_and_their_files(store):
    store.add([(make_event(f"AB{i:03d}CD", t=T0 + i * 3600, track=i), JPEG * 100, JPEG) for i in range(10)])
    crops = sorted((store.folder / "crops").rglob("*.jpg"))
    assert len(crops) == 10 and len(list((store.folder / "snapshots").rglob("*.jpg"))) == 10
    assert store.delete_before(T0 + 4 * 3600) == 4
    assert len(list((store.folder / "crops").rglob("*.jpg"))) == 6
    assert [s.text for s in store.latest(limit=100)][-1] == "AB004CD"
    size = store.size_bytes()
    store.shrink_to(size - 1)  # one byte over: the oldest go first
    left = [s.text for s in store.latest(limit=100)]
    assert left and "AB004CD" not in left and left[0] == "AB009CD"
    assert store.size_bytes() < size


def test_the_schema_is_versioned_and_a_newer_store_is_refused(tmp_path):
    EventStore(tmp_path).close()
    db = sqlite3.connect(tmp_path / DATABASE)
    assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    db.commit()
    db.close()
    with pytest.raises(StoreError, match="newer"):
        EventStore(tmp_path)
    with pytest.raises(StoreError, match="no event store"):
        EventStore(tmp_path / "elsewhere", readonly=True)
