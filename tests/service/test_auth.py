from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from fastapi.testclient import TestClient

from recsys.catalog.store import Catalog
from recsys.settings import Settings
from service.app import create_app
from service.auth import AdminKey
from tests.fakes import FakeEncoder


def _client(tmp_path: Path, api_key: str | None) -> TestClient:
    app = create_app(Settings(data_dir=tmp_path / "data", api_key=api_key), encoder=FakeEncoder())
    probe = APIRouter()

    @probe.post("/admin/probe", dependencies=[AdminKey])
    def admin_probe() -> dict[str, bool]:
        return {"ok": True}

    app.include_router(probe)
    return TestClient(app)


def test_admin_needs_the_right_key(tmp_path: Path, built: Catalog) -> None:
    with _client(tmp_path, "s3cret") as client:
        missing = client.post("/admin/probe")
        assert missing.status_code == 401 and missing.json() == {
            "error": "unauthorized",
            "detail": "missing X-API-Key header",
        }
        wrong = client.post("/admin/probe", headers={"X-API-Key": "guess"})
        assert wrong.status_code == 403 and wrong.json() == {"error": "forbidden", "detail": "wrong API key"}
        assert client.post("/admin/probe", headers={"X-API-Key": "s3cret"}).json() == {"ok": True}
        assert client.get("/health").status_code == 200  # public endpoints need no key


def test_admin_is_disabled_without_a_configured_key(tmp_path: Path, built: Catalog) -> None:
    with _client(tmp_path, None) as client:
        response = client.post("/admin/probe", headers={"X-API-Key": "anything"})
        assert response.status_code == 403 and "disabled" in response.json()["detail"]
