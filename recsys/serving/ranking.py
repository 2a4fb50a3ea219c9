"""From candidates to the list a page shows: one pipeline, in this order.

1. hard rules: never the article itself, a retracted article, one published in the future, one an
   editor blocked, one the page already shows (`exclude`, earlier pages); then the request's filters
   (section, tag, date window, background mode);
2. pins: the editor's picks for the article, first and in their order (still under the hard rules);
3. scoring: relevance (cosine, blended with the normalised BM25 match: `Policy.relevance`), blended
   with a freshness decay when freshness is on, or else, for a dated article, weighted by the time
   prior (a two-sided decay around the article's date, with a long tail: `prior_decay`);
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
(recsys/serving/live.py), so a retraction, a block or a pin takes effect on the next request.

`rank_list` runs stages 2-6: pins (`_List.add_pins`), scores (`_Scores`), the near-duplicate walk
(`_Walk.keep_until`), diversity over what the walk kept (`_Walk.diversify`, `_choose`) and the
fallbacks. The types they pass around are in recsys/serving/types.py, the knobs in
recsys/serving/policy.py.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from recsys.serving.dedup import DuplicateRule
from recsys.serving.diversity import mmr_order
from recsys.serving.policy import Policy
from recsys.serving.query import RelatedQuery
from recsys.serving.types import Candidate, Page, RankedList, Recommendation, Subject
from recsys.version.entities import tagged

SECONDS_PER_DAY = 86_400.0


def freshness(moment: float, anchor: float, half_life_days: float, exponent: float = 1.0) -> float:
    """1 at the anchor, halving every `half_life_days` either side; 0 for an undated article (NaN).
    `exponent` shapes the decay, 0.5 ** ((gap / half-life) ** exponent): 2 is a Gaussian."""
    if math.isnan(moment):
        return 0.0
    gap_days = abs(moment - anchor) / SECONDS_PER_DAY
    return float(0.5 ** ((gap_days / half_life_days) ** exponent))  # x ** 1.0 is x exactly


def prior_decay(
    gap_days: float,
    half_life: float,
    exponent: float = 1.0,
    long_share: float = 0.0,
    long_half_life: float = 1.0,
) -> float:
    """The time prior's decay at `gap_days` from the article: 1 at 0, towards 0 far away. A short
    component, 0.5 ** ((gap / half_life) ** exponent), and a long tail, 0.5 ** (gap / long_half_life),
    mixed (1 - long_share) : long_share, so that months still rank above years where the short one
    is already near 0 (issue 22). long_share 0 is the short component alone, bit for bit."""
    short = 0.5 ** ((gap_days / half_life) ** exponent)  # x ** 1.0 is x exactly
    if long_share == 0.0:
        return float(short)
    return float((1.0 - long_share) * short + long_share * 0.5 ** (gap_days / long_half_life))


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
    listed = _List(page, limit, query.dedup)
    collapsed = listed.add_pins(pins)
    score = _Scores.of(subject, candidates, query, policy, page, fresh)
    scored = sorted(
        ((score(c), c) for c in candidates if c.key not in page.keys),
        key=lambda pair: (-pair[0], pair[1].key),
    )
    room = limit - len(listed.items)
    pool_size = pool_size or pool_for(room)
    walk = _Walk(scored, page, query.dedup, policy.duplicates, pool_size)
    walk.keep_until(pool_size if room > 0 else 0, len(scored))
    # How far down `scored` the list may look for reserves (see depth()).
    deepest = min(len(scored), depth(room) if room > 0 else 0)
    lam = policy.mmr_lambda if query.diversity else 1.0
    cap = policy.redundancy_cap if query.diversity else 1.0
    order, capped = _choose(walk, room, deepest, lam, cap)
    for index in order:
        item_score, candidate = walk.kept[index]
        listed.take(candidate, item_score, reason)
    # Stage 6: the section's recent stories, then the capped near-copies of stage 5.
    if fallback is not None and not listed.full:
        for candidate in fallback():
            if listed.full:
                break
            if listed.fits(candidate):
                listed.take(candidate, score(candidate), "fallback")
    shown = set(order)
    for index in capped:
        item_score, candidate = walk.kept[index]
        if listed.full:
            break
        if not listed.fits(candidate):
            continue  # the fallback listed it, or a twin of it
        listed.take(candidate, item_score, reason)
        shown.add(index)
    collapsed += sum(1 for twin in walk.dropped_for if twin is None or twin in shown)
    return RankedList(items=listed.items, collapsed=collapsed)


def list_in_order(
    candidates: Sequence[Candidate],
    *,
    query: RelatedQuery,
    page: Page,
    limit: int,
    reason: str,
    pins: Sequence[Candidate] = (),
    fallback: Callable[[], Sequence[Candidate]] | None = None,
) -> RankedList:
    """Stages 2, 4 and 6 for candidates in an order decided elsewhere (an experiment's baseline arm:
    recsys/serving/recommend.py): the pins, then the candidates in their order, each unless it is on
    the page or (with dedup) a near-duplicate of something there, then the fallback while the list is
    short. No scoring and no diversity: an item's score is its relevance."""
    listed = _List(page, limit, query.dedup)
    collapsed = listed.add_pins(pins)
    for candidate in candidates:
        if listed.full:
            break
        if candidate.key in page.keys:
            continue
        if query.dedup and page.duplicates(candidate):
            collapsed += 1
            continue
        listed.take(candidate, candidate.similarity, reason)
    if fallback is not None and not listed.full:
        for candidate in fallback():
            if listed.full:
                break
            if listed.fits(candidate):
                listed.take(candidate, candidate.similarity, "fallback")
    return RankedList(items=listed.items, collapsed=collapsed)


class _List:
    """The items chosen so far, in order; each is put on the page as it is taken."""

    def __init__(self, page: Page, limit: int, dedup: bool) -> None:
        self.items: list[Recommendation] = []
        self.page = page
        self.limit = limit
        self.dedup = dedup

    @property
    def full(self) -> bool:
        return len(self.items) >= self.limit

    def fits(self, candidate: Candidate) -> bool:
        """Neither on the page already nor (with dedup) a near-duplicate of something there."""
        if candidate.key in self.page.keys:
            return False
        return not (self.dedup and self.page.duplicates(candidate))

    def take(self, candidate: Candidate, score: float, why: str) -> None:
        self.items.append(
            Recommendation(None, score, why, candidate.key, source=candidate.source, row=candidate.row)
        )
        self.page.add(candidate.key, candidate.vector, candidate.title)

    def add_pins(self, pins: Sequence[Candidate]) -> int:
        """Stage 2: the editor's picks first, in their order. Returns the pins collapsed as
        near-duplicates of the page."""
        collapsed = 0
        for pin in pins:
            if self.full:
                break
            if pin.key in self.page.keys:
                continue
            if self.dedup and self.page.duplicates(pin):
                collapsed += 1
                continue
            self.take(pin, pin.similarity, "pinned")
        return collapsed


@dataclass(frozen=True)
class _Scores:
    """Stage 3: a candidate's score, its relevance blended with freshness, or weighted by the time
    prior."""

    anchor: float  # the subject's time, epoch seconds
    weight: float  # freshness's share of the score (0: off)
    half_life: float
    prior: float  # the time prior's weight (0: off)
    prior_half_life: float
    prior_exponent: float
    prior_long_share: float
    prior_long_half_life: float
    # An undated candidate under a dated article: scored as if this many days away (0: its relevance
    # unchanged, as if of the article's own day).
    undated_days: float
    band: float  # relevance from which a candidate is a close match the prior may re-order
    additive: bool

    @classmethod
    def of(
        cls,
        subject: Subject,
        candidates: Sequence[Candidate],
        query: RelatedQuery,
        policy: Policy,
        page: Page,
        fresh: bool,
    ) -> _Scores:
        # The time prior: a dated article's related stories lean towards its own time, either side
        # (an old article may list later developments), unless the request asked about freshness.
        prior = policy.time_prior_weight if not fresh and query.freshness is None and subject.dated else 0.0
        band = -math.inf  # off: every candidate, negative cosines included
        long_share = policy.time_prior_long_share
        if policy.entity_weight > 0.0 and not tagged(subject.article.tags):
            # With names on, the tail goes with them (issue 22): it lets in months-old items, and
            # where no names tell a development of the story from a look-alike of another year it
            # only costs (alone: wcep2025_dev -0.020 nDCG@10; reuters -0.003, no tags of its own).
            long_share = 0.0
        if prior and policy.time_prior_band > 0.0:
            best = max((c.similarity for c in candidates if c.key not in page.keys), default=0.0)
            band = policy.time_prior_band * best
        return cls(
            anchor=subject.anchor_ts,
            weight=policy.freshness_weight if fresh else 0.0,
            half_life=query.half_life_days or policy.half_life_days,
            prior=prior,
            prior_half_life=policy.time_prior_half_life_days,
            prior_exponent=policy.time_prior_exponent,
            prior_long_share=long_share,
            prior_long_half_life=policy.time_prior_long_half_life_days,
            undated_days=policy.time_prior_undated_days,
            band=band,
            additive=bool(policy.time_prior_additive),
        )

    def __call__(self, candidate: Candidate) -> float:
        prior = self.prior
        undated = math.isnan(candidate.published)
        if prior and not (undated and self.undated_days == 0.0):
            decay = 0.0  # a weaker candidate than the close matches: the prior's floor
            if candidate.similarity >= self.band:
                gap = (
                    self.undated_days if undated else abs(candidate.published - self.anchor) / SECONDS_PER_DAY
                )
                decay = prior_decay(
                    gap,
                    self.prior_half_life,
                    self.prior_exponent,
                    self.prior_long_share,
                    self.prior_long_half_life,
                )
            if self.additive:
                return candidate.similarity - prior * (1.0 - decay)
            return candidate.similarity * (1.0 - prior + prior * decay)
        if self.weight == 0.0:
            return candidate.similarity
        decay = freshness(candidate.published, self.anchor, self.half_life)
        return (1.0 - self.weight) * candidate.similarity + self.weight * decay


class _Walk:
    """Stage 4 over the scored candidates, best first: `keep_until` keeps those that duplicate
    neither the page nor a better candidate kept, as deep as it is asked; `diversify` orders what
    is kept (stage 5)."""

    def __init__(
        self,
        scored: list[tuple[float, Candidate]],
        page: Page,
        dedup: bool,
        rule: DuplicateRule,
        pool_size: int,
    ) -> None:
        self.scored = scored
        self.page = page
        self.dedup = dedup
        self.rule = rule
        self.kept: list[tuple[float, Candidate]] = []
        self.kept_at: dict[int, int] = {}  # position in `scored` -> index in `kept`
        # For each dropped duplicate, the kept candidate it duplicates (None: something on the page).
        self.dropped_for: list[int | None] = []
        self.position = 0  # the next position of `scored` to look at
        self._seen_keys: set[int] = set()
        # Every similarity the walk can need, in two products: candidates against the page, and
        # against each other. Only the pairs close enough to be duplicates are then looked at one by
        # one. Enough for a list with a few duplicates; past it (many duplicates) the walk computes
        # as it goes.
        self._reach = min(len(scored), pool_size + 16)
        self._close_to_page: dict[int, list[int]] = {}
        self._close_to_earlier: dict[int, list[int]] = {}
        self._to_page = np.zeros((0, 0))
        self.among: np.ndarray | None = None
        if dedup and self._reach:
            vectors = np.stack([c.vector for _, c in scored[: self._reach]])
            self._to_page = page.similarities(vectors).astype(np.float64)
            self.among = (vectors @ vectors.T).astype(np.float64)
            threshold = rule.cosine_with_title
            for i, j in zip(*np.nonzero(self._to_page >= threshold), strict=True):
                self._close_to_page.setdefault(int(i), []).append(int(j))
            for i, j in zip(*np.nonzero(np.tril(self.among >= threshold, -1)), strict=True):
                self._close_to_earlier.setdefault(int(i), []).append(int(j))

    def keep_until(self, count: int, end: int) -> None:
        """Keep non-duplicates, best first, until `count` are kept or position `end` is reached."""
        scored, kept = self.scored, self.kept
        while self.position < end and len(kept) < count:
            at = self.position
            score, candidate = scored[at]
            self.position += 1
            if candidate.key in self._seen_keys:
                continue
            self._seen_keys.add(candidate.key)
            if self.dedup:
                if self._on_page(at, candidate):
                    self.dropped_for.append(None)
                    continue
                twin = self._kept_twin(at, candidate)
                if twin is not None:
                    self.dropped_for.append(twin)
                    continue
            self.kept_at[at] = len(kept)
            kept.append((score, candidate))

    def _on_page(self, at: int, candidate: Candidate) -> bool:
        """Whether the candidate at position `at` duplicates something on the page."""
        if self.among is not None and at < self._reach:
            return self.page.duplicate_among(self._close_to_page.get(at, ()), self._to_page[at], candidate)
        return self.page.duplicates(candidate)  # past what was computed ahead: one product

    def _kept_twin(self, at: int, candidate: Candidate) -> int | None:
        """The index in `kept` of the first kept candidate that the one at position `at` duplicates."""
        if self.among is not None and at < self._reach:
            return self._first_kept_twin(candidate, self._close_to_earlier.get(at, ()), self.among[at])
        kept = self.kept  # past what was computed ahead: one product
        return self.rule.first_duplicate(
            np.stack([c.vector for _, c in kept]) @ candidate.vector if kept else np.zeros(0),
            [c.title for _, c in kept],
            candidate.title,
        )

    def _first_kept_twin(
        self, candidate: Candidate, earlier: Sequence[int], similarities: np.ndarray
    ) -> int | None:
        """The first kept candidate (in kept order) that `candidate` duplicates, among the earlier
        candidates close to it."""
        for j in earlier:  # ascending, so kept indices ascend too
            if j in self.kept_at and self.rule.is_duplicate(
                float(similarities[j]), self.scored[j][1].title, candidate.title
            ):
                return self.kept_at[j]
        return None

    def diversify(
        self, room: int, lam: float, cap: float, reserve: int | None, fill_capped: bool
    ) -> list[int]:
        """Stage 5: indices into `kept` in MMR order, at most `room` (recsys/serving/diversity.py)."""
        kept = self.kept
        relevance = np.array([score for score, _ in kept], dtype=np.float64)
        kept_vectors = np.stack([c.vector for _, c in kept]) if kept else np.zeros((0, 1), np.float32)
        positions = list(self.kept_at)
        similarity = None
        if self.among is not None and all(p < len(self.among) for p in positions):
            similarity = self.among[np.ix_(positions, positions)]
        return mmr_order(
            relevance,
            kept_vectors,
            lam,
            room,
            picked=self.page.listed_vectors(),
            similarity=similarity,
            cap=cap,
            reserve=reserve,
            fill_capped=fill_capped,
        )


def _choose(walk: _Walk, room: int, deepest: int, lam: float, cap: float) -> tuple[list[int], list[int]]:
    """Stage 5 on the pool the walk kept: the order to list, and the capped near-copies that come
    last of all, after the section fallback (stage 6). Should the order reach a capped candidate (a
    near-copy of something listed), the deeper candidates, scored already, are looked at first: up
    to `deepest`, never a search."""
    order = walk.diversify(room, lam, cap, None, fill_capped=cap >= 1.0)
    capped: list[int] = []
    if len(order) < min(room, len(walk.kept)):
        primary = len(walk.kept)
        walk.keep_until(primary + deepest, deepest)
        reserve = primary if len(walk.kept) > primary else None
        if reserve is not None:
            order = walk.diversify(room, lam, cap, reserve, fill_capped=False)
        if len(order) < min(room, len(walk.kept)):
            capped = walk.diversify(room, lam, cap, reserve, fill_capped=True)[len(order) :]
    return order, capped
