"""Index versions in object storage (recsys/version/remote.py), against a real S3 API (moto's server
over HTTP): a build's upload and a replica's checked download, the manifest as the mark of a complete
version, refusals of corrupted or missing objects, rollback, pruning, and an unreachable server."""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path

import pytest

from index.build import build_index
from recsys.catalog.ingest import import_file
from recsys.catalog.store import Catalog
from recsys.errors import ConfigError, IndexCorrupt, IndexMismatch, IndexMissing, ObjectStoreError
from recsys.settings import Settings
from recsys.version.remote import RemoteVersions
from recsys.version.store import MANIFEST, IndexStore
from tests.fakes import FakeEncoder
from tests.objectstore import S3Server
from tests.servers import free_port


@pytest.fixture
def builder(tmp_path: Path, versions_url: str, s3_server: S3Server) -> Settings:
    return Settings(
        data_dir=tmp_path / "builder", versions_url=versions_url, versions_endpoint=s3_server.endpoint
    )


@pytest.fixture
def remote(builder: Settings) -> RemoteVersions:
    return RemoteVersions(builder.versions_url, builder.versions_endpoint)


@pytest.fixture
def source(builder: Settings, corpus_file: Path) -> Catalog:
    catalog = Catalog(builder.catalog_file)
    import_file(catalog, corpus_file, strict=True)
    return catalog


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_a_build_uploads_its_version_and_a_replica_downloads_it_verified(
    tmp_path: Path,
    builder: Settings,
    remote: RemoteVersions,
    source: Catalog,
    encoder: FakeEncoder,
    s3_server: S3Server,
) -> None:
    version = build_index(builder, source, encoder).version
    files = IndexStore(builder.index_root).read_manifest(version).data["files"]
    assert remote.current() == version and remote.list_versions() == [version]
    prefix = builder.versions_url.split("/", 3)[3]
    assert s3_server.keys(builder.versions_url) == sorted(
        [f"{prefix}/CURRENT", f"{prefix}/versions/{version}/{MANIFEST}"]
        + [f"{prefix}/versions/{version}/{name}" for name in files]
    )

    replica = IndexStore(tmp_path / "replica" / "index")
    assert replica.current_version() is None
    assert remote.install(replica, version, keep=5) is True
    assert replica.current_version() == version and replica.list_versions() == [version]
    built = IndexStore(builder.index_root).versions_dir / version
    for name in [*files, MANIFEST]:
        assert _digest(replica.versions_dir / version / name) == _digest(built / name)
    assert replica.load().version == version  # and loads with every check
    assert remote.install(replica, version, keep=5) is False  # nothing to do the second time


def test_a_corrupted_object_is_refused_and_nothing_of_it_is_kept(
    tmp_path: Path,
    builder: Settings,
    remote: RemoteVersions,
    source: Catalog,
    encoder: FakeEncoder,
    s3_server: S3Server,
) -> None:
    first = build_index(builder, source, encoder).version
    replica = IndexStore(tmp_path / "replica" / "index")
    remote.install(replica, first, keep=5)
    second = build_index(builder, source, encoder, full=True).version
    s3_server.put(builder.versions_url, f"versions/{second}/index.faiss", b"not the index")

    with pytest.raises(
        IndexCorrupt, match=f"index version {second} in .*: object index.faiss fails its checksum"
    ):
        remote.install(replica, second, keep=5)
    assert replica.current_version() == first and replica.list_versions() == [first]
    assert not list(replica.versions_dir.glob(".tmp-*"))

    # Repaired, it is taken; a version with an object missing is refused like a corrupted one.
    good = (IndexStore(builder.index_root).versions_dir / second / "index.faiss").read_bytes()
    s3_server.put(builder.versions_url, f"versions/{second}/index.faiss", good)
    third = build_index(builder, source, encoder, full=True).version
    s3_server.delete(builder.versions_url, f"versions/{third}/neighbours.npy")
    with pytest.raises(IndexCorrupt, match="object neighbours.npy is missing"):
        remote.install(replica, third, keep=5)
    assert remote.install(replica, second, keep=5) is True and replica.current_version() == second


def test_a_version_without_its_manifest_is_incomplete_and_never_current(
    builder: Settings, remote: RemoteVersions, source: Catalog, encoder: FakeEncoder, s3_server: S3Server
) -> None:
    version = build_index(builder, source, encoder).version
    # As if the upload had been killed before its last object.
    s3_server.delete(builder.versions_url, f"versions/{version}/{MANIFEST}")
    assert not remote.has(version) and remote.list_versions() == []
    with pytest.raises(IndexMissing, match="no complete index version"):
        remote.set_current(version)


def test_rollback_moves_the_remote_current_after_checking_the_version_loads(
    tmp_path: Path, builder: Settings, remote: RemoteVersions, source: Catalog, encoder: FakeEncoder
) -> None:
    first = build_index(builder, source, encoder).version
    second = build_index(builder, source, encoder, full=True).version
    # A host that never had the first version: the rollback downloads it, checked, before moving.
    elsewhere = IndexStore(tmp_path / "another-builder" / "index")
    remote.install(elsewhere, second, keep=5)
    with pytest.raises(IndexMismatch, match="was built with model 'fake-bag-of-words'"):
        remote.rollback(elsewhere, first, expect_model="another-model")
    assert remote.current() == second  # refused: nothing moved

    assert remote.rollback(elsewhere, expect_model=encoder.name) == (second, first)
    assert remote.current() == first and elsewhere.current_version() == first
    with pytest.raises(IndexMissing, match="no version older than the current one"):
        remote.rollback(elsewhere)
    with pytest.raises(IndexMissing, match="no complete index version 'nope'"):
        remote.rollback(elsewhere, "nope")


def test_a_build_keeps_only_the_newest_versions_in_the_object_store(
    builder: Settings, remote: RemoteVersions, source: Catalog, encoder: FakeEncoder
) -> None:
    keep = builder.model_copy(update={"keep_versions": 2})
    built = [build_index(keep, source, encoder, full=True).version for _ in range(3)]
    assert remote.list_versions() == built[1:] and remote.current() == built[2]


def test_an_unreachable_object_store_is_one_line_and_the_local_version_stays(
    tmp_path: Path, source: Catalog, encoder: FakeEncoder, versions_url: str, builder: Settings
) -> None:
    nowhere = f"http://127.0.0.1:{free_port()}"
    with pytest.raises(ObjectStoreError) as refused:
        RemoteVersions(versions_url, nowhere).current()
    assert "\n" not in str(refused.value) and str(refused.value).startswith(f"object store {versions_url}")

    with pytest.raises(ObjectStoreError, match="cannot read CURRENT: no such bucket"):
        RemoteVersions("s3://no-such-bucket/recsys", builder.versions_endpoint).current()

    offline = builder.model_copy(update={"versions_endpoint": nowhere})
    with pytest.raises(ObjectStoreError, match="is published in .* only: object store") as failed:
        build_index(offline, source, encoder)
    assert "\n" not in str(failed.value)
    store = IndexStore(offline.index_root)
    assert store.current_version() is not None and store.load().version == store.current_version()


def test_without_obstore_a_versions_url_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "obstore.store", None)  # as if the s3 extra were not installed
    with pytest.raises(ConfigError, match=r"pip install 'recsys-news\[s3\]'"):
        RemoteVersions("s3://bucket/prefix")
