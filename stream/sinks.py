"""Where every message of a run goes: the bus, the JSONL file, the event store, watchlist alerts,
an MQTT broker and webhooks.

The pipeline knows none of this: it hands each message to `Sinks.send`. Slow or dead consumers
never hold it up: the publisher never blocks, the store writes on its own thread, MQTT queues in
paho's network thread, and webhooks queue on disk for their delivery thread.
"""

from __future__ import annotations

import logging
from pathlib import Path

from integrations.mqtt import MqttSink
from integrations.webhook import WebhookSink
from store.db import Alert, event_key
from store.watchlist import Match, Watchlists
from store.writer import StoreWriter
from stream.config import Config
from stream.events import SCHEMA_VERSION, event_time_utc
from stream.publish import JsonlSink, ZmqPublisher
from stream.snapshot import snapshot_name

log = logging.getLogger(__name__)


def alert_message(event: dict, match: Match) -> dict:
    """The `alert.<camera>/` message for an event on a watchlist."""
    return {
        "schema_version": SCHEMA_VERSION,
        "type": "alert",
        "camera_id": event["camera_id"],
        "list": match.list,
        "action": match.action,
        "plate": match.plate,
        "distance": match.distance,
        "event": event,
    }


class Sinks:
    """The publisher, the optional JSONL file, the event store and the watchlists, behind one `send`."""

    def __init__(self, cfg: Config) -> None:
        p = cfg.publish
        self.publisher = ZmqPublisher(
            p.endpoint,
            p.connect,
            p.high_water_mark,
            curve_secret_key=p.curve_secret_key,
            curve_clients_dir=p.curve_clients_dir,
            curve_server_key=p.curve_server_key,
        )
        try:
            self.jsonl = JsonlSink(p.jsonl) if p.jsonl else None
            s = cfg.store
            self.store = (
                StoreWriter(s.folder, s.max_age_days, s.max_size_mb, jsonl=p.jsonl or None) if s.enabled else None
            )
            self.watchlists = Watchlists(cfg.watchlist)
            self.mqtt = MqttSink(cfg.mqtt) if cfg.mqtt.enabled else None
            self.webhooks = [WebhookSink(spec, Path(cfg.store.folder)) for spec in cfg.webhook]
        except BaseException:
            self.publisher.close()
            raise

    def send(self, kind: str, camera_id: str, payload: dict, jpeg: bytes, snapshot: bytes = b"") -> None:
        self._broadcast(kind, camera_id, payload, jpeg, snapshot)
        if kind != "plate":
            return
        if self.jsonl:
            if snapshot:  # beside the JSONL, named in the event, written before the line that names it
                folder = self.jsonl.path.parent / "snapshots"
                folder.mkdir(parents=True, exist_ok=True)
                (folder / snapshot_name(payload)).write_bytes(snapshot)
            self.jsonl.write(payload)
        if self.store:
            self.store.put(payload, jpeg, snapshot)
        for match in self.watchlists.matches(payload):
            log.info("camera %s: %s is on watchlist %s (%s)", camera_id, payload["text"], match.list, match.action)
            self._broadcast("alert", camera_id, alert_message(payload, match), jpeg)
            if self.store:
                self.store.put_alert(
                    Alert(
                        event_key(payload), match.list, match.action, match.distance, camera_id, event_time_utc(payload)
                    )
                )

    def _broadcast(self, kind: str, camera_id: str, payload: dict, jpeg: bytes, snapshot: bytes = b"") -> None:
        """A message to the bus, MQTT and the webhooks (the JSONL and the store keep plate events only)."""
        self.publisher.send(kind, camera_id, payload, jpeg, snapshot)
        if self.mqtt:
            self.mqtt.send(kind, camera_id, payload)
        for hook in self.webhooks:
            hook.send(kind, camera_id, payload, jpeg)

    def close(self) -> None:
        for hook in self.webhooks:
            hook.close()
        if self.mqtt:
            self.mqtt.close()
        if self.store:
            self.store.close()
        if self.jsonl:
            self.jsonl.close()
        self.publisher.close()
