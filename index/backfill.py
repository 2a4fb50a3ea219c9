"""Archive backfill: `recsys embed` (local engine) and `recsys build --embeddings-from` imports.

`recsys embed` turns article files into a vector folder (recsys/version/vectorfiles.py)
without a catalog, on this machine or as a Ray Data job (index/ray_embed.py), and
`recsys build --embeddings-from` imports such a folder, or another catalog's cache, into the catalog's
embedding cache so the build embeds only what is missing.

Input: one article file or a folder of them (shards), read and validated as `recsys ingest` reads them.
Each input shard becomes one output shard holding the vectors of the texts not seen before in the run:
identical articles (equal content hash, so equal recipe text) are embedded once. A run that stops keeps
the shards it finished; running it again skips every shard whose input is unchanged (name, size,
SHA-256) and whose files still match their checksums.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import numpy as np
from tqdm import tqdm

from recsys.articles import Article, read_articles
from recsys.catalog.store import Catalog
from recsys.encoding.protocol import Encoder
from recsys.encoding.recipe import TextRecipe
from recsys.errors import InvalidArticle, InvalidInput
from recsys.version.vectorfiles import (
    HASHES_SUFFIX,
    SHARDS,
    VECTORS_SUFFIX,
    Identity,
    Shard,
    VectorFolder,
    VectorManifest,
    sha256_file,
)

log = logging.getLogger(__name__)

INPUT_SUFFIXES = (".jsonl", ".ndjson", ".json", ".csv")
MAX_REPORTED_ERRORS = 20
Say = Callable[[str], None]


def identity_of(encoder: Encoder, recipe: TextRecipe) -> Identity:
    """The embedding cache's key for vectors this encoder makes from this recipe's texts."""
    return Identity(encoder.name, recipe.id, encoder.dimension)


# -- input -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class InputShard:
    path: Path
    name: str  # the output shard's name: the file name without its type suffixes


def _shard_name(path: Path) -> str:
    name = path.name
    for suffix in (".gz", *INPUT_SUFFIXES):
        if name.lower().endswith(suffix):
            name = name[: -len(suffix)]
    return name


def _is_article_file(path: Path) -> bool:
    name = path.name.lower().removesuffix(".gz")
    return path.is_file() and not path.name.startswith(".") and name.endswith(INPUT_SUFFIXES)


def input_shards(source: Path) -> list[InputShard]:
    """The article files of `source` (a file, or a folder of them, not recursed), by name."""
    if source.is_file():
        paths = [source]
    elif source.is_dir():
        paths = sorted(p for p in source.iterdir() if _is_article_file(p))
        if not paths:
            raise InvalidInput(f"{source}: no article files (.jsonl, .ndjson, .csv, optionally .gz) in it")
    else:
        raise InvalidInput(f"{source}: no such file or folder")
    shards = [InputShard(path, _shard_name(path)) for path in paths]
    names: dict[str, Path] = {}
    for shard in shards:
        if shard.name in names:
            raise InvalidInput(f"{names[shard.name].name} and {shard.path.name} would write the same shard")
        names[shard.name] = shard.path
    return shards


def describe_source(path: Path) -> dict[str, object]:
    return {"name": path.name, "bytes": path.stat().st_size, "sha256": sha256_file(path)}


@dataclass
class PreparedShard:
    """An input shard read and validated: the new texts to embed, in order, with their content hashes."""

    shard: InputShard
    source: dict[str, object]
    hashes: list[str] = field(default_factory=list)
    texts: list[str] = field(default_factory=list)
    records: int = 0
    skipped: int = 0
    duplicates: int = 0
    errors: list[str] = field(default_factory=list)

    @property
    def counts(self) -> dict[str, int]:
        return {
            "records": self.records,
            "articles": self.records - self.skipped,
            "skipped": self.skipped,
            "duplicates": self.duplicates,
        }


def prepare_shard(
    shard: InputShard, recipe: TextRecipe, seen: set[str], *, strict: bool, source: dict[str, object]
) -> PreparedShard:
    """Read one input shard; texts whose content hash is in `seen` are counted as duplicates, the
    others are added to it."""
    prepared = PreparedShard(shard, source)
    for _, result in read_articles(shard.path):
        prepared.records += 1
        if isinstance(result, InvalidArticle):
            if strict:
                raise result
            prepared.skipped += 1
            if len(prepared.errors) < MAX_REPORTED_ERRORS:
                prepared.errors.append(str(result))
            continue
        article: Article = result
        content_hash = article.content_hash
        if content_hash in seen:
            prepared.duplicates += 1
            continue
        seen.add(content_hash)
        prepared.hashes.append(content_hash)
        prepared.texts.append(recipe.text(article.title, article.body))
    if prepared.records == 0:
        raise InvalidInput(f"{shard.path}: no records found")
    return prepared


# -- engines -----------------------------------------------------------------------------------------

ShardDone = Callable[[PreparedShard, np.ndarray], None]


class Engine(Protocol):
    """Embeds prepared shards and hands each one's vectors (in its row order) to `done`, as soon as the
    shard is complete; `bar` counts embedded texts."""

    def run(self, shards: Iterator[PreparedShard], done: ShardDone, bar: tqdm) -> None: ...


class LocalEngine:
    """The encoder in this process, one shard after the other."""

    def __init__(self, encoder: Encoder, batch_size: int) -> None:
        self.encoder = encoder
        self.batch_size = batch_size

    def run(self, shards: Iterator[PreparedShard], done: ShardDone, bar: tqdm) -> None:
        # Chunks of a few batches: the bar moves and memory stays bounded by the shard's vectors.
        chunk = max(self.batch_size * 8, 256)
        for prepared in shards:
            vectors = np.empty((len(prepared.texts), self.encoder.dimension), dtype=np.float32)
            for start in range(0, len(prepared.texts), chunk):
                part = prepared.texts[start : start + chunk]
                vectors[start : start + len(part)] = self.encoder.encode(part, batch_size=self.batch_size)
                bar.update(len(part))
            done(prepared, vectors)


# -- the job ----------------------------------------------------------------------------------------


@dataclass
class EmbedReport:
    output: Path
    engine: str
    shards: int = 0
    resumed: int = 0
    records: int = 0
    skipped: int = 0
    duplicates: int = 0
    embedded: int = 0
    seconds: float = 0.0
    errors: list[str] = field(default_factory=list)

    @property
    def articles_per_second(self) -> float:
        """Valid articles of the shards processed in this run, per second of the run."""
        return (self.records - self.skipped) / self.seconds if self.seconds > 0 else float("inf")

    def summary(self) -> str:
        resumed = f" ({self.resumed} already done, skipped)" if self.resumed else ""
        return (
            f"wrote {self.output}: {self.shards} shard(s){resumed}; this run read {self.records} records, "
            f"embedded {self.embedded} texts ({self.duplicates} duplicates, {self.skipped} skipped) "
            f"in {self.seconds:.1f}s ({self.articles_per_second:.1f} articles/s, engine {self.engine})"
        )


def _reusable(
    folder: VectorFolder, manifest: VectorManifest | None, shard: InputShard, source: dict
) -> Shard | None:
    """The shard as an earlier run wrote it, if its input is unchanged and its files are intact."""
    done = manifest.shard(shard.name) if manifest is not None else None
    if done is None or done.source != source:
        return None
    for file_name, digest in done.files.items():
        path = folder.root / SHARDS / file_name
        if not path.is_file() or sha256_file(path) != digest:
            return None
    return done


def _open_output(folder: VectorFolder, identity: Identity) -> VectorManifest | None:
    """The manifest of an earlier run into the same folder (to resume), None for a new folder;
    refuses a folder that holds something else."""
    root = folder.root
    if root.exists() and not root.is_dir():
        raise InvalidInput(f"{root} is a file; --output must be a folder")
    if not folder.manifest_path.exists():
        if root.is_dir() and any(root.iterdir()):
            raise InvalidInput(
                f"{root} is not empty and holds no vector folder; choose an empty or new --output"
            )
        return None
    manifest = folder.read()
    if manifest.identity != identity:
        raise InvalidInput(
            f"{root} holds vectors of {manifest.identity.describe()}, this run makes {identity.describe()}: "
            "choose another --output"
        )
    return manifest


def embed_files(
    source: Path,
    output: Path,
    identity: Identity,
    recipe: TextRecipe,
    engine: Engine,
    *,
    engine_name: str,
    strict: bool = False,
    progress: bool = False,
    say: Say = log.info,
) -> EmbedReport:
    """Write the vectors of every article in `source` to the vector folder `output`."""
    started = time.perf_counter()
    shards = input_shards(source)
    folder = VectorFolder(output)
    previous = _open_output(folder, identity)
    report = EmbedReport(output=output, engine=engine_name, shards=len(shards))
    written: dict[str, Shard] = {}
    extra = {"input": str(source.resolve()), "engine": engine_name}
    seen: set[str] = set()
    todo: list[tuple[InputShard, dict]] = []
    for shard in shards:
        described = describe_source(shard.path)
        kept = _reusable(folder, previous, shard, described)
        if kept is None:
            todo.append((shard, described))
            continue
        written[shard.name] = kept
        report.resumed += 1
        hashes = np.load(folder.root / SHARDS / (shard.name + HASHES_SUFFIX), allow_pickle=False)
        seen.update(hashes.astype("U64").tolist())
    # What an earlier run wrote for inputs that are gone or changed is not part of this folder any more.
    _drop_stale(folder, previous, keep=set(written))

    def prepared() -> Iterator[PreparedShard]:
        for shard, described in todo:
            ready = prepare_shard(shard, recipe, seen, strict=strict, source=described)
            report.records += ready.records
            report.skipped += ready.skipped
            report.duplicates += ready.duplicates
            for line in ready.errors:
                say(f"  skipped: {line}")
            report.errors.extend(ready.errors)
            bar.total = (bar.total or 0) + len(ready.texts)
            bar.refresh()
            yield ready

    def done(ready: PreparedShard, vectors: np.ndarray) -> None:
        shard = ready.shard
        written[shard.name] = folder.write_shard(
            shard.name, ready.hashes, vectors, source=ready.source, counts=ready.counts
        )
        report.embedded += len(ready.hashes)
        # Manifest after every shard: what is written survives an interrupted run.
        folder.write_manifest(identity, _in_order(shards, written), complete=False, extra=extra)

    with tqdm(total=0, desc="embed", unit=" art", disable=not progress) as bar:
        engine.run(prepared(), done, bar)
    folder.write_manifest(identity, _in_order(shards, written), complete=True, extra=extra)
    report.seconds = time.perf_counter() - started
    return report


def _in_order(shards: list[InputShard], written: dict[str, Shard]) -> list[Shard]:
    return [written[s.name] for s in shards if s.name in written]


def _drop_stale(folder: VectorFolder, manifest: VectorManifest | None, keep: set[str]) -> None:
    if manifest is None:
        return
    for name in set(manifest.shards) - keep:
        for suffix in (HASHES_SUFFIX, VECTORS_SUFFIX):
            (folder.root / SHARDS / (name + suffix)).unlink(missing_ok=True)


# -- import into a catalog -------------------------------------------------------------------------


@dataclass(frozen=True)
class ImportResult:
    source: Path
    rows: int  # vectors of this identity in the source
    added: int  # new to the catalog's cache

    def summary(self) -> str:
        return (
            f"{self.source}: {self.rows} vectors of this model and recipe, "
            f"{self.added} new to the embedding cache"
        )


def _rerun_hint(manifest: VectorManifest) -> str:
    made_from = manifest.data.get("input", "ARTICLES")
    return f"recsys embed --input {made_from} --output NEW_FOLDER"


def import_vectors(catalog: Catalog, source: Path, identity: Identity) -> ImportResult:
    """Load a vector folder (or another catalog's cache, for a file) into `catalog`'s embedding cache,
    after checking that it holds vectors of `identity`. A vector folder goes in in one transaction:
    a corrupt or truncated shard leaves the cache as it was."""
    if source.is_file():
        return _import_catalog(catalog, source, identity)
    folder = VectorFolder(source)
    manifest = folder.read()
    if manifest.identity != identity:
        raise InvalidInput(
            f"{source} holds vectors of {manifest.identity.describe()}, but this build uses "
            f"{identity.describe()}: run `{_rerun_hint(manifest)}` with this build's settings "
            "(RECSYS_MODEL, the encoder backend, RECSYS_RECIPE_MAX_WORDS), or build with theirs"
        )
    if not manifest.complete:
        raise InvalidInput(
            f"{source} is an unfinished `recsys embed` run ({len(manifest.shards)} shard(s) written): "
            f"run it again to finish (`{_rerun_hint(manifest).replace('NEW_FOLDER', str(source))}`)"
        )

    def chunks() -> Iterable[list[tuple[str, np.ndarray]]]:
        for _, hashes, vectors in folder.shards(manifest):
            yield list(zip(hashes, vectors, strict=True))

    added = catalog.add_vectors(identity.model, identity.recipe, chunks())
    return ImportResult(source, manifest.rows, added)


def _import_catalog(catalog: Catalog, source: Path, identity: Identity) -> ImportResult:
    found = Catalog.cache_identities(source)
    rows = found.get((identity.model, identity.recipe, identity.dimension), 0)
    if rows == 0:
        held = "; ".join(f"{Identity(*key).describe()}: {n}" for key, n in found.items()) or "no vectors"
        raise InvalidInput(
            f"{source} holds no cached vectors of {identity.describe()} (it holds {held}): "
            "build with the settings those vectors were made with, or embed the archive with "
            "`recsys embed` using this build's settings"
        )
    added = catalog.import_embeddings(source)
    return ImportResult(source, rows, added)
