"""Offline evaluation of related-story lists: ground truth, metrics, and the report.

Used by `recsys evaluate` and by notebooks/evaluation.ipynb, so both show the same numbers.

Ground truth, in order of preference:

* curated links (`related` in the input): relevant = the links of an article plus the articles that
  link to it (an editor linking A to B is evidence both ways). With graded pairs (semeval's pairs.tsv,
  1 = same story .. 4 = unrelated) nDCG uses gain 4 - rating for the rated pairs;
* a proxy where a corpus has no curated links: `section` (same section is relevant) or `tags` (sharing
  a tag is relevant, optionally only tags with a prefix such as `topic:` on reuters21578). A proxy
  rewards topical lists, not same-story lists; recall against a proxy is tiny by construction, so read
  precision and nDCG there;
* `story`: the same `story` label in the input records (wcep2025's editor story header). Unlike its
  `related` links, capped at the 20 items nearest in time, a label covers the whole story however
  long it runs, so it does not favour lists that stay close in time.

Every method is judged on the same query articles (a seeded sample when there are many). List metrics
(section agreement, tag overlap, near-duplicates, coverage, intra-list similarity, age) use the index
vectors and the catalog fields, whatever the method, so a lexical baseline is measured with the same
ruler as the dense one. Identical copies (one text under several ids) count as one article
(recsys/evaluation/copies.py).
"""

from __future__ import annotations

import csv
import functools
import math
import random
import statistics
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Protocol

import numpy as np

from recsys.articles import parse_timestamp
from recsys.catalog.sqlite import Catalog, StoredArticle
from recsys.errors import InvalidInput
from recsys.evaluation.copies import Copies
from recsys.evaluation.significance import DEFAULT_PERMUTATIONS, DEFAULT_RESAMPLES, Significance, analyse
from recsys.version.vectors import VectorIndex

DEFAULT_KS: tuple[int, ...] = (1, 3, 5, 10)
Relevance = Literal["auto", "related", "section", "tags", "story"]
RELEVANCE_MODES: tuple[str, ...] = ("auto", "related", "section", "tags", "story")
# wcep2025's label for an item the editors filed under no story: a cluster of one, never relevant.
SINGLETON_STORY = "singleton:"


class Method(Protocol):
    """A way to pick related stories: ids of up to k other articles, best first."""

    @property
    def name(self) -> str: ...

    def recommend(self, query: StoredArticle, k: int) -> list[str]: ...


# -- the corpus as the evaluation sees it ------------------------------------------------------------


@dataclass
class EvalCorpus:
    """The published, indexed articles with their vectors (rows in `articles` order)."""

    articles: list[StoredArticle]
    vectors: np.ndarray
    row_of: dict[str, int] = field(init=False)
    copies: Copies = field(
        init=False
    )  # ids sharing one text: scored as one article (recsys/evaluation/copies.py)

    def __post_init__(self) -> None:
        if len(self.articles) != len(self.vectors):
            raise InvalidInput(f"{len(self.articles)} articles but {len(self.vectors)} vectors")
        self.row_of = {a.id: row for row, a in enumerate(self.articles)}
        self.copies = Copies((a.id, a.content_hash) for a in self.articles)

    @classmethod
    def from_index(cls, catalog: Catalog, vectors: VectorIndex) -> EvalCorpus:
        articles = [s for s in catalog.iter_all(status="published") if vectors.contains(s.key)]
        if not articles:
            raise InvalidInput("no published article of the catalog is in the index; run `recsys build`")
        matrix = np.vstack([vectors.vector(s.key) for s in articles]).astype(np.float32)  # type: ignore[misc]
        return cls(articles, matrix)

    def get(self, article_id: str) -> StoredArticle:
        return self.articles[self.row_of[article_id]]

    def vector(self, article_id: str) -> np.ndarray:
        return self.vectors[self.row_of[article_id]]

    def __len__(self) -> int:
        return len(self.articles)


# -- ground truth -------------------------------------------------------------------------------------


class Truth(Protocol):
    """What counts as relevant for a query: `gain` > 0 is relevant; `ideal` gives the best possible
    gains in order (for nDCG) and `count` the number of relevant articles (for recall)."""

    description: str

    def queries(self) -> list[str]: ...

    def gain(self, query_id: str, candidate_id: str) -> float: ...

    def is_relevant(self, query_id: str, candidate_id: str) -> bool: ...

    def ideal(self, query_id: str, k: int) -> list[float]: ...

    def count(self, query_id: str) -> int: ...


class CuratedTruth:
    """Editors' links, made symmetric; optional graded gains from rated pairs for nDCG."""

    def __init__(self, corpus: EvalCorpus, graded: dict[tuple[str, str], float] | None = None) -> None:
        self.description = "curated related links (symmetric)"
        relevant: dict[str, set[str]] = {}
        for stored in corpus.articles:
            for other in stored.article.related:
                if other in corpus.row_of and other != stored.id:
                    relevant.setdefault(stored.id, set()).add(other)
                    relevant.setdefault(other, set()).add(stored.id)
        self._relevant = relevant
        self._gains: dict[str, dict[str, float]] = {q: dict.fromkeys(ids, 1.0) for q, ids in relevant.items()}
        if graded:
            self.description += " + graded pairs (gain 4 - rating)"
            for (a, b), gain in graded.items():
                for q, c in ((a, b), (b, a)):
                    if q in self._gains and c in corpus.row_of:
                        self._gains[q][c] = gain

    def queries(self) -> list[str]:
        return sorted(self._relevant)

    def gain(self, query_id: str, candidate_id: str) -> float:
        return self._gains.get(query_id, {}).get(candidate_id, 0.0)

    def is_relevant(self, query_id: str, candidate_id: str) -> bool:
        return candidate_id in self._relevant.get(query_id, ())

    def ideal(self, query_id: str, k: int) -> list[float]:
        return sorted((g for g in self._gains.get(query_id, {}).values() if g > 0), reverse=True)[:k]

    def count(self, query_id: str) -> int:
        return len(self._relevant.get(query_id, ()))


class ProxyTruth:
    """Relevance from metadata: same section, at least one shared tag (optionally with a prefix), or
    the same story label (`stories`: article id -> label, read from the input files)."""

    def __init__(
        self,
        corpus: EvalCorpus,
        kind: Literal["section", "tags", "story"],
        tag_prefix: str = "",
        stories: dict[str, str] | None = None,
    ) -> None:
        self.kind = kind
        self._labels: dict[str, frozenset[str]] = {}
        stories = stories or {}
        for stored in corpus.articles:
            if kind == "section":
                labels = {stored.article.section} if stored.article.section else set()
            elif kind == "story":
                story = stories.get(stored.id)
                labels = {story} if story and not story.startswith(SINGLETON_STORY) else set()
            else:
                labels = {t for t in stored.article.tags if t.startswith(tag_prefix)}
            if labels:
                self._labels[stored.id] = frozenset(labels)
        postings: dict[str, set[str]] = {}
        for article_id, owned in self._labels.items():
            for label in owned:
                postings.setdefault(label, set()).add(article_id)
        self._counts = {
            article_id: len(set().union(*(postings[label] for label in labels))) - 1
            for article_id, labels in self._labels.items()
        }
        scope = f" ({tag_prefix}*)" if tag_prefix else ""
        what = {"section": "same section", "tags": f"a shared tag{scope}", "story": "same `story` label"}[
            kind
        ]
        self.description = f"proxy: {what} is relevant"

    def queries(self) -> list[str]:
        return sorted(q for q, n in self._counts.items() if n > 0)

    def gain(self, query_id: str, candidate_id: str) -> float:
        mine = self._labels.get(query_id)
        theirs = self._labels.get(candidate_id)
        return 1.0 if mine and theirs and not mine.isdisjoint(theirs) else 0.0

    def is_relevant(self, query_id: str, candidate_id: str) -> bool:
        return self.gain(query_id, candidate_id) > 0

    def ideal(self, query_id: str, k: int) -> list[float]:
        return [1.0] * min(k, self._counts.get(query_id, 0))

    def count(self, query_id: str) -> int:
        return self._counts.get(query_id, 0)


def read_pairs(path: Path) -> dict[tuple[str, str], float]:
    """Graded pairs from a TSV with a header: id1, id2, rating (1 = same story .. 4 = unrelated).
    Returns nDCG gains, 4 - rating (3 for the same story, 0 for unrelated)."""
    if not path.is_file():
        raise InvalidInput(f"{path}: no such pairs file")
    gains: dict[tuple[str, str], float] = {}
    with open(path, encoding="utf-8", newline="") as handle:
        rows = csv.reader(handle, delimiter="\t")
        next(rows, None)
        for number, row in enumerate(rows, start=2):
            if not row or not "".join(row).strip():
                continue
            try:
                rating = float(row[2])
            except (IndexError, ValueError) as exc:
                raise InvalidInput(f"{path}:{number}: expected id1, id2 and a numeric rating") from exc
            if not 1.0 <= rating <= 4.0:
                raise InvalidInput(f"{path}:{number}: rating {rating} is outside 1..4")
            gains[(row[0].strip(), row[1].strip())] = 4.0 - rating
    return gains


def make_truth(
    corpus: EvalCorpus,
    relevance: str = "auto",
    *,
    tag_prefix: str = "",
    graded: dict[tuple[str, str], float] | None = None,
    stories: dict[str, str] | None = None,
) -> Truth:
    """Curated links when the corpus has them (or when asked), else a section or tag proxy; story
    labels only when asked (`stories`: the `story` field of the input records, by article id)."""
    if relevance not in RELEVANCE_MODES:
        raise InvalidInput(f"unknown relevance {relevance!r} (expected one of {', '.join(RELEVANCE_MODES)})")
    if relevance == "story":
        if not stories:
            raise InvalidInput("--relevance story needs a `story` field in the input records; none has one")
        by_story = ProxyTruth(corpus, "story", stories=stories)
        if not by_story.queries():
            raise InvalidInput("no two indexed articles share a `story` label: nothing to judge against")
        return by_story
    if relevance in ("auto", "related"):
        curated = CuratedTruth(corpus, graded)
        if curated.queries() or relevance == "related":
            if not curated.queries():
                raise InvalidInput("the corpus has no curated `related` links between its articles")
            return curated
        has_sections = any(s.article.section for s in corpus.articles)
        relevance = "section" if has_sections else "tags"
    truth = ProxyTruth(corpus, "section" if relevance == "section" else "tags", tag_prefix)
    if not truth.queries():
        raise InvalidInput(f"no article has a {relevance} shared with another one: nothing to judge against")
    return truth


# -- metrics ------------------------------------------------------------------------------------------


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
        "pearson": _round(pearson(cosines, human)),
        "spearman": _round(spearman(cosines, human)),
    }


def _round(value: float, digits: int = 4) -> float | None:
    return None if value is None or math.isnan(value) else round(value, digits)


def _days_between(later: str | None, earlier: str | None) -> float | None:
    if not later or not earlier:
        return None
    return (parse_timestamp(later) - parse_timestamp(earlier)).total_seconds() / 86400.0


def _percentile(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


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
    # metric -> one value per query, in the evaluation's query order (NaN: does not apply there).
    # Metrics: R@k, P@k, nDCG@k, sect@k, tags@k, dup@k, echo@k, ILS@k, MRR, age and |age| (the
    # median signed and absolute gap in days of the query's items).
    per_query: dict[str, np.ndarray] = field(default_factory=dict, repr=False)

    def as_dict(self) -> dict[str, Any]:
        def by_k(values: dict[int, Any]) -> dict[str, Any]:
            return {str(k): (_round(v) if isinstance(v, float) else v) for k, v in values.items()}

        return {
            "queries": self.queries,
            "recall": by_k(self.recall),
            "precision": by_k(self.precision),
            "ndcg": by_k(self.ndcg),
            "mrr": _round(self.mrr),
            "section_agreement": by_k(self.section_agreement),
            "tag_overlap": by_k(self.tag_overlap),
            "duplicate_pairs_per_list": by_k(self.duplicate_pairs),
            "query_duplicate_share": by_k(self.query_duplicates),
            "coverage": by_k(self.coverage),
            "intra_list_similarity": by_k(self.intra_list_similarity),
            "age_days_median": _round(self.age_days_median) if self.age_days_median is not None else None,
            "age_abs_days_median": (
                _round(self.age_abs_days_median) if self.age_abs_days_median is not None else None
            ),
            "age_days_p90": _round(self.age_days_p90) if self.age_days_p90 is not None else None,
            "newer_share": _round(self.newer_share) if self.newer_share is not None else None,
            "latency_ms_p50": _round(self.latency_ms_p50, 3),
            "latency_ms_p99": _round(self.latency_ms_p99, 3),
            "empty_lists": self.empty_lists,
            "section_agreement_by_section": {
                s: _round(v) for s, v in self.section_agreement_by_section.items()
            },
        }


def _mean(values: list[float]) -> float:
    return statistics.fmean(values) if values else 0.0


def score_method(
    method: Method,
    corpus: EvalCorpus,
    truth: Truth,
    query_ids: Sequence[str],
    *,
    ks: Sequence[int] = DEFAULT_KS,
    dup_threshold: float = 0.9,
    clock: Callable[[], float] = time.perf_counter,
    copies_as_distinct: bool = False,
) -> MethodResult:
    ks = tuple(sorted(set(ks)))
    depth = ks[-1]
    copies = Copies(()) if copies_as_distinct else corpus.copies
    lists: dict[str, list[str]] = {}
    latencies: list[float] = []
    for query_id in query_ids:
        query = corpus.get(query_id)
        itself = {query_id, *copies.others(query_id)}
        started = clock()
        found = method.recommend(query, depth + len(itself) - 1)
        latencies.append((clock() - started) * 1000.0)
        lists[query_id] = [i for i in found if i in corpus.row_of and i not in itself][:depth]

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
        name=method.name,
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


# -- the whole run ------------------------------------------------------------------------------------


@dataclass
class Evaluation:
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

    def result(self, name: str) -> MethodResult:
        for result in self.results:
            if result.name == name:
                return result
        raise InvalidInput(f"no method {name!r} in this evaluation")

    def label(self, metric: str) -> str:
        return self.labels.get(metric, metric)

    def as_dict(self) -> dict[str, Any]:
        def rounded(values: np.ndarray) -> list[float | None]:
            return [_round(float(v)) for v in values]

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


def choose_queries(
    truth: Truth, candidates: Iterable[str] | None = None, *, sample: int | None = None, seed: int = 0
) -> list[str]:
    """The articles to judge: those with ground truth (and among `candidates`, when given), sampled
    with a fixed seed when there are more than `sample`."""
    judged = truth.queries()
    if candidates is not None:
        allowed = set(candidates)
        judged = [q for q in judged if q in allowed]
    if not judged:
        raise InvalidInput("no article of the input has ground truth to be judged against")
    if sample is not None and len(judged) > sample:
        judged = sorted(random.Random(seed).sample(judged, sample))
    return judged


def run(
    corpus: EvalCorpus,
    methods: Sequence[Method],
    truth: Truth,
    query_ids: Sequence[str],
    *,
    ks: Sequence[int] = DEFAULT_KS,
    dup_threshold: float = 0.9,
    copies_as_distinct: bool = False,
    graded: dict[tuple[str, str], float] | None = None,
    reference: str = "system",
    resamples: int = DEFAULT_RESAMPLES,
    permutations: int = DEFAULT_PERMUTATIONS,
    seed: int = 0,
) -> Evaluation:
    """Every method on the same queries, then intervals for every method and the `reference`
    method's paired comparisons against the others (recsys/evaluation/significance.py), seeded by `seed`."""
    if not ks or min(ks) < 1 or max(ks) > 100:
        raise InvalidInput("every k must be between 1 and 100")
    score = functools.partial(
        score_method, ks=ks, dup_threshold=dup_threshold, copies_as_distinct=copies_as_distinct
    )
    results = [score(m, corpus, truth, query_ids) for m in methods]
    dated = any(corpus.get(q).article.published_at for q in query_ids)
    evaluation = Evaluation(
        corpus_size=len(corpus),
        truth=truth.description,
        ks=tuple(sorted(set(ks))),
        query_ids=list(query_ids),
        results=results,
        correlation=pair_correlation(corpus, graded) if graded else None,
        notes={
            "dup_threshold": dup_threshold,
            # How identical copies were scored (recsys/evaluation/copies.py): as one article, or by id.
            "copies": "distinct" if copies_as_distinct else f"one article ({corpus.copies.groups} groups)",
        },
        labels={"P@5": "story@5"} if _same_story(truth) and dated and 5 in ks else {},
    )
    # Against a section or tag proxy recall is tiny by construction (hundreds of relevant articles):
    # its differences are real but meaningless, so only precision, nDCG and MRR are tested there.
    topical = isinstance(truth, ProxyTruth) and truth.kind != "story"
    if results and query_ids:
        evaluation.significance = analyse(
            {r.name: r.per_query for r in results},
            metrics=evaluation.interval_metrics(),
            compared=[m for m in evaluation.compared_metrics() if not (m.startswith("R@") and topical)],
            reference=reference,
            resamples=resamples,
            permutations=permutations,
            seed=seed,
        )
    return evaluation


def _same_story(truth: Truth) -> bool:
    return isinstance(truth, CuratedTruth) or (isinstance(truth, ProxyTruth) and truth.kind == "story")


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
