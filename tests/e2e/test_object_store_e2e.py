"""A replica that shares no folder with the builder: index versions reach it through S3-compatible
object storage (RECSYS_VERSIONS_URL). A real uvicorn process (fake encoder, `python -m
tests.serve_fake`) with an empty data folder of its own, moto's S3 server over HTTP, and builds and a
rollback made in this process, as a build host would make them.

The replica joins after the first build and serves it from its first answer; it follows a second
build, and a rollback made on the builder's side reaches it; with one worker, and with two sharing
the replica's index folder. Every wait is bounded (WAIT) and none is
an expectation of speed.
"""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from index.build import build_index
from recsys.catalog.ingest import import_file
from recsys.catalog.store import Catalog
from recsys.settings import Settings
from recsys.version.remote import RemoteVersions
from recsys.version.store import IndexStore
from tests.fakes import FakeEncoder, write_jsonl
from tests.helpers import until
from tests.objectstore import CREDENTIALS, S3Server
from tests.servers import SERVE_FAKE, metric_samples, running

WAIT = 60.0  # seconds: a bound on each wait below, never an expectation of speed
NEW_ARTICLE = {
    "id": "harbour-new",
    "title": "harbour ferry dock tide",
    "tags": ["harbour"],
    "published_at": "2026-03-02T00:00:00Z",
}


def _health(base: str) -> dict[str, object]:
    answer: dict[str, object] = httpx.get(f"{base}/health", timeout=30).json()
    return answer


def _serves(base: str, version: str) -> bool:
    # Each call a new connection, so with several workers the kernel hands them to any of them.
    return all(_health(base)["index_version"] == version for _ in range(10))


def _related(base: str, article_id: str) -> tuple[str, list[str]]:
    body = httpx.get(f"{base}/articles/{article_id}/related", params={"limit": 5}, timeout=30).json()
    return body["index_version"], [item["id"] for item in body["items"]]


def _rolled_back(base: str, first: str) -> bool:
    version, items = _related(base, "harbour-0")
    return version == first and "harbour-new" not in items


def _on_second(base: str, second: str) -> bool:
    version, items = _related(base, "harbour-0")
    return version == second and "harbour-new" in items


@pytest.mark.parametrize("workers", [1, 2])
def test_a_replica_with_no_shared_folder_follows_builds_and_a_rollback_through_object_storage(
    tmp_path: Path,
    versions_url: str,
    s3_server: S3Server,
    corpus_file: Path,
    encoder: FakeEncoder,
    workers: int,
) -> None:
    builder = Settings(
        data_dir=tmp_path / "builder", versions_url=versions_url, versions_endpoint=s3_server.endpoint
    )
    catalog = Catalog(builder.catalog_file)
    try:
        import_file(catalog, corpus_file, strict=True)
        first = build_index(builder, catalog, encoder).version
        variables = {
            **CREDENTIALS,
            "RECSYS_DATA_DIR": str(tmp_path / "replica"),
            # The catalog is the builder's file here (one machine); hosts apart share a PostgreSQL one.
            "RECSYS_CATALOG_URL": str(builder.catalog_file),
            "RECSYS_VERSIONS_URL": versions_url,
            "RECSYS_VERSIONS_ENDPOINT": s3_server.endpoint,
            "RECSYS_VERSIONS_POLL_SECONDS": "0.2",
            "RECSYS_LOG_LEVEL": "warning",
            # Several workers share the replica's index folder: one downloads, the others wait for it.
            "RECSYS_WORKERS": str(workers),
        }
        with running(SERVE_FAKE, variables) as (_, replica):
            assert _serves(replica, first)  # joined late, ready with the current one
            assert IndexStore(tmp_path / "replica" / "index").list_versions() == [first]

            # Dated and tagged like the story it joins, as a newsroom's new article is (an undated,
            # untagged one shares no names with it and ranks lower: docs/ranking-candidates.md).
            import_file(catalog, write_jsonl(tmp_path / "new.jsonl", [NEW_ARTICLE]))
            second = build_index(builder, catalog, encoder).version
            # Each worker follows by itself: wait until every answer (new connections, any worker)
            # is the second build's.
            until("the replica serves the second build", lambda: _serves(replica, second), WAIT)
            until(
                "its lists are the second build's",
                lambda: all(_on_second(replica, second) for _ in range(5)),
                WAIT,
            )

            remote = RemoteVersions(versions_url, s3_server.endpoint)
            assert remote.rollback(IndexStore(builder.index_root), expect_model=encoder.name) == (
                second,
                first,
            )
            until("the rollback reaches the replica", lambda: _serves(replica, first), WAIT)
            until(
                "its lists are the first build's again",
                lambda: all(_rolled_back(replica, first) for _ in range(5)),
                WAIT,
            )
            installed = metric_samples(replica, "recsys_version_downloads_total")
            # Made the local CURRENT: the first at start-up, the second, the first again (still on
            # disk); by one worker each time, whichever took the folder's lock first.
            assert ({"result": "installed"}, 3.0) in installed
            assert _health(replica)["versions_reachable"] is True
    finally:
        catalog.dispose()
