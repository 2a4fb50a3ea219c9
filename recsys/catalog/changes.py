"""The catalog's change feed: how a reader that keeps it in memory learns that it changed, and what.

The reader is the query side's live view (recsys/serving/live.py).

Every write bumps the catalog's generation and stamps the rows it touched (recsys/catalog/sqlite.py).
- `ChangeFeed.wait` returns once the generation differs from the one the reader holds. Here
  `PolledGeneration` reads it every `interval` seconds (RECSYS_CHANGE_POLL_SECONDS): one indexed
  read of a one-row table. A catalog that can push (PostgreSQL's LISTEN/NOTIFY) implements `wait`
  by blocking on its notifications instead; nothing above the feed changes.
- `read_changes` then reads, in one read transaction, the generation, the article rows written
  after the reader's, the keys deleted since, and every pin and block (small tables).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Protocol

from recsys.catalog.connection import Row
from recsys.catalog.overrides import BlockMap, block_map, pin_map
from recsys.catalog.sqlite import Catalog

# A lean article row (recsys.catalog.sqlite.LEAN_COLUMNS), read by column name.
LeanRow = Row


@dataclass(frozen=True)
class CatalogChanges:
    """What changed in the catalog after a generation, read in one transaction."""

    generation: int
    rows: list[LeanRow]  # articles written after it, as they are now (no bodies)
    deleted: list[int]  # keys of articles deleted after it
    pins: dict[str, tuple[int, ...]]  # every pin, not only changed ones
    blocks: BlockMap  # every block, not only changed ones


def read_changes(catalog: Catalog, since: int, *, force: bool = False) -> CatalogChanges | None:
    """What changed after generation `since`; None when the generation has not moved (unless `force`:
    then the pins and blocks are read even so)."""
    # One read snapshot: the rows, pins and blocks agree with the generation.
    with catalog.read_snapshot() as conn:
        generation = catalog.generation()
        if generation == since and not force:
            return None
        rows, deleted = catalog.changed_since(since)
        return CatalogChanges(generation, rows, deleted, pin_map(conn), block_map(conn))


class ChangeFeed(Protocol):
    def wait(self, seen: int, stop: threading.Event) -> int:
        """Block until the catalog's generation differs from `seen` or `stop` is set; return the
        generation last seen."""
        ...

    def close(self) -> None:
        """Release what the calling thread holds (its catalog connection)."""
        ...


class PolledGeneration:
    """The change feed by polling: the generation, read every `interval` seconds (either backend; a
    PostgreSQL catalog could push instead, LISTEN/NOTIFY, which is not built yet)."""

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
