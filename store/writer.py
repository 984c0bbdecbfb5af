"""Writes events to the store off the caller's thread, in batches, and applies retention while running.

`put` never blocks the pipeline: it queues. The writer thread commits what has queued every
`flush_s` (or at `batch` events). A kill loses at most the last uncommitted batch from the
store, and `recover` takes those events back from the JSONL file (which is written at once)
when the store opens again: no event acknowledged there is missing, none is stored twice.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from pathlib import Path

from store.db import Alert, EventStore, event_key, events_of_jsonl

log = logging.getLogger(__name__)
DAY_S = 86_400


def recover(store: EventStore, jsonl: Path) -> int:
    """Add the events of `jsonl` the store lacks (without crops: the JSONL holds none). Returns how many."""
    if not jsonl.is_file():
        return 0
    known = store.keys()
    missing = [(e, b"", b"") for e in events_of_jsonl(jsonl) if event_key(e) not in known]
    return store.add(missing) if missing else 0


class StoreWriter:
    """The event store's only writer: one thread, one connection."""

    def __init__(
        self,
        folder: str | Path,
        max_age_days: float = 0.0,
        max_size_mb: float = 0.0,
        jsonl: str | Path | None = None,
        flush_s: float = 0.2,
        batch: int = 500,
        retention_every_s: float = 60.0,
    ) -> None:
        self.folder = Path(folder)
        self.max_age_s = max_age_days * DAY_S
        self.max_bytes = int(max_size_mb * 1e6)
        self.flush_s, self.batch, self.retention_every_s = flush_s, batch, retention_every_s
        self.written = self.failed = 0
        self._queue: queue.Queue = queue.Queue()
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, args=(jsonl,), name="event-store", daemon=True)
        self._thread.start()
        self._ready.wait()
        if self._error:
            raise self._error

    def put(self, event: dict, crop: bytes = b"", snapshot: bytes = b"") -> None:
        self._queue.put(("event", (event, crop, snapshot)))

    def put_alert(self, alert: Alert) -> None:
        self._queue.put(("alert", alert))

    def close(self) -> None:
        """Commit what is queued and stop."""
        self._queue.put(("stop", None))
        self._thread.join()

    def _run(self, jsonl: str | Path | None) -> None:
        try:
            store = EventStore(self.folder)
            recovered = recover(store, Path(jsonl)) if jsonl else 0
            if recovered:
                log.warning("event store %s: %d events recovered from %s", self.folder, recovered, jsonl)
        except Exception as err:  # reported to the constructor's caller
            self._error = err
            self._ready.set()
            return
        self._ready.set()
        last_retention = 0.0
        stopping = False
        while not stopping:
            events: list[tuple[dict, bytes, bytes]] = []
            alerts: list[Alert] = []
            deadline = time.monotonic() + self.flush_s
            while len(events) < self.batch and not stopping:
                try:
                    kind, item = self._queue.get(timeout=max(0.0, deadline - time.monotonic()))
                except queue.Empty:
                    break
                if kind == "stop":
                    stopping = True
                else:
                    (events if kind == "event" else alerts).append(item)
            if events or alerts:
                self._commit(store, events, alerts)
            if time.monotonic() - last_retention >= self.retention_every_s or stopping:
                last_retention = time.monotonic()
                self._apply_retention(store)
        store.close()

    def _commit(self, store: EventStore, events: list, alerts: list[Alert]) -> None:
        try:
            self.written += store.add(events, alerts)
        except Exception:  # a full disk must not stop the cameras; the JSONL keeps the events
            self.failed += len(events)
            log.exception("event store %s: %d events not stored", self.folder, len(events))

    def _apply_retention(self, store: EventStore) -> None:
        try:
            if self.max_age_s:
                dropped = store.delete_before(time.time() - self.max_age_s)
                if dropped:
                    log.info("event store: %d events older than %.0f days dropped", dropped, self.max_age_s / DAY_S)
            if self.max_bytes:
                dropped = store.shrink_to(self.max_bytes)
                if dropped:
                    log.info("event store: %d oldest events dropped to stay under %d bytes", dropped, self.max_bytes)
        except Exception:
            log.exception("event store %s: retention failed", self.folder)
