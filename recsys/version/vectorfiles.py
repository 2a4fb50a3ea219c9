"""Vector files written by `recsys embed`: shards, manifest, checks on import.

Embeddings written outside a catalog, in a form the embedding cache can import
(`recsys build --embeddings-from DIR`).

A vector folder holds

    manifest.json              identity (model, recipe, dimension, normalised), counts, checksums,
                               library versions, and one entry per shard
    shards/<name>.hashes.npy   the content hashes of the shard's articles, (n,) ASCII bytes (S64)
    shards/<name>.vectors.npy  their vectors, (n, dimension) float32, L2-normalised, same order

Every array is a plain .npy file (read with allow_pickle=False), so other tools can read and write the
format. The manifest is rewritten (atomically) after each shard, so an interrupted run keeps the shards
it finished: `complete` is false until the last one is written, and an import refuses such a folder.

The identity is the embedding cache's key: the encoder's name (which names the backend too), the text
recipe's id and the dimension. Vectors are imported only under the identity they were made with, and
only by a build that uses the same one.
"""

from __future__ import annotations

import functools
import hashlib
import json
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

from recsys.errors import InvalidInput
from recsys.storage import replace_file, writing
from recsys.version.store import library_versions as store_library_versions

FORMAT = "recsys-vectors"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
SHARDS = "shards"
HASHES_SUFFIX = ".hashes.npy"
VECTORS_SUFFIX = ".vectors.npy"
_HEX64 = re.compile(rb"[0-9a-f]{64}")
_SHARD_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,199}")
# A normalised float32 vector's norm is 1 within rounding; anything further off is not what the
# manifest claims (a wrong dtype, garbage bytes).
_NORM_TOLERANCE = 1e-3


@dataclass(frozen=True)
class Identity:
    """What a vector means: the same text under another identity gets a different vector."""

    model: str
    recipe: str
    dimension: int

    def describe(self) -> str:
        return f"model {self.model!r}, recipe {self.recipe!r}, dimension {self.dimension}"


def sha256_file(path: Path) -> str:
    with open(path, "rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def library_versions() -> dict[str, str]:
    versions = store_library_versions()
    try:
        versions["ray"] = metadata.version("ray")
    except metadata.PackageNotFoundError:
        versions["ray"] = "not installed"
    return versions


def _save(handle: BinaryIO, array: np.ndarray) -> None:
    np.save(handle, array, allow_pickle=False)


@dataclass(frozen=True)
class Shard:
    """One shard as the manifest lists it: its files with their checksums, and what it came from."""

    name: str
    rows: int
    files: dict[str, str]  # file name under shards/ -> sha256
    source: dict[str, Any]  # the input file: name, bytes, sha256
    counts: dict[str, int]  # records, articles, skipped, duplicates

    def as_dict(self) -> dict[str, Any]:
        return {
            "rows": self.rows,
            "files": self.files,
            "source": self.source,
            "counts": self.counts,
        }


class VectorFolder:
    """A vector folder being written (by `recsys embed`) or read (by an import)."""

    def __init__(self, root: Path) -> None:
        self.root = root

    @property
    def manifest_path(self) -> Path:
        return self.root / MANIFEST

    # -- writing -------------------------------------------------------------------------------------

    def write_shard(
        self,
        name: str,
        hashes: list[str],
        vectors: np.ndarray,
        *,
        source: dict[str, Any],
        counts: dict[str, int],
    ) -> Shard:
        if not _SHARD_NAME.fullmatch(name):
            raise InvalidInput(f"{name!r} cannot name a shard (letters, digits, '.', '_' and '-' only)")
        if vectors.ndim != 2 or vectors.shape[0] != len(hashes):
            raise ValueError(f"shard {name}: {len(hashes)} hashes but vectors of shape {vectors.shape}")
        folder = self.root / SHARDS
        with writing(folder):
            folder.mkdir(parents=True, exist_ok=True)
        arrays = {
            name + HASHES_SUFFIX: np.array(hashes, dtype="S64"),
            name + VECTORS_SUFFIX: np.ascontiguousarray(vectors, dtype=np.float32),
        }
        files: dict[str, str] = {}
        for file_name, array in arrays.items():
            path = folder / file_name
            replace_file(path, functools.partial(_save, array=array))
            files[file_name] = sha256_file(path)
        return Shard(name=name, rows=len(hashes), files=files, source=source, counts=counts)

    def write_manifest(self, identity: Identity, shards: list[Shard], *, complete: bool, extra: dict) -> None:
        totals: dict[str, int] = {"rows": sum(s.rows for s in shards)}
        for shard in shards:
            for key, value in shard.counts.items():
                totals[key] = totals.get(key, 0) + value
        data = {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "model": identity.model,
            "recipe": identity.recipe,
            "dimension": identity.dimension,
            "normalised": True,
            "dtype": "float32",
            "complete": complete,
            "written_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "counts": totals,
            "libraries": library_versions(),
            **extra,
            "shards": {shard.name: shard.as_dict() for shard in shards},
        }
        body = (json.dumps(data, indent=2) + "\n").encode()
        with writing(self.root):
            self.root.mkdir(parents=True, exist_ok=True)
        replace_file(self.manifest_path, lambda handle: handle.write(body))

    # -- reading -------------------------------------------------------------------------------------

    def read(self) -> VectorManifest:
        """The manifest, checked for shape; InvalidInput (one line) when it is missing or malformed."""
        if not self.root.is_dir():
            raise InvalidInput(f"{self.root}: no such folder")
        if not self.manifest_path.is_file():
            raise InvalidInput(
                f"{self.root}: not a vector folder (no {MANIFEST}); write one with `recsys embed`"
            )
        try:
            data = json.loads(self.manifest_path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise InvalidInput(f"{self.manifest_path}: unreadable manifest ({exc})") from exc
        problem = _manifest_problem(data)
        if problem:
            raise InvalidInput(f"{self.manifest_path}: {problem}")
        return VectorManifest(data)

    def shards(self, manifest: VectorManifest) -> Iterator[tuple[str, list[str], np.ndarray]]:
        """(name, content hashes, vectors) of every shard, each checked against its checksums and for
        shape, hash syntax, finite values and unit norm before it is yielded."""
        dimension = manifest.identity.dimension
        for name, entry in manifest.shards.items():
            arrays = []
            for suffix in (HASHES_SUFFIX, VECTORS_SUFFIX):
                path = self.root / SHARDS / (name + suffix)
                expected = entry["files"].get(name + suffix)
                if not path.is_file():
                    raise InvalidInput(f"{path}: missing (listed in {MANIFEST})")
                if sha256_file(path) != expected:
                    raise InvalidInput(
                        f"{path}: checksum mismatch (truncated or changed since it was written)"
                    )
                try:
                    arrays.append(np.load(path, allow_pickle=False))
                except (OSError, ValueError, EOFError) as exc:
                    raise InvalidInput(f"{path}: not a readable .npy array ({exc})") from exc
            hashes, vectors = arrays
            rows = entry["rows"]
            if hashes.shape != (rows,) or hashes.dtype.kind != "S":
                raise InvalidInput(f"shard {name}: expected {rows} content hashes, found {hashes.shape}")
            if vectors.shape != (rows, dimension) or vectors.dtype != np.float32:
                raise InvalidInput(
                    f"shard {name}: expected float32 vectors of shape ({rows}, {dimension}), "
                    f"found {vectors.dtype} {vectors.shape}"
                )
            if not all(_HEX64.fullmatch(h) for h in hashes.tolist()):
                raise InvalidInput(f"shard {name}: a content hash is not 64 lowercase hex digits")
            if not np.isfinite(vectors).all():
                raise InvalidInput(f"shard {name}: vectors hold NaN or infinite values")
            norms = np.linalg.norm(vectors, axis=1)
            # An empty text embeds as the zero vector (recsys.encoding.encoders.normalise): allowed.
            if np.any((np.abs(norms - 1.0) > _NORM_TOLERANCE) & (norms != 0)):
                raise InvalidInput(f"shard {name}: vectors are not L2-normalised as the manifest says")
            yield name, hashes.astype("U64").tolist(), vectors


@dataclass(frozen=True)
class VectorManifest:
    data: dict[str, Any]

    @property
    def identity(self) -> Identity:
        return Identity(str(self.data["model"]), str(self.data["recipe"]), int(self.data["dimension"]))

    @property
    def complete(self) -> bool:
        return bool(self.data["complete"])

    @property
    def shards(self) -> dict[str, dict[str, Any]]:
        shards: dict[str, dict[str, Any]] = self.data["shards"]
        return shards

    @property
    def rows(self) -> int:
        return sum(int(entry["rows"]) for entry in self.shards.values())

    def shard(self, name: str) -> Shard | None:
        entry = self.shards.get(name)
        if entry is None:
            return None
        return Shard(
            name=name,
            rows=int(entry["rows"]),
            files=dict(entry["files"]),
            source=dict(entry["source"]),
            counts=dict(entry["counts"]),
        )


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _manifest_problem(data: Any) -> str | None:
    """Why a decoded manifest cannot describe a vector folder (one line), or None."""
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        return f"not a {FORMAT} manifest"
    if data.get("format_version") != FORMAT_VERSION:
        return f"format version {data.get('format_version')!r}, this release reads {FORMAT_VERSION}"
    for name in ("model", "recipe"):
        if not isinstance(data.get(name), str) or not data[name]:
            return f"{name} is not a non-empty string"
    if not _is_int(data.get("dimension")) or data["dimension"] < 1:
        return "dimension is not a positive integer"
    if data.get("normalised") is not True or data.get("dtype") != "float32":
        return "only L2-normalised float32 vectors can be imported"
    if not isinstance(data.get("complete"), bool):
        return "complete is not true or false"
    shards = data.get("shards")
    if not isinstance(shards, dict):
        return "shards is not an object"
    for name, entry in shards.items():
        if not isinstance(name, str) or not _SHARD_NAME.fullmatch(name):
            return f"shard name {ascii(str(name)[:80])} is not a plain name"
        if not isinstance(entry, dict) or not _is_int(entry.get("rows")) or entry["rows"] < 0:
            return f"shard {name}: rows is not a non-negative integer"
        files = entry.get("files")
        wanted = {name + HASHES_SUFFIX, name + VECTORS_SUFFIX}
        if not isinstance(files, dict) or set(files) != wanted:
            return f"shard {name}: files must list exactly {', '.join(sorted(wanted))}"
        if not all(isinstance(d, str) and re.fullmatch(r"[0-9a-f]{64}", d) for d in files.values()):
            return f"shard {name}: a checksum is not 64 lowercase hex digits"
        if not isinstance(entry.get("source"), dict) or not isinstance(entry.get("counts"), dict):
            return f"shard {name}: source and counts must be objects"
    return None
