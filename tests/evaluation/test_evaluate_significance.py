"""The statistics of recsys/evaluation/significance.py on constructed per-query scores with known answers, and
their place in an evaluation (per-query rows, intervals, the significance table, the JSON)."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from recsys.errors import InvalidInput
from recsys.evaluation.report import format_table
from recsys.evaluation.runner import run, score_method
from recsys.evaluation.significance import (
    Interval,
    analyse,
    bootstrap_draws,
    holm,
    mean_interval,
    sign_flip_p,
)
from recsys.evaluation.truth import CuratedTruth, ProxyTruth
from tests.helpers import Fixed, tiny_corpus


def _scores(seed: int, n: int = 200) -> np.ndarray:
    return np.random.default_rng(seed).uniform(0.0, 1.0, n)


def test_identical_methods_differ_by_zero_with_p_one() -> None:
    scores = _scores(1)
    result = analyse(
        {"system": {"nDCG@10": scores}, "bm25": {"nDCG@10": scores.copy()}},
        metrics=["nDCG@10"],
        compared=["nDCG@10"],
        resamples=500,
        permutations=2000,
    )
    (comparison,) = result.comparisons
    assert comparison.difference.mean == 0.0
    assert comparison.difference.low == 0.0 and comparison.difference.high == 0.0
    assert comparison.p == 1.0 and comparison.p_holm == 1.0
    assert not comparison.significant
    assert Interval(-0.0004, -0.001, 0.0002).format() == "0.000 [-0.001, 0.000]"


def test_a_clearly_better_method_is_significant_and_its_interval_excludes_zero() -> None:
    base = _scores(2)
    better = np.clip(base + 0.1 + np.random.default_rng(3).normal(0, 0.05, len(base)), 0, 1)
    result = analyse(
        {"system": {"R@5": better}, "bm25": {"R@5": base}},
        metrics=["R@5"],
        compared=["R@5"],
        permutations=2000,
    )
    (comparison,) = result.comparisons
    assert comparison.difference.mean == pytest.approx(float((better - base).mean()))
    assert comparison.difference.low > 0 and comparison.difference.excludes_zero()
    assert comparison.p == pytest.approx(1 / 2001)  # no sign flip reaches the observed difference
    assert comparison.significant and comparison.best_baseline
    system = result.interval("system", "R@5")
    assert system.low < system.mean < system.high


def test_noise_alone_is_not_significant() -> None:
    """Two methods whose per-query scores differ only by symmetric noise: no verdict of a difference."""
    base = _scores(4)
    noisy = base + np.random.default_rng(5).choice([-0.2, 0.2], len(base))
    p = sign_flip_p(noisy - base - (noisy - base).mean(), 5000, seed=0)  # centred: null holds exactly
    assert p > 0.5
    interval = mean_interval(noisy - base, bootstrap_draws(len(base), 2000, seed=0))
    assert interval.low < interval.mean < interval.high
    assert abs(interval.high - interval.low) < 0.2


def test_the_same_seed_gives_the_same_numbers_and_another_seed_other_draws() -> None:
    per_query = {"system": {"MRR": _scores(6)}, "dense": {"MRR": _scores(7)}}

    def once(seed: int) -> dict[str, object]:
        return analyse(per_query, metrics=["MRR"], compared=["MRR"], seed=seed, permutations=1000).as_dict()

    assert once(11) == once(11)
    assert once(11)["intervals"] != once(12)["intervals"]


def test_bootstrap_interval_matches_the_normal_approximation() -> None:
    """A large sample: the percentile interval is about mean +- 1.96 standard errors."""
    values = np.random.default_rng(8).normal(0.5, 0.2, 2000)
    interval = mean_interval(values, bootstrap_draws(len(values), 4000, seed=9))
    half = 1.96 * values.std(ddof=1) / math.sqrt(len(values))
    assert interval.mean == pytest.approx(values.mean())
    assert interval.low == pytest.approx(values.mean() - half, abs=0.15 * half)
    assert interval.high == pytest.approx(values.mean() + half, abs=0.15 * half)


def test_not_applicable_queries_are_left_out_of_means_and_tests() -> None:
    values = np.array([1.0, np.nan, 3.0, np.nan])
    interval = mean_interval(values, bootstrap_draws(4, 200, seed=0))
    assert interval.mean == 2.0 and 1.0 <= interval.low <= interval.high <= 3.0
    nothing = mean_interval(np.full(4, np.nan), bootstrap_draws(4, 10))
    assert math.isnan(nothing.mean) and nothing.format() == "-" and nothing.as_dict()["mean"] is None
    assert sign_flip_p(np.array([np.nan, np.nan]), 100) == 1.0


def test_holm_adjusts_step_down_and_stays_monotone() -> None:
    assert holm([0.01, 0.04, 0.03]) == pytest.approx([0.03, 0.06, 0.06])
    assert holm([0.5, 0.001]) == pytest.approx([0.5, 0.002])
    assert holm([0.3, 0.2]) == pytest.approx([0.4, 0.4])  # never below an earlier step
    assert holm([0.9, 0.8]) == [1.0, 1.0]  # capped
    assert holm([]) == []


def test_the_best_baseline_is_marked_and_holm_covers_every_baseline() -> None:
    system = _scores(10)
    per_query = {
        "system": {"R@5": system},
        "weak": {"R@5": system - 0.3},
        "strong": {"R@5": system - 0.01 * np.random.default_rng(1).uniform(0, 1, len(system))},
    }
    result = analyse(per_query, metrics=["R@5"], compared=["R@5"], permutations=1000)
    by_name = {c.baseline: c for c in result.comparisons}
    assert by_name["strong"].best_baseline and not by_name["weak"].best_baseline
    assert by_name["weak"].p_holm == pytest.approx(2 * by_name["weak"].p)


def test_bad_inputs_are_clear_errors() -> None:
    with pytest.raises(InvalidInput, match="same queries"):
        analyse({"a": {"m": np.zeros(3)}, "b": {"m": np.zeros(4)}}, metrics=["m"], compared=["m"])
    with pytest.raises(InvalidInput, match="no method"):
        analyse({}, metrics=["m"], compared=["m"])
    with pytest.raises(InvalidInput, match="at least one query"):
        bootstrap_draws(0)
    with pytest.raises(InvalidInput, match="3 per-query values for 2 queries"):
        mean_interval(np.zeros(3), bootstrap_draws(2, 5))


def test_an_evaluation_keeps_per_query_rows_and_reports_significance() -> None:
    corpus = tiny_corpus()
    truth = CuratedTruth(corpus)
    good = Fixed("system", {"a": ["c", "b"], "c": ["a", "d"]})
    bad = Fixed("bm25", {"a": ["d", "b"], "c": ["e", "d"]})
    result = score_method(good, corpus, truth, ["a", "c"], ks=(1, 2))
    assert result.per_query["R@1"].tolist() == [1.0, 1.0]
    assert result.per_query["P@2"].tolist() == [0.5, 0.5]
    # a (01-10): c (01-12) is 2 days newer, b (01-08) 2 days older; c (01-12): a 2 d, d 11 d older
    assert result.per_query["age"].tolist() == [0.0, 6.5]
    assert result.per_query["|age|"].tolist() == [2.0, 6.5]
    assert result.age_abs_days_median == 2.0
    evaluation = run(corpus, [good, bad], truth, ["a", "c"], ks=(1, 2), permutations=500, resamples=200)
    assert evaluation.labels == {}  # no P@5 here; labels only rename what is measured
    table = format_table(evaluation)
    assert "system minus each baseline" in table and "Holm" in table
    assert "R@1       bm25*" in table
    data = json.loads(json.dumps(evaluation.as_dict()))
    assert data["per_query"]["query_ids"] == ["a", "c"]
    assert data["per_query"]["methods"]["bm25"]["R@1"] == [0.0, 0.0]
    comparison = next(c for c in data["significance"]["comparisons"] if c["metric"] == "R@1")
    assert comparison["difference"]["mean"] == 1.0 and comparison["baseline"] == "bm25"
    # two queries cannot make anything significant: 4 sign patterns, half as extreme
    assert comparison["p"] > 0.05 and comparison["significant"] is False


def test_story_share_is_named_on_a_dated_corpus_with_curated_links() -> None:
    corpus = tiny_corpus()
    truth = CuratedTruth(corpus)
    method = Fixed("system", {"a": ["c", "b", "d", "e"], "c": ["a", "b"]})
    evaluation = run(corpus, [method], truth, ["a", "c"], ks=(1, 5, 10), permutations=100, resamples=100)
    assert evaluation.labels == {"P@5": "story@5"}
    table = format_table(evaluation)
    header = table.splitlines()[1].split()
    assert header[header.index("story@5") - 1] == "R@10" and "|age|" in header
    row = table.splitlines()[2].split()
    assert row[header.index("story@5")] == "0.200"  # one story item in each top 5
    assert evaluation.significance is not None and not evaluation.significance.comparisons


def test_recall_is_not_tested_against_a_topical_proxy() -> None:
    corpus = tiny_corpus()
    truth = ProxyTruth(corpus, "section")
    good = Fixed("system", {"a": ["b", "e"], "c": ["d", "a"]})
    other = Fixed("bm25", {"a": ["c", "d"], "c": ["a", "b"]})
    evaluation = run(corpus, [good, other], truth, ["a", "c"], ks=(1, 2), permutations=100, resamples=100)
    assert evaluation.significance is not None
    assert {c.metric for c in evaluation.significance.comparisons} == {"nDCG@2", "MRR"}
    assert "R@1" in evaluation.significance.intervals["system"]  # still reported, with an interval
