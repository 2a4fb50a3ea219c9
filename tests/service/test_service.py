from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from recsys.catalog.ingest import import_file
from recsys.catalog.store import Catalog
from recsys.settings import Settings
from service.app import create_app
from tests.fakes import FakeEncoder, topic_of, write_jsonl


def test_related_returns_the_known_neighbours_with_all_fields(client: TestClient) -> None:
    response = client.get("/articles/football-2/related", params={"limit": 5})
    assert response.status_code == 200
    body = response.json()
    assert body["article_id"] == "football-2" and body["index_version"]
    items = body["items"]
    assert len(items) == 5
    assert {topic_of(item["id"]) for item in items} == {"football"}
    assert "football-2" not in [item["id"] for item in items]
    first = items[0]
    assert set(first) == {
        "id",
        "url",
        "title",
        "section",
        "published_at",
        "image_url",
        "author",
        "language",
        "score",
        "reason",
    }
    assert first["url"].startswith("https://news.example/football/") and first["section"] == "football"
    assert first["reason"] == "similar" and -1.0 <= first["score"] <= 1.0


def test_default_limit_comes_from_settings(tmp_path: Path, built: Catalog, encoder: FakeEncoder) -> None:
    settings = Settings(data_dir=tmp_path / "data", default_limit=3)
    with TestClient(create_app(settings, encoder=encoder)) as client:
        assert len(client.get("/articles/football-2/related").json()["items"]) == 3


def test_unknown_article_is_404_with_json(client: TestClient) -> None:
    response = client.get("/articles/no-such-id/related")
    assert response.status_code == 404
    assert response.json() == {"error": "not_found", "detail": "no article with id 'no-such-id'"}


@pytest.mark.parametrize("limit", ["0", "101", "-5", "ten", "1e9"])
def test_absurd_limit_is_422(client: TestClient, limit: str) -> None:
    response = client.get("/articles/football-2/related", params={"limit": limit})
    assert response.status_code == 422
    body = response.json()
    assert body["error"] == "invalid_input" and body["detail"].startswith("query.limit: ")


def test_ids_with_slashes_and_spaces(client: TestClient, built: Catalog, tmp_path: Path) -> None:
    import_file(
        built,
        write_jsonl(
            tmp_path / "odd.jsonl", [{"id": "2026/03/ferry dock", "title": "harbour ferry dock tide"}]
        ),
    )
    # Imported elsewhere: known to requests once the change watcher has refreshed (they read no catalog).
    client.app.state.recsys.refresh_live()  # type: ignore[attr-defined]
    response = client.get("/articles/2026%2F03%2Fferry%20dock/related", params={"limit": 3})
    assert response.status_code == 200
    assert {topic_of(i["id"]) for i in response.json()["items"]} == {"harbour"}


def test_retraction_is_visible_at_once(client: TestClient, built: Catalog) -> None:
    before = [i["id"] for i in client.get("/articles/vaccine-0/related", params={"limit": 5}).json()["items"]]
    built.set_status(before[0], "retracted")
    # What the change watcher does within RECSYS_CHANGE_POLL_SECONDS of a write made elsewhere.
    client.app.state.recsys.refresh_live()  # type: ignore[attr-defined]
    after = [i["id"] for i in client.get("/articles/vaccine-0/related", params={"limit": 5}).json()["items"]]
    assert before[0] not in after and len(after) == 5


def test_health_reports_version_and_counts(client: TestClient, settings: Settings) -> None:
    response = client.get("/health")
    assert response.status_code == 200
    body = response.json()
    current = (settings.index_root / "CURRENT").read_text().strip()
    assert body["status"] == "ok" and body["index_version"] == current
    assert body["index_articles"] == 30 and body["catalog_articles"] == 30
    assert body["model"] == "fake-bag-of-words" and body["error"] is None and body["detail"] is None


def test_without_an_index_health_and_related_are_503(
    settings: Settings, catalog: Catalog, encoder: FakeEncoder
) -> None:
    with TestClient(create_app(settings, encoder=encoder)) as client:
        health = client.get("/health")
        assert health.status_code == 503
        assert health.json()["status"] == "unavailable" and health.json()["error"] == "index_unavailable"
        assert "recsys build" in health.json()["detail"]
        related = client.get("/articles/x/related")
        assert related.status_code == 503 and related.json()["error"] == "index_unavailable"


def test_an_index_of_another_model_is_refused(settings: Settings, built: Catalog) -> None:
    with TestClient(create_app(settings, encoder=FakeEncoder(name="another-model"))) as client:
        health = client.get("/health").json()
        assert health["status"] == "unavailable" and "another-model" in health["detail"]


def test_openapi_docs_and_metrics(client: TestClient) -> None:
    assert client.get("/docs").status_code == 200
    spec = client.get("/openapi.json").json()
    assert "/articles/{article_id}/related" in spec["paths"]
    client.get("/articles/football-2/related")
    client.get("/articles/nope/related")
    metrics = client.get("/metrics")
    assert metrics.status_code == 200
    text = metrics.text
    assert (
        'recsys_http_requests_total{method="GET",'
        'route="/articles/{article_id:path}/related",status="200"} 1.0' in text
    )
    assert 'status="404"' in text and "recsys_index_articles 30.0" in text


def test_unknown_route_is_json_404(client: TestClient) -> None:
    response = client.get("/nothing-here")
    assert response.status_code == 404 and response.json() == {"error": "not_found", "detail": "Not Found"}


def test_public_answers_name_no_server_paths(
    settings: Settings, catalog: Catalog, encoder: FakeEncoder
) -> None:
    with TestClient(create_app(settings, encoder=encoder)) as client:
        health = client.get("/health").json()
        related = client.get("/articles/x/related").json()
    roots = {str(settings.data_dir), str(settings.data_dir.resolve())}
    for text in (health["detail"], related["detail"]):
        assert text and "recsys build" in text and not any(root in text for root in roots)
        assert "<index>" in text


def test_cors_is_off_by_default_and_for_get_only_when_on(
    settings: Settings, built: Catalog, encoder: FakeEncoder
) -> None:
    site = "https://www.news.example"
    with TestClient(create_app(settings, encoder=encoder)) as client:
        plain = client.get("/articles/harbour-0/related", headers={"Origin": site})
        assert "access-control-allow-origin" not in plain.headers
    configured = Settings(data_dir=settings.data_dir, cors_origins=f"{site}, https://m.news.example")
    with TestClient(create_app(configured, encoder=encoder)) as client:
        allowed = client.get("/articles/harbour-0/related", headers={"Origin": site})
        assert allowed.headers["access-control-allow-origin"] == site
        preflight = client.options(
            "/admin/blocks", headers={"Origin": site, "Access-Control-Request-Method": "POST"}
        )
        assert preflight.status_code == 400  # admin writes are not for browsers
