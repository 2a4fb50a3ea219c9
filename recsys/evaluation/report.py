"""The report: what an evaluation found, as JSON and as the fixed-width table.

`as_dict` gives the JSON of `recsys evaluate --output`; `format_table` the table that `recsys
evaluate` prints and the notebook shows.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from recsys.errors import InvalidInput
from recsys.evaluation.significance import Significance


class Section(Protocol):
    """A further part of the report (recsys/evaluation/languages.py's LanguageReport,
    recsys/evaluation/ratings.py's RatingReport): its JSON and its lines of the table."""

    def as_dict(self) -> dict[str, Any]: ...

    def format_lines(self, methods: Sequence[str]) -> list[str]: ...


def round_or_none(value: float | None, digits: int = 4) -> float | None:
    """A number for the JSON report: rounded, and null where it is missing or NaN."""
    return None if value is None or math.isnan(value) else round(value, digits)


@dataclass
class MethodResult:
    """Everything measured for one method; `lists` and `ages_days` feed the notebook's plots."""

    name: str
    ks: tuple[int, ...]
    queries: int
    recall: dict[int, float]
    precision: dict[int, float]
    ndcg: dict[int, float]
    mrr: float
    section_agreement: dict[int, float | None]
    tag_overlap: dict[int, float | None]
    duplicate_pairs: dict[int, float]
    query_duplicates: dict[int, float]
    coverage: dict[int, float]
    intra_list_similarity: dict[int, float | None]
    age_days_median: float | None
    age_days_p90: float | None
    newer_share: float | None
    latency_ms_p50: float
    latency_ms_p99: float
    empty_lists: int
    # Median of |days| between the article and its items: how far from the story's moment a list
    # reaches, whichever direction (age_days_median is signed: positive = the item is older).
    age_abs_days_median: float | None = None
    section_agreement_by_section: dict[str, float] = field(default_factory=dict)
    ages_days: list[float] = field(default_factory=list, repr=False)
    lists: dict[str, list[str]] = field(default_factory=dict, repr=False)
    # query -> its list in the other languages (FullSystem.recommend_elsewhere), when the method was
    # asked for one: the per-language report judges the query's cross-language units on it.
    elsewhere: dict[str, list[str]] = field(default_factory=dict, repr=False)
    # metric -> one value per query, in the evaluation's query order (NaN: does not apply there).
    # Metrics: R@k, P@k, nDCG@k, sect@k, tags@k, dup@k, echo@k, ILS@k, MRR, age and |age| (the
    # median signed and absolute gap in days of the query's items).
    per_query: dict[str, np.ndarray] = field(default_factory=dict, repr=False)

    def as_dict(self) -> dict[str, Any]:
        def by_k(values: dict[int, Any]) -> dict[str, Any]:
            return {str(k): (round_or_none(v) if isinstance(v, float) else v) for k, v in values.items()}

        return {
            "queries": self.queries,
            "recall": by_k(self.recall),
            "precision": by_k(self.precision),
            "ndcg": by_k(self.ndcg),
            "mrr": round_or_none(self.mrr),
            "section_agreement": by_k(self.section_agreement),
            "tag_overlap": by_k(self.tag_overlap),
            "duplicate_pairs_per_list": by_k(self.duplicate_pairs),
            "query_duplicate_share": by_k(self.query_duplicates),
            "coverage": by_k(self.coverage),
            "intra_list_similarity": by_k(self.intra_list_similarity),
            "age_days_median": round_or_none(self.age_days_median),
            "age_abs_days_median": round_or_none(self.age_abs_days_median),
            "age_days_p90": round_or_none(self.age_days_p90),
            "newer_share": round_or_none(self.newer_share),
            "latency_ms_p50": round_or_none(self.latency_ms_p50, 3),
            "latency_ms_p99": round_or_none(self.latency_ms_p99, 3),
            "empty_lists": self.empty_lists,
            "section_agreement_by_section": {
                s: round_or_none(v) for s, v in self.section_agreement_by_section.items()
            },
        }


@dataclass
class Evaluation:
    """One run: every method judged on the same queries, with the intervals and comparisons."""

    corpus_size: int
    truth: str
    ks: tuple[int, ...]
    query_ids: list[str]
    results: list[MethodResult]
    correlation: dict[str, Any] | None = None
    notes: dict[str, Any] = field(default_factory=dict)
    significance: Significance | None = None
    # Display names of metrics where the key would mislead: P@5 against same-story links on a dated
    # corpus is the share of the top 5 that belongs to the article's story, shown as story@5.
    labels: dict[str, str] = field(default_factory=dict)
    # Per query language and language pair (recsys/evaluation/languages.py); None: one language.
    languages: Section | None = None
    # Each pair-scoring method against the rated pairs (recsys/evaluation/ratings.py); None: no pairs.
    ratings: Section | None = None

    def result(self, name: str) -> MethodResult:
        for result in self.results:
            if result.name == name:
                return result
        raise InvalidInput(f"no method {name!r} in this evaluation")

    def label(self, metric: str) -> str:
        return self.labels.get(metric, metric)

    def as_dict(self) -> dict[str, Any]:
        def rounded(values: np.ndarray) -> list[float | None]:
            return [round_or_none(float(v)) for v in values]

        return {
            "corpus_articles": self.corpus_size,
            "truth": self.truth,
            "ks": list(self.ks),
            "queries": len(self.query_ids),
            "pair_correlation": self.correlation,
            **self.notes,
            "labels": self.labels,
            "methods": {r.name: r.as_dict() for r in self.results},
            "significance": self.significance.as_dict() if self.significance else None,
            "languages": self.languages.as_dict() if self.languages else None,
            "rated_pairs": self.ratings.as_dict() if self.ratings else None,
            # Enough to recompute any statistic: the query ids and, per method, each metric's value
            # on each query (same order; null where the metric does not apply).
            "per_query": {
                "query_ids": self.query_ids,
                "methods": {
                    r.name: {m: rounded(r.per_query[m]) for m in self.interval_metrics() if m in r.per_query}
                    for r in self.results
                },
            },
        }

    def interval_metrics(self) -> list[str]:
        """The metrics given a confidence interval: recall at every k, precision at 5 and at the
        largest k, nDCG and list qualities at the largest k, MRR, and the age gaps."""
        top = self.ks[-1]
        return list(
            dict.fromkeys(
                [f"R@{k}" for k in self.ks]
                + [f"P@{k}" for k in (5, top) if k in self.ks]
                + [f"nDCG@{top}", "MRR", f"sect@{top}", f"tags@{top}", f"dup@{top}", f"echo@{top}"]
                + [f"ILS@{top}", "age", "|age|"]
            )
        )

    def compared_metrics(self) -> list[str]:
        """The metrics tested for significance (higher is better on each)."""
        top = self.ks[-1]
        wanted = [f"nDCG@{top}", "R@1", "R@5", "P@5", "MRR"]
        return [m for m in dict.fromkeys(wanted) if m == "MRR" or int(m.split("@")[1]) in self.ks]


def _name_width(evaluation: Evaluation) -> int:
    return max(8, *(len(r.name) for r in evaluation.results)) if evaluation.results else 8


def _cell(value: float | None, digits: int = 3) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def format_table(evaluation: Evaluation) -> str:
    """The report as fixed-width text: the means per method, then (when computed) their confidence
    intervals and the significance of the reference method against each baseline."""
    ks = evaluation.ks
    top = ks[-1]
    five = [evaluation.label("P@5")] if 5 in ks and top != 5 else []
    header = (
        [f"R@{k}" for k in ks]
        + five
        + [f"P@{top}", f"nDCG@{top}", "MRR", f"sect@{top}", f"tags@{top}", f"dup@{top}", f"echo@{top}"]
        + [f"cov@{top}", f"ILS@{top}", "age d", "|age| d", "p50 ms"]
    )
    width = _name_width(evaluation)
    lines = [
        f"{evaluation.corpus_size} articles, {len(evaluation.query_ids)} queries; truth: {evaluation.truth}",
        f"{'method':<{width}} " + " ".join(f"{h:>8}" for h in header),
    ]
    for r in evaluation.results:
        cells = (
            [_cell(r.recall[k]) for k in ks]
            + ([_cell(r.precision[5])] if five else [])
            + [_cell(r.precision[top]), _cell(r.ndcg[top]), _cell(r.mrr)]
            + [_cell(r.section_agreement[top]), _cell(r.tag_overlap[top])]
            + [_cell(r.duplicate_pairs[top], 2), _cell(r.query_duplicates[top])]
            + [_cell(r.coverage[top]), _cell(r.intra_list_similarity[top])]
            + [_cell(r.age_days_median, 1), _cell(r.age_abs_days_median, 1), _cell(r.latency_ms_p50, 2)]
        )
        lines.append(f"{r.name:<{width}} " + " ".join(f"{c:>8}" for c in cells))
    if evaluation.correlation:
        c = evaluation.correlation
        lines.append(
            f"cosine vs human rating over {c['pairs']} rated pairs: "
            f"Pearson {_cell(c['pearson'])}, Spearman {_cell(c['spearman'])}"
        )
    story = (
        " story@5 = P@5, the share of the top 5 in the article's story;" if five and evaluation.labels else ""
    )
    lines.append(
        "dup = near-duplicate pairs per list, echo = share of items near-duplicate of the article "
        f"(cosine >= {evaluation.notes.get('dup_threshold', 0.9)}); age d / |age| d = median days the "
        "item is older than the article (signed / absolute); cov = share of the catalog ever listed;" + story
    )
    if evaluation.significance is not None:
        lines += ["", *format_intervals(evaluation), *format_significance(evaluation)]
    methods = [r.name for r in evaluation.results]
    for section in (evaluation.ratings, evaluation.languages):
        if section is not None:
            lines += section.format_lines(methods)
    return "\n".join(lines)


def format_intervals(evaluation: Evaluation) -> list[str]:
    """Each method's headline means with their bootstrap confidence intervals."""
    significance = evaluation.significance
    if significance is None:
        return []
    top = evaluation.ks[-1]
    shown = [
        m
        for m in (f"nDCG@{top}", "R@1", "R@5", "P@5", "MRR", f"dup@{top}")
        if m in significance.intervals[evaluation.results[0].name]
    ]
    width = _name_width(evaluation)
    lines = [
        f"means with {significance.confidence:.0%} paired bootstrap intervals ({significance.resamples} "
        f"resamples of the {len(evaluation.query_ids)} queries, seed {significance.seed})",
        f"{'method':<{width}} " + " ".join(f"{evaluation.label(m):>22}" for m in shown),
    ]
    for r in evaluation.results:
        cells = [significance.interval(r.name, m).format() for m in shown]
        lines.append(f"{r.name:<{width}} " + " ".join(f"{c:>22}" for c in cells))
    return lines


def format_significance(evaluation: Evaluation) -> list[str]:
    """The reference method minus each baseline: difference, interval, p-values, verdict."""
    significance = evaluation.significance
    if significance is None or not significance.comparisons:
        return []
    baselines = len({c.baseline for c in significance.comparisons})
    width = max(9, *(len(c.baseline) + 1 for c in significance.comparisons))
    other = "baseline" if significance.reference == "system" else "other method"
    lines = [
        "",
        f"{significance.reference} minus each {other}: paired bootstrap {significance.confidence:.0%} "
        f"interval of the difference; p from a two-sided paired sign-flip randomisation test "
        f"({significance.permutations} permutations), Holm-corrected across the {baselines} {other}s "
        f"of each metric; significant = Holm p < {significance.alpha}; * = best baseline on that metric",
        f"{'metric':<9} {other.split()[-1]:<{width}} {'difference [95% CI]':>26} {'p':>8} {'p Holm':>8}"
        "  significant",
    ]
    for c in significance.comparisons:
        verdict = ("yes, better" if c.difference.mean > 0 else "yes, worse") if c.significant else "no"
        name = c.baseline + ("*" if c.best_baseline else "")
        lines.append(
            f"{evaluation.label(c.metric):<9} {name:<{width}} {c.difference.format():>26} "
            f"{c.p:>8.4f} {c.p_holm:>8.4f}  {verdict}"
        )
    return lines
