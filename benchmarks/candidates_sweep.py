"""Candidate fusion (RRF, blend) and ranking knobs judged in one process.

They are compared on a built data folder, in one process (one load, no
rebuild per variant), with the metrics of `recsys evaluate` (docs/ranking-candidates.md).

Variants:

* `rrf` and `blend=W`: the stored candidate lists alone (each article's dense neighbours and lexical
  matches, no ranking rules), fused by reciprocal rank fusion (constant 60) or by the blend
  (1 - W) x cosine + W x normalised BM25;
* `system:KEY=VALUE,...`: the full query API with the ranking policy changed, e.g.
  `system:fusion_weight=0.3,time_prior_weight=0.3,time_prior_half_life_days=90,mmr_lambda=0.7`
  (any `Policy` field; `dedup=0` / `diversity=0` turn a stage off per request).

    python -m benchmarks.candidates_sweep --data-dir /work/rk/wcep \
        -i ../shared/data/wcep2025_dev/articles.jsonl.gz --sample 1000 \
        --variant rrf --variant blend=0.3 --variant system:time_prior_weight=0 --json out.json

Reads only: the catalog and the current index version (no model is loaded).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
from pathlib import Path

import numpy as np

from recsys.articles import Article, read_articles
from recsys.catalog.store import StoredArticle
from recsys.evaluation.baselines import FullSystem, make_methods
from recsys.evaluation.corpus import EvalCorpus
from recsys.evaluation.report import Evaluation, format_table
from recsys.evaluation.runner import Method, run
from recsys.evaluation.truth import Truth, choose_queries, make_truth, read_pairs
from recsys.root import Root
from recsys.serving.query import RelatedQuery
from recsys.serving.queryside import QuerySide
from recsys.serving.recommend import Recommender
from recsys.settings import Settings

RRF_CONSTANT = 60
RESAMPLES = 10_000


def per_query(evaluation: Evaluation, name: str) -> dict[str, np.ndarray]:
    """nDCG@10, R@5 and P@10 of each query, in the evaluation's query order, as `run` scored them
    (identical copies counted as one article unless --copies-as-distinct)."""
    rows = evaluation.result(name).per_query
    return {metric: rows[metric] for metric in ("nDCG@10", "R@5", "P@10")}


def paired(a: np.ndarray, b: np.ndarray, seed: int = 0) -> dict[str, float]:
    """Mean of a - b, its 95% paired bootstrap interval and a two-sided sign-flip randomisation p."""
    diff = a - b
    rng = np.random.default_rng(seed)
    means = diff[rng.integers(0, len(diff), size=(RESAMPLES, len(diff)))].mean(axis=1)
    flips = rng.choice([-1.0, 1.0], size=(RESAMPLES, len(diff)))
    null = np.abs((flips * diff).mean(axis=1))
    p = (1 + int((null >= abs(diff.mean()) - 1e-12).sum())) / (RESAMPLES + 1)
    low, high = np.percentile(means, [2.5, 97.5])
    return {"diff": float(diff.mean()), "low": float(low), "high": float(high), "p": p}


class StoredLists:
    """The version's stored dense and lexical lists of an article, fused, with no ranking rules."""

    def __init__(self, name: str, recommender: Recommender, corpus: EvalCorpus, weight: float | None) -> None:
        self.name = name
        self.recommender = recommender
        self.corpus = corpus
        self.weight = weight  # None: reciprocal rank fusion

    def recommend(self, query: StoredArticle, k: int) -> list[str]:
        index = self.recommender.index
        snapshot = index.snapshot
        row = snapshot.row_of_key(query.key)
        assert row is not None and index.lexical_rows is not None and index.lexical_scores is not None
        dense = index.neighbours[row]
        dense = dense[dense >= 0]
        lexical = index.lexical_rows[row]
        keep = lexical >= 0
        lexical, lexical_scores = lexical[keep], index.lexical_scores[row][keep]
        if self.weight is None:
            fused: dict[int, float] = {}
            for ranked in (dense, lexical):
                for rank, r in enumerate(ranked.tolist()):
                    fused[r] = fused.get(r, 0.0) + 1.0 / (RRF_CONSTANT + rank + 1)
            rows = sorted(fused, key=lambda r: (-fused[r], r))
        else:
            union = np.union1d(dense, lexical)
            vectors = index.vectors.vectors_of(snapshot.keys[union])
            cosine = vectors @ index.vectors.vectors_of(np.array([query.key]))[0]
            matched = np.zeros(len(union))
            at = np.searchsorted(union, lexical)
            matched[at] = lexical_scores
            score = (1 - self.weight) * cosine + self.weight * matched
            rows = union[np.lexsort((union, -score))].tolist()
        return [snapshot.ids[r] for r in rows[:k]]


class Variant:
    """The full system under a changed policy (and request switches)."""

    def __init__(self, name: str, recommender: Recommender, query: RelatedQuery) -> None:
        self.name = name
        self.recommender = recommender
        self.query = query

    def recommend(self, query: StoredArticle, k: int) -> list[str]:
        ranked = self.recommender.related_list(query.id, dataclasses.replace(self.query, limit=k))
        return [r.article.id for r in ranked.items]


def _system(spec: str, side: QuerySide, base: Recommender) -> Method:
    changes: dict[str, float] = {}
    switches: dict[str, bool] = {}
    for part in filter(None, spec.split(",")):
        key, _, value = part.partition("=")
        if key in ("dedup", "diversity"):
            switches[key] = value not in ("0", "false", "off")
        else:
            changes[key] = float(value)
    policy = dataclasses.replace(base.policy, **changes)  # type: ignore[arg-type]
    recommender = dataclasses.replace(side, policy=policy).recommender(base.index, clock=base.clock)
    return Variant(f"system:{spec}" if spec else "system", recommender, RelatedQuery(**switches))


@dataclasses.dataclass(frozen=True)
class JudgedSet:
    """A built data folder's query side and the judged queries of its input files."""

    side: QuerySide
    base: Recommender
    corpus: EvalCorpus
    truth: Truth
    graded: dict[tuple[str, str], float] | None
    queries: list[str]


def add_set_arguments(parser: argparse.ArgumentParser) -> None:
    """The options that name a data folder and the judged set on it (`judged_set`)."""
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("-i", "--input", type=Path, action="append", required=True)
    parser.add_argument("--relevance", default="auto")
    parser.add_argument("--tag-prefix", default="")
    parser.add_argument("--sample", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=0)


def judged_set(args: argparse.Namespace) -> JudgedSet:
    """Loads the folder's current version (no model) and chooses the queries as `recsys evaluate` does."""
    side = Root(Settings(data_dir=args.data_dir), with_model=False).query_side
    base = side.load()
    corpus = EvalCorpus.from_index(side.catalog, base.index.vectors)
    pairs = args.input[0].parent / "pairs.tsv"
    graded = read_pairs(pairs) if pairs.is_file() else None
    records = [r for path in args.input for _, r in read_articles(path) if isinstance(r, Article)]
    stories = {r.id: r.extra["story"] for r in records if isinstance(r.extra.get("story"), str)}
    truth = make_truth(corpus, args.relevance, tag_prefix=args.tag_prefix, graded=graded, stories=stories)
    queries = choose_queries(truth, {r.id for r in records}, sample=args.sample, seed=args.seed)
    return JudgedSet(side, base, corpus, truth, graded, queries)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    add_set_arguments(parser)
    parser.add_argument("--baselines", default="bm25,dense,hybrid,system")
    parser.add_argument("--variant", action="append", default=[])
    parser.add_argument("--copies-as-distinct", action="store_true")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)

    judged = judged_set(args)
    side, base, corpus, truth, graded, queries = (
        judged.side,
        judged.base,
        judged.corpus,
        judged.truth,
        judged.graded,
        judged.queries,
    )
    methods: list[Method] = list(make_methods(args.baselines.split(","), corpus, base, seed=args.seed))
    for spec in args.variant:
        if spec == "rrf":
            methods.append(StoredLists("lists:rrf", base, corpus, None))
        elif spec.startswith("blend="):
            methods.append(StoredLists(f"lists:{spec}", base, corpus, float(spec.split("=", 1)[1])))
        elif spec.startswith("system"):
            methods.append(_system(spec.partition(":")[2], side, base))
        else:
            parser.error(f"unknown variant {spec!r}")
    assert all(not isinstance(m, FullSystem) or m.name == "system" for m in methods)
    distinct = args.copies_as_distinct
    evaluation = run(corpus, methods, truth, queries, graded=graded, copies_as_distinct=distinct)
    print(format_table(evaluation))
    result = evaluation.as_dict()
    # Paired differences of the first method against every other, query by query.
    first = per_query(evaluation, methods[0].name)
    comparisons = {}
    for other in methods[1:]:
        theirs = per_query(evaluation, other.name)
        comparisons[other.name] = {m: paired(first[m], theirs[m]) for m in first}
        cells = ", ".join(
            f"{m} {c['diff']:+.4f} [{c['low']:+.4f}, {c['high']:+.4f}] p={c['p']:.4f}"
            for m, c in comparisons[other.name].items()
        )
        print(f"{methods[0].name} - {other.name}: {cells}")
    result["paired"] = {"reference": methods[0].name, "against": comparisons}
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
