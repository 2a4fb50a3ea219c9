"""Offline evaluation of related-story lists: ground truth, metrics, and the report.

Used by `recsys evaluate` and by notebooks/evaluation.ipynb, so both show the same numbers.

Ground truth, in order of preference:

* curated links (`related` in the input): relevant = the links of an article plus the articles that
  link to it (an editor linking A to B is evidence both ways). With graded pairs (semeval's pairs.tsv,
  1 = same story .. 4 = unrelated) nDCG uses gain 4 - rating for the rated pairs;
* a proxy where a corpus has no curated links: `section` (same section is relevant) or `tags` (sharing
  a tag is relevant, optionally only tags with a prefix such as `topic:` on reuters21578). A proxy
  rewards topical lists, not same-story lists; recall against a proxy is tiny by construction, so read
  precision and nDCG there.

Every method is judged on the same query articles (a seeded sample when there are many). List metrics
(section agreement, tag overlap, near-duplicates, coverage, intra-list similarity, age) use the index
vectors and the catalog fields, whatever the method, so a lexical baseline is measured with the same
ruler as the dense one.
"""

from __future__ import annotations

import csv
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
from recsys.catalog import Catalog, StoredArticle
from recsys.errors import InvalidInput
from recsys.vectors import VectorIndex

DEFAULT_KS: tuple[int, ...] = (1, 3, 5, 10)
Relevance = Literal["auto", "related", "section", "tags"]
RELEVANCE_MODES: tuple[str, ...] = ("auto", "related", "section", "tags")


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

    def __post_init__(self) -> None:
        if len(self.articles) != len(self.vectors):
            raise InvalidInput(f"{len(self.articles)} articles but {len(self.vectors)} vectors")
        self.row_of = {a.id: row for row, a in enumerate(self.articles)}

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
    """Relevance from metadata: same section, or at least one shared tag (optionally with a prefix)."""

    def __init__(self, corpus: EvalCorpus, kind: Literal["section", "tags"], tag_prefix: str = "") -> None:
        self.kind = kind
        self._labels: dict[str, frozenset[str]] = {}
        for stored in corpus.articles:
            if kind == "section":
                labels = {stored.article.section} if stored.article.section else set()
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
        what = "same section" if kind == "section" else f"a shared tag{scope}"
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
) -> Truth:
    """Curated links when the corpus has them (or when asked), else a section or tag proxy."""
    if relevance not in RELEVANCE_MODES:
        raise InvalidInput(f"unknown relevance {relevance!r} (expected one of {', '.join(RELEVANCE_MODES)})")
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


def pair_correlation(corpus: EvalCorpus, graded: dict[tuple[str, str], float]) -> dict[str, Any]:
    """Pearson and Spearman between the cosine of the two articles' vectors and the human similarity
    (4 - rating: 3 = same story, 0 = unrelated), over the rated pairs whose articles are both indexed."""
    cosines: list[float] = []
    human: list[float] = []
    for (a, b), gain in graded.items():
        if a in corpus.row_of and b in corpus.row_of:
            cosines.append(float(corpus.vector(a) @ corpus.vector(b)))
            human.append(gain)
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
    section_agreement_by_section: dict[str, float] = field(default_factory=dict)
    ages_days: list[float] = field(default_factory=list, repr=False)
    lists: dict[str, list[str]] = field(default_factory=dict, repr=False)

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


def _mean_or_none(values: list[float]) -> float | None:
    return statistics.fmean(values) if values else None


def score_method(
    method: Method,
    corpus: EvalCorpus,
    truth: Truth,
    query_ids: Sequence[str],
    *,
    ks: Sequence[int] = DEFAULT_KS,
    dup_threshold: float = 0.9,
    clock: Callable[[], float] = time.perf_counter,
) -> MethodResult:
    ks = tuple(sorted(set(ks)))
    depth = ks[-1]
    lists: dict[str, list[str]] = {}
    latencies: list[float] = []
    for query_id in query_ids:
        query = corpus.get(query_id)
        started = clock()
        found = method.recommend(query, depth)
        latencies.append((clock() - started) * 1000.0)
        lists[query_id] = [i for i in found if i in corpus.row_of and i != query_id][:depth]

    recall = {k: [] for k in ks}  # type: dict[int, list[float]]
    precision = {k: [] for k in ks}  # type: dict[int, list[float]]
    ndcgs = {k: [] for k in ks}  # type: dict[int, list[float]]
    sections = {k: [] for k in ks}  # type: dict[int, list[float]]
    tags = {k: [] for k in ks}  # type: dict[int, list[float]]
    dups = {k: [] for k in ks}  # type: dict[int, list[float]]
    echoes = {k: [] for k in ks}  # type: dict[int, list[float]]
    ils = {k: [] for k in ks}  # type: dict[int, list[float]]
    seen = {k: set() for k in ks}  # type: dict[int, set[str]]
    reciprocal: list[float] = []
    ages: list[float] = []
    per_section: dict[str, list[float]] = {}
    for query_id, items in lists.items():
        subject = corpus.get(query_id).article
        gains = [truth.gain(query_id, i) for i in items]
        relevant = [truth.is_relevant(query_id, i) for i in items]
        relevant_total = truth.count(query_id)
        first_hit = next((rank for rank, hit in enumerate(relevant) if hit), None)
        reciprocal.append(0.0 if first_hit is None else 1.0 / (first_hit + 1))
        rows = [corpus.row_of[i] for i in items]
        vectors = corpus.vectors[rows] if rows else np.zeros((0, corpus.vectors.shape[1]), np.float32)
        similarity = vectors @ vectors.T
        to_query = vectors @ corpus.vector(query_id)
        query_tags = set(subject.tags)
        for k in ks:
            top = items[:k]
            hits = sum(relevant[:k])
            recall[k].append(hits / relevant_total if relevant_total else 0.0)
            precision[k].append(hits / k)
            ndcgs[k].append(ndcg(gains[:k], truth.ideal(query_id, k)))
            seen[k].update(top)
            if not top:
                continue
            listed = [corpus.get(i).article for i in top]
            if subject.section:
                sections[k].append(sum(a.section == subject.section for a in listed) / len(top))
            if query_tags:
                tags[k].append(sum(bool(query_tags & set(a.tags)) for a in listed) / len(top))
            n = len(top)
            upper = similarity[:n, :n][np.triu_indices(n, k=1)]
            dups[k].append(float((upper >= dup_threshold).sum()))
            echoes[k].append(float((to_query[:n] >= dup_threshold).mean()))
            if n >= 2:
                ils[k].append(float(upper.mean()))
        if subject.section and items:
            per_section.setdefault(subject.section, []).append(sections[depth][-1])
        for item in items:
            age = _days_between(subject.published_at, corpus.get(item).article.published_at)
            if age is not None:
                ages.append(age)

    return MethodResult(
        name=method.name,
        ks=ks,
        queries=len(lists),
        recall={k: _mean(v) for k, v in recall.items()},
        precision={k: _mean(v) for k, v in precision.items()},
        ndcg={k: _mean(v) for k, v in ndcgs.items()},
        mrr=_mean(reciprocal),
        section_agreement={k: _mean_or_none(v) for k, v in sections.items()},
        tag_overlap={k: _mean_or_none(v) for k, v in tags.items()},
        duplicate_pairs={k: _mean(v) for k, v in dups.items()},
        query_duplicates={k: _mean(v) for k, v in echoes.items()},
        coverage={k: len(v) / len(corpus) for k, v in seen.items()},
        intra_list_similarity={k: _mean_or_none(v) for k, v in ils.items()},
        age_days_median=statistics.median(ages) if ages else None,
        age_days_p90=_percentile([abs(a) for a in ages], 0.9) if ages else None,
        newer_share=sum(a < 0 for a in ages) / len(ages) if ages else None,
        latency_ms_p50=statistics.median(latencies) if latencies else 0.0,
        latency_ms_p99=_percentile(latencies, 0.99) if latencies else 0.0,
        empty_lists=sum(1 for items in lists.values() if not items),
        section_agreement_by_section={s: _mean(v) for s, v in sorted(per_section.items())},
        ages_days=ages,
        lists=lists,
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

    def result(self, name: str) -> MethodResult:
        for result in self.results:
            if result.name == name:
                return result
        raise InvalidInput(f"no method {name!r} in this evaluation")

    def as_dict(self) -> dict[str, Any]:
        return {
            "corpus_articles": self.corpus_size,
            "truth": self.truth,
            "ks": list(self.ks),
            "queries": len(self.query_ids),
            "pair_correlation": self.correlation,
            **self.notes,
            "methods": {r.name: r.as_dict() for r in self.results},
        }


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
    graded: dict[tuple[str, str], float] | None = None,
) -> Evaluation:
    if not ks or min(ks) < 1 or max(ks) > 100:
        raise InvalidInput("every k must be between 1 and 100")
    results = [score_method(m, corpus, truth, query_ids, ks=ks, dup_threshold=dup_threshold) for m in methods]
    return Evaluation(
        corpus_size=len(corpus),
        truth=truth.description,
        ks=tuple(sorted(set(ks))),
        query_ids=list(query_ids),
        results=results,
        correlation=pair_correlation(corpus, graded) if graded else None,
        notes={"dup_threshold": dup_threshold},
    )


def _cell(value: float | None, digits: int = 3) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def format_table(evaluation: Evaluation) -> str:
    """The report as a fixed-width text table (one row per method)."""
    ks = evaluation.ks
    top = ks[-1]
    header = (
        [f"R@{k}" for k in ks]
        + [f"P@{top}", f"nDCG@{top}", "MRR", f"sect@{top}", f"tags@{top}", f"dup@{top}", f"echo@{top}"]
        + [f"cov@{top}", f"ILS@{top}", "age d", "p50 ms"]
    )
    lines = [
        f"{evaluation.corpus_size} articles, {len(evaluation.query_ids)} queries; truth: {evaluation.truth}",
        f"{'method':<8} " + " ".join(f"{h:>8}" for h in header),
    ]
    for r in evaluation.results:
        cells = (
            [_cell(r.recall[k]) for k in ks]
            + [_cell(r.precision[top]), _cell(r.ndcg[top]), _cell(r.mrr)]
            + [_cell(r.section_agreement[top]), _cell(r.tag_overlap[top])]
            + [_cell(r.duplicate_pairs[top], 2), _cell(r.query_duplicates[top])]
            + [_cell(r.coverage[top]), _cell(r.intra_list_similarity[top])]
            + [_cell(r.age_days_median, 1), _cell(r.latency_ms_p50, 2)]
        )
        lines.append(f"{r.name:<8} " + " ".join(f"{c:>8}" for c in cells))
    if evaluation.correlation:
        c = evaluation.correlation
        lines.append(
            f"cosine vs human rating over {c['pairs']} rated pairs: "
            f"Pearson {_cell(c['pearson'])}, Spearman {_cell(c['spearman'])}"
        )
    lines.append(
        "dup = near-duplicate pairs per list, echo = share of items near-duplicate of the article "
        f"(cosine >= {evaluation.notes.get('dup_threshold', 0.9)}); age d = median days the item is "
        "older than the article; cov = share of the catalog ever listed"
    )
    return "\n".join(lines)
