"""service/fast_lists.py: a default list request answered by FastLists gets exactly the app's answer.

Two apps over one catalog, one with the layer and one without (as tests/service/test_events.py
compares EventsEndpoint with its route): the same status, body bytes and headers (the request id's
value aside, where the client sends none) and the same request metrics, for every article of the demo
corpus as built and after rounds of random live changes (retractions, a deletion, edits, imports,
pins, blocks with and without expiry); and what the layer must pass through: other parameters, an
experiment running, an unknown, retracted or deleted article, a declared body, a full in-flight count.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families
from starlette.middleware import Middleware
from starlette.types import Scope

from index.build import build_index
from recsys.catalog.ingest import import_file
from recsys.catalog.overrides import Overrides
from recsys.catalog.store import Catalog
from recsys.demo_corpus import generate
from recsys.errors import ArticleNotFound
from recsys.root import Root
from recsys.settings import Settings
from service.app import create_app
from service.fast_lists import FastLists
from service.pressure import InFlight
from service.state import ServiceState
from tests.fakes import FakeEncoder, write_jsonl

SITE = "https://www.news.example"
KEY = {"X-API-Key": "s3cret"}
ROUTES = ("related", "blocks")


class _Recording(FastLists):
    """FastLists, counting the requests it takes for itself (a test that only ever saw pass-through
    would prove nothing)."""

    def __init__(self, *args: Any, answered: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.answered = answered

    def _chosen(self, scope: Scope) -> Any:
        found = super()._chosen(scope)
        if found is not None:
            self.answered.append(scope["path"])
        return found


@dataclass
class Pair:
    fast: TestClient
    plain: TestClient
    answered: list[str] = field(default_factory=list)

    def same(self, path: str, headers: dict[str, str] | None = None, **request: Any) -> tuple[Any, bool]:
        """Asks both apps; asserts one answer; returns it and whether FastLists answered it."""
        before = len(self.answered)
        method = request.pop("method", "GET")
        fast = self.fast.request(method, path, headers=headers, **request)
        plain = self.plain.request(method, path, headers=headers, **request)
        assert (fast.status_code, fast.content) == (plain.status_code, plain.content), path
        assert _headers(fast) == _headers(plain), path
        sent = (headers or {}).get("X-Request-ID")
        assert fast.headers["x-request-id"] == (sent or fast.headers["x-request-id"])
        return fast, len(self.answered) > before

    def services(self) -> list[ServiceState]:
        return [client.app.state.recsys for client in (self.fast, self.plain)]  # type: ignore[attr-defined]

    def refresh(self) -> None:
        for service in self.services():
            service.refresh_live()

    def requests_counted(self) -> tuple[dict[tuple[str, ...], float], dict[tuple[str, ...], float]]:
        return _counted(self.fast), _counted(self.plain)


def _headers(response: Any) -> list[tuple[str, str]]:
    """Every header in order, the request id's value left out (a fresh one per request)."""
    return [(k, "" if k == "x-request-id" else v) for k, v in response.headers.multi_items()]


def _counted(client: TestClient) -> dict[tuple[str, ...], float]:
    text = client.get("/metrics").text
    return {
        (s.name, *sorted(s.labels.items())): s.value  # type: ignore[misc]
        for family in text_string_to_metric_families(text)
        for s in family.samples
        if s.name in ("recsys_http_requests_total", "recsys_http_request_seconds_count")
    }


def _apps(settings: Settings) -> tuple[FastAPI, FastAPI, list[str]]:
    answered: list[str] = []
    fast = create_app(settings, encoder=FakeEncoder())
    fast.user_middleware = [
        Middleware(_Recording, *m.args, answered=answered, **m.kwargs) if m.cls is FastLists else m
        for m in fast.user_middleware
    ]
    plain = create_app(settings, encoder=FakeEncoder())
    plain.user_middleware = [m for m in plain.user_middleware if m.cls is not FastLists]
    return fast, plain, answered


@pytest.fixture
def pair(settings: Settings, built: Catalog) -> Iterator[Pair]:
    """Both apps over the synthetic corpus (tests/fakes.py), CORS on, an admin key."""
    on = Settings(data_dir=settings.data_dir, cors_origins=SITE, api_key="s3cret", change_poll_seconds=60)
    fast, plain, answered = _apps(on)
    with TestClient(fast) as fast_client, TestClient(plain) as plain_client:
        yield Pair(fast_client, plain_client, answered)


# -- the demo corpus, every article, under rounds of live changes -----------------------------------


@dataclass
class World:
    pair: Pair
    catalog: Catalog
    ids: list[str]
    folder: Path
    languages: bool = False


# The demo corpus in several languages and none (`languages`): each article's neighbour list is then
# of its own language (recsys/version/neighbours.py), and the default lists are stored from it.
LANGUAGES = ("en", "de", "pt-BR", None)


def _record(n: int, record: dict[str, object], languages: bool) -> dict[str, object]:
    language = LANGUAGES[n % len(LANGUAGES)] if languages else None
    return record | ({"language": language} if language else {})


@pytest.fixture(scope="module", params=[False, True], ids=["one-language", "languages"])
def world(tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest) -> Iterator[World]:
    languages: bool = request.param
    folder = tmp_path_factory.mktemp("fast_lists")
    settings = Settings(
        data_dir=folder / "data", cors_origins=SITE, change_poll_seconds=60, response_cache_size=64
    )
    root = Root(settings)
    demo = generate()
    records = [_record(n, d.to_record(), languages) for n, d in enumerate(demo)]
    import_file(root.catalog, write_jsonl(folder / "demo.jsonl", records), strict=True)
    build_index(settings, root.catalog, FakeEncoder())
    fast, plain, answered = _apps(settings)
    with TestClient(fast) as fast_client, TestClient(plain) as plain_client:
        pair = Pair(fast_client, plain_client, answered)
        yield World(pair, root.catalog, [d.id for d in demo], folder, languages)
    root.close()


def _every_article(world: World, extra: list[str]) -> int:
    """Both routes of every article, plain, from a site's page (CORS), with the widget's limits and
    with the ETag just received; returns how many the layer answered."""
    pair, answered = world.pair, 0
    for n, article_id in enumerate([*world.ids, *extra]):
        for route in ROUTES:
            path = f"/articles/{article_id}/{route}"
            first, fast = pair.same(path)
            answered += fast
            if n % 5 == 0 or n >= len(world.ids):
                pair.same(path, {"Origin": SITE, "X-Request-ID": "trace-1"})
                pair.same(f"{path}?limit=10&section_limit=5", {"Origin": "https://elsewhere.example"})
            if first.status_code == 200:
                again, _ = pair.same(path, {"If-None-Match": first.headers["etag"]})
                assert again.status_code == 304
    return answered


def _changes(world: World, rng: random.Random, round_: int) -> list[str]:
    """Random changes since the build, as an editor's tools make them; returns the ids imported."""
    catalog, ids = world.catalog, world.ids
    for article_id in rng.sample(ids, 3):
        catalog.set_status(article_id, rng.choice(["retracted", "published"]))
    if round_ == 1:
        catalog.delete(ids[41])
    overrides = Overrides(catalog)
    now = datetime.now(UTC)
    for _ in range(3):
        until = rng.choice([None, now + timedelta(days=rng.randint(1, 9))])
        under = rng.choice([None, *rng.sample(ids, 2)])
        target = rng.choice([t for t in ids if t != under])
        overrides.block(target, under=under, expires_at=until)
    subject = rng.choice(ids)
    overrides.set_pins(subject, rng.sample([t for t in ids if t != subject], 2))
    demo = {d.id: d for d in generate()}
    edited = demo[rng.choice(ids)].to_record() | {"section": "world", "title": f"edited in round {round_}"}
    if world.languages:  # moved into another language's lists, or out of every one
        edited["language"] = rng.choice(["de", "pt-BR", "ko"])
    imported = [
        demo[ids[n]].to_record()
        | {"id": f"late-{round_}-{n}", "url": f"https://news.example/late/{round_}/{n}"}
        for n in (5, 120)
    ]
    imported[1]["published_at"] = "2099-01-01T00:00:00Z"  # scheduled: held back from every list
    path = write_jsonl(world.folder / f"round-{round_}.jsonl", [edited, *imported])
    import_file(catalog, path, strict=True)
    return [record["id"] for record in imported]  # type: ignore[misc]


def test_every_default_list_is_the_apps_answer_as_built_and_under_live_changes(world: World) -> None:
    pair = world.pair
    # As built, nothing changed: every stored list is served by the layer.
    stored = pair.services()[0].serving().lists
    assert stored is not None
    # The plain app ranks every section block now (recsys/version/sections.py): the layer's, from the
    # stored blocks where they hold, must still be its answers byte for byte.
    fast_side, plain_side = (service.serving() for service in pair.services())
    assert fast_side.sections is not None and fast_side.sections.blocks.stored > 0
    plain_side.sections = None
    assert _every_article(world, []) == 2 * stored.stored
    rng = random.Random(19)
    extra = ["no-such-article"]
    for round_ in (1, 2):
        extra += _changes(world, rng, round_)
        pair.refresh()
        assert len({service.serving().live.current().generation for service in pair.services()}) == 1
        answered = _every_article(world, extra)
        assert 0 < answered < 2 * stored.stored  # some lists touched by the changes, most not
    fast, plain = pair.requests_counted()
    assert fast == plain


# -- what the layer passes through ------------------------------------------------------------------


def test_other_parameters_pass_through(pair: Pair) -> None:
    path = "/articles/harbour-1/related"
    page, fast = pair.same(path)
    assert fast
    cursor = page.json()["next_cursor"]
    assert cursor
    for query in (
        "limit=3",
        "limit=010",
        f"cursor={cursor}",
        "section=harbour",
        "limit=10&bucket=5",
        "cross_language=false",
        "unknown=1",
        "limit=0",
    ):
        for route in ("related", "blocks"):
            _, fast = pair.same(f"/articles/harbour-1/{route}?{query}")
            assert not fast, query
    for query in (
        "section_limit=5&limit=10",
        "limit=10",
        "limit=10&limit=10",
    ):  # the widget's, at the defaults
        for route in ("related", "blocks"):
            _, fast = pair.same(f"/articles/harbour-1/{route}?{query}")
            assert fast, query


def test_a_running_experiment_passes_through(pair: Pair) -> None:
    config = {
        "name": "ab",
        "design": "ab",
        "arms": [{"name": "a", "share": 0.5}, {"name": "b", "share": 0.5}],
    }
    assert pair.fast.put("/admin/experiment", json=config, headers=KEY).status_code == 200
    pair.refresh()
    for route in ROUTES:
        _, fast = pair.same(f"/articles/harbour-1/{route}")
        assert not fast
    assert pair.fast.delete("/admin/experiment", headers=KEY).status_code == 200
    pair.refresh()
    _, fast = pair.same("/articles/harbour-1/related")
    assert fast


def test_unknown_retracted_and_deleted_articles_pass_through(pair: Pair, built: Catalog) -> None:
    for article_id in ("no-such-article", "harbour-1/extra", "", "harbour-1%0A", "harbour-1%2Fx"):
        for route in ROUTES:
            answer, fast = pair.same(f"/articles/{article_id}/{route}")
            assert not fast and answer.status_code in (404, 200)
    missing, _ = pair.same("/articles/no-such-article/related")
    assert missing.json()["error"] == "not_found"
    built.set_status("harbour-2", "retracted")
    built.delete("harbour-3")
    pair.refresh()
    for article_id in ("harbour-2", "harbour-3"):
        for route in ROUTES:
            _, fast = pair.same(f"/articles/{article_id}/{route}")
            assert not fast


def test_requests_the_stack_would_refuse_pass_through(pair: Pair) -> None:
    path = "/articles/harbour-1/related"
    _, fast = pair.same(path, content=b"x" * 10)  # a declared body: the body limit's to judge
    assert not fast
    _, fast = pair.same(path, method="HEAD")  # the route takes GET only: the router's 405
    assert not fast
    _, fast = pair.same(
        path, method="OPTIONS", headers={"Origin": SITE, "Access-Control-Request-Method": "GET"}
    )
    assert not fast
    gates = [m.kwargs["in_flight"] for m in pair.fast.app.user_middleware if m.cls is _Recording]  # type: ignore[attr-defined]
    assert len(gates) == 1 and isinstance(gates[0], InFlight)
    gate = gates[0]
    plain_gate = next(
        m.kwargs["gate"]
        for m in pair.plain.app.user_middleware  # type: ignore[attr-defined]
        if "gate" in m.kwargs
    )
    for each in (gate, plain_gate):
        each.count = each.limit
    try:
        answer, fast = pair.same(path)
        assert not fast and answer.status_code == 503 and answer.json()["error"] == "overloaded"
    finally:
        gate.count = plain_gate.count = 0
    answer, fast = pair.same(path, {"If-None-Match": "*"})
    assert fast and answer.status_code == 304
    counted = pair.requests_counted()
    assert counted[0] == counted[1]


def test_a_failed_answer_is_made_again_by_the_app(pair: Pair, monkeypatch: pytest.MonkeyPatch) -> None:
    """A failure before anything is sent (here a live state that lost the article between the checks
    and the list) is the app's to answer: the request passes through, nothing was sent twice."""
    recommender = pair.services()[0].serving()
    real = recommender.related_list
    failures = []

    def once(*args: Any, **kwargs: Any) -> Any:
        if not failures:
            failures.append(args)
            raise ArticleNotFound("harbour-1")
        return real(*args, **kwargs)

    monkeypatch.setattr(recommender, "related_list", once)
    answer, fast = pair.same("/articles/harbour-1/related")
    assert fast and failures and answer.status_code == 200
    counted = pair.requests_counted()
    assert counted[0] == counted[1]
