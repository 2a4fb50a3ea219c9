"""Click-through from the page's counters: totals, rates with intervals, arm comparisons, position bias.

Pure functions over counter rows (recsys/catalog/feedback.py's `Count`: impressions and clicks per
day, article, block, position, experiment and arm); nothing here reads a database, so the CLI, the
admin report, the notebook and the click simulator all judge the same rows the same way.

* A click-through rate (clicks / impressions) carries a **Wilson score interval**: unlike the normal
  approximation it stays inside [0, 1] and keeps its coverage at the small rates (a few percent) and
  small counts of a recommendation block.
* **A/B** (each page view sees one arm's list): a pooled two-proportion z-test of the arms' rates, and
  a 95% interval for their difference from Newcombe's hybrid score method (method 10 of Newcombe 1998:
  the arms' Wilson intervals combined), optionally a bootstrap that resamples (day, article) cells,
  since impressions of one list are not independent of each other.
* **Team-draft interleaving** (each page view sees one list drafted from both arms, each item credited
  to the arm that contributed it): under the null hypothesis a click is as likely to land on either
  arm's items, so the clicks credited to arm A are Binomial(clicks, 1/2); the exact two-sided binomial
  (sign) test, and a Clopper-Pearson interval for A's share of the credited clicks.
* **Position bias**: CTR by position, and each position's rate relative to position 0.

Counters carry no page views, so the tests treat impressions (A/B) and clicks (interleaving) as the
units; the bootstrap is there for a reader who wants the clustering taken into account.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
from scipy import stats

from recsys.catalog.feedback import Count
from recsys.errors import InvalidInput

CONFIDENCE = 0.95
ALPHA = 0.05
DEFAULT_BOOTSTRAP = 2000
Dimension = Literal["block", "position", "section", "day", "arm", "article", "experiment"]
DIMENSIONS: tuple[Dimension, ...] = ("block", "position", "section", "day", "arm")
Design = Literal["ab", "interleave"]
DESIGNS: dict[str, Design] = {"ab": "ab", "interleave": "interleave"}
NO_SECTION = "(none)"
_BLOCK = 100


def _z(confidence: float) -> float:
    return float(stats.norm.ppf(0.5 + confidence / 2))


def wilson(clicks: int, impressions: int, confidence: float = CONFIDENCE) -> tuple[float, float]:
    """Wilson score interval of clicks / impressions; (nan, nan) with no impressions."""
    if impressions <= 0:
        return math.nan, math.nan
    if not 0 <= clicks <= impressions:
        raise InvalidInput(f"clicks must be between 0 and the impressions, got {clicks} of {impressions}")
    z = _z(confidence)
    p = clicks / impressions
    denominator = 1 + z * z / impressions
    centre = (p + z * z / (2 * impressions)) / denominator
    half = z / denominator * math.sqrt(p * (1 - p) / impressions + z * z / (4 * impressions * impressions))
    return max(0.0, centre - half), min(1.0, centre + half)


@dataclass(frozen=True)
class Rate:
    """Impressions and clicks of one group (`key`: a block, a position, a day...) and their CTR."""

    key: str
    impressions: int
    clicks: int
    confidence: float = CONFIDENCE

    @property
    def ctr(self) -> float:
        return self.clicks / self.impressions if self.impressions else math.nan

    @property
    def interval(self) -> tuple[float, float]:
        return wilson(self.clicks, self.impressions, self.confidence)

    def as_dict(self) -> dict[str, object]:
        low, high = self.interval
        return {
            "key": self.key,
            "impressions": self.impressions,
            "clicks": self.clicks,
            "ctr": _finite(self.ctr),
            "low": _finite(low),
            "high": _finite(high),
        }


def _finite(value: float, digits: int = 6) -> float | None:
    return None if math.isnan(value) else round(float(value), digits)


def _key(row: Count, dimension: Dimension) -> str:
    if dimension == "position":
        return str(row.position)
    if dimension == "section":
        return row.section or NO_SECTION
    value: str = getattr(row, dimension)
    return value


def total(rows: Iterable[Count], key: str = "all") -> Rate:
    impressions = clicks = 0
    for row in rows:
        impressions += row.impressions
        clicks += row.clicks
    return Rate(key, impressions, clicks)


def by(rows: Iterable[Count], dimension: Dimension) -> list[Rate]:
    """One Rate per value of `dimension`, in order (positions numerically, days by date)."""
    sums: dict[str, list[int]] = {}
    for row in rows:
        cell = sums.setdefault(_key(row, dimension), [0, 0])
        cell[0] += row.impressions
        cell[1] += row.clicks
    order: Callable[[str], object] = int if dimension == "position" else str
    return [Rate(k, *sums[k]) for k in sorted(sums, key=order)]  # type: ignore[arg-type]


@dataclass(frozen=True)
class PositionBias:
    position: int
    rate: Rate
    relative: float  # CTR at this position / CTR at position 0 (nan when position 0 has no clicks)

    def as_dict(self) -> dict[str, object]:
        return {"position": self.position, **self.rate.as_dict(), "relative": _finite(self.relative)}


def position_bias(rows: Iterable[Count], block: str | None = "related") -> list[PositionBias]:
    """CTR by position within `block` (None: every block), each relative to position 0's."""
    rates = by((r for r in rows if block is None or r.block == block), "position")
    first = next((r.ctr for r in rates if r.key == "0"), math.nan)
    return [
        PositionBias(int(r.key), r, r.ctr / first if first and not math.isnan(first) else math.nan)
        for r in rates
    ]


@dataclass(frozen=True)
class ABComparison:
    """Arm `a` against arm `b`: their rates, the difference a - b with Newcombe's interval, the
    two-proportion z-test, and (when asked for) a cluster-bootstrap interval of the difference."""

    a: Rate
    b: Rate
    difference: float
    low: float
    high: float
    z: float
    p_value: float
    bootstrap: tuple[float, float] | None = None

    @property
    def significant(self) -> bool:
        return self.p_value < ALPHA

    def winner(self) -> str | None:
        """The better arm when the test is significant at ALPHA, else None."""
        if not self.significant:
            return None
        return self.a.key if self.difference > 0 else self.b.key

    def as_dict(self) -> dict[str, object]:
        return {
            "design": "ab",
            "a": self.a.as_dict(),
            "b": self.b.as_dict(),
            "difference": _finite(self.difference),
            "low": _finite(self.low),
            "high": _finite(self.high),
            "z": _finite(self.z),
            "p_value": _finite(self.p_value, 8),
            "bootstrap": None if self.bootstrap is None else [_finite(v) for v in self.bootstrap],
            "winner": self.winner(),
        }


def two_proportion(a: Rate, b: Rate) -> tuple[float, float]:
    """(z, two-sided p) of the pooled two-proportion z-test; (nan, 1.0) where it is undefined."""
    n1, n2 = a.impressions, b.impressions
    if not n1 or not n2:
        return math.nan, 1.0
    pooled = (a.clicks + b.clicks) / (n1 + n2)
    se = math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
    if se == 0:
        return math.nan, 1.0
    z = (a.ctr - b.ctr) / se
    return z, float(2 * stats.norm.sf(abs(z)))


def newcombe(a: Rate, b: Rate, confidence: float = CONFIDENCE) -> tuple[float, float]:
    """Newcombe's hybrid score interval for ctr(a) - ctr(b) (his method 10)."""
    p1, p2 = a.ctr, b.ctr
    if math.isnan(p1) or math.isnan(p2):
        return math.nan, math.nan
    l1, u1 = wilson(a.clicks, a.impressions, confidence)
    l2, u2 = wilson(b.clicks, b.impressions, confidence)
    d = p1 - p2
    return d - math.hypot(p1 - l1, u2 - p2), d + math.hypot(u1 - p1, p2 - l2)


def _arm_rows(rows: Iterable[Count], arm: str) -> list[Count]:
    return [r for r in rows if r.arm == arm]


def compare_ab(
    rows: Sequence[Count],
    a: str,
    b: str,
    *,
    bootstrap: int = 0,
    seed: int = 0,
    confidence: float = CONFIDENCE,
) -> ABComparison:
    """Arm `a` against arm `b` of an A/B experiment (rows of one experiment and block)."""
    rate_a, rate_b = total(_arm_rows(rows, a), a), total(_arm_rows(rows, b), b)
    z, p = two_proportion(rate_a, rate_b)
    low, high = newcombe(rate_a, rate_b, confidence)
    interval = _bootstrap(rows, a, b, bootstrap, seed, confidence) if bootstrap else None
    return ABComparison(rate_a, rate_b, rate_a.ctr - rate_b.ctr, low, high, z, p, interval)


def _bootstrap(
    rows: Sequence[Count], a: str, b: str, resamples: int, seed: int, confidence: float
) -> tuple[float, float]:
    """Percentile interval of ctr(a) - ctr(b), resampling (day, article) cells with replacement: the
    impressions of one page's list are not independent, a cell keeps them together."""
    cells: dict[tuple[str, str], np.ndarray] = {}
    for row in rows:
        if row.arm in (a, b):
            cell = cells.setdefault((row.day, row.article), np.zeros(4))
            offset = 0 if row.arm == a else 2
            cell[offset] += row.impressions
            cell[offset + 1] += row.clicks
    if not cells:
        return math.nan, math.nan
    table = np.array(list(cells.values()))
    rng = np.random.default_rng(seed)
    # In blocks, so memory stays at block x cells whatever the number of resamples.
    sums = np.concatenate(
        [
            table[rng.integers(0, len(table), size=(min(_BLOCK, resamples - start), len(table)))].sum(axis=1)
            for start in range(0, resamples, _BLOCK)
        ]
    )
    with np.errstate(invalid="ignore", divide="ignore"):
        differences = sums[:, 1] / sums[:, 0] - sums[:, 3] / sums[:, 2]
    differences = differences[np.isfinite(differences)]
    if not len(differences):
        return math.nan, math.nan
    tail = (1 - confidence) / 2 * 100
    low, high = np.percentile(differences, [tail, 100 - tail])
    return float(low), float(high)


@dataclass(frozen=True)
class InterleavingResult:
    """Clicks credited to arm `a` and to arm `b` of a team-draft interleaving, a's share of them
    with its exact interval, and the exact binomial (sign) test of share = 1/2."""

    a: str
    b: str
    clicks_a: int
    clicks_b: int
    share: float
    low: float
    high: float
    p_value: float

    @property
    def significant(self) -> bool:
        return self.p_value < ALPHA

    def winner(self) -> str | None:
        if not self.significant:
            return None
        return self.a if self.clicks_a > self.clicks_b else self.b

    def as_dict(self) -> dict[str, object]:
        return {
            "design": "interleave",
            "a": self.a,
            "b": self.b,
            "clicks_a": self.clicks_a,
            "clicks_b": self.clicks_b,
            "share_a": _finite(self.share),
            "low": _finite(self.low),
            "high": _finite(self.high),
            "p_value": _finite(self.p_value, 8),
            "winner": self.winner(),
        }


def interleaving(rows: Iterable[Count], a: str, b: str, confidence: float = CONFIDENCE) -> InterleavingResult:
    """The sign test of an interleaved experiment: each credited click is a vote for its arm."""
    clicks_a = clicks_b = 0
    for row in rows:
        if row.arm == a:
            clicks_a += row.clicks
        elif row.arm == b:
            clicks_b += row.clicks
    n = clicks_a + clicks_b
    if not n:
        return InterleavingResult(a, b, 0, 0, math.nan, math.nan, math.nan, 1.0)
    test = stats.binomtest(clicks_a, n, 0.5)
    interval = test.proportion_ci(confidence_level=confidence, method="exact")
    return InterleavingResult(
        a, b, clicks_a, clicks_b, clicks_a / n, interval.low, interval.high, float(test.pvalue)
    )


def parse_design(text: str) -> Design:
    try:
        return DESIGNS[text]
    except KeyError:
        raise InvalidInput(f"unknown design {text!r}: ab or interleave") from None


def compare(
    rows: Sequence[Count], a: str, b: str, design: Design, *, bootstrap: int = 0, seed: int = 0
) -> ABComparison | InterleavingResult:
    if design == "interleave":
        return interleaving(rows, a, b)
    return compare_ab(rows, a, b, bootstrap=bootstrap, seed=seed)


def arms_of(rows: Iterable[Count]) -> dict[str, list[str]]:
    """The arms seen in each experiment (the no-experiment rows, experiment "", left out)."""
    arms: dict[str, set[str]] = {}
    for row in rows:
        if row.experiment:
            arms.setdefault(row.experiment, set()).add(row.arm)
    return {name: sorted(found) for name, found in sorted(arms.items())}


def summary(
    rows: Sequence[Count],
    *,
    designs: dict[str, Design] | None = None,
    bootstrap: int = 0,
    seed: int = 0,
) -> dict[str, object]:
    """Everything a report shows, as plain data: totals, rates by each dimension, position bias per
    block, and every pair of arms of every experiment compared (`designs`: an experiment's design,
    A/B where not given)."""
    designs = designs or {}
    comparisons: list[dict[str, object]] = []
    for experiment, arms in arms_of(rows).items():
        ours = [r for r in rows if r.experiment == experiment]
        design = designs.get(experiment, "ab")
        for block in sorted({r.block for r in ours}):
            in_block = [r for r in ours if r.block == block]
            for i, a in enumerate(arms):
                for b in arms[i + 1 :]:
                    result = compare(in_block, a, b, design, bootstrap=bootstrap, seed=seed)
                    comparisons.append({"experiment": experiment, "block": block, **result.as_dict()})
    return {
        "total": total(rows).as_dict(),
        "by": {dimension: [r.as_dict() for r in by(rows, dimension)] for dimension in DIMENSIONS},
        "position_bias": {
            block: [p.as_dict() for p in position_bias(rows, block)]
            for block in sorted({r.block for r in rows})
        },
        "comparisons": comparisons,
    }
