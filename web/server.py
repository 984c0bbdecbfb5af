"""Serve the web page with uvicorn: blocking for `lpr serve`, or on a thread beside `lpr run`."""

from __future__ import annotations

import logging
import threading

import uvicorn

from stream.security import is_loopback_host
from web.app import create_app

log = logging.getLogger(__name__)


def parse_bind(bind: str) -> tuple[str, int]:
    """`HOST:PORT` (`[::1]:8080` for IPv6) -> (host, port); ValueError names what is wrong."""
    host, sep, port = bind.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65_536:
        raise ValueError(f"bind {bind!r} is not HOST:PORT (e.g. 127.0.0.1:8080)")
    return host.strip("[]"), int(port)


def check_bind(bind: str, token: str) -> tuple[str, int]:
    """The page is bound to loopback unless a token guards it."""
    host, port = parse_bind(bind)
    if not is_loopback_host(host) and not token:
        raise ValueError(
            f"serving on {host} (beyond loopback) needs a token: --token or [serve] token (docs/security.md)"
        )
    return host, port


def make_server(store: str, bind: str, endpoint: str, token: str = "", server_key: str = "", client_key: str = ""):
    host, port = check_bind(bind, token)
    app = create_app(store, endpoint, token, server_key, client_key)
    config = uvicorn.Config(
        app, host=host, port=port, log_level="warning", access_log=False, timeout_graceful_shutdown=1
    )  # open event streams never end by themselves: give them a second when the server stops
    return uvicorn.Server(config)


class BackgroundServer:
    """The page served on a thread, stopped with the run."""

    def __init__(self, server: uvicorn.Server) -> None:
        self.server = server
        self.thread = threading.Thread(target=server.run, name="web", daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)
