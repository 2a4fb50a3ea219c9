"""Whether two methods really differ: paired bootstrap, sign-flip randomisation tests, Holm correction.

Paired bootstrap confidence intervals and a paired randomisation (sign-flip) test over per-query
metrics.

Every method of an evaluation is judged on the same queries, so the comparisons are paired: what
varies from query to query (an easy story, a hard one) is shared by both methods and cancels in the
per-query difference. Both procedures resample queries, the unit the sample was drawn in:

* the **paired bootstrap** draws the queries with replacement `resamples` times (one set of draws for
  every method and metric of a run, so intervals of different methods are comparable) and takes the
  2.5th and 97.5th percentiles of the resampled means: a 95% percentile interval for a method's mean
  and for the mean difference of two methods;
* the **randomisation test** asks how often a difference at least as large (in absolute value) as the
  one observed arises when, on each query, which method got which score is a coin toss (the null
  hypothesis: the two methods are exchangeable). It flips the sign of each per-query difference at
  random `permutations` times; p = (1 + flips at least as extreme) / (1 + permutations), never 0.

Comparing one method against several baselines tests several hypotheses at once; p-values are
adjusted with Holm's step-down method (the family: one metric, the reference against every other
method), which controls the chance of any false "significant" at `ALPHA` and is never less powerful
than Bonferroni. Plain numpy with seeded generators: the same seed gives the same numbers.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from recsys.errors import InvalidInput

DEFAULT_RESAMPLES = 2000
DEFAULT_PERMUTATIONS = 10_000
CONFIDENCE = 0.95
ALPHA = 0.05
# Sign-flip draws per block: bounds memory (block x queries bytes) whatever the number of queries.
_FLIP_BLOCK = 500


@dataclass(frozen=True)
class Interval:
    """A mean with its bootstrap confidence interval."""

    mean: float
    low: float
    high: float

    def excludes_zero(self) -> bool:
        return self.low > 0 or self.high < 0

    def format(self, digits: int = 3) -> str:
        """`0.875 [0.840, 0.910]`; `-` when nothing was measured."""
        if np.isnan(self.mean):
            return "-"
        mean, low, high = (_fixed(v, digits) for v in (self.mean, self.low, self.high))
        return f"{mean} [{low}, {high}]"

    def as_dict(self) -> dict[str, float | None]:
        return {name: _finite(getattr(self, name)) for name in ("mean", "low", "high")}


def _fixed(value: float, digits: int) -> str:
    """Fixed-point text without a minus sign on a value that rounds to zero ("-0.000")."""
    text = f"{value:.{digits}f}"
    return text[1:] if text.startswith("-") and float(text) == 0 else text


def _finite(value: float, digits: int = 4) -> float | None:
    return None if np.isnan(value) else round(float(value), digits)


def _rng(*seed: int) -> np.random.Generator:
    """A generator from one or more integers (any sign): a separate, reproducible stream for each."""
    return np.random.default_rng([part % 2**32 for part in seed])


def bootstrap_draws(queries: int, resamples: int = DEFAULT_RESAMPLES, seed: int = 0) -> np.ndarray:
    """`resamples` rows of `queries` query positions drawn with replacement: one bootstrap world each."""
    if queries < 1:
        raise InvalidInput("a confidence interval needs at least one query")
    if resamples < 1:
        raise InvalidInput(f"resamples must be at least 1, got {resamples}")
    return _rng(seed).integers(0, queries, size=(resamples, queries), dtype=np.int32)


def mean_interval(values: np.ndarray, draws: np.ndarray, confidence: float = CONFIDENCE) -> Interval:
    """The mean of per-query `values` and its percentile bootstrap interval over `draws`. NaN marks a
    query where the metric does not apply (an empty list, no section): it is left out of every mean."""
    values = np.asarray(values, dtype=np.float64)
    if values.shape != (draws.shape[1],):
        raise InvalidInput(f"{len(values)} per-query values for {draws.shape[1]} queries")
    present = ~np.isnan(values)
    if not present.any():
        return Interval(float("nan"), float("nan"), float("nan"))
    if present.all():
        means = values[draws].mean(axis=1)
    else:
        # A resample may hold none of the queries where the metric applies: its mean is undefined, so
        # it is dropped (NaN-aware percentiles below).
        taken = present[draws]
        sums = np.where(taken, values[draws], 0.0).sum(axis=1)
        counts = taken.sum(axis=1)
        means = np.divide(sums, counts, out=np.full(len(sums), np.nan), where=counts > 0)
    tail = (1.0 - confidence) / 2.0 * 100.0
    low, high = np.nanpercentile(means, [tail, 100.0 - tail])
    return Interval(float(values[present].mean()), float(low), float(high))


def sign_flip_p(
    differences: np.ndarray, permutations: int = DEFAULT_PERMUTATIONS, seed: int | Sequence[int] = 0
) -> float:
    """Two-sided p-value of a paired randomisation test of mean(differences) = 0. Queries where the
    difference is NaN (the metric applies to neither method) are left out."""
    diff = np.asarray(differences, dtype=np.float64)
    diff = diff[~np.isnan(diff)]
    if permutations < 1:
        raise InvalidInput(f"permutations must be at least 1, got {permutations}")
    if len(diff) == 0:
        return 1.0
    observed = abs(diff.sum())
    # Sums in float64 of the same numbers in another order may differ in the last bits; without the
    # tolerance, identical methods (all differences 0) or a flip that only reorders could miss "as
    # extreme" by rounding.
    tolerance = 1e-9 * max(1.0, float(np.abs(diff).sum()))
    rng = _rng(*([seed] if isinstance(seed, int) else seed))
    extreme = 0
    done = 0
    while done < permutations:
        block = min(_FLIP_BLOCK, permutations - done)
        signs = rng.integers(0, 2, size=(block, len(diff)), dtype=np.int8) * 2 - 1
        extreme += int((np.abs(signs @ diff) >= observed - tolerance).sum())
        done += block
    return (1 + extreme) / (1 + permutations)


def holm(pvalues: Sequence[float]) -> list[float]:
    """Holm-adjusted p-values (step-down, monotone, capped at 1), in the order given."""
    order = sorted(range(len(pvalues)), key=lambda i: pvalues[i])
    adjusted = [0.0] * len(pvalues)
    running = 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (len(pvalues) - rank) * pvalues[i]))
        adjusted[i] = running
    return adjusted


@dataclass(frozen=True)
class Comparison:
    """The reference method minus one baseline on one metric."""

    metric: str
    baseline: str
    difference: Interval
    p: float
    p_holm: float
    best_baseline: bool  # the baseline with the highest mean on this metric

    @property
    def significant(self) -> bool:
        return self.p_holm < ALPHA

    def as_dict(self) -> dict[str, Any]:
        return {
            "metric": self.metric,
            "baseline": self.baseline,
            "difference": self.difference.as_dict(),
            "p": round(self.p, 6),
            "p_holm": round(self.p_holm, 6),
            "significant": self.significant,
            "best_baseline": self.best_baseline,
        }


@dataclass(frozen=True)
class Significance:
    """Confidence intervals of every method's means and the reference's paired comparisons."""

    reference: str | None
    intervals: dict[str, dict[str, Interval]]  # method -> metric -> interval
    comparisons: list[Comparison]
    resamples: int
    permutations: int
    seed: int
    confidence: float = CONFIDENCE
    alpha: float = ALPHA

    def as_dict(self) -> dict[str, Any]:
        return {
            "method": (
                f"paired percentile bootstrap ({self.resamples} resamples of the queries, "
                f"{self.confidence:.0%} intervals); two-sided paired sign-flip randomisation test "
                f"({self.permutations} permutations); Holm correction across baselines per metric, "
                f"alpha {self.alpha}"
            ),
            "reference": self.reference,
            "resamples": self.resamples,
            "permutations": self.permutations,
            "seed": self.seed,
            "confidence": self.confidence,
            "alpha": self.alpha,
            "intervals": {
                method: {metric: interval.as_dict() for metric, interval in metrics.items()}
                for method, metrics in self.intervals.items()
            },
            "comparisons": [c.as_dict() for c in self.comparisons],
        }

    def interval(self, method: str, metric: str) -> Interval:
        return self.intervals[method][metric]


def analyse(
    per_query: Mapping[str, Mapping[str, np.ndarray]],
    *,
    metrics: Sequence[str],
    compared: Sequence[str],
    reference: str | None = "system",
    resamples: int = DEFAULT_RESAMPLES,
    permutations: int = DEFAULT_PERMUTATIONS,
    seed: int = 0,
) -> Significance:
    """Intervals for every method (keys of `per_query`) on every metric of `metrics`, and, when the
    `reference` method is present, its comparison against every other method on each of `compared`
    (metrics where higher is better). Per-query arrays are aligned: position i is the same query."""
    methods = list(per_query)
    if not methods:
        raise InvalidInput("no method to analyse")
    queries = {len(values) for table in per_query.values() for values in table.values()}
    if len(queries) != 1:
        raise InvalidInput("every method needs one value per query, for the same queries")
    draws = bootstrap_draws(queries.pop(), resamples, seed)
    intervals = {
        method: {m: mean_interval(per_query[method][m], draws) for m in metrics if m in per_query[method]}
        for method in methods
    }
    comparisons: list[Comparison] = []
    baselines = [m for m in methods if m != reference]
    if reference is not None and reference in per_query and baselines:
        for number, metric in enumerate(compared):
            if metric not in per_query[reference]:
                continue
            means = {b: intervals[b][metric].mean for b in baselines}
            best = max(baselines, key=lambda b: -np.inf if np.isnan(means[b]) else means[b])
            rows: list[tuple[str, Interval, float]] = []
            for position, baseline in enumerate(baselines):
                diff = per_query[reference][metric] - per_query[baseline][metric]
                # A fresh, seeded stream per comparison: adding a method does not move the others.
                p = sign_flip_p(diff, permutations, seed=(seed, number, position))
                rows.append((baseline, mean_interval(diff, draws), p))
            adjusted = holm([p for _, _, p in rows])
            comparisons += [
                Comparison(metric, baseline, interval, p, p_adj, baseline == best)
                for (baseline, interval, p), p_adj in zip(rows, adjusted, strict=True)
            ]
    return Significance(
        reference=reference if reference in per_query else None,
        intervals=intervals,
        comparisons=comparisons,
        resamples=resamples,
        permutations=permutations,
        seed=seed,
    )
