"""Maximal marginal relevance (Carbonell & Goldstein, 1998), with a relevance floor and reserves.

Pick items one at a time, each time the
one that maximises  lambda * relevance - (1 - lambda) * (highest cosine to anything already picked).

With lambda = 1 the order is plain relevance; lower values trade relevance for variety, so that a list
is not five angles of one event when other related stories exist. Variety must come from *related*
stories: only candidates whose relevance is at least `floor` (a share of the best relevance) compete
under MMR; the rest follow in plain relevance order, so an unrelated story never wins a place merely by
being unlike the others.

A redundancy cap makes near-copies the last resort: a candidate whose cosine to something already
picked reaches `cap` is only picked when every other competing candidate is used up (MMR alone lets a
very relevant near-copy through: at lambda 0.7, relevance 0.95 at redundancy 0.92 beats 0.70 at 0.40).

Reserves: candidates from index `reserve` on (the ranking's deeper candidates, past its pool) compete
only once no uncapped candidate before them is left, and still before any capped one. A pool can be
one templated report thirty times over (Reuters' weekly money-market notices, earnings tables): then
the list fills from less relevant but different stories further down before it repeats the template.
`fill_capped=False` ends the order where only capped candidates are left, so that the ranking can put
the section's recent stories before them (recsys/serving/ranking.py, stage 6).
"""

from __future__ import annotations

import numpy as np

FLOOR = 0.5


def mmr_order(
    relevance: np.ndarray,
    vectors: np.ndarray,
    lam: float,
    limit: int,
    picked: np.ndarray | None = None,
    floor: float = FLOOR,
    similarity: np.ndarray | None = None,
    cap: float = 1.0,
    reserve: int | None = None,
    fill_capped: bool = True,
) -> list[int]:
    """Indices into `relevance` in MMR order, at most `limit` of them.

    `vectors` are the candidates' L2-normalised vectors (one row each); `picked` holds vectors of
    items already on the list (pins, earlier pages), which count against similar candidates.
    `similarity`, when the caller has it, is `vectors @ vectors.T`. `cap` (1: none): the redundancy
    from which a candidate waits until no other is left. `reserve`: the index from which candidates
    are reserves (see above; None: none are). `fill_capped=False`: stop rather than take a capped one.
    """
    n = len(relevance)
    if n == 0 or limit <= 0:
        return []
    by_relevance = [int(i) for i in np.argsort(-relevance, kind="stable")]
    if lam >= 1.0 and cap >= 1.0 and reserve is None:
        return by_relevance[:limit]
    threshold = floor * float(relevance.max()) if relevance.max() > 0 else -np.inf
    related = relevance >= threshold
    # Unlike items get no bonus: redundancy is floored at 0.
    redundancy = np.zeros(n, dtype=np.float64)
    if picked is not None and len(picked):
        redundancy = np.maximum(redundancy, (vectors @ picked.T).max(axis=1))
    available = np.ones(n, dtype=bool)
    if similarity is None:
        similarity = vectors @ vectors.T
    # Tiers below every gain of the tier above (each gain lies in [-5, 1]): reserves after the
    # pool, capped candidates after every uncapped one.
    tier = np.zeros(n, dtype=np.float64)
    if reserve is not None:
        tier[reserve:] = -8.0
    capped = np.zeros(n, dtype=bool)
    order: list[int] = []
    for _ in range(min(limit, n)):
        # Related candidates by MMR gain, then the rest by relevance; past the cap, last of all.
        gain = np.where(related, lam * relevance - (1.0 - lam) * redundancy, relevance - 4.0) + tier
        if cap < 1.0:
            capped = redundancy >= cap
            gain[capped] -= 16.0
        gain[~available] = -np.inf
        best = int(np.argmax(gain))
        if capped[best] and not fill_capped:
            break
        order.append(best)
        available[best] = False
        redundancy = np.maximum(redundancy, similarity[best])
    return order
