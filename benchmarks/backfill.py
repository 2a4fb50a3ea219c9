"""Archive backfill: `recsys embed` local vs Ray vs build, and projected hours for large archives.

`recsys embed --engine ray` and `--engine local` against the in-process
`recsys build` on the same articles, in the same run, with the same loaded model (the Ray actors load
their own copy), and projected hours for a 1M and a 10M archive at N machines of this size.

Rows:
  recsys build             fresh catalog, import excluded: embeds the recipe texts, stores them in the
                           cache, builds the FAISS index and neighbour lists, publishes a version
  embed, local             `recsys embed --engine local`: read + validate the file, dedup, embed, write
                           the vector folder (model load excluded: it is already loaded)
  embed, ray A x C cpu     `recsys embed --engine ray` with A actors of C CPUs on a Ray started here:
                           wall time includes Ray's start and every actor loading the model; `steady`
                           is the pool's rate from the first batch it started to the last it finished;
                           `start-up` the seconds from the engine's start to that first batch

Projection: hours = start-up + articles / driver read rate + articles / (N * steady rate of one
machine), assuming the rate scales linearly with machines (each actor is independent; the texts reach
them through Ray's object store); the driver reads and validates every shard on one core before the
pool starts, so its time adds.

    python -m benchmarks.backfill --input ../shared/data/bbc_fulltext/articles.jsonl.gz --limit 500 \\
        --output benchmarks/results/backfill.json
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.build_throughput import sample_articles
from benchmarks.report import machine, table, write_json
from index.backfill import (
    InputShard,
    LocalEngine,
    PreparedShard,
    ShardDone,
    describe_source,
    embed_files,
    identity_of,
    prepare_shard,
)
from index.build import build_index
from index.ray_embed import EmbedActor, RayEngine
from recsys.catalog.store import UpsertCounts
from recsys.encoding.encoders import SentenceTransformerEncoder
from recsys.encoding.recipe import TextRecipe
from recsys.root import Root
from recsys.settings import Settings

ARCHIVES = (1_000_000, 10_000_000)
MACHINES = (1, 4, 16, 64)


class _NoBar:
    """Stands in for the progress bar an engine updates."""

    def update(self, rows: int) -> None:
        pass


class _Timed:
    """An engine run without a bar (the benchmark prints a table instead)."""

    def __init__(self, engine: Any) -> None:
        self.engine = engine

    def run(self, shards: Iterator[PreparedShard], done: ShardDone, bar: Any) -> None:
        self.engine.started = time.time()
        self.engine.run(shards, done, _NoBar())


class ClockedActor(EmbedActor):
    """The product's actor, with each batch's start and end (wall clock) as two more columns."""

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        start = time.time()
        out = super().__call__(batch)
        rows = len(out["row"])
        return {**out, "t_start": np.full(rows, start), "t_end": np.full(rows, time.time())}


class ClockedRayEngine(RayEngine):
    """The Ray engine, noting when the pool began and ended encoding: the span between is the steady
    state (after Ray's start and every actor's model load)."""

    actor = ClockedActor
    started = 0.0
    first_start = float("inf")
    last_end = 0.0
    rows = 0

    def _collect(self, dataset: Any, pending: Any, done: ShardDone, bar: Any) -> None:
        engine = self

        class Clocked:
            def iter_batches(self, **options: Any) -> Iterator[dict[str, np.ndarray]]:
                for batch in dataset.iter_batches(**options):
                    engine.first_start = min(engine.first_start, float(batch["t_start"].min()))
                    engine.last_end = max(engine.last_end, float(batch["t_end"].max()))
                    engine.rows += len(batch["row"])
                    yield batch

        super()._collect(Clocked(), pending, done, bar)

    def steady_rate(self) -> float:
        return self.rows / (self.last_end - self.first_start)

    def start_up_seconds(self) -> float:
        return self.first_start - self.started


def _load() -> float:
    return round(os.getloadavg()[0], 2)


def _row(method: str, articles: int, seconds: float, load_before: float) -> dict[str, Any]:
    return {
        "method": method,
        "articles": articles,
        "seconds": round(seconds, 2),
        "articles_per_s": round(articles / seconds, 1),
        "steady_articles_per_s": None,
        "start_up_seconds": None,
        "load_before": load_before,
        "load_after": _load(),
    }


def _embed_row(
    name: str, engine: Any, source: Path, folder: Path, encoder: SentenceTransformerEncoder
) -> dict:
    recipe = TextRecipe()
    load = _load()
    report = embed_files(
        source, folder, identity_of(encoder, recipe), recipe, _Timed(engine), engine_name=name
    )
    row = _row(name, report.records - report.skipped, report.seconds, load)
    if isinstance(engine, ClockedRayEngine):
        row["steady_articles_per_s"] = round(engine.steady_rate(), 1)
        row["start_up_seconds"] = round(engine.start_up_seconds(), 1)
    return row


def _driver_read_rate(source: Path) -> float:
    """Articles/s the driver reads, validates, dedups and turns into recipe texts (one core)."""
    started = time.perf_counter()
    shard = InputShard(source, "sample")
    prepared = prepare_shard(shard, TextRecipe(), set(), strict=False, source=describe_source(source))
    return prepared.records / (time.perf_counter() - started)


def project(rows: list[dict[str, Any]], read_rate: float) -> dict[str, Any]:
    """Hours for each archive size and machine count, from the best Ray shape's steady rate."""
    ray_rows = [r for r in rows if r["method"].startswith("embed, ray") and r["steady_articles_per_s"]]
    if not ray_rows:
        return {"rows": []}
    best = max(ray_rows, key=lambda r: r["steady_articles_per_s"])
    rate, start_up = float(best["steady_articles_per_s"]), float(best["start_up_seconds"])
    table_rows = []
    for archive in ARCHIVES:
        for machines in MACHINES:
            # The driver reads every shard before the pool starts (index/ray_embed.py): the times add.
            reading, encoding = archive / read_rate, archive / (rate * machines)
            table_rows.append(
                {
                    "articles": archive,
                    "machines": machines,
                    "hours": round((start_up + reading + encoding) / 3600, 2),
                    "of_which_driver_reading_hours": round(reading / 3600, 2),
                }
            )
    return {
        "per_machine_articles_per_s": rate,
        "start_up_seconds": start_up,
        "driver_read_articles_per_s": round(read_rate, 1),
        "from": best["method"],
        "assumptions": (
            "a machine like this one (2 cores) embeds at the measured steady Ray rate; rates add up "
            "linearly over machines; the single driver first reads and validates every shard at the "
            "measured read rate (the encoding starts after it); start-up (Ray, actors loading the "
            "model) is paid once"
        ),
        "rows": table_rows,
    }


def _print_projection(projection: dict[str, Any]) -> None:
    if projection["rows"]:
        headers = ["articles", "machines", "hours", "of which reading"]
        print(table(headers, [list(p.values()) for p in projection["rows"]]))


def reproject(path: Path) -> None:
    """Recompute the projection of a results file (after a change to the model of it)."""
    result = json.loads(path.read_text())
    result["projection"] = project(result["rows"], result["driver_read_articles_per_s"])
    _print_projection(result["projection"])
    write_json(path, result)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--input", type=Path, help="articles file (.jsonl[.gz] or .csv)")
    parser.add_argument("--limit", type=int, default=500, help="articles to embed (distinct texts)")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--ray", default="1x2,2x1", help="Ray shapes to run: ACTORSxCPUS, comma-separated")
    parser.add_argument("--output", type=Path)
    parser.add_argument("--reproject", type=Path, help="only recompute the projection of this results file")
    args = parser.parse_args()
    if args.reproject:
        reproject(args.reproject)
        return
    if args.input is None:
        parser.error("--input is required")

    articles = sample_articles(args.input, args.limit)
    settings = Settings(batch_size=args.batch_size)
    encoder = SentenceTransformerEncoder()
    encoder.encode(["warm-up sentence"] * 8, batch_size=8)  # first-call set-up is not throughput
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="recsys-backfill-") as folder:
        root = Path(folder)
        sample = root / "sample.jsonl.gz"
        with gzip.open(sample, "wt", encoding="utf-8") as handle:
            handle.writelines(json.dumps(a.to_record()) + "\n" for a in articles)
        read_rate = _driver_read_rate(sample)

        build_settings = Settings(data_dir=root / "data", batch_size=args.batch_size)
        catalog = Root(build_settings).catalog
        with catalog.transaction() as conn:
            for article in articles:
                catalog.upsert(conn, article, UpsertCounts())
        load = _load()
        report = build_index(build_settings, catalog, encoder)
        catalog.close()
        rows.append(_row("recsys build", report.articles, report.seconds, load))
        rows.append(
            _embed_row("embed, local", LocalEngine(encoder, args.batch_size), sample, root / "l", encoder)
        )

        identity = identity_of(encoder, TextRecipe())
        for shape in args.ray.split(","):
            actors, cpus = (int(part) for part in shape.split("x"))
            engine = ClockedRayEngine(
                Root(settings).encoder_loader(),
                identity,
                actors=actors,
                cpus_per_actor=cpus,
                batch_size=args.batch_size,
            )
            name = f"embed, ray {actors} x {cpus} cpu"
            rows.append(_embed_row(name, engine, sample, root / f"r{actors}x{cpus}", encoder))

    projection = project(rows, read_rate)
    result = {
        "benchmark": "backfill",
        "machine": machine(),
        "shared_machine": "2 cores shared with other engineers' jobs: load average recorded per row",
        "input": str(args.input),
        "limit": args.limit,
        "batch_size": args.batch_size,
        "model": encoder.name,
        "recipe": TextRecipe().id,
        "driver_read_articles_per_s": round(read_rate, 1),
        "rows": rows,
        "projection": projection,
    }
    print(
        table(
            ["method", "articles", "seconds", "articles/s", "steady/s", "start-up s", "load"],
            [
                [
                    r["method"],
                    r["articles"],
                    r["seconds"],
                    r["articles_per_s"],
                    r["steady_articles_per_s"],
                    r["start_up_seconds"],
                    r["load_before"],
                ]
                for r in rows
            ],
        )
    )
    print(f"driver read rate: {read_rate:.0f} articles/s")
    _print_projection(projection)
    write_json(args.output, result)


if __name__ == "__main__":
    main()
