"""A service on a PostgreSQL catalog: changes pushed by another writer, and the server going away.

- A write made through another Catalog object (another replica, the CLI) reaches a running service's
  lists through LISTEN/NOTIFY, with the safety poll set far beyond the wait (so only a notification
  can have brought it).
- The server killed while the service serves (pg_ctl stop -m immediate: no checkpoint, connections
  dropped): every list request is answered from memory, the same list as before; /health and the
  metric say the catalog is unreachable; writes are 503 with Retry-After; once the server is back the
  watcher reconnects and catches up, on a write committed before it was listening again, and the write
  acknowledged before the kill is in the catalog.
- An article imported before the kill and not built yet is listed from memory (the watcher prepared
  it), and an unknown id or URL answers 404 from memory.
- A service started while the server is down says so in one log line and waits; it starts once the
  server answers.

Every wait is bounded (WAIT) and none is an expectation of speed.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from recsys.catalog.store import Catalog
from recsys.settings import Settings
from service import state as service_state
from service.app import create_app
from tests.fakes import FakeEncoder
from tests.helpers import ClientFactory, until
from tests.postgres import PostgresServer

KEY = {"X-API-Key": "s3cret"}
WAIT = 30.0  # seconds: a bound on each wait, never an expectation of speed


def _until(what: str, check: Callable[[], Any]) -> Any:
    return until(what, check, WAIT)


def _ids(client: TestClient, article_id: str) -> list[str]:
    response = client.get(f"/articles/{article_id}/related", params={"limit": 10})
    assert response.status_code == 200, response.text
    return [item["id"] for item in response.json()["items"]]


@pytest.fixture
def settings(own_postgres: PostgresServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """Every test here on a migrated catalog on a server of its own, which it may kill."""
    url = own_postgres.url()
    Catalog.migrate(url)
    monkeypatch.setenv("RECSYS_CATALOG_URL", url)
    return Settings(data_dir=tmp_path / "data")


@pytest.fixture
def other(settings: Settings) -> Iterator[Callable[[str], None]]:
    """`other(id)`: a retraction made through another Catalog object, as another replica makes it."""

    def retract(article_id: str) -> None:
        catalog = Catalog(settings.catalog_location)
        try:
            assert catalog.set_status(article_id, "retracted")
        finally:
            catalog.dispose()

    yield retract


def _listening(server: PostgresServer) -> bool:
    """Whether a connection of the server is LISTENing on the catalog's channel now."""
    import psycopg

    with psycopg.connect(server.url(), autocommit=True) as conn:
        row = conn.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE query LIKE 'LISTEN recsys_changes%'"
        ).fetchone()
    return bool(row and row[0])


def test_a_write_by_another_replica_reaches_the_lists_by_notification(
    settings: Settings,
    built: Catalog,
    make_client: ClientFactory,
    own_postgres: PostgresServer,
    other: Callable[[str], None],
) -> None:
    # The safety poll is far beyond the wait: only a notification can bring the change in time.
    client = make_client(reload_interval=0, change_safety_poll_seconds=3600)
    _until("the change watcher listens", lambda: _listening(own_postgres))
    gone = _ids(client, "harbour-0")[0]
    other(gone)
    _until(f"{gone} leaves harbour-0's list", lambda: gone not in _ids(client, "harbour-0"))


SUBJECTS = ("harbour-0", "harbour-3", "harbour-5")


def test_a_killed_server_leaves_lists_answered_from_memory_and_writes_refused_until_it_is_back(
    settings: Settings,
    built: Catalog,
    make_client: ClientFactory,
    own_postgres: PostgresServer,
    other: Callable[[str], None],
) -> None:
    client = make_client(api_key="s3cret", reload_interval=0)
    _until("the change watcher listens", lambda: _listening(own_postgres))
    acknowledged = _ids(client, "harbour-0")[0]
    assert client.post(f"/admin/articles/{acknowledged}/retract", headers=KEY).status_code == 200
    lists = {subject: _ids(client, subject) for subject in SUBJECTS}
    assert client.get("/health").json()["catalog_articles"] > 0  # counted while reachable

    own_postgres.kill()

    health = _until(
        "/health says the catalog is unreachable",
        lambda: (body := client.get("/health").json())["catalog_reachable"] is False and body,
    )
    assert health["status"] == "stale" and health["stale_since"] and health["catalog_error"]
    assert health["catalog_articles"] > 0  # the last count, not a wait on the server
    assert "recsys_catalog_reachable 0.0" in client.get("/metrics").text
    answered = 0
    for _ in range(5):
        for subject, expected in lists.items():
            assert _ids(client, subject) == expected  # from memory: the same list, never a 500
            answered += 1
    assert answered == 5 * len(SUBJECTS)
    for method, path, body in (
        ("POST", "/admin/articles/harbour-2/retract", None),
        ("PUT", "/admin/articles/harbour-new", {"title": "Ferry", "body": "harbour ferry dock"}),
        ("PUT", "/admin/pins/harbour-0", {"pins": ["harbour-4"]}),
    ):
        refused = client.request(method, path, json=body, headers=KEY)
        assert refused.status_code == 503, (path, refused.text)
        assert refused.headers["Retry-After"] and refused.json()["error"] == "catalog_busy"

    own_postgres.resume()
    # Written as soon as the server is back, likely before the watcher listens again (it retries
    # every second): the read after its reconnection catches it up.
    caught_up = lists["harbour-3"][0]
    other(caught_up)
    _until("/health says the catalog is reachable", lambda: client.get("/health").json()["catalog_reachable"])
    _until(f"{caught_up} leaves harbour-3's list", lambda: caught_up not in _ids(client, "harbour-3"))
    assert "recsys_catalog_reachable 1.0" in client.get("/metrics").text
    # The retraction acknowledged before the kill survived it.
    catalog = Catalog(settings.catalog_location)
    try:
        assert catalog.get(acknowledged).status == "retracted"
    finally:
        catalog.dispose()
    # Writes work again.
    assert client.post("/admin/articles/harbour-2/retract", headers=KEY).status_code == 200


LATE = {
    "title": "Ferry Dock Tide",
    "body": "harbour ferry dock tide pier crane late",
    "url": "https://news.example/harbour/late",
    "section": "harbour",
    "published_at": "2026-03-20T08:00:00Z",
}


def test_an_article_imported_before_the_kill_and_not_built_is_listed_and_an_unknown_id_is_404(
    settings: Settings, built: Catalog, make_client: ClientFactory, own_postgres: PostgresServer
) -> None:
    """The version does not hold the new article: the watcher prepared it (body and vector) from the
    catalog before the kill, so its lists need no catalog; an id or URL nobody knows is not found,
    from memory. No response cache: every answer is made during the outage."""
    client = make_client(api_key="s3cret", reload_interval=0, response_cache_size=0)
    _until("the change watcher listens", lambda: _listening(own_postgres))
    assert client.put("/admin/articles/harbour-late", json=LATE, headers=KEY).status_code == 201
    recommender = client.app.state.recsys.serving()  # type: ignore[attr-defined]
    _until("the watcher prepared it", lambda: recommender.in_memory("harbour-late"))
    listed = _ids(client, "harbour-late")
    blocks = client.get("/related", params={"url": LATE["url"]}).json()
    assert listed and blocks["related"]["items"]

    own_postgres.kill()
    _until(
        "/health says the catalog is unreachable",
        lambda: not client.get("/health").json()["catalog_reachable"],
    )
    for _ in range(3):
        assert _ids(client, "harbour-late") == listed
        assert client.get("/related", params={"url": LATE["url"]}).json() == blocks
        for path, params in (
            ("/articles/no-such-story/related", {}),
            ("/articles/no-such-story/blocks", {}),
            ("/related", {"url": "https://news.example/no/such/story"}),
        ):
            missing = client.get(path, params=params)
            assert missing.status_code == 404 and missing.json()["error"] == "not_found", (path, missing.text)
    own_postgres.resume()
    _until("/health says the catalog is reachable", lambda: client.get("/health").json()["catalog_reachable"])


def test_a_service_started_while_the_server_is_down_says_so_once_and_starts_when_it_is_back(
    settings: Settings,
    built: Catalog,
    encoder: FakeEncoder,
    own_postgres: PostgresServer,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(service_state, "STARTUP_RETRY_SECONDS", 0.1)
    caplog.set_level(logging.INFO, logger="service.state")
    own_postgres.kill()
    client = TestClient(create_app(Settings(data_dir=settings.data_dir, reload_interval=0), encoder=encoder))
    started = threading.Event()

    def start() -> None:
        client.__enter__()
        started.set()

    threading.Thread(target=start, daemon=True).start()

    def said() -> list[str]:
        return [r.getMessage() for r in caplog.records if "unreachable at start-up" in r.getMessage()]

    _until("the start-up says the catalog is unreachable", said)
    assert not started.is_set()
    own_postgres.resume()
    _until("the service starts once the server answers", started.is_set)
    try:
        assert len(said()) == 1  # one line, not one per try
        assert any("catalog reached after" in r.getMessage() for r in caplog.records)
        assert client.get("/health").json()["status"] == "ok"
        assert _ids(client, "harbour-0")
    finally:
        client.__exit__(None, None, None)
