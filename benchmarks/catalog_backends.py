"""SQLite against PostgreSQL as the catalog: import, build and serving, same data, same run.

For each size, one articles file is written (the real folder's published articles, plus synthetic
copies made as benchmarks/synthetic.py makes them) with one vector per article (the original's real
vector plus noise). Then, for each backend in turn:

1. an empty catalog: the SQLite file of a data folder of its own, or a new schema on the PostgreSQL
   server (`recsys migrate`);
2. `recsys ingest FILE --no-progress`, timed: the product's own import (COPY-free upserts in 1,000-row
   pipelined batches on PostgreSQL; one transaction per batch on SQLite);
3. the vectors put in the embedding cache (`Catalog.store_vectors`; COPY on PostgreSQL), timed;
4. a full build from those cached vectors in a process of its own (benchmarks/synthetic.py
   `timed_build`: index, neighbour lists and final lists, as `recsys build` runs them), timed, with its
   peak RSS;
5. the catalog's size on disk (the SQLite file; the schema's tables and indexes on PostgreSQL).

With `--serve`, the two folders are then served in turn by `recsys serve` (one worker, response cache
off), `--rounds` times in ABBA order, each run a fresh server, and wrk measures each endpoint at 64
connections and at one (benchmarks/wrk_load.py's scripts: random ids over the whole catalog). A request
reads no database on either backend (docs/architecture.md), so the two should be level: the report
gives the PostgreSQL / SQLite ratios.

The PostgreSQL server is started by the benchmark from the machine's binaries (tests/postgres.py, with
fsync and synchronous commit on, as in production, and the server's default memory settings), unless
`--catalog-url` names one (each size then gets a schema of its own there).

    RECSYS_ENCODER_BACKEND=torch python -m benchmarks.catalog_backends --data-dir var/bbc \\
        --sizes real,100000 --serve --work-dir /tmp/recsys-backends \\
        --output benchmarks/results/catalog_backends.json
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

import numpy as np

from benchmarks import synthetic
from benchmarks.report import machine, table, write_json
from benchmarks.serving import free_port, recsys_command, running
from benchmarks.wrk_load import DEFAULT_ENDPOINTS, _measure, _warm_up_and_fetch, write_script
from recsys.catalog.store import Catalog
from recsys.root import Root

BACKENDS = ("sqlite", "postgresql")
BATCH = 20_000  # vectors per store_vectors call


def _records(real: Path, size: str, work: Path, seed: int, noise: float) -> tuple[Path, Path, dict[str, Any]]:
    """The articles file and the vectors (.npy, in file order) for one size, made once."""
    folder = work / f"input-{size}"
    articles, vectors, meta = folder / "articles.jsonl", folder / "vectors.npy", folder / "meta.json"
    root = Root(synthetic.folder_settings(real))
    version = root.store.current_version()
    if version is None:
        raise SystemExit(f"{real} has no index: run `recsys build --data-dir {real}` first")
    manifest = root.store.read_manifest(version)
    wanted = {"from": str(real.resolve()), "version": version, "size": size, "seed": seed, "noise": noise}
    if meta.is_file() and json.loads(meta.read_text()).get("params") == wanted:
        return articles, vectors, json.loads(meta.read_text())
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    originals = [stored.article for stored in root.catalog.iter_all("published")]
    cached = root.catalog.cached_vectors(manifest.model, manifest.recipe, [a.content_hash for a in originals])
    real_vectors = np.vstack([cached[a.content_hash] for a in originals])
    count = len(originals) if size == "real" else int(size)
    rng = np.random.default_rng(seed)
    print(f"  writing {count:,} articles and their vectors to {folder} ...", flush=True)
    out = np.lib.format.open_memmap(
        vectors, mode="w+", dtype=np.float32, shape=(count, real_vectors.shape[1])
    )
    out[: len(originals)] = real_vectors
    with articles.open("w") as handle:
        for article in originals:
            handle.write(json.dumps(article.to_record()) + "\n")
        for start in range(0, count - len(originals), BATCH):
            numbers = range(start, min(start + BATCH, count - len(originals)))
            for n in numbers:
                handle.write(json.dumps(synthetic.copy_of(originals, n).to_record()) + "\n")
            out[len(originals) + start : len(originals) + numbers.stop] = synthetic.noisy_vectors(
                real_vectors, numbers, rng, noise
            )
    out.flush()
    del out
    record = {
        "params": wanted,
        "articles": count,
        "model": manifest.model,
        "recipe": manifest.recipe,
        "dimension": manifest.dimension,
        "file_mib": round(articles.stat().st_size / 2**20),
    }
    meta.write_text(json.dumps(record, indent=2) + "\n")
    return articles, vectors, record


def _ids_and_hashes(articles: Path) -> tuple[list[str], list[str]]:
    """Each record's id and content hash, in file order (the order of the vectors)."""
    from recsys.articles import Article

    ids, hashes = [], []
    with articles.open() as handle:
        for line in handle:
            record = json.loads(line)
            ids.append(record["id"])
            hashes.append(
                Article(id=record["id"], title=record.get("title"), body=record.get("body")).content_hash
            )
    return ids, hashes


@contextlib.contextmanager
def _postgres(url: str) -> Iterator[tuple[str, Any]]:
    """A server's URL: `url`, or one started here from the machine's binaries for the run."""
    if url:
        yield url, None
        return
    from tests.postgres import PostgresServer, missing_binaries

    why = missing_binaries()
    if why:
        raise SystemExit(f"cannot start PostgreSQL: {why} (or pass --catalog-url)")
    server = PostgresServer(durable=True).start()
    try:
        yield server.url(), server
    finally:
        server.stop()


def _schema_url(server_url: str, schema: str, *, fresh: bool) -> str:
    """The URL of `schema` on the server; `fresh`: dropped and made anew first."""
    import psycopg

    if fresh:
        with psycopg.connect(server_url, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
            conn.execute(f"CREATE SCHEMA {schema}")
    joiner = "&" if "?" in server_url else "?"
    return f"{server_url}{joiner}options={quote(f'-csearch_path={schema}')}"


def _catalog_mib(backend: str, folder: Path, url: str, schema: str) -> float:
    if backend == "sqlite":
        return round(sum(p.stat().st_size for p in folder.glob("catalog.sqlite3*")) / 2**20, 1)
    import psycopg

    with psycopg.connect(url) as conn:
        row = conn.execute(
            "SELECT sum(pg_total_relation_size(c.oid)) FROM pg_class c "
            "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = %s AND c.relkind = 'r'",
            (schema,),
        ).fetchone()
    return round(int(row[0] or 0) / 2**20, 1) if row else 0.0


def _timed(command: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Wall and CPU seconds of `command`, run to its end."""
    cpu = synthetic.cpu_seconds(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(command, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command[2:5])} ... failed: {done.stderr.strip()[-1500:]}")
    wall = time.perf_counter() - started
    return round(wall, 2), round(synthetic.cpu_seconds(resource.RUSAGE_CHILDREN) - cpu, 2)


def server_cpu_s(url: str) -> float:
    """CPU seconds the PostgreSQL server of `url` has used so far: its postmaster (with the backends
    that exited, which the kernel adds to it) and its live backends. Found by the socket folder on
    the postmaster's command line, so other servers on the box are not counted; 0 without a match
    (a remote server: its CPU is not ours to see)."""
    host = parse_qs(urlsplit(url).query).get("host", [""])[0]
    if not host:
        return 0.0
    ticks = os.sysconf("SC_CLK_TCK")
    stats: dict[int, list[str]] = {}
    postmaster = None
    for proc in Path("/proc").glob("[0-9]*"):
        try:
            if proc.joinpath("comm").read_text().strip() != "postgres":
                continue
            stat = proc.joinpath("stat").read_text().rsplit(")", 1)[1].split()
            command = proc.joinpath("cmdline").read_text()
        except OSError:
            continue
        stats[int(proc.name)] = stat
        if f"unix_socket_directories={host}" in command.replace("\0", " "):
            postmaster = int(proc.name)
    if postmaster is None or postmaster not in stats:
        return 0.0
    # fields after the command: state ppid ... utime(12) stime(13) cutime(14) cstime(15), 0-based here
    own = stats[postmaster]
    total = sum(int(own[i]) for i in (11, 12, 13, 14))
    total += sum(int(s[11]) + int(s[12]) for pid, s in stats.items() if int(s[1]) == postmaster)
    return total / ticks


@contextlib.contextmanager
def cpu_meter(figures: dict[str, Any], name: str, url: str) -> Iterator[None]:
    """Add `name`_pg_cpu_s (the server's CPU during the block) to `figures`, for a PostgreSQL run."""
    before = server_cpu_s(url) if url else 0.0
    yield
    if url:
        figures[f"{name}_pg_cpu_s"] = round(server_cpu_s(url) - before, 2)


def load_backend(
    backend: str,
    folder: Path,
    url: str,
    inputs: tuple[Path, Path, dict[str, Any]],
    hashes: list[str],
    env: dict[str, str],
) -> dict[str, Any]:
    """Import, cache vectors and build one backend's folder; its figures."""
    articles, vectors, meta = inputs
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    env = env | ({"RECSYS_CATALOG_URL": url} if url else {})
    figures: dict[str, Any] = {"backend": backend}
    if url:
        figures["migrate_s"], _ = _timed(recsys_command("migrate", "--data-dir", str(folder)), env)
    print(f"  {backend}: recsys ingest ({meta['articles']:,} articles) ...", flush=True)
    ingest = recsys_command("ingest", str(articles), "--no-progress", "--data-dir", str(folder))
    with cpu_meter(figures, "ingest", url):
        figures["ingest_s"], figures["ingest_cpu_s"] = _timed(ingest, env)

    print(f"  {backend}: embedding cache ...", flush=True)
    catalog = Catalog(synthetic.folder_settings(folder, url).catalog_location)
    matrix = np.load(vectors, mmap_mode="r")
    started, cpu = time.perf_counter(), synthetic.cpu_seconds(resource.RUSAGE_SELF)
    with cpu_meter(figures, "store_vectors", url):
        for start in range(0, len(hashes), BATCH):
            part = zip(hashes[start : start + BATCH], matrix[start : start + BATCH], strict=True)
            catalog.store_vectors(meta["model"], meta["recipe"], part)
    figures["store_vectors_s"] = round(time.perf_counter() - started, 2)
    figures["store_vectors_cpu_s"] = round(synthetic.cpu_seconds(resource.RUSAGE_SELF) - cpu, 2)
    catalog.close()

    print(f"  {backend}: full build from cached vectors ...", flush=True)
    with cpu_meter(figures, "build", url):
        build = synthetic.timed_build(folder, meta["model"], meta["dimension"], url)
    figures |= {
        "build_s": build["seconds"],
        "build_cpu_s": build["cpu_s"],
        "build_peak_rss_mib": build["peak_rss_mib"],
        "build": build,
    }
    return figures


def serve_once(
    backend: str,
    folder: Path,
    url: str,
    scripts: dict[str, Path],
    env: dict[str, str],
    args: argparse.Namespace,
) -> dict[str, Any]:
    port = free_port()
    env = env | ({"RECSYS_CATALOG_URL": url} if url else {})
    command = recsys_command("serve", "--data-dir", str(folder), "--port", str(port))
    with running(command, env, port) as server:
        _warm_up_and_fetch(server, list(scripts), args.ids_sample, args.seed)
        return {"backend": backend, **_measure(server, scripts, args)}


def _mean(values: list[float | None]) -> float | None:
    found = [v for v in values if v is not None]
    return round(sum(found) / len(found), 2) if found else None


def _ratio(pg: float | None, sqlite: float | None) -> float | None:
    return round(pg / sqlite, 3) if pg and sqlite else None


def summarise_serving(runs: list[dict[str, Any]], templates: list[str], connections: int) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for template in templates:
        for index, conns in enumerate(dict.fromkeys((connections, 1))):  # as _measure runs them
            per = {
                backend: [r["endpoints"][template][index] for r in runs if r["backend"] == backend]
                for backend in BACKENDS
            }
            row: dict[str, Any] = {
                backend: {
                    "rps": _mean([r["rps"] for r in found]),
                    "p50_ms": _mean([r["p50_ms"] for r in found]),
                    "p99_ms": _mean([r["p99_ms"] for r in found]),
                    "errors": sum(r["other_errors"] + r["timeouts"] + r["status_503"] for r in found),
                }
                for backend, found in per.items()
            }
            sqlite, pg = row["sqlite"], row["postgresql"]
            row["rps_pg_over_sqlite"] = _ratio(pg["rps"], sqlite["rps"])
            row["p99_pg_over_sqlite"] = _ratio(pg["p99_ms"], sqlite["p99_ms"])
            out[f"{template} @{conns}"] = row
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, required=True, help="a built data folder (the real corpus)")
    parser.add_argument("--sizes", default="real", help="comma-separated: real and/or article counts")
    parser.add_argument("--work-dir", type=Path, default=Path("var/bench-backends"))
    parser.add_argument("--catalog-url", default="", help="a PostgreSQL server to use (default: start one)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--noise", type=float, default=0.05)
    parser.add_argument("--serve", action="store_true", help="also serve both folders under wrk")
    parser.add_argument(
        "--serve-only",
        action="store_true",
        help="serve the folders an earlier run with the same --work-dir and --catalog-url loaded",
    )
    parser.add_argument("--endpoint", action="append", help="endpoint template(s), {id} for the article")
    parser.add_argument("--rounds", type=int, default=2, help="ABBA rounds of serving")
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--timeout", default="2s")
    parser.add_argument("--ids", type=int, default=10_000, help="ids drawn for the wrk scripts")
    parser.add_argument("--output", type=Path)
    args = parser.parse_args()
    if args.serve_only and not args.catalog_url:
        parser.error("--serve-only needs the --catalog-url the folders were loaded into")
    args.endpoint = args.endpoint or list(DEFAULT_ENDPOINTS)
    sizes = synthetic.parse_sizes(args.sizes)
    env = dict(os.environ) | {
        "RECSYS_RELOAD_INTERVAL": "0",
        "RECSYS_LOG_LEVEL": "warning",
        "RECSYS_RESPONSE_CACHE_SIZE": "0",
        "RECSYS_WORKERS": "1",
    }
    env.pop("RECSYS_CATALOG_URL", None)
    results: list[dict[str, Any]] = []
    load_start = os.getloadavg()
    with _postgres(args.catalog_url) as (server_url, _server):
        for size in sizes:
            print(f"size {size}:", flush=True)
            inputs = _records(args.data_dir, size, args.work_dir, args.seed, args.noise)
            schema = f"bench_{size}"
            urls = {"sqlite": "", "postgresql": _schema_url(server_url, schema, fresh=not args.serve_only)}
            folders = {backend: args.work_dir / f"{size}-{backend}" for backend in BACKENDS}
            ids, hashes = _ids_and_hashes(inputs[0])
            loads = []
            for backend in BACKENDS if not args.serve_only else ():
                figures = load_backend(backend, folders[backend], urls[backend], inputs, hashes, env)
                figures["catalog_mib"] = _catalog_mib(backend, folders[backend], urls[backend], schema)
                figures["load_average_after"] = [round(x, 2) for x in os.getloadavg()]
                loads.append(figures)
            entry: dict[str, Any] = {"size": size, "articles": inputs[2]["articles"], "load": loads}
            if args.serve or args.serve_only:
                rng = random.Random(args.seed)
                args.ids_sample = rng.sample(ids, min(args.ids, len(ids)))
                with tempfile.TemporaryDirectory() as scripts_dir:
                    scripts = {}
                    for number, template in enumerate(args.endpoint):
                        scripts[template] = Path(scripts_dir) / f"endpoint-{number}.lua"
                        write_script(scripts[template], template, args.ids_sample, args.seed)
                    runs = []
                    for round_ in range(args.rounds):
                        order = BACKENDS if round_ % 2 == 0 else BACKENDS[::-1]
                        for backend in order:
                            print(f"  serving {backend} (round {round_ + 1}) ...", flush=True)
                            runs.append(
                                serve_once(backend, folders[backend], urls[backend], scripts, env, args)
                            )
                entry["serving_runs"] = runs
                entry["serving"] = summarise_serving(runs, args.endpoint, args.connections)
            results.append(entry)
            _print(entry)

    write_json(
        args.output,
        {
            "benchmark": "catalog_backends",
            "machine": machine(),
            "command": "python -m benchmarks.catalog_backends " + " ".join(sys.argv[1:]),
            "load_average_at_start": [round(x, 2) for x in load_start],
            "postgres": "started by the benchmark (fsync on, default memory settings)"
            if not args.catalog_url
            else "given by --catalog-url",
            "sizes": results,
        },
    )


def _cpu(figures: dict[str, Any], step: str) -> str:
    """A step's CPU seconds: ours, plus the PostgreSQL server's where it did part of the work."""
    ours = figures.get(f"{step}_cpu_s", 0.0)
    server = figures.get(f"{step}_pg_cpu_s")
    return f"{ours} + pg {server}" if server is not None else f"{ours}"


def _print(entry: dict[str, Any]) -> None:
    rows = [
        [
            entry["size"],
            f["backend"],
            f"{f['ingest_s']} ({_cpu(f, 'ingest')})",
            f"{f['store_vectors_s']} ({_cpu(f, 'store_vectors')})",
            f"{f['build_s']} ({_cpu(f, 'build')})",
            f["build_peak_rss_mib"],
            f["catalog_mib"],
        ]
        for f in entry["load"]
    ]
    print(
        table(["size", "backend", "ingest s", "vectors s", "build s", "build RSS MiB", "catalog MiB"], rows)
    )
    if "serving" in entry:
        srows = []
        for name, row in entry["serving"].items():
            s, p = row["sqlite"], row["postgresql"]
            srows.append(
                [
                    name,
                    s["rps"],
                    p["rps"],
                    row["rps_pg_over_sqlite"],
                    s["p99_ms"],
                    p["p99_ms"],
                    s["errors"] + p["errors"],
                ]
            )
        print(
            table(["endpoint", "sqlite rps", "pg rps", "pg/sqlite", "sqlite p99", "pg p99", "errors"], srows)
        )


if __name__ == "__main__":
    main()
