"""The live view: an index version's snapshot with what changed in the catalog since laid on top.

A request reads the current LiveState once (`LiveView.current`: an attribute read, no catalog, no
lock) and works on that state from start to end: its ETag and its body come from the same one. A
state is never modified once published: `refresh` reads what changed in the catalog since the
state's generation (rows edited, retracted or deleted, and every pin and block: small tables;
recsys/catalog/changes.py), builds the next state, copying the per-row arrays only when an indexed
article changed, and swaps it in with one assignment. The running experiment
(recsys/serving/experiments.py) comes the same way: one row of the catalog, parsed when it changes.

The state also knows, by key, id and URL, every article of the catalog that the version does not
hold (imported since the build, or not published when it was built), as lean rows (`Unindexed`): an
id or URL in neither the snapshot nor that map is a 404 decided from memory. Their bodies and vectors
are prepared off the request path too (recsys/serving/unindexed.py).

Refreshes run off the request path: in the service, from a watcher that follows the catalog's change
feed and right after each write the service itself makes (service/state.py); in library use, when
the caller asks (`Recommender.refresh`), and once when the view is made.
"""

from __future__ import annotations

import json
import logging
import math
import threading
from dataclasses import dataclass, field, replace

import numpy as np

from recsys.articles import Article, ListedFields
from recsys.catalog.changes import CatalogChanges, LeanRow, read_changes, read_unpublished
from recsys.catalog.overrides import BlockMap
from recsys.catalog.store import Catalog
from recsys.errors import InvalidInput
from recsys.serving.experiments import Experiment, experiment_from_json
from recsys.version.snapshot import NO_CODE, Snapshot, epoch_of

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ChangedRow:
    """An indexed article as the catalog has it now, when that differs from the snapshot."""

    article: Article  # no body
    status: str  # published | retracted | deleted
    section: int
    tags: tuple[int, ...]
    published: float
    author: int = NO_CODE
    language: int = NO_CODE


@dataclass(frozen=True)
class UnindexedArticle:
    """An article of the catalog that the served version does not hold, as the catalog has it now."""

    key: int
    article: Article  # no body; its status is the catalog's (published or retracted)
    content_hash: str  # of its title and body: what its vector is prepared under


@dataclass(frozen=True)
class Unindexed:
    """The catalog's articles the served version does not hold (deleted ones leave), by key, with
    their ids and URLs. Never modified once published: a refresh that touches it makes a new one."""

    by_key: dict[int, UnindexedArticle] = field(default_factory=dict)
    ids: dict[str, int] = field(default_factory=dict)
    urls: dict[str, int] = field(default_factory=dict)

    def by_id(self, article_id: str) -> UnindexedArticle | None:
        key = self.ids.get(article_id)
        return None if key is None else self.by_key[key]

    def by_url(self, url: str) -> UnindexedArticle | None:
        key = self.urls.get(url)
        return None if key is None else self.by_key[key]

    def updated(self, rows: list[UnindexedArticle], deleted: list[int]) -> Unindexed:
        """With `rows` written and `deleted` keys gone; itself when neither touches it."""
        deleted = [key for key in deleted if key in self.by_key]
        if not rows and not deleted:
            return self
        by_key, ids, urls = dict(self.by_key), dict(self.ids), dict(self.urls)

        def forget(key: int) -> None:
            old = by_key.pop(key, None)
            # An id or URL may have moved to another key meanwhile (deleted, then imported again).
            if old is not None and ids.get(old.article.id) == key:
                del ids[old.article.id]
            if old is not None and old.article.url and urls.get(old.article.url) == key:
                del urls[old.article.url]

        for entry in rows:
            forget(entry.key)
            by_key[entry.key] = entry
            ids[entry.article.id] = entry.key
            if entry.article.url:
                urls[entry.article.url] = entry.key
        for key in deleted:
            forget(key)
        return Unindexed(by_key, ids, urls)


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
    # Per row: the language code now (NO_CODE: none), so a language rule is a vector comparison.
    languages: np.ndarray
    language_code: dict[str, int]
    changed: dict[int, ChangedRow] = field(default_factory=dict)
    urls: dict[str, int] = field(default_factory=dict)  # URLs of changed rows
    pins: dict[str, tuple[int, ...]] = field(default_factory=dict)  # article id -> pinned keys
    # scope ('' = everywhere, else an article id) -> (blocked key, expiry epoch or inf)
    blocks: dict[str, tuple[tuple[int, float], ...]] = field(default_factory=dict)
    unindexed: Unindexed = field(default_factory=Unindexed)  # articles the version does not hold
    # The running experiment (recsys/serving/experiments.py), None when none runs: stored in the
    # catalog, so it moves with the generation like the pins and blocks.
    experiment: Experiment | None = None

    def blocked_keys(self, article_id: str | None, now: float) -> list[int]:
        """Keys not to show under `article_id` (a draft: None, global blocks only) at time `now`."""
        found = [key for key, until in self.blocks.get("", ()) if until > now]
        if article_id:
            found += [key for key, until in self.blocks.get(article_id, ()) if until > now]
        return found

    def next_expiry(self, now: float) -> float:
        """The earliest block expiry after `now` (inf when none): lists may change then."""
        return min((u for entries in self.blocks.values() for _, u in entries if now < u), default=math.inf)


def built_state(snapshot: Snapshot) -> LiveState:
    """The state of the version as built: every article live, no pin, no block, nothing changed.
    The final lists (recsys/version/lists.py) are ranked under it."""
    return LiveState(
        generation=snapshot.catalog_generation,
        alive=np.ones(len(snapshot), dtype=bool),
        published=snapshot.published,
        sections=snapshot.sections,
        section_code=snapshot.section_code,
        tag_code=snapshot.tag_code,
        authors=snapshot.authors,
        author_code=snapshot.author_code,
        languages=snapshot.languages,
        language_code=snapshot.language_code,
    )


class LiveView:
    """The current LiveState of one snapshot, refreshed from the catalog when its generation moves."""

    def __init__(self, catalog: Catalog, snapshot: Snapshot) -> None:
        self.catalog = catalog
        self.snapshot = snapshot
        # Held by refreshes only (the watcher, a write's own refresh): requests never wait on it.
        self._lock = threading.Lock()
        built = built_state(snapshot)
        # Articles the catalog held unpublished when the version was built: the change feed brings
        # only what was written after, and a request for one must be answered from memory too.
        held = read_unpublished(catalog, built.generation)
        self._state = self._next(built, CatalogChanges(built.generation, held, [], {}, {})) if held else built
        self.refresh(force=True)  # the pins and blocks, even when nothing changed since the build

    def current(self) -> LiveState:
        """The state now: memory only. Read it once per request and pass it along."""
        return self._state

    @property
    def generation(self) -> int:
        return self._state.generation

    def refresh(self, *, force: bool = False) -> LiveState:
        """Bring the state up to the catalog: when its generation moved (or `force`), read what
        changed and swap in the next state. Returns the state now current."""
        with self._lock:
            changes = read_changes(self.catalog, self._state.generation, force=force)
            if changes is not None:
                self._state = self._next(self._state, changes)
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

    # -- the next state ------------------------------------------------------------------------------

    def _next(self, state: LiveState, changes: CatalogChanges) -> LiveState:
        generation, rows, deleted = changes.generation, changes.rows, changes.deleted
        pins, blocks = changes.pins, _block_times(changes.blocks)
        experiment = _experiment(state.experiment, changes.experiment)
        snapshot = self.snapshot
        keys = np.array([r["key"] for r in rows] + deleted, dtype=np.int64)
        at = snapshot.rows_of_keys(keys)
        outside = [
            _unindexed(record)
            for row_at, record in zip(at[: len(rows)].tolist(), rows, strict=True)
            if row_at < 0
        ]
        gone = [key for key, row_at in zip(deleted, at[len(rows) :].tolist(), strict=True) if row_at < 0]
        unindexed = state.unindexed.updated(outside, gone)
        if not (at >= 0).any():
            return replace(
                state,
                generation=generation,
                pins=pins,
                blocks=blocks,
                unindexed=unindexed,
                experiment=experiment,
            )
        alive, published, sections = state.alive.copy(), state.published.copy(), state.sections.copy()
        authors, languages = state.authors.copy(), state.languages.copy()
        codes = _Codes(
            dict(state.section_code), dict(state.tag_code), dict(state.author_code), dict(state.language_code)
        )
        changed, urls = dict(state.changed), dict(state.urls)
        for row_at, record in zip(at[: len(rows)].tolist(), rows, strict=True):
            if row_at < 0:
                continue  # not in this version (`unindexed`): never a candidate until the next build
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
            languages[row_at] = entry.language
        for row_at in at[len(rows) :].tolist():
            if row_at >= 0:
                alive[row_at] = False
                old = changed.get(row_at)
                base = old.article if old is not None else snapshot.article(row_at)
                changed[row_at] = ChangedRow(base, "deleted", int(sections[row_at]), (), math.nan)
        return LiveState(
            generation, alive, published, sections, codes.sections, codes.tags, authors, codes.authors,
            languages, codes.languages, changed, urls, pins, blocks, unindexed, experiment,
        )  # fmt: skip


def _experiment(current: Experiment | None, text: str | None) -> Experiment | None:
    """The experiment the stored `text` describes: `current` when it is the same one (the lists'
    per-arm rankings are kept by it), None when none runs or the text cannot be read (written by
    another release: logged, and the lists are the default ones rather than no lists at all)."""
    if text is None:
        return None
    if current is not None and current.to_json() == text:
        return current
    try:
        return experiment_from_json(text)
    except InvalidInput as exc:
        log.error("the stored experiment is not one this release reads (%s); serving without it", exc)
        return None


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
    languages: dict[str, int]


def _lean_article(record: LeanRow) -> Article:
    """The article of a lean row (no body)."""
    return Article(
        id=record["id"],
        url=record["url"],
        title=record["title"],
        section=record["section"],
        tags=tuple(json.loads(record["tags"])),
        published_at=record["published_at"],
        status=record["status"],
        image_url=record["image_url"],
        author=record["author"],
        language=record["language"],
    )


def _changed_row(record: LeanRow, codes: _Codes) -> ChangedRow:
    article = _lean_article(record)
    tags = article.tags
    return ChangedRow(
        article=article,
        status=record["status"],
        section=_code(codes.sections, record["section"]),
        tags=tuple(_code(codes.tags, t) for t in tags),
        published=epoch_of(record["published_at"]),
        author=_code(codes.authors, record["author"]),
        language=_code(codes.languages, record["language"]),
    )


def _unindexed(record: LeanRow) -> UnindexedArticle:
    return UnindexedArticle(int(record["key"]), _lean_article(record), record["content_hash"])


def _block_times(blocks: BlockMap) -> dict[str, tuple[tuple[int, float], ...]]:
    """Blocks with their expiry in epoch seconds."""
    return {
        scope: tuple((key, _until(expires)) for key, expires in entries) for scope, entries in blocks.items()
    }


def _until(expires: str | None) -> float:
    """A block's expiry in epoch seconds: inf for none, and for one that cannot be read."""
    until = epoch_of(expires) if expires else math.inf
    return math.inf if math.isnan(until) else until
