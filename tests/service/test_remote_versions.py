"""A replica that follows index versions in object storage (RECSYS_VERSIONS_URL; service/state.py's
follower), in-process against moto's S3 server: it starts with an empty index folder and serves the
current version from its first answer; a version with a corrupted object is refused once and the old
one keeps serving; an unreachable object store is flagged in /health and the metric, and lists keep
being answered. The follower's timer is off: each test takes the look itself (ServiceState.follow_remote).
"""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from index.build import build_index
from recsys.catalog.ingest import import_file
from recsys.catalog.store import Catalog
from recsys.settings import Settings
from recsys.version.store import IndexStore
from service.state import ServiceState
from tests.fakes import FakeEncoder
from tests.helpers import ClientFactory
from tests.objectstore import S3Server
from tests.servers import free_port


@pytest.fixture
def builder(tmp_path: Path, versions_url: str, s3_server: S3Server) -> Settings:
    return Settings(
        data_dir=tmp_path / "builder", versions_url=versions_url, versions_endpoint=s3_server.endpoint
    )


@pytest.fixture
def source(builder: Settings, corpus_file: Path) -> Catalog:
    catalog = Catalog(builder.catalog_file)
    import_file(catalog, corpus_file, strict=True)
    return catalog


def _replica(tmp_path: Path, builder: Settings, **overrides: object) -> Settings:
    """A replica's settings: a data folder of its own (empty), the builder's catalog file."""
    fields: dict[str, object] = {
        "data_dir": tmp_path / "replica",
        "catalog_url": str(builder.catalog_file),
        "versions_url": builder.versions_url,
        "versions_endpoint": builder.versions_endpoint,
        "reload_interval": 0,
        "versions_poll_seconds": 0,
        **overrides,
    }
    return Settings(**fields)  # type: ignore[arg-type]


def _state(client: TestClient) -> ServiceState:
    state: ServiceState = client.app.state.recsys  # type: ignore[attr-defined]
    return state


def _served(client: TestClient) -> str | None:
    version: str | None = client.get("/health").json()["index_version"]
    return version


def test_a_replica_with_an_empty_folder_serves_the_current_version_and_refuses_a_corrupted_one(
    tmp_path: Path,
    builder: Settings,
    source: Catalog,
    encoder: FakeEncoder,
    s3_server: S3Server,
    make_client: ClientFactory,
    caplog: pytest.LogCaptureFixture,
) -> None:
    first = build_index(builder, source, encoder).version
    client = make_client(_replica(tmp_path, builder))
    assert _served(client) == first  # from its first answer: fetched before the first load
    state = _state(client)
    assert state.follow_remote() == "same"

    second = build_index(builder, source, encoder, full=True).version
    s3_server.put(builder.versions_url, f"versions/{second}/neighbours.npy", b"corrupted")
    with caplog.at_level(logging.ERROR, logger="service.state"):
        assert state.follow_remote() == "refused"
        assert state.follow_remote() == "refused"  # not downloaded, nor said, again
    refusals = [r for r in caplog.records if "refused index version" in r.getMessage()]
    assert len(refusals) == 1 and "neighbours.npy fails its checksum" in refusals[0].getMessage()
    assert f"still serving {first}" in refusals[0].getMessage()
    health = client.get("/health").json()
    assert health["index_version"] == first and health["status"] == "ok"
    assert "fails its checksum" in health["versions_error"]
    assert client.get("/articles/harbour-0/related").json()["index_version"] == first
    assert 'recsys_version_downloads_total{result="refused"} 1.0' in client.get("/metrics").text
    replica = IndexStore(state.settings.index_root)
    assert second not in replica.list_versions() and replica.current_version() == first

    third = build_index(builder, source, encoder, full=True).version  # the next good one is taken
    assert state.follow_remote() == "moved"
    state.reload()
    assert _served(client) == third and client.get("/health").json()["versions_error"] is None
    assert 'recsys_version_downloads_total{result="installed"} 2.0' in client.get("/metrics").text


def test_an_unreachable_object_store_is_flagged_and_the_replica_keeps_serving(
    tmp_path: Path, builder: Settings, source: Catalog, encoder: FakeEncoder, make_client: ClientFactory
) -> None:
    own = S3Server().start()  # stopped in the middle of the test: not the session's
    try:
        url = own.bucket()
        reachable = builder.model_copy(update={"versions_url": url, "versions_endpoint": own.endpoint})
        first = build_index(reachable, source, encoder).version
        client = make_client(_replica(tmp_path, reachable))
        assert _served(client) == first
        own.stop()
        state = _state(client)
        assert state.follow_remote() == "unreachable"
        health = client.get("/health").json()
        assert health["status"] == "stale" and health["versions_reachable"] is False
        assert health["index_version"] == first
        assert health["versions_error"].startswith("object store <versions>: cannot read CURRENT")
        assert url not in health["versions_error"] and own.endpoint not in health["versions_error"]
        assert client.get("/articles/harbour-0/related").status_code == 200
        assert "recsys_versions_reachable 0.0" in client.get("/metrics").text
    finally:
        own.stop()

    # A replica that starts while the object store is down serves what its folder has, and says so.
    later = make_client(_replica(tmp_path, reachable))
    health = later.get("/health").json()
    assert health["index_version"] == first and health["versions_reachable"] is False


def test_a_replica_started_without_any_version_anywhere_waits_for_the_first(
    tmp_path: Path, builder: Settings, source: Catalog, encoder: FakeEncoder, make_client: ClientFactory
) -> None:
    client = make_client(_replica(tmp_path, builder))
    assert client.get("/health").status_code == 503
    state = _state(client)
    assert state.follow_remote() == "same"
    version = build_index(builder, source, encoder).version
    assert state.follow_remote() == "moved"
    state.reload()
    assert client.get("/health").status_code == 200 and _served(client) == version


def test_a_versions_url_that_is_not_s3_is_refused_at_once() -> None:
    with pytest.raises(ValueError, match="s3://bucket"):
        Settings(versions_url="https://example.com/versions")
    with pytest.raises(ValueError, match="http"):
        Settings(versions_url="s3://b", versions_endpoint=f"127.0.0.1:{free_port()}")
