"""The event bus: loopback by default, CURVE encryption and client authentication when exposed."""

import os
import threading
import time

import pytest
import zmq

from stream.config import ConfigError, parse_config
from stream.publish import ZmqPublisher
from stream.security import generate_keys, is_loopback_endpoint, make_curve_client


@pytest.mark.parametrize(
    "endpoint,loopback",
    [
        ("tcp://127.0.0.1:5556", True),
        ("tcp://127.3.2.1:1", True),
        ("tcp://localhost:5556", True),
        ("tcp://[::1]:5556", True),
        ("tcp://*:5556", False),
        ("tcp://0.0.0.0:5556", False),
        ("tcp://192.0.2.7:5556", False),
        ("ipc:///tmp/x", True),
    ],
)
def test_loopback_detection(endpoint, loopback):
    assert is_loopback_endpoint(endpoint) is loopback


def test_binding_beyond_loopback_must_be_asked_for():
    with pytest.raises(ConfigError, match="allow_remote"):
        parse_config({"publish": {"endpoint": "tcp://*:5556"}})
    assert parse_config({"publish": {"endpoint": "tcp://*:5556", "allow_remote": True}}).publish.allow_remote


def receive(endpoint, server_key=None, client_key=None, wait_s=1.5):
    """Subscribe, let the publisher send a few events, return what arrived."""
    sub = zmq.Context.instance().socket(zmq.SUB)
    sub.setsockopt(zmq.LINGER, 0)
    if server_key:
        make_curve_client(sub, server_key, client_key)
    sub.connect(endpoint)
    sub.setsockopt(zmq.SUBSCRIBE, b"plate")
    received = []
    deadline = time.time() + wait_s
    while time.time() < deadline:
        if sub.poll(100):
            received.append(sub.recv_multipart())
    sub.close(0)
    return received


def publish_for(publisher, seconds=2.0):
    def loop():
        end = time.time() + seconds
        while time.time() < end:
            publisher.send("plate", "c", {"text": "AB123"}, b"")
            time.sleep(0.05)

    thread = threading.Thread(target=loop)
    thread.start()
    return thread


def test_curve_subscriber_with_the_server_key_receives_and_one_without_gets_nothing(tmp_path, endpoint):
    server_public, server_secret = generate_keys(tmp_path, "server")
    publisher = ZmqPublisher(endpoint, curve_secret_key=str(server_secret))
    try:
        thread = publish_for(publisher)
        with_key = receive(endpoint, str(server_public))
        thread.join()
        thread = publish_for(publisher)
        without_key = receive(endpoint)
        thread.join()
    finally:
        publisher.close()
    assert with_key and with_key[0][0] == b"plate.c/"
    assert without_key == []


def test_only_known_clients_are_admitted(tmp_path, endpoint):
    server_public, server_secret = generate_keys(tmp_path / "server", "server")
    generate_keys(tmp_path / "clients", "alice")
    _, alice_secret = tmp_path / "clients" / "alice.key", tmp_path / "clients" / "alice.key_secret"
    _, mallory_secret = generate_keys(tmp_path / "others", "mallory")
    publisher = ZmqPublisher(endpoint, curve_secret_key=str(server_secret), curve_clients_dir=str(tmp_path / "clients"))
    try:
        thread = publish_for(publisher, 4.0)
        alice = receive(endpoint, str(server_public), str(alice_secret))
        mallory = receive(endpoint, str(server_public), str(mallory_secret))
        thread.join()
    finally:
        publisher.close()
    assert alice and mallory == []


def test_a_public_key_file_is_not_a_server_key(tmp_path, endpoint):
    public, _ = generate_keys(tmp_path, "server")
    with pytest.raises(ValueError, match="no secret key"):
        ZmqPublisher(endpoint, curve_secret_key=str(public))


def test_a_subscriber_with_the_wrong_server_key_says_so(tmp_path, endpoint, caplog):
    import logging
    import threading

    from stream.subscribe import subscribe

    _, server_secret = generate_keys(tmp_path, "server")
    wrong_public, _ = generate_keys(tmp_path, "wrong")
    publisher = ZmqPublisher(endpoint, curve_secret_key=str(server_secret))
    stop = threading.Event()

    def keep_publishing():
        while not stop.wait(0.1):
            publisher.send("plate", "c", {"text": "AB123"})

    thread = threading.Thread(target=keep_publishing)
    thread.start()
    try:
        with caplog.at_level(logging.ERROR, logger="stream.subscribe"):
            got = subscribe(endpoint, server_key=str(wrong_public), timeout_s=3, out=open(os.devnull, "w"))
    finally:
        stop.set()
        thread.join()
        publisher.close()
    assert got == 0
    failures = [r for r in caplog.records if "CURVE handshake" in r.getMessage()]
    assert len(failures) == 1 and "--server-key" in failures[0].getMessage()  # said once, not once per retry
