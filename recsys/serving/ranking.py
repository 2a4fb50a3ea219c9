"""From candidates to the list a page shows: one pipeline, in this order.

1. hard rules: never the article itself, a retracted article, one published in the future, one an
   editor blocked, one the page already shows (`exclude`, earlier pages); then the request's filters
   (section, tag, date window, background mode);
2. pins: the editor's picks for the article, first and in their order (still under the hard rules);
3. scoring: relevance (cosine, blended with the normalised BM25 match: `Policy.relevance`), blended
   with a freshness decay when freshness is on, or else, for a dated article, weighted by the time
   prior (a long two-sided decay around the article's date);
4. near-duplicate collapse (recsys/serving/dedup.py): best-first, a candidate that duplicates the article,
   something already on the page or a better candidate is dropped and counted;
5. diversity: maximal marginal relevance (recsys/serving/diversity.py) over a pool of the best candidates
   left (`pool_for`), with a redundancy cap: when only near-copies of listed items (cosine >= the
   cap) are left in the pool, the deeper candidates already scored (up to `depth`, never a new
   search) are looked at for different stories first;
6. fallback: while the list is short, the most recent stories of the article's section that pass
   every rule above; then, if the list is still short, the capped near-copies of stage 5, best first.
   Near-copies come after the section's stories because a templated report repeated (Reuters'
   weekly money-market notices) is what a reader sees as the same item again: on Reuters this took
   near-duplicate pairs per list from 0.16 to 0.00 at equal precision (docs/ranking-candidates.md,
   "Diversity"). Without a section they still fill the list rather than leave it short.

Stage 1 is the caller's: the query side (recsys/serving/recommend.py) applies the rules to arrays of
candidate rows (recsys/serving/rules.py) before anything here runs, against the live view of the catalog
(recsys/serving/live.py), so a retraction, a block or a pin takes effect on the next request. `Rules` below
states the same rules for one article at a time: the reference the array form is tested against, and
the check for the rare candidate that has no row in the served version (a pin not indexed yet).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

import numpy as np

from recsys.articles import Article, ListedFields, parse_timestamp
from recsys.serving.dedup import DuplicateRule
from recsys.serving.diversity import mmr_order
from recsys.serving.query import RelatedQuery
from recsys.settings import Settings

SECONDS_PER_DAY = 86_400.0


class Recommendation:
    """One listed story: its article, score and why it is listed. The Article is made when first
    read (library callers); the API renders the listed fields straight from the source (`fields`)."""

    __slots__ = ("_article", "_row", "_source", "key", "reason", "score")

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


@dataclass(frozen=True)
class Policy:
    """The ranking knobs that are configuration, not request parameters (see Settings)."""

    duplicates: DuplicateRule = field(default_factory=DuplicateRule)
    mmr_lambda: float = 0.7
    redundancy_cap: float = 1.0  # MMR: cosine to a listed item from which a candidate comes last
    freshness_weight: float = 0.3
    half_life_days: float = 7.0
    section_pool: int = 200
    # Share of relevance given to the normalised BM25 match (0: cosine alone); see recsys/version/lexical.py.
    fusion_weight: float = 0.0
    time_prior_weight: float = 0.0
    time_prior_half_life_days: float = 30.0
    # Shapes of the time prior measured against the default (docs/ranking-candidates.md); none beat
    # it on both wcep2025_dev and reuters, so they are sweep knobs, not settings.
    # The prior re-orders only the close matches: candidates whose relevance is at least this share
    # of the best candidate's. The rest take the prior's floor (1 - weight), so they stay below every
    # close match and in relevance order. 0: the prior applies to every candidate.
    time_prior_band: float = 0.0
    # False: relevance x (1 - w + w x decay); True: relevance - w x (1 - decay), a penalty in
    # cosine units that does not shrink with the candidate's relevance.
    time_prior_additive: bool = False
    # Shape of the decay: 0.5 ** ((gap / half-life) ** exponent). 1: exponential in the gap; 2: a
    # Gaussian, nearly flat within the half-life and steep past it.
    time_prior_exponent: float = 1.0

    @classmethod
    def from_settings(cls, settings: Settings) -> Policy:
        return cls(
            duplicates=DuplicateRule(
                cosine=settings.dup_cosine,
                cosine_with_title=settings.dup_cosine_with_title,
                title=settings.dup_title_similarity,
            ),
            mmr_lambda=settings.mmr_lambda,
            redundancy_cap=settings.redundancy_cap,
            freshness_weight=settings.freshness_weight,
            half_life_days=settings.freshness_half_life_days,
            section_pool=settings.section_pool,
            fusion_weight=settings.fusion_weight if settings.fusion == "blend" else 0.0,
            time_prior_weight=settings.time_prior_weight,
            time_prior_half_life_days=settings.time_prior_half_life_days,
        )

    def relevance(self, cosine: Any, lexical: Any) -> Any:
        """What the ranking calls a candidate's relevance: its cosine, blended with its normalised
        BM25 match (0 where the article's lexical list does not hold it); arrays or scalars."""
        w = self.fusion_weight
        return cosine if w == 0.0 else (1.0 - w) * cosine + w * lexical


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


def published(article: Article) -> datetime | None:
    value = article.published_at
    return parse_timestamp(value) if value else None


class Rules:
    """Stage 1 for one article: may it appear at all under this subject, for this request?"""

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

    def allows(self, article: Article, key: int | None, status: str) -> bool:
        subject, query = self.subject, self.query
        if key == subject.key or (subject.id is not None and article.id == subject.id):
            return False
        if status != "published" or article.id in self.blocked:
            return False
        moment = published(article)
        if moment is not None and moment > self.now:
            return False
        if query.sections and article.section not in query.sections:
            return False
        if query.exclude_sections and article.section in query.exclude_sections:
            return False
        if query.authors and article.author not in query.authors:
            return False
        if query.exclude_authors and article.author in query.exclude_authors:
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


def freshness(moment: float, anchor: float, half_life_days: float, exponent: float = 1.0) -> float:
    """1 at the anchor, halving every `half_life_days` either side; 0 for an undated article (NaN).
    `exponent` shapes the decay, 0.5 ** ((gap / half-life) ** exponent): 2 is a Gaussian."""
    if math.isnan(moment):
        return 0.0
    gap_days = abs(moment - anchor) / SECONDS_PER_DAY
    return float(0.5 ** ((gap_days / half_life_days) ** exponent))  # x ** 1.0 is x exactly


def pool_for(limit: int) -> int:
    """How many non-duplicate candidates stage 5 chooses a list of `limit` from: its pool."""
    return max(3 * limit, 30)


def depth(limit: int) -> int:
    """How far down the scored candidates (best first, less what the page holds) rank_list may look
    for a list of `limit`: its pool, what dedup drops on the way, and reserves for when the pool's
    best left are near-copies of what is listed (stage 5). It looks no deeper than it is handed: a
    caller that hands only the best candidates where another path hands every one (the section
    block against tests/reference.py) hands at least this many plus the page's keys
    (Recommender._reach), so both list the same; `related` hands both paths the same best few."""
    return 4 * pool_for(limit)


def rank_list(
    subject: Subject,
    candidates: Sequence[Candidate],
    *,
    query: RelatedQuery,
    policy: Policy,
    page: Page,
    limit: int,
    fresh: bool,
    reason: str,
    pins: Sequence[Candidate] = (),
    fallback: Callable[[], Sequence[Candidate]] | None = None,
    pool_size: int | None = None,
) -> RankedList:
    """Stages 2-6 for candidates that passed the hard rules; items chosen are added to `page`, so a
    later block never repeats them. `fallback` is called only when the list is still short."""
    items: list[Recommendation] = []
    collapsed = 0

    def take(candidate: Candidate, score: float, why: str) -> None:
        items.append(
            Recommendation(None, score, why, candidate.key, source=candidate.source, row=candidate.row)
        )
        page.add(candidate.key, candidate.vector, candidate.title)

    for pin in pins:
        if len(items) >= limit:
            break
        if pin.key in page.keys:
            continue
        if query.dedup and page.duplicates(pin):
            collapsed += 1
            continue
        take(pin, pin.similarity, "pinned")

    half_life = query.half_life_days or policy.half_life_days
    weight = policy.freshness_weight if fresh else 0.0
    anchor = subject.anchor_ts
    # The time prior: a dated article's related stories lean towards its own time, either side
    # (an old article may list later developments), unless the request asked about freshness.
    prior = policy.time_prior_weight if not fresh and query.freshness is None and subject.dated else 0.0
    prior_half_life = policy.time_prior_half_life_days
    # Relevance from which a candidate is a close match the prior may re-order (see Policy).
    band = -math.inf  # off: every candidate, negative cosines included
    if prior and policy.time_prior_band > 0.0:
        best = max((c.similarity for c in candidates if c.key not in page.keys), default=0.0)
        band = policy.time_prior_band * best
    additive = bool(policy.time_prior_additive)

    def score_of(candidate: Candidate) -> float:
        if prior and not math.isnan(candidate.published):
            decay = 0.0  # a weaker candidate than the close matches: the prior's floor
            if candidate.similarity >= band:
                decay = freshness(candidate.published, anchor, prior_half_life, policy.time_prior_exponent)
            if additive:
                return candidate.similarity - prior * (1.0 - decay)
            return candidate.similarity * (1.0 - prior + prior * decay)
        if weight == 0.0:
            return candidate.similarity
        decay = freshness(candidate.published, anchor, half_life)
        return (1.0 - weight) * candidate.similarity + weight * decay

    scored = sorted(
        ((score_of(c), c) for c in candidates if c.key not in page.keys),
        key=lambda pair: (-pair[0], pair[1].key),
    )
    room = limit - len(items)
    pool_size = pool_size or pool_for(room)
    # How far down `scored` the list may look for reserves (see depth()).
    deepest = min(len(scored), depth(room) if room > 0 else 0)
    kept: list[tuple[float, Candidate]] = []
    # For each dropped duplicate, the kept candidate it duplicates (None: something on the page).
    dropped_for: list[int | None] = []
    seen_keys: set[int] = set()
    # Every similarity the loop can need, in two products: candidates against the page, and against
    # each other. Only the pairs close enough to be duplicates are then looked at one by one.
    # Enough for a list with a few duplicates; past it (many duplicates) the loop computes as it goes.
    reach = scored[: pool_size + 16]
    close_to_page: dict[int, list[int]] = {}
    close_to_earlier: dict[int, list[int]] = {}
    among: np.ndarray | None = None
    if query.dedup and reach:
        vectors = np.stack([c.vector for _, c in reach])
        to_page = page.similarities(vectors).astype(np.float64)
        among = (vectors @ vectors.T).astype(np.float64)
        threshold = policy.duplicates.cosine_with_title
        for i, j in zip(*np.nonzero(to_page >= threshold), strict=True):
            close_to_page.setdefault(int(i), []).append(int(j))
        for i, j in zip(*np.nonzero(np.tril(among >= threshold, -1)), strict=True):
            close_to_earlier.setdefault(int(i), []).append(int(j))
    kept_at: dict[int, int] = {}  # position in `scored` -> index in `kept`
    position = 0  # the next position of `scored` to look at

    def keep_until(count: int, end: int) -> None:
        """Stage 4: keep non-duplicates, best first, until `count` are kept or `end` is reached."""
        nonlocal position
        while position < end and len(kept) < count:
            at, (score, candidate) = position, scored[position]
            position += 1
            if candidate.key in seen_keys:
                continue
            seen_keys.add(candidate.key)
            if query.dedup:
                if among is not None and at < len(reach):
                    on_page = page.duplicate_among(close_to_page.get(at, ()), to_page[at], candidate)
                    twin = _first_kept_twin(
                        candidate, close_to_earlier.get(at, ()), among[at], scored, kept_at, policy
                    )
                else:  # past what was computed ahead: one product each
                    on_page = page.duplicates(candidate)
                    twin = policy.duplicates.first_duplicate(
                        np.stack([c.vector for _, c in kept]) @ candidate.vector if kept else np.zeros(0),
                        [c.title for _, c in kept],
                        candidate.title,
                    )
                if on_page:
                    dropped_for.append(None)
                    continue
                if twin is not None:
                    dropped_for.append(twin)
                    continue
            kept_at[at] = len(kept)
            kept.append((score, candidate))

    keep_until(pool_size if room > 0 else 0, len(scored))
    lam = policy.mmr_lambda if query.diversity else 1.0
    cap = policy.redundancy_cap if query.diversity else 1.0

    def diversify(reserve: int | None, fill_capped: bool) -> list[int]:
        relevance = np.array([score for score, _ in kept], dtype=np.float64)
        kept_vectors = np.stack([c.vector for _, c in kept]) if kept else np.zeros((0, 1), np.float32)
        positions = list(kept_at)
        similarity = None
        if among is not None and all(p < len(among) for p in positions):
            similarity = among[np.ix_(positions, positions)]
        return mmr_order(
            relevance,
            kept_vectors,
            lam,
            room,
            picked=page.listed_vectors(),
            similarity=similarity,
            cap=cap,
            reserve=reserve,
            fill_capped=fill_capped,
        )

    # Stage 5 on the pool. Should it reach a capped candidate (a near-copy of something listed),
    # the deeper candidates, scored already, are looked at first: up to `deepest`, never a search.
    # Capped candidates come last of all, after the section fallback (stage 6).
    order = diversify(None, fill_capped=cap >= 1.0)
    last: list[int] = []
    if len(order) < min(room, len(kept)):
        primary = len(kept)
        keep_until(primary + deepest, deepest)
        reserve = primary if len(kept) > primary else None
        if reserve is not None:
            order = diversify(reserve, fill_capped=False)
        if len(order) < min(room, len(kept)):
            last = diversify(reserve, fill_capped=True)[len(order) :]
    for index in order:
        score, candidate = kept[index]
        take(candidate, score, reason)

    for candidate in fallback() if fallback is not None and len(items) < limit else ():
        if len(items) >= limit:
            break
        if candidate.key in page.keys:
            continue
        if query.dedup and page.duplicates(candidate):
            continue
        take(candidate, score_of(candidate), "fallback")
    shown = set(order)
    for index in last:
        score, candidate = kept[index]
        if len(items) >= limit:
            break
        if candidate.key in page.keys or (query.dedup and page.duplicates(candidate)):
            continue  # the fallback listed it, or a twin of it
        take(candidate, score, reason)
        shown.add(index)
    collapsed += sum(1 for twin in dropped_for if twin is None or twin in shown)
    return RankedList(items=items, collapsed=collapsed)


def _first_kept_twin(
    candidate: Candidate,
    earlier: Sequence[int],
    similarities: np.ndarray,
    scored: Sequence[tuple[float, Candidate]],
    kept_at: dict[int, int],
    policy: Policy,
) -> int | None:
    """The first kept candidate (in kept order) that `candidate` duplicates, among the earlier
    candidates close to it."""
    for j in earlier:  # ascending, so kept indices ascend too
        if j in kept_at and policy.duplicates.is_duplicate(
            float(similarities[j]), scored[j][1].title, candidate.title
        ):
            return kept_at[j]
    return None
