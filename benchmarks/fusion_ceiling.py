"""How far any weighting of the signals the ranking already computes can take a judged set (issue 22).

For each query it takes the stored candidates (dense neighbours and lexical matches, as
`candidates_sweep`'s `lists:blend=W`) with their cosine, normalised BM25 and, where the version
stores names, the names overlap (recsys/version/entities.py), and reports, by id (an identical copy of
a partner counts as a miss here, unlike `recsys evaluate`):

* the blend at fixed lexical weights, nDCG@10 and R@1;
* the ceiling of an adaptive lexical weight: each query's best weight on a grid, chosen knowing the
  answer, and its paired sign-flip p against the blend at the default weight;
* the first-ranked misses whose partner is beaten on cosine and on BM25 (and on names) by one
  candidate: no monotone combination of those signals can put the partner first there;
* the names overlap added at a few weights (only where the version has names).

When the ceiling is level with the default within noise, the gap to a baseline cannot be closed by
re-weighting: it needs evidence the ranking does not compute yet.

    python -m benchmarks.fusion_ceiling --data-dir HAYSTACK \
        -i ../shared/data/semeval2022_pairs_train/articles.jsonl.gz --json out.json

Reads only: the catalog and the current index version (no model is loaded).
"""

from __future__ import annotations

import argparse
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from benchmarks.candidates_sweep import add_set_arguments, judged_set
from recsys.evaluation.corpus import EvalCorpus
from recsys.evaluation.truth import Truth
from recsys.serving.recommend import Recommender
from recsys.version.entities import Entities

WEIGHTS = tuple(round(w, 3) for w in np.linspace(0.0, 1.0, 21))
NAME_WEIGHTS = (0.05, 0.1, 0.2, 0.4)
FLIPS = 10_000


@dataclass(frozen=True)
class Candidates:
    """One query's candidates: their signals and their gains under the truth."""

    cosine: np.ndarray
    lexical: np.ndarray
    names: np.ndarray | None
    gain: np.ndarray
    ideal: np.ndarray  # the best gains, descending, at most 10


def ndcg_and_first(score: np.ndarray, c: Candidates, k: int = 10) -> tuple[float, float]:
    """nDCG@k of the candidates in score order (ties by position), and whether the first is relevant."""
    order = np.lexsort((np.arange(len(score)), -score))[:k]
    gains = c.gain[order]
    dcg = float((gains / np.log2(np.arange(2, len(gains) + 2))).sum())
    ideal = c.ideal[:k]
    best = float((ideal / np.log2(np.arange(2, len(ideal) + 2))).sum())
    return (dcg / best if best > 0 else 0.0), float(len(order) > 0 and c.gain[order[0]] > 0)


def blend(c: Candidates, weight: float) -> np.ndarray:
    return (1.0 - weight) * c.cosine + weight * c.lexical


def dominated(c: Candidates, weight: float, with_names: bool) -> bool | None:
    """For a first-ranked miss at `weight`: is the best-placed partner beaten on every signal by
    some candidate? None when the first is a hit or no partner is among the candidates."""
    score = blend(c, weight)
    relevant = np.flatnonzero(c.gain > 0)
    if not len(relevant) or c.gain[int(np.argmax(score))] > 0:
        return None
    partner = int(relevant[np.argmax(score[relevant])])
    beaten = (c.cosine > c.cosine[partner]) & (c.lexical > c.lexical[partner])
    if with_names and c.names is not None:
        beaten &= c.names > c.names[partner]
    return bool(beaten.any())


def sign_flip_p(diff: np.ndarray, seed: int = 0) -> float:
    """Two-sided paired sign-flip randomisation p of a mean difference, as candidates_sweep's."""
    flips = np.random.default_rng(seed).choice([-1.0, 1.0], size=(FLIPS, len(diff)))
    null = np.abs((flips * diff).mean(axis=1))
    return (1 + int((null >= abs(diff.mean()) - 1e-12).sum())) / (FLIPS + 1)


def candidates_of(
    base: Recommender,
    corpus: EvalCorpus,
    query_id: str,
    truth: Truth,
    names: Entities | None,
) -> Candidates:
    """A query's stored candidates (itself left out) with their signals and gains."""
    index = base.index
    snapshot = index.snapshot
    row = snapshot.row_of_key(corpus.get(query_id).key)
    assert row is not None and index.lexical_rows is not None and index.lexical_scores is not None
    dense = index.neighbours[row]
    lexical = index.lexical_rows[row]
    keep = (lexical >= 0) & (lexical != row)
    lexical, lexical_scores = lexical[keep], index.lexical_scores[row][keep]
    union = np.union1d(dense[(dense >= 0) & (dense != row)], lexical)
    vectors = index.vectors.vectors_of(snapshot.keys[union])
    cosine = vectors @ index.vectors.vectors_of(np.array([snapshot.keys[row]]))[0]
    matched = np.zeros(len(union))
    matched[np.searchsorted(union, lexical)] = lexical_scores
    overlap = names.overlap(names.of_row(row), union) if names is not None else None
    gain = np.array([truth.gain(query_id, snapshot.ids[r]) for r in union.tolist()], dtype=np.float64)
    return Candidates(
        cosine.astype(np.float64),
        matched,
        overlap,
        gain,
        np.asarray(truth.ideal(query_id, 10), dtype=np.float64),
    )


def report(queries: list[Candidates], default: float) -> dict[str, object]:
    def scored(weight: float) -> np.ndarray:
        return np.array([ndcg_and_first(blend(c, weight), c) for c in queries])

    grid = {w: scored(w) for w in WEIGHTS}
    at_default = scored(default)
    ceiling = np.stack([grid[w] for w in WEIGHTS]).max(axis=0)
    out: dict[str, object] = {
        "queries": len(queries),
        "default_weight": default,
        "fixed": {
            str(w): {"ndcg10": float(r[:, 0].mean()), "r1": float(r[:, 1].mean())} for w, r in grid.items()
        },
        "per_query_best_weight": {
            "ndcg10": float(ceiling[:, 0].mean()),
            "r1": float(ceiling[:, 1].mean()),
            "ndcg10_minus_default": float((ceiling[:, 0] - at_default[:, 0]).mean()),
            "p": sign_flip_p(ceiling[:, 0] - at_default[:, 0]),
        },
    }
    verdicts = [dominated(c, default, with_names=False) for c in queries]
    misses = [v for v in verdicts if v is not None]
    counts = {"misses": len(misses), "partner_beaten_on_cosine_and_bm25": sum(misses)}
    names = [c.names for c in queries if c.names is not None]
    if len(names) == len(queries):
        both = [dominated(c, default, with_names=True) for c in queries]
        counts["partner_beaten_on_every_signal_with_names"] = sum(v for v in both if v)
        by_weight: dict[str, dict[str, float]] = {}
        for e in NAME_WEIGHTS:
            r = np.array(
                [
                    ndcg_and_first((1 - e) * blend(c, default) + e * n, c)
                    for c, n in zip(queries, names, strict=True)
                ]
            )
            by_weight[str(e)] = {
                "ndcg10": float(r[:, 0].mean()),
                "r1": float(r[:, 1].mean()),
                "p": sign_flip_p(r[:, 0] - at_default[:, 0]),
            }
        out["names"] = by_weight
    out["first_ranked_misses"] = counts
    return out


def summary(result: dict[str, object]) -> str:
    """The report as a few lines of text."""
    fixed = result["fixed"]
    assert isinstance(fixed, dict)
    lines = [f"{result['queries']} queries; the blend by lexical weight (nDCG@10 / R@1, by id):"]
    lines += [f"  {w:>5}  {v['ndcg10']:.3f} / {v['r1']:.3f}" for w, v in fixed.items()]
    best = result["per_query_best_weight"]
    assert isinstance(best, dict)
    lines.append(
        f"each query's best weight (a ceiling): {best['ndcg10']:.3f} / {best['r1']:.3f}, "
        f"{best['ndcg10_minus_default']:+.3f} nDCG@10 over the default {result['default_weight']} "
        f"(p {best['p']:.4f})"
    )
    lines.append(f"first-ranked misses: {json.dumps(result['first_ranked_misses'])}")
    by_weight = result.get("names", {})
    assert isinstance(by_weight, dict)
    for e, v in by_weight.items():
        lines.append(f"names at {e}: {v['ndcg10']:.3f} / {v['r1']:.3f} (p {v['p']:.4f})")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    add_set_arguments(parser)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)

    judged = judged_set(args)
    base = judged.base
    names = base.index.entities
    queries = [candidates_of(base, judged.corpus, q, judged.truth, names) for q in judged.queries]
    result = report(queries, base.policy.fusion_weight)
    print(summary(result))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
