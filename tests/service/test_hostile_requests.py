"""Requests built to break the service (issue 9): each must get a clean 4xx with the one error body,
never a 500 (fake encoder)."""

from __future__ import annotations

import base64
import json
import sqlite3
import time

import pytest
from fastapi.testclient import TestClient

from recsys.catalog.store import Catalog
from recsys.settings import Settings
from service.app import create_app
from tests.fakes import FakeEncoder
from tests.helpers import ClientFactory

KEY = "s3cret"
ADMIN = {"X-API-Key": KEY}
EDGES = ["0999-06-01T00:00:00Z", "0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00"]


@pytest.fixture
def client(built: Catalog, make_client: ClientFactory) -> TestClient:
    return make_client(api_key=KEY)


@pytest.mark.parametrize("moment", EDGES)
def test_implausible_draft_dates_are_422(client: TestClient, moment: str) -> None:
    draft = {"title": "harbour ferry dock", "published_at": moment}
    response = client.post("/related", json=draft)
    assert response.status_code == 422, response.text
    assert client.post("/related", json={**draft, "published_at": "2026-03-01T00:00:00Z"}).status_code == 200


@pytest.mark.parametrize("name", ["since", "until"])
@pytest.mark.parametrize("moment", EDGES)
def test_implausible_date_windows_are_422(client: TestClient, name: str, moment: str) -> None:
    for path in ("/articles/harbour-1/related", "/articles/harbour-1/blocks"):
        response = client.get(path, params={name: moment})
        assert response.status_code == 422, (path, response.text)


@pytest.mark.parametrize("moment", EDGES[1:])
def test_implausible_block_expiry_is_422(client: TestClient, moment: str) -> None:
    body = {"target": "harbour-2", "expires_at": moment}
    assert client.post("/admin/blocks", json=body, headers=ADMIN).status_code == 422


def _post_raw(client: TestClient, method: str, path: str, raw: str) -> int:
    # Raw JSON: the escape reaches the service as a lone surrogate, which UTF-8 cannot encode.
    headers = {**ADMIN, "Content-Type": "application/json"}
    return client.request(method, path, content=raw.encode(), headers=headers).status_code


@pytest.mark.parametrize(
    ("method", "path", "raw"),
    [
        ("POST", "/related", '{"title": "harbour \\ud800 ferry"}'),
        ("POST", "/related", '{"title": "harbour", "body": "\\udfff", "section": "x"}'),
        ("POST", "/related", '{"title": "harbour", "tags": ["\\ud800"]}'),
        ("PUT", "/admin/pins/harbour-1", '{"pins": ["\\ud800"]}'),
        ("PUT", "/admin/pins/harbour-1", '{"pins": ["harbour-2", "x\\udc80"]}'),
        ("POST", "/admin/blocks", '{"target": "\\ud800"}'),
        ("POST", "/admin/blocks", '{"target": "harbour-2", "article": "\\ud800"}'),
    ],
)
def test_lone_surrogates_are_422(client: TestClient, method: str, path: str, raw: str) -> None:
    assert _post_raw(client, method, path, raw) == 422
    assert client.get("/admin/pins/harbour-1", headers=ADMIN).json()["pins"] == []


@pytest.mark.parametrize(
    "payload",
    [b'{"v":1,"seen":[18446744073709551616]}', b'{"v":1,"seen":[9223372036854775808]}', b"[" * 1500],
)
def test_crafted_cursors_are_422(client: TestClient, payload: bytes) -> None:
    cursor = base64.urlsafe_b64encode(payload).decode().rstrip("=")
    for path in ("/articles/harbour-1/related", "/articles/harbour-1/blocks"):
        response = client.get(path, params={"cursor": cursor})
        assert response.status_code == 422 and response.json()["error"] == "invalid_input", response.text


def test_a_malformed_manifest_is_served_as_503_and_refused_by_reload(
    settings: Settings, built: Catalog, encoder: FakeEncoder
) -> None:
    version = (settings.index_root / "CURRENT").read_text().strip()
    path = settings.index_root / "versions" / version / "manifest.json"
    path.write_text(json.dumps({**json.loads(path.read_text()), "dimension": "abc"}))
    configured = Settings(data_dir=settings.data_dir, api_key=KEY, reload_interval=0)
    with TestClient(create_app(configured, encoder=encoder)) as client:
        health = client.get("/health")
        assert health.status_code == 503 and "dimension is not a positive integer" in health.json()["detail"]
        assert client.post("/admin/reload", headers=ADMIN).status_code == 409
        assert client.get("/articles/harbour-1/related").json()["error"] == "index_unavailable"


def test_a_write_meeting_a_lock_is_a_quick_503_with_retry_after(
    settings: Settings, built: Catalog, encoder: FakeEncoder
) -> None:
    configured = Settings(data_dir=settings.data_dir, api_key=KEY, busy_timeout=0.1)
    with TestClient(create_app(configured, encoder=encoder)) as client:
        with sqlite3.connect(settings.catalog_file, isolation_level=None) as importer:
            importer.execute("BEGIN IMMEDIATE")  # what an import batch holds
            started = time.perf_counter()
            response = client.post("/admin/blocks", json={"target": "harbour-2"}, headers=ADMIN)
            assert time.perf_counter() - started < 2
            assert response.status_code == 503 and response.headers["retry-after"] == "1"
            assert response.json()["error"] == "catalog_busy"
            assert client.get("/articles/harbour-1/related").status_code == 200  # reads go on
            importer.execute("ROLLBACK")
        assert client.post("/admin/blocks", json={"target": "harbour-2"}, headers=ADMIN).status_code == 201


def test_a_catalog_that_refuses_writes_is_a_503_that_names_no_path(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    catalog = client.app.state.recsys.query_side.catalog  # type: ignore[attr-defined]
    connect = catalog._conn

    def read_only() -> sqlite3.Connection:  # SQLITE_READONLY, as on a read-only disk, on every thread
        conn = connect()
        conn.execute("PRAGMA query_only = ON")
        return conn

    monkeypatch.setattr(catalog, "_conn", read_only)
    body = {"pins": [f"harbour-{i}" for i in range(2, 6)]}
    response = client.put("/admin/pins/harbour-1", json=body, headers=ADMIN)
    assert response.status_code == 503, response.text
    assert response.json() == {"error": "storage_unavailable", "detail": "the catalog cannot be written now"}
