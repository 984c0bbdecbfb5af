"""`lpr subscribe`: print the events a publisher sends, one JSON object a line.

Whatever a publisher sends, a malformed message (not three frames, not JSON) is skipped and
counted, messages lost because this subscriber read too slowly are counted from the bus's
sequence numbers (stream.delivery), and a saved crop's file name is built from sanitised fields, so it lands in the
crops folder whatever the event's camera id or text says.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import time
from pathlib import Path
from typing import TextIO

import zmq
from zmq.utils.monitor import recv_monitor_message

from stream.delivery import LossCounter
from stream.events import topic
from stream.publish import DEFAULT_ENDPOINT
from stream.security import make_curve_client

log = logging.getLogger(__name__)
HANDSHAKE_FAILED = (
    zmq.EVENT_HANDSHAKE_FAILED_NO_DETAIL | zmq.EVENT_HANDSHAKE_FAILED_PROTOCOL | zmq.EVENT_HANDSHAKE_FAILED_AUTH
)
_UNSAFE = re.compile(r"[^\w-]+")


def crop_name(event: dict) -> str:
    """A file name for an event's crop: only letters, digits, '_' and '-' from each field (no '/', no '..')."""
    parts = [
        _UNSAFE.sub("_", str(event.get(key, ""))).strip("_")[:64] or "x" for key in ("camera_id", "track_id", "text")
    ]
    return "-".join(parts) + ".jpg"


def subscribe(
    endpoint: str = DEFAULT_ENDPOINT,
    camera: str | None = None,
    save_crops: Path | None = None,
    health: bool = False,
    count: int | None = None,
    timeout_s: float | None = None,
    exit_on_stop: bool = False,
    server_key: str | None = None,
    client_key: str | None = None,
    out: TextIO = sys.stdout,
    readable_only: bool = False,
) -> int:
    """Print `plate` (and optionally `health`) messages.

    Stops after `count` plates, after `timeout_s` without a message, or (with
    `exit_on_stop`) when a camera reports that it stopped. Returns the plates received.
    """
    socket: zmq.Socket = zmq.Context.instance().socket(zmq.SUB)
    socket.setsockopt(zmq.LINGER, 0)
    handshakes = None
    if server_key:
        make_curve_client(socket, server_key, client_key)
        handshakes = socket.get_monitor_socket(HANDSHAKE_FAILED)  # a wrong key fails silently otherwise
    socket.connect(endpoint)
    socket.setsockopt(zmq.SUBSCRIBE, topic("plate", camera))
    if health or exit_on_stop:
        socket.setsockopt(zmq.SUBSCRIBE, topic("health", camera))
    if save_crops:
        save_crops.mkdir(parents=True, exist_ok=True)
    plates = malformed = 0
    losses = LossCounter()
    poller = zmq.Poller()
    poller.register(socket, zmq.POLLIN)
    if handshakes is not None:
        poller.register(handshakes, zmq.POLLIN)
    warned = False
    deadline = None if timeout_s is None else time.monotonic() + timeout_s  # moved by messages only
    try:
        while count is None or plates < count:
            wait_ms = None if deadline is None else max(0, int((deadline - time.monotonic()) * 1000))
            ready = dict(poller.poll(wait_ms))
            if handshakes is not None and handshakes in ready:
                recv_monitor_message(handshakes)
                if not warned:
                    log.error(
                        "CURVE handshake with %s failed: --server-key is not this publisher's public key, or the "
                        "publisher does not admit this client's key (--client-key); still retrying",
                        endpoint,
                    )
                    warned = True
                continue
            if socket not in ready:
                break
            frames = socket.recv_multipart()
            deadline = None if timeout_s is None else time.monotonic() + timeout_s
            try:
                if len(frames) not in (3, 4):
                    raise ValueError(f"{len(frames)} frames, not 3 or 4")
                message_topic, payload, jpeg = frames[:3]
                snapshot = frames[3] if len(frames) == 4 else b""
                event = json.loads(payload)
                if not isinstance(event, dict):
                    raise ValueError("not a JSON object")
            except ValueError as err:  # json.JSONDecodeError and UnicodeDecodeError are ValueErrors
                malformed += 1
                log.warning("skipped a malformed message (%s); %d so far", err, malformed)
                continue
            lost = losses.observe(message_topic, event)
            if lost:
                log.warning(
                    "lost %d messages before this one (this subscriber's queue was full: it reads more slowly than "
                    "the publisher sends); %d so far",
                    lost,
                    losses.missed,
                )
            if message_topic.startswith(b"health"):
                if health:
                    out.write(json.dumps(event, ensure_ascii=False) + "\n")
                    out.flush()
                if exit_on_stop and event.get("state") == "stopped":
                    break
                continue
            if readable_only and event.get("readable") is False:
                continue  # a vehicle the reader could not read confidently: in the JSONL, not printed
            plates += 1
            if save_crops and jpeg:
                (save_crops / crop_name(event)).write_bytes(jpeg)
            if save_crops and snapshot:
                (save_crops / crop_name(event).replace(".jpg", "-snapshot.jpg")).write_bytes(snapshot)
            out.write(json.dumps(event, ensure_ascii=False) + "\n")
            out.flush()
    except KeyboardInterrupt:
        pass
    finally:
        if losses.missed:
            log.warning("%d messages lost by this subscriber in all", losses.missed)
        if handshakes is not None:
            socket.disable_monitor()
            handshakes.close(0)
        socket.close()
    return plates
