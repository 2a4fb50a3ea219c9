"""Two replicas, one PostgreSQL catalog, one version folder: two real uvicorn processes (fake encoder,
`python -m tests.serve_fake`), each with a data folder of its own, sharing the catalog
(RECSYS_CATALOG_URL) and the index versions (RECSYS_INDEX_DIR).

An article is written and a build run through the first; the second serves the new article's list at
once (it reads the same catalog) and the new version after its reload watcher sees CURRENT move. A
retraction, a pin and a block made through the second reach the first by notification, and both
serve the same lists. A build held in its middle on the first is refused on the second (409).
Then the catalog server is killed: both keep answering the same lists from memory, say so on /health,
and refuse writes (503); once it is back, a retraction through the second reaches the first, and the
writes acknowledged before the kill are all there. Every wait is bounded (WAIT) and none is an
expectation of speed.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from recsys.catalog.store import Catalog
from tests.postgres import PostgresServer
from tests.replicas import KEY, Deployment, build_finished, lists, related, wait_for
from tests.servers import SERVE_FAKE, running


@pytest.fixture
def replicas(
    own_postgres: PostgresServer, tmp_path: Path, corpus_file: Path
) -> Iterator[tuple[str, str, Path, PostgresServer, str]]:
    """The synthetic corpus imported and built once (as a deploy would), then two replicas; yields
    their base URLs, the first one's hold file, the server and the catalog's URL."""
    deployment = Deployment.deploy(own_postgres, tmp_path, corpus_file)
    hold = tmp_path / "hold"
    with (
        running([*SERVE_FAKE, "--hold-file", str(hold)], deployment.variables("replica-a")) as (_, first),
        running(SERVE_FAKE, deployment.variables("replica-b")) as (_, second),
    ):
        try:
            yield first, second, hold, own_postgres, deployment.url
        finally:
            hold.unlink(missing_ok=True)


def test_two_replicas_serve_the_same_lists_whichever_one_was_written_through(
    replicas: tuple[str, str, Path, PostgresServer, str],
) -> None:
    first, second, hold, server, url = replicas
    assert lists(first) == lists(second)

    # Import and build through the first.
    article = {
        "title": "Harbour ferry dock tide",
        "body": "harbour ferry dock tide pier",
        "section": "harbour",
    }
    created = httpx.put(f"{first}/admin/articles/harbour-new", headers=KEY, json=article, timeout=30)
    assert created.status_code == 201, created.text
    assert related(second, "harbour-new") == related(first, "harbour-new")  # the same catalog
    hold.touch()
    started = httpx.post(f"{first}/admin/builds", headers=KEY, timeout=30)
    assert started.status_code == 202, started.text
    refused = httpx.post(f"{second}/admin/builds", headers=KEY, timeout=30)  # one build at a time
    assert refused.status_code == 409 and refused.json()["error"] == "build_locked", refused.text
    hold.unlink()
    location = started.headers["Location"]
    done = build_finished(first, location)
    wait_for(
        "the second replica serves the new version",
        lambda: httpx.get(f"{second}/health").json()["index_version"] == done["version"],
    )
    assert "harbour-new" in related(first, "harbour-0") and "harbour-new" in related(second, "harbour-0")

    # Retract, pin and block through the second.
    before = related(first, "harbour-0")
    retracted, blocked, pinned = before[0], before[1], before[-1]
    for method, path, body in (
        ("POST", f"/admin/articles/{retracted}/retract", None),
        ("PUT", "/admin/pins/harbour-0", {"pins": [pinned]}),
        ("POST", "/admin/blocks", {"target": blocked}),
    ):
        answer = httpx.request(method, f"{second}{path}", headers=KEY, json=body, timeout=30)
        assert answer.status_code in (200, 201), (path, answer.text)
    expected = related(second, "harbour-0")  # the writer's own next response has all three
    assert expected[0] == pinned and retracted not in expected and blocked not in expected
    wait_for("the first replica serves the same lists", lambda: lists(first) == lists(second))
    assert related(first, "harbour-0") == expected

    # The catalog server killed: lists from memory on both, the same as before; writes refused.
    served = lists(first)
    server.kill()
    for base in (first, second):
        wait_for(
            f"{base}/health says the catalog is unreachable",
            lambda base=base: httpx.get(f"{base}/health").json()["status"] == "stale",  # type: ignore[misc]
        )
        for _ in range(5):
            assert lists(base) == served
        refused = httpx.post(f"{base}/admin/articles/harbour-2/retract", headers=KEY, timeout=30)
        assert refused.status_code == 503 and refused.headers["Retry-After"], refused.text
    server.resume()
    for base in (first, second):
        wait_for(
            f"{base}/health says the catalog is reachable",
            lambda base=base: httpx.get(f"{base}/health").json()["status"] == "ok",  # type: ignore[misc]
        )
    later = served["harbour-3"][0]
    assert httpx.post(f"{second}/admin/articles/{later}/retract", headers=KEY, timeout=30).status_code == 200
    wait_for("the first replica follows again", lambda: later not in related(first, "harbour-3"))
    assert lists(first) == lists(second)
    catalog = Catalog(url)  # every write acknowledged before the kill survived it
    try:
        assert catalog.get(retracted).status == catalog.get(later).status == "retracted"
        assert catalog.get("harbour-new").key  # the article written through the first replica
    finally:
        catalog.dispose()
    assert httpx.get(f"{first}/admin/pins/harbour-0", headers=KEY).json()["pins"] == [pinned]
    assert blocked in str(httpx.get(f"{first}/admin/blocks", headers=KEY).json())
