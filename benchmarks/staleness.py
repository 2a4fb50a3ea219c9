"""Staleness: how long a served list lags a retraction committed by another process.

The write is made as `recsys retract` makes it; the clock stops when the served list no longer
shows the article.

A request never reads the catalog: the service's change watcher reads the catalog's generation every
RECSYS_CHANGE_POLL_SECONDS and, when it moved, swaps in the next live state (docs/architecture.md,
"Serving at scale"). So the bound is one poll interval plus the refresh plus one request. (A write
through the service's own API needs no such wait: it is applied before its response returns.)

Starts `recsys serve` on a data folder (default: the built-in demo corpus built into a temporary
folder with `recsys build`, as `make demo` does), then N times: takes the related list of a random
article, retracts its first item through a Catalog object of its own, and asks for the list again
(each request on a new connection, so with several workers any may answer) until `--confirm`
answers in a row no longer show it. That retraction's staleness is the time from the commit to the
first of those answers. Waits a random fraction of a poll between retractions, so that they do not
keep one phase of the poll. Every retracted article is published again at the end.

    python -m benchmarks.staleness --retractions 50 --output benchmarks/results/staleness.json
"""

from __future__ import annotations

import argparse
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from benchmarks.report import machine, percentiles, table, write_json
from benchmarks.serving import free_port, recsys_command, running
from recsys.catalog.store import Catalog
from recsys.root import Root
from recsys.settings import Settings


def _listed(base: str, article_id: str) -> list[str]:
    response = httpx.get(f"{base}/articles/{article_id}/related", params={"limit": 10}, timeout=30)
    response.raise_for_status()
    return [item["id"] for item in response.json()["items"]]


def _gone_after(base: str, subject: str, target: str, committed: float, confirm: int) -> tuple[float, int]:
    """Seconds from `committed` to the first of `confirm` answers in a row without `target`, and the
    requests sent."""
    first_gone: float | None = None
    run = sent = 0
    while run < confirm:
        shown = target in _listed(base, subject)
        answered = time.perf_counter()
        sent += 1
        if shown:
            first_gone, run = None, 0
        else:
            first_gone = answered if first_gone is None else first_gone
            run += 1
    assert first_gone is not None
    return first_gone - committed, sent


def measure(
    base: str, catalog: Catalog, retractions: int, confirm: int, poll: float, seed: int
) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    published = [stored.id for stored in catalog.iter_all("published")]
    rows: list[dict[str, Any]] = []
    while len(rows) < retractions:
        subject = rng.choice(published)
        listed = _listed(base, subject)
        if not listed:
            continue
        target = listed[0]
        time.sleep(rng.uniform(0, poll))
        catalog.set_status(target, "retracted")
        committed = time.perf_counter()
        seconds, sent = _gone_after(base, subject, target, committed, confirm)
        rows.append(
            {"subject": subject, "retracted": target, "stale_ms": round(seconds * 1000, 2), "requests": sent}
        )
        published.remove(target)
        print(
            f"{len(rows):>3}  {target:<12} gone from {subject}'s list after {seconds * 1000:7.1f} ms",
            flush=True,
        )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--data-dir", type=Path, help="a built data folder (default: the demo corpus, built now)"
    )
    parser.add_argument("--retractions", type=int, default=50)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument(
        "--poll", type=float, default=Settings().change_poll_seconds, help="RECSYS_CHANGE_POLL_SECONDS"
    )
    parser.add_argument(
        "--confirm", type=int, default=0, help="answers in a row without it (default 1 + 4 per extra worker)"
    )
    parser.add_argument("--seed", type=int, default=17)
    parser.add_argument("--output", type=Path)
    args = parser.parse_args()
    confirm = args.confirm or 1 + 4 * (args.workers - 1)

    env = {k: v for k, v in os.environ.items() if not k.startswith(("RECSYS_", "PROMETHEUS_"))}
    with tempfile.TemporaryDirectory() as folder:
        data = args.data_dir or Path(folder) / "demo"
        if args.data_dir is None:
            print(f"building the demo corpus into {data} ...", flush=True)
            subprocess.run(
                recsys_command("build", "--data-dir", str(data), "--no-progress"),
                env=env,
                check=True,
                capture_output=True,
            )
        variables = {
            "RECSYS_DATA_DIR": str(data),
            "RECSYS_WORKERS": str(args.workers),
            "RECSYS_CHANGE_POLL_SECONDS": str(args.poll),
            "RECSYS_LOG_LEVEL": "warning",
        }
        root = Root(Settings(data_dir=data))  # the catalog `recsys serve --data-dir` serves
        catalog = root.catalog
        rows: list[dict[str, Any]] = []
        try:
            port = free_port()
            with running(recsys_command("serve", "--port", str(port)), {**env, **variables}, port) as server:
                rows = measure(server.base, catalog, args.retractions, confirm, args.poll, args.seed)
        finally:
            for row in rows:
                catalog.set_status(row["retracted"], "published")
            root.close()

    stats = percentiles([row["stale_ms"] for row in rows])
    print()
    print(
        table(
            ["retractions", "workers", "poll s", "p50 ms", "p90 ms", "p99 ms", "max ms", "mean ms"],
            [
                [
                    len(rows),
                    args.workers,
                    args.poll,
                    stats["p50"],
                    stats["p90"],
                    stats["p99"],
                    stats["max"],
                    stats["mean"],
                ]
            ],
        )
    )
    write_json(
        args.output,
        {
            "benchmark": "staleness",
            "machine": machine(),
            "data_dir": str(args.data_dir) if args.data_dir else "demo corpus, built by `recsys build`",
            "command": "python -m benchmarks.staleness " + " ".join(sys.argv[1:]),
            "workers": args.workers,
            "change_poll_seconds": args.poll,
            "confirm": confirm,
            "stale_ms": stats,
            "retractions": rows,
        },
    )


if __name__ == "__main__":
    main()
