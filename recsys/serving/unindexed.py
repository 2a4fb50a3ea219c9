"""Subjects of the articles the served version does not hold, prepared off the request path.

An article imported since the build (or retracted before it) has no row in the version: its list is
made from its text and its vector. The live state knows it by id and URL (recsys/serving/live.py,
`Unindexed`); its body and vector are prepared here when the state is refreshed (the service's change
watcher, a hot swap, `Recommender.refresh` in library use): the articles not prepared yet are read in
one query, their vectors taken from the embedding cache by content hash or else embedded, centered
with the version's language means when its vectors are (recsys/encoding/centering.py), and kept by
(key, content hash, language), so an edit of the text or the language prepares the article again and
a request reads memory.

Bounded: at most `limit` articles (RECSYS_UNINDEXED_MAX_ARTICLES), published ones before retracted
ones, the newest keys first. For an article past the bound, and one not prepared yet (imported since
the last preparation, or the catalog or the encoder refused it), a request reads the catalog and
embeds, as before. What a preparation could not do is tried at the next one; what it did stays.
"""

from __future__ import annotations

import heapq
import logging
import threading
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from recsys.catalog.store import Catalog, StoredArticle
from recsys.encoding.centering import Means, center, language_code
from recsys.encoding.protocol import Encoder
from recsys.encoding.recipe import TextRecipe
from recsys.errors import RecsysError
from recsys.serving.live import Unindexed, UnindexedArticle

log = logging.getLogger(__name__)

DEFAULT_LIMIT = 4096
ENCODE_BATCH = 32  # texts per encoder call: a preparation of thousands never holds the model long

Prepared = tuple[int, str, str | None]  # (key, content hash, language tag)


@dataclass(frozen=True)
class PreparedSubject:
    body: str | None
    vector: np.ndarray


class PreparedSubjects:
    """The prepared subjects of one served version. `model` and `recipe`: the version's, under which
    the embedding cache holds vectors comparable with its own; `centering`: the language means its
    vectors were centered with (None: not centered), which the cache's raw vectors are centered with."""

    def __init__(
        self,
        catalog: Catalog,
        encoder: Encoder | None,
        recipe: TextRecipe,
        *,
        model: str,
        limit: int = DEFAULT_LIMIT,
        centering: Means | None = None,
    ) -> None:
        self.catalog = catalog
        self.encoder = encoder
        self.recipe = recipe
        self.model = model
        self.limit = limit
        self.centering = centering
        # Replaced, never modified: a request reads it without a lock.
        self._ready: dict[Prepared, PreparedSubject] = {}
        self._lock = threading.Lock()  # one preparation at a time (the watcher, a hot swap)
        self._done: Unindexed | None = None  # the map last prepared as far as it can be

    def __len__(self) -> int:
        return len(self._ready)

    def get(self, entry: UnindexedArticle) -> PreparedSubject | None:
        return self._ready.get(_prepared(entry))

    def adopt(self, other: PreparedSubjects) -> None:
        """Take what `other` (the version served before) prepared, when its vectors are comparable."""
        if (
            other.model == self.model
            and other.recipe.id == self.recipe.id
            and _identity(other.centering) == _identity(self.centering)
        ):
            with self._lock:
                self._ready = {**other._ready, **self._ready}

    def prepare(self, unindexed: Unindexed) -> int:
        """Prepare what `unindexed` holds within the bound and drop what it no longer holds; returns
        how many were prepared now. Never raises for a catalog or an encoder that refuses: what was
        prepared stays, the rest is tried at the next call."""
        with self._lock:
            if unindexed is self._done:
                return 0
            wanted = _wanted(unindexed.by_key.values(), self.limit)
            ready = {k: v for k, v in self._ready.items() if k in wanted}
            missing = [k for k in wanted if k not in ready]
            complete = True
            if missing:
                try:
                    ready.update(self._load(missing))
                except Exception as exc:  # a refusal, or a bug: either way the refresh goes on
                    complete = False
                    log.warning(
                        "articles the index version lacks not prepared (tried again at the next refresh): %s",
                        exc,
                        exc_info=not isinstance(exc, RecsysError),
                    )
            prepared = len(ready) - (len(wanted) - len(missing))
            self._ready = ready
            # Articles no vector can be made for (no text, no encoder) are not retried until it moves.
            self._done = unindexed if complete else None
            return prepared

    def _load(self, missing: list[Prepared]) -> dict[Prepared, PreparedSubject]:
        found = list(self.catalog.by_keys([key for key, _, _ in missing]).values())  # with their bodies
        hashes = sorted({s.content_hash for s in found})
        vectors = self.catalog.cached_vectors(self.model, self.recipe.id, hashes) if hashes else {}
        todo = [s for s in found if s.content_hash not in vectors and self._text(s)]
        if todo and self.encoder is not None:
            for start in range(0, len(todo), ENCODE_BATCH):
                chunk = todo[start : start + ENCODE_BATCH]
                encoded = self.encoder.encode([self._text(s) for s in chunk])
                for s, vector in zip(chunk, encoded, strict=True):
                    vectors[s.content_hash] = np.asarray(vector, dtype=np.float32)
        ready = [s for s in found if s.content_hash in vectors]
        made = [vectors[s.content_hash] for s in ready]
        if ready and self.centering is not None:
            # The cache holds raw vectors: centered here, with each article's language as it is now.
            codes = [language_code(s.article.language) for s in ready]
            made = list(center(np.vstack(made), codes, self.centering))
        # Keyed by the hash and language the catalog has now: an edit since the state was read is
        # prepared for the state that will show it.
        return {_stored(s): PreparedSubject(s.article.body, v) for s, v in zip(ready, made, strict=True)}

    def _text(self, stored: StoredArticle) -> str:
        return self.recipe.text(stored.article.title, stored.article.body)


def _prepared(entry: UnindexedArticle) -> Prepared:
    return entry.key, entry.content_hash, entry.article.language


def _stored(stored: StoredArticle) -> Prepared:
    return stored.key, stored.content_hash, stored.article.language


def _identity(means: Means | None) -> str:
    return "" if means is None else means.identity


def _wanted(entries: Iterable[UnindexedArticle], limit: int) -> set[Prepared]:
    """The (key, hash, language) of the `limit` articles most likely to be viewed: published before
    retracted, then the newest."""
    best = heapq.nsmallest(limit, entries, key=lambda e: (e.article.status != "published", -e.key))
    return {_prepared(e) for e in best}
