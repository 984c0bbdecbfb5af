"""`lpr broker`: many `lpr run` hosts publish into one address, any number of subscribers read from another.

ZeroMQ's own proxy: an XSUB socket that publishers connect to (`[publish] connect = true`,
endpoint = the broker's front), an XPUB socket that subscribers connect to (the back). Plate,
health and alert messages pass through unchanged, and subscriptions travel back to the
publishers so nothing a subscriber did not ask for crosses the network. With a CURVE key pair
both sides are encrypted, and with a clients folder only known keys get in, on either side.
"""

from __future__ import annotations

import logging
import threading

import zmq

from stream.publish import DEFAULT_ENDPOINT
from stream.security import is_loopback_endpoint, make_curve_server

log = logging.getLogger(__name__)
DEFAULT_FRONTEND = "tcp://127.0.0.1:5557"  # publishers connect here
DEFAULT_BACKEND = DEFAULT_ENDPOINT  # subscribers connect here: where a single `lpr run` binds, so they need no change


def check_endpoints(frontend: str, backend: str, allow_remote: bool) -> None:
    for endpoint in (frontend, backend):
        if not allow_remote and not is_loopback_endpoint(endpoint):
            raise ValueError(f"{endpoint} is not on loopback; pass --allow-remote to listen there (and use CURVE)")


def run_broker(
    frontend: str = DEFAULT_FRONTEND,
    backend: str = DEFAULT_BACKEND,
    curve_secret_key: str = "",
    curve_clients_dir: str = "",
    stop: threading.Event | None = None,
    high_water_mark: int = 1000,
) -> None:
    """Forward until `stop` is set (or forever)."""
    context: zmq.Context = zmq.Context.instance()  # the CURVE authenticator serves the sockets of this context
    xsub, xpub = context.socket(zmq.XSUB), context.socket(zmq.XPUB)
    control = context.socket(zmq.PAIR)
    authenticator = None
    try:
        for socket in (xsub, xpub):
            socket.setsockopt(zmq.LINGER, 0)
            socket.setsockopt(zmq.SNDHWM, high_water_mark)
            socket.setsockopt(zmq.RCVHWM, high_water_mark)
        if curve_secret_key:
            authenticator = make_curve_server(xsub, curve_secret_key, curve_clients_dir)
            make_curve_server(xpub, curve_secret_key)  # one authenticator serves both
        for socket, endpoint in ((xsub, frontend), (xpub, backend)):
            try:
                socket.bind(endpoint)
            except zmq.ZMQError as err:
                raise ValueError(f"cannot bind {endpoint}: {err}") from None
        address = f"inproc://broker-control-{id(control)}"
        control.bind(address)
        # The proxy forwards in a thread of its own while this one waits in Python: a signal that lands
        # while libzmq is busy forwarding interrupts no system call, so a handler waiting for the proxy
        # to return to Python would wait for ever once the traffic stops.
        forwarder = threading.Thread(
            target=zmq.proxy_steerable, args=(xsub, xpub, None, control), name="broker-proxy", daemon=True
        )
        forwarder.start()
        log.info("broker: publishers connect to %s, subscribers to %s", frontend, backend)
        stop = stop if stop is not None else threading.Event()  # none given: forward for ever
        try:
            while not stop.wait(0.5):
                if not forwarder.is_alive():
                    raise RuntimeError("the broker's proxy stopped by itself")
        finally:  # also on an exception here: the proxy must let go of the sockets before they close
            if forwarder.is_alive():
                _terminate(context, address)
                forwarder.join()
    finally:
        for socket in (xsub, xpub, control):
            socket.close(0)
        if authenticator:
            authenticator.stop()


def _terminate(context: zmq.Context, address: str) -> None:
    signal = context.socket(zmq.PAIR)
    signal.connect(address)
    signal.send(b"TERMINATE")
    if signal.poll(10_000):  # libzmq 4.3.5 answers each command on a PAIR; closing before the answer can
        signal.recv()  # leave the proxy blocked on it, never stopping
    signal.close(0)
