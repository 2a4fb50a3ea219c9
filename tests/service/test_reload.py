"""Hot reload: the admin endpoint, the pointer watcher, refusal of bad versions, and swaps under
concurrent requests against a real uvicorn process."""

from __future__ import annotations

import random
import shutil
import threading
import time
from collections import Counter
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from index.build import build_index
from recsys.catalog.ingest import import_file
from recsys.catalog.store import Catalog
from recsys.settings import Settings
from recsys.version.store import IndexStore
from service.app import create_app
from tests.fakes import FakeEncoder, write_jsonl
from tests.helpers import ClientFactory
from tests.servers import SERVE_FAKE, running

KEY = {"X-API-Key": "s3cret"}


def _settings(tmp_path: Path, **overrides: object) -> Settings:
    return Settings(data_dir=tmp_path / "data", api_key="s3cret", **overrides)  # type: ignore[arg-type]


@pytest.fixture
def client(tmp_path: Path, built: Catalog, make_client: ClientFactory) -> TestClient:
    return make_client(_settings(tmp_path, reload_interval=0))


def _add(catalog: Catalog, tmp_path: Path, article_id: str, text: str) -> None:
    """A new article of the story its id names, dated and tagged like it, as a newsroom's new one is
    (an undated, untagged one shares no names with the story and ranks lower)."""
    story = article_id.split("-")[0]
    record = {"id": article_id, "title": text, "tags": [story], "published_at": "2026-03-02T00:00:00Z"}
    import_file(catalog, write_jsonl(tmp_path / f"{article_id}.jsonl", [record]))


def test_admin_reload_swaps_to_the_new_version(
    client: TestClient, tmp_path: Path, built: Catalog, encoder: FakeEncoder
) -> None:
    first = client.get("/health").json()["index_version"]
    assert client.post("/admin/reload", headers=KEY).json() == {
        "served_version": first,
        "current_version": first,
        "reloaded": False,
        "error": None,
        "detail": None,
    }
    _add(built, tmp_path, "harbour-new", "harbour ferry dock tide pier crane")
    settings = _settings(tmp_path)
    second = build_index(settings, built, encoder).version
    health = client.get("/health").json()
    assert (health["index_version"], health["current_version"]) == (first, second)  # watcher is off

    response = client.post("/admin/reload", headers=KEY)
    assert response.status_code == 200
    assert response.json()["reloaded"] is True and response.json()["served_version"] == second
    related = client.get("/articles/harbour-0/related", params={"limit": 5}).json()
    assert related["index_version"] == second and "harbour-new" in [i["id"] for i in related["items"]]
    assert client.get("/health").json()["index_articles"] == 31
    assert 'recsys_index_reloads_total{result="swapped"} 1.0' in client.get("/metrics").text


def test_admin_reload_needs_the_key(client: TestClient) -> None:
    assert client.post("/admin/reload").status_code == 401
    assert client.post("/admin/reload", headers={"X-API-Key": "wrong"}).status_code == 403


@pytest.mark.parametrize("damage", ["checksum", "missing file", "another model", "bad manifest"])
def test_a_version_that_fails_its_checks_is_refused_and_the_old_one_keeps_serving(
    client: TestClient,
    tmp_path: Path,
    built: Catalog,
    encoder: FakeEncoder,
    damage: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    settings = _settings(tmp_path)
    first = client.get("/health").json()["index_version"]
    second = build_index(
        settings, built, FakeEncoder(name="another-model") if damage == "another model" else encoder
    ).version
    folder = settings.index_root / "versions" / second
    if damage == "checksum":
        (folder / "index.faiss").write_bytes((folder / "index.faiss").read_bytes()[:-8] + b"garbage!")
    elif damage == "missing file":
        (folder / "article_ids.npy").unlink()
    elif damage == "bad manifest":
        (folder / "manifest.json").write_text("{not json")

    response = client.post("/admin/reload", headers=KEY)
    assert response.status_code == 409
    body = response.json()
    assert body["served_version"] == first and body["current_version"] == second
    assert body["reloaded"] is False and body["error"] == "version_refused" and second in body["detail"]
    assert f"refused index version {second}" in caplog.text and f"still serving {first}" in caplog.text
    health = client.get("/health")
    assert health.status_code == 200
    assert health.json()["index_version"] == first and health.json()["reload_error"] == body["detail"]
    related = client.get("/articles/harbour-0/related")
    assert related.status_code == 200 and related.json()["index_version"] == first
    assert 'recsys_index_reloads_total{result="refused"} 1.0' in client.get("/metrics").text

    # A good version after the bad one is picked up, and the reason is cleared.
    shutil.rmtree(folder)
    third = build_index(settings, built, encoder).version
    assert client.post("/admin/reload", headers=KEY).json()["served_version"] == third
    assert client.get("/health").json()["reload_error"] is None


def test_the_watcher_notices_a_new_build_and_a_rollback(
    tmp_path: Path, built: Catalog, encoder: FakeEncoder
) -> None:
    settings = _settings(tmp_path, reload_interval=0.05)
    with TestClient(create_app(settings, encoder=encoder)) as client:
        first = client.get("/health").json()["index_version"]
        second = build_index(settings, built, encoder).version
        _wait_until_served(client, second)
        IndexStore(settings.index_root).rollback()
        _wait_until_served(client, first)


def test_a_service_started_before_the_first_build_picks_it_up(
    tmp_path: Path, catalog: Catalog, corpus_file: Path, encoder: FakeEncoder
) -> None:
    settings = _settings(tmp_path, reload_interval=0.05)
    with TestClient(create_app(settings, encoder=encoder)) as client:
        assert client.get("/health").status_code == 503
        import_file(catalog, corpus_file)
        version = build_index(settings, catalog, encoder).version
        _wait_until_served(client, version)
        assert client.get("/health").status_code == 200


def _wait_until_served(client: TestClient | httpx.Client, version: str) -> None:
    deadline = time.monotonic() + 30  # a bound for a stuck watcher, not a speed requirement
    while time.monotonic() < deadline:
        if client.get("/health").json()["index_version"] == version:
            return
        time.sleep(0.02)
    pytest.fail(f"version {version} was not served within 30 s")


def test_swaps_under_concurrent_requests_fail_no_request(
    tmp_path: Path, built: Catalog, encoder: FakeEncoder
) -> None:
    settings = _settings(tmp_path)
    variables = {
        "RECSYS_DATA_DIR": str(settings.data_dir),
        "RECSYS_RELOAD_INTERVAL": "0.1",
        "RECSYS_API_KEY": "s3cret",
        "RECSYS_LOG_LEVEL": "warning",
    }
    statuses: Counter[str] = Counter()
    versions: Counter[str] = Counter()
    stop = threading.Event()
    ids = [s.id for s in built.iter_all()]

    def hammer(base: str, seed: int) -> None:
        rng = random.Random(seed)
        with httpx.Client(base_url=base, timeout=10) as http:
            while not stop.is_set():
                try:
                    response = http.get(f"/articles/{rng.choice(ids)}/related", params={"limit": 5})
                except httpx.HTTPError as exc:
                    statuses[type(exc).__name__] += 1
                    continue
                statuses[str(response.status_code)] += 1
                if response.status_code == 200:
                    versions[response.json()["index_version"]] += 1

    with running(SERVE_FAKE, variables) as (_, base), httpx.Client(base_url=base, timeout=10) as http:
        try:
            workers = [threading.Thread(target=hammer, args=(base, seed)) for seed in range(4)]
            for worker in workers:
                worker.start()
            published = []
            for swap in range(5):
                _add(built, tmp_path, f"harbour-extra-{swap}", f"harbour ferry dock tide extra{swap}")
                published.append(build_index(settings, built, encoder).version)
                if swap % 2:  # every other swap through the admin endpoint instead of the watcher
                    http.post("/admin/reload", headers=KEY)
                _wait_until_served(http, published[-1])
                time.sleep(0.2)  # let requests run on this version before the next swap
            stop.set()
            for worker in workers:
                worker.join(timeout=30)
            related = http.get("/articles/harbour-0/related", params={"limit": 10}).json()
        finally:
            stop.set()  # the hammering threads end, whatever happened

    assert set(statuses) == {"200"}, statuses
    assert statuses["200"] > 0 and len(set(published) & set(versions)) >= 3, versions
    assert related["index_version"] == published[-1]
    assert any(i["id"].startswith("harbour-extra-") for i in related["items"])


def test_a_load_that_a_rollback_overtakes_is_not_swapped_in(
    tmp_path: Path, built: Catalog, encoder: FakeEncoder, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The issue-9 race: the watcher loads v2 while a rollback makes v1 current again. The finished
    v2 load must not be swapped in over the pointer; the service ends up serving what CURRENT names."""
    settings = _settings(tmp_path, reload_interval=0)
    store = IndexStore(settings.index_root)
    v1 = store.current_version()
    _add(built, tmp_path, "harbour-new", "harbour ferry dock tide pier crane")
    v2 = build_index(settings, built, encoder).version
    store.set_current(v1)  # type: ignore[arg-type]
    with TestClient(create_app(settings, encoder=encoder)) as client:
        state = client.app.state.recsys  # type: ignore[attr-defined]
        assert state.served_version() == v1
        store.set_current(v2)
        loading, release = threading.Event(), threading.Event()
        real_load = state.query_side.load

        def slow_load(version: str | None = None, **kwargs: object) -> object:
            if version == v2:
                loading.set()
                assert release.wait(10)
            return real_load(version, **kwargs)

        monkeypatch.setattr(state.query_side, "load", slow_load)
        watcher = threading.Thread(target=state.reload)
        watcher.start()
        assert loading.wait(10)
        store.rollback(v1)  # CURRENT moves back while v2 is being loaded
        release.set()
        watcher.join(10)
        assert store.current_version() == v1
        assert state.served_version() == v1  # not v2, and nothing left stale with the watcher off
        body = client.get("/health").json()
        assert body["index_version"] == body["current_version"] == v1
