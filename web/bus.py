"""Listens to the event bus for the web page: plates, alerts and camera health, fanned out to the
open pages (Server-Sent Events), and each camera's last state kept for the cameras page."""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import threading
import time

import zmq

from store.db import event_key
from stream.delivery import LossCounter
from stream.events import decode_event, validate_event
from stream.security import make_curve_client

log = logging.getLogger(__name__)
KINDS = (b"plate.", b"alert.", b"health.")


class BusListener:
    """One SUB socket on its own thread; each open page gets its own bounded queue."""

    def __init__(self, endpoint: str, server_key: str = "", client_key: str = "", page_queue: int = 200) -> None:
        self.endpoint = endpoint
        self.cameras: dict[str, dict] = {}  # camera id -> last health message (+ last plate time)
        self._pages: set[tuple[asyncio.AbstractEventLoop, asyncio.Queue]] = set()
        self._lock = threading.Lock()
        self.page_queue = page_queue
        self.losses = LossCounter()  # messages this listener lost on the bus (its queue was full)
        self.socket: zmq.Socket = zmq.Context.instance().socket(zmq.SUB)
        self.socket.setsockopt(zmq.LINGER, 0)
        if server_key:
            make_curve_client(self.socket, server_key, client_key or None)
        for kind in KINDS:
            self.socket.setsockopt(zmq.SUBSCRIBE, kind)
        self.socket.connect(endpoint)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._listen, name="web-bus", daemon=True)
        self._thread.start()

    def open_page(self) -> tuple[asyncio.AbstractEventLoop, asyncio.Queue]:
        page: tuple[asyncio.AbstractEventLoop, asyncio.Queue] = (
            asyncio.get_running_loop(),
            asyncio.Queue(self.page_queue),
        )
        with self._lock:
            self._pages.add(page)
        return page

    def close_page(self, page: tuple[asyncio.AbstractEventLoop, asyncio.Queue]) -> None:
        with self._lock:
            self._pages.discard(page)

    def _listen(self) -> None:
        while not self._stop.is_set():
            if not self.socket.poll(200):
                continue
            frames = self.socket.recv_multipart()
            try:
                message = self._message(frames)
            except (ValueError, KeyError, UnicodeDecodeError) as err:
                log.debug("web: skipped a malformed message: %s", err)
                continue
            with self._lock:
                pages = list(self._pages)
            for loop, queue in pages:
                loop.call_soon_threadsafe(_offer, queue, message)
        self.socket.close(0)

    def _message(self, frames: list[bytes]) -> dict:
        """A page's view of a bus message: {kind, data[, key, crop]}; camera states updated on the way."""
        if len(frames) < 2:
            raise ValueError("too few frames")
        kind = frames[0].split(b".", 1)[0].decode()
        data = json.loads(frames[1].decode("utf-8"))
        if not isinstance(data, dict):
            raise ValueError("not a JSON object")
        if self.losses.observe(frames[0], data):
            log.warning("web: %d bus messages lost so far (the listener fell behind)", self.losses.missed)
        message: dict = {"kind": kind, "data": data}
        if kind == "plate":
            decode_event(frames[1])  # the schema's checks
            state = self.cameras.setdefault(data["camera_id"], {"camera_id": data["camera_id"], "state": "unknown"})
            state["last_plate"] = data["last_seen"]["utc"]
            state["last_text"] = data["text"]
        elif kind == "health":
            camera = str(data["camera_id"])
            previous = self.cameras.get(camera, {})
            self.cameras[camera] = {**previous, **data, "received": time.time()}
            message["data"] = self.cameras[camera]
        if kind in ("plate", "alert"):  # named as the store names it, so the page matches one to the other
            message["key"] = event_key(data if kind == "plate" else validate_event(data["event"]))
        if kind in ("plate", "alert") and len(frames) > 2 and frames[2]:
            message["crop"] = "data:image/jpeg;base64," + base64.b64encode(frames[2]).decode("ascii")
        return message

    def close(self) -> None:
        self._stop.set()
        self._thread.join()


def _offer(queue: asyncio.Queue, message: dict) -> None:
    """A page that does not keep up loses its oldest messages, never the server's memory."""
    if queue.full():
        queue.get_nowait()
    queue.put_nowait(message)
