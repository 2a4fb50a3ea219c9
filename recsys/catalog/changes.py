"""The catalog's change feed: how a reader that keeps it in memory learns that it changed, and what.

The reader is the query side's live view (recsys/serving/live.py).

Every write bumps the catalog's generation and stamps the rows it touched (recsys/catalog/store.py).
- `ChangeFeed.wait` returns once the generation differs from the one the reader holds. On SQLite
  `PolledGeneration` reads it every `interval` seconds (RECSYS_CHANGE_POLL_SECONDS): one indexed
  read of a one-row table. On PostgreSQL `NotifiedGeneration` blocks on LISTEN: every write
  transaction notifies with the generation it leaves, delivered only once it commits; a read of the
  generation every RECSYS_CHANGE_SAFETY_POLL_SECONDS is the safety net, and after a reconnection
  the generation is read at once, so what was written while the feed was deaf is caught up (the
  reader re-reads everything after the generation it holds). `change_feed` picks one by backend.
- `read_changes` then reads, in one read transaction, the generation, the article rows written
  after the reader's, the keys deleted since, every pin and block (small tables) and the running
  experiment's config (one row).
- `read_unpublished`, once when the reader starts from an index version: the articles that were in
  the catalog but retracted when the version was built, which no later change brings.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Protocol

from recsys.catalog.connection import Row
from recsys.catalog.experiment import read_experiment
from recsys.catalog.overrides import BlockMap, block_map, pin_map
from recsys.catalog.postgres import PgListener
from recsys.catalog.store import Catalog

# A lean article row (recsys.catalog.store.LEAN_COLUMNS), read by column name.
LeanRow = Row


@dataclass(frozen=True)
class CatalogChanges:
    """What changed in the catalog after a generation, read in one transaction."""

    generation: int
    rows: list[LeanRow]  # articles written after it, as they are now (no bodies)
    deleted: list[int]  # keys of articles deleted after it
    pins: dict[str, tuple[int, ...]]  # every pin, not only changed ones
    blocks: BlockMap  # every block, not only changed ones
    experiment: str | None = None  # the running experiment's config (JSON), None when none runs


def read_changes(catalog: Catalog, since: int, *, force: bool = False) -> CatalogChanges | None:
    """What changed after generation `since`; None when the generation has not moved (unless `force`:
    then the pins and blocks are read even so)."""
    # One read snapshot: the rows, pins and blocks agree with the generation.
    with catalog.read_snapshot() as conn:
        generation = catalog.generation()
        if generation == since and not force:
            return None
        rows, deleted = catalog.changed_since(since)
        return CatalogChanges(
            generation, rows, deleted, pin_map(conn), block_map(conn), read_experiment(conn)
        )


def read_unpublished(catalog: Catalog, generation: int) -> list[LeanRow]:
    """Lean rows of the articles retracted at `generation` and not written since: a version built at
    that generation does not hold them, and the changes after it do not name them. Read through the
    status index: retractions are few."""
    return catalog.lean_rows("WHERE status = 'retracted' AND changed_gen <= ?", (generation,))


class ChangeFeed(Protocol):
    def wait(self, seen: int, stop: threading.Event) -> int:
        """Block until the catalog's generation differs from `seen`, `stop` is set, or the feed has
        just (re)connected to its catalog; return the generation last seen. A catalog it cannot reach
        raises CatalogBusy; the next call tries again."""
        ...

    def close(self) -> None:
        """Release what the calling thread holds (its catalog connection)."""
        ...


class PolledGeneration:
    """The change feed by polling: the generation, read every `interval` seconds (SQLite's)."""

    def __init__(self, catalog: Catalog, interval: float) -> None:
        self.catalog = catalog
        self.interval = interval

    def wait(self, seen: int, stop: threading.Event) -> int:
        while True:
            generation = self.catalog.generation()
            if generation != seen or stop.wait(self.interval):
                return generation

    def close(self) -> None:
        self.catalog.close()


class NotifiedGeneration:
    """The change feed pushed by PostgreSQL: LISTEN on the catalog's channel, with the generation read
    every `safety_poll` seconds in case a notification was lost with a connection. `tick` bounds how
    long `stop` may wait to be seen (no statement runs per tick)."""

    def __init__(self, catalog: Catalog, listener: PgListener, *, tick: float, safety_poll: float) -> None:
        self.catalog = catalog
        self.listener = listener
        self.tick = tick
        self.safety_poll = safety_poll

    def wait(self, seen: int, stop: threading.Event) -> int:
        if self.listener.connect():
            # Listening from now on: what committed before is in the generation read after.
            return self.catalog.generation()
        poll_at = time.monotonic() + self.safety_poll
        while not stop.is_set():
            notified = self.listener.wait(min(self.tick, max(0.0, poll_at - time.monotonic())))
            if notified is not None and notified > seen:  # generations only grow
                return notified
            if time.monotonic() >= poll_at:
                generation = self.catalog.generation()
                if generation != seen:
                    return generation
                poll_at = time.monotonic() + self.safety_poll
        return seen

    def close(self) -> None:
        self.listener.close()
        self.catalog.close()


def change_feed(catalog: Catalog, *, interval: float, safety_poll: float) -> ChangeFeed:
    """The catalog's feed: notifications on PostgreSQL, a poll of the generation on SQLite."""
    listener = catalog.listener()
    if listener is None:
        return PolledGeneration(catalog, interval)
    return NotifiedGeneration(catalog, listener, tick=interval, safety_poll=safety_poll)
