"""The page endpoints, caching headers, admin overrides over HTTP and the override CLI (fake encoder)."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from cli.app import app as cli_app
from recsys.catalog.ingest import import_file
from recsys.catalog.store import Catalog
from recsys.settings import Settings
from service.app import create_app
from tests.fakes import FakeEncoder, topic_of, write_jsonl
from tests.helpers import ClientFactory

KEY = "s3cret"


@pytest.fixture
def client(built: Catalog, make_client: ClientFactory) -> TestClient:
    return make_client(api_key=KEY, cache_max_age=120)


def _ids(block: dict[str, object]) -> list[str]:
    return [item["id"] for item in block["items"]]  # type: ignore[index, attr-defined]


def _seen(client: TestClient) -> None:
    """What the change watcher does within RECSYS_CHANGE_POLL_SECONDS of a write made elsewhere (here
    by the test, on the catalog directly): requests never read the catalog themselves."""
    client.app.state.recsys.refresh_live()  # type: ignore[attr-defined]


def test_blocks_endpoint_returns_both_blocks_without_overlap(client: TestClient) -> None:
    response = client.get("/articles/football-2/blocks", params={"limit": 3, "section_limit": 2})
    assert response.status_code == 200
    body = response.json()
    assert body["article_id"] == "football-2" and body["index_version"]
    related, in_section = _ids(body["related"]), _ids(body["more_in_section"])
    assert len(related) == 3 and len(in_section) == 2 and not set(related) & set(in_section)
    assert {topic_of(i) for i in in_section} == {"football"}
    assert body["related"]["collapsed"] == 0 and body["next_cursor"]
    assert {i["reason"] for i in body["more_in_section"]["items"]} == {"same_section"}


def test_related_by_url_and_unknown_url(client: TestClient) -> None:
    response = client.get("/related", params={"url": "https://news.example/vaccine/3", "limit": 4})
    assert response.status_code == 200
    body = response.json()
    assert body["article_id"] == "vaccine-3"
    assert {topic_of(i) for i in _ids(body["related"])} == {"vaccine"}
    missing = client.get("/related", params={"url": "https://news.example/nope"})
    assert missing.status_code == 404 and missing.json()["error"] == "not_found"
    assert client.get("/related").status_code == 422


def test_a_draft_is_embedded_and_gets_blocks(client: TestClient) -> None:
    draft = {"title": "Curtain call", "body": "theatre actors stage premiere", "section": "theatre"}
    response = client.post("/related", json=draft, params={"limit": 3, "section_limit": 2})
    assert response.status_code == 200
    body = response.json()
    assert body["article_id"] is None
    assert {topic_of(i) for i in _ids(body["related"])} == {"theatre"}
    assert not set(_ids(body["related"])) & set(_ids(body["more_in_section"]))
    empty = client.post("/related", json={"section": "theatre"})
    assert empty.status_code == 422 and "title or a body" in empty.json()["detail"]
    assert client.post("/related", json={"title": "x", "published_at": "yesterday"}).status_code == 422


@pytest.mark.parametrize(
    "params",
    [
        {"since": "2026-05-01T00:00:00Z", "until": "2026-04-01T00:00:00Z"},
        {"since": "last week"},
        {"max_age_days": "0"},
        {"section_limit": "-1"},
        {"half_life_days": "0"},
        {"cursor": "garbage"},
        {"background": "maybe"},
        {"section": "sport", "exclude_section": "sport"},
    ],
)
def test_nonsense_parameters_are_422_with_json(client: TestClient, params: dict[str, str]) -> None:
    for path in ("/articles/football-2/related", "/articles/football-2/blocks"):
        response = client.get(path, params=params)
        assert response.status_code == 422, (path, params, response.text)
        assert "detail" in response.json()


def test_paging_with_the_cursor_never_repeats(client: TestClient) -> None:
    seen: list[str] = []
    cursor = None
    for _ in range(4):
        params = {"limit": 5, **({"cursor": cursor} if cursor else {})}
        body = client.get("/articles/harbour-1/related", params=params).json()
        seen += _ids(body)
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == len(set(seen)) and len(seen) >= 15 and "harbour-1" not in seen


def test_etag_304_and_cache_control(client: TestClient, built: Catalog) -> None:
    path = "/articles/election-1/related"
    first = client.get(path, params={"limit": 4})
    etag = first.headers["etag"]
    assert first.headers["cache-control"] == "public, max-age=120"
    again = client.get(path, params={"limit": 4}, headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.headers["etag"] == etag and not again.content
    other_params = client.get(path, params={"limit": 5}, headers={"If-None-Match": etag})
    assert other_params.status_code == 200 and other_params.headers["etag"] != etag
    target = _ids(first.json())[0]
    pinned = client.put("/admin/pins/election-1", json={"pins": ["theatre-0"]}, headers={"X-API-Key": KEY})
    assert pinned.status_code == 200
    after_pin = client.get(path, params={"limit": 4}, headers={"If-None-Match": etag})
    assert after_pin.status_code == 200 and after_pin.headers["etag"] != etag
    assert _ids(after_pin.json())[0] == "theatre-0"
    etag2 = after_pin.headers["etag"]
    built.set_status(target, "retracted")
    _seen(client)
    after_retraction = client.get(path, params={"limit": 4}, headers={"If-None-Match": etag2})
    assert after_retraction.status_code == 200 and target not in _ids(after_retraction.json())
    blocks = client.get("/articles/election-1/blocks")
    assert blocks.headers["etag"] and blocks.headers["cache-control"] == "public, max-age=120"


def test_admin_endpoints_need_the_key(client: TestClient) -> None:
    body = {"pins": ["theatre-0"]}
    assert client.put("/admin/pins/election-1", json=body).status_code == 401
    assert client.put("/admin/pins/election-1", json=body, headers={"X-API-Key": "wrong"}).status_code == 403
    assert client.post("/admin/blocks", json={"target": "theatre-0"}).status_code == 401
    assert client.get("/admin/blocks", headers={"X-API-Key": "wrong"}).status_code == 403
    assert client.get("/articles/election-1/blocks").status_code == 200  # public: no key


def test_admin_blocks_and_pins_act_at_once(client: TestClient) -> None:
    headers = {"X-API-Key": KEY}
    before = _ids(client.get("/articles/vaccine-0/related", params={"limit": 5}).json())
    made = client.post("/admin/blocks", json={"target": before[0]}, headers=headers)
    assert made.status_code == 201 and made.json()["article"] is None
    assert before[0] not in _ids(client.get("/articles/vaccine-0/related", params={"limit": 5}).json())
    scoped = {"target": before[1], "article": "vaccine-0", "expires_at": "2999-01-01T00:00:00Z"}
    assert client.post("/admin/blocks", json=scoped, headers=headers).status_code == 201
    listed = client.get("/admin/blocks", params={"article": "vaccine-0"}, headers=headers).json()["blocks"]
    assert {b["target"] for b in listed} == {before[0], before[1]}
    after = _ids(client.get("/articles/vaccine-0/related", params={"limit": 5}).json())
    assert before[1] not in after
    removed = client.delete("/admin/blocks", params={"target": before[0]}, headers=headers)
    assert removed.status_code == 200 and [b["target"] for b in removed.json()["blocks"]] == [before[1]]
    assert client.post("/admin/blocks", json={"target": "nope"}, headers=headers).status_code == 422
    past = {"target": before[0], "expires_at": "2000-01-01T00:00:00Z"}
    assert client.post("/admin/blocks", json=past, headers=headers).status_code == 422
    pins = client.put("/admin/pins/vaccine-0", json={"pins": ["harbour-0", "harbour-1"]}, headers=headers)
    assert pins.json() == {"article_id": "vaccine-0", "pins": ["harbour-0", "harbour-1"]}
    items = client.get("/articles/vaccine-0/related", params={"limit": 3}).json()["items"]
    assert [(i["id"], i["reason"]) for i in items[:2]] == [("harbour-0", "pinned"), ("harbour-1", "pinned")]
    assert client.get("/admin/pins/vaccine-0", headers=headers).json()["pins"] == ["harbour-0", "harbour-1"]
    assert client.delete("/admin/pins/vaccine-0", headers=headers).json()["pins"] == []
    assert client.put("/admin/pins/nope", json={"pins": ["harbour-0"]}, headers=headers).status_code == 404


def test_override_cli(settings: Settings, built: Catalog) -> None:
    runner = CliRunner()
    data = ["--data-dir", str(settings.data_dir)]
    result = runner.invoke(cli_app, ["pin", "football-0", "theatre-1", "harbour-2", *data])
    assert result.exit_code == 0 and "pinned theatre-1, harbour-2" in result.output
    result = runner.invoke(cli_app, ["block", "theatre-3", "--under", "football-0", "--days", "2", *data])
    assert result.exit_code == 0 and "blocked under football-0 until" in result.output
    assert runner.invoke(cli_app, ["block", "harbour-5", *data]).exit_code == 0
    listing = runner.invoke(cli_app, ["overrides", "football-0", *data]).output
    assert "#1  theatre-1" in listing and "#2  harbour-2" in listing
    assert "theatre-3  under football-0" in listing and "harbour-5  everywhere" in listing
    assert runner.invoke(cli_app, ["unblock", "harbour-5", *data]).exit_code == 0
    again = runner.invoke(cli_app, ["unblock", "harbour-5", *data])
    assert again.exit_code == 1 and again.output.strip() == "error: harbour-5 is not blocked globally"
    bad = runner.invoke(cli_app, ["block", "theatre-3", "--expires", "soon", *data])
    assert bad.exit_code == 1 and bad.output.startswith("error: --expires")
    unknown = runner.invoke(cli_app, ["pin", "football-0", "nope", *data])
    assert unknown.exit_code == 1 and "unknown article id(s): 'nope'" in unknown.output
    assert "removed 2 pin(s)" in runner.invoke(cli_app, ["unpin", "football-0", *data]).output


def test_an_import_that_changes_an_article_changes_the_etag(
    client: TestClient, built: Catalog, tmp_path: Path
) -> None:
    path = "/articles/harbour-0/blocks"
    etag = client.get(path).headers["etag"]
    assert client.get(path, headers={"If-None-Match": etag}).status_code == 304
    edited = [{"id": "harbour-1", "title": "Harbour ferry pier", "section": "local"}]
    import_file(built, write_jsonl(tmp_path / "edit.jsonl", edited), strict=True)
    _seen(client)
    assert client.get(path, headers={"If-None-Match": etag}).status_code == 200


def test_the_etag_moves_when_a_block_expires_or_a_scheduled_article_goes_live(
    client: TestClient, built: Catalog
) -> None:
    from datetime import UTC, datetime, timedelta

    from recsys.catalog.overrides import Overrides

    recommender = client.app.state.recsys.recommender  # type: ignore[attr-defined]
    real_now = datetime.now(UTC)
    moment = {"now": real_now}
    recommender.clock = lambda: moment["now"]
    path, params = "/articles/harbour-0/related", {"limit": 5}
    Overrides(built).block("harbour-1", expires_at=real_now + timedelta(days=1))
    _seen(client)
    blocked = client.get(path, params=params)
    assert "harbour-1" not in _ids(blocked.json())
    moment["now"] = real_now + timedelta(days=2)  # the block has expired: same generation, new list
    later = client.get(path, params=params, headers={"If-None-Match": blocked.headers["etag"]})
    assert later.status_code == 200 and "harbour-1" in _ids(later.json())

    # A scheduled article: published tomorrow, so hidden today and listed tomorrow.
    moment["now"] = real_now
    future = (real_now + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    import_file(built, write_jsonl(built.path.parent / "f.jsonl", [
        {"id": "harbour-next", "title": "Harbour ferry dock tide pier crane", "published_at": future}
    ]))  # fmt: skip
    _seen(client)
    today = client.get(path, params=params)
    tomorrow_etag = today.headers["etag"]
    assert client.get(path, params=params, headers={"If-None-Match": tomorrow_etag}).status_code == 304
    moment["now"] = real_now + timedelta(days=2)
    assert client.get(path, params=params, headers={"If-None-Match": tomorrow_etag}).status_code == 200


def test_the_etag_depends_on_the_ranking_settings_and_star_needs_an_existing_article(
    settings: Settings, built: Catalog, encoder: FakeEncoder
) -> None:
    etags = []
    for lam in (0.7, 0.5):
        configured = Settings(data_dir=settings.data_dir, mmr_lambda=lam)
        with TestClient(create_app(configured, encoder=encoder)) as test_client:
            etags.append(test_client.get("/articles/harbour-0/related").headers["etag"])
            star = {"If-None-Match": "*"}
            assert test_client.get("/articles/harbour-0/related", headers=star).status_code == 304
            missing = test_client.get("/articles/no-such-article/related", headers=star)
            assert missing.status_code == 404 and missing.json()["error"] == "not_found"
            assert (
                test_client.get(
                    "/related", params={"url": "https://nowhere.example/"}, headers=star
                ).status_code
                == 404
            )
    assert etags[0] != etags[1]


def test_repeated_lists_come_from_the_response_cache_until_anything_they_depend_on_moves(
    client: TestClient, built: Catalog
) -> None:
    recommender = client.app.state.recsys.recommender  # type: ignore[attr-defined]
    calls = []
    real = recommender.related_list

    def counting(*args: object, **kwargs: object) -> object:
        calls.append(args)
        return real(*args, **kwargs)

    recommender.related_list = counting
    path = "/articles/harbour-0/related"
    first = client.get(path)
    again = client.get(path)
    assert first.content == again.content and len(calls) == 1
    assert client.get(path, params={"limit": 3}).status_code == 200 and len(calls) == 2
    target = _ids(first.json())[0]
    built.set_status(target, "retracted")
    _seen(client)
    after = client.get(path)
    assert len(calls) == 3 and target not in _ids(after.json())


def test_the_response_cache_can_be_turned_off(
    settings: Settings, built: Catalog, encoder: FakeEncoder
) -> None:
    configured = Settings(data_dir=settings.data_dir, response_cache_size=0)
    with TestClient(create_app(configured, encoder=encoder)) as test_client:
        recommender = test_client.app.state.recsys.recommender  # type: ignore[attr-defined]
        calls = []
        real = recommender.blocks
        recommender.blocks = lambda *a, **k: calls.append(a) or real(*a, **k)
        test_client.get("/articles/harbour-0/blocks")
        test_client.get("/articles/harbour-0/blocks")
        assert len(calls) == 2


def test_lists_that_may_run_the_encoder_are_made_off_the_event_loop(
    built: Catalog, make_client: ClientFactory
) -> None:
    """An article (or a pin) published since the build and not prepared in memory (here none is: a
    bound of 0) needs the encoder: its lists are made in the thread pool, so no other request waits
    for the model; an indexed article's are made in memory."""
    client = make_client(unindexed_max_articles=0)
    recommender = client.app.state.recsys.recommender  # type: ignore[attr-defined]
    assert recommender.in_memory("harbour-0") and recommender.in_memory(url="https://news.example/harbour/0")
    import_file(
        built, write_jsonl(built.path.parent / "n.jsonl", [{"id": "harbour-new", "title": "Harbour ferry"}])
    )
    _seen(client)
    assert not recommender.in_memory("harbour-new")
    assert client.get("/articles/harbour-new/related").status_code == 200
    from recsys.catalog.overrides import Overrides

    Overrides(built).set_pins("harbour-0", ["harbour-new"])
    _seen(client)
    assert not recommender.in_memory("harbour-0")
    assert _ids(client.get("/articles/harbour-0/related").json())[0] == "harbour-new"
