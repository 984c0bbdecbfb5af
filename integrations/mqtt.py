"""Events to an MQTT broker (Home Assistant, Node-RED, ...), with the paho-mqtt client.

Topics: `<prefix>/<camera>/plate` (every event), `<prefix>/<camera>/alert` (watchlist matches)
and, retained, `<prefix>/<camera>/state` (the camera's last health message: connected,
reconnecting, stalled, stopped), so a dashboard knows a camera's state as soon as it subscribes.
Payloads are the bus's JSON. paho runs its own network thread and reconnects by itself; a
broker that is down never slows the pipeline: messages wait in a bounded queue of our own and
go out, in the order they were sent, once the broker accepts the connection. (paho's own queue
sends messages published while the connection is being made before those published earlier.)
"""

from __future__ import annotations

import json
import logging
import ssl
import threading
from collections import deque
from dataclasses import dataclass

import paho.mqtt.client as mqtt

log = logging.getLogger(__name__)
TOPICS = {"plate": "plate", "alert": "alert", "health": "state"}


@dataclass(frozen=True)
class MqttSection:
    enabled: bool = False
    host: str = "127.0.0.1"
    port: int = 1883
    topic_prefix: str = "lpr"
    client_id: str = ""  # empty: one made up by the client
    username: str = ""
    password: str = ""
    tls: bool = False  # connect with TLS (port 8883 usually)
    ca_file: str = ""  # the broker's CA certificate (empty: the system's)
    qos: int = 1  # 0: at most once, 1: at least once
    retain_state: bool = True  # keep each camera's last health message on <prefix>/<camera>/state
    max_queued: int = 10_000  # messages kept while the broker is unreachable; past that new ones are dropped


def mqtt_topic(prefix: str, kind: str, camera_id: str) -> str:
    return f"{prefix}/{camera_id}/{TOPICS[kind]}"


class MqttSink:
    def __init__(self, section: MqttSection) -> None:
        self.section = section
        self.client = mqtt.Client(
            mqtt.CallbackAPIVersion.VERSION2, client_id=section.client_id, reconnect_on_failure=True
        )
        if section.username:
            self.client.username_pw_set(section.username, section.password or None)
        if section.tls:
            self.client.tls_set(ca_certs=section.ca_file or None, tls_version=ssl.PROTOCOL_TLS_CLIENT)
        self.client.max_queued_messages_set(section.max_queued)
        self.client.reconnect_delay_set(min_delay=1, max_delay=30)
        self.client.on_connect = self._on_connect
        self.client.on_disconnect = self._on_disconnect
        self._lock = threading.Lock()
        self._connected = threading.Event()
        self._pending: deque[tuple[str, str, bool]] = deque()  # (topic, payload, retain) until connected
        self._last: mqtt.MQTTMessageInfo | None = None
        self.client.connect_async(section.host, section.port, keepalive=30)
        self.client.loop_start()

    def _on_connect(self, _client, _userdata, _flags, reason_code, _properties) -> None:
        if reason_code.is_failure:
            log.warning(
                "MQTT broker %s:%d refused the connection: %s", self.section.host, self.section.port, reason_code
            )
            return
        log.info("MQTT: connected to %s:%d", self.section.host, self.section.port)
        with self._lock:  # paho's thread; send() waits so nothing overtakes what was held back
            while self._pending:
                self._publish(*self._pending.popleft())
            self._connected.set()

    def _on_disconnect(self, *_args) -> None:
        with self._lock:
            self._connected.clear()

    def send(self, kind: str, camera_id: str, payload: dict) -> None:
        if kind not in TOPICS:
            return
        message = (
            mqtt_topic(self.section.topic_prefix, kind, camera_id),
            json.dumps(payload, ensure_ascii=False),
            kind == "health" and self.section.retain_state,
        )
        with self._lock:
            if self._connected.is_set():
                self._publish(*message)
            elif len(self._pending) < self.section.max_queued:
                self._pending.append(message)
            else:
                log.warning("MQTT: queue full (%d messages): a %s message was dropped", self.section.max_queued, kind)

    def _publish(self, topic: str, payload: str, retain: bool) -> None:
        info = self.client.publish(topic, payload, qos=self.section.qos, retain=retain)
        self._last = info
        if info.rc == mqtt.MQTT_ERR_QUEUE_SIZE:
            log.warning("MQTT: queue full (%d messages): a message to %s was dropped", self.section.max_queued, topic)

    def close(self, timeout_s: float = 2.0) -> None:
        """Give the queued messages `timeout_s` to reach a broker, then disconnect."""
        if self._pending:
            self._connected.wait(timeout_s)
        if self._last is not None and self.client.is_connected():
            try:
                self._last.wait_for_publish(timeout_s)
            except (RuntimeError, ValueError):  # not connected after all, or it was never queued
                pass
        self.client.disconnect()
        self.client.loop_stop()
