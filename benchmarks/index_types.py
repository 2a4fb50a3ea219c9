"""Flat vs HNSW vs IVF: recall@10 against exact search, single-query latency, build time and memory.

The real set is every cached embedding of a catalog (one vector per distinct text, the vectors a build
of that catalog indexes). Larger sets are SYNTHETIC: real vectors plus Gaussian noise, re-normalised,
so they keep the clustered shape of news embeddings at sizes we do not have articles for.

    python -m benchmarks.index_types --catalog /tmp/reuters-copy/catalog.sqlite3 --sizes 100000 \
        --output benchmarks/results/index_types.json

Each structure is built by the project's own VectorIndex.build with the settings' parameters; latency
is one query at a time on one thread (as a request does), after a warm-up.
"""

from __future__ import annotations

import argparse
import json
import platform
import sqlite3
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import faiss
import numpy as np

from recsys.encoding.protocol import normalise
from recsys.settings import DEFAULT_MODEL
from recsys.version.vectors import INDEX_FILE, IndexSpec, VectorIndex

K = 10


def real_vectors(catalog: Path, model: str) -> np.ndarray:
    conn = sqlite3.connect(f"file:{catalog}?mode=ro", uri=True)
    rows = conn.execute("SELECT vector FROM embeddings WHERE model = ? ORDER BY content_hash", (model,))
    vectors = np.vstack([np.frombuffer(row[0], dtype=np.float32) for row in rows])
    conn.close()
    return normalise(vectors)


def synthetic(base: np.ndarray, size: int, noise: float, rng: np.random.Generator) -> np.ndarray:
    picks = base[rng.integers(0, len(base), size)]
    return normalise(picks + rng.normal(0, noise / np.sqrt(base.shape[1]), picks.shape).astype(np.float32))


def specs(count: int) -> list[tuple[IndexSpec, str, list[int]]]:
    """(spec, the search parameter varied, its values); build-time parameters are the defaults."""
    nlist = max(1, int(4 * np.sqrt(count)))
    return [
        (IndexSpec("flat"), "", [0]),
        (IndexSpec("hnsw", {"m": 32, "ef_construction": 80, "ef_search": 64}), "ef_search", [16, 64, 128]),
        (IndexSpec("ivf", {"nlist": nlist, "nprobe": 16}), "nprobe", [4, 16, 64]),
    ]


def measure(vectors: np.ndarray, queries: np.ndarray, label: str) -> list[dict[str, Any]]:
    keys = np.arange(len(vectors), dtype=np.int64)
    ids = np.array([str(k) for k in keys])
    exact = faiss.IndexFlatIP(vectors.shape[1])
    exact.add(vectors)
    _, truth = exact.search(queries, K)
    rows = []
    for spec, knob, values in specs(len(vectors)):
        started = time.perf_counter()
        index = VectorIndex.build(keys, ids, vectors, spec)
        build_s = time.perf_counter() - started
        with tempfile.TemporaryDirectory() as folder:
            index.save(Path(folder))
            memory = (Path(folder) / INDEX_FILE).stat().st_size  # what a server holds in memory
        for value in values:
            if knob:
                index.set_search_params({knob: value})
            for query in queries[:20]:
                index.search(query[None, :], K)
            timings = []
            found = []
            for query in queries:
                t0 = time.perf_counter()
                result, _ = index.search(query[None, :], K)
                timings.append((time.perf_counter() - t0) * 1000)
                found.append(result[0])
            recall = float(
                np.mean(
                    [len(set(f.tolist()) & set(t.tolist())) / K for f, t in zip(found, truth, strict=True)]
                )
            )
            timings.sort()
            row = {
                "set": label,
                "vectors": len(vectors),
                "type": spec.kind,
                "build_params": dict(spec.params),
                "search": f"{knob}={value}" if knob else "exact",
                "recall_at_10": round(recall, 4),
                "p50_ms": round(statistics.median(timings), 3),
                "p99_ms": round(timings[int(0.99 * (len(timings) - 1))], 3),
                "build_s": round(build_s, 2),
                "memory_mb": round(memory / 2**20, 1),
            }
            rows.append(row)
            print(
                f"{label:<10} {row['vectors']:>8} {spec.kind:<5} {row['search']:<14} "
                f"{row['recall_at_10']:>7.3f} {row['p50_ms']:>8.3f} {row['p99_ms']:>8.3f} "
                f"{row['build_s']:>8.2f} {row['memory_mb']:>8.1f}",
                flush=True,
            )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--catalog", type=Path, required=True, help="a catalog with cached embeddings")
    parser.add_argument("--model", default=DEFAULT_MODEL)
    parser.add_argument("--sizes", type=int, nargs="*", default=[100_000], help="synthetic set sizes")
    parser.add_argument("--queries", type=int, default=500)
    parser.add_argument(
        "--noise", type=float, default=0.5, help="synthetic noise (norm, before re-normalising)"
    )
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--output", type=Path)
    args = parser.parse_args()

    faiss.omp_set_num_threads(args.threads)
    rng = np.random.default_rng(args.seed)
    base = real_vectors(args.catalog, args.model)
    print(
        f"{'set':<10} {'vectors':>8} {'type':<5} {'search':<14} {'recall':>7} {'p50 ms':>8} {'p99 ms':>8} "
        f"{'build s':>8} {'mem MB':>8}"
    )
    sets = [("real", base)] + [("synthetic", synthetic(base, size, args.noise, rng)) for size in args.sizes]
    rows = []
    for label, vectors in sets:
        queries = vectors[rng.choice(len(vectors), min(args.queries, len(vectors)), replace=False)]
        rows.extend(measure(vectors, queries, label))
    if args.output:
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text(
            json.dumps(
                {
                    "catalog": str(args.catalog),
                    "model": args.model,
                    "threads": args.threads,
                    "queries": args.queries,
                    "noise": args.noise,
                    "machine": f"{platform.machine()}, {platform.processor() or 'cpu'}",
                    "faiss": faiss.__version__,
                    "rows": rows,
                },
                indent=2,
            )
            + "\n"
        )


if __name__ == "__main__":
    main()
