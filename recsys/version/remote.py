"""Index versions in S3-compatible object storage: layout, upload, checked download, remote CURRENT.

RECSYS_VERSIONS_URL names the place; a build uploads to it, and each replica downloads from it into
its own index folder. Layout under the URL (s3://bucket/prefix):

    versions/<id>/<file>          every file a version's manifest lists, with the same names as on disk
    versions/<id>/manifest.json   uploaded last: a version without it is incomplete and never read
    CURRENT                       the id of the version replicas serve; moved only to a complete version

An object store has no rename, so a version cannot appear all at once as a folder does on disk. Each
PUT is atomic (an object is whole or absent), so the order of the writes does the publishing: files,
then the manifest, then CURRENT. A build killed half-way leaves objects no manifest names, which
nobody reads.

A replica never trusts what it downloads: each file is hashed as it arrives and compared with the
manifest's sha256, in a staging folder of its own index folder (IndexStore.staging_dir), and only a
version whose every file matched is moved into place (IndexStore.place). From there the ordinary
hot reload (service/state.py) takes over, which checks the checksums again as it loads.

obstore is an optional dependency (the `s3` extra): imported here only, when a URL is configured.
Credentials, region and the rest come from the standard AWS_* variables, which obstore reads.
"""

from __future__ import annotations

import hashlib
import logging
import re
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from recsys.errors import ConfigError, IndexCorrupt, IndexMissing, ObjectStoreError
from recsys.storage import fsync_path, writing
from recsys.version.store import CURRENT, MANIFEST, VERSIONS, IndexStore, Manifest, parse_manifest

if TYPE_CHECKING:
    from obstore.store import S3Store

log = logging.getLogger(__name__)

# A version id as CURRENT may name it: it becomes a folder name on the replica, so nothing that could
# leave the versions folder ("..", a slash) is accepted from the object store.
_VERSION_ID = re.compile(r"[0-9A-Za-z][0-9A-Za-z_.-]{0,127}")
# A replica's read of CURRENT is retried briefly, then the next poll tries again; a large file gets
# the time a large download needs.
_CLIENT = {"connect_timeout": "5s", "timeout": "30min"}
_RETRIES = 3
_RETRY_TIMEOUT = timedelta(seconds=20)


def _first_line(exc: BaseException) -> str:
    # obstore's messages carry a multi-line debug dump after the first line.
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]


class RemoteVersions:
    """The index versions under one object-store URL. Every method is one or a few requests; an
    unreachable or refusing server is ObjectStoreError, with the URL and the server's first line."""

    def __init__(self, url: str, endpoint: str = "") -> None:
        self.url = url.strip().rstrip("/")
        self._store = _open(self.url, endpoint.strip())

    @contextmanager
    def _requests(self, what: str) -> Iterator[None]:
        from obstore.exceptions import BaseError

        try:
            yield
        except FileNotFoundError as exc:
            # A missing object is an answer (no CURRENT yet, an incomplete version); a missing bucket
            # is a misconfiguration, which must not read as "nothing published yet".
            if "NoSuchBucket" in str(exc):
                raise ObjectStoreError(f"object store {self.url}: cannot {what}: no such bucket") from exc
            raise
        except (BaseError, OSError) as exc:
            raise ObjectStoreError(f"object store {self.url}: cannot {what}: {_first_line(exc)}") from exc

    # -- reading -----------------------------------------------------------------------------------

    def current(self) -> str | None:
        """The version CURRENT names, or None before the first publish."""
        import obstore

        try:
            with self._requests("read CURRENT"):
                text = bytes(obstore.get(self._store, CURRENT).bytes()).decode("utf-8", "replace").strip()
        except FileNotFoundError:
            return None
        if not _VERSION_ID.fullmatch(text):
            raise IndexCorrupt(f"object store {self.url}: CURRENT names no version ({ascii(text[:80])})")
        return text

    def has(self, version: str) -> bool:
        """Whether `version` is complete here (its manifest, uploaded last, is there)."""
        import obstore

        if not _VERSION_ID.fullmatch(version):
            return False
        try:
            with self._requests(f"look for version {version}"):
                obstore.head(self._store, _key(version, MANIFEST))
        except FileNotFoundError:
            return False
        return True

    def list_versions(self) -> list[str]:
        """The complete versions, oldest first (ids sort by build time)."""
        import obstore

        with self._requests("list versions"):
            found = obstore.list(self._store, f"{VERSIONS}/").collect()
        names = set()
        for meta in found:
            parts = meta["path"].split("/")
            if len(parts) == 3 and parts[2] == MANIFEST and _VERSION_ID.fullmatch(parts[1]):
                names.add(parts[1])
        return sorted(names)

    def _manifest_bytes(self, version: str) -> bytes:
        import obstore

        if not _VERSION_ID.fullmatch(version):
            raise IndexMissing(f"no index version {version!r} in {self.url}")
        try:
            with self._requests(f"read the manifest of {version}"):
                return bytes(obstore.get(self._store, _key(version, MANIFEST)).bytes())
        except FileNotFoundError as exc:
            raise IndexMissing(f"no complete index version {version!r} in {self.url}") from exc

    def previous_version(self) -> str:
        """The newest complete version older than the current one: the default target of a rollback."""
        current = self.current()
        if current is None:
            raise IndexMissing(f"no index version has been published to {self.url} yet; nothing to roll back")
        older = [v for v in self.list_versions() if v < current]
        if not older:
            raise IndexMissing(f"no version older than the current one ({current}) is kept in {self.url}")
        return older[-1]

    # -- writing (the builder) ---------------------------------------------------------------------

    def upload(self, store: IndexStore, version: str) -> Manifest:
        """Upload a local version: every file its manifest lists, then the manifest."""
        import obstore

        manifest = store.read_manifest(version)
        folder = store.versions_dir / version
        for name in manifest.data["files"]:
            with self._requests(f"upload {version}/{name}"):
                obstore.put(self._store, _key(version, name), folder / name)
        with self._requests(f"upload {version}/{MANIFEST}"):
            obstore.put(self._store, _key(version, MANIFEST), (folder / MANIFEST).read_bytes())
        return manifest

    def set_current(self, version: str) -> None:
        """Point CURRENT at a complete version (IndexMissing otherwise): replicas follow it."""
        import obstore

        if not self.has(version):
            raise IndexMissing(f"no complete index version {version!r} in {self.url}")
        with self._requests("write CURRENT"):
            obstore.put(self._store, CURRENT, f"{version}\n".encode())

    def publish(self, store: IndexStore, version: str) -> None:
        """Upload a local version, then make it the current one for every replica."""
        self.upload(store, version)
        self.set_current(version)
        log.info("published index version %s to %s", version, self.url)

    def prune(self, keep: int) -> list[str]:
        """Delete the oldest complete versions beyond `keep`, never the current one; each loses its
        manifest first, so a version is never complete-looking with files missing. Objects of
        versions that never got a manifest (a killed upload) older than the kept ones go too."""
        import obstore

        current = self.current()
        with self._requests("list versions"):
            found = obstore.list(self._store, f"{VERSIONS}/").collect()
        by_version: dict[str, list[str]] = {}
        for meta in found:
            parts = meta["path"].split("/")
            if len(parts) == 3:
                by_version.setdefault(parts[1], []).append(meta["path"])
        complete = sorted(v for v, keys in by_version.items() if _key(v, MANIFEST) in keys)
        kept = set(complete[-keep:]) | ({current} if current else set())
        oldest_kept = min(kept, default="")
        doomed = [
            v
            for v in sorted(by_version)
            if v not in kept and (v in complete or v < oldest_kept)  # an upload may be running
        ]
        for version in doomed:
            keys = by_version[version]
            manifest = _key(version, MANIFEST)
            with self._requests(f"delete version {version}"):
                if manifest in keys:
                    obstore.delete(self._store, manifest)
                obstore.delete(self._store, [k for k in keys if k != manifest])
        return doomed

    # -- reading (a replica) ---------------------------------------------------------------------

    def fetch(self, store: IndexStore, version: str) -> bool:
        """Download `version` into the local index folder, every file checked against the manifest,
        unless it is there already; CURRENT is left alone. The caller holds the folder's build lock
        (staging_dir clears leftovers). IndexCorrupt when a file is missing or fails its checksum:
        nothing of the version is kept. Returns whether it downloaded."""
        if version in store.list_versions():
            return False
        text = self._manifest_bytes(version)
        manifest = parse_manifest(text, version)
        staging = store.staging_dir(version)
        try:
            for name, expected in manifest.data["files"].items():
                self._download(version, name, staging / name, expected)
            with writing(staging):
                (staging / MANIFEST).write_bytes(text)
                fsync_path(staging / MANIFEST)
                fsync_path(staging)
            store.place(staging, version)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        log.info("downloaded index version %s from %s, every checksum verified", version, self.url)
        return True

    def install(self, store: IndexStore, version: str, *, keep: int) -> bool:
        """Make `version` the local CURRENT, downloading and verifying it first if it is not here,
        under the index folder's build lock (BuildLocked while a build or another worker holds it);
        older local versions beyond `keep` are removed. Returns whether CURRENT moved."""
        with store.build_lock():
            if store.current_version() == version:
                return False
            self.fetch(store, version)
            store.set_current(version)
            store.prune(keep)
        return True

    def rollback(
        self,
        store: IndexStore,
        version: str | None = None,
        *,
        expect_model: str | None = None,
        expect_recipe: str | None = None,
    ) -> tuple[str | None, str]:
        """Point CURRENT at `version` (default: the complete version before the current one) for every
        replica, after downloading it here (checksums verified) and loading it with every check a
        replica makes (IndexStore.rollback, which makes it current here too). Returns (before, after)."""
        before = self.current()
        target = version or self.previous_version()
        if not self.has(target):
            raise IndexMissing(f"no complete index version {target!r} in {self.url}")
        with store.build_lock():
            self.fetch(store, target)
        store.rollback(target, expect_model=expect_model, expect_recipe=expect_recipe)
        self.set_current(target)
        log.info("rolled back the current index version in %s from %s to %s", self.url, before, target)
        return before, target

    def _download(self, version: str, name: str, path: Path, expected: str) -> None:
        import obstore

        digest = hashlib.sha256()
        try:
            with self._requests(f"download {version}/{name}"), writing(path), open(path, "wb") as out:
                for chunk in obstore.get(self._store, _key(version, name)).stream():
                    digest.update(chunk)
                    out.write(chunk)
                out.flush()
                fsync_path(path)
        except FileNotFoundError as exc:
            raise IndexCorrupt(f"index version {version} in {self.url}: object {name} is missing") from exc
        if digest.hexdigest() != expected:
            raise IndexCorrupt(f"index version {version} in {self.url}: object {name} fails its checksum")


def _key(version: str, name: str) -> str:
    return f"{VERSIONS}/{version}/{name}"


def _open(url: str, endpoint: str) -> S3Store:
    try:
        from obstore.store import S3Store
    except ImportError as exc:
        raise ConfigError(
            "RECSYS_VERSIONS_URL is set but obstore is not installed: pip install 'recsys-news[s3]'"
        ) from exc
    from obstore.exceptions import BaseError

    client: dict[str, str | bool] = dict(_CLIENT)
    if endpoint.startswith("http://"):
        client["allow_http"] = True  # a server on a private network or this machine (MinIO, tests)
    try:
        return S3Store.from_url(
            url,
            client_options=client,  # type: ignore[arg-type]
            retry_config={"max_retries": _RETRIES, "retry_timeout": _RETRY_TIMEOUT},
            **({"endpoint": endpoint} if endpoint else {}),  # type: ignore[arg-type]
        )
    except (BaseError, ValueError) as exc:
        raise ConfigError(f"RECSYS_VERSIONS_URL {url}: {_first_line(exc)}") from exc
