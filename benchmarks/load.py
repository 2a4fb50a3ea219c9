"""Service load (httpx client): throughput, latency and RSS at several catalog sizes.

Throughput, latency (p50, p99) and memory (RSS) under concurrent load, at several catalog sizes.

For each size, starts `recsys serve` on a free 127.0.0.1 port, then a bounded asyncio client (httpx,
`--concurrency` requests in flight) sends `--requests` requests per endpoint, for random article ids.
`/health` runs in the same server in the same run as the framework's floor. The server's resident
memory is read from /proc after start-up and at its peak.

Sizes: `real` is the built data folder as it is. A larger size (e.g. 100000, 1000000) is made in
`--work-dir` by benchmarks/synthetic.py: a copy of the real catalog plus SYNTHETIC articles (copies of
real rows under new ids) and SYNTHETIC vectors (real vectors plus Gaussian noise, renormalised) in the
embedding cache, then the product's own build from cached vectors (timed; the figures are in the JSON).
Synthetic folders are made once per size and reused by later runs with the same parameters.

    python -m benchmarks.load --data-dir var/bbc --sizes real,100000,1000000 --concurrency 8 \\
        --requests 400 --work-dir /tmp/recsys-load --output benchmarks/results/load.json

Endpoints are templates (`{id}` is replaced); add `--endpoint '/articles/{id}/blocks'` where it exists.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import sqlite3
import statistics
import time
from pathlib import Path
from typing import Any

import httpx

from benchmarks import synthetic
from benchmarks.report import machine, table, write_json
from benchmarks.serving import free_port, recsys_command, running

DEFAULT_ENDPOINTS = ["/articles/{id}/related?limit=10", "/health"]


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


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
    env = {k: v for k, v in os.environ.items() if not k.startswith("RECSYS_")} | {
        "RECSYS_LOG_LEVEL": "warning"
    }
    if search_threads is not None:
        # FAISS parallelises one query over OpenMP threads; with many requests in flight those
        # threads may fight each other (RECSYS_SEARCH_THREADS: 0 = every core, the default).
        env["RECSYS_SEARCH_THREADS"] = str(search_threads)
    port = free_port()
    command = recsys_command("serve", "--data-dir", str(data_dir), "--port", str(port))
    with running(command, env, port) as server:
        with httpx.Client(base_url=server.base, timeout=10) as client:
            for _ in range(20):  # warm-up: first requests pay for lazy imports and caches
                client.get(endpoints[0].format(id=rng.choice(ids)))
        rss_idle = server.rss_mib()
        results = {}
        for template in endpoints:
            paths = [template.format(id=rng.choice(ids)) for _ in range(requests)]
            results[template] = asyncio.run(_load(server.base, paths, concurrency))
        rss_after = server.rss_mib()
    return {
        "articles": len(ids),
        "startup_s": round(server.startup_s, 1),
        "rss_mib_after_start": rss_idle["rss"],
        "rss_mib_peak": rss_after["hwm"],
        "endpoints": results,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, required=True, help="a built data folder (the real corpus)")
    parser.add_argument("--sizes", default="real", help="comma-separated: real and/or article counts")
    parser.add_argument("--endpoint", action="append", help="path template with {id}; repeatable")
    parser.add_argument("--requests", type=int, default=400, help="requests per endpoint and size")
    parser.add_argument("--concurrency", type=int, default=8, help="requests in flight")
    parser.add_argument("--seed", type=int, default=0)
    synthetic.add_arguments(parser)
    parser.add_argument(
        "--search-threads",
        type=int,
        help="RECSYS_SEARCH_THREADS for the server (default: its setting, 0 = every core)",
    )
    parser.add_argument("--output", type=Path)
    args = parser.parse_args()
    endpoints = args.endpoint or DEFAULT_ENDPOINTS

    runs = []
    for size in synthetic.parse_sizes(args.sizes):
        folder, record = synthetic.folder_for(args.data_dir, size, args)
        print(f"measuring {folder} ...", flush=True)
        run = measure(folder, endpoints, args.requests, args.concurrency, args.seed, args.search_threads)
        run["size"] = size
        run["synthetic"] = record
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
