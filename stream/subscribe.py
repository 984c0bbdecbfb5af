"""`lpr subscribe`: print the events a publisher sends, one JSON object a line."""
from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TextIO

import zmq

from stream.publish import DEFAULT_ENDPOINT
from stream.security import make_curve_client


def subscribe(endpoint: str = DEFAULT_ENDPOINT, camera: str | None = None, save_crops: Path | None = None,
              health: bool = False, count: int | None = None, timeout_s: float | None = None,
              exit_on_stop: bool = False, server_key: str | None = None, client_key: str | None = None,
              out: TextIO = sys.stdout) -> int:
    """Print `plate` (and optionally `health`) messages.

    Stops after `count` plates, after `timeout_s` without a message, or (with
    `exit_on_stop`) when a camera reports that it stopped. Returns the plates received.
    """
    socket = zmq.Context.instance().socket(zmq.SUB)
    socket.setsockopt(zmq.LINGER, 0)
    if server_key:
        make_curve_client(socket, server_key, client_key)
    socket.connect(endpoint)
    suffix = f".{camera}" if camera else ""
    socket.setsockopt(zmq.SUBSCRIBE, f"plate{suffix}".encode())
    if health or exit_on_stop:
        socket.setsockopt(zmq.SUBSCRIBE, f"health{suffix}".encode())
    if save_crops:
        save_crops.mkdir(parents=True, exist_ok=True)
    plates = 0
    try:
        while count is None or plates < count:
            if not socket.poll(None if timeout_s is None else int(timeout_s * 1000)):
                break
            topic, payload, jpeg = socket.recv_multipart()
            event = json.loads(payload)
            if topic.startswith(b"health"):
                if health:
                    out.write(json.dumps(event, ensure_ascii=False) + "\n")
                    out.flush()
                if exit_on_stop and event.get("state") == "stopped":
                    break
                continue
            plates += 1
            if save_crops and jpeg:
                name = f"{event['camera_id']}-{event['track_id']}-{event['text']}.jpg"
                (save_crops / name).write_bytes(jpeg)
            out.write(json.dumps(event, ensure_ascii=False) + "\n")
            out.flush()
    except KeyboardInterrupt:
        pass
    finally:
        socket.close()
    return plates
