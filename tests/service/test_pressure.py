"""Back-pressure (issue 9, items 10 and 11): a bound on requests in flight (503 + Retry-After beyond it,
/health and /metrics exempt) and a smaller bound on encoder calls (429 + Retry-After beyond it).

Requests are held inside the encoder on an event, never timed with sleeps: a test first waits until
the held requests are inside, then sends the one that must be refused (fake encoder, TestClient from
several threads: each request is its own task on the app's event loop).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from recsys.catalog.ingest import import_file
from recsys.catalog.store import Catalog
from recsys.encoding.protocol import EncodeSlots
from recsys.errors import EncoderBusy
from recsys.root import Root
from recsys.serving.query import RelatedQuery
from recsys.settings import Settings
from service.app import create_app
from tests.fakes import FakeEncoder, write_jsonl
from tests.helpers import DRAFT, WAIT, HeldEncoder, held_drafts, until


def _app(settings: Settings, encoder: FakeEncoder, **overrides: object) -> TestClient:
    configured = Settings(data_dir=settings.data_dir, reload_interval=0, **overrides)  # type: ignore[arg-type]
    return TestClient(create_app(configured, encoder=encoder))


def test_a_third_draft_gets_429_while_two_are_encoding(settings: Settings, built: Catalog) -> None:
    encoder = HeldEncoder()
    with _app(settings, encoder, max_concurrent_encodes=2) as client:
        with held_drafts(client, encoder, 2) as held:
            third = client.post("/related", json=DRAFT)
            assert third.status_code == 429, third.text
            assert third.headers["retry-after"] == "1"
            assert third.json()["error"] == "encoder_busy"
            # Lists of indexed articles never run the encoder: they go on.
            assert client.get("/articles/harbour-1/related").status_code == 200
        assert [future.result(timeout=WAIT).status_code for future in held] == [200, 200]  # type: ignore[attr-defined]
        assert client.post("/related", json=DRAFT).status_code == 200  # slots are given back


def test_beyond_max_in_flight_a_request_gets_503_and_health_still_answers(
    settings: Settings, built: Catalog
) -> None:
    encoder = HeldEncoder()
    with _app(settings, encoder, max_in_flight=2) as client:
        with held_drafts(client, encoder, 2):
            refused = client.get("/articles/harbour-1/related")
            assert refused.status_code == 503, refused.text
            assert refused.headers["retry-after"] == "1"
            assert refused.json() == {
                "error": "overloaded",
                "detail": "more than 2 requests in flight: retry shortly",
            }
            assert client.get("/health").status_code == 200
            assert 'recsys_rejected_total{reason="in_flight"} 1.0' in client.get("/metrics").text
        assert client.get("/articles/harbour-1/related").status_code == 200


def test_an_article_not_yet_indexed_gets_429_when_the_encoder_is_busy(
    settings: Settings, built: Catalog, encoder: FakeEncoder, tmp_path: Path
) -> None:
    late = {"id": "late-1", "url": "https://news.example/late/1", "title": "harbour ferry crane news"}
    import_file(built, write_jsonl(tmp_path / "late.jsonl", [late]))
    # Not prepared off the request path (no room for it): embedded on the request, as before.
    with _app(settings, encoder, max_concurrent_encodes=1, unindexed_max_articles=0) as client:
        slots = client.app.state.recsys.query_side.encode_slots  # type: ignore[attr-defined]
        with slots:  # what a draft being encoded holds
            for path in ("/articles/late-1/related", "/articles/late-1/blocks"):
                busy = client.get(path)
                assert busy.status_code == 429 and busy.json()["error"] == "encoder_busy", busy.text
            assert client.get("/related", params={"url": late["url"]}).status_code == 429
        assert client.get("/articles/late-1/related").status_code == 200


def test_an_article_not_yet_indexed_but_prepared_needs_no_encoder_slot(
    settings: Settings, built: Catalog, encoder: FakeEncoder, tmp_path: Path
) -> None:
    late = {"id": "late-1", "url": "https://news.example/late/1", "title": "harbour ferry crane news"}
    import_file(built, write_jsonl(tmp_path / "late.jsonl", [late]))
    with _app(settings, encoder, max_concurrent_encodes=1) as client:
        state = client.app.state.recsys  # type: ignore[attr-defined]
        until("the watcher prepared it", lambda: state.serving().in_memory("late-1"), WAIT)
        with state.query_side.encode_slots:
            for path in ("/articles/late-1/related", "/articles/late-1/blocks"):
                assert client.get(path).status_code == 200
            assert client.get("/related", params={"url": late["url"]}).status_code == 200


def test_the_bound_is_shared_by_every_version_the_query_side_loads(
    settings: Settings, built: Catalog, encoder: FakeEncoder
) -> None:
    configured = Settings(data_dir=settings.data_dir, max_concurrent_encodes=1)
    query_side = Root(configured, encoder=encoder, catalog=built).query_side
    first, second = query_side.load(), query_side.load()  # as before and after a hot swap
    draft = first.catalog.get("harbour-1").article
    with query_side.encode_slots:
        for recommender in (first, second):
            with pytest.raises(EncoderBusy):
                recommender.blocks_for_draft(draft, RelatedQuery())
    assert second.blocks_for_draft(draft, RelatedQuery()).related.items


def test_encode_slots_never_wait() -> None:
    slots = EncodeSlots(2)
    with slots, slots, pytest.raises(EncoderBusy, match="encoder is busy"), slots:
        pass
    with slots:  # all given back, also by the refused one
        pass
    with pytest.raises(ValueError):
        EncodeSlots(0)


def test_the_openapi_document_lists_every_refusal(settings: Settings, encoder: FakeEncoder) -> None:
    spec = create_app(settings, encoder=encoder).openapi()
    error_body = {"$ref": "#/components/schemas/ErrorBody"}
    encodes = {("get", "/articles/{article_id}/related"), ("get", "/articles/{article_id}/blocks")}
    encodes |= {("get", "/related"), ("post", "/related")}
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            responses = operation["responses"]
            if path in ("/health", "/metrics"):
                assert "Retry-After" not in str(responses), path  # never refused
                continue
            assert "Retry-After" in responses["503"]["headers"], (method, path)
            if "requestBody" in operation:
                for status in ("400", "413"):
                    assert responses[status]["content"]["application/json"]["schema"] == error_body
            if (method, path) in encodes:
                assert responses["429"]["content"]["application/json"]["schema"] == error_body
                assert "Retry-After" in responses["429"]["headers"]
