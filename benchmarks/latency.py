"""Latency of `GET /articles/{id}/related` against a real `recsys serve` process.

Starts the server on a free 127.0.0.1 port for an already-built data dir, sends a bounded number of
sequential requests for random article ids (plus `/health` as the framework's floor), prints a table
and writes JSON.

    python -m benchmarks.latency --data-dir var/bbc --requests 500 --output benchmarks/results/latency.json
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import signal
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

import httpx

from recsys.catalog import Catalog


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def _measure(client: httpx.Client, paths: list[str]) -> list[float]:
    timings = []
    for path in paths:
        started = time.perf_counter()
        response = client.get(path)
        timings.append((time.perf_counter() - started) * 1000)
        response.raise_for_status()
    return timings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--requests", type=int, default=500)
    parser.add_argument("--limit", type=int, default=10)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--output", type=Path)
    args = parser.parse_args()

    ids = [s.id for s in Catalog(args.data_dir / "catalog.sqlite3").iter_all("published")]
    rng = random.Random(args.seed)
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "index.cli", "serve", "--data-dir", str(args.data_dir), "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={k: v for k, v in os.environ.items() if k != "RECSYS_LOG_LEVEL"}
        | {"RECSYS_LOG_LEVEL": "warning"},
    )
    base = f"http://127.0.0.1:{port}"
    try:
        with httpx.Client(base_url=base, timeout=10) as client:
            for _ in range(600):
                try:
                    if client.get("/health").status_code == 200:
                        break
                except httpx.TransportError:
                    time.sleep(0.2)
            else:
                raise SystemExit("server did not start")
            warmup = [f"/articles/{rng.choice(ids)}/related?limit={args.limit}" for _ in range(20)]
            _measure(client, warmup)
            related = [
                f"/articles/{rng.choice(ids)}/related?limit={args.limit}" for _ in range(args.requests)
            ]
            results = {
                "related": _measure(client, related),
                "health": _measure(client, ["/health"] * args.requests),
            }
    finally:
        server.send_signal(signal.SIGINT)
        server.wait(timeout=30)

    report = {
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
        "articles": len(ids),
        "requests": args.requests,
        "limit": args.limit,
        "endpoints": {
            name: {
                "p50_ms": round(statistics.median(values), 2),
                "p99_ms": round(_percentile(values, 0.99), 2),
                "mean_ms": round(statistics.fmean(values), 2),
            }
            for name, values in results.items()
        },
    }
    print(f"{'endpoint':<10} {'p50 ms':>8} {'p99 ms':>8} {'mean ms':>8}   ({report['articles']} articles)")
    for name, row in report["endpoints"].items():
        print(f"{name:<10} {row['p50_ms']:>8} {row['p99_ms']:>8} {row['mean_ms']:>8}")
    if args.output:
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
