"""Soak: `lpr run` on a live RTSP camera for an hour, under the bus's worst users.

The camera (Debian's GStreamer RTSP server, serving the sample clip looped) is killed and
restarted every few minutes; three subscribers are attached: a healthy one that reads everything,
a slow one that reads a message every few seconds (it must lose only its own messages, and count
them), and one that floods subscribe/unsubscribe messages. Every `--every` seconds the `lpr run`
process's RSS, open file descriptors and threads are sampled from /proc: they must stay flat. At
the end the healthy subscriber's events are compared with the JSONL file: none may be missing.

    python benchmarks/soak.py samples/sample.mp4 --minutes 60 --json runs/soak.json
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import zmq
from loopback import free_port

from store.db import event_key
from stream.cli_bench import loop_clip
from stream.delivery import LossCounter

ROOT = Path(__file__).resolve().parents[1]
SERVER = ROOT / "tests" / "rtsp_server.py"


def process_sample(pid: int, started: float) -> dict:
    with open(f"/proc/{pid}/statm") as fh:
        rss = int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
    return {
        "t_s": round(time.monotonic() - started, 1),
        "rss_MB": round(rss, 1),
        "fds": len(os.listdir(f"/proc/{pid}/fd")),
        "threads": len(os.listdir(f"/proc/{pid}/task")),
    }


class Subscriber(threading.Thread):
    """Reads plates and health messages, pausing `pause_s` after each (a slow consumer when > 0)."""

    def __init__(self, endpoint: str, pause_s: float = 0.0, receive_queue: int = 1000) -> None:
        super().__init__(daemon=True)
        self.socket = zmq.Context.instance().socket(zmq.SUB)
        self.socket.setsockopt(zmq.RCVHWM, receive_queue)
        if pause_s:
            self.socket.setsockopt(zmq.RCVBUF, 4096)
        self.socket.connect(endpoint)
        for kind in (b"plate.", b"health."):
            self.socket.setsockopt(zmq.SUBSCRIBE, kind)
        self.pause_s, self.plates, self.states = pause_s, [], []
        self.losses, self.stop = LossCounter(), threading.Event()

    def run(self) -> None:
        while not self.stop.is_set():
            if not self.socket.poll(200):
                continue
            frames = self.socket.recv_multipart()
            message = json.loads(frames[1])
            self.losses.observe(frames[0], message)
            if frames[0].startswith(b"plate."):
                self.plates.append(message)
            else:
                self.states.append(message.get("state"))
            self.stop.wait(self.pause_s)
        self.socket.close(0)


class Flooder(threading.Thread):
    """Subscribes and unsubscribes a new topic `rate` times a second, as a hostile peer might."""

    def __init__(self, endpoint: str, rate: float) -> None:
        super().__init__(daemon=True)
        self.socket = zmq.Context.instance().socket(zmq.SUB)
        self.socket.connect(endpoint)
        self.rate, self.pairs, self.stop = rate, 0, threading.Event()

    def run(self) -> None:
        while not self.stop.is_set():
            for _ in range(100):
                name = f"plate.flood{self.pairs}/".encode()
                self.socket.setsockopt(zmq.SUBSCRIBE, name)
                self.socket.setsockopt(zmq.UNSUBSCRIBE, name)
                self.pairs += 1
            self.stop.wait(100 / self.rate)
        self.socket.close(0)


def start_camera(port: int, clip: Path) -> subprocess.Popen:
    server = subprocess.Popen(
        ["/usr/bin/python3", str(SERVER), str(port), str(clip)], stdout=subprocess.PIPE, text=True
    )
    assert server.stdout is not None and server.stdout.readline().strip() == "ready"
    return server


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("video", type=Path)
    parser.add_argument("--minutes", type=float, default=60)
    parser.add_argument("--every", type=float, default=60, help="seconds between samples of the process")
    parser.add_argument("--restart-every", type=float, default=180, help="seconds between camera kills")
    parser.add_argument("--down-s", type=float, default=10, help="how long the camera stays down")
    parser.add_argument("--slow-pause-s", type=float, default=5, help="the slow subscriber's pause per message")
    parser.add_argument("--flood-rate", type=float, default=2000, help="subscribe/unsubscribe pairs a second")
    parser.add_argument("--height", type=int, default=720)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    rtsp_port, bus = free_port(), f"tcp://127.0.0.1:{free_port()}"
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        # a clip outlasting the camera's life, so every play ends in a kill, never at the file's end
        frames = int((args.restart_every + 60) * 25)
        clip = loop_clip(args.video, args.height, frames, work / "live.mp4")
        camera = start_camera(rtsp_port, clip)
        jsonl = work / "soak.jsonl"
        run = subprocess.Popen(
            [sys.executable, "-m", "stream.cli", "run", f"rtsp://127.0.0.1:{rtsp_port}/test", "--camera-id", "soak"]
            + ["--publish", bus, "--jsonl", str(jsonl), "--store", str(work / "store")],
            cwd=work,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
            stderr=open(work / "run.log", "w"),  # noqa: SIM115 (closed with the process)
        )
        healthy, slow = Subscriber(bus), Subscriber(bus, args.slow_pause_s, receive_queue=5)
        flooder = Flooder(bus, args.flood_rate)
        for thread in (healthy, slow, flooder):
            thread.start()
        started = time.monotonic()
        samples, restarts, next_kill = [], 0, started + args.restart_every
        next_sample = started + min(args.every, 30)
        try:
            while (now := time.monotonic()) - started < args.minutes * 60:
                assert run.poll() is None, (work / "run.log").read_text()[-2000:]
                if now >= next_kill:
                    camera.kill()
                    camera.wait()
                    time.sleep(args.down_s)
                    camera = start_camera(rtsp_port, clip)
                    restarts += 1
                    next_kill = time.monotonic() + args.restart_every
                if now >= next_sample:
                    samples.append(process_sample(run.pid, started))
                    line = {**samples[-1], "events": len(healthy.plates), "restarts": restarts}
                    print(json.dumps({**line, "slow_missed": slow.losses.missed}), flush=True)
                    next_sample += args.every
                time.sleep(0.5)
            run.send_signal(signal.SIGINT)  # open tracks are flushed as events on the way out
            code = run.wait(60)
            time.sleep(2)  # the last messages reach the subscribers
        finally:
            for thread in (healthy, slow, flooder):
                thread.stop.set()
                thread.join()
            camera.kill()
            if run.poll() is None:
                run.kill()
        written = [json.loads(line) for line in jsonl.read_text(encoding="utf-8").splitlines()]
        log_tail = (work / "run.log").read_text()[-1500:]
    on_bus, in_file = {event_key(e) for e in healthy.plates}, {event_key(e) for e in written}
    warm = samples[min(2, len(samples) - 1) :]  # after warm-up (first compilations, allocator growth)
    report = {
        "minutes": args.minutes,
        "exit_code": code,
        "camera_restarts": restarts,
        "reconnecting_reported": healthy.states.count("reconnecting"),
        "events_in_jsonl": len(written),
        "events_on_bus_not_in_jsonl": len(on_bus - in_file),
        "events_in_jsonl_not_on_bus": len(in_file - on_bus),
        "healthy_subscriber": {"plates": len(healthy.plates), "missed": healthy.losses.missed},
        "slow_subscriber": {"plates": len(slow.plates), "missed": slow.losses.missed},
        "subscription_pairs_flooded": flooder.pairs,
        "rss_growth_MB_after_warmup": round(warm[-1]["rss_MB"] - warm[0]["rss_MB"], 1) if warm else None,
        "fd_growth": warm[-1]["fds"] - warm[0]["fds"] if warm else None,
        "thread_growth": warm[-1]["threads"] - warm[0]["threads"] if warm else None,
        "samples": samples,
    }
    print(json.dumps({k: v for k, v in report.items() if k != "samples"}, indent=1))
    if code != 0:
        print(log_tail, file=sys.stderr)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(report, indent=1) + "\n")


if __name__ == "__main__":
    main()
