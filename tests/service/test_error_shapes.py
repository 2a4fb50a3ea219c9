"""Every kind of error answer the service gives, triggered one by one, has the one documented body:
a JSON object with `error` (the kind) and `detail` (a message), and nothing else, except /health's 503
and /admin/reload's 409, which carry the same two fields beside their own (docs/api.md, Errors)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from starlette.types import ASGIApp, Receive, Scope, Send

from index.build import build_index
from recsys.catalog.store import Catalog
from recsys.settings import Settings
from recsys.version.store import IndexStore
from service.app import create_app
from tests.fakes import FakeEncoder
from tests.helpers import ClientFactory, HeldEncoder, held_drafts

KEY = {"X-API-Key": "k"}
ORIGIN = "https://www.example.com"
DOCS = Path(__file__).resolve().parents[2] / "docs"


def _settings(settings: Settings, **overrides: object) -> Settings:
    return Settings(
        data_dir=settings.data_dir,
        api_key="k",
        reload_interval=0,
        cors_origins=ORIGIN,
        max_body_bytes=2048,
        **overrides,  # type: ignore[arg-type]
    )


@pytest.fixture
def client(settings: Settings, built: Catalog, make_client: ClientFactory) -> TestClient:
    return make_client(_settings(settings))


def _error(response, status: int, kind: str, extra: frozenset[str] = frozenset()) -> dict:  # type: ignore[no-untyped-def,type-arg]
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json", response.headers
    body = response.json()
    assert set(body) == {"error", "detail"} | extra, body
    assert body["error"] == kind and isinstance(body["detail"], str) and body["detail"], body
    return body  # type: ignore[no-any-return]


def test_client_errors_have_the_one_body(client: TestClient) -> None:
    _error(client.get("/no-such-route"), 404, "not_found")
    _error(client.get("/articles/no-such-article/related"), 404, "not_found")
    _error(client.delete("/health"), 405, "method_not_allowed")
    _error(client.get("/articles/harbour-1/related", params={"limit": 0}), 422, "invalid_input")
    _error(client.post("/related", json={"tags": ["harbour"]}), 422, "invalid_input")  # no title, no body
    big = client.post("/related", content=b"x" * 5000, headers={"Content-Type": "application/json"})
    _error(big, 413, "body_too_large")
    _error(client.post("/admin/reload"), 401, "unauthorized")
    _error(client.post("/admin/reload", headers={"X-API-Key": "wrong"}), 403, "forbidden")


def test_a_refused_cors_preflight_has_the_one_body(client: TestClient) -> None:
    preflight = {"Access-Control-Request-Method": "GET"}
    allowed = client.options("/articles/harbour-1/related", headers={"Origin": ORIGIN, **preflight})
    assert allowed.status_code == 200 and allowed.headers["access-control-allow-origin"] == ORIGIN
    evil = {"Origin": "https://evil.example", **preflight}
    other = client.options("/articles/harbour-1/related", headers=evil)
    assert "origin" in _error(other, 400, "cors_refused")["detail"]
    post = {"Origin": ORIGIN, "Access-Control-Request-Method": "POST"}
    assert "method" in _error(client.options("/related", headers=post), 400, "cors_refused")["detail"]


def test_disabled_admin_endpoints_answer_403_with_the_one_body(
    settings: Settings, built: Catalog, encoder: FakeEncoder
) -> None:
    with TestClient(create_app(Settings(data_dir=settings.data_dir), encoder=encoder)) as client:
        assert "RECSYS_API_KEY" in _error(client.get("/admin/blocks"), 403, "forbidden")["detail"]


def test_back_pressure_answers_have_the_one_body(settings: Settings, built: Catalog) -> None:
    encoder = HeldEncoder()
    configured = _settings(settings, max_in_flight=1, max_concurrent_encodes=1)
    with TestClient(create_app(configured, encoder=encoder)) as client, held_drafts(client, encoder, 1):
        refused = client.get("/articles/harbour-1/related")
        assert refused.headers["retry-after"] == "1"
        _error(refused, 503, "overloaded")
    with TestClient(create_app(_settings(settings, max_concurrent_encodes=1), encoder=encoder)) as client:
        slots = client.app.state.recsys.query_side.encode_slots  # type: ignore[attr-defined]
        with slots:  # what a draft being encoded holds
            busy = client.post("/related", json={"title": "harbour ferry"})
        assert busy.headers["retry-after"] == "1"
        _error(busy, 429, "encoder_busy")


def test_health_503_is_the_error_body_plus_the_health_fields(
    settings: Settings, catalog: Catalog, encoder: FakeEncoder
) -> None:
    with TestClient(create_app(_settings(settings), encoder=encoder)) as client:
        extra = frozenset(client.get("/openapi.json").json()["components"]["schemas"]["Health"]["properties"])
        body = _error(client.get("/health"), 503, "index_unavailable", extra - {"error", "detail"})
        assert body["status"] == "unavailable" and "recsys build" in body["detail"]
        _error(client.get("/articles/harbour-1/related"), 503, "index_unavailable")


def test_a_build_refused_while_another_runs_has_the_one_body(client: TestClient, settings: Settings) -> None:
    with IndexStore(settings.index_root).build_lock():  # as `recsys build` or another worker holds it
        _error(client.post("/admin/builds", headers=KEY), 409, "build_locked")
    _error(client.get("/admin/builds/no-such-build", headers=KEY), 404, "not_found")
    _error(client.put("/admin/articles/a", headers=KEY, json={"title": 3}), 422, "invalid_input")


def test_a_refused_reload_is_the_error_body_plus_the_versions(
    client: TestClient, settings: Settings, built: Catalog, encoder: FakeEncoder
) -> None:
    served = client.get("/health").json()["index_version"]
    ok = client.post("/admin/reload", headers=KEY)
    assert ok.status_code == 200 and ok.json()["error"] is None and ok.json()["detail"] is None
    broken = build_index(_settings(settings), built, encoder).version
    (settings.index_root / "versions" / broken / "manifest.json").write_text("{not json")
    versions = frozenset({"served_version", "current_version", "reloaded"})
    body = _error(client.post("/admin/reload", headers=KEY), 409, "version_refused", versions)
    assert body["served_version"] == served and body["current_version"] == broken and broken in body["detail"]
    shutil.rmtree(settings.index_root / "versions" / broken)


def test_an_unexpected_error_is_the_json_500_inside_and_outside_the_app(
    client: TestClient,
    settings: Settings,
    built: Catalog,
    encoder: FakeEncoder,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def boom() -> int:
        raise RuntimeError("unexpected")

    monkeypatch.setattr(client.app.state.recsys, "catalog_count", boom)  # type: ignore[attr-defined]
    assert _error(client.get("/health"), 500, "internal")["detail"] == "internal error"

    class Failing:  # a bug in an outer middleware: Starlette's last resort answers it
        def __init__(self, app: ASGIApp) -> None:
            self.app = app

        async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] == "http":
                raise RuntimeError("middleware bug")
            await self.app(scope, receive, send)

    app = create_app(_settings(settings), encoder=encoder)
    app.add_middleware(Failing)
    with TestClient(app, raise_server_exceptions=False) as outer:
        assert _error(outer.get("/health"), 500, "internal")["detail"] == "internal error"


def test_every_kind_is_documented() -> None:
    from service import errors

    kinds = {answer.error for _, answer in errors._ANSWERS} | set(errors._HTTP_KINDS.values())
    kinds |= {errors.INDEX_UNAVAILABLE, errors.VERSION_REFUSED, errors.CORS_REFUSED, "internal"}
    kinds |= {"not_found", "method_not_allowed", "unauthorized", "forbidden", "bad_request", "overloaded"}
    documented = "\n".join(path.read_text() for path in DOCS.glob("*.md"))
    missing = sorted(kind for kind in kinds if f"`{kind}`" not in documented)
    assert not missing, f"error kinds not documented in docs/*.md: {missing}"
