"""benchmarks/fusion_ceiling.py: the ceiling of re-weighting the signals, on candidates with known answers."""

from __future__ import annotations

import numpy as np

from benchmarks.fusion_ceiling import Candidates, dominated, ndcg_and_first, report


def _candidates(
    cosine: list[float], lexical: list[float], gain: list[float], names: list[float] | None = None
) -> Candidates:
    gains = np.array(gain)
    return Candidates(
        np.array(cosine),
        np.array(lexical),
        None if names is None else np.array(names),
        gains,
        np.sort(gains)[::-1],
    )


def test_a_partner_first_scores_one_and_second_scores_the_discounted_gain() -> None:
    c = _candidates([0.9, 0.5], [0.1, 0.1], [0.0, 3.0])
    assert ndcg_and_first(np.array([0.1, 0.9]), c) == (1.0, 1.0)
    ndcg, first = ndcg_and_first(np.array([0.9, 0.1]), c)
    assert first == 0.0 and np.isclose(ndcg, 1 / np.log2(3))


def test_a_partner_beaten_on_both_signals_cannot_be_put_first_by_any_weight() -> None:
    beaten = _candidates([0.8, 0.6], [0.4, 0.2], [0.0, 3.0])
    assert dominated(beaten, 0.4, with_names=False) is True
    # Higher BM25, lower cosine: a heavier lexical weight would put it first.
    reachable = _candidates([0.8, 0.6], [0.1, 0.3], [0.0, 3.0])
    assert dominated(reachable, 0.4, with_names=False) is False
    # Names it shares more of make the beaten partner reachable once names count.
    named = _candidates([0.8, 0.6], [0.4, 0.2], [0.0, 3.0], names=[0.1, 0.7])
    assert dominated(named, 0.4, with_names=True) is False
    hit = _candidates([0.8, 0.6], [0.4, 0.2], [3.0, 0.0])
    assert dominated(hit, 0.4, with_names=False) is None


def test_the_per_query_ceiling_is_at_least_every_fixed_weight() -> None:
    queries = [
        _candidates([0.8, 0.6], [0.1, 0.5], [0.0, 3.0]),  # needs a heavy lexical weight
        _candidates([0.6, 0.8], [0.5, 0.1], [0.0, 3.0]),  # needs a light one
        _candidates([0.9, 0.2], [0.9, 0.1], [3.0, 0.0], names=None),
    ]
    result = report(queries, 0.4)
    fixed = result["fixed"]
    best = result["per_query_best_weight"]
    assert isinstance(fixed, dict) and isinstance(best, dict)
    assert best["ndcg10"] == 1.0 and best["r1"] == 1.0
    assert all(v["r1"] < 1.0 for v in fixed.values())
    assert result["first_ranked_misses"] == {"misses": 1, "partner_beaten_on_cosine_and_bm25": 0}
    assert "names" not in result
