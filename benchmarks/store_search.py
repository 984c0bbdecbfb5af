"""Event-store benchmark: write throughput, and fuzzy search on a store of a million events.

    python benchmarks/store_search.py --events 1000000 --plates 200000 --json store.json

Builds a store in a temporary folder (or --folder) through the store's own write path
(EventStore.add, batches of --batch events, as the writer thread commits them), then times
searches for plates it holds, each with one confusable misread (fuzzy 1, the default) and
with a real misread (fuzzy 1), and exact searches. Reports medians and the 90th percentile.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
from tqdm import tqdm

from store.db import EventStore
from store.fuzzy import CONFUSABLE
from stream.events import example_event

LETTERS = "ABCDEFGHJKLMNPRSTUVWXYZ"
DIGITS = "0123456789"
SWAP = {c: group[(i + 1) % len(group)] for group in CONFUSABLE for i, c in enumerate(group)}


def random_plate(rng: np.random.Generator) -> str:
    """EU-style plates of 6 to 8 characters: letters, digits, letters."""
    head = "".join(rng.choice(list(LETTERS), int(rng.integers(1, 3))))
    body = "".join(rng.choice(list(DIGITS), int(rng.integers(2, 5))))
    tail = "".join(rng.choice(list(LETTERS), 2))
    return head + body + tail


def confusable_misread(plate: str, rng: np.random.Generator) -> str:
    spots = [i for i, c in enumerate(plate) if c in SWAP]
    if not spots:
        return plate
    i = int(rng.choice(spots))
    return plate[:i] + SWAP[plate[i]] + plate[i + 1 :]


def real_misread(plate: str, rng: np.random.Generator) -> str:
    i = int(rng.integers(len(plate)))
    return plate[:i] + ("X" if plate[i] != "X" else "Y") + plate[i + 1 :]


def timed(store: EventStore, queries: list[str], fuzzy: float) -> tuple[list[float], float]:
    """(milliseconds per query, share of queries whose plate was found first)."""
    times, hits = [], 0
    for wanted, query in queries:
        start = time.perf_counter()
        found = store.search(query, fuzzy, limit=20)
        times.append((time.perf_counter() - start) * 1000)
        hits += bool(found) and found[0].text == wanted
    return times, hits / len(queries)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--plates", type=int, default=200_000, help="distinct plates (vehicles come back)")
    parser.add_argument("--cameras", type=int, default=8)
    parser.add_argument("--batch", type=int, default=500, help="events per transaction (the writer's batch)")
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--folder", type=Path, help="keep the store here (default: a temporary folder)")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    plates = sorted({random_plate(rng) for _ in range(args.plates)})
    folder = args.folder or Path(tempfile.mkdtemp(prefix="lpr-store-bench-"))
    store = EventStore(folder)
    t0 = 1_780_000_000.0
    crop = bytes(3000)  # a typical plate crop's JPEG size
    started = time.perf_counter()
    for start in tqdm(range(0, args.events, args.batch), desc="writing events", unit_scale=args.batch):
        items = [
            (
                example_event(plates[int(rng.integers(len(plates)))], f"cam{i % args.cameras}", t0 + i * 2.0, i),
                crop,
                b"",
            )
            for i in range(start, min(args.events, start + args.batch))
        ]
        store.add(items)
    write_s = time.perf_counter() - started
    sample = [plates[int(i)] for i in rng.choice(len(plates), args.queries, replace=False)]
    report: dict = {
        "events": args.events,
        "distinct_plates": len(plates),
        "write_events_per_s": round(args.events / write_s),
        "store_MB": round(store.size_bytes() / 1e6),
        "search": {},
    }
    for name, fuzzy, make in (
        ("exact", 0.0, lambda p: p),
        ("one_confusable_misread", 1.0, lambda p: confusable_misread(p, rng)),
        ("one_real_misread", 1.0, lambda p: real_misread(p, rng)),
    ):
        times, found_first = timed(store, [(p, make(p)) for p in sample], fuzzy)
        report["search"][name] = {
            "fuzzy": fuzzy,
            "median_ms": round(statistics.median(times), 2),
            "p90_ms": round(float(np.percentile(times, 90)), 2),
            "found_first": round(found_first, 3),
        }
    store.close()
    print(json.dumps(report, indent=1))
    if args.json:
        args.json.write_text(json.dumps(report, indent=1) + "\n")


if __name__ == "__main__":
    main()
