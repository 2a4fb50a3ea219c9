"""Synthetic data folders of a given size, built by the product's own build from cached vectors.

A folder of N articles is made in a work folder from a built real one:

1. the real catalog is copied (SQLite backup API: a consistent snapshot, WAL included);
2. SYNTHETIC articles are added through `Catalog.upsert`: copies of real published rows under new ids
   (`synthetic-0000000`, ...), url dropped (it must stay unique), a ` [n]` suffix on the title so each
   copy has its own content hash;
3. each copy's SYNTHETIC vector (its original's cached vector plus Gaussian noise, renormalised) is put
   into the catalog's embedding cache under the real index's model and recipe (`Catalog.store_vectors`);
4. `index.build.build_index` runs in a process of its own with an encoder that refuses to encode, so
   the build is timed exactly as the product runs it from cached vectors, and its peak RSS is that
   process's own;
5. optionally (`--incremental-change 0.01`) a share of the synthetic articles is edited (new title, so
   new content hash, and a new cached vector) and the build runs and is timed again.

The folder is then served like any other build. A finished folder (its `synthetic.json` records the
parameters and the build figures) is reused by later runs with the same parameters.

    python -m benchmarks.synthetic --data-dir var/bbc --size 1000000 --work-dir /tmp/recsys-load \\
        --incremental-change 0.01
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import shutil
import sqlite3
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from recsys.articles import Article
from recsys.catalog.store import Catalog, StoredArticle, UpsertCounts
from recsys.encoding.protocol import normalise
from recsys.root import Root
from recsys.settings import Settings

SYNTHETIC_PREFIX = "synthetic-"
RECORD = "synthetic.json"
BATCH = 20_000  # articles per transaction and per store_vectors call


@dataclass(frozen=True)
class CachedVectorsOnly:
    """An Encoder with the real index's model name and dimension that never encodes: a build with it
    succeeds only if every vector it needs is in the catalog's embedding cache."""

    name: str
    dimension: int

    def encode(self, texts: list[str], *, batch_size: int = 64, progress: bool = False) -> np.ndarray:
        raise RuntimeError("benchmark folders are built from cached vectors only")


@dataclass(frozen=True)
class Params:
    size: int
    seed: int = 0
    noise: float = 0.05
    incremental_change: float = 0.0  # share of the synthetic articles edited after the full build

    def as_dict(self) -> dict[str, Any]:
        return {
            "size": self.size,
            "seed": self.seed,
            "noise": self.noise,
            "incremental_change": self.incremental_change,
        }


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options every benchmark that makes synthetic folders shares."""
    parser.add_argument(
        "--work-dir", type=Path, default=Path("var/bench-load"), help="where synthetic folders are made"
    )
    parser.add_argument("--noise", type=float, default=0.05, help="sigma of the Gaussian noise on vectors")
    parser.add_argument(
        "--incremental-change",
        type=float,
        default=0.0,
        help="after the full build, edit this share of the synthetic articles and time a second build",
    )
    parser.add_argument("--rebuild", action="store_true", help="remake synthetic folders even if present")


def folder_for(real: Path, size: str, args: argparse.Namespace) -> tuple[Path, dict[str, Any] | None]:
    """The data folder for one entry of `--sizes` (`real`, or an article count) and, for a synthetic
    one, its record (parameters, build figures)."""
    if size == "real":
        return real, None
    params = Params(int(size), args.seed, args.noise, args.incremental_change)
    target = args.work_dir / size
    return target, make(real, target, params, rebuild=args.rebuild)


def parse_sizes(text: str) -> list[str]:
    return [s.strip() for s in text.split(",") if s.strip()]


def make(real: Path, target: Path, params: Params, *, rebuild: bool = False) -> dict[str, Any]:
    """Make (or reuse) the synthetic folder `target`; returns its record."""
    real_store = Root(folder_settings(real)).store
    real_version = real_store.current_version()
    if real_version is None:
        raise SystemExit(f"{real} has no index: run `recsys build --data-dir {real}` first")
    settings = folder_settings(target)
    wanted = {
        "from": str(real.resolve()),
        "from_version": real_version,
        **params.as_dict(),
        "index_type": settings.index_type,
    }
    record_path = target / RECORD
    if record_path.is_file() and not rebuild:
        record: dict[str, Any] = json.loads(record_path.read_text())
        if record.get("params") == wanted:
            print(f"  reusing {target} (made {record.get('made_at')})", flush=True)
            return record | {"reused": True}
    manifest = real_store.read_manifest(real_version)
    model, recipe, dimension = manifest.model, manifest.recipe, manifest.dimension
    root = Root(settings)
    if root.recipe.id != recipe:
        raise SystemExit(
            f"{real} was built with recipe {recipe!r} but the settings give "
            f"{root.recipe.id!r}: set RECSYS_RECIPE_MAX_WORDS to match"
        )

    shutil.rmtree(target, ignore_errors=True)
    target.mkdir(parents=True)
    started = time.perf_counter()
    copy_catalog(real / "catalog.sqlite3", target / "catalog.sqlite3")
    catalog = root.catalog
    originals = list(catalog.iter_all("published"))
    cached = catalog.cached_vectors(model, recipe, [s.content_hash for s in originals])
    uncached = sum(1 for s in originals if s.content_hash not in cached)
    if uncached:
        raise SystemExit(
            f"{uncached} published articles of {real} have no cached vector for {model} / {recipe}: "
            f"run `recsys build --data-dir {real}` first"
        )
    real_vectors = np.vstack([cached[s.content_hash] for s in originals])
    missing = params.size - len(originals)
    if missing <= 0:
        raise SystemExit(
            f"size {params.size} is not larger than the real catalog ({len(originals)} articles)"
        )
    print(f"  adding {missing:,} synthetic articles to {target} ...", flush=True)
    rng = np.random.default_rng(params.seed)

    def cache_vectors(numbers: Sequence[int], hashes: list[str]) -> None:
        noisy = noisy_vectors(real_vectors, numbers, rng, params.noise)
        catalog.store_vectors(model, recipe, zip(hashes, noisy, strict=True))

    for start in range(0, missing, BATCH):
        numbers = range(start, min(start + BATCH, missing))
        cache_vectors(numbers, _add_copies(catalog, originals, numbers))
    made_s = time.perf_counter() - started

    print(f"  full build of {params.size:,} articles from cached vectors ...", flush=True)
    full = timed_build(target, model, dimension)
    incremental = None
    if params.incremental_change > 0:
        edited = max(1, round(missing * params.incremental_change))
        chosen = sorted(random.Random(params.seed).sample(range(missing), edited))
        cache_vectors(chosen, _edit_copies(catalog, chosen))
        print(f"  incremental build after editing {edited:,} synthetic articles ...", flush=True)
        incremental = timed_build(target, model, dimension) | {"edited": edited}
    catalog.close()

    record = {
        "params": wanted,
        "made_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "real_articles": len(originals),
        "articles": params.size,
        "add_articles_s": round(made_s, 1),
        "full_build": full,
        "incremental_build": incremental,
    }
    if incremental is not None:
        record["incremental_over_full"] = round(incremental["seconds"] / full["seconds"], 3)
    record_path.write_text(json.dumps(record, indent=2) + "\n")
    return record | {"reused": False}


def folder_settings(folder: Path, catalog_url: str = "") -> Settings:
    # Every path pinned to the folder: a RECSYS_CATALOG_PATH in the environment must never point the
    # build at another catalog. Other settings (index type, ...) come from the environment as usual.
    if catalog_url:
        return Settings(data_dir=folder, catalog_url=catalog_url, index_dir=folder / "index")
    return Settings(data_dir=folder, catalog_path=folder / "catalog.sqlite3", index_dir=folder / "index")


def copy_catalog(source: Path, target: Path) -> None:
    # sqlite's backup API copies a consistent snapshot, WAL included, without writing to the source.
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    dst = sqlite3.connect(target)
    try:
        src.backup(dst)
    finally:
        dst.close()
        src.close()


def copy_of(originals: Sequence[Article], n: int) -> Article:
    """Synthetic article n: a copy of originals[n % len] under its own id, url and content hash."""
    original = originals[n % len(originals)]
    return replace(
        original,
        id=f"{SYNTHETIC_PREFIX}{n:07d}",
        url=None,
        title=f"{original.title or ''} [{n}]",
        related=(),
        status="published",
    )


def noisy_vectors(
    real_vectors: np.ndarray, numbers: Sequence[int], rng: np.random.Generator, noise: float
) -> np.ndarray:
    """Synthetic article n's vector: its original's real vector plus Gaussian noise, renormalised."""
    base = real_vectors[[n % len(real_vectors) for n in numbers]]
    return normalise(base + rng.normal(0, noise, size=base.shape).astype(np.float32))


def _add_copies(catalog: Catalog, originals: list[StoredArticle], numbers: range) -> list[str]:
    """Insert copy n of originals[n % len] for each n, in one transaction; returns their content hashes."""
    counts = UpsertCounts()
    hashes = []
    articles = [stored.article for stored in originals]
    with catalog.transaction() as conn:
        for n in numbers:
            clone = copy_of(articles, n)
            catalog.upsert(conn, clone, counts)
            hashes.append(clone.content_hash)
    return hashes


def _edit_copies(catalog: Catalog, numbers: list[int]) -> list[str]:
    """Give synthetic articles `numbers` a new title (so a new content hash); returns the new hashes."""
    ids = [f"{SYNTHETIC_PREFIX}{n:07d}" for n in numbers]
    stored = catalog.by_ids_or_urls(ids)
    counts = UpsertCounts()
    hashes = []
    with catalog.transaction() as conn:
        for article_id in ids:
            article = stored[article_id].article
            edited = replace(article, title=f"{article.title or ''} (edited)")
            catalog.upsert(conn, edited, counts)
            hashes.append(edited.content_hash)
    return hashes


def timed_build(folder: Path, model: str, dimension: int, catalog_url: str = "") -> dict[str, Any]:
    """Run the product's build on `folder` (its catalog: the folder's SQLite file, or `catalog_url`) in a
    process of its own; its time and peak RSS."""
    command = [sys.executable, "-m", "benchmarks.synthetic", "--build-only", str(folder)]
    command += ["--model", model, "--dimension", str(dimension), "--catalog-url", catalog_url]
    # the child imports this checkout's code, whatever the current folder
    root = str(Path(__file__).resolve().parent.parent)
    env = os.environ | {"PYTHONPATH": os.pathsep.join(filter(None, [root, os.environ.get("PYTHONPATH")]))}
    done = subprocess.run(command, capture_output=True, text=True, env=env)
    if done.returncode != 0:
        raise SystemExit(f"build of {folder} failed: {done.stderr.strip()[-2000:]}")
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def cpu_seconds(who: int) -> float:
    """User plus system CPU seconds of this process (RUSAGE_SELF) or of its waited-for children."""
    usage = resource.getrusage(who)
    return usage.ru_utime + usage.ru_stime


def _build_here(folder: Path, model: str, dimension: int, catalog_url: str) -> dict[str, Any]:
    from index.build import build_index

    settings = folder_settings(folder, catalog_url)
    root = Root(settings)
    catalog = root.catalog
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    cpu_before = cpu_seconds(resource.RUSAGE_SELF)
    started = time.perf_counter()
    build_index(settings, catalog, CachedVectorsOnly(model, dimension))
    seconds = time.perf_counter() - started
    cpu = cpu_seconds(resource.RUSAGE_SELF) - cpu_before
    store = root.store
    version = store.current_version()
    if version is None:
        raise SystemExit(f"the build of {folder} published no version")
    manifest = store.read_manifest(version).data
    return {
        "seconds": round(seconds, 2),
        # CPU time of the build's own process: unlike the wall time, barely moved by other work on the box
        "cpu_s": round(cpu, 2),
        "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "rss_before_build_mib": round(rss_before / 1024),
        "version": version,
        "articles": manifest.get("count"),
        "index": manifest.get("index"),
        "build": manifest.get("build"),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, help="a built data folder (the real corpus)")
    parser.add_argument("--size", type=int, help="articles in the synthetic folder")
    parser.add_argument("--seed", type=int, default=0)
    add_arguments(parser)
    # internal: one timed build in this process, its figures printed as one JSON line
    parser.add_argument("--build-only", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--model", help=argparse.SUPPRESS)
    parser.add_argument("--dimension", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--catalog-url", default="", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.build_only is not None:
        print(json.dumps(_build_here(args.build_only, args.model, args.dimension, args.catalog_url)))
        return
    if args.data_dir is None or args.size is None:
        parser.error("--data-dir and --size are required")
    _, record = folder_for(args.data_dir, str(args.size), args)
    print(json.dumps(record, indent=2))


if __name__ == "__main__":
    main()
