"""catalog -> embeddings -> a new index version on disk, published atomically.

Unchanged articles are never embedded twice: vectors are cached in the catalog by
(model, text recipe, content hash), and identical texts (syndicated copies) are embedded once.
Each version also stores the content hash of every article it holds, so the next build can say what
it added, changed and removed since the version it replaces.
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
from recsys.vectors import IDS_FILE, IndexSpec, VectorIndex, ivf_lists

log = logging.getLogger(__name__)

CONTENT_HASHES_FILE = "content_hashes.npy"


@dataclass(frozen=True)
class Changes:
    """What a build changes compared with the version it replaces (None: no earlier version)."""

    previous: str | None
    added: int
    changed: int | None  # None when the earlier version predates stored content hashes
    removed: int

    def summary(self) -> str:
        if self.previous is None:
            return "first version"
        changed = "?" if self.changed is None else str(self.changed)
        return f"since {self.previous}: {self.added} added, {changed} changed, {self.removed} removed"


def compare_with_previous(store: IndexStore, ids: list[str], hashes: list[str]) -> Changes:
    previous = store.current_version()
    old_ids = store.read_array(previous, IDS_FILE) if previous else None
    if previous is None or old_ids is None:
        return Changes(previous=None, added=len(ids), changed=None, removed=0)
    old_hashes = store.read_array(previous, CONTENT_HASHES_FILE)
    before = dict(
        zip(
            old_ids.tolist(),
            old_hashes.tolist() if old_hashes is not None else [""] * len(old_ids),
            strict=True,
        )
    )
    now = dict(zip(ids, hashes, strict=True))
    added = sum(1 for i in now if i not in before)
    removed = sum(1 for i in before if i not in now)
    changed = None if old_hashes is None else sum(1 for i, h in now.items() if i in before and before[i] != h)
    return Changes(previous=previous, added=added, changed=changed, removed=removed)


def index_spec(settings: Settings, count: int) -> IndexSpec:
    """The FAISS structure and parameters the settings ask for, with IVF's automatic list count resolved
    so that the manifest records what was actually built."""
    if settings.index_type == "hnsw":
        return IndexSpec(
            "hnsw",
            {
                "m": settings.hnsw_m,
                "ef_construction": settings.hnsw_ef_construction,
                "ef_search": settings.hnsw_ef_search,
            },
        )
    if settings.index_type == "ivf":
        nlist = ivf_lists(count, settings.ivf_nlist)
        return IndexSpec("ivf", {"nlist": nlist, "nprobe": settings.ivf_nprobe})
    return IndexSpec("flat")


@dataclass(frozen=True)
class BuildReport:
    version: str
    articles: int
    embedded: int
    reused: int
    seconds: float
    embed_seconds: float
    manifest: Manifest
    changes: Changes | None = None

    @property
    def articles_per_second(self) -> float:
        return self.articles / self.seconds if self.seconds > 0 else float("inf")

    def summary(self) -> str:
        return (
            f"published index version {self.version}: {self.articles} articles "
            f"({self.embedded} embedded, {self.reused} from cache) in {self.seconds:.1f}s "
            f"({self.articles_per_second:.1f} articles/s)"
            + (f"; {self.changes.summary()}" if self.changes else "")
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
        spec = index_spec(settings, len(entries))
        ids = [e.id for e in entries]
        hashes = [e.content_hash for e in entries]
        changes = compare_with_previous(store, ids, hashes)
        version = new_version_id()
        staging = store.staging_dir(version)
        try:
            index = VectorIndex.build(
                np.array([e.key for e in entries], dtype=np.int64),
                np.array(ids, dtype=np.str_),
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
                    "build": {
                        "embedded": embedded,
                        "reused": len(entries) - embedded,
                        "seconds": seconds,
                        "previous": changes.previous,
                        "added": changes.added,
                        "changed": changes.changed,
                        "removed": changes.removed,
                    },
                },
                extra_arrays={CONTENT_HASHES_FILE: np.array(hashes, dtype=np.str_)},
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
        changes=changes,
    )
    log.info("%s", report.summary())
    return report
