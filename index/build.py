"""catalog -> embeddings -> a new index version on disk, published atomically.

Unchanged articles are never embedded twice: vectors are cached in the catalog by
(model, text recipe, content hash), and identical texts (syndicated copies) are embedded once.
Each version also stores the content hash of every article it holds, so the next build can say what
it added, changed and removed since the version it replaces. Where the vectors are centered per
language (RECSYS_LANGUAGE_CENTERING), the version holds the means too, and the cache the raw vectors.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import os
import resource
import shutil
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import faiss
import numpy as np
from threadpoolctl import threadpool_limits
from tqdm import tqdm

from recsys.catalog.store import Catalog
from recsys.encoding.centering import Means, applies, center, language_code, language_means, stale
from recsys.encoding.encoders import MULTILINGUAL_MODELS
from recsys.encoding.protocol import Encoder
from recsys.encoding.recipe import TextRecipe
from recsys.errors import IndexError_, InvalidInput, ObjectStoreError
from recsys.root import Root
from recsys.serving.recommend import Recommender
from recsys.settings import Settings
from recsys.version import neighbours
from recsys.version.entities import Entities
from recsys.version.lexical import LEXICAL_FILE, LEXICAL_SCORES_FILE, TOKENS, LexicalIndex
from recsys.version.lists import FILES as LIST_FILES
from recsys.version.lists import Entry, FinalLists
from recsys.version.neighbours import (
    EVERY_FILE,
    EVERY_SCORES_FILE,
    NEIGHBOURS_FILE,
    SCORES_FILE,
    LanguageGroups,
)
from recsys.version.sections import SectionBlocks
from recsys.version.snapshot import PREFIX, KeyRows, Snapshot, epoch_of, stored_languages
from recsys.version.store import (
    CENTERING_FILE,
    IndexStore,
    LoadedIndex,
    Manifest,
    new_version_id,
    read_centering,
    rows_of,
)
from recsys.version.vectors import IDS_FILE, IndexSpec, VectorIndex, ivf_lists

log = logging.getLogger(__name__)
PUBLISHED_FILE = f"{PREFIX}published.npy"  # the snapshot's publication times

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


def compare_with_previous(
    store: IndexStore, ids: list[str], hashes: list[str], known: tuple[np.ndarray, np.ndarray] | None = None
) -> Changes:
    """What changed since the current version; `known` = its (ids, content hashes) when the build has
    them already (read and checked once)."""
    previous = store.current_version()
    old_ids: np.ndarray | None
    old_hashes: np.ndarray | None
    if known is not None:
        old_ids, old_hashes = known
    else:
        old_ids = store.read_array(previous, IDS_FILE) if previous else None
        old_hashes = store.read_array(previous, CONTENT_HASHES_FILE) if previous else None
    if previous is None or old_ids is None:
        return Changes(previous=None, added=len(ids), changed=None, removed=0)
    old = old_hashes.astype("U64").tolist() if old_hashes is not None else [""] * len(old_ids)
    before = dict(zip(old_ids.tolist(), old, strict=True))
    now = dict(zip(ids, hashes, strict=True))
    added = sum(1 for i in now if i not in before)
    removed = sum(1 for i in before if i not in now)
    changed = None if old_hashes is None else sum(1 for i, h in now.items() if i in before and before[i] != h)
    return Changes(previous=previous, added=added, changed=changed, removed=removed)


def index_spec(settings: Settings, count: int) -> IndexSpec:
    """The FAISS structure and parameters the settings ask for, with `auto` and IVF's automatic list
    count resolved so that the manifest records what was actually built."""
    kind = settings.index_type
    if kind == "auto":
        kind = "flat" if count <= settings.ann_threshold else "ivf"
    if kind == "hnsw":
        return IndexSpec(
            "hnsw",
            {
                "m": settings.hnsw_m,
                "ef_construction": settings.hnsw_ef_construction,
                "ef_search": settings.hnsw_ef_search,
            },
        )
    if kind == "ivf":
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
    lists_computed: int = 0
    # What the automatic backend choice picked on this CPU, and on what figures ("" when set by hand).
    encoder_choice: str = ""

    @property
    def articles_per_second(self) -> float:
        return self.articles / self.seconds if self.seconds > 0 else float("inf")

    def summary(self) -> str:
        return (
            f"published index version {self.version}: {self.articles} articles "
            f"({self.embedded} embedded, {self.reused} from cache) in {self.seconds:.1f}s "
            f"({self.articles_per_second:.1f} articles/s); {self.lists_computed} neighbour lists computed"
            + (f"; {self.changes.summary()}" if self.changes else "")
            + (f"\nencoder: {self.encoder_choice}" if self.encoder_choice else "")
        )


def embed_articles(
    catalog: Catalog,
    encoder: Encoder,
    recipe: TextRecipe,
    keys: np.ndarray,
    hashes: list[str],
    *,
    batch_size: int,
    progress: bool,
) -> tuple[np.ndarray, int]:
    """Vectors for the articles `keys` (with content `hashes`), in order, from the cache where
    possible; texts are read from the catalog only for what must be embedded. Returns (vectors,
    embedded)."""
    cached = catalog.cached_vectors(encoder.name, recipe.id, hashes)
    missing = [int(key) for key, h in zip(keys.tolist(), hashes, strict=True) if h not in cached]
    todo: dict[str, str] = {}
    for stored in catalog.by_keys(missing).values():
        if stored.content_hash not in cached and stored.content_hash not in todo:
            todo[stored.content_hash] = recipe.text(stored.article.title, stored.article.body)
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
    if any(h not in cached for h in hashes):
        raise InvalidInput("an article changed while the build read it; run the build again")
    dim = encoder.dimension
    matrix = np.empty((len(hashes), dim), dtype=np.float32)
    for row, h in enumerate(hashes):
        vector = cached[h]
        if vector.shape[0] != dim:
            raise InvalidInput(f"cached vectors have dimension {vector.shape[0]}, expected {dim}")
        matrix[row] = vector
    return matrix, len(todo)


@dataclass
class Previous:
    """The version a build replaces, when its vectors and lists can be reused."""

    version: str
    manifest: Manifest
    vectors: VectorIndex
    hashes: np.ndarray
    neighbour_keys: np.ndarray
    neighbour_scores: np.ndarray
    lexical_keys: np.ndarray | None = None
    lexical_scores: np.ndarray | None = None
    # Its final lists and publication times, when it has them: lists none of whose inputs changed
    # are carried over (`reusable_lists`).
    lists: FinalLists | None = None
    published: np.ndarray | None = None
    # The language means its vectors were centered with (None: not centered), and the language code
    # each of its rows was centered under (None when not centered).
    centering: Means | None = None
    codes: list[str] | None = None
    # Each of its rows' language tag, and whether its neighbour lists were computed per language.
    languages: list[str | None] | None = None
    by_language: bool = False
    # Its lists over every article, kept beside those per language (None: it has none).
    every: tuple[np.ndarray, np.ndarray] | None = None

    @property
    def neighbours(self) -> tuple[np.ndarray, np.ndarray]:
        return self.neighbour_keys, self.neighbour_scores


def _previous(store: IndexStore, encoder: Encoder, recipe: TextRecipe) -> Previous | None:
    """The current version, checked like a server checks it (checksums included), if it was made with
    this model and recipe; None (a full build) otherwise, or when it cannot be read."""
    version = store.current_version()
    if version is None:
        return None
    try:
        manifest, vectors, directory = store.load_vectors(
            version, expect_model=encoder.name, expect_dimension=encoder.dimension, expect_recipe=recipe.id
        )
        files = manifest.data["files"]
        if not all(name in files for name in (CONTENT_HASHES_FILE, NEIGHBOURS_FILE, SCORES_FILE)):
            return None
        # Checked against their checksums by load_vectors just now.
        names = [CONTENT_HASHES_FILE, NEIGHBOURS_FILE, SCORES_FILE]
        if LEXICAL_FILE in files and LEXICAL_SCORES_FILE in files:
            names += [LEXICAL_FILE, LEXICAL_SCORES_FILE]
        arrays = [np.load(directory / name, allow_pickle=False) for name in names]
        lists = published = None
        if "lists" in manifest.data and all(name in files for name in [*LIST_FILES, PUBLISHED_FILE]):
            lists = FinalLists.read(directory, manifest.data["lists"])
            published = np.load(directory / PUBLISHED_FILE, allow_pickle=False)
        centering = read_centering(manifest, directory)
        languages = stored_languages(directory, files, len(vectors))
        if len(languages) != len(vectors):
            raise ValueError(f"{len(languages)} languages for {len(vectors)} articles")
        codes = [language_code(tag) for tag in languages] if centering is not None else None
        every = None
        if EVERY_FILE in files and EVERY_SCORES_FILE in files:
            every = (
                np.load(directory / EVERY_FILE, allow_pickle=False),
                np.load(directory / EVERY_SCORES_FILE, allow_pickle=False),
            )
    except (IndexError_, OSError, ValueError, KeyError) as exc:
        log.info("full build: the current version cannot be reused (%s)", exc)
        return None
    lexical = arrays[3:5] if len(arrays) == 5 else [None, None]
    return Previous(
        version,
        manifest,
        vectors,
        arrays[0],
        arrays[1],
        arrays[2],
        lexical_keys=lexical[0],
        lexical_scores=lexical[1],
        lists=lists,
        published=published,
        centering=centering,
        codes=codes,
        languages=languages,
        every=every,
        by_language=bool(manifest.data.get("neighbours", {}).get("by_language", False)),
    )


def _neighbour_lists(
    index: VectorIndex,
    vectors: np.ndarray | None,
    keys: np.ndarray,
    k: int,
    kept: np.ndarray,
    previous: Previous | None,
    before: tuple[np.ndarray, np.ndarray] | None,
    groups: LanguageGroups | None,
    progress: bool,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every article's neighbour list (keys, scores) and the rows whose list was computed: the lists
    `before` (the previous version's, of the same kind) carried over where `kept`, the rest computed."""
    if previous is not None and before is not None:
        nkeys, nscores, todo = neighbours.carry_over(previous.vectors.keys, *before, keys, kept, k, groups)
        todo_rows = np.flatnonzero(todo)
        todo_vectors = vectors[todo_rows] if vectors is not None else index.vectors_of(keys[todo_rows])
        nkeys[todo_rows], nscores[todo_rows] = neighbours.compute(
            index, todo_vectors, keys[todo_rows], k, groups=groups, keys=keys, own_rows=todo_rows,
            progress=progress,
        )  # fmt: skip
        neighbours.insert(keys, nkeys, nscores, todo_rows)
        return nkeys, nscores, todo_rows
    todo_rows = np.arange(len(keys))
    every = vectors if vectors is not None else index.vectors_of(keys)
    nkeys, nscores = neighbours.compute(
        index, every, keys, k, groups=groups, keys=keys, own_rows=todo_rows, progress=progress
    )
    return nkeys, nscores, todo_rows


@dataclass(frozen=True)
class CenteringPlan:
    """What a build does about per-language centering (recsys/encoding/centering.py)."""

    wanted: bool  # this build's vectors are centered
    kept: Means | None  # the current version's means, which this incremental build keeps
    drift: float  # share of the articles changed since the kept means were estimated
    restart: str | None  # why the current version's vectors cannot be carried over (None: they can)


def centering_wanted(settings: Settings, model: str) -> bool:
    """Whether a build with these settings and this encoder (its identity) centers its vectors."""
    return applies(settings.language_centering, model, MULTILINGUAL_MODELS)


def plan_centering(
    settings: Settings, model: str, previous: Previous | None, codes: list[str], changes: Changes
) -> CenteringPlan:
    """Keep the current version's means while few articles changed since they were estimated: its
    vectors, IVF lists and neighbour lists are carried over only while they share one space with the
    new articles' (centered with those same means). Else the means are estimated again, from every
    article's raw vector (the embedding cache keeps them uncentered), and every vector is centered
    anew: a full build that embeds nothing twice."""
    wanted = centering_wanted(settings, model)
    before = previous.centering if previous is not None else None
    if previous is None or not wanted:
        restart = "its vectors are centered, this build's are not" if before is not None else None
        return CenteringPlan(wanted, None, 0.0, restart)
    if before is None:
        return CenteringPlan(True, None, 0.0, "its vectors are not centered, this build's are")
    meta = previous.manifest.data["centering"]  # present: read_centering found the means
    moved = (changes.added + (changes.changed or 0) + changes.removed) / max(1, len(codes))
    drift = float(meta.get("drift", 0.0)) + moved
    reason = stale(before, codes, drift)
    if reason is not None:
        return CenteringPlan(True, None, 0.0, reason)
    return CenteringPlan(True, before, drift, None)


def reusable_lists(
    previous: Previous,
    keys: np.ndarray,
    reuse: np.ndarray,
    published: np.ndarray,
    neighbour_keys: np.ndarray,
    lexical: LexicalBuild | None,
    limit: int,
    settings_digest: str,
    eligible: np.ndarray | None = None,
) -> tuple[Callable[[int], Entry | None], int] | None:
    """The previous version's final lists that this one would rank alike, and how many: those ranked
    under the same settings and limit whose article and every row they were ranked from (its
    neighbour and lexical lists) kept their text (content hash, so their vectors and headlines) and
    their time, with the same neighbour and lexical lists, and enough neighbours that the ranking
    never looked past them, among the `eligible` rows (None: all). Anything else is ranked again."""
    lists, before = previous.lists, previous.published
    if lists is None or before is None or lists.limit != limit or lists.settings_digest != settings_digest:
        return None
    at = KeyRows(previous.vectors.keys).rows(keys)
    was = np.maximum(at, 0)
    same_time = (before[was] == published) | (np.isnan(before[was]) & np.isnan(published))
    unchanged = reuse & (at >= 0) & same_time
    ok = unchanged & (lists.collapsed[was] >= 0)
    if eligible is not None:
        ok &= eligible
    rows = KeyRows(keys)

    def same_and_unchanged(new: np.ndarray, old: np.ndarray | None) -> np.ndarray:
        if old is None or old.shape[1] != new.shape[1]:
            return np.zeros(len(new), dtype=bool)
        same = (old[was] == new).all(axis=1)
        at_rows = rows.rows(new.ravel()).reshape(new.shape)
        inputs = np.where(new >= 0, unchanged[np.maximum(at_rows, 0)] & (at_rows >= 0), True).all(axis=1)
        return same & inputs

    ok &= same_and_unchanged(neighbour_keys, previous.neighbour_keys)
    # Enough neighbours besides the article itself: the ranking took its candidates from them alone.
    ok &= ((neighbour_keys >= 0) & (neighbour_keys != keys[:, None])).sum(axis=1) >= max(4 * limit, 40)
    if lexical is not None:
        ok &= same_and_unchanged(lexical.keys, previous.lexical_keys)
        if previous.lexical_scores is not None and previous.lexical_scores.shape == lexical.scores.shape:
            ok &= (previous.lexical_scores[was] == lexical.scores).all(axis=1)
        else:
            ok[:] = False
    elif previous.lexical_keys is not None:
        ok[:] = False

    def reused(row: int) -> Entry | None:
        return lists.entry(int(at[row])) if ok[row] else None

    return reused, int(ok.sum())


@dataclass(frozen=True)
class LexicalBuild:
    index: LexicalIndex
    keys: np.ndarray
    scores: np.ndarray
    computed: int  # lists computed in this build
    meta: dict[str, object]  # the manifest's "lexical" entry


def build_lexical(
    settings: Settings,
    catalog: Catalog,
    recipe: TextRecipe,
    keys: np.ndarray,
    reuse: np.ndarray,
    previous: Previous | None,
    changes: Changes,
    *,
    progress: bool,
) -> LexicalBuild | None:
    """The BM25 index of this version (always built afresh: its IDF and mean length are the whole
    corpus's) and every article's lexical matches.

    Lists of unchanged articles are carried over like the dense ones while the corpus has drifted
    little: each build adds its added + changed + removed count to a running total, and once that
    total passes `lexical_refresh` of the articles every list is recomputed (so carried-over
    normalised scores never rest on statistics more than that share out of date). New and changed
    articles get exact lists and are inserted into the lists of the articles they match, at their
    own score (BM25 is not symmetric: an approximation until the next full recomputation)."""
    k, terms = settings.lexical_neighbours, settings.lexical_query_terms
    if k == 0:
        return None
    if len(keys) > settings.lexical_max_articles:
        log.warning(
            "%d articles > RECSYS_LEXICAL_MAX_ARTICLES (%d): no lexical lists in this version, "
            "dense candidates only (docs/ranking-candidates.md)",
            len(keys),
            settings.lexical_max_articles,
        )
        return None
    index = LexicalIndex.build_tagged(_texts(catalog, recipe, keys))
    n = len(keys)
    meta_before = previous.manifest.data.get("lexical", {}) if previous is not None else {}
    drift = float(meta_before.get("drift", 0.0)) + (
        (changes.added + (changes.changed or 0) + changes.removed) / max(1, n)
    )
    carry = (
        previous is not None
        and previous.lexical_keys is not None
        and previous.lexical_scores is not None
        and meta_before.get("k") == k
        and meta_before.get("query_terms") == terms
        and meta_before.get("tokens") == TOKENS
        and drift <= settings.lexical_refresh
    )
    if carry:
        assert previous is not None and previous.lexical_keys is not None  # checked just above
        assert previous.lexical_scores is not None
        lkeys, lscores, todo = neighbours.carry_over(
            previous.vectors.keys, previous.lexical_keys, previous.lexical_scores, keys, reuse, k
        )
        todo_rows = np.flatnonzero(todo)
        rows, lscores[todo_rows] = index.lists(todo_rows, k, max_terms=terms, progress=progress)
        lkeys[todo_rows] = np.where(rows >= 0, keys[np.maximum(rows, 0)], -1).astype(np.int32)
        neighbours.insert(keys, lkeys, lscores, todo_rows)
    else:
        drift = 0.0
        todo_rows = np.arange(n)
        rows, lscores = index.lists(todo_rows, k, max_terms=terms, progress=progress)
        lkeys = np.where(rows >= 0, keys[np.maximum(rows, 0)], -1).astype(np.int32)
    meta: dict[str, object] = {
        "k": k,
        "query_terms": terms,
        "tokens": TOKENS,
        "drift": drift,
        "lists_computed": len(todo_rows),
    }
    return LexicalBuild(index, lkeys, lscores, len(todo_rows), meta)


# The clock final lists are ranked under: past every publication time, so that no article is held back
# as scheduled; each list records the latest time among its inputs (`not_before`).
_AFTER_EVERYTHING = datetime(9999, 1, 1, tzinfo=UTC)


def rank_final_lists(
    parts: Root, recommender: Recommender, known: Callable[[int], Entry | None] | None = None
) -> FinalLists:
    """Every article's default related list, ranked by `recommender`, the query side over the version
    being built (`_ranking_side`; recsys/version/lists.py); `known(row)` gives those an incremental
    build carries over (`reusable_lists`)."""
    limit = parts.settings.default_limit
    rank = lambda rows: recommender.final_lists(limit, known, rows)  # noqa: E731
    return _across_cores(parts, len(recommender.snapshot), rank, FinalLists.joined)


_Ranked = TypeVar("_Ranked", FinalLists, SectionBlocks)


def _across_cores(
    parts: Root, rows: int, rank: Callable[[range | None], _Ranked], join: Callable[[list[_Ranked]], _Ranked]
) -> _Ranked:
    """`rank(None)` (every row), or `rank` over slices of rows in forked processes, joined in order."""
    workers = min(parts.settings.final_lists_workers or len(os.sched_getaffinity(0)), rows // LISTS_SLICE)
    # A fork copies every thread's locks as they stand, held or not: only a build on the main thread
    # (`recsys build`) ranks across processes; one the service runs in a background thread
    # (service/builds.py) ranks in its own process, as before.
    if workers <= 1 or threading.current_thread() is not threading.main_thread():
        with _one_thread():
            return rank(None)
    # Each list is a few dozen small numpy calls: one core ranks ~1,000-1,200 a second, so the
    # version is ranked in slices by forked processes that read the version being built where the
    # parent holds it (copy-on-write: nothing is pickled but the slices' bounds and results).
    global _RANKING
    _RANKING = rank
    try:
        slices = [range(start, min(start + LISTS_SLICE, rows)) for start in range(0, rows, LISTS_SLICE)]
        with multiprocessing.get_context("fork").Pool(workers) as pool:
            return join(pool.map(_rank_slice, slices, chunksize=1))
    finally:
        _RANKING = None


# Rows per task of the parallel ranking: ~10 s of work, small results, even shares at the end.
LISTS_SLICE = 10_000
# What the forked ranking processes run over their slice; set only while they run.
_RANKING: Callable[[range], Any] | None = None


@contextlib.contextmanager
def _one_thread() -> Iterator[None]:
    # A list's matrices are a few dozen vectors: a multi-threaded BLAS only spins on them (one
    # thread ranks them 3-4x faster on the demo corpus, as the service runs).
    with threadpool_limits(limits=1, user_api="blas"):
        yield


def _rank_slice(rows: range) -> Any:
    assert _RANKING is not None  # set by rank_final_lists before the pool forks
    # A forked child must not enter OpenMP's thread pool, which belongs to the parent (GNU libgomp
    # hangs there); one thread runs no pool at all, and the processes are the parallelism.
    faiss.omp_set_num_threads(1)
    with _one_thread():
        return _RANKING(rows)


def rank_section_blocks(parts: Root, recommender: Recommender) -> SectionBlocks:
    """Every article's default section block beside its stored related list (recsys/version/sections.py),
    ranked by `recommender`, the query side over the version being built with its final lists
    (`_ranking_side`)."""
    limit = parts.settings.default_section_limit
    rank = lambda rows: recommender.final_sections(limit, rows)  # noqa: E731
    return _across_cores(parts, len(recommender.snapshot), rank, SectionBlocks.joined)


def _ranking_side(
    parts: Root,
    index: VectorIndex,
    snapshot: Snapshot,
    neighbour_keys: np.ndarray,
    lexical: LexicalBuild | None,
    manifest_fields: dict[str, object],
    centering: Means | None,
    entities: Entities | None,
    groups: LanguageGroups | None,
    lists: FinalLists | None = None,
) -> Recommender:
    """The query side over the version being built, under a clock past every publication time."""
    served = snapshot.prepare()
    loaded = LoadedIndex(
        manifest=Manifest(dict(manifest_fields)),
        vectors=index,
        path=Path("."),
        snapshot=served,
        neighbours=rows_of(served, neighbour_keys),
        lexical=lexical.index if lexical is not None else None,
        lexical_rows=rows_of(served, lexical.keys) if lexical is not None else None,
        lexical_scores=lexical.scores if lexical is not None else None,
        centering=centering,
        lists=lists.with_rows(served) if lists is not None else None,
        entities=entities,
        neighbour_groups=groups,
    )
    return parts.query_side.recommender(loaded, clock=lambda: _AFTER_EVERYTHING)


def _texts(
    catalog: Catalog, recipe: TextRecipe, keys: np.ndarray, chunk: int = 10_000
) -> Iterator[tuple[str, str | None]]:
    """The recipe text and language of each article of `keys`, in order, read from the catalog a
    chunk at a time."""
    for start in range(0, len(keys), chunk):
        part = [int(k) for k in keys[start : start + chunk].tolist()]
        stored = catalog.by_keys(part)
        for key in part:
            found = stored.get(key)  # deleted while the build ran: indexed as an empty text
            if found is None:
                yield "", None
            else:
                yield recipe.text(found.article.title, found.article.body), found.article.language


def _names_input(
    catalog: Catalog, keys: np.ndarray, chunk: int = 10_000
) -> Iterator[tuple[str | None, str | None, tuple[str, ...]]]:
    """The title, body and tags of each article of `keys`, in order, for its names
    (recsys/version/entities.py), read from the catalog a chunk at a time. Every build extracts them
    all afresh (a few seconds per 100k articles): their IDF is the whole version's."""
    for start in range(0, len(keys), chunk):
        part = [int(k) for k in keys[start : start + chunk].tolist()]
        stored = catalog.by_keys(part)
        for key in part:
            found = stored.get(key)  # deleted while the build ran: no names
            if found is None:
                yield None, None, ()
            else:
                yield found.article.title, found.article.body, tuple(found.article.tags or ())


def publish_remote(parts: Root, version: str) -> None:
    """Upload a version published here to the object store and make it current there (inside the
    build locks: two builds never interleave their CURRENT). The version stays published here
    whatever happens: a failure says so, and the next build publishes again."""
    remote = parts.remote
    assert remote is not None  # called only with RECSYS_VERSIONS_URL set
    try:
        remote.publish(parts.store, version)
    except ObjectStoreError as exc:
        raise ObjectStoreError(
            f"index version {version} is published in {parts.store.root} only: {exc}; "
            "replicas keep serving the version before it until a build publishes again"
        ) from exc
    try:
        removed = remote.prune(parts.settings.keep_versions)
    except ObjectStoreError as exc:  # published all the same: the next build prunes again
        log.warning("old index versions not removed: %s", exc)
        return
    if removed:
        log.info("removed old index versions from %s: %s", remote.url, ", ".join(removed))


@contextlib.contextmanager
def build_lock(store: IndexStore, catalog: Catalog) -> Iterator[None]:
    """The locks a build holds from start to publish: its host's, on the index folder (flock), then
    the catalog's, across every host that shares a PostgreSQL catalog. Both are released by the
    kernel or the server when the process dies, so a killed build leaves neither behind."""
    with store.build_lock(), catalog.build_lock():
        yield


def build_index(
    settings: Settings,
    catalog: Catalog,
    encoder: Encoder,
    *,
    progress: bool = False,
    full: bool = False,
    locked: bool = False,
) -> BuildReport:
    """Publish a new index version of every published article; the served version stays untouched
    until the new one is complete on disk.

    Incremental unless `full` (or nothing can be reused): vectors of unchanged articles come from the
    current version, an IVF index keeps its trained lists, and only the neighbour lists of new and
    changed articles are computed (recsys/version/neighbours.py). `locked`: the caller holds the build locks
    (`build_lock`) already (the service takes it before it accepts a build, service/builds.py)."""
    parts = Root(settings, encoder=encoder, catalog=catalog)
    store, recipe = parts.store, parts.recipe
    k = settings.neighbours
    with contextlib.nullcontext() if locked else build_lock(store, catalog):
        started = time.perf_counter()
        generation, rows = catalog.published_snapshot()
        if not rows:
            raise InvalidInput("the catalog has no published articles to index; import some with --input")
        if rows[-1]["key"] >= 2**31:
            raise InvalidInput("article keys beyond 2^31 are not supported by the neighbour lists")
        log.info("building an index of %d published articles with %s", len(rows), encoder.name)
        keys = np.array([r["key"] for r in rows], dtype=np.int64)
        ids = [r["id"] for r in rows]
        hashes = [r["content_hash"] for r in rows]
        spec = index_spec(settings, len(rows))
        previous = None if full else _previous(store, encoder, recipe)
        known = (previous.vectors.article_ids, previous.hashes) if previous is not None else None
        changes = compare_with_previous(store, ids, hashes, known)
        codes = [language_code(r["language"]) for r in rows]
        centering = plan_centering(settings, encoder.name, previous, codes, changes)
        if centering.restart is not None and previous is not None:
            log.info("full build: the current version's vectors are not reused (%s)", centering.restart)
            previous = None

        # Vectors: unchanged articles keep theirs (in the version being replaced), the rest come from
        # the cache or the encoder.
        reuse = np.zeros(len(rows), dtype=bool)
        if previous is not None:
            at = KeyRows(previous.vectors.keys).rows(keys)
            old_hashes = previous.hashes[np.maximum(at, 0)]
            reuse = (at >= 0) & (old_hashes == np.array(hashes, dtype=old_hashes.dtype))
            if previous.codes is not None:
                # A centered vector depends on the article's language, which its content hash leaves
                # out: one whose language changed is centered again (from the cache, not embedded).
                old_codes = np.array(previous.codes, dtype=object)[np.maximum(at, 0)]
                reuse &= old_codes == np.array(codes, dtype=object)
        fresh = np.flatnonzero(~reuse)
        fresh_vectors, embedded = embed_articles(
            catalog,
            encoder,
            recipe,
            keys[fresh],
            [hashes[i] for i in fresh],
            batch_size=settings.batch_size,
            progress=progress,
        )
        embed_seconds = time.perf_counter() - started
        means = centering.kept
        if centering.wanted and means is None:
            # Estimated from the raw vectors of every article (no previous: all of them are fresh).
            means = language_means(fresh_vectors, codes)
            log.info(
                "language means estimated from %d articles: %s",
                len(rows),
                ", ".join(f"{c} {n}" for c, n in zip(means.languages, means.counts, strict=True)) or "none",
            )
        if means is not None:
            fresh_vectors = center(fresh_vectors, [codes[i] for i in fresh], means)
        id_array = np.array(ids, dtype=np.str_)
        same_ivf = (
            previous is not None
            and spec.kind == "ivf"
            and previous.vectors.kind == "ivf"
            and previous.manifest.index_spec.get("params", {}).get("nlist") == spec.params["nlist"]
        )
        vectors: np.ndarray | None = None
        if previous is not None and same_ivf:
            # The trained IVF index of the previous version, minus what left or changed, plus what
            # is new: no training, no reassignment, and no need to read every vector back.
            old = previous.vectors
            kept = np.isin(old.keys, keys[reuse])
            index = old.replaced(old.keys[~kept], keys[fresh], fresh_vectors, keys, id_array)
        else:
            vectors = np.empty((len(rows), encoder.dimension), dtype=np.float32)
            if previous is not None:
                vectors[reuse] = previous.vectors.vectors_of(keys[reuse])
            vectors[fresh] = fresh_vectors
            index = VectorIndex.build(keys, id_array, vectors, spec)
        index.set_search_params(spec.params)

        tags = [r["language"] for r in rows]
        groups = LanguageGroups.of(tags)
        # Lists and final lists are carried over only for articles whose language stayed the same (it
        # is not in the content hash): it decides which articles a list may hold.
        kept = reuse.copy()
        if previous is not None:
            if previous.by_language != (groups is not None) or previous.languages is None:
                kept[:] = False
            else:
                old_tags = np.array(previous.languages, dtype=object)[np.maximum(at, 0)]
                kept &= old_tags == np.array(tags, dtype=object)
        same_mode = previous is not None and previous.by_language == (groups is not None)
        before = previous.neighbours if previous is not None and same_mode else None
        nkeys, nscores, todo_rows = _neighbour_lists(
            index, vectors, keys, k, kept, previous, before, groups, progress
        )
        every = None
        if groups is not None:
            # Requests for other languages too (cross_language, a language filter) keep lists over
            # every article: the previous version's, per language or not.
            before = (
                None if previous is None else previous.every if previous.by_language else previous.neighbours
            )
            every = _neighbour_lists(index, vectors, keys, k, reuse, previous, before, None, progress)[:2]
        del vectors
        lexical = build_lexical(settings, catalog, recipe, keys, reuse, previous, changes, progress=progress)
        entities = Entities.build(_names_input(catalog, keys))
        carry, carried = None, 0
        with_lists = len(rows) <= settings.final_lists_max_articles
        if previous is not None and with_lists:
            published = np.array([epoch_of(r["published_at"]) for r in rows], dtype=np.float64)
            digest = parts.query_side.settings_digest
            # With names on, a dated article's list may hang on every article's names IDF, which
            # each build changes (and on its own tags, which the content hash leaves out): only an
            # undated one's, where names never count, can be carried over (same_time in
            # reusable_lists makes it undated in both versions).
            names_on = parts.query_side.policy.entity_weight > 0.0
            eligible = np.isnan(published) if names_on else np.ones(len(rows), dtype=bool)
            found = reusable_lists(
                previous, keys, kept, published, nkeys, lexical, settings.default_limit, digest, eligible
            )
            if found is not None:
                carry, carried = found
        del previous
        snapshot = Snapshot.from_rows(rows, generation)

        version = new_version_id()
        lists_started = time.perf_counter()
        peak_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        lists, lists_seconds = None, 0.0
        sections, sections_seconds = None, 0.0
        if with_lists:
            fields: dict[str, object] = {"version": version, "lexical": lexical.meta if lexical else {}}
            side = (parts, index, snapshot, nkeys, lexical, fields, means, entities, groups)
            lists = rank_final_lists(parts, _ranking_side(*side), carry)
            lists_seconds = time.perf_counter() - lists_started
            sections_started = time.perf_counter()
            sections = rank_section_blocks(parts, _ranking_side(*side, lists))
            sections_seconds = time.perf_counter() - sections_started
            log.info(
                "section blocks: %d of %d articles in %.1f s",
                sections.blocks.stored,
                len(rows),
                sections_seconds,
            )
            log.info(
                "final lists: %d of %d articles (%d carried over) in %.1f s; peak RSS %d MiB before them",
                lists.stored,
                len(rows),
                carried,
                lists_seconds,
                peak_before // 1024,
            )
        else:
            log.warning(
                "%d articles > RECSYS_FINAL_LISTS_MAX_ARTICLES (%d): no final lists in this version, "
                "every request is ranked",
                len(rows),
                settings.final_lists_max_articles,
            )
        staging = store.staging_dir(version)
        try:
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
                    "catalog_generation": generation,
                    "neighbours": {"k": k, **({"by_language": True} if groups is not None else {})},
                    **({"lexical": lexical.meta} if lexical is not None else {}),
                    "entities": entities.meta(),
                    **(
                        {
                            "centering": {
                                "mode": settings.language_centering,
                                **means.meta(),
                                "drift": centering.drift,
                            }
                        }
                        if means is not None
                        else {}
                    ),
                    **(
                        {"lists": {**lists.meta(), "carried_over": carried, "seconds": lists_seconds}}
                        if lists is not None
                        else {}
                    ),
                    **(
                        {"sections": {**sections.meta(), "seconds": sections_seconds}}
                        if sections is not None
                        else {}
                    ),
                    "build": {
                        "embedded": embedded,
                        "reused": len(rows) - embedded,
                        "incremental": bool(reuse.any()),
                        "lists_computed": len(todo_rows),
                        "seconds": seconds,
                        "previous": changes.previous,
                        "added": changes.added,
                        "changed": changes.changed,
                        "removed": changes.removed,
                    },
                },
                extra_arrays={
                    # ASCII hex: a quarter of the bytes of numpy's UCS-4 strings (256 MB at 1M articles)
                    CONTENT_HASHES_FILE: np.array(hashes, dtype="S64"),
                    **(lists.arrays() if lists is not None else {}),
                    **(sections.arrays() if sections is not None else {}),
                    **({CENTERING_FILE: means.matrix()} if means is not None else {}),
                    NEIGHBOURS_FILE: nkeys,
                    SCORES_FILE: nscores,
                    **({EVERY_FILE: every[0], EVERY_SCORES_FILE: every[1]} if every is not None else {}),
                    **snapshot.arrays(),
                    **entities.arrays(),
                    **(
                        {
                            LEXICAL_FILE: lexical.keys,
                            LEXICAL_SCORES_FILE: lexical.scores,
                            **lexical.index.arrays(),
                        }
                        if lexical is not None
                        else {}
                    ),
                },
            )
            store.publish(staging, version)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        removed = store.prune(settings.keep_versions)
        if removed:
            log.info("removed old index versions: %s", ", ".join(removed))
        if parts.remote is not None:
            publish_remote(parts, version)
    report = BuildReport(
        version=version,
        articles=len(rows),
        embedded=embedded,
        reused=len(rows) - embedded,
        seconds=time.perf_counter() - started,
        embed_seconds=embed_seconds,
        manifest=manifest,
        changes=changes,
        lists_computed=len(todo_rows),
        encoder_choice=str(getattr(encoder, "choice", "")),
    )
    log.info("%s", report.summary())
    return report
