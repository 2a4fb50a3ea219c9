"""Encoder backends, threads, batch size, length sorting and token budget against plain encode.

Each is measured against plain torch fp32 `SentenceTransformer.encode`, on the same texts
in the same run: articles/s, speed-up, and agreement with the fp32 vectors (cosine, neighbour overlap@10).

For each corpus (the recipe's title + lead texts of a sample of distinct articles):
  matrix   every backend (torch, onnx, onnx-int8, openvino) at each token budget (--lengths)
  sweeps   on the first corpus, for --sweep-backend: intra-op threads, batch size, sorted vs unsorted

Each timing is the best of --repeats runs, interleaved with the reference, so a neighbour's burst on a
shared machine hurts both alike.

    python -m benchmarks.encoders --corpus bbc=../shared/data/bbc_fulltext/articles.jsonl.gz \\
        --corpus reuters=../shared/data/reuters21578/articles.jsonl.gz \\
        --corpus huffpost=../shared/data/huffpost_subset/articles.jsonl.gz \\
        --limit 200 --output benchmarks/results/encoders.json
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any, cast, get_args

import numpy as np

from benchmarks.build_throughput import sample_articles
from benchmarks.report import machine, table, write_json
from recsys.encoding.encoders import SentenceTransformerEncoder
from recsys.encoding.protocol import Encoder
from recsys.encoding.recipe import TextRecipe
from recsys.root import Root
from recsys.settings import EncoderBackend, Settings

BACKENDS: tuple[EncoderBackend, ...] = get_args(EncoderBackend)


def _timed(run: Callable[[], np.ndarray], repeats: int) -> tuple[np.ndarray, float]:
    """The vectors of the first run, and the best time of `repeats` runs."""
    best, vectors = float("inf"), None
    for _ in range(repeats):
        started = time.perf_counter()
        vectors = run()
        best = min(best, time.perf_counter() - started)
    assert vectors is not None
    return vectors, best


def _agreement(reference: np.ndarray, vectors: np.ndarray) -> dict[str, float]:
    """Cosine of each vector to its fp32 twin, and how many of each text's 10 nearest neighbours (within
    the sample) the two sets of vectors share."""
    cosine = np.sum(reference * vectors, axis=1)
    k = min(10, len(reference) - 1)

    def neighbours(m: np.ndarray) -> np.ndarray:
        scores = m @ m.T
        np.fill_diagonal(scores, -np.inf)
        return np.argsort(-scores, axis=1)[:, :k]

    a, b = neighbours(reference), neighbours(vectors)
    overlap = np.mean([len(set(x) & set(y)) / k for x, y in zip(a, b, strict=True)])
    return {
        "cosine_mean": round(float(cosine.mean()), 4),
        "cosine_min": round(float(cosine.min()), 4),
        "overlap_at_10": round(float(overlap), 3),
    }


@dataclass
class Corpus:
    name: str
    texts: list[str]
    reference: np.ndarray  # plain torch fp32 vectors
    reference_seconds: float


def _sorted(encoder: Encoder, texts: list[str], batch_size: int) -> np.ndarray:
    return encoder.encode(texts, batch_size=batch_size)


def _unsorted(encoder: Encoder, texts: list[str], batch_size: int) -> np.ndarray:
    """Batches in input order: each call sorts only within its own batch."""
    parts = [
        encoder.encode(texts[i : i + batch_size], batch_size=batch_size)
        for i in range(0, len(texts), batch_size)
    ]
    return np.vstack(parts)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", action="append", required=True, help="name=path; repeat")
    parser.add_argument("--limit", type=int, default=200, help="distinct articles per corpus")
    parser.add_argument("--lengths", default="256,128", help="token budgets to measure")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--sweep-backend", default="onnx-int8", choices=BACKENDS)
    parser.add_argument("--sweep-length", type=int, default=128)
    parser.add_argument("--no-sweeps", action="store_true")
    parser.add_argument("--output", type=Path)
    args = parser.parse_args()
    lengths = [int(n) for n in args.lengths.split(",")]
    recipe = TextRecipe()

    models_dir = Path(tempfile.mkdtemp(prefix="recsys-bench-models-"))
    encoders: dict[tuple[str, int], Encoder] = {}

    def encoder(backend: str, length: int, threads: int = 0) -> Encoder:
        key = (f"{backend}/t{threads}", length)
        if key not in encoders:
            settings = Settings(
                data_dir=models_dir,
                encoder_backend=cast(EncoderBackend, backend),
                max_seq_length=length,
                encoder_threads=threads,
            )
            encoders[key] = Root(settings).encoder
        return encoders[key]

    reference = cast(SentenceTransformerEncoder, encoder("torch", 0))
    plain = reference._model  # plain SentenceTransformer.encode, the yardstick
    plain.encode(["warm-up sentence"] * 8, batch_size=8)
    rows: list[dict[str, Any]] = []

    def measure(
        corpus: Corpus, label: dict[str, Any], enc: Encoder, batch: int, in_order: bool = False
    ) -> None:
        run = partial(_unsorted if in_order else _sorted, enc, corpus.texts, batch)
        enc.encode(["warm-up sentence"] * 8, batch_size=8)
        vectors, seconds = _timed(run, args.repeats)
        row = {"corpus": corpus.name, **label, "seconds": round(seconds, 2)}
        row["articles_per_s"] = round(len(corpus.texts) / seconds, 1)
        row["speedup"] = round(corpus.reference_seconds / seconds, 2)
        row.update(_agreement(corpus.reference, vectors))
        rows.append(row)
        print(row, flush=True)

    for index, spec in enumerate(args.corpus):
        name, _, path = spec.partition("=")
        texts = [recipe.text(a.title, a.body) for a in sample_articles(Path(path), args.limit)]
        plain_run = partial(plain.encode, texts, batch_size=args.batch_size, normalize_embeddings=True)
        corpus = Corpus(name, texts, *_timed(plain_run, args.repeats))
        rows.append(
            {
                "corpus": name,
                "variant": "plain SentenceTransformer.encode",
                "backend": "torch",
                "length": 256,
                "seconds": round(corpus.reference_seconds, 2),
                "articles_per_s": round(len(texts) / corpus.reference_seconds, 1),
                "speedup": 1.0,
            }
        )
        print(rows[-1], flush=True)
        for length in lengths:
            for backend in BACKENDS:
                if backend == "torch" and length == 256:
                    continue  # that is the plain reference row
                label = {"variant": "matrix", "backend": backend, "length": length}
                measure(corpus, label, encoder(backend, length), args.batch_size)
        if index or args.no_sweeps:
            continue
        backend, length = args.sweep_backend, args.sweep_length
        for threads in (1, 2):
            label = {"variant": f"threads={threads}", "backend": backend, "length": length}
            measure(corpus, label, encoder(backend, length, threads), args.batch_size)
        for batch in (8, 16, 32, 64, 128):
            label = {"variant": f"batch={batch}", "backend": backend, "length": length}
            measure(corpus, label, encoder(backend, length), batch)
        for sweep_backend in (backend, "torch"):
            label = {"variant": "unsorted", "backend": sweep_backend, "length": length}
            measure(corpus, label, encoder(sweep_backend, length), args.batch_size, in_order=True)

    report = {
        "benchmark": "encoders",
        "machine": machine(),
        "note": "shared 2-core box, other jobs running; best of repeats; reference in the same run",
        "limit": args.limit,
        "batch_size": args.batch_size,
        "recipe": recipe.id,
        "corpora": args.corpus,
        "rows": rows,
    }
    headers = [
        "corpus",
        "variant",
        "backend",
        "length",
        "articles/s",
        "speedup",
        "cos mean",
        "cos min",
        "nn@10",
    ]
    print(
        table(
            headers,
            [
                [
                    r["corpus"],
                    r["variant"],
                    r["backend"],
                    r["length"],
                    r["articles_per_s"],
                    r["speedup"],
                    r.get("cosine_mean", ""),
                    r.get("cosine_min", ""),
                    r.get("overlap_at_10", ""),
                ]
                for r in rows
            ],
        )
    )
    write_json(args.output, report)


if __name__ == "__main__":
    main()
