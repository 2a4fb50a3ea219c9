"""What the ranking stages pass around: the subject, candidates, the page, and the listed result.

The subject is what a list is for; candidates carry where their headlines and articles come from
(read only when a stage needs them); the page holds what the list must not repeat.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

import numpy as np

from recsys.articles import Article, ListedFields
from recsys.serving.dedup import DuplicateRule


class Recommendation:
    """One listed story: its article, score and why it is listed. The Article is made when first
    read (library callers); the API renders the listed fields straight from the source (`fields`)."""

    __slots__ = ("_article", "_row", "_source", "arm", "key", "reason", "score")

    def __init__(
        self,
        article: Article | None,
        score: float,
        reason: str = "similar",  # similar | pinned | same_section | fallback
        key: int | None = None,
        *,
        source: ArticleSource | None = None,
        row: int = 0,
    ) -> None:
        self._article = article
        self.score = score
        self.reason = reason
        self.key = key
        self._source = source
        self._row = row
        # Under interleaving, the experiment's arm that contributed the item (None elsewhere).
        self.arm: str | None = None

    @property
    def article(self) -> Article:
        if self._article is None:
            assert self._source is not None  # one of the two is always given
            self._article = self._source.article(self._row)
        return self._article

    def fields(self) -> ListedFields:
        """What the listed article shows (articles.ListedFields)."""
        if self._article is None and self._source is not None:
            return self._source.fields(self._row)
        return self.article.listed()

    def __repr__(self) -> str:
        return f"Recommendation({self.fields()[0]!r}, {self.score:.4f}, {self.reason!r}, key={self.key})"


@dataclass(frozen=True)
class RankedList:
    items: list[Recommendation]
    collapsed: int = 0  # near-duplicates left out in favour of an item shown (or of the article)
    next_cursor: str | None = None
    # What ranked it (recsys/serving/experiments.py): an experiment's arm, or none of them.
    arm: str = "default"
    experiment: str = ""


@dataclass(frozen=True)
class Subject:
    """What a list is for: a stored article, or a draft (no id, no key)."""

    vector: np.ndarray
    article: Article
    key: int | None
    anchor: datetime  # its publication time (now for an undated draft): the date rules count from it

    @property
    def id(self) -> str | None:
        return self.article.id if self.key is not None else None

    @property
    def anchor_ts(self) -> float:
        return self.anchor.timestamp()

    @property
    def dated(self) -> bool:
        return bool(self.article.published_at)


class ArticleSource(Protocol):
    """Where a candidate's headline and article come from, fetched only when a stage needs them."""

    def title(self, row: int) -> str | None: ...

    def article(self, row: int) -> Article: ...

    def fields(self, row: int) -> ListedFields:
        """What a listed item shows (articles.ListedFields)."""
        ...


class ArticleAsSource:
    """The source of a candidate that is an Article already (read from the catalog, not a row of the
    served version): `row` is ignored."""

    __slots__ = ("_article",)

    def __init__(self, article: Article) -> None:
        self._article = article

    def title(self, row: int) -> str | None:
        return self._article.title

    def article(self, row: int) -> Article:
        return self._article

    def fields(self, row: int) -> ListedFields:
        return self._article.listed()


class Candidate:
    """An article that passed the hard rules, with what stages 2-6 need. Its headline is read only
    for the pairs close enough to be duplicates, its Article only for the few that are listed."""

    __slots__ = ("key", "vector", "similarity", "published", "row", "source")

    def __init__(
        self,
        key: int,
        vector: np.ndarray,
        similarity: float,
        published: float,  # epoch seconds, NaN when undated
        row: int,
        source: ArticleSource,
    ) -> None:
        self.key = key
        self.vector = vector
        self.similarity = similarity
        self.published = published
        self.row = row
        self.source = source

    @property
    def title(self) -> str | None:
        return self.source.title(self.row)

    def article(self) -> Article:
        return self.source.article(self.row)


class Page:
    """What is already on the page: the subject, excluded and earlier-page items, and every item
    chosen so far. Nothing on the page is listed again, nor any near-duplicate of it."""

    def __init__(self, subject: Subject, rule: DuplicateRule) -> None:
        self.rule = rule
        self.keys: set[int] = set() if subject.key is None else {subject.key}
        self._buffer = np.empty((16, len(subject.vector)), dtype=np.float32)
        self._buffer[0] = subject.vector
        self._count = 1
        self._titles: list[str | None] = [subject.article.title]

    @property
    def _vectors(self) -> np.ndarray:
        return self._buffer[: self._count]

    def add(self, key: int, vector: np.ndarray, title: str | None) -> None:
        self.keys.add(key)
        if self._count == len(self._buffer):
            self._buffer = np.concatenate([self._buffer, np.empty_like(self._buffer)])
        self._buffer[self._count] = vector
        self._count += 1
        self._titles.append(title)

    def similarities(self, vectors: np.ndarray) -> np.ndarray:
        """Cosine of each of `vectors` (rows) to everything on the page (columns)."""
        return vectors @ self._vectors.T

    def duplicates(self, candidate: Candidate, similarities: np.ndarray | None = None) -> bool:
        sims = self._vectors @ candidate.vector if similarities is None else similarities
        return self.rule.first_duplicate(sims, self._titles, candidate.title) is not None

    def duplicate_among(self, close: Sequence[int], similarities: np.ndarray, candidate: Candidate) -> bool:
        """Whether `candidate` duplicates one of the page's entries `close` (given its similarities
        to every entry)."""
        return any(
            self.rule.is_duplicate(float(similarities[j]), self._titles[j], candidate.title) for j in close
        )

    def listed_vectors(self) -> np.ndarray | None:
        return self._buffer[1 : self._count] if self._count > 1 else None
