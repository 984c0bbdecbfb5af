"""Every plate event in one SQLite database (WAL), with its crop and snapshot as files beside it.

Layout of a store folder:

    events.db            the database (schema version in PRAGMA user_version; MIGRATIONS upgrade it)
    crops/YYYY-MM-DD/    each event's best plate crop, JPEG
    snapshots/YYYY-MM-DD/  the vehicle snapshots, where a camera sends them

An event is known by its key (camera, first sighting's time, track id): a replayed recording
or an event recovered from the JSONL file is stored once, however often it arrives. Texts are
indexed by their confusion-folded bigrams (store.fuzzy), so a fuzzy search reads candidates,
not every row.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from store.fuzzy import bigrams, distance, fold, min_shared_bigrams, normalise
from stream.events import event_time_utc

DATABASE = "events.db"
MIGRATIONS = (  # MIGRATIONS[v] upgrades a store of schema version v to v + 1
    """
    CREATE TABLE texts (id INTEGER PRIMARY KEY, folded TEXT NOT NULL UNIQUE);
    CREATE TABLE grams (gram TEXT NOT NULL, text_id INTEGER NOT NULL, PRIMARY KEY (gram, text_id)) WITHOUT ROWID;
    CREATE TABLE events (
        id INTEGER PRIMARY KEY,
        key TEXT NOT NULL UNIQUE,
        camera TEXT NOT NULL,
        utc REAL NOT NULL,
        text TEXT NOT NULL,
        text_id INTEGER NOT NULL REFERENCES texts(id),
        confidence REAL NOT NULL,
        readable INTEGER NOT NULL,
        region TEXT NOT NULL,
        crop TEXT,
        snapshot TEXT,
        bytes INTEGER NOT NULL,
        event TEXT NOT NULL
    );
    CREATE INDEX events_utc ON events (utc);
    CREATE INDEX events_camera_utc ON events (camera, utc);
    CREATE INDEX events_text ON events (text_id, utc);
    CREATE TABLE alerts (
        id INTEGER PRIMARY KEY,
        event_key TEXT NOT NULL,
        list TEXT NOT NULL,
        action TEXT NOT NULL,
        distance REAL NOT NULL,
        camera TEXT NOT NULL,
        utc REAL NOT NULL,
        UNIQUE (event_key, list)
    );
    CREATE INDEX alerts_utc ON alerts (utc);
    """,
)
SCHEMA_VERSION = len(MIGRATIONS)
PAGE_PRAGMAS = ("page_size", "page_count", "freelist_count")


class StoreError(RuntimeError):
    pass


def event_key(event: dict) -> str:
    """The event's identity: camera, first sighting's time, track."""
    return f"{event['camera_id']}/{event['first_seen']['utc']}/{event['track_id']}"


@dataclass(frozen=True)
class Sighting:
    """One stored event that matched a search."""

    distance: float
    key: str
    camera: str
    utc: float
    text: str
    confidence: float
    readable: bool
    region: str
    crop: Path | None
    snapshot: Path | None
    event: dict


@dataclass(frozen=True)
class Alert:
    """A watchlist match, as stored."""

    event_key: str
    list: str
    action: str
    distance: float
    camera: str
    utc: float


class EventStore:
    """One connection to a store folder. Not shared between threads: the writer thread and every reader
    (`lpr search`, the web page) open their own."""

    def __init__(self, folder: str | Path, readonly: bool = False) -> None:
        self.folder = Path(folder)
        if readonly:
            if not (self.folder / DATABASE).is_file():
                raise StoreError(f"no event store in {self.folder} (no {DATABASE}): run `lpr run` with it first")
            self.db = sqlite3.connect(f"file:{self.folder / DATABASE}?mode=ro", uri=True)
        else:
            self.folder.mkdir(parents=True, exist_ok=True)
            self.db = sqlite3.connect(self.folder / DATABASE)
            self.db.execute("PRAGMA journal_mode = WAL")
            self.db.execute("PRAGMA synchronous = NORMAL")  # WAL: a process kill loses no committed event
        self.db.execute("PRAGMA busy_timeout = 5000")
        self._migrate(readonly)

    def _migrate(self, readonly: bool) -> None:
        version = self.db.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            raise StoreError(f"{self.folder}: store schema {version} is newer than this lpr ({SCHEMA_VERSION})")
        if version < SCHEMA_VERSION and readonly:
            raise StoreError(f"{self.folder}: store schema {version} is older; open it once with `lpr run`")
        for v in range(version, SCHEMA_VERSION):
            with self.db:
                self.db.executescript(f"BEGIN; {MIGRATIONS[v]}; PRAGMA user_version = {v + 1}; COMMIT;")

    def close(self) -> None:
        self.db.close()

    # -- writing -----------------------------------------------------------------------------

    def add(self, items: Iterable[tuple[dict, bytes, bytes]], alerts: Iterable[Alert] = ()) -> int:
        """Store (event, crop JPEG, snapshot JPEG) items and alerts in one transaction; files first, so a
        row never names a missing file. Returns how many events were new."""
        new = 0
        with self.db:
            for event, crop, snapshot in items:
                key = event_key(event)
                if self.db.execute("SELECT 1 FROM events WHERE key = ?", (key,)).fetchone():
                    continue
                utc = event_time_utc(event)
                crop_path = self._write_file("crops", key, utc, crop)
                snapshot_path = self._write_file("snapshots", key, utc, snapshot)
                text = normalise(event["text"])
                self.db.execute(
                    "INSERT INTO events (key, camera, utc, text, text_id, confidence, readable, region, crop, "
                    "snapshot, bytes, event) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        key,
                        event["camera_id"],
                        utc,
                        text,
                        self._text_id(fold(text)),
                        float(event["confidence"]),
                        int(bool(event["readable"])),
                        event["region"],
                        crop_path,
                        snapshot_path,
                        len(crop) + len(snapshot),
                        json.dumps(event, ensure_ascii=False),
                    ),
                )
                new += 1
            self.db.executemany(
                "INSERT OR IGNORE INTO alerts (event_key, list, action, distance, camera, utc) VALUES (?, ?, ?, ?, ?, ?)",
                [(a.event_key, a.list, a.action, a.distance, a.camera, a.utc) for a in alerts],
            )
        return new

    def _text_id(self, folded: str) -> int:
        row = self.db.execute("SELECT id FROM texts WHERE folded = ?", (folded,)).fetchone()
        if row:
            return row[0]
        text_id = self.db.execute("INSERT INTO texts (folded) VALUES (?)", (folded,)).lastrowid
        assert text_id is not None
        self.db.executemany("INSERT INTO grams VALUES (?, ?)", [(g, text_id) for g in bigrams(folded)])
        return text_id

    def _write_file(self, kind: str, key: str, utc: float, data: bytes) -> str | None:
        if not data:
            return None
        day = dt.datetime.fromtimestamp(utc, dt.UTC).strftime("%Y-%m-%d")
        name = key.replace("/", "_").replace(":", "-") + ".jpg"  # the key's camera id is already path-safe
        relative = Path(kind) / day / name
        (self.folder / relative).parent.mkdir(parents=True, exist_ok=True)
        (self.folder / relative).write_bytes(data)
        return str(relative)

    def keys(self) -> set[str]:
        return {row[0] for row in self.db.execute("SELECT key FROM events")}

    # -- retention ---------------------------------------------------------------------------

    def delete_before(self, utc: float) -> int:
        """Drop the events (and their files) older than `utc`."""
        return self._delete("SELECT id, crop, snapshot FROM events WHERE utc < ?", (utc,))

    def shrink_to(self, max_bytes: int) -> int:
        """Drop the oldest events, a hundredth of them at a time, until the store takes at most `max_bytes`."""
        dropped = 0
        while self.size_bytes() > max_bytes:
            count = self.db.execute("SELECT count(*) FROM events").fetchone()[0]
            if not count:
                break
            dropped += self._delete(
                "SELECT id, crop, snapshot FROM events ORDER BY utc LIMIT ?", (max(1, count // 100),)
            )
        return dropped

    def _delete(self, select: str, args: tuple) -> int:
        rows = self.db.execute(select, args).fetchall()
        for _, *files in rows:
            for relative in files:
                if relative:
                    (self.folder / relative).unlink(missing_ok=True)
        with self.db:
            self.db.executemany("DELETE FROM events WHERE id = ?", [(r[0],) for r in rows])
        return len(rows)

    def size_bytes(self) -> int:
        """The database's pages in use (freed pages are reused, not returned) and the crop and snapshot files."""
        page_size, pages, free = (self.db.execute(f"PRAGMA {p}").fetchone()[0] for p in PAGE_PRAGMAS)
        return page_size * (pages - free) + self.db.execute("SELECT coalesce(sum(bytes), 0) FROM events").fetchone()[0]

    # -- reading -----------------------------------------------------------------------------

    def search(
        self,
        query: str,
        max_distance: float = 1.0,
        since: float | None = None,
        until: float | None = None,
        camera: str | None = None,
        limit: int = 50,
    ) -> list[Sighting]:
        """Sightings within `max_distance` of `query` (store.fuzzy.distance), best match first, then newest."""
        wanted = normalise(query)
        folded = fold(wanted)
        needed = min_shared_bigrams(folded, max_distance)
        if needed > 0:
            grams = sorted(bigrams(folded))
            candidates = self.db.execute(
                f"SELECT text_id FROM grams WHERE gram IN ({','.join('?' * len(grams))}) "
                "GROUP BY text_id HAVING count(*) >= ?",
                (*grams, needed),
            ).fetchall()
            text_ids = [row[0] for row in candidates]
        else:  # so lax that every text qualifies
            text_ids = [row[0] for row in self.db.execute("SELECT id FROM texts")]
        if not text_ids:
            return []
        found: list[Sighting] = []
        for chunk in _chunks(text_ids, 500):
            where = [f"text_id IN ({','.join('?' * len(chunk))})"]
            args: list = list(chunk)
            for clause, value in (("utc >= ?", since), ("utc < ?", until), ("camera = ?", camera)):
                if value is not None:
                    where.append(clause)
                    args.append(value)
            for row in self.db.execute(
                "SELECT key, camera, utc, text, confidence, readable, region, crop, snapshot, event FROM events "
                f"WHERE {' AND '.join(where)}",
                args,
            ):
                d = distance(wanted, row[3])
                if d <= max_distance:
                    found.append(self._sighting(d, row))
        found.sort(key=lambda s: (s.distance, -s.utc))
        return found[:limit]

    def latest(self, limit: int = 50, camera: str | None = None) -> list[Sighting]:
        where, args = ("WHERE camera = ?", (camera, limit)) if camera else ("", (limit,))
        rows = self.db.execute(
            "SELECT key, camera, utc, text, confidence, readable, region, crop, snapshot, event FROM events "
            f"{where} ORDER BY utc DESC LIMIT ?",
            args,
        )
        return [self._sighting(0.0, row) for row in rows]

    def by_key(self, key: str) -> Sighting | None:
        row = self.db.execute(
            "SELECT key, camera, utc, text, confidence, readable, region, crop, snapshot, event FROM events "
            "WHERE key = ?",
            (key,),
        ).fetchone()
        return self._sighting(0.0, row) if row else None

    def alerts_for(self, keys: list[str]) -> dict[str, list[dict]]:
        """The watchlist matches of these events, by event key."""
        out: dict[str, list[dict]] = {}
        for chunk in _chunks(keys, 500):
            rows = self.db.execute(
                f"SELECT event_key, list, action, distance FROM alerts WHERE event_key IN ({','.join('?' * len(chunk))})",
                chunk,
            )
            for key, name, action, d in rows:
                out.setdefault(key, []).append({"list": name, "action": action, "distance": d})
        return out

    def alerts(self, limit: int = 50) -> list[Alert]:
        rows = self.db.execute(
            "SELECT event_key, list, action, distance, camera, utc FROM alerts ORDER BY utc DESC LIMIT ?", (limit,)
        )
        return [Alert(*row) for row in rows]

    def _sighting(self, d: float, row: tuple) -> Sighting:
        key, camera, utc, text, confidence, readable, region, crop, snapshot, event = row
        return Sighting(
            d,
            key,
            camera,
            utc,
            text,
            confidence,
            bool(readable),
            region,
            self.folder / crop if crop else None,
            self.folder / snapshot if snapshot else None,
            json.loads(event),
        )


def _chunks(items: list, size: int) -> Iterator[list]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def events_of_jsonl(path: Path) -> Iterator[dict]:
    """The complete plate events of a JSONL file (a line torn by a kill is skipped)."""
    with path.open("rb") as fh:
        for line in fh:
            try:
                event = json.loads(line)
            except (json.JSONDecodeError, UnicodeDecodeError):
                continue
            if isinstance(event, dict) and event.get("type") == "plate":
                yield event
