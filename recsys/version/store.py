"""Index versions on disk: the manifest, atomic publish, the build lock, listing, and checked loading.

Layout under the index folder:

    CURRENT                 the id of the served version (replaced atomically with os.replace)
    versions/<id>/          one complete version: index files + manifest.json
    versions/.tmp-<id>/     a version being written; never read, removed by the next build
    .build.lock             held (flock) by the one build that may run

A reader follows CURRENT and only ever sees a version whose files were fsynced before the pointer
moved, so a build killed at any moment leaves the served version as it was.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import logging
import os
import platform
import re
import secrets
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

from recsys.encoding.centering import Means
from recsys.errors import (
    BuildLocked,
    ConfigError,
    IndexCorrupt,
    IndexError_,
    IndexMismatch,
    IndexMissing,
)
from recsys.storage import fsync_path, os_refusal, replace_text, writing
from recsys.version.entities import ENTITY_FILES, Entities
from recsys.version.lexical import INDEX_FILES, LEXICAL_FILE, LEXICAL_SCORES_FILE, LexicalIndex
from recsys.version.lists import FILES as LIST_FILES
from recsys.version.lists import FinalLists
from recsys.version.neighbours import EVERY_FILE, NEIGHBOURS_FILE, LanguageGroups
from recsys.version.sections import FILES as SECTION_FILES
from recsys.version.sections import SectionBlocks
from recsys.version.snapshot import Snapshot
from recsys.version.vectors import IDS_FILE, INDEX_FILE, KEYS_FILE, VectorIndex

log = logging.getLogger(__name__)

# 2: versions carry the query side's snapshot (snap_*.npy) and neighbour lists (recsys/version/neighbours.py)
# 3: and a BM25 index with every article's lexical matches (recsys/version/lexical.py)
FORMAT_VERSION = 3
MANIFEST = "manifest.json"
CURRENT = "CURRENT"
VERSIONS = "versions"
TMP_PREFIX = ".tmp-"
# The language means a centered version's vectors were centered with (recsys/encoding/centering.py):
# the overall mean, then one row per language the manifest's "centering" entry names.
CENTERING_FILE = "centering_means.npy"


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def library_versions() -> dict[str, str]:
    versions = {"python": platform.python_version()}
    for name in ("recsys-news", "faiss-cpu", "numpy", "sentence-transformers", "torch"):
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def new_version_id(now: datetime | None = None) -> str:
    moment = (now or datetime.now(UTC)).astimezone(UTC)
    # Sortable by time; the random tail keeps two builds in one second apart.
    return moment.strftime("%Y%m%dT%H%M%S") + f"{moment.microsecond // 1000:03d}Z-{secrets.token_hex(2)}"


REQUIRED_FIELDS = ("format_version", "version", "model", "dimension", "count", "recipe", "built_at", "files")
REQUIRED_FILES = (INDEX_FILE, KEYS_FILE, IDS_FILE)
_SHA256_HEX = re.compile(r"[0-9a-f]{64}")


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _plain_name(name: str) -> bool:
    """A file name with no folder part, not hidden, and not "." or "..": the manifest's names are
    joined to the version folder, so anything else could point outside it."""
    return (
        bool(name) and "/" not in name and "\\" not in name and "\0" not in name and not name.startswith(".")
    )


def _shape_problem(data: Any, version: str) -> str | None:
    """Why a decoded manifest cannot describe version `version` (one line), or None. Checked before any
    field is used, so a hand-edited or damaged manifest is refused as corrupt, not a ValueError."""
    if not isinstance(data, dict):
        return "not a JSON object"
    if missing := [name for name in REQUIRED_FIELDS if name not in data]:
        return f"lacks required fields: {', '.join(missing)}"
    if not _is_int(data["format_version"]):
        return "format_version is not an integer"
    if data["version"] != version:
        return "version does not name its own folder"
    for name in ("model", "recipe", "built_at"):
        if not isinstance(data[name], str) or not data[name]:
            return f"{name} is not a non-empty string"
    if not _is_int(data["dimension"]) or data["dimension"] < 1:
        return "dimension is not a positive integer"
    if not _is_int(data["count"]) or data["count"] < 0:
        return "count is not a non-negative integer"
    files = data["files"]
    if not isinstance(files, dict) or not files:
        return "files is not a non-empty object"
    for name, digest in files.items():
        if not _plain_name(name):
            return f"files lists {ascii(name[:80])}, not a plain file name"
        if not isinstance(digest, str) or not _SHA256_HEX.fullmatch(digest):
            return f"the checksum of {ascii(name)} is not 64 lowercase hex digits"
    if missing := [name for name in REQUIRED_FILES if name not in files]:
        return f"files does not list {', '.join(missing)}"
    index = data.get("index", {})
    params = index.get("params", {}) if isinstance(index, dict) else None
    if not isinstance(params, dict) or not all(_is_int(value) for value in params.values()):
        return "index is not an object with integer params"
    return None


def parse_manifest(text: bytes, version: str) -> Manifest:
    """The manifest of version `version` from its bytes, after every check of its shape and format
    (IndexCorrupt, IndexMismatch): read from the index folder, or downloaded (recsys/version/remote.py)."""
    try:
        data = json.loads(text)
    except (ValueError, RecursionError) as exc:  # ValueError: bad JSON or bad UTF-8
        raise IndexCorrupt(f"index version {version}: manifest.json is unreadable ({exc})") from exc
    if (problem := _shape_problem(data, version)) is not None:
        raise IndexCorrupt(f"index version {version}: manifest.json: {problem}")
    if data["format_version"] != FORMAT_VERSION:
        older = " (it predates the lexical candidates of format 3)" if data["format_version"] < 3 else ""
        raise IndexMismatch(
            f"index version {version} has format {data['format_version']}{older}, this build reads "
            f"{FORMAT_VERSION}; rebuild the index with `recsys build` (cached embeddings are reused)"
        )
    return Manifest(data)


@dataclass(frozen=True)
class Manifest:
    data: dict[str, Any]

    @property
    def version(self) -> str:
        return str(self.data["version"])

    @property
    def model(self) -> str:
        return str(self.data["model"])

    @property
    def dimension(self) -> int:
        return int(self.data["dimension"])

    @property
    def count(self) -> int:
        return int(self.data["count"])

    @property
    def recipe(self) -> str:
        return str(self.data["recipe"])

    @property
    def built_at(self) -> str:
        return str(self.data["built_at"])

    @property
    def index_spec(self) -> dict[str, Any]:
        return dict(self.data.get("index", {}))


@dataclass
class LoadedIndex:
    """A checked index version in memory: the FAISS index, the articles' snapshot, and each row's
    precomputed neighbours as rows (-1 where a neighbour left the version)."""

    manifest: Manifest
    vectors: VectorIndex
    path: Path
    snapshot: Snapshot
    neighbours: np.ndarray
    # The BM25 index (None when built with RECSYS_LEXICAL_NEIGHBOURS=0) and every article's lexical
    # matches as rows (-1 where absent or gone) with their normalised scores.
    lexical: LexicalIndex | None = None
    lexical_rows: np.ndarray | None = None
    lexical_scores: np.ndarray | None = None
    # Every article's default list, ranked at build time (recsys/version/lists.py); None in versions
    # built before them.
    lists: FinalLists | None = None
    # Every article's default section block, ranked at build time beside its stored related list
    # (recsys/version/sections.py); None in versions built before them.
    sections: SectionBlocks | None = None
    # The language means its vectors were centered with; None: not centered (RECSYS_LANGUAGE_CENTERING).
    # What the query side embeds (drafts, articles imported since the build) is centered with them.
    centering: Means | None = None
    # Every article's names, numbers and tags (recsys/version/entities.py); None in versions built
    # before them.
    entities: Entities | None = None
    # Where each list of `neighbours` was computed among the articles of its own language (and those
    # of none): their groups (recsys/version/neighbours.py); None: every list is over every article.
    neighbour_groups: LanguageGroups | None = None
    # With them, each row's list over every article (as rows), for requests beyond its language.
    every_neighbours: np.ndarray | None = None

    @property
    def version(self) -> str:
        return self.manifest.version

    @property
    def lexical_terms(self) -> int:
        """The query-term cap the lexical lists were computed with: drafts are scored the same way."""
        return int(self.manifest.data.get("lexical", {}).get("query_terms", 0))

    @property
    def lexical_k(self) -> int:
        return 0 if self.lexical_rows is None else int(self.lexical_rows.shape[1])


class IndexStore:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.versions_dir = root / VERSIONS

    def _ensure_dirs(self) -> None:
        try:
            self.versions_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            refused = os_refusal(exc, self.versions_dir)
            raise refused or ConfigError(
                f"cannot create the index folder {self.versions_dir}: {exc}"
            ) from exc

    # -- the build lock --------------------------------------------------------------------------

    @contextmanager
    def build_lock(self) -> Iterator[None]:
        """Exclusive lock for a build. flock is released by the kernel if the process dies, so a
        killed build never leaves a stale lock behind."""
        self._ensure_dirs()
        with writing(self.root / ".build.lock"):
            handle = open(self.root / ".build.lock", "a+")  # noqa: SIM115 - held for the whole block
        try:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError as exc:
                raise BuildLocked(
                    f"another build is running on {self.root} (lock {self.root / '.build.lock'}); "
                    "try again when it finishes"
                ) from exc
            handle.seek(0)
            handle.truncate()
            handle.write(f"{os.getpid()}\n")
            handle.flush()
            yield
        finally:
            handle.close()

    def build_running(self) -> bool:
        """Whether some process holds the build lock now. Probed with a shared lock, which never
        stands in a build's way for longer than the probe itself."""
        path = self.root / ".build.lock"
        try:
            handle = open(path)  # noqa: SIM115 - closed below
        except FileNotFoundError:
            return False
        with handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_SH | fcntl.LOCK_NB)
            except BlockingIOError:
                return True
            fcntl.flock(handle, fcntl.LOCK_UN)
            return False

    # -- writing a version -------------------------------------------------------------------------

    def staging_dir(self, version: str) -> Path:
        """A fresh folder to write a version into. Leftovers of killed builds are removed first
        (only the lock holder calls this, so no other build is writing them)."""
        self._ensure_dirs()
        for leftover in self.versions_dir.glob(f"{TMP_PREFIX}*"):
            shutil.rmtree(leftover, ignore_errors=True)
        path = self.versions_dir / f"{TMP_PREFIX}{version}"
        with writing(path):
            path.mkdir()
        return path

    def write_version(
        self,
        staging: Path,
        vectors: VectorIndex,
        manifest_fields: dict[str, Any],
        extra_arrays: dict[str, np.ndarray] | None = None,
    ) -> Manifest:
        """Write the index files, any extra arrays (checksummed like the rest), and the manifest."""
        files = vectors.save(staging)
        with writing(staging):
            for name, array in (extra_arrays or {}).items():
                np.save(staging / name, array, allow_pickle=False)
                files.append(name)
            manifest = {
                "format_version": FORMAT_VERSION,
                **manifest_fields,
                "dimension": vectors.dimension,
                "count": len(vectors),
                "normalised": True,
                "metric": "inner_product",
                "libraries": library_versions(),
                "files": {name: _sha256(staging / name) for name in files},
            }
            (staging / MANIFEST).write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
            for name in [*files, MANIFEST]:
                fsync_path(staging / name)
            fsync_path(staging)
        return Manifest(manifest)

    def publish(self, staging: Path, version: str) -> Path:
        """Move a finished version into place, then switch CURRENT to it atomically."""
        final = self.place(staging, version)
        self.set_current(version)
        return final

    def place(self, staging: Path, version: str) -> Path:
        """Move a finished version into place without making it current (a rollback checks it first)."""
        final = self.versions_dir / version
        with writing(self.versions_dir):
            os.replace(staging, final)
            fsync_path(self.versions_dir)
        return final

    def set_current(self, version: str) -> None:
        if not (self.versions_dir / version / MANIFEST).is_file():
            raise IndexMissing(f"no index version {version!r} in {self.versions_dir}")
        replace_text(self.root / CURRENT, version + "\n")

    def prune(self, keep: int) -> list[str]:
        """Delete the oldest versions beyond `keep`, never the current one."""
        current = self.current_version()
        names = self.list_versions()
        doomed = [v for v in names[:-keep] if v != current] if len(names) > keep else []
        for name in doomed:
            shutil.rmtree(self.versions_dir / name, ignore_errors=True)
        return doomed

    # -- reading -----------------------------------------------------------------------------------

    def current_version(self) -> str | None:
        try:
            text = (self.root / CURRENT).read_text().strip()
        except FileNotFoundError:
            return None
        return text or None

    def list_versions(self) -> list[str]:
        if not self.versions_dir.is_dir():
            return []
        return sorted(
            p.name for p in self.versions_dir.iterdir() if p.is_dir() and not p.name.startswith(".")
        )

    def read_manifest(self, version: str) -> Manifest:
        path = self.versions_dir / version / MANIFEST
        if not path.parent.is_dir():
            raise IndexMissing(f"no index version {version!r} in {self.versions_dir}")
        try:
            text = path.read_bytes()
        except FileNotFoundError as exc:
            raise IndexCorrupt(f"index version {version}: manifest.json is missing") from exc
        except OSError as exc:
            raise IndexCorrupt(f"index version {version}: manifest.json is unreadable ({exc})") from exc
        return parse_manifest(text, version)

    def load(
        self,
        version: str | None = None,
        *,
        expect_model: str | None = None,
        expect_dimension: int | None = None,
        expect_recipe: str | None = None,
    ) -> LoadedIndex:
        """Load and check a version (default: the current one), ready to serve.

        Refuses, with a message saying what to do, an index that is missing, fails a checksum, or was
        built with another model, dimension or text recipe than the one this process will query with.
        """
        manifest, vectors, directory = self.load_vectors(
            version, expect_model=expect_model, expect_dimension=expect_dimension, expect_recipe=expect_recipe
        )
        version = manifest.version
        files = manifest.data["files"]
        try:
            snapshot = Snapshot.load(
                directory, files, vectors.keys, int(manifest.data.get("catalog_generation", 0))
            ).prepare()
            neighbours = rows_of(snapshot, np.load(directory / NEIGHBOURS_FILE, allow_pickle=False))
            lexical = lexical_rows = lexical_scores = None
            if LEXICAL_FILE in files:
                lexical_rows = rows_of(snapshot, np.load(directory / LEXICAL_FILE, allow_pickle=False))
                lexical_scores = np.load(directory / LEXICAL_SCORES_FILE, allow_pickle=False)
                if all(name in files for name in INDEX_FILES):
                    lexical = LexicalIndex.load(directory)
            groups = every = None
            if manifest.data.get("neighbours", {}).get("by_language"):
                groups = LanguageGroups.of_codes(snapshot.languages, snapshot.language_names)
                if EVERY_FILE in files:
                    every = rows_of(snapshot, np.load(directory / EVERY_FILE, allow_pickle=False))
                    if every.shape[0] != len(vectors):
                        raise ValueError("the lists over every article do not match the index")
            lists = None
            if "lists" in manifest.data and all(name in files for name in LIST_FILES):
                lists = FinalLists.load(directory, manifest.data["lists"], snapshot)
            sections = None
            if lists is not None and "sections" in manifest.data and all(n in files for n in SECTION_FILES):
                sections = SectionBlocks.load(directory, manifest.data["sections"], snapshot)
            entities = None
            if all(name in files for name in ENTITY_FILES):
                entities = Entities.load(directory)
        except (OSError, ValueError, KeyError) as exc:
            raise IndexCorrupt(f"index version {version}: cannot read its snapshot: {exc}") from exc
        if len(snapshot) != len(vectors) or neighbours.shape[0] != len(vectors):
            raise IndexCorrupt(f"index version {version}: snapshot or neighbour lists do not match the index")
        centering = read_centering(manifest, directory)
        if entities is not None and entities.rows != len(vectors):
            raise IndexCorrupt(f"index version {version}: entity sets do not match the index")
        if lexical_rows is not None and (
            lexical_rows.shape[0] != len(vectors)
            or lexical_scores is None
            or lexical_scores.shape != lexical_rows.shape
            or (lexical is not None and lexical.count != len(vectors))
        ):
            raise IndexCorrupt(f"index version {version}: lexical lists do not match the index")
        log.info("loaded index version %s (%d articles, model %s)", version, len(vectors), manifest.model)
        return LoadedIndex(
            manifest=manifest,
            vectors=vectors,
            path=directory,
            snapshot=snapshot,
            neighbours=neighbours,
            lexical=lexical,
            lexical_rows=lexical_rows,
            lexical_scores=lexical_scores,
            lists=lists,
            sections=sections,
            centering=centering,
            entities=entities,
            neighbour_groups=groups,
            every_neighbours=every,
        )

    def load_vectors(
        self,
        version: str | None = None,
        *,
        expect_model: str | None = None,
        expect_dimension: int | None = None,
        expect_recipe: str | None = None,
    ) -> tuple[Manifest, VectorIndex, Path]:
        """A version's manifest and FAISS index, after every check (checksums of all its files
        included): what a build needs of the version it replaces, without the serving snapshot."""
        version = version or self.current_version()
        if version is None:
            raise IndexMissing(f"no index has been built in {self.root} yet; run `recsys build`")
        manifest = self.read_manifest(version)
        if expect_model is not None and manifest.model != expect_model:
            raise IndexMismatch(
                f"index version {version} was built with model {manifest.model!r}, but the configured "
                f"model is {expect_model!r}; run `recsys build` to embed again with the configured model, "
                "or set RECSYS_MODEL, RECSYS_ENCODER_BACKEND and RECSYS_MAX_SEQ_LENGTH back "
                "(docs/encoders.md)"
            )
        if expect_dimension is not None and manifest.dimension != expect_dimension:
            raise IndexMismatch(
                f"index version {version} has dimension {manifest.dimension}, the model gives "
                f"{expect_dimension}; rebuild the index"
            )
        if expect_recipe is not None and manifest.recipe != expect_recipe:
            raise IndexMismatch(
                f"index version {version} used text recipe {manifest.recipe!r}, the configured one is "
                f"{expect_recipe!r}; rebuild the index"
            )
        directory = self.versions_dir / version
        files = manifest.data["files"]
        for name, expected in files.items():
            path = directory / name
            if not path.is_file():
                raise IndexCorrupt(f"index version {version}: file {name} is missing")
            if _sha256(path) != expected:
                raise IndexCorrupt(f"index version {version}: file {name} fails its checksum")
        vectors = VectorIndex.load(directory)
        if vectors.dimension != manifest.dimension or len(vectors) != manifest.count:
            raise IndexCorrupt(
                f"index version {version}: files hold {len(vectors)} vectors of dimension "
                f"{vectors.dimension}, the manifest says {manifest.count} of {manifest.dimension}"
            )
        vectors.set_search_params(manifest.index_spec.get("params", {}))
        return manifest, vectors, directory

    # -- lifecycle: comparing, listing and rolling back versions ------------------------------------

    def read_array(self, version: str, name: str) -> np.ndarray | None:
        """One checksummed array file of a version, or None when that version does not list it (older
        versions) or it fails its checksum: callers use it for reports, never for serving."""
        try:
            manifest = self.read_manifest(version)
        except IndexError_:
            return None
        expected = manifest.data["files"].get(name)
        path = self.versions_dir / version / name
        if expected is None or not path.is_file() or _sha256(path) != expected:
            return None
        try:
            return np.load(path, allow_pickle=False)
        except (OSError, ValueError):
            return None

    def describe(self) -> list[VersionInfo]:
        """Every version on disk, oldest first, with what its manifest says (or why it cannot be read)."""
        current = self.current_version()
        infos = []
        for name in self.list_versions():
            try:
                manifest: Manifest | None = self.read_manifest(name)
                problem = None
            except IndexError_ as exc:
                manifest, problem = None, str(exc)
            infos.append(
                VersionInfo(version=name, current=name == current, manifest=manifest, problem=problem)
            )
        return infos

    def previous_version(self) -> str:
        """The newest version older than the current one: the default target of a rollback."""
        current = self.current_version()
        if current is None:
            raise IndexMissing(f"no index has been built in {self.root} yet; nothing to roll back")
        older = [v for v in self.list_versions() if v < current]
        if not older:
            raise IndexMissing(
                f"no version older than the current one ({current}) is kept in {self.versions_dir}"
            )
        return older[-1]

    def rollback(
        self, version: str | None = None, *, expect_model: str | None = None, expect_recipe: str | None = None
    ) -> tuple[str | None, str]:
        """Point CURRENT at `version` (default: the previous one) after loading it with every check a
        server would make, so a rollback can never publish a version the service would refuse.
        Holds the build lock: a build finishing meanwhile cannot overwrite the pointer half-way."""
        with self.build_lock():
            before = self.current_version()
            target = version or self.previous_version()
            if target not in self.list_versions():  # also keeps names like "../x" out of CURRENT
                raise IndexMissing(f"no index version {target!r} in {self.versions_dir}")
            self.load(target, expect_model=expect_model, expect_recipe=expect_recipe)
            self.set_current(target)
        log.info("rolled back the current index version from %s to %s", before, target)
        return before, target


def read_centering(manifest: Manifest, directory: Path) -> Means | None:
    """The language means of a version whose files were checked (`load_vectors`), or None when its
    vectors are not centered (built with centering off, or before it existed); IndexCorrupt when the
    manifest and the means file do not fit together."""
    meta = manifest.data.get("centering")
    if meta is None:
        return None
    version = manifest.version
    if not isinstance(meta, dict) or CENTERING_FILE not in manifest.data["files"]:
        raise IndexCorrupt(f"index version {version}: manifest.json: centering without {CENTERING_FILE}")
    try:
        means = Means.from_matrix(np.load(directory / CENTERING_FILE, allow_pickle=False), meta)
    except (OSError, ValueError) as exc:
        raise IndexCorrupt(f"index version {version}: file {CENTERING_FILE} is unreadable ({exc})") from exc
    if means.dimension != manifest.dimension:
        raise IndexCorrupt(
            f"index version {version}: language means of dimension {means.dimension}, vectors of "
            f"{manifest.dimension}"
        )
    return means


def rows_of(snapshot: Snapshot, neighbour_keys: np.ndarray) -> np.ndarray:
    """Neighbour keys -> rows (-1 where absent), in chunks (a million lists at once would need
    gigabytes of temporaries)."""
    rows = np.empty(neighbour_keys.shape, dtype=np.int32)
    for start in range(0, len(rows), 65_536):
        chunk = neighbour_keys[start : start + 65_536]
        rows[start : start + len(chunk)] = snapshot.rows_of_keys(chunk.ravel()).reshape(chunk.shape)
    return rows


@dataclass(frozen=True)
class VersionInfo:
    version: str
    current: bool
    manifest: Manifest | None
    problem: str | None
