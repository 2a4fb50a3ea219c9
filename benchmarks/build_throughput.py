"""Build throughput: `recsys build` (text recipe, embedding cache, index, atomic publish) against plain
`SentenceTransformer.encode` on the same articles, in the same run, with the same loaded model.

Rows:
  recsys build            import excluded; embeds the title+lead recipe, stores vectors in the cache,
                          builds the FAISS index and publishes a version (a fresh catalog: nothing cached)
  encode, recipe texts    model.encode on exactly the texts the build embedded
  encode, full texts      model.encode on title + full body (the model truncates at 256 word pieces)

    python -m benchmarks.build_throughput --input ../shared/data/bbc_fulltext/articles.jsonl.gz \\
        --limit 300 --output benchmarks/results/build_throughput.json
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from benchmarks.report import machine, table, write_json
from index.build import build_index
from recsys.articles import Article, read_articles
from recsys.catalog import Catalog, UpsertCounts
from recsys.embed import SentenceTransformerEncoder, TextRecipe
from recsys.settings import Settings


def _articles(path: Path, limit: int) -> list[Article]:
    found: list[Article] = []
    seen: set[str] = set()
    for _, result in read_articles(path):
        # distinct texts only: the build embeds each text once, so duplicates would flatter it
        if isinstance(result, Article) and result.content_hash not in seen:
            seen.add(result.content_hash)
            found.append(result)
            if len(found) == limit:
                break
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--input", type=Path, required=True, help="articles file (.jsonl[.gz] or .csv)")
    parser.add_argument("--limit", type=int, default=300, help="articles to embed (distinct texts)")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--output", type=Path)
    args = parser.parse_args()

    articles = _articles(args.input, args.limit)
    recipe = TextRecipe()
    encoder = SentenceTransformerEncoder()
    model = encoder._model  # the very same SentenceTransformer object, so only the pipeline differs
    model.encode(["warm-up sentence"] * 8, batch_size=8)  # first-call set-up is not throughput

    rows: list[dict[str, object]] = []
    with tempfile.TemporaryDirectory(prefix="recsys-bench-") as folder:
        settings = Settings(data_dir=Path(folder), batch_size=args.batch_size)
        catalog = Catalog(settings.catalog_file)
        with catalog.transaction() as conn:
            for article in articles:
                catalog.upsert(conn, article, UpsertCounts())
        report = build_index(settings, catalog, encoder)
        rows.append({"method": "recsys build", "articles": report.articles, "seconds": report.seconds})
        catalog.close()

    recipe_texts = [recipe.text(a.title, a.body) for a in articles]
    full_texts = [f"{a.title or ''}\n{a.body or ''}".strip() for a in articles]
    for name, texts in (("encode, recipe texts", recipe_texts), ("encode, full texts", full_texts)):
        started = time.perf_counter()
        model.encode(texts, batch_size=args.batch_size, normalize_embeddings=True)
        rows.append({"method": name, "articles": len(texts), "seconds": time.perf_counter() - started})
    for row in rows:
        row["seconds"] = round(float(row["seconds"]), 2)  # type: ignore[arg-type]
        row["articles_per_s"] = round(int(row["articles"]) / float(row["seconds"]), 1)  # type: ignore[call-overload]

    result = {
        "benchmark": "build_throughput",
        "machine": machine(),
        "input": str(args.input),
        "batch_size": args.batch_size,
        "recipe": recipe.id,
        "model": encoder.name,
        "rows": rows,
    }
    print(table(["method", "articles", "seconds", "articles/s"], [list(r.values()) for r in rows]))
    write_json(args.output, result)


if __name__ == "__main__":
    main()
