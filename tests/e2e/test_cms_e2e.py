"""The CMS over HTTP end to end: two real uvicorn processes on one data folder, as two workers of one
service (fake encoder, `python -m tests.serve_fake`). An article upserted over HTTP has its own list at
once; a build started on one process is 409 on both while it runs, its status reads the same on both,
and once it succeeded the new article is in an older article's list on both.

The build is held in its middle by a file (`serve_fake --hold-file`): the encoder waits while it exists,
so "while it runs" is a state the test controls, not a race it hopes to win.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from recsys.catalog.store import Catalog
from recsys.settings import Settings
from tests.helpers import until
from tests.servers import SERVE_FAKE, running

KEY = {"X-API-Key": "s3cret"}
WAIT = 60.0  # seconds: a bound on each wait below, never an expectation of speed


def _until(what: str, check: Callable[[], Any]) -> Any:
    return until(what, check, WAIT)


@pytest.fixture
def servers(settings: Settings, built: Catalog) -> Iterator[tuple[str, str, Path]]:
    """Two processes serving the synthetic corpus from one data folder; yields their base URLs and the
    hold file."""
    hold = settings.data_dir / "hold"
    command = [*SERVE_FAKE, "--hold-file", str(hold)]
    variables = {
        "RECSYS_DATA_DIR": str(settings.data_dir),
        "RECSYS_API_KEY": KEY["X-API-Key"],
        "RECSYS_RELOAD_INTERVAL": "0.2",
        "RECSYS_LOG_LEVEL": "warning",
    }
    with running(command, variables) as (_, first), running(command, variables) as (_, second):
        try:
            yield first, second, hold
        finally:
            hold.unlink(missing_ok=True)  # no build left held while its server stops


def _related(base: str, article_id: str) -> list[str]:
    response = httpx.get(f"{base}/articles/{article_id}/related", params={"limit": 5}, timeout=30)
    assert response.status_code == 200, response.text
    return [item["id"] for item in response.json()["items"]]


def _listed_or_none(base: str, article_id: str) -> list[str] | None:
    response = httpx.get(f"{base}/articles/{article_id}/related", params={"limit": 5}, timeout=30)
    if response.status_code == 404:
        return None
    assert response.status_code == 200, response.text
    return [item["id"] for item in response.json()["items"]]


def test_upsert_build_409_and_publish_across_two_processes(servers: tuple[str, str, Path]) -> None:
    first, second, hold = servers
    article = {
        "title": "Harbour ferry dock tide",
        "body": "harbour ferry dock tide pier",
        "section": "harbour",
    }
    created = httpx.put(f"{first}/admin/articles/harbour-new", headers=KEY, json=article, timeout=30)
    assert created.status_code == 201, created.text
    own = _related(first, "harbour-new")
    assert own and all(i.startswith("harbour-") for i in own)
    # The other process follows the same catalog: its watcher learns of the article within a poll
    # (a request reads no catalog; until then the id is unknown there, a 404 made from memory).
    _until("the other process lists the new article", lambda: _listed_or_none(second, "harbour-new") == own)
    before = httpx.get(f"{first}/health").json()["index_version"]
    assert "harbour-new" not in _related(first, "harbour-0")

    hold.touch()
    started = httpx.post(f"{first}/admin/builds", headers=KEY, timeout=30)
    assert started.status_code == 202, started.text
    location = started.headers["Location"]
    for base in (first, second):  # one build at a time, whichever process is asked
        refused = httpx.post(f"{base}/admin/builds", headers=KEY, timeout=30)
        assert refused.status_code == 409 and refused.json()["error"] == "build_locked"
        assert refused.headers["Location"] == location
    running = _until(
        "the build runs",
        lambda: (s := httpx.get(f"{second}{location}", headers=KEY).json())["state"] == "running" and s,
    )
    assert running["id"] == started.json()["id"] and running["version"] is None
    assert httpx.get(f"{first}/health").json()["index_version"] == before  # nothing published yet

    hold.unlink()
    done = _until(
        "the build ends",
        lambda: (
            (s := httpx.get(f"{first}{location}", headers=KEY).json())["state"] not in ("queued", "running")
            and s
        ),
    )
    assert done["state"] == "succeeded" and done["added"] == 1, done
    assert httpx.get(f"{first}/admin/builds/latest", headers=KEY).json() == done
    assert httpx.get(f"{second}/admin/builds/latest", headers=KEY).json() == done
    # The process that built serves the new version before its status says succeeded; the other
    # picks it up with its watcher (RECSYS_RELOAD_INTERVAL).
    assert httpx.get(f"{first}/health").json()["index_version"] == done["version"]
    assert "harbour-new" in _related(first, "harbour-0")
    _until(
        "the second process reloads",
        lambda: httpx.get(f"{second}/health").json()["index_version"] == done["version"],
    )
    assert "harbour-new" in _related(second, "harbour-0")
    assert httpx.get(f"{second}/admin/articles/harbour-new", headers=KEY).json()["indexed"] is True
