"""CurveZMQ for the event bus: key pairs, and switching a socket to encrypted, authenticated mode.

A publisher with a server secret key only talks to subscribers that know its public
key; with a clients folder, only subscribers whose public key is in it are let in
(checked by ZeroMQ's ZAP authenticator).
"""

from __future__ import annotations

import ipaddress
import re
from pathlib import Path

import zmq
import zmq.auth
from zmq.auth.thread import ThreadAuthenticator


def generate_keys(folder: Path, name: str) -> tuple[Path, Path]:
    """Write `<name>.key` (public, give it out) and `<name>.key_secret` (keep it private)."""
    folder.mkdir(parents=True, exist_ok=True)
    public, secret = zmq.auth.create_certificates(str(folder), name)
    Path(secret).chmod(0o600)
    return Path(public), Path(secret)


def load_key_pair(path: str | Path) -> tuple[bytes, bytes]:
    """(public, secret) from a `.key_secret` file; ValueError if it is not one."""
    try:
        public, secret = zmq.auth.load_certificate(str(path))
    except (OSError, ValueError) as err:
        raise ValueError(f"cannot read CURVE key {path}: {err}") from None
    if secret is None:
        raise ValueError(f"{path} holds no secret key (use the .key_secret file)")
    return public, secret


def load_public_key(path: str | Path) -> bytes:
    try:
        return zmq.auth.load_certificate(str(path))[0]
    except (OSError, ValueError) as err:
        raise ValueError(f"cannot read CURVE public key {path}: {err}") from None


def make_curve_server(socket: zmq.Socket, secret_key_file: str, clients_dir: str = "") -> ThreadAuthenticator | None:
    """Encrypt `socket`; with `clients_dir`, admit only the public keys found there."""
    public, secret = load_key_pair(secret_key_file)
    authenticator = None
    if clients_dir:
        if not Path(clients_dir).is_dir():
            raise ValueError(f"CURVE clients folder not found: {clients_dir}")
        authenticator = ThreadAuthenticator(zmq.Context.instance())
        authenticator.start()
        authenticator.configure_curve(domain="*", location=str(clients_dir))
    socket.curve_secretkey, socket.curve_publickey, socket.curve_server = secret, public, True
    return authenticator


def make_curve_client(socket: zmq.Socket, server_public_file: str, client_secret_file: str | None = None) -> None:
    """Encrypt `socket` towards a server; a client key pair is generated on the fly unless given."""
    if client_secret_file:
        public, secret = load_key_pair(client_secret_file)
    else:
        public, secret = zmq.curve_keypair()
    socket.curve_serverkey = load_public_key(server_public_file)
    socket.curve_publickey, socket.curve_secretkey = public, secret


def is_loopback_endpoint(endpoint: str) -> bool:
    """True for tcp endpoints on 127.0.0.0/8, ::1 or localhost, and for ipc/inproc."""
    match = re.match(r"^tcp://\[?([^\]]+?)\]?:(\d+|\*)$", endpoint)
    if not match:
        return not endpoint.startswith("tcp://")
    return is_loopback_host(match.group(1))


def is_loopback_host(host: str) -> bool:
    """True for localhost and addresses in 127.0.0.0/8 or ::1."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
