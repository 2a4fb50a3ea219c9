"""Failed requests while a running service swaps index versions under continuous load.

Starts `recsys serve` (real model, pointer watcher on) for an already-built data dir, keeps client
threads sending `GET /articles/{id}/related` without pause, and performs N swaps. Each swap is a real
update: one article's body is edited in the catalog, `recsys build` runs as its own process, and the
script waits until /health reports the new version. Prints a table and writes JSON.

    python -m benchmarks.hot_swap --data-dir /tmp/reuters-copy --swaps 10 --clients 4 \
        --output benchmarks/results/hot_swap.json
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import subprocess
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field, replace
from pathlib import Path

import httpx

from benchmarks.serving import free_port, recsys_command
from recsys.catalog.ingest import import_file
from recsys.catalog.store import Catalog
from recsys.root import Root
from recsys.settings import Settings


@dataclass
class Load:
    """What the clients saw; counters are per swap window and guarded by one lock."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    ok: int = 0
    failed: Counter[str] = field(default_factory=Counter)
    versions: Counter[str] = field(default_factory=Counter)
    slowest_ms: float = 0.0

    def take(self) -> dict[str, int | float | dict[str, int]]:
        with self.lock:
            failed = sum(self.failed.values())
            snapshot: dict[str, int | float | dict[str, int]] = {
                "requests": self.ok + failed,
                "ok": self.ok,
                "failed": failed,
                "failures": dict(self.failed),
                "versions": dict(self.versions),
                "slowest_ms": round(self.slowest_ms, 1),
            }
            self.ok, self.failed, self.versions, self.slowest_ms = 0, Counter(), Counter(), 0.0
        return snapshot


def _client(base: str, ids: list[str], load: Load, stop: threading.Event, seed: int) -> None:
    rng = random.Random(seed)
    with httpx.Client(base_url=base, timeout=30) as http:
        while not stop.is_set():
            started = time.perf_counter()
            try:
                response = http.get(f"/articles/{rng.choice(ids)}/related", params={"limit": 10})
                outcome = str(response.status_code)
                version = response.json().get("index_version") if response.status_code == 200 else None
            except httpx.HTTPError as exc:
                outcome, version = type(exc).__name__, None
            elapsed = (time.perf_counter() - started) * 1000
            with load.lock:
                if outcome == "200":
                    load.ok += 1
                    load.versions[str(version)] += 1
                else:
                    load.failed[outcome] += 1
                load.slowest_ms = max(load.slowest_ms, elapsed)


def _served(http: httpx.Client) -> str | None:
    version = http.get("/health").json().get("index_version")
    return str(version) if version else None


def _edit_one(catalog: Catalog, ids: list[str], swap: int, folder: Path) -> str:
    stored = catalog.get(random.Random(swap).choice(ids))
    a = stored.article
    record = replace(a, body=f"{a.body or ''}\n(hot swap {swap} at {time.time():.0f})").to_record()
    path = folder / f"swap-{swap}.jsonl"
    path.write_text(json.dumps(record) + "\n")
    import_file(catalog, path, strict=True)
    return a.id


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--swaps", type=int, default=10)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--reload-interval", type=float, default=0.5)
    parser.add_argument("--settle", type=float, default=2.0, help="seconds of load on each new version")
    parser.add_argument("--output", type=Path)
    args = parser.parse_args()

    catalog = Root(Settings(data_dir=args.data_dir, catalog_path=args.data_dir / "catalog.sqlite3")).catalog
    ids = [s.id for s in catalog.iter_all("published")]
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("RECSYS_")} | {
        "RECSYS_DATA_DIR": str(args.data_dir),
        "RECSYS_RELOAD_INTERVAL": str(args.reload_interval),
        "RECSYS_LOG_LEVEL": "warning",
    }
    server = subprocess.Popen(
        recsys_command("serve", "--port", str(port)), env=env, stdout=subprocess.DEVNULL
    )
    base = f"http://127.0.0.1:{port}"
    load, stop = Load(), threading.Event()
    rows = []
    try:
        with httpx.Client(base_url=base, timeout=30) as http:
            for _ in range(600):
                try:
                    if http.get("/health").status_code == 200:
                        break
                except httpx.TransportError:
                    time.sleep(0.2)
            else:
                raise SystemExit("server did not start")
            clients = [
                threading.Thread(target=_client, args=(base, ids, load, stop, seed), daemon=True)
                for seed in range(args.clients)
            ]
            for thread in clients:
                thread.start()
            time.sleep(args.settle)
            print(
                f"{'swap':>4}  {'new version':<28} {'build s':>8} {'to serve s':>10} {'requests':>9} "
                f"{'failed':>6} {'slowest ms':>10}"
            )
            with tempfile.TemporaryDirectory() as folder:
                for swap in range(1, args.swaps + 1):
                    load.take()
                    edited = _edit_one(catalog, ids, swap, Path(folder))
                    started = time.perf_counter()
                    build = subprocess.run(
                        recsys_command("build", "--no-progress"), env=env, capture_output=True, text=True
                    )
                    if build.returncode != 0:
                        raise SystemExit(f"build failed: {build.stderr.strip()}")
                    built = time.perf_counter()
                    version = (args.data_dir / "index" / "CURRENT").read_text().strip()
                    while _served(http) != version:
                        time.sleep(0.05)
                    served = time.perf_counter()
                    time.sleep(args.settle)
                    window = load.take()
                    row = {
                        "swap": swap,
                        "edited": edited,
                        "version": version,
                        "build_s": round(built - started, 2),
                        "to_serve_s": round(served - built, 2),
                        **window,
                    }
                    rows.append(row)
                    print(
                        f"{swap:>4}  {version:<28} {row['build_s']:>8} {row['to_serve_s']:>10} "
                        f"{row['requests']:>9} {row['failed']:>6} {row['slowest_ms']:>10}",
                        flush=True,
                    )
    finally:
        stop.set()
        server.terminate()
        server.wait(timeout=30)

    total = sum(int(str(r["requests"])) for r in rows)
    failed = sum(int(str(r["failed"])) for r in rows)
    print(f"{len(rows)} swaps, {total} requests during them, {failed} failed")
    if args.output:
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text(
            json.dumps(
                {
                    "data_dir": str(args.data_dir),
                    "articles": len(ids),
                    "clients": args.clients,
                    "reload_interval": args.reload_interval,
                    "machine": f"{platform.machine()}, {os.cpu_count()} cores",
                    "swaps": rows,
                    "requests": total,
                    "failed": failed,
                },
                indent=2,
            )
            + "\n"
        )


if __name__ == "__main__":
    main()
