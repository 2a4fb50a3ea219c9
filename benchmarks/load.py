"""Service throughput, latency (p50, p99) and memory (RSS) under concurrent load, at several catalog sizes.

For each size, starts `recsys serve` on a free 127.0.0.1 port, then a bounded asyncio client (httpx,
`--concurrency` requests in flight) sends `--requests` requests per endpoint, for random article ids.
`/health` runs in the same server in the same run as the framework's floor. The server's resident
memory is read from /proc after start-up and at its peak.

Sizes: `real` is the built data folder as it is. A larger size (e.g. 100000, 1000000) is made in
`--work-dir` from a copy of the real catalog plus SYNTHETIC articles (copies of real rows under new ids,
written through Catalog.upsert) and SYNTHETIC vectors (real vectors plus Gaussian noise, renormalised),
published as an index version through IndexStore, so the service loads it like any other build.
Synthetic data are made once per size and reused by later runs.

    python -m benchmarks.load --data-dir var/bbc --sizes real,100000,1000000 --concurrency 8 \\
        --requests 400 --work-dir /tmp/recsys-load --output benchmarks/results/load.json

Endpoints are templates (`{id}` is replaced); add `--endpoint '/articles/{id}/blocks'` where it exists.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import shutil
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx
import numpy as np

from benchmarks.report import machine, rss_kib, table, write_json
from recsys.catalog import Catalog, UpsertCounts
from recsys.embed import normalise
from recsys.store import IndexStore, new_version_id
from recsys.vectors import IndexSpec, VectorIndex

DEFAULT_ENDPOINTS = ["/articles/{id}/related?limit=10", "/health"]
SYNTHETIC_PREFIX = "synthetic-"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def make_synthetic(real: Path, target: Path, size: int, seed: int = 0, noise: float = 0.05) -> Path:
    """A data folder of `size` articles: the real catalog and vectors plus synthetic ones."""
    if (target / "index" / "CURRENT").is_file():
        return target
    shutil.rmtree(target, ignore_errors=True)
    target.mkdir(parents=True)
    # sqlite's backup API copies a consistent snapshot, WAL included, without writing to the source.
    source = sqlite3.connect(f"file:{real / 'catalog.sqlite3'}?mode=ro", uri=True)
    copy = sqlite3.connect(target / "catalog.sqlite3")
    source.backup(copy)
    copy.close()
    source.close()

    base = IndexStore(real / "index").load()
    catalog = Catalog(target / "catalog.sqlite3")
    originals = [s for s in catalog.iter_all("published") if base.vectors.contains(s.key)]
    missing = size - len(originals)
    if missing <= 0:
        raise SystemExit(f"size {size} is not larger than the real catalog ({len(originals)} articles)")
    print(f"  adding {missing} synthetic articles to {target} ...", flush=True)
    with catalog.transaction() as conn:
        counts = UpsertCounts()
        for n in range(missing):
            original = originals[n % len(originals)].article
            # url dropped: it must stay unique; the title keeps the copy apart in its content hash
            clone = replace(
                original,
                id=f"{SYNTHETIC_PREFIX}{n:07d}",
                url=None,
                title=f"{original.title or ''} [{n}]",
                related=(),
                status="published",
            )
            catalog.upsert(conn, clone, counts)
    keys: list[int] = []
    ids: list[str] = []
    for stored in catalog.iter_all("published"):
        keys.append(stored.key)
        ids.append(stored.id)
    catalog.close()

    real_vectors = np.vstack([base.vectors.vector(s.key) for s in originals])
    row_of_original = {s.id: i for i, s in enumerate(originals)}
    rng = np.random.default_rng(seed)
    vectors = np.empty((len(ids), real_vectors.shape[1]), dtype=np.float32)
    for start in range(0, len(ids), 100_000):
        chunk = ids[start : start + 100_000]
        rows = [
            row_of_original[i] if i in row_of_original else int(i[len(SYNTHETIC_PREFIX) :]) % len(originals)
            for i in chunk
        ]
        block = real_vectors[rows]
        synthetic = np.array([i.startswith(SYNTHETIC_PREFIX) for i in chunk])
        block[synthetic] += rng.normal(0, noise, size=(int(synthetic.sum()), block.shape[1])).astype(
            np.float32
        )
        vectors[start : start + len(chunk)] = normalise(block)
    print(f"  building a flat index of {len(ids)} vectors ...", flush=True)
    index = VectorIndex.build(
        np.array(keys, dtype=np.int64), np.array(ids, dtype=np.str_), vectors, IndexSpec()
    )
    del vectors
    store = IndexStore(target / "index")
    version = new_version_id()
    with store.build_lock():
        staging = store.staging_dir(version)
        store.write_version(
            staging,
            index,
            {
                "version": version,
                "model": base.manifest.model,
                "recipe": base.manifest.recipe,
                "index": IndexSpec().as_dict(),
                "built_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                "synthetic": {"from": str(real), "real_articles": len(originals), "noise": noise},
            },
        )
        store.publish(staging, version)
    return target


async def _load(base: str, paths: list[str], concurrency: int) -> dict[str, Any]:
    timings: list[float] = []
    errors = 0
    queue: asyncio.Queue[str] = asyncio.Queue()
    for path in paths:
        queue.put_nowait(path)
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)

    async with httpx.AsyncClient(base_url=base, timeout=60, limits=limits) as client:

        async def worker() -> None:
            nonlocal errors
            while True:
                try:
                    path = queue.get_nowait()
                except asyncio.QueueEmpty:
                    return
                started = time.perf_counter()
                response = await client.get(path)
                timings.append((time.perf_counter() - started) * 1000)
                errors += response.status_code >= 400

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        wall = time.perf_counter() - started
    return {
        "requests": len(timings),
        "errors": errors,
        "throughput_rps": round(len(timings) / wall, 1),
        "p50_ms": round(statistics.median(timings), 2),
        "p99_ms": round(_percentile(timings, 0.99), 2),
        "mean_ms": round(statistics.fmean(timings), 2),
    }


def measure(
    data_dir: Path,
    endpoints: list[str],
    requests: int,
    concurrency: int,
    seed: int,
    search_threads: int | None = None,
) -> dict[str, Any]:
    # Ids straight from SQLite: a million StoredArticle objects would distort nothing but the client.
    with sqlite3.connect(f"file:{data_dir / 'catalog.sqlite3'}?mode=ro", uri=True) as conn:
        ids = [row[0] for row in conn.execute("SELECT id FROM articles WHERE status = 'published'")]
    rng = random.Random(seed)
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("RECSYS_")} | {
        "RECSYS_LOG_LEVEL": "warning"
    }
    if search_threads is not None:
        # FAISS parallelises one query over OpenMP threads; with many requests in flight those
        # threads may fight each other (RECSYS_SEARCH_THREADS: 0 = every core, the default).
        env["RECSYS_SEARCH_THREADS"] = str(search_threads)
    server = subprocess.Popen(
        [sys.executable, "-m", "index.cli", "serve", "--data-dir", str(data_dir), "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=env,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        started = time.perf_counter()
        with httpx.Client(base_url=base, timeout=10) as client:
            while True:
                if server.poll() is not None:
                    raise SystemExit(f"server for {data_dir} exited with {server.returncode}")
                try:
                    if client.get("/health").status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                time.sleep(0.25)
            startup = time.perf_counter() - started
            for _ in range(20):  # warm-up: first requests pay for lazy imports and caches
                client.get(endpoints[0].format(id=rng.choice(ids)))
        rss_idle = rss_kib(server.pid)
        results = {}
        for template in endpoints:
            paths = [template.format(id=rng.choice(ids)) for _ in range(requests)]
            results[template] = asyncio.run(_load(base, paths, concurrency))
        rss_after = rss_kib(server.pid)
    finally:
        server.send_signal(signal.SIGINT)
        try:
            server.wait(timeout=60)
        except subprocess.TimeoutExpired:
            server.kill()
    return {
        "articles": len(ids),
        "startup_s": round(startup, 1),
        "rss_mib_after_start": round(rss_idle.get("VmRSS", 0) / 1024),
        "rss_mib_peak": round(rss_after.get("VmHWM", 0) / 1024),
        "endpoints": results,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, required=True, help="a built data folder (the real corpus)")
    parser.add_argument("--sizes", default="real", help="comma-separated: real and/or article counts")
    parser.add_argument("--endpoint", action="append", help="path template with {id}; repeatable")
    parser.add_argument("--requests", type=int, default=400, help="requests per endpoint and size")
    parser.add_argument("--concurrency", type=int, default=8, help="requests in flight")
    parser.add_argument(
        "--work-dir", type=Path, default=Path("var/bench-load"), help="synthetic data folders"
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--search-threads",
        type=int,
        help="RECSYS_SEARCH_THREADS for the server (default: its setting, 0 = every core)",
    )
    parser.add_argument("--output", type=Path)
    args = parser.parse_args()
    endpoints = args.endpoint or DEFAULT_ENDPOINTS

    runs = []
    for size in [s.strip() for s in args.sizes.split(",") if s.strip()]:
        folder = (
            args.data_dir
            if size == "real"
            else make_synthetic(args.data_dir, args.work_dir / size, int(size))
        )
        print(f"measuring {folder} ...", flush=True)
        run = measure(folder, endpoints, args.requests, args.concurrency, args.seed, args.search_threads)
        run["size"] = size
        runs.append(run)

    rows = [
        [
            f"{run['articles']:,}" + ("" if run["size"] == "real" else " (synthetic)"),
            endpoint.split("?")[0],
            r["throughput_rps"],
            r["p50_ms"],
            r["p99_ms"],
            r["errors"],
            run["rss_mib_after_start"],
            run["rss_mib_peak"],
        ]
        for run in runs
        for endpoint, r in run["endpoints"].items()
    ]
    print(table(["articles", "endpoint", "req/s", "p50 ms", "p99 ms", "errors", "RSS MiB", "peak MiB"], rows))
    write_json(
        args.output,
        {
            "benchmark": "load",
            "machine": machine(),
            "concurrency": args.concurrency,
            "search_threads": args.search_threads,
            "requests_per_endpoint": args.requests,
            "runs": runs,
        },
    )


if __name__ == "__main__":
    main()
