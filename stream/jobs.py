"""Resumable replay jobs (`lpr run SOURCE --job NAME`): a rerun after a kill continues where it stopped.

The job's file (`jobs/NAME.json` in the store folder) records a safe position to start again
from: the first sighting of the earliest track still open, moved back before any published
track that spans it. From there a rerun sees every track it meets from that track's first frame,
so each gets the same first sighting as before. The file also lists the identity (camera, first
sighting's position in the recording) of each event published from the safe position on; a rerun skips
the events it finds there or in the run's JSONL file. Written atomically (a temporary file
renamed over it), at most every `CHECKPOINT_S`.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Collection, Iterable, Iterator
from pathlib import Path

from store.db import events_of_jsonl
from stream.frames import Frame

CHECKPOINT_S = 2.0


class JobError(ValueError):
    pass


def identity(event: dict) -> str:
    """An event's place in the recording: its camera and first sighting's position (undated files have no time)."""
    return f"{event['camera_id']}|{event['first_seen']['pts']}"


class Job:
    def __init__(
        self,
        name: str,
        folder: str | Path,
        source: str,
        camera_id: str,
        jsonl: str = "",
        published: Collection[str] | None = None,
    ) -> None:
        """`published`: the identities of the events already published, where someone else knows them best (the
        supervisor, for a restarted worker); otherwise the job file's list and, when resuming, the JSONL file."""
        self.path = Path(folder) / "jobs" / f"{name}.json"
        self.name = name
        state = json.loads(self.path.read_text(encoding="utf-8")) if self.path.is_file() else {}
        if state and (state.get("source"), state.get("camera_id")) != (source, camera_id):
            raise JobError(
                f"job {name!r} replays {state.get('source')!r} as camera {state.get('camera_id')!r}, not {source!r} "
                f"as {camera_id!r}: give another job name"
            )
        self.state: dict = state or {"source": source, "camera_id": camera_id, "position": None, "published": []}
        self.published = {i for i, _ in self.state["published"]}  # (identity, first sighting's position) pairs
        if state and jsonl and Path(jsonl).is_file():  # resuming: what the killed run wrote is published
            self.published |= {identity(e) for e in events_of_jsonl(Path(jsonl)) if e.get("camera_id") == camera_id}
        if published is not None:
            self.published = set(published)
        self._written = 0.0
        self.recent: list[tuple[float, float]] = []  # (first, last) positions of published tracks that may span it

    @property
    def finished(self) -> bool:
        return bool(self.state.get("finished"))

    @property
    def resume_from(self) -> float | None:
        """Seconds into the recording to start from, or None for the beginning."""
        return self.state.get("position")

    def already_published(self, event: dict) -> bool:
        return identity(event) in self.published

    def record(self, event: dict) -> None:
        """An event was published (its positions are its first and last sightings' pts)."""
        first, last = event["first_seen"]["pts"], event["last_seen"]["pts"]
        self.published.add(identity(event))
        self.state["published"].append([identity(event), first])
        if first is not None and last is not None:
            self.recent.append((first, last))
        self._write()

    def checkpoint(self, position: float, open_starts: list[float]) -> None:
        """The frame at `position` is processed, with tracks open since `open_starts`: record where to resume."""
        if time.monotonic() - self._written < CHECKPOINT_S:
            return
        safe = min([position, *open_starts])
        moved = True
        while moved:  # a published track seen on both sides of it would come back cut, as a new track
            moved = False
            for first, last in self.recent:
                if first < safe <= last:
                    safe, moved = first, True
        self.recent = [(f, last) for f, last in self.recent if last >= safe]
        self.state["position"] = safe
        self.state["published"] = [[i, f] for i, f in self.state["published"] if f is None or f >= safe]
        self._write()

    def follow(self, frames: Iterable[Frame], open_starts: Callable[[], list[float]]) -> Iterator[Frame]:
        """`frames` as they come. When the consumer asks for the next one it has processed the previous one:
        a checkpoint then, with the first sightings of the tracks it has open."""
        previous: Frame | None = None
        for frame in frames:
            if previous is not None and previous.pts is not None:
                self.checkpoint(previous.pts, open_starts())
            yield frame
            previous = frame

    def finish(self) -> None:
        self.state["finished"] = True
        self._write()

    def _write(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        temporary = self.path.with_suffix(".tmp")
        with temporary.open("w", encoding="utf-8") as fh:
            json.dump(self.state, fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(temporary, self.path)
        self._written = time.monotonic()
