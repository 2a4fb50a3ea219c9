"""From candidates to the list a page shows: one pipeline, in this order.

1. hard rules (`Rules`): never the article itself, a retracted article, one published in the future,
   one an editor blocked, one the page already shows (`exclude`, earlier pages); then the request's
   filters (section, tag, date window, background mode);
2. pins: the editor's picks for the article, first and in their order (still under the hard rules);
3. scoring: cosine similarity, blended with a freshness decay when freshness is on;
4. near-duplicate collapse (recsys/dedup.py): best-first, a candidate that duplicates the article,
   something already on the page or a better candidate is dropped and counted;
5. diversity: maximal marginal relevance (recsys/diversity.py) over what is left;
6. fallback: while the list is short, the most recent stories of the article's section that pass
   every rule above.

The rules are checked against the catalog at query time, not at build time, so a retraction, a block
or a pin takes effect on the next request.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np

from recsys.articles import Article, parse_timestamp
from recsys.catalog import StoredArticle
from recsys.dedup import DuplicateRule
from recsys.diversity import mmr_order
from recsys.query import RelatedQuery
from recsys.settings import Settings

SECONDS_PER_DAY = 86_400.0


@dataclass(frozen=True)
class Recommendation:
    article: Article
    score: float
    reason: str = "similar"  # similar | pinned | same_section | fallback
    key: int | None = None


@dataclass(frozen=True)
class RankedList:
    items: list[Recommendation]
    collapsed: int = 0  # near-duplicates left out in favour of an item shown (or of the article)
    next_cursor: str | None = None


@dataclass(frozen=True)
class Policy:
    """The ranking knobs that are configuration, not request parameters (see Settings)."""

    duplicates: DuplicateRule = field(default_factory=DuplicateRule)
    mmr_lambda: float = 0.7
    freshness_weight: float = 0.3
    half_life_days: float = 7.0
    section_pool: int = 200

    @classmethod
    def from_settings(cls, settings: Settings) -> Policy:
        return cls(
            duplicates=DuplicateRule(
                cosine=settings.dup_cosine,
                cosine_with_title=settings.dup_cosine_with_title,
                title=settings.dup_title_similarity,
            ),
            mmr_lambda=settings.mmr_lambda,
            freshness_weight=settings.freshness_weight,
            half_life_days=settings.freshness_half_life_days,
            section_pool=settings.section_pool,
        )


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


@dataclass(frozen=True)
class Candidate:
    stored: StoredArticle
    vector: np.ndarray
    similarity: float

    @property
    def key(self) -> int:
        return self.stored.key


def published(stored: StoredArticle) -> datetime | None:
    value = stored.article.published_at
    return parse_timestamp(value) if value else None


def eligible(candidate: StoredArticle, query: StoredArticle | None, now: datetime) -> bool:
    """The never-show rules that hold for every list: not itself, not retracted, not in the future."""
    if query is not None and (candidate.key == query.key or candidate.id == query.id):
        return False
    if candidate.status != "published":
        return False
    moment = published(candidate)
    return not (moment is not None and moment > now)


def rank_similar(
    keys: np.ndarray,
    scores: np.ndarray,
    articles: dict[int, StoredArticle],
    query: StoredArticle | None,
    limit: int,
    now: datetime,
) -> list[Recommendation]:
    """Plain nearest neighbours under the never-show rules, no other stage (a baseline)."""
    chosen: list[Recommendation] = []
    for key, score in zip(keys.tolist(), scores.tolist(), strict=True):
        if key < 0:
            break  # FAISS pads with -1 when it has fewer results than asked
        candidate = articles.get(key)
        if candidate is None or not eligible(candidate, query, now):
            continue
        chosen.append(Recommendation(article=candidate.article, score=float(score), key=key))
        if len(chosen) == limit:
            break
    return chosen


class Rules:
    """Stage 1: may this article appear at all under this subject, for this request?"""

    def __init__(self, subject: Subject, query: RelatedQuery, blocked: set[str], now: datetime) -> None:
        self.subject = subject
        self.query = query
        self.blocked = blocked
        self.now = now
        self.oldest = subject.anchor - query.max_age if query.max_age is not None else None
        # Under any date rule an undated candidate is left out: it cannot be shown to satisfy it.
        self.dated = query.background or any(
            value is not None for value in (query.since, query.until, query.max_age_days)
        )

    def allows(self, stored: StoredArticle) -> bool:
        subject, query, article = self.subject, self.query, stored.article
        if stored.key == subject.key or (subject.id is not None and stored.id == subject.id):
            return False
        if stored.status != "published" or stored.id in self.blocked:
            return False
        moment = published(stored)
        if moment is not None and moment > self.now:
            return False
        if query.sections and article.section not in query.sections:
            return False
        if query.exclude_sections and article.section in query.exclude_sections:
            return False
        if query.tags and not set(article.tags) & set(query.tags):
            return False
        if query.exclude_tags and set(article.tags) & set(query.exclude_tags):
            return False
        if self.dated:
            if moment is None:
                return False
            if query.since is not None and moment < query.since:
                return False
            if query.until is not None and moment > query.until:
                return False
            if self.oldest is not None and moment < self.oldest:
                return False
            if query.background and moment >= subject.anchor:
                return False
        return True


class Page:
    """What is already on the page: the subject, excluded and earlier-page items, and every item
    chosen so far. Nothing on the page is listed again, nor any near-duplicate of it."""

    def __init__(self, subject: Subject, rule: DuplicateRule) -> None:
        self.rule = rule
        self.keys: set[int] = set() if subject.key is None else {subject.key}
        self._vectors: list[np.ndarray] = [subject.vector]
        self._titles: list[str | None] = [subject.article.title]
        self._listed = 0  # vectors past the subject's: used for diversity

    def add(self, key: int, vector: np.ndarray, title: str | None) -> None:
        self.keys.add(key)
        self._vectors.append(vector)
        self._titles.append(title)
        self._listed += 1

    def duplicates(self, candidate: Candidate) -> bool:
        sims = np.stack(self._vectors) @ candidate.vector
        title = candidate.stored.article.title
        return any(
            self.rule.is_duplicate(float(s), t, title) for s, t in zip(sims, self._titles, strict=True)
        )

    def listed_vectors(self) -> np.ndarray | None:
        return np.stack(self._vectors[1:]) if self._listed else None


def freshness(moment: datetime | None, anchor: datetime, half_life_days: float) -> float:
    """1 at the anchor, halving every `half_life_days` either side; 0 for an undated article."""
    if moment is None:
        return 0.0
    gap_days = abs((moment - anchor).total_seconds()) / SECONDS_PER_DAY
    return float(0.5 ** (gap_days / half_life_days))


def rank_list(
    subject: Subject,
    candidates: Sequence[Candidate],
    *,
    query: RelatedQuery,
    policy: Policy,
    rules: Rules,
    page: Page,
    limit: int,
    fresh: bool,
    reason: str,
    pins: Sequence[Candidate] = (),
    fallback: Callable[[], Sequence[Candidate]] | None = None,
    pool_size: int | None = None,
) -> RankedList:
    """Stages 2-6 for one list; items chosen are added to `page`, so a later block never repeats them.

    `fallback` is called only when the list is still short (it reads the catalog)."""
    items: list[Recommendation] = []
    collapsed = 0

    def take(candidate: Candidate, score: float, why: str) -> None:
        items.append(Recommendation(candidate.stored.article, score, why, candidate.key))
        page.add(candidate.key, candidate.vector, candidate.stored.article.title)

    for pin in pins:
        if len(items) >= limit:
            break
        if pin.key in page.keys or not rules.allows(pin.stored):
            continue
        if query.dedup and page.duplicates(pin):
            collapsed += 1
            continue
        take(pin, pin.similarity, "pinned")

    half_life = query.half_life_days or policy.half_life_days
    weight = policy.freshness_weight if fresh else 0.0

    def score_of(candidate: Candidate) -> float:
        if weight == 0.0:
            return candidate.similarity
        decay = freshness(published(candidate.stored), subject.anchor, half_life)
        return (1.0 - weight) * candidate.similarity + weight * decay

    scored = sorted(
        ((score_of(c), c) for c in candidates if c.key not in page.keys and rules.allows(c.stored)),
        key=lambda pair: (-pair[0], pair[1].key),
    )
    room = limit - len(items)
    pool_size = pool_size or max(3 * room, 30)
    kept: list[tuple[float, Candidate]] = []
    # For each dropped duplicate, the kept candidate it duplicates (None: something on the page).
    dropped_for: list[int | None] = []
    seen_keys: set[int] = set()
    for score, candidate in scored:
        if len(kept) >= pool_size or room <= 0:
            break
        if candidate.key in seen_keys:
            continue
        seen_keys.add(candidate.key)
        if query.dedup:
            if page.duplicates(candidate):
                dropped_for.append(None)
                continue
            twin = _duplicate_of(candidate, kept, policy.duplicates)
            if twin is not None:
                dropped_for.append(twin)
                continue
        kept.append((score, candidate))

    lam = policy.mmr_lambda if query.diversity else 1.0
    relevance = np.array([score for score, _ in kept], dtype=np.float64)
    vectors = np.stack([c.vector for _, c in kept]) if kept else np.zeros((0, 1), dtype=np.float32)
    order = mmr_order(relevance, vectors, lam, room, picked=page.listed_vectors())
    for index in order:
        score, candidate = kept[index]
        take(candidate, score, reason)
    shown = set(order)
    collapsed += sum(1 for twin in dropped_for if twin is None or twin in shown)

    for candidate in fallback() if fallback is not None and len(items) < limit else ():
        if len(items) >= limit:
            break
        if candidate.key in page.keys or not rules.allows(candidate.stored):
            continue
        if query.dedup and page.duplicates(candidate):
            continue
        take(candidate, score_of(candidate), "fallback")
    return RankedList(items=items, collapsed=collapsed)


def _duplicate_of(
    candidate: Candidate, kept: list[tuple[float, Candidate]], rule: DuplicateRule
) -> int | None:
    if not kept:
        return None
    sims = np.stack([c.vector for _, c in kept]) @ candidate.vector
    title = candidate.stored.article.title
    for index, (similarity, (_, other)) in enumerate(zip(sims.tolist(), kept, strict=True)):
        if rule.is_duplicate(similarity, other.stored.article.title, title):
            return index
    return None
