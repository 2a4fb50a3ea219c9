"""In-process time of one related list: the ranking's own cost per request.

It times `Recommender.related_list`, limit 10, for 600 random stored
articles of a built data folder, best of three passes after a warm-up: the ranking's own cost per
request, without HTTP (docs/ranking-candidates.md compares main's code and this one on bbc).

    python -m benchmarks.list_latency var/bbc
"""

from __future__ import annotations

import random
import statistics
import sys
import time

from recsys.root import Root
from recsys.serving.query import RelatedQuery
from recsys.settings import Settings


def main(argv: list[str] | None = None) -> None:
    folder = (argv or sys.argv[1:])[0]
    side = Root(Settings(data_dir=folder), with_model=False).query_side
    recommender = side.load()
    ids = [recommender.snapshot.ids[r] for r in range(len(recommender.snapshot))]
    random.Random(0).shuffle(ids)
    ids = ids[:600]
    for article_id in ids[:100]:
        recommender.related_list(article_id, RelatedQuery(limit=10))
    passes = []
    for _ in range(3):
        times = []
        for article_id in ids:
            started = time.perf_counter()
            recommender.related_list(article_id, RelatedQuery(limit=10))
            times.append((time.perf_counter() - started) * 1000)
        passes.append((statistics.median(times), sorted(times)[int(0.99 * len(times))]))
    p50, p99 = min(passes)
    print(f"{folder}: p50 {p50:.3f} ms, p99 {p99:.3f} ms per related list (best of 3 passes)")


if __name__ == "__main__":
    main()
