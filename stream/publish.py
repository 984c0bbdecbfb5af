"""Where events go: a ZeroMQ publisher, a JSONL file, and an annotated copy of the video.

The publisher is a plain PUB socket. A subscriber whose queue (high-water mark) is full
loses its own messages, and the others go on receiving: an XPUB with XPUB_NODROP made
one stuck subscriber's full queue fail the send for every subscriber. A PUB also keeps
no queue of subscription messages for us to read (an XPUB that is never read grows by
each subscribe/unsubscribe a peer sends). With a CURVE secret key it encrypts and
authenticates (see stream.security). Each message carries a sequence number per topic
(stream.delivery), so every subscriber can count what it lost.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from pathlib import Path

import zmq

from stream.delivery import Sequencer
from stream.events import encode_event, topic
from stream.security import make_curve_client, make_curve_server

log = logging.getLogger(__name__)
DEFAULT_ENDPOINT = "tcp://127.0.0.1:5556"


class ZmqPublisher:
    """Multipart messages `[topic, json, jpeg]` (+ a snapshot JPEG where enabled); topics `plate.<camera>/` and
    `health.<camera>/`."""

    def __init__(
        self,
        endpoint: str = DEFAULT_ENDPOINT,
        connect: bool = False,
        high_water_mark: int = 1000,
        linger_ms: int = 500,
        curve_secret_key: str = "",
        curve_clients_dir: str = "",
        curve_server_key: str = "",
    ) -> None:
        """`curve_server_key`: connecting to a CURVE broker, its public key (this publisher is then its client, with
        `curve_secret_key` as its own key pair where the broker admits only known keys)."""
        self.context: zmq.Context = zmq.Context.instance()
        self.socket = self.context.socket(zmq.PUB)
        self.authenticator = None
        if curve_server_key:
            make_curve_client(self.socket, curve_server_key, curve_secret_key or None)
        elif curve_secret_key:
            try:
                self.authenticator = make_curve_server(self.socket, curve_secret_key, curve_clients_dir)
            except ValueError:
                self.socket.close(0)
                raise
        self.socket.setsockopt(zmq.SNDHWM, high_water_mark)
        self.socket.setsockopt(zmq.LINGER, linger_ms)
        self.endpoint = endpoint
        self.sent = self.dropped = 0
        self.sequencer = Sequencer()
        self._lock = threading.Lock()  # the grabber's health callbacks come from another thread
        try:
            (self.socket.connect if connect else self.socket.bind)(endpoint)
        except zmq.ZMQError as err:
            self.socket.close(0)
            raise ValueError(f"cannot {'connect to' if connect else 'bind'} {endpoint}: {err}") from None

    def send(self, kind: str, camera_id: str, payload: dict, jpeg: bytes = b"", snapshot: bytes = b"") -> bool:
        """Send without blocking. A PUB drops per subscriber on its own; zmq.Again is kept as a counted drop for safety."""
        with self._lock:
            try:
                message_topic = topic(kind, camera_id)
                stamped = self.sequencer.stamp(message_topic, payload)
                frames = [message_topic, encode_event(stamped), jpeg] + ([snapshot] if snapshot else [])
                self.socket.send_multipart(frames, flags=zmq.NOBLOCK)
                self.sent += 1
                return True
            except zmq.Again:
                self.dropped += 1
                if self.dropped == 1 or self.dropped % 100 == 0:
                    log.warning("publisher %s: %d messages dropped (slow subscriber)", self.endpoint, self.dropped)
                return False

    def close(self) -> None:
        self.socket.close()
        if self.authenticator:
            self.authenticator.stop()


class JsonlSink:
    """Append one whole line per event; flush each line, fsync at most every `fsync_s` seconds."""

    def __init__(self, path: str | Path, fsync_s: float = 1.0) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.fh = self.path.open("ab", buffering=0)
        self.fsync_s, self._last_sync = fsync_s, time.monotonic()

    def write(self, event: dict) -> None:
        self.fh.write(json.dumps(event, ensure_ascii=False).encode("utf-8") + b"\n")  # one write: no torn line
        if time.monotonic() - self._last_sync >= self.fsync_s:
            os.fsync(self.fh.fileno())
            self._last_sync = time.monotonic()

    def close(self) -> None:
        os.fsync(self.fh.fileno())
        self.fh.close()
