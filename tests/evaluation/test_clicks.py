"""The click statistics against numbers checked by hand or taken from their papers' tables."""

from __future__ import annotations

import math

import pytest

from recsys.catalog.feedback import Count as Row
from recsys.errors import InvalidInput
from recsys.evaluation import clicks


def test_wilson_matches_the_textbook_interval() -> None:
    # 10 of 100: centre (0.1 + z²/200) / (1 + z²/100) = 0.11480, half-width 0.05957.
    low, high = clicks.wilson(10, 100)
    assert low == pytest.approx(0.05523, abs=1e-5)
    assert high == pytest.approx(0.17437, abs=1e-5)
    # No clicks still gives a positive upper bound (z² / (n + z²) for 0 of n).
    assert clicks.wilson(0, 20) == pytest.approx((0.0, 3.8415 / 23.8415), abs=1e-4)
    assert all(math.isnan(v) for v in clicks.wilson(0, 0))
    with pytest.raises(InvalidInput):
        clicks.wilson(5, 4)


def test_newcombe_and_the_z_test_on_newcombes_example() -> None:
    # Newcombe (1998), table II, example (a): 56/70 against 48/80, method 10: +0.0524 to +0.3339.
    a, b = clicks.Rate("a", 70, 56), clicks.Rate("b", 80, 48)
    low, high = clicks.newcombe(a, b)
    assert (low, high) == pytest.approx((0.0524, 0.3339), abs=1e-4)
    # Pooled p = 104/150; se = sqrt(p(1-p)(1/70+1/80)) = 0.075467; z = 0.2 / se = 2.6502.
    z, p = clicks.two_proportion(a, b)
    assert z == pytest.approx(2.6502, abs=1e-4)
    assert p == pytest.approx(0.008045, abs=1e-5)


def _ab_rows() -> list[Row]:
    rows = []
    for day in ("2026-01-01", "2026-01-02"):
        for article in ("x", "y"):
            rows.append(Row(day, article, "related", 0, "exp", "a", 100, 10))
            rows.append(Row(day, article, "related", 0, "exp", "b", 100, 5))
    return rows


def test_compare_ab_adds_up_the_arms_and_picks_the_winner() -> None:
    result = clicks.compare_ab(_ab_rows(), "a", "b", bootstrap=500, seed=1)
    assert (result.a.impressions, result.a.clicks, result.b.clicks) == (400, 40, 20)
    assert result.difference == pytest.approx(0.05)
    # Pooled 60/800 = 0.075; se = sqrt(0.075 * 0.925 * 2/400) = 0.018625; z = 2.6846.
    assert result.z == pytest.approx(2.6846, abs=1e-4)
    assert result.winner() == "a"
    assert result.low < 0.05 < result.high
    assert result.bootstrap is not None
    # Every cell has the same rates: every resample gives the same difference.
    assert result.bootstrap == pytest.approx((0.05, 0.05))
    assert clicks.compare_ab(_ab_rows()[:2], "a", "b").winner() is None  # 10/100 vs 5/100: p = 0.19


def test_interleaving_is_the_exact_sign_test() -> None:
    rows = [
        Row("2026-01-01", "x", "related", 0, "exp", "a", 50, 15),
        Row("2026-01-01", "x", "related", 1, "exp", "b", 50, 5),
    ]
    result = clicks.interleaving(rows, "a", "b")
    # P(X >= 15 | n = 20, 1/2) = 21700 / 2**20; two-sided: twice that.
    assert result.p_value == pytest.approx(2 * 21700 / 2**20)
    assert (result.clicks_a, result.clicks_b, result.share) == (15, 5, 0.75)
    # Clopper-Pearson 95% for 15 of 20: 0.5090 to 0.9134.
    assert (result.low, result.high) == pytest.approx((0.5090, 0.9134), abs=1e-4)
    assert result.winner() == "a"
    assert clicks.interleaving([], "a", "b").winner() is None


def test_rates_by_dimension_and_position_bias() -> None:
    rows = [
        Row("2026-01-02", "x", "related", 0, "", "default", 100, 20, "sport"),
        Row("2026-01-01", "x", "related", 1, "", "default", 100, 10, "sport"),
        Row("2026-01-01", "y", "related", 10, "", "default", 100, 5, None),
        Row("2026-01-01", "y", "section", 0, "", "default", 50, 1, None),
    ]
    assert [r.key for r in clicks.by(rows, "position")] == ["0", "1", "10"]
    assert [r.key for r in clicks.by(rows, "day")] == ["2026-01-01", "2026-01-02"]
    sections = {r.key: (r.impressions, r.clicks) for r in clicks.by(rows, "section")}
    assert sections == {"sport": (200, 30), clicks.NO_SECTION: (150, 6)}
    bias = clicks.position_bias(rows)
    assert [(p.position, p.relative) for p in bias] == [(0, 1.0), (1, 0.5), (10, 0.25)]
    assert clicks.total(rows).ctr == pytest.approx(36 / 350)


def test_the_summary_compares_every_pair_of_arms_with_its_design() -> None:
    rows = [*_ab_rows(), Row("2026-01-01", "x", "related", 0, "", "default", 10, 1)]
    report = clicks.summary(rows, designs={"exp": "interleave"})
    comparisons = report["comparisons"]
    assert isinstance(comparisons, list) and len(comparisons) == 1
    assert comparisons[0]["design"] == "interleave" and comparisons[0]["winner"] == "a"
    assert comparisons[0]["experiment"] == "exp" and comparisons[0]["block"] == "related"
    overall = report["total"]
    assert isinstance(overall, dict) and (overall["impressions"], overall["clicks"]) == (810, 61)
    plain = clicks.summary(rows)["comparisons"]
    assert isinstance(plain, list) and plain[0]["design"] == "ab"
