"""Running methods over the judged queries, then their intervals and paired comparisons.

Each method's lists and latencies on the same queries are scored (recsys/evaluation/metrics.py), then
given confidence intervals and paired comparisons (recsys/evaluation/significance.py). Used by
`recsys evaluate` and by notebooks/evaluation.ipynb (through index/evaluation.py), so both show the
same numbers.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, Sequence
from typing import Protocol, runtime_checkable

from recsys.catalog.store import StoredArticle
from recsys.errors import InvalidInput
from recsys.evaluation.copies import Copies
from recsys.evaluation.corpus import EvalCorpus
from recsys.evaluation.languages import MIN_GROUP_QUERIES, by_language, language_of
from recsys.evaluation.metrics import measure, pair_correlation
from recsys.evaluation.ratings import PairScorer, RatedPair, correlate, named_pairs
from recsys.evaluation.report import Evaluation, MethodResult
from recsys.evaluation.significance import DEFAULT_PERMUTATIONS, DEFAULT_RESAMPLES, analyse
from recsys.evaluation.truth import CuratedTruth, LongStoryTruth, ProxyTruth, Truth
from recsys.serving.query import MAX_LIMIT

DEFAULT_KS: tuple[int, ...] = (1, 3, 5, 10)


class Method(Protocol):
    """A way to pick related stories: ids of up to k other articles, best first."""

    @property
    def name(self) -> str: ...

    def recommend(self, query: StoredArticle, k: int) -> list[str]: ...


@runtime_checkable
class ElsewhereMethod(Protocol):
    """A method that also lists an article's stories in the other languages (its other editions):
    None where it has no such list for that article."""

    def recommend_elsewhere(self, query: StoredArticle, k: int) -> list[str] | None: ...


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
    """`method`'s list for each query, timed, then every metric of those lists."""
    ks = tuple(sorted(set(ks)))
    depth = ks[-1]
    copies = Copies(()) if copies_as_distinct else corpus.copies
    lists: dict[str, list[str]] = {}
    elsewhere: dict[str, list[str]] = {}
    latencies: list[float] = []
    for query_id in query_ids:
        query = corpus.get(query_id)
        itself = {query_id, *copies.others(query_id)}
        # What the truth sets aside (a long story's nearer items) leaves the list like the article
        # itself: the method is asked for as many more, up to what one request may ask.
        aside = {a for i in truth.ignored(query_id) for a in (i, *copies.others(i))} - itself
        started = clock()
        found = method.recommend(query, min(depth + len(itself) - 1 + len(aside), MAX_LIMIT))
        latencies.append((clock() - started) * 1000.0)
        left_out = itself | aside
        lists[query_id] = [i for i in found if i in corpus.row_of and i not in left_out][:depth]
        if isinstance(method, ElsewhereMethod):
            # Not timed: the latency columns stay those of the list every page shows.
            other = method.recommend_elsewhere(query, min(depth + len(itself) - 1 + len(aside), MAX_LIMIT))
            if other is not None:
                elsewhere[query_id] = [i for i in other if i in corpus.row_of and i not in left_out][:depth]
    result = measure(
        method.name, lists, latencies, corpus, truth, ks=ks, dup_threshold=dup_threshold, copies=copies
    )
    result.elsewhere = elsewhere
    return result


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
    rated: Sequence[RatedPair] = (),
    min_group: int = MIN_GROUP_QUERIES,
) -> Evaluation:
    """Every method on the same queries, then intervals for every method and the `reference`
    method's paired comparisons against the others (recsys/evaluation/significance.py), seeded by `seed`;
    the same per query language and language pair when there are several (recsys/evaluation/
    languages.py, significance in groups of at least `min_group`), and each pair-scoring method's
    correlation with the `rated` pairs (recsys/evaluation/ratings.py)."""
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
        top = evaluation.ks[-1]
        evaluation.languages = by_language(
            corpus,
            truth,
            results,
            query_ids,
            metrics=[f"R@{k}" for k in (1, 5) if k in evaluation.ks] + [f"nDCG@{top}"],
            copies=Copies(()) if copies_as_distinct else corpus.copies,
            named_pairs=named_pairs(rated),
            reference=reference,
            resamples=resamples,
            permutations=permutations,
            seed=seed,
            minimum=min_group,
        )
    if rated:
        scorers = [m for m in methods if isinstance(m, PairScorer)]
        evaluation.ratings = correlate(
            scorers,
            rated,
            {a.id: language_of(a) for a in corpus.articles},
            reference=reference,
            resamples=resamples,
            seed=seed,
            scores={s.name: s.pair_score for s in scorers},
        )
    return evaluation


def _same_story(truth: Truth) -> bool:
    return isinstance(truth, CuratedTruth | LongStoryTruth) or (
        isinstance(truth, ProxyTruth) and truth.kind == "story"
    )
