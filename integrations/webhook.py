"""Events POSTed to an HTTP endpoint, in order, nothing lost while the receiver is down.

Every message is first written to an on-disk queue (SQLite, one per webhook, in the store's
folder or beside the JSONL), then one thread delivers the queue head: a 2xx answer removes it,
anything else (refused, timeout, 5xx) retries it with exponential backoff up to `backoff_max_s`.
So a receiver that comes back gets every message once, in the order they happened, and a
restart resumes the queue. The queue is bounded: past `max_queue_mb` the oldest messages go
(counted and logged). The standard library's urllib sends the POST: one request with headers
needs nothing more.

Body: `{"kind": "plate"|"alert", "camera_id": ..., "message": <the bus JSON>, "crop_jpeg": <base64 or null>}`.
"""

from __future__ import annotations

import base64
import json
import logging
import sqlite3
import threading
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

log = logging.getLogger(__name__)
KINDS = ("plate", "alert")


@dataclass(frozen=True)
class WebhookSpec:
    """One `[[webhook]]` table."""

    name: str
    url: str
    headers: dict[str, str] = field(default_factory=dict)  # e.g. {Authorization = "Bearer ..."}
    alerts_only: bool = False  # send only watchlist alerts, not every plate
    include_crop: bool = True  # the plate crop, base64 JPEG, in `crop_jpeg`
    timeout_s: float = 5.0
    backoff_max_s: float = 60.0
    max_queue_mb: float = 100.0


class DiskQueue:
    """A FIFO of message bodies in SQLite: survives restarts, bounded in size."""

    def __init__(self, path: Path, max_bytes: int) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(path, check_same_thread=False)
        self.db.execute("PRAGMA journal_mode = WAL")
        self.db.execute("CREATE TABLE IF NOT EXISTS queue (id INTEGER PRIMARY KEY, body BLOB NOT NULL)")
        self.max_bytes = max_bytes
        self.lock = threading.Lock()
        self.dropped = 0

    def push(self, body: bytes) -> None:
        with self.lock, self.db:
            self.db.execute("INSERT INTO queue (body) VALUES (?)", (body,))
            size = self.db.execute("SELECT coalesce(sum(length(body)), 0) FROM queue").fetchone()[0]
            while size > self.max_bytes:
                row = self.db.execute("SELECT id, length(body) FROM queue ORDER BY id LIMIT 1").fetchone()
                self.db.execute("DELETE FROM queue WHERE id = ?", (row[0],))
                size -= row[1]
                self.dropped += 1

    def head(self) -> tuple[int, bytes] | None:
        with self.lock:
            return self.db.execute("SELECT id, body FROM queue ORDER BY id LIMIT 1").fetchone()

    def remove(self, item_id: int) -> None:
        with self.lock, self.db:
            self.db.execute("DELETE FROM queue WHERE id = ?", (item_id,))

    def __len__(self) -> int:
        with self.lock:
            return self.db.execute("SELECT count(*) FROM queue").fetchone()[0]

    def close(self) -> None:
        self.db.close()


class WebhookSink:
    def __init__(self, spec: WebhookSpec, queue_folder: Path) -> None:
        self.spec = spec
        self.queue = DiskQueue(queue_folder / f"webhook-{spec.name}.db", int(spec.max_queue_mb * 1e6))
        self.delivered = 0
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._deliver, name=f"webhook-{spec.name}", daemon=True)
        self._thread.start()

    def send(self, kind: str, camera_id: str, payload: dict, jpeg: bytes = b"") -> None:
        if kind not in KINDS or (self.spec.alerts_only and kind != "alert"):
            return
        crop = base64.b64encode(jpeg).decode("ascii") if jpeg and self.spec.include_crop else None
        body = {"kind": kind, "camera_id": camera_id, "message": payload, "crop_jpeg": crop}
        dropped = self.queue.dropped
        self.queue.push(json.dumps(body, ensure_ascii=False).encode("utf-8"))
        if self.queue.dropped > dropped:
            log.warning("webhook %s: queue over %.0f MB, %d oldest messages dropped so far", *self._drop_note())
        self._wake.set()

    def _drop_note(self) -> tuple[str, float, int]:
        return self.spec.name, self.spec.max_queue_mb, self.queue.dropped

    def _post(self, body: bytes) -> bool:
        request = urllib.request.Request(
            self.spec.url,
            data=body,
            method="POST",
            headers={"Content-Type": "application/json", **self.spec.headers},
        )
        try:
            with urllib.request.urlopen(request, timeout=self.spec.timeout_s) as response:
                return 200 <= response.status < 300
        except (urllib.error.URLError, OSError, ValueError) as err:
            log.debug("webhook %s: %s", self.spec.name, err)
            return False

    def _deliver(self) -> None:
        delay = 0.0
        while not self._stop.is_set():
            item = self.queue.head()
            if item is None:
                self._wake.wait(1.0)
                self._wake.clear()
                continue
            if self._post(item[1]):
                self.queue.remove(item[0])
                self.delivered += 1
                if delay:
                    log.info("webhook %s: receiver back, %d messages waiting", self.spec.name, len(self.queue))
                delay = 0.0
                continue
            delay = min(self.spec.backoff_max_s, max(0.5, delay * 2))
            if delay == 0.5:
                log.warning("webhook %s: %s not reachable; retrying with backoff", self.spec.name, self.spec.url)
            self._stop.wait(delay)

    def close(self, timeout_s: float = 2.0) -> None:
        """Give the queue `timeout_s` to drain; what is left is sent by the next run."""
        deadline = threading.Event()
        timer = threading.Timer(timeout_s, deadline.set)
        timer.start()
        while len(self.queue) and not deadline.is_set() and self._thread.is_alive():
            self._wake.set()
            deadline.wait(0.05)
        timer.cancel()
        self._stop.set()
        self._thread.join()
        self.queue.close()
