"""Build throughput: `recsys build` against plain encode.

`recsys build` (text recipe, embedding cache, index, atomic publish) with the configured
encoder (RECSYS_ENCODER_BACKEND, RECSYS_MAX_SEQ_LENGTH: the default unless set) and with torch, against
plain torch fp32 `SentenceTransformer.encode` on the same articles, in the same run.

Rows:
  recsys build, <identity>  import excluded; embeds the title+lead recipe, stores vectors in the cache,
                            builds the FAISS index and neighbour lists and publishes a version (a fresh
                            catalog: nothing cached). The one-time export of an exported backend happens
                            when the encoder loads, before the clock starts; its time is reported apart.
  encode, recipe texts      plain SentenceTransformer.encode (torch fp32) on exactly the texts the build
                            embedded: the yardstick of issue 11 (speed-up = build articles/s over this)
  encode, full texts        the same on title + full body (the model truncates at 256 word pieces)

    python -m benchmarks.build_throughput --input ../shared/data/bbc_fulltext/articles.jsonl.gz \\
        --limit 300 --output benchmarks/results/build_throughput.json
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from benchmarks.report import machine, table, write_json
from index.build import build_index
from recsys.articles import Article, read_articles
from recsys.catalog.store import UpsertCounts
from recsys.encoding.choice import cpu_features
from recsys.encoding.encoders import SentenceTransformerEncoder
from recsys.encoding.recipe import TextRecipe
from recsys.root import Root
from recsys.settings import Settings

# The environment variables that limit what the runtimes use: oneDNN's ISA (OpenVINO's kernels and
# torch's oneDNN), torch's own kernels, MKL's GEMM. ONNX Runtime has no such limit.
EMULATION = ("ONEDNN_MAX_CPU_ISA", "ATEN_CPU_CAPABILITY", "MKL_ENABLE_INSTRUCTIONS")


@dataclass
class Row:
    method: str
    articles: int
    seconds: float
    articles_per_s: float = 0.0
    speedup: float = 0.0


def sample_articles(path: Path, limit: int) -> list[Article]:
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


def _timed_build(articles: list[Article], root: Root) -> Row:
    catalog = root.catalog
    try:
        with catalog.transaction() as conn:
            for article in articles:
                catalog.upsert(conn, article, UpsertCounts())
        report = build_index(root.settings, catalog, root.encoder)
    finally:
        root.close()
    return Row(f"recsys build, {root.encoder.name}", report.articles, report.seconds)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--input", type=Path, required=True, help="articles file (.jsonl[.gz] or .csv)")
    parser.add_argument("--limit", type=int, default=300, help="articles to embed (distinct texts)")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--output", type=Path)
    args = parser.parse_args()

    articles = sample_articles(args.input, args.limit)
    recipe = TextRecipe()
    torch_encoder = SentenceTransformerEncoder()
    model = torch_encoder._model  # the very same SentenceTransformer object for the plain encode rows
    model.encode(["warm-up sentence"] * 8, batch_size=8)  # first-call set-up is not throughput

    rows: list[Row] = []
    with tempfile.TemporaryDirectory(prefix="recsys-bench-") as folder:
        configured = Settings(data_dir=Path(folder) / "configured", batch_size=args.batch_size)
        root = Root(configured)
        started = time.perf_counter()
        encoder = root.encoder  # exports into the fresh data folder: the first-use cost
        load_seconds = time.perf_counter() - started
        encoder.encode(["warm-up sentence"] * 8, batch_size=8)
        rows.append(_timed_build(articles, root))
        if encoder.name != torch_encoder.name:
            torch_settings = Settings(data_dir=Path(folder) / "torch", batch_size=args.batch_size)
            rows.append(_timed_build(articles, Root(torch_settings, encoder=torch_encoder)))

    recipe_texts = [recipe.text(a.title, a.body) for a in articles]
    full_texts = [f"{a.title or ''}\n{a.body or ''}".strip() for a in articles]
    for name, texts in (("encode, recipe texts", recipe_texts), ("encode, full texts", full_texts)):
        started = time.perf_counter()
        model.encode(texts, batch_size=args.batch_size, normalize_embeddings=True)
        rows.append(Row(name, len(texts), time.perf_counter() - started))
    yardstick = next(row for row in rows if row.method == "encode, recipe texts")
    for row in rows:
        row.seconds = round(row.seconds, 2)
        row.articles_per_s = round(row.articles / row.seconds, 1)
    for row in rows:
        row.speedup = round(row.articles_per_s / yardstick.articles_per_s, 2)

    result = {
        "benchmark": "build_throughput",
        "machine": machine(),
        "note": "shared 2-core box with other jobs running; all rows in the same run",
        "input": str(args.input),
        "batch_size": args.batch_size,
        "recipe": recipe.id,
        "model": encoder.name,
        "encoder_backend": configured.encoder_backend,
        # what RECSYS_ENCODER_BACKEND=auto chose on this CPU, with its measured figures
        "encoder_choice": str(getattr(encoder, "choice", "")),
        # instruction-set limits set for an emulated CPU (docs/encoders.md, "Emulating a CPU")
        "emulation": {name: os.environ[name] for name in EMULATION if name in os.environ},
        # the CPU as the choice sees it (after an ISA limit): what the choice is cached under
        "choice_cpu": cpu_features(),
        "max_seq_length": configured.max_seq_length,
        "encoder_load_seconds_with_export": round(load_seconds, 2),
        "rows": [asdict(row) for row in rows],
    }
    print(f"loading {encoder.name} (export included) took {load_seconds:.1f}s")
    if result["encoder_choice"]:
        print(f"encoder: {result['encoder_choice']}")
    if result["emulation"]:
        print(f"emulated CPU: {result['emulation']}")
    print(
        table(
            ["method", "articles", "seconds", "articles/s", "vs encode"],
            [[r.method, r.articles, r.seconds, r.articles_per_s, r.speedup] for r in rows],
        )
    )
    write_json(args.output, result)


if __name__ == "__main__":
    main()
