"""The request path of a stored article reads one in-memory state, once: no SQL, no file, no lock wait.

Its ETag and its body come from that one state. Changes reach the state off the request path: a
write through the admin API or the CMS before its response returns, a write made elsewhere (the CLI,
another worker) through the change watcher (fake encoder, TestClient)."""

from __future__ import annotations

import sqlite3
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from fastapi.testclient import TestClient

from recsys.catalog.changes import PolledGeneration
from recsys.catalog.overrides import Overrides
from recsys.catalog.store import Catalog
from recsys.serving.live import LiveState
from recsys.serving.recommend import Recommender
from recsys.settings import Settings
from service.state import ServiceState
from tests.helpers import ClientFactory

KEY = "s3cret"
ADMIN = {"X-API-Key": KEY}
WATCHER_THREAD = "recsys-change-watcher"
SLEEPY = 60.0  # a poll so slow that no test sees the watcher act: what changes, the request's writer did
QUICK = 0.05


@dataclass
class Recorder:
    """SQL statements and file opens seen while `on`, with the thread that made them; the change
    watcher's own reads are off the request path and left out."""

    on: bool = False
    statements: list[tuple[str, str]] = field(default_factory=list)
    opened: list[tuple[str, str]] = field(default_factory=list)

    def note(self, into: list[tuple[str, str]], what: object) -> None:
        thread = threading.current_thread().name
        if self.on and thread != WATCHER_THREAD:
            into.append((thread, str(what)))


_RECORDER: Recorder | None = None


def _audit(event: str, args: tuple[Any, ...]) -> None:
    recorder = _RECORDER
    if recorder is not None and event == "open":
        recorder.note(recorder.opened, args[0])


sys.addaudithook(_audit)  # cannot be removed: it does nothing unless a test has a recorder


@pytest.fixture
def recorder(monkeypatch: pytest.MonkeyPatch) -> Iterator[Recorder]:
    """Traces every SQLite connection made from now on (the service's catalog connections included,
    on whichever thread they are opened) and every file opened."""
    global _RECORDER
    found = Recorder()
    connect = sqlite3.connect

    def traced(*args: Any, **kwargs: Any) -> sqlite3.Connection:
        conn = connect(*args, **kwargs)
        conn.set_trace_callback(lambda sql: found.note(found.statements, sql))
        return conn

    monkeypatch.setattr(sqlite3, "connect", traced)
    _RECORDER = found
    yield found
    _RECORDER = None


def _app(make_client: ClientFactory, poll: float) -> TestClient:
    return make_client(api_key=KEY, change_poll_seconds=poll, reload_interval=0)


@pytest.fixture
def client(built: Catalog, make_client: ClientFactory, recorder: Recorder) -> TestClient:
    # A pin and blocks, so the state the requests read has overrides to apply.
    overrides = Overrides(built)
    overrides.set_pins("harbour-0", ["theatre-1"])
    overrides.block("election-5")
    overrides.block("harbour-4", under="harbour-0")
    return _app(make_client, SLEEPY)


def _service(client: TestClient) -> ServiceState:
    state: ServiceState = client.app.state.recsys  # type: ignore[attr-defined]
    return state


def _recommender(client: TestClient) -> Recommender:
    return _service(client).serving()


def _ids(body: dict[str, Any]) -> list[str]:
    items = body["items"] if "items" in body else body["related"]["items"]
    return [item["id"] for item in items]


# Every list endpoint of a stored article, by id and by URL, JSON and HTML.
PATHS: list[tuple[str, dict[str, str]]] = [
    ("/articles/harbour-0/related", {}),
    ("/articles/harbour-0/related", {"limit": "3", "section": "harbour"}),
    ("/articles/football-2/related", {"limit": "4", "exclude": "football-3"}),
    ("/articles/harbour-0/blocks", {}),
    ("/articles/vaccine-1/blocks", {"limit": "2", "section_limit": "3"}),
    ("/articles/harbour-0/blocks.html", {}),
    ("/articles/theatre-2/blocks.html", {"heading_related": "Lire aussi"}),
    ("/related", {"url": "https://news.example/election/2"}),
    ("/related.html", {"url": "https://news.example/harbour/0"}),
]


def _burst(client: TestClient) -> int:
    """Each list request a page view makes: fresh, again (from the response cache), revalidated with
    its ETag (304), with `If-None-Match: *` (304), and with a stale ETag (200). Returns the count."""
    sent = 0
    for path, params in PATHS:
        first = client.get(path, params=params)
        assert first.status_code == 200, (path, first.text)
        etag = first.headers["etag"]
        for headers, status in (
            ({}, 200),
            ({"If-None-Match": etag}, 304),
            ({"If-None-Match": "*"}, 304),
            ({"If-None-Match": '"stale"'}, 200),
            ({"If-None-Match": f'W/{etag}, "other"'}, 304),
        ):
            response = client.get(path, params=params, headers=headers)
            assert response.status_code == status, (path, headers, response.text)
            assert response.headers["etag"] == etag
            sent += 1
        sent += 1
    return sent


def test_a_burst_of_list_requests_runs_no_sql_and_opens_no_file(
    client: TestClient, recorder: Recorder
) -> None:
    _burst(client)  # warm: connections, caches, lazy imports
    recorder.on = True
    sent = sum(_burst(client) for _ in range(3))
    recorder.on = False
    assert sent == 3 * len(PATHS) * 6
    assert recorder.statements == []
    assert recorder.opened == []


def test_the_recorder_sees_what_the_request_path_would_read(client: TestClient, recorder: Recorder) -> None:
    """The check above can fail: an article published since the build is read from the catalog, and
    a refresh reads it too (on the thread that asks)."""
    put = client.put(
        "/admin/articles/harbour-late",
        json={"title": "Harbour ferry dock", "body": "harbour ferry dock tide pier", "section": "harbour"},
        headers=ADMIN,
    )
    assert put.status_code == 201
    recorder.on = True
    assert client.get("/articles/harbour-late/related").status_code == 200
    _recommender(client).refresh()
    recorder.on = False
    assert any("FROM articles WHERE id" in sql for _, sql in recorder.statements)
    assert any("overrides_generation" in sql for _, sql in recorder.statements)


def test_a_request_does_not_wait_for_a_refresh_in_progress(client: TestClient) -> None:
    live = _recommender(client).live
    answered: list[int] = []

    def ask() -> None:
        for path, params in PATHS:
            answered.append(client.get(path, params={**params, "limit": "2"}).status_code)

    with live._lock:  # what a refresh holds while it reads the catalog
        asking = threading.Thread(target=ask)
        asking.start()
        asking.join(timeout=60)
        done = not asking.is_alive()
    asking.join()
    assert done and answered == [200] * len(PATHS)


# -- one state per request -----------------------------------------------------------------------


class CountingSource:
    """Stands in for the live view's state source: counts the reads; after the first one, answers
    a later state (as a refresh between two reads would have), so a request that read twice would
    mix two states."""

    def __init__(self, first: LiveState, later: LiveState) -> None:
        self.states = [first, later]
        self.reads = 0

    def __call__(self) -> LiveState:
        self.reads += 1
        return self.states[min(self.reads - 1, 1)]


def _counting(
    client: TestClient, monkeypatch: pytest.MonkeyPatch, change: Callable[[], None]
) -> CountingSource:
    recommender = _recommender(client)
    first = recommender.live.current()
    change()
    later = recommender.refresh()
    assert later.generation != first.generation
    source = CountingSource(first, later)
    monkeypatch.setattr(recommender.live, "current", source)
    return source


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("/articles/harbour-0/related", {"limit": "4"}),
        ("/articles/harbour-0/blocks", {"limit": "4"}),
        ("/articles/harbour-0/blocks.html", {"limit": "4"}),
        ("/related", {"url": "https://news.example/harbour/0", "limit": "4"}),
    ],
)
@pytest.mark.parametrize("revalidate", [None, "*", "stale"])
def test_a_request_reads_the_state_once_and_its_etag_and_body_agree(
    client: TestClient,
    built: Catalog,
    monkeypatch: pytest.MonkeyPatch,
    path: str,
    params: dict[str, str],
    revalidate: str | None,
) -> None:
    before = client.get(path, params=params)
    # An automatic item of every list asked for (all are harbour-0's; its first item is a pin).
    shown = _ids(client.get("/articles/harbour-0/related", params=params).json())[1]
    _service(client).responses.size = 0  # every answer made now, from the state it reads
    source = _counting(client, monkeypatch, lambda: built.set_status(shown, "retracted"))
    headers = {} if revalidate is None else {"If-None-Match": '"x"' if revalidate == "stale" else "*"}
    response = client.get(path, params=params, headers=headers)
    assert source.reads == 1
    assert response.status_code == (304 if revalidate == "*" else 200)
    # The first state is the one before the retraction: the same ETag as before, and the same body.
    assert response.headers["etag"] == before.headers["etag"]
    if response.status_code == 200:
        assert response.content == before.content


# -- writes through this process -------------------------------------------------------------------


class Listing:
    """One list, asked for again and again with the ETag of the last answer: a write that changed
    it must never be answered 304."""

    def __init__(self, client: TestClient, path: str, params: dict[str, str]) -> None:
        self.client, self.path, self.params = client, path, params
        self.etag: str | None = None

    def __call__(self) -> list[str]:
        headers = {"If-None-Match": self.etag} if self.etag else {}
        response = self.client.get(self.path, params=self.params, headers=headers)
        assert response.status_code == 200
        self.etag = response.headers["etag"]
        return _ids(response.json())


def test_writes_through_the_api_show_in_the_very_next_response(client: TestClient) -> None:
    listed = Listing(client, "/articles/football-0/related", {"limit": "5"})
    top, second = listed()[:2]

    assert client.post(f"/admin/articles/{top}/retract", headers=ADMIN).json()["changed"]
    assert top not in listed()
    record = client.get(f"/admin/articles/{top}", headers=ADMIN).json()
    published = {k: record[k] for k in ("url", "title", "section", "tags", "published_at")}
    again = client.put(f"/admin/articles/{top}", json={**published, "status": "published"}, headers=ADMIN)
    assert again.status_code == 200 and again.json()["change"] == "updated"
    assert top in listed()

    assert (
        client.put("/admin/pins/football-0", json={"pins": ["theatre-3"]}, headers=ADMIN).status_code == 200
    )
    assert listed()[0] == "theatre-3"
    assert client.delete("/admin/pins/football-0", headers=ADMIN).status_code == 200
    assert "theatre-3" not in listed()

    assert client.post("/admin/blocks", json={"target": second}, headers=ADMIN).status_code == 201
    assert second not in listed()
    assert client.delete("/admin/blocks", params={"target": second}, headers=ADMIN).status_code == 200
    assert second in listed()

    edited = {**published, "title": "A headline written after the build", "status": "published"}
    assert client.put(f"/admin/articles/{top}", json=edited, headers=ADMIN).status_code == 200
    items = client.get(listed.path, params=listed.params).json()["items"]
    assert {i["id"]: i["title"] for i in items}[top] == "A headline written after the build"

    batch = f'{{"id": "{second}", "title": "Batch", "body": "x", "status": "retracted"}}\n'
    ndjson = {**ADMIN, "Content-Type": "application/x-ndjson"}
    posted = client.post("/admin/articles", content=batch, headers=ndjson)
    assert posted.status_code == 200 and posted.json()["updated"] == 1
    assert second not in listed()

    assert client.delete(f"/admin/articles/{top}", headers=ADMIN).status_code == 200
    assert top not in listed()
    assert client.get(f"/articles/{top}/related").status_code == 404


# -- writes made elsewhere -------------------------------------------------------------------------


def test_a_write_made_elsewhere_waits_for_a_refresh_not_a_request(
    client: TestClient, settings: Settings
) -> None:
    """With the watcher asleep, a write by another Catalog (as the CLI makes) is not seen by
    requests, which never read the catalog; the refresh the watcher would make shows it."""
    path = "/articles/vaccine-0/related"
    top = _ids(client.get(path).json())[0]
    elsewhere = Catalog(settings.catalog_file)
    try:
        elsewhere.set_status(top, "retracted")
    finally:
        elsewhere.close()
    assert top in _ids(client.get(path).json())
    _service(client).refresh_live()
    assert top not in _ids(client.get(path).json())


def _until(check: Callable[[], bool], seconds: float = 30.0) -> bool:
    deadline = time.monotonic() + seconds
    while not check():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True


def test_the_watcher_brings_in_writes_made_elsewhere(
    settings: Settings, built: Catalog, make_client: ClientFactory
) -> None:
    client = _app(make_client, QUICK)
    path = "/articles/theatre-0/related"
    top, second = _ids(client.get(path).json())[:2]
    elsewhere = Catalog(settings.catalog_file)
    try:
        elsewhere.set_status(top, "retracted")
        assert _until(lambda: top not in _ids(client.get(path).json()))
        Overrides(elsewhere).set_pins("theatre-0", ["harbour-3"])
        assert _until(lambda: _ids(client.get(path).json())[0] == "harbour-3")
        Overrides(elsewhere).block(second)
        assert _until(lambda: second not in _ids(client.get(path).json()))
    finally:
        elsewhere.close()


def test_the_watcher_outlives_a_failed_refresh(
    built: Catalog, make_client: ClientFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = _app(make_client, QUICK)
    recommender = _recommender(client)
    refresh = recommender.refresh
    failures = []

    def failing() -> LiveState:
        if not failures:
            failures.append(1)
            raise sqlite3.OperationalError("disk I/O error")
        return refresh()

    monkeypatch.setattr(recommender, "refresh", failing)
    Overrides(built).block("theatre-1")
    assert _until(lambda: "theatre-1" not in _ids(client.get("/articles/theatre-0/related").json()))
    assert failures == [1]


def test_the_polled_feed_returns_when_the_generation_moves_or_it_is_stopped(built: Catalog) -> None:
    feed = PolledGeneration(built, QUICK)
    stop = threading.Event()
    seen = built.generation()
    waited: list[int] = []

    def wait() -> None:
        waited.append(feed.wait(seen, stop))
        feed.close()

    waiter = threading.Thread(target=wait)
    waiter.start()
    Overrides(built).block("theatre-1")
    waiter.join(timeout=30)
    assert waited == [seen + 1]
    stop.set()
    assert feed.wait(seen + 1, stop) == seen + 1  # stopped: returns at once, nothing moved


def test_the_poll_setting_is_bounded() -> None:
    assert Settings().change_poll_seconds == 0.2
    for bad in (0, -1, 0.001, 61):
        with pytest.raises(ValueError):
            Settings(change_poll_seconds=bad)


def test_a_live_server_has_the_watcher(built: Catalog, make_client: ClientFactory) -> None:
    """Started and stopped with the app: its thread is gone once the app has shut down."""
    _app(make_client, QUICK)
    assert any(t.name == WATCHER_THREAD for t in threading.enumerate())
    make_client.close()
    assert not any(t.name == WATCHER_THREAD for t in threading.enumerate())
