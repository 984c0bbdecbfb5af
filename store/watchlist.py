"""Watchlists: named lists of plates whose sightings raise an alert.

A list is given in the config (`[[watchlist]]`: name, plates and/or a CSV file, fuzzy
distance, action label). The file is read again when it changes, so a list is edited without
a restart. Only readable events are matched: a doubtful guess must not open a gate.
"""

from __future__ import annotations

import csv
import logging
import os
import time
from dataclasses import dataclass
from pathlib import Path

from store.fuzzy import distance, normalise

log = logging.getLogger(__name__)
RELOAD_CHECK_S = 1.0  # how often a list's file is looked at for changes


@dataclass(frozen=True)
class WatchlistSpec:
    """One `[[watchlist]]` table."""

    name: str
    plates: tuple[str, ...] = ()
    file: str = ""  # CSV of plates: the `plate` column, or the first column; reloaded when it changes
    fuzzy: float = 0.0  # largest store.fuzzy distance that matches; 0: exact (case and separators aside)
    action: str = "alert"  # a label for whoever acts on the alert: alert, allow, deny, ...


@dataclass(frozen=True)
class Match:
    list: str
    action: str
    plate: str  # the list's entry that matched
    distance: float


def read_plate_file(path: Path) -> list[str]:
    """The plates of a CSV file: its `plate` column where it has one, else its first column."""
    with path.open(newline="", encoding="utf-8-sig") as fh:
        rows = [r for r in csv.reader(fh) if r and r[0].strip()]
    if not rows:
        return []
    header = [c.strip().lower() for c in rows[0]]
    if "plate" in header:
        column = header.index("plate")
        return [r[column] for r in rows[1:] if len(r) > column and r[column].strip()]
    return [r[0] for r in rows]


class Watchlist:
    def __init__(self, spec: WatchlistSpec) -> None:
        self.spec = spec
        self._file_plates: set[str] = set()
        self._file_state: tuple[float, int] | None = None
        self._checked = 0.0
        self.plates: set[str] = set()
        self._reload()

    def _reload(self) -> None:
        if self.spec.file:
            path = Path(self.spec.file)
            try:
                stat = os.stat(path)
                state = (stat.st_mtime, stat.st_size)
                if state != self._file_state:
                    self._file_plates = {normalise(p) for p in read_plate_file(path)}
                    if self._file_state is not None:
                        log.info(
                            "watchlist %s: %d plates reloaded from %s", self.spec.name, len(self._file_plates), path
                        )
                    self._file_state = state
            except (OSError, UnicodeDecodeError, csv.Error) as err:  # keep the last good list
                log.warning("watchlist %s: cannot read %s (%s); keeping the last list", self.spec.name, path, err)
        self.plates = {normalise(p) for p in self.spec.plates} | self._file_plates
        self._checked = time.monotonic()

    def match(self, text: str) -> Match | None:
        """The closest entry within the list's fuzzy distance, if any."""
        if time.monotonic() - self._checked >= RELOAD_CHECK_S:
            self._reload()
        wanted = normalise(text)
        if not wanted:
            return None
        if wanted in self.plates:
            return Match(self.spec.name, self.spec.action, wanted, 0.0)
        if not self.spec.fuzzy:
            return None
        best: Match | None = None
        for plate in self.plates:
            if abs(len(plate) - len(wanted)) > self.spec.fuzzy:
                continue
            d = distance(wanted, plate)
            if d <= self.spec.fuzzy and (best is None or d < best.distance):
                best = Match(self.spec.name, self.spec.action, plate, d)
        return best


class Watchlists:
    def __init__(self, specs: tuple[WatchlistSpec, ...]) -> None:
        self.lists = [Watchlist(s) for s in specs]

    def matches(self, event: dict) -> list[Match]:
        """Every list the event's plate is on (readable events only)."""
        if not event.get("readable"):
            return []
        return [m for w in self.lists if (m := w.match(event["text"])) is not None]
