import json
import resource
import time

import pytest
import zmq

from stream.publish import JsonlSink, ZmqPublisher
from stream.subscribe import subscribe

EVENT = {"camera_id": "c", "text": "AB123"}


def test_a_subscriber_that_never_reads_costs_bounded_memory_and_drops_are_counted(endpoint):
    publisher = ZmqPublisher(endpoint, high_water_mark=10)
    sub = zmq.Context.instance().socket(zmq.SUB)
    sub.setsockopt(zmq.RCVHWM, 10)
    sub.setsockopt(zmq.RCVBUF, 4096)
    sub.connect(endpoint)
    sub.setsockopt(zmq.SUBSCRIBE, b"")
    time.sleep(0.3)
    payload = b"x" * 100_000
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    try:
        for _ in range(3000):  # 300 MB offered to a subscriber that never reads
            publisher.send("plate", "c", EVENT, payload)
        grown_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
        assert publisher.dropped > 2500 and publisher.sent + publisher.dropped == 3000
        assert grown_mb < 100
    finally:
        sub.close(0)
        publisher.close()


def test_no_subscriber_at_all_never_blocks(endpoint):
    publisher = ZmqPublisher(endpoint, high_water_mark=10)
    started = time.monotonic()
    for _ in range(1000):
        publisher.send("plate", "c", EVENT, b"jpeg")
    publisher.close()
    assert time.monotonic() - started < 5  # a blocking send would hang forever


def test_subscriber_filters_by_camera_and_saves_crops(endpoint, tmp_path):
    publisher = ZmqPublisher(endpoint)
    out = tmp_path / "out.txt"
    import threading

    def send_later():
        time.sleep(0.5)
        publisher.send("plate", "other", {**EVENT, "camera_id": "other", "track_id": 1}, b"no")
        publisher.send("plate", "gate", {**EVENT, "camera_id": "gate", "track_id": 2}, b"\xff\xd8jpeg")

    thread = threading.Thread(target=send_later)
    thread.start()
    with out.open("w") as fh:
        count = subscribe(endpoint, camera="gate", save_crops=tmp_path / "crops", count=1, timeout_s=5, out=fh)
    thread.join()
    publisher.close()
    assert count == 1
    assert json.loads(out.read_text())["camera_id"] == "gate"
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
