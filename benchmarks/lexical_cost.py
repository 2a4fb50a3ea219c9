"""What the BM25 candidates cost a build and a server: bytes, build time, time per list.

For docs/ranking-candidates.md: the index's bytes
per article, the time to build it, and the time per stored lexical list, at growing corpus sizes made
of the shared corpora's real texts (title + lead, as the recipe reads them).

    python -m benchmarks.lexical_cost --sizes 5000,20000,60000 --sample 2000 --json lexical_cost.json

Lists are timed on `--sample` articles and scaled to the whole corpus (a full build computes one per
article); sizes beyond the texts available are not made up.
"""

from __future__ import annotations

import argparse
import json
import platform
import random
import time
from pathlib import Path

import numpy as np

from recsys.articles import Article, read_articles
from recsys.encoding.recipe import TextRecipe
from recsys.version.lexical import LexicalIndex

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"


def _texts() -> list[str]:
    recipe = TextRecipe()
    texts: list[str] = []
    for path in sorted(SHARED.glob("*/articles.jsonl.gz")):
        for _, found in read_articles(path):
            if isinstance(found, Article):
                texts.append(recipe.text(found.title, found.body))
    random.Random(0).shuffle(texts)
    return texts


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", default="5000,20000,60000")
    parser.add_argument("--sample", type=int, default=2000)
    parser.add_argument("--terms", default="32,0")
    parser.add_argument("--k", type=int, default=64)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    texts = _texts()
    rows_out = []
    for size in [int(s) for s in args.sizes.split(",")]:
        if size > len(texts):
            print(f"{size}: only {len(texts)} texts available, skipped")
            continue
        started = time.perf_counter()
        index = LexicalIndex.build(texts[:size])
        build = time.perf_counter() - started
        sample = np.array(sorted(random.Random(1).sample(range(size), min(args.sample, size))))
        row = {
            "articles": size,
            "index_bytes": index.nbytes,
            "bytes_per_article": round(index.nbytes / size),
            "postings": len(index.rows),
            "vocabulary": len(index.vocab),
            "build_s": round(build, 2),
        }
        for terms in [int(t) for t in args.terms.split(",")]:
            started = time.perf_counter()
            index.lists(sample, args.k, max_terms=terms)
            per = (time.perf_counter() - started) / len(sample)
            row[f"list_ms_terms{terms}"] = round(per * 1000, 3)
            row[f"all_lists_s_terms{terms}"] = round(per * size, 1)
            started = time.perf_counter()
            for i in sample[:200].tolist():
                index.matches(texts[i], args.k, max_terms=terms)
            per_draft = (time.perf_counter() - started) / min(200, len(sample))
            row[f"draft_query_ms_terms{terms}"] = round(per_draft * 1000, 3)
        print(json.dumps(row))
        rows_out.append(row)
    if args.json:
        machine = f"{platform.machine()}, {platform.processor() or '?'}; shared 2-core box"
        args.json.write_text(json.dumps({"machine": machine, "k": args.k, "rows": rows_out}, indent=2) + "\n")


if __name__ == "__main__":
    main()
