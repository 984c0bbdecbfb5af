"""MQTT and webhooks against real peers: Debian's mosquitto broker and an HTTP server on loopback."""

import json
import shutil
import socket
import subprocess
import threading
import time
from dataclasses import replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import paho.mqtt.client as mqtt
import pytest

from integrations.mqtt import MqttSection
from integrations.webhook import WebhookSpec
from store.watchlist import WatchlistSpec
from stream.config import Config, PublishSection, StoreSection
from stream.sinks import Sinks
from tests.conftest import free_port, make_event

T0 = 1_800_000_000.0


@pytest.fixture
def broker(tmp_path):
    """A mosquitto broker on a free loopback port (.ci/run installs Debian's mosquitto)."""
    binary = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
    port = free_port()
    conf = tmp_path / "mosquitto.conf"
    conf.write_text(f"listener {port} 127.0.0.1\nallow_anonymous true\npersistence false\n")
    process = subprocess.Popen([binary, "-c", str(conf)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.time() + 10
    while time.time() < deadline:
        probe = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2)
        try:
            probe.connect("127.0.0.1", port)
            probe.disconnect()
            break
        except OSError:
            time.sleep(0.1)
    yield port
    process.terminate()
    process.wait(timeout=10)


class Collector:
    """An MQTT subscriber that keeps every (topic, payload, retained) it receives."""

    def __init__(self, port: int, topic: str = "lpr/#") -> None:
        self.messages: list[tuple[str, dict, bool]] = []
        self.subscribed = threading.Event()
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2)
        self.client.on_message = lambda _c, _u, m: self.messages.append((m.topic, json.loads(m.payload), m.retain))
        self.client.on_subscribe = lambda *_: self.subscribed.set()
        self.client.on_connect = lambda c, *_: c.subscribe(topic, qos=1)
        self.client.connect("127.0.0.1", port)
        self.client.loop_start()
        assert self.subscribed.wait(10)

    def wait_for(self, count: int, timeout_s: float = 10.0) -> list[tuple[str, dict, bool]]:
        deadline = time.time() + timeout_s
        while len(self.messages) < count and time.time() < deadline:
            time.sleep(0.05)
        return self.messages

    def close(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()


def test_plates_alerts_and_retained_camera_state_reach_an_mqtt_broker(broker, endpoint, tmp_path):
    collector = Collector(broker)
    cfg = Config(
        publish=PublishSection(endpoint=endpoint),
        store=StoreSection(enabled=False, folder=str(tmp_path)),
        mqtt=MqttSection(enabled=True, port=broker, topic_prefix="lpr"),
        watchlist=(WatchlistSpec("stolen", plates=("AB123CD",)),),
    )
    sinks = Sinks(cfg)
    try:
        sinks.send("health", "gate", {"type": "health", "camera_id": "gate", "state": "connected"}, b"")
        sinks.send("plate", "gate", make_event("ZZ999ZZ", t=T0, track=1), b"jpeg")
        sinks.send("plate", "gate", make_event("AB123CD", t=T0 + 1, track=2), b"jpeg")
        got = collector.wait_for(4)
    finally:
        sinks.close()
        collector.close()
    topics = [(t, m.get("text") or m.get("state") or m["list"]) for t, m, _ in got]
    assert topics == [
        ("lpr/gate/state", "connected"),
        ("lpr/gate/plate", "ZZ999ZZ"),
        ("lpr/gate/plate", "AB123CD"),
        ("lpr/gate/alert", "stolen"),
    ]
    late = Collector(broker, "lpr/gate/state")  # a dashboard that subscribes afterwards
    retained = late.wait_for(1)
    late.close()
    assert retained[0][1]["state"] == "connected" and retained[0][2] is True


class SlowRelay:
    """A TCP relay to the broker that accepts a client and forwards nothing until `release()`:
    the client's socket is up but the broker has not yet answered its CONNECT."""

    def __init__(self, port: int, broker_port: int) -> None:
        self.port, self.broker_port = port, broker_port
        self.accepted, self.released = threading.Event(), threading.Event()

    def start(self) -> None:
        listener = socket.create_server(("127.0.0.1", self.port))
        threading.Thread(target=self._serve, args=(listener,), daemon=True).start()

    def release(self) -> None:
        self.released.set()

    def _serve(self, listener: socket.socket) -> None:
        client, _ = listener.accept()
        listener.close()
        self.accepted.set()
        self.released.wait(30)
        upstream = socket.create_connection(("127.0.0.1", self.broker_port))
        for source, target in ((client, upstream), (upstream, client)):
            threading.Thread(target=self._pipe, args=(source, target), daemon=True).start()

    @staticmethod
    def _pipe(source: socket.socket, target: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                target.sendall(data)
        except OSError:
            pass
        finally:
            target.close()


def test_messages_sent_while_the_connection_is_made_reach_the_broker_in_the_order_they_were_sent(
    broker, endpoint, tmp_path
):
    collector = Collector(broker)
    relay = SlowRelay(free_port(), broker)
    cfg = Config(
        publish=PublishSection(endpoint=endpoint),
        store=StoreSection(enabled=False, folder=str(tmp_path)),
        mqtt=MqttSection(enabled=True, port=relay.port, topic_prefix="lpr"),
    )
    sinks = Sinks(cfg)
    try:
        sinks.send("health", "gate", {"type": "health", "camera_id": "gate", "state": "connected"}, b"")  # no socket
        relay.start()  # paho tries again within a second or two
        assert relay.accepted.wait(15)
        for i in range(3):  # the socket is up, the broker has not answered yet
            sinks.send("plate", "gate", make_event(f"AB{i:03d}CD", t=T0 + i, track=i), b"")
        relay.release()
        got = collector.wait_for(4)
    finally:
        sinks.close()
        collector.close()
    assert [m.get("state") or m["text"] for _, m, _ in got] == ["connected", "AB000CD", "AB001CD", "AB002CD"]


def test_a_dead_broker_never_holds_up_the_run(endpoint, tmp_path):
    cfg = Config(
        publish=PublishSection(endpoint=endpoint),
        store=StoreSection(enabled=False, folder=str(tmp_path)),
        mqtt=MqttSection(enabled=True, port=free_port(), max_queued=50),  # nothing listens there
    )
    done = threading.Event()

    def run() -> None:
        sinks = Sinks(cfg)
        for i in range(200):  # more than the queue holds: the newest are dropped, nothing blocks
            sinks.send("plate", "gate", make_event(f"AB{i:03d}CD", t=T0 + i, track=i), b"")
        sinks.close()
        done.set()

    threading.Thread(target=run, daemon=True).start()
    assert done.wait(30), "sending to a dead broker blocked"


class Receiver:
    """An HTTP server on loopback that records every JSON body POSTed to it."""

    def __init__(self, port: int) -> None:
        bodies = self.bodies = []

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                bodies.append(
                    (
                        self.headers.get("Authorization"),
                        json.loads(self.rfile.read(int(self.headers["Content-Length"]))),
                    )
                )
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def test_a_webhook_receiver_that_comes_back_gets_every_event_once_in_order(endpoint, tmp_path):
    port = free_port()
    hook = WebhookSpec(
        "office", f"http://127.0.0.1:{port}/plates", headers={"Authorization": "Bearer t"}, backoff_max_s=1.0
    )
    cfg = Config(
        publish=PublishSection(endpoint=endpoint),
        store=StoreSection(enabled=False, folder=str(tmp_path)),
        webhook=(hook,),
    )
    sinks = Sinks(cfg)
    texts = [f"AB{i:03d}CD" for i in range(20)]
    receiver = None
    try:
        for i, text in enumerate(texts[:10]):
            sinks.send("plate", "gate", make_event(text, t=T0 + i, track=i), b"\xff\xd8crop")
        time.sleep(1.5)  # the receiver is down: deliveries fail and back off
        receiver = Receiver(port)
        for i, text in enumerate(texts[10:], 10):
            sinks.send("plate", "gate", make_event(text, t=T0 + i, track=i), b"\xff\xd8crop")
        deadline = time.time() + 20
        while len(receiver.bodies) < 20 and time.time() < deadline:
            time.sleep(0.05)
    finally:
        sinks.close()
        if receiver:
            receiver.close()
    assert [body["message"]["text"] for _, body in receiver.bodies] == texts  # each once, in order
    assert all(auth == "Bearer t" for auth, _ in receiver.bodies)
    assert receiver.bodies[0][1]["crop_jpeg"] == "/9hjcm9w" and receiver.bodies[0][1]["kind"] == "plate"


def test_a_webhook_queue_survives_a_restart(endpoint, tmp_path):
    port = free_port()
    cfg = Config(
        publish=PublishSection(endpoint=endpoint),
        store=StoreSection(enabled=False, folder=str(tmp_path)),
        webhook=(WebhookSpec("office", f"http://127.0.0.1:{port}/", backoff_max_s=0.5),),
    )
    sinks = Sinks(cfg)
    sinks.send("plate", "gate", make_event("AB123CD", t=T0), b"")
    sinks.close()  # the receiver never came: the message waits on disk
    receiver = Receiver(port)
    sinks = Sinks(replace(cfg, publish=PublishSection(endpoint=f"tcp://127.0.0.1:{free_port()}")))  # the next run
    try:
        deadline = time.time() + 10
        while not receiver.bodies and time.time() < deadline:
            time.sleep(0.05)
    finally:
        sinks.close()
        receiver.close()
    assert [body["message"]["text"] for _, body in receiver.bodies] == ["AB123CD"]
