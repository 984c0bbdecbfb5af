"""The event store and watchlists behind `Sinks`, with real sockets, files and processes."""

import json
import signal
import subprocess
import sys
import time

import zmq

from store.db import EventStore, event_key
from store.watchlist import WatchlistSpec
from store.writer import StoreWriter
from stream.config import Config, PublishSection, StoreSection
from stream.sinks import Sinks
from tests.conftest import RUN_DIR, make_event

T0 = 1_800_000_000.0


def receive(sub: zmq.Socket, timeout_s: float = 5.0) -> list[bytes] | None:
    return sub.recv_multipart() if sub.poll(int(timeout_s * 1000)) else None


def test_a_listed_plate_raises_an_alert_on_the_bus_and_in_the_store_and_an_edited_list_reloads(endpoint, tmp_path):
    listed = tmp_path / "stolen.csv"
    listed.write_text("plate,note\nAB123CD,red van\n")
    cfg = Config(
        publish=PublishSection(endpoint=endpoint),
        store=StoreSection(folder=str(tmp_path / "store")),
        watchlist=(
            WatchlistSpec("stolen", file=str(listed), fuzzy=0.5),
            WatchlistSpec("staff", plates=("XY 987 PQ",), action="allow"),
        ),
    )
    sinks = Sinks(cfg)
    sub = zmq.Context.instance().socket(zmq.SUB)
    sub.connect(endpoint)
    sub.setsockopt(zmq.SUBSCRIBE, b"alert.")
    time.sleep(0.5)  # the subscription reaches the publisher
    try:
        sinks.send("plate", "gate", make_event("A8123CD", t=T0, track=1), b"jpeg")  # B misread as 8
        topic, payload, crop = receive(sub)
        alert = json.loads(payload)
        assert topic == b"alert.gate/" and crop == b"jpeg"
        assert (alert["list"], alert["plate"], alert["distance"], alert["action"]) == (
            "stolen",
            "AB123CD",
            0.25,
            "alert",
        )
        assert alert["event"]["text"] == "A8123CD"
        sinks.send("plate", "gate", make_event("XY987PQ", t=T0 + 1, track=2), b"")
        assert json.loads(receive(sub)[1])["list"] == "staff"
        sinks.send("plate", "gate", make_event("ZZ999ZZ", t=T0 + 2, track=3), b"")  # on no list
        sinks.send("plate", "gate", make_event("AB123CD", t=T0 + 3, track=4, readable=False), b"")  # a doubtful read
        assert receive(sub, 1.0) is None
        listed.write_text("plate\nAB123CD\nZZ999ZZ\n")  # edited while running
        time.sleep(1.1)
        sinks.send("plate", "gate", make_event("ZZ999ZZ", t=T0 + 4, track=5), b"")
        assert json.loads(receive(sub)[1])["plate"] == "ZZ999ZZ"
    finally:
        sinks.close()
        sub.close(0)
    store = EventStore(tmp_path / "store", readonly=True)
    assert len(store.latest(limit=100)) == 5
    assert [(a.list, a.distance) for a in reversed(store.alerts())] == [
        ("stolen", 0.25),
        ("staff", 0.0),
        ("stolen", 0.0),
    ]
    store.close()


WRITER = """
import sys, time
sys.path.insert(0, {root!r})
from stream.config import Config, PublishSection, StoreSection
from stream.sinks import Sinks
from tests.conftest import make_event
sinks = Sinks(Config(publish=PublishSection(endpoint={endpoint!r}, jsonl={jsonl!r}), store=StoreSection(folder={folder!r})))
for i in range(100_000):
    sinks.send("plate", "gate", make_event(f"AB{{i:05d}}", t=1_800_000_000 + i, track=i), b"crop")
    time.sleep(0.001)
"""


def test_a_killed_run_loses_no_event_of_the_jsonl_and_stores_none_twice(endpoint, tmp_path):
    from tests.conftest import ROOT

    jsonl, folder = tmp_path / "events.jsonl", tmp_path / "store"
    code = WRITER.format(root=str(ROOT), endpoint=endpoint, jsonl=str(jsonl), folder=str(folder))
    process = subprocess.Popen([sys.executable, "-c", code], cwd=RUN_DIR)
    deadline = time.time() + 60
    while time.time() < deadline and (not jsonl.exists() or jsonl.read_bytes().count(b"\n") < 300):
        time.sleep(0.05)
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=10)
    lines = jsonl.read_bytes().split(b"\n")
    acknowledged = [json.loads(line) for line in lines if line.endswith(b"}")]
    assert len(acknowledged) >= 300
    before = EventStore(folder, readonly=True)
    missing_before = len({event_key(e) for e in acknowledged} - before.keys())
    before.close()

    StoreWriter(folder, jsonl=jsonl).close()  # what the next `lpr run` does when it opens the store
    store = EventStore(folder, readonly=True)
    stored = store.db.execute("SELECT key FROM events").fetchall()
    assert {event_key(e) for e in acknowledged} <= {k for (k,) in stored}  # nothing lost
    assert len(stored) == len({k for (k,) in stored})  # nothing twice
    assert store.search(acknowledged[-1]["text"], 0)[0].text == acknowledged[-1]["text"]
    store.close()
    print(f"{missing_before} events recovered from the JSONL")  # shown with -s: the kill did cut a batch
