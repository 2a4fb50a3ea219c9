"""The CMS over HTTP (docs/cms.md): upserts, batches, retract, delete, read-back, builds with their
status, one build at a time, auto-publish, and bad input (TestClient, fake encoder). The same flow
across two real uvicorn processes is in tests/e2e/test_cms_e2e.py."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient

from index.build import build_index
from recsys.catalog.ingest import import_file
from recsys.catalog.store import Catalog
from recsys.encoding.protocol import Encoder
from recsys.errors import ModelLoadError
from recsys.root import Root
from recsys.settings import Settings
from recsys.version.store import IndexStore
from service.app import create_app
from service.builds import DIED, Builder, BuildLog, BuildStatus, publish_if_changed
from tests.fakes import FakeEncoder, write_jsonl
from tests.helpers import ClientFactory
from tests.postgres import BACKENDS, settings_on

KEY = {"X-API-Key": "s3cret"}
JSON = {**KEY, "Content-Type": "application/json"}
NDJSON = {**KEY, "Content-Type": "application/x-ndjson"}
NEW = {"title": "Harbour ferry dock tide", "body": "harbour ferry dock tide pier crane", "section": "harbour"}


@pytest.fixture(params=BACKENDS)
def settings(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """The CMS runs on both catalog backends."""
    return settings_on(request.param, tmp_path, request, monkeypatch)


def _settings(settings: Settings, **overrides: object) -> Settings:
    return Settings(data_dir=settings.data_dir, api_key="s3cret", reload_interval=0, **overrides)  # type: ignore[arg-type]


@pytest.fixture
def client(settings: Settings, built: Catalog, make_client: ClientFactory) -> TestClient:
    return make_client(_settings(settings))


def _ids(client: TestClient, article_id: str, limit: int = 10) -> list[str]:
    response = client.get(f"/articles/{article_id}/related", params={"limit": limit})
    assert response.status_code == 200, response.text
    return [item["id"] for item in response.json()["items"]]


def _builder(client: TestClient) -> Builder:
    builder = client.app.state.recsys.builder  # type: ignore[attr-defined]
    assert builder is not None
    return builder


def _build(client: TestClient, **params: object) -> dict[str, object]:
    """Start a build, wait for its thread, and return its final status document."""
    started = client.post("/admin/builds", headers=KEY, params=params)
    assert started.status_code == 202, started.text
    assert started.headers["Location"] == f"/admin/builds/{started.json()['id']}"
    _builder(client).wait(started.json()["id"])
    status = client.get(started.headers["Location"], headers=KEY)
    assert status.status_code == 200
    return dict(status.json())


# -- one article -------------------------------------------------------------------------------------


def test_an_upserted_article_has_its_own_list_at_once_and_joins_older_lists_after_a_build(
    client: TestClient,
) -> None:
    created = client.put("/admin/articles/harbour-new", headers=KEY, json=NEW)
    assert created.status_code == 201, created.text
    body = created.json()
    assert (body["id"], body["change"], body["status"], body["indexed"]) == (
        "harbour-new",
        "created",
        "published",
        False,
    )
    # Its own list: from the query-time path for catalog articles the served version lacks.
    own = _ids(client, "harbour-new", limit=5)
    assert own and all(i.startswith("harbour-") for i in own)
    assert "harbour-new" not in _ids(client, "harbour-0", limit=30)  # older lists: after the build

    status = _build(client)
    assert status["state"] == "succeeded" and status["added"] == 1 and status["error"] is None
    assert client.get("/health").json()["index_version"] == status["version"]  # reloaded in-process
    assert "harbour-new" in _ids(client, "harbour-0", limit=5)
    read = client.get("/admin/articles/harbour-new", headers=KEY).json()
    assert read["indexed"] is True and read["index_version"] == status["version"]


def test_put_answers_created_then_unchanged_then_updated(client: TestClient) -> None:
    assert client.put("/admin/articles/n1", headers=KEY, json=NEW).status_code == 201
    same = client.put("/admin/articles/n1", headers=KEY, json=NEW)
    assert same.status_code == 200 and same.json()["change"] == "unchanged"
    edited = client.put("/admin/articles/n1", headers=KEY, json={**NEW, "title": "Harbour cranes idle"})
    assert edited.status_code == 200 and edited.json()["change"] == "updated"
    assert client.get("/admin/articles/n1", headers=KEY).json()["title"] == "Harbour cranes idle"


def test_the_id_in_the_path_fills_the_body_and_must_match_it(client: TestClient) -> None:
    assert client.put("/admin/articles/n2", headers=KEY, json={**NEW, "id": "n2"}).status_code == 201
    other = client.put("/admin/articles/n3", headers=KEY, json={**NEW, "id": "n4"})
    assert other.status_code == 422
    assert other.json() == {
        "error": "invalid_input",
        "detail": "field 'id': 'n4' differs from the id in the path",
    }
    assert client.get("/admin/articles/n3", headers=KEY).status_code == 404


def test_get_article_reads_back_status_and_whether_it_is_indexed(client: TestClient) -> None:
    read = client.get("/admin/articles/harbour-0", headers=KEY)
    assert read.status_code == 200
    body = read.json()
    assert body["status"] == "published" and body["indexed"] is True and body["section"] == "harbour"
    assert body["index_version"] == client.get("/health").json()["index_version"]
    assert client.get("/admin/articles/nope", headers=KEY).json() == {
        "error": "not_found",
        "detail": "no article with id 'nope'",
    }


# -- the same validation and messages as `recsys ingest` ----------------------------------------------


def _ingest_error(tmp_path: Path, line: str) -> str:
    """What `recsys ingest` says about a one-line file holding `line`, without its file:line prefix."""
    path = tmp_path / "one.jsonl"
    path.write_text(line + "\n", encoding="utf-8")
    report = import_file(Catalog(tmp_path / "scratch.sqlite3"), path)
    (problem,) = report.problems
    return f"field '{problem.field}': {problem.message}"


@pytest.mark.parametrize(
    "record",
    [
        {"title": "x", "published_at": "9999-12-31"},  # an absurd date
        {"title": "x", "published_at": "yesterday"},
        {"title": None, "body": None},
        {"title": "x", "url": "ftp://example.com/a"},
        {"title": "x", "tags": "not a list"},
        {"title": "x", "status": "draft"},
        {"title": ["x"]},
    ],
)
def test_bad_records_are_422_in_the_words_of_ingest(
    client: TestClient, tmp_path: Path, record: dict[str, object]
) -> None:
    response = client.put("/admin/articles/bad", headers=KEY, json=record)
    assert response.status_code == 422
    expected = _ingest_error(tmp_path, json.dumps({"id": "bad", **record}))
    assert response.json() == {"error": "invalid_input", "detail": expected}


@pytest.mark.parametrize(
    ("content", "status", "detail"),
    [
        (b'{"title": "x",', 422, "field '<json>': invalid JSON: Expecting property name enclosed"),
        (b"[" * 50_000, 422, "field '<json>': invalid JSON: nested too deeply"),
        (b'{"title": "x", "n": ' + b"9" * 5000 + b"}", 422, "field '<json>': invalid JSON:"),
        (b'"just a string"', 422, "field '<record>': expected an object, got str"),
        (b'{"title": "x", "tittle": "y"}', 422, "field 'tittle': unknown field"),
        (b"\xff\xfe not utf-8", 400, "the request body is not UTF-8 text"),
        (b'{"title": "\\ud800"}', 422, "field 'title': not valid Unicode text"),
    ],
)
def test_malformed_bodies_are_clear_4xx(client: TestClient, content: bytes, status: int, detail: str) -> None:
    response = client.put("/admin/articles/bad", headers=JSON, content=content)
    assert response.status_code == status, response.text
    assert response.json()["detail"].startswith(detail)


def test_wrong_content_type_is_415(client: TestClient) -> None:
    for headers in ({**KEY, "Content-Type": "text/plain"}, KEY):
        response = client.put("/admin/articles/x", headers=headers, content=json.dumps(NEW))
        assert response.status_code == 415
        assert response.json() == {
            "error": "unsupported_media_type",
            "detail": "send the body as Content-Type: application/json",
        }
    batch = client.post("/admin/articles", headers=JSON, content=json.dumps({"id": "x", **NEW}))
    assert batch.status_code == 415 and "application/x-ndjson" in batch.json()["detail"]


def test_a_url_another_article_holds_is_422(client: TestClient) -> None:
    response = client.put(
        "/admin/articles/copy", headers=KEY, json={**NEW, "url": "https://news.example/harbour/0"}
    )
    assert response.status_code == 422
    assert "already belongs to article 'harbour-0'" in response.json()["detail"]


def test_every_endpoint_needs_the_key(client: TestClient) -> None:
    calls = [
        ("PUT", "/admin/articles/x"),
        ("POST", "/admin/articles"),
        ("GET", "/admin/articles/harbour-0"),
        ("POST", "/admin/articles/harbour-0/retract"),
        ("DELETE", "/admin/articles/harbour-0"),
        ("POST", "/admin/builds"),
        ("GET", "/admin/builds"),
        ("GET", "/admin/builds/latest"),
    ]
    for method, path in calls:
        missing = client.request(method, path)
        assert missing.status_code == 401 and missing.json()["error"] == "unauthorized", path
        wrong = client.request(method, path, headers={"X-API-Key": "guess"})
        assert wrong.status_code == 403 and wrong.json()["error"] == "forbidden", path
    assert client.get("/admin/articles/harbour-0", headers=KEY).json()["status"] == "published"


def test_a_body_over_the_limit_is_413(settings: Settings, built: Catalog, encoder: FakeEncoder) -> None:
    app = create_app(_settings(settings, max_body_bytes=2048), encoder=encoder)
    with TestClient(app) as client:
        big = {**NEW, "body": "tide " * 1000}
        response = client.put("/admin/articles/big", headers=KEY, json=big)
        assert response.status_code == 413 and response.json()["error"] == "body_too_large"
        lines = "".join(json.dumps({"id": f"b{i}", **NEW}) + "\n" for i in range(40))
        batch = client.post("/admin/articles", headers=NDJSON, content=lines)
        assert batch.status_code == 413
        assert client.get("/admin/articles/b0", headers=KEY).status_code == 404


# -- batches ------------------------------------------------------------------------------------------

BATCH_LINES = [
    json.dumps({"id": "b1", **NEW}),
    "",
    json.dumps({"id": "b2", "section": "harbour"}),  # no title, no body
    "not json",
    json.dumps({"id": "b3", **NEW, "published_at": "0001-01-01"}),
    json.dumps({"id": "b4", **NEW, "colour": "red"}),
    json.dumps({"id": "harbour-0", "title": "Harbour ferry dock renamed"}),
]


def test_a_batch_writes_the_good_lines_and_names_the_bad_ones_as_ingest_does(
    client: TestClient, tmp_path: Path
) -> None:
    body = "\n".join(BATCH_LINES) + "\n"
    response = client.post("/admin/articles", headers=NDJSON, content=body)
    assert response.status_code == 200, response.text
    report = response.json()
    assert (report["read"], report["created"], report["updated"], report["skipped"]) == (6, 1, 1, 4)
    assert report["rejected_lines"] == [3, 4, 5, 6]

    # The same lines given to `recsys ingest` as a file: the same line numbers, fields and words
    # (less the unknown field, which files may carry and the HTTP API refuses).
    path = tmp_path / "batch.jsonl"
    path.write_text(body, encoding="utf-8")
    ingested = import_file(Catalog(tmp_path / "scratch.sqlite3"), path)
    from_file = [e.replace(str(path), "body") for e in ingested.errors]
    assert [e["error"] for e in report["errors"]] == [*from_file, "body:6: field 'colour': unknown field"]
    assert [(e["line"], e["field"]) for e in report["errors"]][:3] == [
        (3, "title"),
        (4, "<json>"),
        (5, "published_at"),
    ]
    assert client.get("/admin/articles/b1", headers=KEY).status_code == 200
    assert client.get("/admin/articles/b4", headers=KEY).status_code == 404
    assert (
        client.get("/admin/articles/harbour-0", headers=KEY).json()["title"] == "Harbour ferry dock renamed"
    )


def test_a_strict_batch_is_all_or_nothing(client: TestClient) -> None:
    body = "\n".join(BATCH_LINES) + "\n"
    response = client.post("/admin/articles", headers=NDJSON, params={"strict": "true"}, content=body)
    assert response.status_code == 422
    assert response.json() == {
        "error": "invalid_input",
        "detail": "body:3: field 'title': an article needs a title or a body",
    }
    assert client.get("/admin/articles/b1", headers=KEY).status_code == 404  # line 1 was not kept
    good = "".join(json.dumps({"id": f"s{i}", **NEW}) + "\n" for i in range(3))
    ok = client.post("/admin/articles", headers=NDJSON, params={"strict": "true"}, content=good)
    assert ok.status_code == 200 and ok.json()["created"] == 3


def test_a_batch_with_nothing_to_write_is_422(client: TestClient) -> None:
    empty = client.post("/admin/articles", headers=NDJSON, content="\n\n")
    assert empty.json() == {"error": "invalid_input", "detail": "body: no records found"}
    bad = client.post("/admin/articles", headers=NDJSON, content='{"id": "x"}\n[1]\n')
    assert bad.status_code == 422
    assert bad.json()["detail"] == (
        "no line was written (2 refused): body:1: field 'title': an article needs a title or a body; "
        "body:2: field '<record>': expected an object, got list"
    )


# -- retract and delete -------------------------------------------------------------------------------


def test_retract_removes_an_article_from_every_list_at_once(client: TestClient) -> None:
    assert "harbour-1" in _ids(client, "harbour-0")
    response = client.post("/admin/articles/harbour-1/retract", headers=KEY)
    assert response.json() == {"id": "harbour-1", "status": "retracted", "changed": True}
    assert "harbour-1" not in _ids(client, "harbour-0", limit=30)
    blocks = client.get("/articles/harbour-2/blocks", params={"limit": 30, "section_limit": 30}).json()
    assert "harbour-1" not in [i["id"] for b in ("related", "more_in_section") for i in blocks[b]["items"]]
    assert client.get("/admin/articles/harbour-1", headers=KEY).json()["status"] == "retracted"
    again = client.post("/admin/articles/harbour-1/retract", headers=KEY)
    assert again.json()["changed"] is False
    # Published again through an upsert that says so.
    client.put("/admin/articles/harbour-1", headers=KEY, json={**NEW, "status": "published"})
    assert client.get("/admin/articles/harbour-1", headers=KEY).json()["status"] == "published"


def test_delete_removes_an_article_at_once_and_unknown_ids_are_404(client: TestClient) -> None:
    response = client.delete("/admin/articles/harbour-1", headers=KEY)
    assert response.json() == {"id": "harbour-1", "status": "deleted", "changed": True}
    assert "harbour-1" not in _ids(client, "harbour-0", limit=30)
    assert client.get("/articles/harbour-1/related").status_code == 404
    for method, path in (("DELETE", "/admin/articles/harbour-1"), ("POST", "/admin/articles/nope/retract")):
        missing = client.request(method, path, headers=KEY)
        assert missing.status_code == 404 and missing.json()["error"] == "not_found"
    status = _build(client)
    assert status["removed"] == 1 and status["articles"] == 29


# -- builds -------------------------------------------------------------------------------------------


def test_build_status_latest_and_list(client: TestClient) -> None:
    assert client.get("/admin/builds/latest", headers=KEY).status_code == 404
    assert client.get("/admin/builds", headers=KEY).json() == {"builds": []}
    client.put("/admin/articles/n1", headers=KEY, json=NEW)
    first = _build(client)
    second = _build(client, full="true")
    assert second["full"] is True and second["embedded"] == 0  # every vector from the cache
    assert second["previous_version"] == first["version"]
    latest = client.get("/admin/builds/latest", headers=KEY).json()
    assert latest == second
    assert [b["id"] for b in client.get("/admin/builds", headers=KEY).json()["builds"]] == [
        second["id"],
        first["id"],
    ]
    for field in ("requested_at", "started_at", "finished_at", "seconds", "catalog_generation"):
        assert first[field] is not None, field
    for unknown in ("20990101T000000000Z-abcd", "latest2", "..", "x" * 300):
        response = client.get(f"/admin/builds/{unknown}", headers=KEY)
        assert response.status_code == 404 and response.json()["error"] == "not_found"


def test_a_second_build_is_409_while_the_lock_is_held(client: TestClient, settings: Settings) -> None:
    # Held by another holder, as `recsys build` or another worker process holds it.
    with IndexStore(settings.index_root).build_lock():
        response = client.post("/admin/builds", headers=KEY)
        assert response.status_code == 409
        assert response.json()["error"] == "build_locked"
        assert "another build is running" in response.json()["detail"]
        assert str(settings.data_dir) not in response.json()["detail"]
    assert _build(client)["state"] == "succeeded"


def test_a_failed_build_leaves_the_served_index_untouched_and_says_why(
    settings: Settings, built: Catalog
) -> None:
    class Refusing(FakeEncoder):
        def encode(self, texts: list[str], *, batch_size: int = 64, progress: bool = False) -> np.ndarray:
            if any("refuse" in text for text in texts) and len(texts) > 1:
                raise ModelLoadError("the model refused this batch")
            return super().encode(texts, batch_size=batch_size, progress=progress)

    with TestClient(create_app(_settings(settings), encoder=Refusing())) as client:
        before = client.get("/health").json()["index_version"]
        for i in range(2):
            client.put(f"/admin/articles/r{i}", headers=KEY, json={"title": f"refuse harbour {i}"})
        status = _build(client)
        assert status["state"] == "failed" and status["error"] == "the model refused this batch"
        assert status["version"] is None and status["finished_at"] is not None
        assert client.get("/health").json()["index_version"] == before
        assert IndexStore(settings.index_root).current_version() == before
        assert _ids(client, "harbour-0")  # still answering from the old version
        assert not IndexStore(settings.index_root).build_running()  # the lock was released


def test_a_build_whose_process_died_reads_as_failed(settings: Settings) -> None:
    store = IndexStore(settings.index_root)
    log = BuildLog(settings.data_dir / "builds", store)
    orphan = BuildStatus(
        id="20260101T000000000Z-dead", state="running", trigger="api", full=False, requested_at="x", pid=1
    )
    log.write(orphan)
    read = log.get(orphan.id)
    assert read is not None and (read.state, read.error) == ("failed", DIED)
    with store.build_lock():  # while some process holds the lock, it is running
        held = log.get(orphan.id)
        assert held is not None and held.state == "running"


# -- auto-publish -------------------------------------------------------------------------------------


def test_auto_publish_builds_only_when_articles_changed(settings: Settings, built: Catalog) -> None:
    builder = Builder(Root(_settings(settings), encoder=FakeEncoder()), on_published=lambda: None)
    assert publish_if_changed(builder, built) is None  # nothing changed since the build
    import_file(built, write_jsonl(settings.data_dir / "n.jsonl", [{"id": "n1", **NEW}]))
    with builder.store.build_lock():
        assert publish_if_changed(builder, built) is None  # another build runs: skipped quietly
    started = publish_if_changed(builder, built)
    assert started is not None and started.trigger == "auto"
    builder.wait(started.id)
    done = builder.log.get(started.id)
    assert done is not None and done.state == "succeeded" and done.added == 1
    assert publish_if_changed(builder, built) is None  # up to date again


def test_auto_publish_does_not_retry_a_failure_until_the_catalog_changes(
    settings: Settings, built: Catalog
) -> None:
    builder = Builder(Root(_settings(settings), with_model=False), on_published=lambda: None)
    built.set_status("harbour-1", "retracted")
    failed = BuildStatus(
        id="20260101T000000000Z-0001",
        state="failed",
        trigger="auto",
        full=False,
        requested_at="x",
        pid=os.getpid(),
        catalog_generation=built.generation(),
    )
    builder.log.write(failed)
    assert publish_if_changed(builder, built) is None
    built.set_status("harbour-2", "retracted")  # a new change: tried again (and refused: no model here)
    with pytest.raises(ModelLoadError):
        publish_if_changed(builder, built)


def test_the_service_publishes_by_itself_when_configured(settings: Settings, built: Catalog) -> None:
    app = create_app(_settings(settings, auto_publish_interval=0.1), encoder=FakeEncoder())
    with TestClient(app) as client:
        client.put("/admin/articles/harbour-new", headers=KEY, json=NEW)
        builder = _builder(client)
        deadline = time.monotonic() + 60  # bounded wait, not a timing check: the first look is at 0.1 s
        while (latest := builder.log.latest()) is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert latest is not None and latest.trigger == "auto"
        builder.wait(latest.id)
        done = client.get(f"/admin/builds/{latest.id}", headers=KEY).json()
        assert done["state"] == "succeeded"
        assert "harbour-new" in _ids(client, "harbour-0", limit=5)


@pytest.mark.model
def test_with_the_real_model_an_upsert_is_related_at_once_and_after_a_build(
    settings: Settings, catalog: Catalog, corpus_file: Path, real_encoder: Encoder
) -> None:
    import_file(catalog, corpus_file, strict=True)
    build_index(settings, catalog, real_encoder)
    story = {
        "title": "Ferry service resumes at the harbour after storm damage to the pier",
        "body": "The harbour ferry is running again; cranes repaired the pier and the dock after the tide.",
        "section": "harbour",
    }
    with TestClient(create_app(_settings(settings), encoder=real_encoder)) as client:
        assert client.put("/admin/articles/harbour-storm", headers=KEY, json=story).status_code == 201
        own = _ids(client, "harbour-storm", limit=3)
        assert own and all(i.startswith("harbour-") for i in own), own
        assert _build(client)["state"] == "succeeded"
        # Older harbour stories list it among their own topic, ahead of every other topic.
        for i in range(6):
            ids = _ids(client, f"harbour-{i}", limit=10)
            assert "harbour-storm" in ids and all(
                x.startswith("harbour-") for x in ids[: ids.index("harbour-storm")]
            ), ids
