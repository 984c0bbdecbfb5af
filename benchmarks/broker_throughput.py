"""Throughput of `lpr broker` on loopback: plate messages a second from P publishers to S subscribers.

    python benchmarks/broker_throughput.py --publishers 3 --subscribers 2 --messages 20000 --json broker.json

Each message is a real plate event (about 700 bytes of JSON) and a 3 kB crop, as `lpr run` sends them.
Publishers send as fast as the broker takes them (a PUB drops nothing below its high-water mark, which
is raised here so none is dropped); the figure is messages delivered to every subscriber per second.
"""

from __future__ import annotations

import argparse
import json
import threading
import time
from pathlib import Path

import zmq
from loopback import free_port

from stream.broker import run_broker
from stream.events import encode_event, example_event, topic


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--publishers", type=int, default=3)
    parser.add_argument("--subscribers", type=int, default=2)
    parser.add_argument("--messages", type=int, default=20000, help="per publisher")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    front, back = f"tcp://127.0.0.1:{free_port()}", f"tcp://127.0.0.1:{free_port()}"
    stop = threading.Event()
    hwm = args.messages * args.publishers + 10
    broker = threading.Thread(target=run_broker, args=(front, back), kwargs={"stop": stop, "high_water_mark": hwm})
    broker.start()
    context = zmq.Context.instance()
    counts = [0] * args.subscribers
    total = args.messages * args.publishers

    def subscribe(index: int) -> None:
        sub = context.socket(zmq.SUB)
        sub.setsockopt(zmq.RCVHWM, hwm)
        sub.connect(back)
        sub.setsockopt(zmq.SUBSCRIBE, b"plate.")
        while counts[index] < total and sub.poll(5000):
            sub.recv_multipart()
            counts[index] += 1
        sub.close(0)

    readers = [threading.Thread(target=subscribe, args=(i,)) for i in range(args.subscribers)]
    for r in readers:
        r.start()
    publishers = []
    for _ in range(args.publishers):
        pub = context.socket(zmq.PUB)
        pub.setsockopt(zmq.SNDHWM, hwm)
        pub.connect(front)
        publishers.append(pub)
    time.sleep(1.0)  # subscriptions travel to the publishers
    frames = [topic("plate", "cam"), encode_event(example_event("AB123CD", "cam")), bytes(3000)]
    started = time.perf_counter()
    senders = [
        threading.Thread(target=lambda p=p: [p.send_multipart(frames) for _ in range(args.messages)])
        for p in publishers
    ]
    for s in senders:
        s.start()
    for s in senders:
        s.join()
    for r in readers:
        r.join()
    elapsed = time.perf_counter() - started
    for p in publishers:
        p.close(0)
    stop.set()
    broker.join()
    report = {
        "publishers": args.publishers,
        "subscribers": args.subscribers,
        "message_bytes": sum(len(f) for f in frames),
        "delivered_per_subscriber": counts,
        "sent": total,
        "messages_per_s": round(min(counts) / elapsed),
        "MB_per_s_out": round(sum(counts) * sum(len(f) for f in frames) / elapsed / 1e6, 1),
    }
    print(json.dumps(report, indent=1))
    if args.json:
        args.json.write_text(json.dumps(report, indent=1) + "\n")


if __name__ == "__main__":
    main()
