"""What the ranking rules change: duplicates in lists, and the age gap.

Measured on a built data folder (e.g. reuters21578: real dates and
many same-story updates):

* the share of related lists holding a near-duplicate pair (the article and an item, or two items)
  before dedup (plain nearest neighbours) and after (the default pipeline), by the service's rule
  (recsys/serving/dedup.py) and by an independent check (identical headline after stripping version markers);
* the median age gap (days between an item and the article) with freshness off and on.

    python -m benchmarks.ranking_rules --data-dir var/reuters --sample 500 --json ranking_rules.json

Reads only: the catalog and the current index version (no model is loaded; queries use the indexed
vectors). Prints a table and writes the figures as JSON.
"""

from __future__ import annotations

import argparse
import itertools
import json
import random
import statistics
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from recsys.articles import parse_timestamp
from recsys.catalog.store import StoredArticle
from recsys.root import Root
from recsys.serving.dedup import normalise_title
from recsys.serving.query import RelatedQuery
from recsys.serving.recommend import Recommender
from recsys.serving.types import Recommendation
from recsys.settings import Settings


def _has_duplicate_pair(
    recommender: Recommender, subject: StoredArticle, items: list[Recommendation]
) -> tuple[bool, bool]:
    """(a pair above the service's near-duplicate rule, a pair with identical stripped headlines)."""
    rule = recommender.policy.duplicates
    shown = [(subject.key, subject.article.title)] + [(i.key or -1, i.article.title) for i in items]
    vectors = {key: recommender.index.vectors.vector(key) for key, _ in shown}
    by_rule = same_title = False
    for (ka, ta), (kb, tb) in itertools.combinations(shown, 2):
        va, vb = vectors[ka], vectors[kb]
        if va is not None and vb is not None and rule.is_duplicate(float(va @ vb), ta, tb):
            by_rule = True
        if normalise_title(ta) and normalise_title(ta) == normalise_title(tb):
            same_title = True
    return by_rule, same_title


def _gaps(subject: StoredArticle, items: list[Recommendation]) -> list[float]:
    anchor = parse_timestamp(subject.article.published_at or "")
    return [
        abs((parse_timestamp(i.article.published_at) - anchor).total_seconds()) / 86_400
        for i in items
        if i.article.published_at
    ]


def run(data_dir: Path, sample: int, limit: int, seed: int) -> dict[str, object]:
    settings = Settings(data_dir=data_dir)
    query_side = Root(settings, with_model=False).query_side
    catalog = query_side.catalog
    loaded = query_side.load_index()
    latest = max((s.article.published_at or "" for s in catalog.iter_all("published")), default="")
    # The corpus's own "now" (just after its last article), so that no article is in the future.
    now = parse_timestamp(latest) if latest else datetime.now(UTC)
    recommender = query_side.recommender(loaded, clock=lambda: now)
    pool = [
        s for s in catalog.iter_all("published") if s.article.published_at and loaded.vectors.contains(s.key)
    ]
    chosen = random.Random(seed).sample(pool, min(sample, len(pool)))

    variants = {
        "plain nearest neighbours (no dedup, no MMR)": RelatedQuery(
            limit=limit, dedup=False, diversity=False
        ),
        "dedup only": RelatedQuery(limit=limit, diversity=False),
        "default pipeline (dedup + MMR)": RelatedQuery(limit=limit),
        "default pipeline + freshness": RelatedQuery(limit=limit, freshness=True),
    }
    rows: dict[str, dict[str, float]] = {}
    for name, query in variants.items():
        dup_rule = dup_title = 0
        collapsed: list[int] = []
        gaps: list[float] = []
        lengths: list[int] = []
        seconds: list[float] = []
        for subject in chosen:
            started = time.perf_counter()
            ranked = recommender.related_list(subject.id, query)
            seconds.append(time.perf_counter() - started)
            by_rule, same_title = _has_duplicate_pair(recommender, subject, ranked.items)
            dup_rule += by_rule
            dup_title += same_title
            collapsed.append(ranked.collapsed)
            gaps += _gaps(subject, ranked.items)
            lengths.append(len(ranked.items))
        rows[name] = {
            "lists": len(chosen),
            "share_with_near_duplicate_pair": dup_rule / len(chosen),
            "share_with_same_headline_pair": dup_title / len(chosen),
            "mean_collapsed": statistics.fmean(collapsed),
            "median_age_gap_days": statistics.median(gaps) if gaps else float("nan"),
            "mean_items": statistics.fmean(lengths),
            "p50_ms": 1000 * float(np.percentile(seconds, 50)),
        }
    catalog.close()
    return {
        "data_dir": str(data_dir),
        "index_version": loaded.version,
        "articles_in_index": len(loaded.vectors),
        "sample": len(chosen),
        "seed": seed,
        "limit": limit,
        "now": now.isoformat(),
        "policy": {
            "dup_cosine": settings.dup_cosine,
            "dup_cosine_with_title": settings.dup_cosine_with_title,
            "dup_title_similarity": settings.dup_title_similarity,
            "mmr_lambda": settings.mmr_lambda,
            "freshness_weight": settings.freshness_weight,
            "freshness_half_life_days": settings.freshness_half_life_days,
        },
        "results": rows,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", type=Path, required=True, help="a built data folder (read only)")
    parser.add_argument("--sample", type=int, default=500, help="articles to query")
    parser.add_argument("--limit", type=int, default=10, help="items per list")
    parser.add_argument("--seed", type=int, default=1987)
    parser.add_argument("--json", type=Path, default=None, help="write the figures here")
    args = parser.parse_args()
    report = run(args.data_dir, args.sample, args.limit, args.seed)
    header = (
        f"{'variant':<46} {'dup pair':>9} {'same hdl':>9} {'collapsed':>9} {'age gap d':>9} {'p50 ms':>7}"
    )
    print(f"{report['sample']} lists of {report['limit']} from {report['data_dir']}")
    print(header)
    for name, row in report["results"].items():  # type: ignore[attr-defined]
        shares = f"{row['share_with_near_duplicate_pair']:>9.1%} {row['share_with_same_headline_pair']:>9.1%}"
        print(
            f"{name:<46} {shares} {row['mean_collapsed']:>9.2f} {row['median_age_gap_days']:>9.1f} "
            f"{row['p50_ms']:>7.1f}"
        )
    if args.json is not None:
        args.json.write_text(json.dumps(report, indent=2) + "\n")
        print(f"wrote {args.json}")


if __name__ == "__main__":
    main()
