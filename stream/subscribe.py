"""`lpr subscribe`: print the events a publisher sends, one JSON object a line."""
from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TextIO

import zmq

from stream.publish import DEFAULT_ENDPOINT


def subscribe(endpoint: str = DEFAULT_ENDPOINT, camera: str | None = None, save_crops: Path | None = None,
              health: bool = False, count: int | None = None, timeout_s: float | None = None,
              out: TextIO = sys.stdout) -> int:
    """Print `plate` (and optionally `health`) messages; stop after `count` plates or `timeout_s` of silence."""
    socket = zmq.Context.instance().socket(zmq.SUB)
    socket.setsockopt(zmq.LINGER, 0)
    socket.connect(endpoint)
    suffix = f".{camera}" if camera else ""
    socket.setsockopt(zmq.SUBSCRIBE, f"plate{suffix}".encode())
    if health:
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
            if topic.startswith(b"plate"):
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
