"""`lpr search`: sightings of a plate in the event store, fuzzy by default, as a table, JSON or CSV."""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import re
import sys
from pathlib import Path

from store.db import EventStore, Sighting
from stream.config import StoreSection

DURATION = re.compile(r"^(\d+(?:\.\d+)?)\s*([smhdw])$")
SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86_400, "w": 604_800}
COLUMNS = ("distance", "time", "camera", "text", "confidence", "readable", "region", "crop")


def parse_when(text: str, now: float | None = None) -> float:
    """UNIX time of `2026-11-24`, `2026-11-24T08:10` (local time unless an offset is given) or `7d` / `2h` ago."""
    match = DURATION.match(text.strip())
    if match:
        return (dt.datetime.now().timestamp() if now is None else now) - float(match[1]) * SECONDS[match[2]]
    try:
        when = dt.datetime.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(f"{text!r} is not a time: use 2026-11-24, 2026-11-24T08:10[+01:00] or 30m, 2h, 7d") from None
    return (when if when.tzinfo else when.astimezone()).timestamp()


def row(s: Sighting) -> dict:
    local = dt.datetime.fromtimestamp(s.utc).astimezone().isoformat(timespec="seconds")
    return {
        "distance": s.distance,
        "time": local,
        "camera": s.camera,
        "text": s.text,
        "confidence": round(s.confidence, 3),
        "readable": s.readable,
        "region": s.region,
        "crop": str(s.crop) if s.crop else "",
    }


def search(args: argparse.Namespace) -> int:
    since = parse_when(args.since) if args.since else None
    until = parse_when(args.until) if args.until else None
    store = EventStore(args.store, readonly=True)
    try:
        found = store.search(args.plate, args.fuzzy, since, until, args.camera, args.limit)
    finally:
        store.close()
    rows = [row(s) for s in found]
    if args.json:
        for s, r in zip(found, rows):
            print(json.dumps(r | {"event": s.event}, ensure_ascii=False))
    elif args.csv:
        writer = csv.DictWriter(sys.stdout, COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
    elif rows:
        widths = {c: max(len(c), *(len(str(r[c])) for r in rows)) for c in COLUMNS}
        print("  ".join(c.ljust(widths[c]) for c in COLUMNS))
        for r in rows:
            print("  ".join(str(r[c]).ljust(widths[c]) for c in COLUMNS))
    else:
        print(f"no sighting of {args.plate} within distance {args.fuzzy}", file=sys.stderr)
    return 0


def add_parser(sub) -> None:
    parser = sub.add_parser(
        "search",
        help="find sightings of a plate in the event store (fuzzy: confusable misreads such as 0/O, 8/B cost less)",
    )
    parser.add_argument("plate", help="the plate, with or without spaces and dashes")
    parser.add_argument(
        "--fuzzy",
        type=float,
        default=1.0,
        metavar="N",
        help="largest distance: a misread or missing character costs 1, a confusable one 0.25 (default 1; 0: exact)",
    )
    parser.add_argument("--since", help="from this time: 2026-11-24, 2026-11-24T08:10 (local), or 2h, 7d ago")
    parser.add_argument("--until", help="before this time (same forms)")
    parser.add_argument("--camera", help="only this camera's sightings")
    parser.add_argument("--limit", type=int, default=50, help="at most this many, best match first (default 50)")
    parser.add_argument(
        "--store", type=Path, default=Path(StoreSection.folder), help="the store folder (default lpr-data)"
    )
    out = parser.add_mutually_exclusive_group()
    out.add_argument("--json", action="store_true", help="one JSON object per line, with the whole event")
    out.add_argument("--csv", action="store_true")
    parser.set_defaults(func=search)
