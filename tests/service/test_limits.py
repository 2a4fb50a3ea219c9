"""The request body limit (service/limits.py): 413 with the one error body, by Content-Length and by
the bytes actually streamed (fake encoder)."""

from __future__ import annotations

import asyncio
import json

import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError
from starlette.types import Message, Receive, Scope, Send

from recsys.catalog.store import Catalog
from recsys.settings import Settings
from service.limits import BodyLimit
from tests.helpers import ClientFactory

LIMIT = 4_096
TOO_LARGE = {"error": "body_too_large", "detail": f"request body larger than {LIMIT} bytes"}


@pytest.fixture
def client(built: Catalog, make_client: ClientFactory) -> TestClient:
    return make_client(max_body_bytes=LIMIT)


def _draft(size: int) -> bytes:
    return json.dumps({"title": "harbour ferry", "body": "dock " * (size // 5)}).encode()


def test_a_body_over_the_limit_is_413_by_content_length(client: TestClient) -> None:
    response = client.post("/related", content=_draft(30_000), headers={"Content-Type": "application/json"})
    assert response.status_code == 413 and response.json() == TOO_LARGE
    assert client.post(
        "/related", content=_draft(LIMIT // 2), headers={"Content-Type": "application/json"}
    ).is_success


def test_a_chunked_body_without_content_length_is_counted_as_it_streams(client: TestClient) -> None:
    body = _draft(30_000)
    chunks = (body[i : i + 1000] for i in range(0, len(body), 1000))
    response = client.post("/related", content=chunks, headers={"Content-Type": "application/json"})
    assert response.status_code == 413 and response.json() == TOO_LARGE


def test_reading_stops_at_the_first_chunk_past_the_limit() -> None:
    pulled = 0
    sent: list[Message] = []

    async def endless() -> Message:
        nonlocal pulled
        pulled += 1
        return {"type": "http.request", "body": b"x" * 1000, "more_body": True}

    async def collect(message: Message) -> None:
        sent.append(message)

    async def reads_everything(scope: Scope, receive: Receive, send: Send) -> None:
        while (await receive()).get("more_body"):
            pass

    scope = {"type": "http", "method": "POST", "path": "/", "headers": []}
    asyncio.run(BodyLimit(reads_everything, max_bytes=LIMIT)(scope, endless, collect))
    assert pulled == LIMIT // 1000 + 1
    assert sent[0]["status"] == 413 and json.loads(sent[1]["body"]) == TOO_LARGE


def test_the_limit_is_a_validated_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    assert Settings().max_body_bytes == 1_000_000
    monkeypatch.setenv("RECSYS_MAX_BODY_BYTES", "2048")
    assert Settings().max_body_bytes == 2048
    with pytest.raises(ValidationError):
        Settings(max_body_bytes=10)
