"""The metrics: from the lists a method returned to the numbers of the report.

Per query: recall, precision and nDCG at every k, MRR (against the ground truth, recsys/evaluation/
truth.py, with identical copies counted once, recsys/evaluation/copies.py), and the list qualities
that need no ground truth: section agreement, tag overlap, near-duplicate pairs (dup@k), items
near-duplicate of the article (echo@k), intra-list similarity and the age gap between the article
and its items. Also the correlation of cosines with human ratings over graded pairs.
"""

from __future__ import annotations

import functools
import math
import statistics
from collections.abc import Sequence
from typing import Any

import numpy as np

from recsys.articles import parse_timestamp
from recsys.evaluation.copies import Copies
from recsys.evaluation.corpus import EvalCorpus
from recsys.evaluation.report import MethodResult, round_or_none
from recsys.evaluation.truth import Truth


def dcg(gains: Sequence[float]) -> float:
    return sum(g / math.log2(rank + 2) for rank, g in enumerate(gains))


def ndcg(gains: Sequence[float], ideal: Sequence[float]) -> float:
    best = dcg(ideal)
    return dcg(gains) / best if best > 0 else 0.0


def _ranks(values: np.ndarray) -> np.ndarray:
    """Ranks with ties averaged (for Spearman)."""
    order = np.argsort(values, kind="mergesort")
    ranks = np.empty(len(values), dtype=np.float64)
    ranks[order] = np.arange(len(values), dtype=np.float64)
    sorted_values = values[order]
    start = 0
    for end in range(1, len(values) + 1):
        if end == len(values) or sorted_values[end] != sorted_values[start]:
            ranks[order[start:end]] = (start + end - 1) / 2.0
            start = end
    return ranks


def pearson(x: Sequence[float], y: Sequence[float]) -> float:
    a = np.asarray(x, dtype=np.float64)
    b = np.asarray(y, dtype=np.float64)
    if len(a) < 2 or a.std() == 0 or b.std() == 0:
        return float("nan")
    return float(np.corrcoef(a, b)[0, 1])


def spearman(x: Sequence[float], y: Sequence[float]) -> float:
    return pearson(_ranks(np.asarray(x, dtype=np.float64)), _ranks(np.asarray(y, dtype=np.float64)))  # type: ignore[arg-type]


def rated_pairs(corpus: EvalCorpus, graded: dict[tuple[str, str], float]) -> tuple[list[float], list[float]]:
    """(cosines, human similarities) of the rated pairs whose two articles are both indexed: the
    cosine of their vectors and 4 - rating (3 = same story, 0 = unrelated)."""
    cosines: list[float] = []
    human: list[float] = []
    for (a, b), gain in graded.items():
        if a in corpus.row_of and b in corpus.row_of:
            cosines.append(float(corpus.vector(a) @ corpus.vector(b)))
            human.append(gain)
    return cosines, human


def pair_correlation(corpus: EvalCorpus, graded: dict[tuple[str, str], float]) -> dict[str, Any]:
    """Pearson and Spearman between the cosine and the human similarity over the rated pairs."""
    cosines, human = rated_pairs(corpus, graded)
    return {
        "pairs": len(cosines),
        "pearson": round_or_none(pearson(cosines, human)),
        "spearman": round_or_none(spearman(cosines, human)),
    }


def _days_between(later: str | None, earlier: str | None) -> float | None:
    if not later or not earlier:
        return None
    return (parse_timestamp(later) - parse_timestamp(earlier)).total_seconds() / 86400.0


def _percentile(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def _mean(values: list[float]) -> float:
    return statistics.fmean(values) if values else 0.0


def measure(
    name: str,
    lists: dict[str, list[str]],
    latencies: Sequence[float],
    corpus: EvalCorpus,
    truth: Truth,
    *,
    ks: tuple[int, ...],
    dup_threshold: float,
    copies: Copies,
) -> MethodResult:
    """Every metric of one method's `lists` (query id -> listed ids, at most max(ks) each, the query
    and its copies left out) and its `latencies` (ms per query); `ks` sorted ascending."""
    depth = ks[-1]
    nan = float("nan")
    # One value per query and metric, NaN where the metric does not apply to that query (an empty
    # list, no section, fewer than two items): the means below and the confidence intervals of
    # recsys/evaluation/significance.py both read these rows.
    rows: dict[str, list[float]] = {}

    def record(metric: str, value: float) -> None:
        rows.setdefault(metric, []).append(value)

    seen = {k: set() for k in ks}  # type: dict[int, set[str]]
    ages: list[float] = []
    per_section: dict[str, list[float]] = {}
    for query_id, items in lists.items():
        subject = corpus.get(query_id).article
        credited = copies.credited(items, functools.partial(truth.gain, query_id))
        gains = [0.0 if c is None else truth.gain(query_id, c) for c in credited]
        relevant = [c is not None and truth.is_relevant(query_id, c) for c in credited]
        relevant_total = truth.count(query_id)
        first_hit = next((rank for rank, hit in enumerate(relevant) if hit), None)
        record("MRR", 0.0 if first_hit is None else 1.0 / (first_hit + 1))
        item_rows = [corpus.row_of[i] for i in items]
        vectors = (
            corpus.vectors[item_rows] if item_rows else np.zeros((0, corpus.vectors.shape[1]), np.float32)
        )
        similarity = vectors @ vectors.T
        to_query = vectors @ corpus.vector(query_id)
        query_tags = set(subject.tags)
        for k in ks:
            top = items[:k]
            hits = sum(relevant[:k])
            record(f"R@{k}", hits / relevant_total if relevant_total else 0.0)
            record(f"P@{k}", hits / k)
            record(f"nDCG@{k}", ndcg(gains[:k], truth.ideal(query_id, k)))
            seen[k].update(top)
            listed = [corpus.get(i).article for i in top]
            n = len(top)
            upper = similarity[:n, :n][np.triu_indices(n, k=1)]
            on_desk = sum(a.section == subject.section for a in listed) / n if n and subject.section else nan
            shared = sum(bool(query_tags & set(a.tags)) for a in listed) / n if n and query_tags else nan
            record(f"sect@{k}", on_desk)
            record(f"tags@{k}", shared)
            record(f"dup@{k}", float((upper >= dup_threshold).sum()) if n else nan)
            record(f"echo@{k}", float((to_query[:n] >= dup_threshold).mean()) if n else nan)
            record(f"ILS@{k}", float(upper.mean()) if n >= 2 else nan)
        if subject.section and items:
            per_section.setdefault(subject.section, []).append(rows[f"sect@{depth}"][-1])
        gaps = [
            age
            for item in items
            if (age := _days_between(subject.published_at, corpus.get(item).article.published_at)) is not None
        ]
        ages += gaps
        record("age", statistics.median(gaps) if gaps else nan)
        record("|age|", statistics.median([abs(g) for g in gaps]) if gaps else nan)

    per_query = {metric: np.asarray(values, dtype=np.float64) for metric, values in rows.items()}

    def mean(metric: str) -> float | None:
        values = per_query.get(metric, np.zeros(0))
        present = values[~np.isnan(values)]
        return float(present.mean()) if len(present) else None

    def by_k(prefix: str, empty: float | None = 0.0) -> dict[int, Any]:
        return {k: mean(f"{prefix}@{k}") if mean(f"{prefix}@{k}") is not None else empty for k in ks}

    return MethodResult(
        name=name,
        ks=ks,
        queries=len(lists),
        recall=by_k("R"),
        precision=by_k("P"),
        ndcg=by_k("nDCG"),
        mrr=mean("MRR") or 0.0,
        section_agreement=by_k("sect", None),
        tag_overlap=by_k("tags", None),
        duplicate_pairs=by_k("dup"),
        query_duplicates=by_k("echo"),
        coverage={k: len(v) / len(corpus) for k, v in seen.items()},
        intra_list_similarity=by_k("ILS", None),
        age_days_median=statistics.median(ages) if ages else None,
        age_days_p90=_percentile([abs(a) for a in ages], 0.9) if ages else None,
        newer_share=sum(a < 0 for a in ages) / len(ages) if ages else None,
        latency_ms_p50=statistics.median(latencies) if latencies else 0.0,
        latency_ms_p99=_percentile(latencies, 0.99) if latencies else 0.0,
        empty_lists=sum(1 for items in lists.values() if not items),
        age_abs_days_median=statistics.median([abs(a) for a in ages]) if ages else None,
        section_agreement_by_section={s: _mean(v) for s, v in sorted(per_section.items())},
        ages_days=ages,
        lists=lists,
        per_query=per_query,
    )
