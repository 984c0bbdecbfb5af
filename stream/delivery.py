"""Sequence numbers on the bus, so that each subscriber counts the messages it lost.

A PUB socket drops a message for a subscriber whose queue is full and tells nobody. So the
publisher stamps every message with its own id and a number counted per topic. Topics are
whole (`plate.gate/`, never a prefix of another camera's), so a subscriber receives every
message of each topic it takes: a jump in a topic's numbers is exactly what it lost.
"""

from __future__ import annotations

import os
import secrets
import socket
from collections import Counter

BUS_KEY = "bus"
MAX_STREAMS = 10_000  # (publisher, topic) pairs a subscriber remembers; a bound, not a limit met in use


class Sequencer:
    """The publisher's side: `{"bus": {"publisher": id, "seq": n}}` added to each message, n from 1 per topic."""

    def __init__(self) -> None:
        self.publisher = f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"  # new at every start
        self._sent: Counter[bytes] = Counter()

    def stamp(self, topic: bytes, payload: dict) -> dict:
        self._sent[topic] += 1
        return {**payload, BUS_KEY: {"publisher": self.publisher, "seq": self._sent[topic]}}


class LossCounter:
    """The subscriber's side: the messages it lost, in all and by publisher."""

    def __init__(self) -> None:
        self._last: dict[tuple[str, bytes], int] = {}
        self.missed = 0
        self.missed_by_publisher: Counter[str] = Counter()

    def observe(self, topic: bytes, message: dict) -> int:
        """How many messages of this topic were lost just before this one (0 for the first one seen: a
        subscriber that joins late has lost nothing)."""
        stamp = message.get(BUS_KEY)
        if not isinstance(stamp, dict):
            return 0  # an unstamped sender (an older publisher): nothing to count with
        publisher, seq = stamp.get("publisher"), stamp.get("seq")
        if not isinstance(publisher, str) or not isinstance(seq, int) or isinstance(seq, bool):
            return 0
        key = (publisher, topic)
        last = self._last.pop(key, None)
        if len(self._last) >= MAX_STREAMS:
            del self._last[next(iter(self._last))]  # the longest-silent stream
        self._last[key] = seq
        if last is None or seq <= last:
            return 0
        lost = seq - last - 1
        self.missed += lost
        self.missed_by_publisher[publisher] += lost
        return lost
