import io
import json
import threading
import time

import pytest
import zmq

from stream.delivery import LossCounter
from stream.publish import JsonlSink, ZmqPublisher
from stream.subscribe import subscribe
from tests.conftest import free_port

EVENT = {"camera_id": "c", "text": "AB123"}


def _rss_mb() -> float:
    """This process's current resident memory (not the peak: earlier tests raised that already)."""
    with open("/proc/self/status") as fh:
        return next(int(line.split()[1]) for line in fh if line.startswith("VmRSS:")) / 1024


def _stuck_subscriber(endpoint: str) -> zmq.Socket:
    sub = zmq.Context.instance().socket(zmq.SUB)
    sub.setsockopt(zmq.RCVHWM, 10)
    sub.setsockopt(zmq.RCVBUF, 4096)
    sub.connect(endpoint)
    sub.setsockopt(zmq.SUBSCRIBE, b"")
    return sub


def _in_thread(work, timeout_s: float) -> None:
    """Run `work` in a thread and fail, instead of hanging, if it has not returned in `timeout_s`."""
    thread = threading.Thread(target=work, daemon=True)
    thread.start()
    thread.join(timeout_s)
    assert not thread.is_alive(), f"still running after {timeout_s} s: the publisher blocked"


def test_a_stuck_subscriber_loses_only_its_own_messages(endpoint):
    publisher = ZmqPublisher(endpoint, high_water_mark=5000)
    stuck = _stuck_subscriber(endpoint)
    healthy = zmq.Context.instance().socket(zmq.SUB)
    healthy.setsockopt(zmq.RCVHWM, 0)
    healthy.connect(endpoint)
    healthy.setsockopt(zmq.SUBSCRIBE, b"plate.")
    time.sleep(0.3)
    received = []

    def read() -> None:
        while healthy.poll(2000):
            received.append(healthy.recv_multipart())

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    payload = b"x" * 2000

    def send_all() -> None:
        for i in range(20_000):
            publisher.send("plate", "c", {**EVENT, "i": i}, payload)
            if i % 200 == 0:
                time.sleep(0.002)  # a pace the healthy reader keeps up with

    try:
        _in_thread(send_all, 60)
        reader.join(10)
        assert len(received) == 20_000  # XPUB_NODROP cut this one off at the stuck one's high-water mark
        stuck_received = []
        while stuck.poll(500):
            stuck_received.append(stuck.recv_multipart())
        assert 0 < len(stuck_received) < 20_000
        publisher.send("plate", "c", EVENT)  # the next message after the losses reveals them
        assert stuck.poll(2000) and healthy.poll(2000)
        stuck_received.append(stuck.recv_multipart())
        received.append(healthy.recv_multipart())
        for name, messages, lost in (("stuck", stuck_received, 20_001 - len(stuck_received)), ("healthy", received, 0)):
            losses = LossCounter()
            for message in messages:
                losses.observe(message[0], json.loads(message[1]))
            assert json.loads(messages[0][1])["bus"]["seq"] == 1
            assert losses.missed == lost, name  # each subscriber counts its own losses exactly
    finally:
        stuck.close(0)
        healthy.close(0)
        publisher.close()


def test_a_subscriber_that_never_reads_costs_bounded_memory(endpoint):
    publisher = ZmqPublisher(endpoint, high_water_mark=10)
    sub = _stuck_subscriber(endpoint)
    time.sleep(0.3)
    payload = b"x" * 100_000
    before = _rss_mb()
    try:
        _in_thread(lambda: [publisher.send("plate", "c", EVENT, payload) for _ in range(3000)], 30)  # 300 MB offered
        assert _rss_mb() - before < 100
    finally:
        sub.close(0)
        publisher.close()


def test_a_subscription_flood_does_not_grow_the_publisher(endpoint):
    publisher = ZmqPublisher(endpoint)
    flooder = zmq.Context.instance().socket(zmq.XSUB)  # sends raw subscribe (1) / unsubscribe (0) messages
    flooder.connect(endpoint)
    time.sleep(0.3)
    before = _rss_mb()
    try:
        for i in range(20_000):
            name = f"plate.{i:06d}{'y' * 2000}".encode()  # long topics: an unread XPUB queues them all
            flooder.send(b"\x01" + name)
            flooder.send(b"\x00" + name)
        for _ in range(20):  # the publisher keeps working meanwhile, as `lpr run` does
            publisher.send("plate", "c", EVENT)
            time.sleep(0.1)
        assert _rss_mb() - before < 40  # an XPUB that is never read kept every message: +95 MB for 20k pairs
    finally:
        flooder.close(0)
        publisher.close()


def test_no_subscriber_at_all_never_blocks(endpoint):
    publisher = ZmqPublisher(endpoint, high_water_mark=10)
    _in_thread(lambda: [publisher.send("plate", "c", EVENT, b"jpeg") for _ in range(1000)], 10)
    publisher.close()


def test_subscriber_filters_by_camera_and_saves_crops(endpoint, tmp_path):
    publisher = ZmqPublisher(endpoint)
    out = tmp_path / "out.txt"

    def send_later():
        time.sleep(0.5)
        publisher.send("plate", "other", {**EVENT, "camera_id": "other", "track_id": 1}, b"no")
        publisher.send("plate", "gate2", {**EVENT, "camera_id": "gate2", "track_id": 3}, b"no")  # not a prefix match
        publisher.send("plate", "gate", {**EVENT, "camera_id": "gate", "track_id": 2}, b"\xff\xd8jpeg")

    thread = threading.Thread(target=send_later)
    thread.start()
    with out.open("w") as fh:
        count = subscribe(endpoint, camera="gate", save_crops=tmp_path / "crops", timeout_s=2, out=fh)
    thread.join()
    publisher.close()
    assert count == 1
    assert json.loads(out.read_text())["camera_id"] == "gate"  # gate2's event did not reach a gate subscriber
    assert (tmp_path / "crops" / "gate-2-AB123.jpg").read_bytes() == b"\xff\xd8jpeg"


def test_bind_to_a_busy_endpoint_is_a_clear_error(endpoint):
    first = ZmqPublisher(endpoint)
    with pytest.raises(ValueError, match="cannot bind"):
        ZmqPublisher(endpoint)
    first.close()


def test_jsonl_lines_are_whole(tmp_path):
    sink = JsonlSink(tmp_path / "e.jsonl", fsync_s=0)
    for i in range(50):
        sink.write({"i": i, "text": "皖A" + str(i)})
    sink.close()
    lines = (tmp_path / "e.jsonl").read_text(encoding="utf-8").splitlines()
    assert [json.loads(line)["i"] for line in lines] == list(range(50))


def test_subscriber_skips_malformed_messages_and_keeps_crops_inside_its_folder(endpoint, tmp_path):
    raw = zmq.Context.instance().socket(zmq.PUB)
    raw.bind(endpoint)
    out = tmp_path / "out.txt"

    def send_later():
        time.sleep(0.5)
        raw.send_multipart([b"plate.x/", b"only two frames"])
        raw.send_multipart([b"plate.x/", b"not json {", b""])
        raw.send_multipart(
            [b"plate.x/", json.dumps({"camera_id": "../../escape", "track_id": "/etc", "text": ".."}).encode(), b"jpg"]
        )
        raw.send_multipart(
            [b"plate.x/", json.dumps({"camera_id": "/abs/path", "track_id": 1, "text": "A/B"}).encode(), b"jpg"]
        )

    thread = threading.Thread(target=send_later)
    thread.start()
    crops = tmp_path / "deep" / "crops"
    with out.open("w") as fh:
        count = subscribe(endpoint, save_crops=crops, timeout_s=2, out=fh)
    thread.join()
    raw.close(0)
    assert count == 2  # the two malformed messages were skipped, not fatal
    saved = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*.jpg"))
    assert len(saved) == 2 and all(p.parent == crops.relative_to(tmp_path) for p in saved)


def test_readable_only_leaves_out_the_doubtful_events(endpoint, tmp_path):
    publisher = ZmqPublisher(endpoint)

    def send_later():
        time.sleep(0.5)
        publisher.send("plate", "c", {**EVENT, "track_id": 1, "readable": False}, b"")
        publisher.send("plate", "c", {**EVENT, "track_id": 2, "readable": True}, b"")

    thread = threading.Thread(target=send_later)
    thread.start()
    out = tmp_path / "out.txt"
    with out.open("w") as fh:
        count = subscribe(endpoint, timeout_s=2, out=fh, readable_only=True)
    thread.join()
    publisher.close()
    assert count == 1 and json.loads(out.read_text())["track_id"] == 2


def test_a_publisher_that_connects_reaches_subscribers_through_a_broker(tmp_path):
    """`[publish] connect = true`: many `lpr run` hosts publish into one XSUB/XPUB proxy (docs/events.md)."""
    from tests.conftest import free_port

    front, back = f"tcp://127.0.0.1:{free_port()}", f"tcp://127.0.0.1:{free_port()}"
    broker = zmq.Context()  # the broker's own: terminating it ends the proxy
    xsub, xpub = broker.socket(zmq.XSUB), broker.socket(zmq.XPUB)
    for socket, address in ((xsub, front), (xpub, back)):
        socket.setsockopt(zmq.LINGER, 0)
        socket.bind(address)
    proxy = threading.Thread(target=lambda: _proxy(xsub, xpub), daemon=True)
    proxy.start()
    sub = zmq.Context.instance().socket(zmq.SUB)
    sub.connect(back)
    sub.setsockopt(zmq.SUBSCRIBE, b"plate.")
    publisher = ZmqPublisher(front, connect=True)
    try:
        got = None
        for _ in range(50):  # subscriptions travel through the proxy to the publisher first
            publisher.send("plate", "gate", EVENT, b"")
            if sub.poll(100):
                got = sub.recv_multipart()
                break
        assert (
            got is not None and got[0] == b"plate.gate/" and json.loads(got[1]) | {"bus": None} == EVENT | {"bus": None}
        )
    finally:
        publisher.close()
        sub.close(0)
        broker.term()
        proxy.join(timeout=5)


def _proxy(xsub: zmq.Socket, xpub: zmq.Socket) -> None:
    try:
        zmq.proxy(xsub, xpub)
    except zmq.ContextTerminated:
        xsub.close()
        xpub.close()


def test_subscribe_prints_health_and_exits_when_the_camera_stops(endpoint, tmp_path):
    publisher = ZmqPublisher(endpoint)
    out = tmp_path / "out.txt"

    def send_later():
        time.sleep(0.5)
        publisher.send("health", "gate", {"camera_id": "gate", "state": "connected"}, b"")
        publisher.send("plate", "gate", {**EVENT, "camera_id": "gate", "track_id": 1}, b"")
        publisher.send("health", "gate", {"camera_id": "gate", "state": "stopped"}, b"")
        time.sleep(0.5)
        publisher.send("plate", "gate", {**EVENT, "camera_id": "gate", "track_id": 2}, b"")  # after the stop

    thread = threading.Thread(target=send_later)
    thread.start()
    with out.open("w") as fh:
        count = subscribe(endpoint, health=True, exit_on_stop=True, timeout_s=5, out=fh)
    thread.join()
    publisher.close()
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert count == 1 and [m.get("state") or m["track_id"] for m in lines] == ["connected", 1, "stopped"]


def test_losses_are_counted_per_topic_and_publisher():
    losses = LossCounter()

    def seen(topic: bytes, publisher: str, seq: int) -> int:
        return losses.observe(topic, {"bus": {"publisher": publisher, "seq": seq}})

    assert seen(b"plate.a/", "p1", 5) == 0  # joined late: nothing lost yet
    assert seen(b"plate.b/", "p1", 1) == 0
    assert seen(b"plate.a/", "p1", 6) == 0
    assert seen(b"plate.a/", "p1", 9) == 2  # 7 and 8
    assert seen(b"plate.b/", "p1", 2) == 0  # another camera's numbers run on their own
    assert seen(b"plate.a/", "p2", 1) == 0  # a restarted publisher has a new id
    assert seen(b"plate.a/", "p2", 4) == 2
    assert losses.observe(b"plate.a/", {"text": "no stamp"}) == 0
    assert losses.missed == 4 and losses.missed_by_publisher == {"p1": 2, "p2": 2}


def test_lpr_subscribe_reports_what_it_lost(endpoint, caplog):
    """A subscriber that reads too slowly says how many messages it lost (numbers skipped on the bus)."""
    publisher = ZmqPublisher(endpoint)
    sub = zmq.Context.instance().socket(zmq.SUB)  # stands in for the wire: drop messages 3 and 4 of 6 on the way
    try:
        time.sleep(0.2)
        relay = zmq.Context.instance().socket(zmq.PUB)
        relay_endpoint = f"tcp://127.0.0.1:{free_port()}"
        relay.bind(relay_endpoint)
        sub.connect(endpoint)
        sub.setsockopt(zmq.SUBSCRIBE, b"")
        out = []
        listener = threading.Thread(
            target=lambda: out.append(subscribe(relay_endpoint, count=4, timeout_s=5, out=io.StringIO())), daemon=True
        )
        listener.start()
        time.sleep(0.5)
        for i in range(6):
            publisher.send("plate", "gate", {**EVENT, "i": i})
            frames = sub.recv_multipart()
            if i not in (2, 3):
                relay.send_multipart(frames)
        listener.join(10)
        assert out == [4]
        assert "lost 2 messages" in caplog.text
    finally:
        sub.close(0)
        relay.close(0)
        publisher.close()
