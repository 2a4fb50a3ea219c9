"""One error body for every 4xx and 5xx (service/errors.py), FastAPI's and Starlette's own included,
never echoing the input, and the OpenAPI document saying so (fake encoder)."""

from __future__ import annotations

import logging

import pytest
from fastapi.testclient import TestClient

from recsys.catalog.store import Catalog
from recsys.settings import Settings
from service.app import create_app
from tests.fakes import FakeEncoder
from tests.helpers import ClientFactory


@pytest.fixture
def client(built: Catalog, make_client: ClientFactory) -> TestClient:
    return make_client(api_key="k")


def _error(response, status: int, kind: str) -> str:  # type: ignore[no-untyped-def]
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error", "detail"} and body["error"] == kind, body
    return str(body["detail"])


def test_validation_errors_name_the_parameter_and_never_echo_the_input(client: TestClient) -> None:
    detail = _error(
        client.get("/articles/harbour-1/related", params={"limit": "x" * 300}), 422, "invalid_input"
    )
    assert detail.startswith("query.limit: ") and "xxx" not in detail
    huge = {"title": "harbour " * 100_000}
    response = client.post("/related", json=huge)
    assert "body.title: " in _error(response, 422, "invalid_input") and len(response.content) < 1_000


def test_a_lone_surrogate_in_a_rejected_input_is_a_422_not_a_500(client: TestClient) -> None:
    # json.loads turns the escape into a lone surrogate, which an echo could not encode as UTF-8.
    raw = b'{"title": "harbour", "tags": "\\ud800"}'
    response = client.post("/related", content=raw, headers={"Content-Type": "application/json"})
    assert _error(response, 422, "invalid_input").startswith("body.tags: ")


def test_starlette_errors_use_the_one_body(client: TestClient) -> None:
    assert _error(client.get("/nothing-here"), 404, "not_found") == "Not Found"
    wrong_method = client.post("/health")
    assert _error(wrong_method, 405, "method_not_allowed") and wrong_method.headers["allow"] == "GET"
    no_key = client.post("/admin/reload")
    assert "X-API-Key" in _error(no_key, 401, "unauthorized") and no_key.headers["www-authenticate"]
    assert _error(client.post("/admin/reload", headers={"X-API-Key": "no"}), 403, "forbidden")
    broken_json = client.post("/related", content=b"{", headers={"Content-Type": "application/json"})
    assert "JSON decode error" in _error(broken_json, 422, "invalid_input")


def test_an_unexpected_error_is_a_json_500_logged_once(
    client: TestClient, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def boom() -> int:
        raise RuntimeError("disk on fire at /srv/secret/path")

    monkeypatch.setattr(client.app.state.recsys, "catalog_count", boom)  # type: ignore[attr-defined]
    with caplog.at_level(logging.ERROR):
        response = client.get("/health")
    assert response.json() == {"error": "internal", "detail": "internal error"}
    assert response.status_code == 500
    logged = [r for r in caplog.records if r.exc_info]
    assert len(logged) == 1 and "disk on fire" in str(logged[0].exc_info[1])  # type: ignore[index]
    metrics = client.get("/metrics").text
    assert 'route="/health",status="500"' in metrics


def test_openapi_documents_the_error_body_for_every_422(settings: Settings, encoder: FakeEncoder) -> None:
    app = create_app(settings, encoder=encoder)

    @app.get("/probe")  # a route that declares no 422: FastAPI would document HTTPValidationError
    def probe(n: int) -> int:
        return n

    spec = app.openapi()
    assert "HTTPValidationError" not in str(spec)
    documented = [
        op["responses"]["422"]["content"]["application/json"]["schema"]
        for path in spec["paths"].values()
        for op in path.values()
        if "422" in op["responses"]
    ]
    assert len(documented) >= 11 and all(s == {"$ref": "#/components/schemas/ErrorBody"} for s in documented)
    assert "422" in spec["paths"]["/probe"]["get"]["responses"]
    with TestClient(app) as client:
        assert _error(client.get("/probe", params={"n": "x"}), 422, "invalid_input").startswith("query.n")
