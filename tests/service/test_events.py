"""POST /events in-process (service/events.py, fake encoder): what is counted and stored after a clean
stop, hostile input (4xx or dropped and counted, never a 500, never stored), the per-client limit,
versions, arms, CORS, the raw log, and the flusher keeping what the catalog refused. Tests with an
app run on both catalog backends (SQLite, PostgreSQL)."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from index.build import build_index
from recsys.catalog.feedback import read_counts
from recsys.catalog.store import Catalog
from recsys.errors import CatalogBusy
from recsys.settings import Settings
from service import events as events_module
from service.app import create_app
from service.events import MAX_BODY_BYTES, Known, RateLimiter, Seen, Tally
from service.events_http import EventsEndpoint
from tests.fakes import FakeEncoder
from tests.postgres import BACKENDS, settings_on

BROWSER = {"User-Agent": "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/120.0 Safari/537.36"}
PV = "pv-0123456789"
SITE = "https://www.news.example"


@pytest.fixture(params=BACKENDS)
def settings(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    return settings_on(str(request.param), tmp_path, request, monkeypatch)


def _settings(settings: Settings, **overrides: Any) -> Settings:
    # No timed flush during a test: what is stored comes from the clean stop (or an explicit flush).
    values = {"events_flush_seconds": 3600, "events_rate": 0, "reload_interval": 0} | overrides
    return Settings(data_dir=settings.data_dir, **values)


def _page(client: TestClient, article: str = "harbour-0") -> dict[str, Any]:
    return client.get(f"/articles/{article}/related").json()  # type: ignore[no-any-return]


def _batch(body: dict[str, Any], kind: str = "impression", pv: str = PV, **fields: Any) -> dict[str, Any]:
    """Impressions of every listed item (or one click at the first position), as the widget sends."""
    items = body["items"][:1] if kind == "click" else body["items"]
    events = [{"type": kind, "block": "related", "position": n, "item": i["id"]} for n, i in enumerate(items)]
    batch = {
        "v": 1,
        "pv": pv,
        "article": body["article_id"],
        "version": body["index_version"],
        "experiment": "",
        "arm": "default",
        "events": events,
    }
    return batch | fields


def _send(client: TestClient, batch: dict[str, Any], headers: dict[str, str] | None = None) -> Any:
    # As navigator.sendBeacon sends it: a text/plain body.
    headers = {"Content-Type": "text/plain;charset=UTF-8", **BROWSER} if headers is None else headers
    return client.post("/events", content=json.dumps(batch).encode(), headers=headers)


def _metric(client: TestClient, name: str) -> dict[str, float]:
    text = client.get("/metrics").text
    return {
        next(iter(s.labels.values()), ""): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
        if s.name == name
    }


def _stored(catalog: Catalog) -> dict[tuple[str, int, str, str], tuple[int, int]]:
    return {
        (c.block, c.position, c.experiment, c.arm): (c.impressions, c.clicks) for c in read_counts(catalog)
    }


def test_counts_in_the_store_equal_the_events_sent_after_a_clean_stop(
    settings: Settings, built: Catalog, encoder: FakeEncoder
) -> None:
    with TestClient(create_app(_settings(settings), encoder=encoder)) as client:
        page = _page(client)
        n = len(page["items"])
        assert _send(client, _batch(page)).status_code == 204
        section = _batch(page)
        for event in section["events"]:
            event["block"] = "section"
        response = client.post("/events", json=section, headers=BROWSER)  # application/json too
        assert response.status_code == 204 and response.content == b""
        assert _send(client, _batch(page, "click")).status_code == 204
        assert _metric(client, "recsys_events_total") == {"impression": 2 * n, "click": 1}
        assert _metric(client, "recsys_events_pending")[""] == 2 * n + 1
        assert read_counts(built) == []  # nothing written on the request path
    rows = read_counts(built)
    today = datetime.now(UTC).strftime("%Y-%m-%d")
    assert {(r.day, r.article, r.section) for r in rows} == {(today, "harbour-0", "harbour")}
    expected = {("related", p, "", "default"): (1, int(p == 0)) for p in range(n)}
    expected |= {("section", p, "", "default"): (1, 0) for p in range(n)}
    assert _stored(built) == expected


def test_hostile_batches_get_4xx_never_500_and_nothing_is_stored(
    settings: Settings, built: Catalog, encoder: FakeEncoder
) -> None:
    with TestClient(
        create_app(_settings(settings), encoder=encoder), raise_server_exceptions=False
    ) as client:
        page = _page(client)
        good = _batch(page)
        json_headers = {"Content-Type": "application/json", **BROWSER}
        huge = json.dumps(good | {"pad": "x" * MAX_BODY_BYTES}).encode()
        answer = client.post("/events", content=huge, headers=json_headers)
        assert answer.status_code == 413 and answer.json()["error"] == "body_too_large"
        chunked = client.post("/events", content=iter([huge[:8000], huge[8000:]]), headers=json_headers)
        assert chunked.status_code == 413
        many = good | {"events": [good["events"][0] | {"position": n % 100} for n in range(101)]}
        assert len(json.dumps(many)) < MAX_BODY_BYTES
        for body in (
            json.dumps(many).encode(),
            b"{not json",
            b"\xff\xfe\x00",
            b"[]",
            b"",
            json.dumps(good | {"v": 2}).encode(),
            json.dumps(good | {"pv": "short"}).encode(),
            json.dumps(good | {"pv": "<script>alert(1)</script>"}).encode(),
            json.dumps(
                good | {"events": [{"type": "view", "block": "related", "position": 0, "item": "x"}]}
            ).encode(),
            json.dumps(
                good | {"events": [{"type": "click", "block": "related", "position": "zero", "item": "x"}]}
            ).encode(),
            json.dumps(good | {"events": "all"}).encode(),
            json.dumps(good | {"article": "lone \ud800"}).encode(),
            json.dumps(good | {"events": [good["events"][0] | {"item": "\udfff"}]}).encode(),
            b"[" * 8000 + b"]" * 8000,
            b'{"v": 1, "events": [' + b"{}," * 4000 + b"{}]}",
        ):
            answer = client.post("/events", content=body, headers=json_headers)
            assert answer.status_code == 422, (body[:80], answer.text)
            assert set(answer.json()) == {"error", "detail"} and answer.json()["error"] == "invalid_input"

        first = good["events"][0]
        dropped = {
            "unknown_article": good | {"article": "no-such-article"},
            "unknown_version": good | {"version": "20200101T000000Z-nope"},
            "unknown_item": good | {"events": [first | {"item": "no-such-item"}]},
            "bad_position": good | {"events": [first | {"position": p} for p in (-1, 100, 10**400)]},
            "bad_block": good | {"events": [first | {"block": "footer"}]},
            "unknown_arm": good | {"experiment": "secret", "arm": "fusion"},
        }
        for reason, batch in dropped.items():
            answer = _send(client, batch)
            assert answer.status_code == 204, (reason, answer.text)
        _send(client, good | {"events": [first | {"arm": "fusion"}]})  # an item's arm outside experiments
        for headers in (
            {"User-Agent": "Googlebot/2.1 (+http://www.google.com/bot.html)"},
            {"User-Agent": ""},
        ):
            assert _send(client, good, headers).status_code == 204
        assert _metric(client, "recsys_events_total") == {"impression": 0, "click": 0}
        counted = _metric(client, "recsys_events_dropped_total")
        n = len(good["events"])
        assert counted == {
            "unknown_article": n,
            "unknown_item": 1,
            "unknown_version": n,
            "bad_block": 1,
            "bad_position": 3,
            "unknown_arm": n + 1,
            "duplicate": 0,
            "bot": 2 * n,
        }
        statuses = _metric(client, "recsys_http_requests_total")
        assert not any(status.startswith("5") for status in statuses)
    assert read_counts(built) == []


def test_a_page_view_counts_each_slot_once(settings: Settings, built: Catalog, encoder: FakeEncoder) -> None:
    with TestClient(create_app(_settings(settings), encoder=encoder)) as client:
        page = _page(client)
        for _ in range(3):  # a retried beacon, a block scrolled into view again
            assert _send(client, _batch(page)).status_code == 204
            assert _send(client, _batch(page, "click")).status_code == 204
        assert _send(client, _batch(page, pv="pv-another-view")).status_code == 204
        n = len(page["items"])
        assert _metric(client, "recsys_events_dropped_total")["duplicate"] == 2 * (n + 1)
    assert _stored(built)[("related", 0, "", "default")] == (2, 1)


def test_one_client_flooding_gets_429_and_only_what_was_accepted_is_stored(
    settings: Settings, built: Catalog, encoder: FakeEncoder
) -> None:
    with TestClient(create_app(_settings(settings, events_rate=2), encoder=encoder)) as client:
        page = _page(client)
        answers = [
            _send(client, _batch(page, "click", pv=f"pv-flood-{n:04d}")).status_code for n in range(40)
        ]
        assert set(answers) == {204, 429} and answers[:4] == [204] * 4  # a burst of twice the rate
        refused = client.post("/events", content=b"{}", headers=BROWSER)
        assert refused.status_code == 429 and refused.json()["error"] == "too_many_requests"
        assert refused.headers["retry-after"] == "1"
        accepted = answers.count(204)
        assert _metric(client, "recsys_events_total")["click"] == accepted
    assert _stored(built) == {("related", 0, "", "default"): (0, accepted)}


def test_events_off_is_404(settings: Settings, built: Catalog, encoder: FakeEncoder) -> None:
    with TestClient(create_app(_settings(settings, events=False), encoder=encoder)) as client:
        answer = _send(client, _batch(_page(client)))
        assert answer.status_code == 404 and answer.json()["error"] == "not_found"


def test_cors_allows_posting_events_but_not_admin_writes(
    settings: Settings, built: Catalog, encoder: FakeEncoder
) -> None:
    with TestClient(create_app(_settings(settings, cors_origins=SITE), encoder=encoder)) as client:
        preflight = client.options(
            "/events",
            headers={
                "Origin": SITE,
                "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "content-type",
            },
        )
        assert preflight.status_code == 200 and preflight.headers["access-control-allow-origin"] == SITE
        assert "access-control-allow-credentials" not in preflight.headers
        beacon = _send(client, _batch(_page(client)), {"Origin": SITE, **BROWSER})
        assert beacon.status_code == 204 and beacon.headers["access-control-allow-origin"] == SITE
        admin = client.options(
            "/admin/blocks", headers={"Origin": SITE, "Access-Control-Request-Method": "POST"}
        )
        assert admin.status_code == 400
        lists = client.get("/articles/harbour-0/related", headers={"Origin": SITE})
        assert (
            lists.headers["access-control-allow-origin"] == SITE
            and "ETag" in lists.headers["access-control-expose-headers"]
        )


def test_the_version_before_the_served_one_still_counts(
    settings: Settings, built: Catalog, encoder: FakeEncoder
) -> None:
    with TestClient(create_app(_settings(settings), encoder=encoder)) as client:
        first = _page(client)
        for rebuild in range(2):
            build_index(settings, built, encoder, full=True)
            client.app.state.recsys.reload()  # type: ignore[attr-defined]
            if rebuild == 0:
                second = _page(client)
                assert second["index_version"] != first["index_version"]
                assert _send(client, _batch(first, "click", pv="pv-older-view")).status_code == 204
        assert (
            _send(client, _batch(second, "click", pv="pv-second-view")).status_code == 204
        )  # the one before
        assert _send(client, _batch(first, "click", pv="pv-oldest-view")).status_code == 204  # two before
        assert _metric(client, "recsys_events_dropped_total")["unknown_version"] == 1
    assert _stored(built) == {("related", 0, "", "default"): (0, 2)}


def test_arms_of_the_current_experiment_count(
    settings: Settings, built: Catalog, encoder: FakeEncoder
) -> None:
    with TestClient(create_app(_settings(settings, api_key="s3cret"), encoder=encoder)) as client:
        page = _page(client)
        experiment = {
            "name": "fusion-test",
            "design": "interleave",
            "arms": [{"name": "a", "method": "bm25"}, {"name": "b", "method": "recent"}],
        }
        started = client.put("/admin/experiment", json=experiment, headers={"X-API-Key": "s3cret"})
        assert started.status_code == 200, started.text
        batch = _batch(page, experiment="fusion-test", arm="a")
        batch["events"][1]["arm"] = "b"  # interleaved: the item's own arm is credited
        assert _send(client, batch).status_code == 204
        assert _send(client, _batch(page, pv="pv-other-view")).status_code == 204  # outside: still valid
        assert (
            _send(client, _batch(page, pv="pv-third-view", experiment="fusion-test", arm="c")).status_code
            == 204
        )
        assert (
            _send(client, _batch(page, pv="pv-fourth-view", experiment="old-test", arm="a")).status_code
            == 204
        )
        n = len(page["items"])
        assert _metric(client, "recsys_events_dropped_total")["unknown_arm"] == 2 * n
    stored = _stored(built)
    assert stored[("related", 0, "fusion-test", "a")] == (1, 0)
    assert stored[("related", 1, "fusion-test", "b")] == (1, 0)
    assert stored[("related", 1, "", "default")] == (1, 0)
    assert sum(i for i, _ in stored.values()) == 2 * n


def test_the_raw_log_has_one_line_per_accepted_event_and_no_address(
    settings: Settings, built: Catalog, encoder: FakeEncoder, tmp_path: Path
) -> None:
    folder = tmp_path / "events"
    with TestClient(create_app(_settings(settings, events_log_dir=folder), encoder=encoder)) as client:
        page = _page(client)
        _send(client, _batch(page))
        _send(client, _batch(page, article="no-such-article", pv="pv-dropped-view"))
    files = list(folder.iterdir())
    hour = datetime.now(UTC).strftime("%Y%m%d%H")
    assert [f.name for f in files] in ([f"events-{hour}-{os.getpid()}.jsonl"], [])  # an hour may turn
    lines = [json.loads(line) for f in files for line in f.read_text().splitlines()]
    assert len(lines) == len(page["items"])
    assert set(lines[0]) == {
        "time",
        "pv",
        "article",
        "version",
        "experiment",
        "arm",
        "type",
        "block",
        "position",
        "item",
    }
    assert "testclient" not in files[0].read_text()  # the client's address is nowhere


def test_a_refused_flush_keeps_the_counts_for_the_next(
    settings: Settings,
    built: Catalog,
    encoder: FakeEncoder,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    real = events_module.add_counts
    refusals: list[int] = []

    def busy_twice(catalog: Catalog, counts: Any) -> None:
        if len(refusals) < 2:
            refusals.append(1)
            raise CatalogBusy("the catalog is busy")
        real(catalog, counts)

    monkeypatch.setattr(events_module, "add_counts", busy_twice)
    with TestClient(create_app(_settings(settings), encoder=encoder)) as client:
        page = _page(client)
        _send(client, _batch(page, "click"))
        flusher = client.app.state.recsys_events.flusher  # type: ignore[attr-defined]
        assert flusher.flush() is False
        _send(client, _batch(page, "click", pv="pv-later-view"))
        assert flusher.flush() is False
        assert _metric(client, "recsys_events_flushes_total") == {"ok": 0, "failed": 2}
        said = [r.getMessage() for r in caplog.records if r.name == "service.events"]
        assert len(said) == 1 and "counts not stored" in said[0]  # an outage is said once
        assert flusher.flush() is True
        assert "stored again" in caplog.records[-1].getMessage()
        assert _stored(built) == {("related", 0, "", "default"): (0, 2)}
        assert _metric(client, "recsys_events_pending")[""] == 0


def test_the_rate_limiter_refills_and_forgets_the_oldest_client() -> None:
    now = [0.0]
    limiter = RateLimiter(1.0, max_clients=2, clock=lambda: now[0])
    assert [limiter.allow("a") for _ in range(3)] == [True, True, False]
    now[0] = 1.0
    assert limiter.allow("a") and not limiter.allow("a")
    limiter.allow("b")
    limiter.allow("c")  # "a" is forgotten: it starts full again
    assert limiter.allow("a") and limiter.allow("a")
    assert RateLimiter(0).allow("anyone")


def test_duplicates_are_remembered_within_an_hour_and_within_bounds() -> None:
    seen = Seen(window=3600, max_entries=3)
    slot = ("pv-0123456789", "click", "related", 0)
    assert seen.first(slot, 0.0) and not seen.first(slot, 10.0)
    assert seen.first(slot, 3601.0)  # an hour later it counts again
    for n in range(1, 5):
        seen.first(("pv-0123456789", "click", "related", n), 3602.0)
    assert len(seen) == 3


def test_the_tally_is_bounded() -> None:
    tally = Tally(max_rows=2, max_lines=1)
    row = ("2026-12-07", "a", "related", 0, "", "default")
    assert tally.add({row: [1, 0]}, [("h", b"1\n"), ("h", b"2\n")]) == 0
    assert tally.add({row[:3] + (1,) + row[4:]: [1, 1], row[:3] + (2,) + row[4:]: [3, 0]}, []) == 3
    taken = tally.take()
    assert taken.events == 3 and len(taken.lines) == 1 and tally.take().events == 0


@pytest.mark.parametrize(
    ("agent", "crawler"),
    [
        ("Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)", True),
        ("Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)", True),
        ("facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)", True),
        ("Mozilla/5.0 (compatible; AhrefsBot/7.0; +http://ahrefs.com/robot/)", True),
        ("", True),
        (None, True),
        (
            "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 HeadlessChrome/120.0 Safari/537.36",
            False,
        ),
        (
            "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 Safari/604.1",
            False,
        ),
    ],
)
def test_crawlers_are_told_by_their_user_agent(agent: str | None, crawler: bool) -> None:
    assert events_module.is_crawler(agent) is crawler


def _requests(client: TestClient) -> dict[str, float]:
    text = client.get("/metrics").text
    return {
        s.labels["status"]: s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
        if s.name == "recsys_http_requests_total" and s.labels.get("route") == "/events"
    }


def test_events_are_answered_ahead_of_the_stack_with_what_the_stack_would_add(
    settings: Settings, built: Catalog, encoder: FakeEncoder
) -> None:
    """service/events_http.py's EventsEndpoint: the request id, CORS for allowed origins only, the
    request metrics and the one error body, as every other route has them."""
    with TestClient(create_app(_settings(settings, cors_origins=SITE), encoder=encoder)) as client:
        page = _page(client)
        answer = _send(client, _batch(page), {"Origin": SITE, "X-Request-ID": "trace-42", **BROWSER})
        assert answer.status_code == 204 and answer.headers["x-request-id"] == "trace-42"
        assert answer.headers["access-control-allow-origin"] == SITE and answer.headers["vary"] == "Origin"
        other = _send(
            client, _batch(page, pv="pv-another-view"), {"Origin": "https://evil.example", **BROWSER}
        )
        assert other.status_code == 204 and "access-control-allow-origin" not in other.headers
        assert len(other.headers["x-request-id"]) == 32  # a fresh one
        bad = _send(client, {"v": 1}, {"Origin": SITE, **BROWSER})
        assert bad.status_code == 422 and bad.json()["error"] == "invalid_input"
        assert "events" in bad.json()["detail"] and bad.headers["access-control-allow-origin"] == SITE
        assert bad.headers["x-request-id"]
        assert _requests(client) == {"204": 2, "422": 1}
        assert client.get("/events").status_code == 405  # other methods: the router's answer


def test_the_route_answers_as_the_endpoint_does(
    settings: Settings, built: Catalog, encoder: FakeEncoder
) -> None:
    """Without EventsEndpoint in front, the documented route gives the same answers."""
    app = create_app(_settings(settings), encoder=encoder)
    app.user_middleware = [m for m in app.user_middleware if m.cls is not EventsEndpoint]
    with TestClient(app) as client:
        page = _page(client)
        assert _send(client, _batch(page)).status_code == 204
        assert _send(client, {"v": 1}).json()["error"] == "invalid_input"
        huge = json.dumps(_batch(page) | {"pad": "x" * MAX_BODY_BYTES}).encode()
        too_big = client.post("/events", content=huge, headers=BROWSER)
        assert too_big.status_code == 413 and too_big.json()["error"] == "body_too_large"
        assert _metric(client, "recsys_events_total") == {"impression": len(page["items"]), "click": 0}


class _Asked:
    """A recommender that knows the ids given and counts the lookups."""

    def __init__(self, ids: set[str]) -> None:
        self.ids, self.asked = ids, 0

    def has_article(self, article_id: str, *, state: object = None) -> bool:
        self.asked += 1
        return article_id in self.ids


def test_known_ids_are_remembered_per_live_state_and_unknown_ones_never() -> None:
    recommender, first, second = _Asked({"a", "b"}), object(), object()
    known = Known(max_entries=2)

    def has(live: object, article: str) -> bool:
        return known.has(cast(Any, recommender), cast(Any, live), article)

    assert has(first, "a") and has(first, "a") and recommender.asked == 1
    assert not has(first, "x") and not has(first, "x") and recommender.asked == 3  # never remembered
    recommender.ids.discard("a")  # deleted: the watcher swaps in a new live state
    assert not has(second, "a") and recommender.asked == 4
    assert has(second, "b") and has(second, "b") and recommender.asked == 5
    recommender.ids |= {"c", "d"}
    assert has(second, "c") and has(second, "d") and recommender.asked == 7  # over the bound: afresh
    assert has(second, "d") and recommender.asked == 7 and has(second, "b") and recommender.asked == 8


def test_with_cors_configured_the_endpoint_and_the_route_send_the_same_headers(
    settings: Settings, built: Catalog, encoder: FakeEncoder
) -> None:
    configured = _settings(settings, cors_origins=SITE)
    fast = create_app(configured, encoder=encoder)
    routed = create_app(configured, encoder=encoder)
    routed.user_middleware = [m for m in routed.user_middleware if m.cls is not EventsEndpoint]
    with TestClient(fast) as one, TestClient(routed) as other:
        page = _page(one)
        for n, origin in enumerate((SITE, "https://evil.example", None)):
            headers = {**BROWSER, **({"Origin": origin} if origin else {}), "X-Request-ID": f"same-{n}"}
            for body in (_batch(page, pv=f"pv-cors-view-{n}"), {"v": 1}):
                answers = [_send(client, body, headers) for client in (one, other)]
                assert answers[0].status_code == answers[1].status_code
                assert answers[0].content == answers[1].content
                kept = [
                    sorted((k, v) for k, v in a.headers.items() if k not in ("date", "server"))
                    for a in answers
                ]
                assert kept[0] == kept[1], origin
