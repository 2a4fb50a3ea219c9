"""The multilingual encoders' speed beside the English default's, and a 1M-article backfill's cost.

The texts: the recipe's title + lead of the first --count distinct articles of a file (by default the
SemEval-2022 multilingual training articles: ten languages, mixed in file order). Each encoder is
loaded as `recsys build` loads it (`RECSYS_MODEL`, the default backend, batch size 64), warmed up on a
few texts, then timed on all of them: once with its default threads (one per core) and once with one
thread, whose rate gives the hours per core of a --backfill-articles backfill (the Ray backfill runs
one single-threaded encoder per CPU slot: docs/backfill.md).

    python -m benchmarks.multilingual_encoders --count 200 \\
        --output benchmarks/results/multilingual_encoders.json
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.build_throughput import sample_articles
from benchmarks.report import machine, table, write_json
from recsys.encoding import choice
from recsys.encoding.encoders import MULTILINGUAL_MODELS, load_encoder
from recsys.encoding.recipe import TextRecipe
from recsys.settings import DEFAULT_MODEL, Settings

DEFAULT_INPUT = Path("../shared/data/semeval2022_multilingual_train/articles.jsonl.gz")
WARM_UP = 4  # texts: the first call of a runtime prepares its kernels and pages in the weights


def _measure(settings: Settings, texts: list[str], backfill: int) -> dict[str, Any]:
    started = time.perf_counter()
    encoder = load_encoder(settings)
    load_seconds = time.perf_counter() - started
    encoder.encode(texts[:WARM_UP], batch_size=settings.batch_size)
    started = time.perf_counter()
    vectors = encoder.encode(texts, batch_size=settings.batch_size)
    seconds = time.perf_counter() - started
    rate = len(texts) / seconds
    threads = settings.encoder_threads or 0
    row: dict[str, Any] = {
        "model": settings.model,
        "identity": encoder.name,
        "dimension": encoder.dimension,
        "threads": threads or "default",
        "load_s": round(load_seconds, 2),
        "seconds": round(seconds, 2),
        "articles_per_s": round(rate, 2),
        "norm_min": round(float(np.linalg.norm(vectors, axis=1).min()), 4),
    }
    if threads == 1:
        row["backfill_hours_per_core"] = round(backfill / rate / 3600, 1)
    print(row, flush=True)
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--input", type=Path, default=DEFAULT_INPUT, help="articles file (.jsonl[.gz])")
    parser.add_argument("--count", type=int, default=200, help="distinct articles to embed")
    parser.add_argument("--backfill-articles", type=int, default=1_000_000)
    parser.add_argument("--output", type=Path)
    args = parser.parse_args()

    recipe = TextRecipe()
    articles = sample_articles(args.input, args.count)
    texts = [recipe.text(article.title, article.body) for article in articles]
    languages: dict[str, int] = {}
    for article in articles:
        languages[article.language or "?"] = languages.get(article.language or "?", 0) + 1
    print(f"{len(texts)} texts; languages {dict(sorted(languages.items()))}", flush=True)

    # A fresh data folder: the default backend exports its model there first (in load_s, not timed).
    data_dir = Path(tempfile.mkdtemp(prefix="recsys-bench-multilingual-"))
    backfill = args.backfill_articles
    rows = [
        _measure(Settings(data_dir=data_dir, model=model, encoder_threads=threads), texts, backfill)
        for model in (DEFAULT_MODEL, *sorted(MULTILINGUAL_MODELS))
        for threads in (0, 1)
    ]
    default_rate = rows[0]["articles_per_s"]
    for row in rows:
        row["vs_default"] = round(row["articles_per_s"] / default_rate, 3)

    report = {
        "benchmark": "multilingual_encoders",
        "machine": machine(),
        "encoder_cpu_features": choice.cpu_features(),
        "note": "shared 2-core box, other jobs running; one timed run per row after a warm-up",
        "input": str(args.input),
        "count": len(texts),
        "languages": languages,
        "recipe": recipe.id,
        "backfill_articles": args.backfill_articles,
        "rows": rows,
    }
    print(f"CPU: {report['machine'].get('cpu')}; features {', '.join(report['encoder_cpu_features'])}")
    headers = ["identity", "threads", "load s", "articles/s", "vs default", "1M backfill h/core"]
    print(
        table(
            headers,
            [
                [
                    r["identity"],
                    r["threads"],
                    r["load_s"],
                    r["articles_per_s"],
                    r["vs_default"],
                    r.get("backfill_hours_per_core", ""),
                ]
                for r in rows
            ],
        )
    )
    write_json(args.output, report)


if __name__ == "__main__":
    main()
