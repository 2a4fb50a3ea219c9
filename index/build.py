"""catalog -> embeddings -> a new index version on disk, published atomically.

Unchanged articles are never embedded twice: vectors are cached in the catalog by
(model, text recipe, content hash), and identical texts (syndicated copies) are embedded once.
"""

from __future__ import annotations

import logging
import shutil
import time
from dataclasses import dataclass

import numpy as np
from tqdm import tqdm

from recsys.catalog import Catalog, StoredArticle
from recsys.embed import Encoder, TextRecipe
from recsys.errors import InvalidInput
from recsys.settings import Settings
from recsys.store import IndexStore, Manifest, new_version_id
from recsys.vectors import IndexSpec, VectorIndex

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class BuildReport:
    version: str
    articles: int
    embedded: int
    reused: int
    seconds: float
    embed_seconds: float
    manifest: Manifest

    @property
    def articles_per_second(self) -> float:
        return self.articles / self.seconds if self.seconds > 0 else float("inf")

    def summary(self) -> str:
        return (
            f"published index version {self.version}: {self.articles} articles "
            f"({self.embedded} embedded, {self.reused} from cache) in {self.seconds:.1f}s "
            f"({self.articles_per_second:.1f} articles/s)"
        )


def embed_articles(
    catalog: Catalog,
    encoder: Encoder,
    recipe: TextRecipe,
    entries: list[StoredArticle],
    *,
    batch_size: int,
    progress: bool,
) -> tuple[np.ndarray, int]:
    """Vectors for `entries`, in order, from the cache where possible. Returns (vectors, embedded)."""
    hashes = [entry.content_hash for entry in entries]
    cached = catalog.cached_vectors(encoder.name, recipe.id, hashes)
    todo: dict[str, str] = {}
    for entry in entries:
        if entry.content_hash not in cached and entry.content_hash not in todo:
            todo[entry.content_hash] = recipe.text(entry.article.title, entry.article.body)
    if todo:
        pending = list(todo.items())
        # Store each chunk as soon as it is embedded: an interrupted build keeps its progress.
        chunk = max(batch_size * 8, 256)
        with tqdm(total=len(pending), desc="embed", unit=" art", disable=not progress) as bar:
            for start in range(0, len(pending), chunk):
                part = pending[start : start + chunk]
                vectors = encoder.encode([text for _, text in part], batch_size=batch_size)
                fresh = list(zip((h for h, _ in part), vectors, strict=True))
                catalog.store_vectors(encoder.name, recipe.id, fresh)
                cached.update(fresh)
                bar.update(len(part))
    matrix = np.vstack([cached[h] for h in hashes]).astype(np.float32, copy=False)
    return matrix, len(todo)


def build_index(
    settings: Settings, catalog: Catalog, encoder: Encoder, *, progress: bool = False
) -> BuildReport:
    """Embed every published article and publish a new index version; the served version stays
    untouched until the new one is complete on disk."""
    store = IndexStore(settings.index_root)
    recipe = TextRecipe(max_words=settings.recipe_max_words)
    spec = IndexSpec(kind=settings.index_type)
    with store.build_lock():
        started = time.perf_counter()
        entries = list(catalog.iter_all(status="published"))
        if not entries:
            raise InvalidInput("the catalog has no published articles to index; import some with --input")
        log.info("building an index of %d published articles with %s", len(entries), encoder.name)
        vectors, embedded = embed_articles(
            catalog, encoder, recipe, entries, batch_size=settings.batch_size, progress=progress
        )
        embed_seconds = time.perf_counter() - started
        if vectors.shape[1] != encoder.dimension:
            raise InvalidInput(
                f"cached vectors have dimension {vectors.shape[1]}, expected {encoder.dimension}"
            )
        version = new_version_id()
        staging = store.staging_dir(version)
        try:
            index = VectorIndex.build(
                np.array([e.key for e in entries], dtype=np.int64),
                np.array([e.id for e in entries], dtype=np.str_),
                vectors,
                spec,
            )
            seconds = time.perf_counter() - started
            manifest = store.write_version(
                staging,
                index,
                {
                    "version": version,
                    "model": encoder.name,
                    "recipe": recipe.id,
                    "index": spec.as_dict(),
                    "built_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                    "build": {"embedded": embedded, "reused": len(entries) - embedded, "seconds": seconds},
                },
            )
            store.publish(staging, version)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        removed = store.prune(settings.keep_versions)
        if removed:
            log.info("removed old index versions: %s", ", ".join(removed))
    report = BuildReport(
        version=version,
        articles=len(entries),
        embedded=embedded,
        reused=len(entries) - embedded,
        seconds=time.perf_counter() - started,
        embed_seconds=embed_seconds,
        manifest=manifest,
    )
    log.info("%s", report.summary())
    return report
