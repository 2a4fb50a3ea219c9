"""The live view: an index version's snapshot with what changed in the catalog since laid on top.

Every catalog write bumps its generation (recsys/catalog/sqlite.py) and stamps the rows it touched. A
request asks for the current state, which costs one read of the generation; only when it moved is the
catalog read again, and then only what changed since the last read (rows edited, retracted or deleted,
and every pin and block: small tables). A state is never modified once published: a refresh builds the
next one, copying the per-row arrays only when an indexed article changed, and swaps it in with one
assignment, so a request works on one consistent state from start to end.
"""

from __future__ import annotations

import json
import math
import sqlite3
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import numpy as np

from recsys.articles import Article, ListedFields
from recsys.catalog.sqlite import Catalog
from recsys.version.snapshot import NO_CODE, Snapshot, epoch_of


@dataclass(frozen=True)
class ChangedRow:
    """An indexed article as the catalog has it now, when that differs from the snapshot."""

    article: Article  # no body
    status: str  # published | retracted | deleted
    section: int
    tags: tuple[int, ...]
    published: float
    author: int = NO_CODE


@dataclass(frozen=True)
class LiveState:
    generation: int
    alive: np.ndarray  # per row: published now (not retracted, not deleted)
    published: np.ndarray  # per row: publication time now (epoch seconds, NaN undated)
    sections: np.ndarray  # per row: section code now
    section_code: dict[str, int]
    tag_code: dict[str, int]
    authors: np.ndarray  # per row: author code now
    author_code: dict[str, int]
    changed: dict[int, ChangedRow] = field(default_factory=dict)
    urls: dict[str, int] = field(default_factory=dict)  # URLs of changed rows
    pins: dict[str, tuple[int, ...]] = field(default_factory=dict)  # article id -> pinned keys
    # scope ('' = everywhere, else an article id) -> (blocked key, expiry epoch or inf)
    blocks: dict[str, tuple[tuple[int, float], ...]] = field(default_factory=dict)

    def blocked_keys(self, article_id: str | None, now: float) -> list[int]:
        """Keys not to show under `article_id` (a draft: None, global blocks only) at time `now`."""
        found = [key for key, until in self.blocks.get("", ()) if until > now]
        if article_id:
            found += [key for key, until in self.blocks.get(article_id, ()) if until > now]
        return found

    def next_expiry(self, now: float) -> float:
        """The earliest block expiry after `now` (inf when none): lists may change then."""
        return min((u for entries in self.blocks.values() for _, u in entries if now < u), default=math.inf)


class LiveView:
    """The current LiveState of one snapshot, refreshed from the catalog when its generation moves."""

    def __init__(self, catalog: Catalog, snapshot: Snapshot) -> None:
        self.catalog = catalog
        self.snapshot = snapshot
        self._lock = threading.Lock()
        self._state = LiveState(
            generation=snapshot.catalog_generation,
            alive=np.ones(len(snapshot), dtype=bool),
            published=snapshot.published,
            sections=snapshot.sections,
            section_code=snapshot.section_code,
            tag_code=snapshot.tag_code,
            authors=snapshot.authors,
            author_code=snapshot.author_code,
        )
        self._state = self._refresh(self._state, force_overrides=True)

    def current(self) -> LiveState:
        state = self._state
        if self.catalog.generation() == state.generation:
            return state
        with self._lock:
            # Another request may have refreshed while this one waited.
            if self.catalog.generation() != self._state.generation:
                self._state = self._refresh(self._state)
            return self._state

    def article(self, state: LiveState, row: int) -> Article:
        changed = state.changed.get(row)
        return changed.article if changed is not None else self.snapshot.article(row)

    def fields(self, state: LiveState, row: int) -> ListedFields:
        changed = state.changed.get(row)
        return self.snapshot.fields(row) if changed is None else changed.article.listed()

    def title(self, state: LiveState, row: int) -> str | None:
        changed = state.changed.get(row)
        return changed.article.title if changed is not None else self.snapshot.titles.get(row)

    # -- reading the catalog ---------------------------------------------------------------------

    def _refresh(self, state: LiveState, force_overrides: bool = False) -> LiveState:
        conn = self.catalog.connection()
        conn.execute("BEGIN")
        try:
            generation = self.catalog.generation()
            if generation == state.generation and not force_overrides:
                return state
            rows, deleted = self.catalog.changed_since(state.generation)
            pins = _pins(conn)
            blocks = _blocks(conn)
        finally:
            conn.execute("COMMIT")
        snapshot = self.snapshot
        keys = np.array([r["key"] for r in rows] + deleted, dtype=np.int64)
        at = snapshot.rows_of_keys(keys)
        if not (at >= 0).any():
            return replace(state, generation=generation, pins=pins, blocks=blocks)
        alive, published, sections = state.alive.copy(), state.published.copy(), state.sections.copy()
        authors = state.authors.copy()
        codes = _Codes(dict(state.section_code), dict(state.tag_code), dict(state.author_code))
        changed, urls = dict(state.changed), dict(state.urls)
        for row_at, record in zip(at[: len(rows)].tolist(), rows, strict=True):
            if row_at < 0:
                continue  # not in this version: never a candidate until the next build
            entry = _changed_row(record, codes)
            previous = changed.get(row_at)
            if previous is not None and previous.article.url:
                urls.pop(previous.article.url, None)
            changed[row_at] = entry
            if entry.article.url:
                urls[entry.article.url] = row_at
            alive[row_at] = entry.status == "published"
            published[row_at] = entry.published
            sections[row_at] = entry.section
            authors[row_at] = entry.author
        for row_at in at[len(rows) :].tolist():
            if row_at >= 0:
                alive[row_at] = False
                old = changed.get(row_at)
                base = old.article if old is not None else snapshot.article(row_at)
                changed[row_at] = ChangedRow(base, "deleted", int(sections[row_at]), (), math.nan)
        return LiveState(
            generation, alive, published, sections, codes.sections, codes.tags, authors, codes.authors,
            changed, urls, pins, blocks,
        )  # fmt: skip


def _code(names: dict[str, int], name: str | None) -> int:
    if not name:
        return NO_CODE
    return names.setdefault(name, len(names))


@dataclass(frozen=True)
class _Codes:
    """The name -> code tables a refresh extends with names the version has not seen."""

    sections: dict[str, int]
    tags: dict[str, int]
    authors: dict[str, int]


def _changed_row(record: sqlite3.Row, codes: _Codes) -> ChangedRow:
    tags = tuple(json.loads(record["tags"]))
    article = Article(
        id=record["id"],
        url=record["url"],
        title=record["title"],
        section=record["section"],
        tags=tags,
        published_at=record["published_at"],
        status=record["status"],
        image_url=record["image_url"],
        author=record["author"],
    )
    return ChangedRow(
        article=article,
        status=record["status"],
        section=_code(codes.sections, record["section"]),
        tags=tuple(_code(codes.tags, t) for t in tags),
        published=epoch_of(record["published_at"]),
        author=_code(codes.authors, record["author"]),
    )


def _pins(conn: sqlite3.Connection) -> dict[str, tuple[int, ...]]:
    found: dict[str, list[int]] = {}
    rows = conn.execute(
        "SELECT p.article_id, a.key FROM pins p JOIN articles a ON a.id = p.target_id "
        "ORDER BY p.article_id, p.position"
    )
    for article_id, key in rows:
        found.setdefault(article_id, []).append(int(key))
    return {article_id: tuple(keys) for article_id, keys in found.items()}


def _blocks(conn: sqlite3.Connection) -> dict[str, tuple[tuple[int, float], ...]]:
    found: dict[str, list[tuple[int, float]]] = {}
    rows: Sequence[tuple[str, str | None, int]] = conn.execute(
        "SELECT b.scope, b.expires_at, a.key FROM blocks b JOIN articles a ON a.id = b.target_id"
    ).fetchall()
    for scope, expires, key in rows:
        until = epoch_of(expires) if expires else math.inf
        found.setdefault(scope, []).append((int(key), math.inf if math.isnan(until) else until))
    return {scope: tuple(entries) for scope, entries in found.items()}
