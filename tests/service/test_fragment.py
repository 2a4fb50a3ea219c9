"""The HTML fragment of both blocks, the widget's files and the demo pages, over HTTP (fake encoder)."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from pathlib import Path
from typing import Any, cast

import pytest
from fastapi.testclient import TestClient

from index.build import build_index
from recsys.catalog.ingest import import_file
from recsys.catalog.store import Catalog
from recsys.settings import Settings
from service import widget
from service.app import create_app
from service.fragment import RTL_LANGUAGES, RTL_SCRIPTS, blocks_html, direction
from service.state import ServiceState
from service.widget import assets, experiment_running
from tests.fakes import FakeEncoder, synthetic_records, write_jsonl
from tests.helpers import ClientFactory

HOSTILE_TITLE = '</a><script>alert("x")</script> <img src=x onerror=alert(1)> & "quotes"'
HOSTILE_URL = 'https://news.example/harbour/"onmouseover="alert(1)'


class Items(HTMLParser):
    """Each listed item of a fragment: (block kind, id, href or None, link text), and the headings."""

    def __init__(self) -> None:
        super().__init__()
        self.items: list[tuple[str, str, str | None, str]] = []
        self.headings: list[str] = []
        self.scripts = 0
        self._block = ""
        self._id = ""
        self._href: str | None = None
        self._text: list[str] | None = None
        self._heading: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        classes = (found.get("class") or "").split()
        self.scripts += tag == "script" or any(name.startswith("on") for name in found)
        if tag == "section":
            self._block = next(c.removeprefix("recsys-block--") for c in classes if "--" in c)
        elif tag == "li":
            self._id = found["data-recsys-id"] or ""
        elif "recsys-link" in classes:
            self._href, self._text = found.get("href"), []
        elif tag == "h2":
            self._heading = []

    def handle_data(self, data: str) -> None:
        for sink in (self._text, self._heading):
            if sink is not None:
                sink.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag in ("a", "span") and self._text is not None:
            self.items.append((self._block, self._id, self._href, "".join(self._text)))
            self._text = None
        elif tag == "h2" and self._heading is not None:
            self.headings.append("".join(self._heading))
            self._heading = None


def parse(html: str) -> Items:
    parser = Items()
    parser.feed(html)
    return parser


def _expected(body: dict[str, object]) -> list[tuple[str, str, str | None, str]]:
    found = []
    for kind, name in (("related", "related"), ("section", "more_in_section")):
        for item in body[name]["items"]:  # type: ignore[index]
            found.append((kind, item["id"], item["url"], item["title"] or item["url"] or item["id"]))
    return found


@pytest.fixture
def client(
    settings: Settings, catalog: Catalog, encoder: FakeEncoder, tmp_path: Path, make_client: ClientFactory
) -> TestClient:
    records = synthetic_records()
    records.append(
        {
            "id": "harbour-hostile",
            "url": HOSTILE_URL,
            "title": HOSTILE_TITLE,
            "body": "harbour ferry dock tide pier crane",
            "section": "harbour",
            "published_at": "2026-03-09T00:00:00Z",
        }
    )
    import_file(catalog, write_jsonl(tmp_path / "hostile.jsonl", records), strict=True)
    build_index(settings, catalog, encoder)
    return make_client(cache_max_age=90, demo_pages=True)


def test_fragment_lists_what_the_json_lists_and_escapes_every_value(client: TestClient) -> None:
    params = {"limit": 4, "section_limit": 2}
    body = client.get("/articles/harbour-1/blocks", params=params).json()
    response = client.get("/articles/harbour-1/blocks.html", params=params)
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    listed = parse(response.text)
    assert listed.items == _expected(body) and listed.items
    assert [item[1:] for item in listed.items if item[1] == "harbour-hostile"] == [
        ("harbour-hostile", HOSTILE_URL, HOSTILE_TITLE)
    ]
    assert listed.scripts == 0  # no element or event handler came from the data
    assert "<script>" not in response.text and "&lt;script&gt;" in response.text
    assert listed.headings == ["Related Stories", "More in harbour"]
    assert response.text.startswith('<div class="recsys-blocks" data-recsys-state="loaded"')


def test_fragment_by_url_matches_the_json_by_url(client: TestClient) -> None:
    params = {"url": "https://news.example/vaccine/3", "limit": 4}
    body = client.get("/related", params=params).json()
    response = client.get("/related.html", params=params)
    assert response.status_code == 200
    assert parse(response.text).items == _expected(body)
    assert 'data-recsys-article="vaccine-3"' in response.text


def test_fragment_caching_headers_and_304(client: TestClient) -> None:
    first = client.get("/articles/football-2/blocks.html")
    etag = first.headers["etag"]
    assert first.headers["cache-control"] == "public, max-age=90"
    assert etag != client.get("/articles/football-2/blocks").headers["etag"]  # never each other's copy
    again = client.get("/articles/football-2/blocks.html", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b"" and again.headers["etag"] == etag
    other = client.get(
        "/articles/football-2/blocks.html",
        params={"limit": 2, "section_limit": 1},
        headers={"If-None-Match": etag},
    )
    assert other.status_code == 200 and len(parse(other.text).items) == 2 + 1


def test_fragment_errors_are_the_json_error_body(client: TestClient) -> None:
    missing = client.get("/articles/no-such-story/blocks.html")
    assert missing.status_code == 404
    assert missing.json() == {"error": "not_found", "detail": missing.json()["detail"]}
    bad = client.get("/articles/football-2/blocks.html", params={"limit": 0})
    assert bad.status_code == 422 and bad.json()["error"] == "invalid_input"
    assert client.get("/related.html", params={"url": "https://news.example/nope"}).status_code == 404


def _cacheable_by_content_hash(client: TestClient, name: str) -> str:
    """/`name` (a script) is this release's file, named by its hash; its text."""
    script = assets()[name]
    response = client.get(f"/{name}")
    assert response.status_code == 200 and response.content == script.body
    assert response.headers["content-type"] == "text/javascript; charset=utf-8"
    assert response.headers["etag"] == f'"{script.version}"'
    assert response.headers["cache-control"] == "public, max-age=3600"
    versioned = client.get(f"/{name}", params={"v": script.version})
    assert versioned.headers["cache-control"] == "public, max-age=31536000, immutable"
    stale = client.get(f"/{name}", params={"v": "0" * 16})
    assert stale.headers["cache-control"] == "public, max-age=3600" and stale.content == script.body
    revalidated = client.get(f"/{name}", headers={"If-None-Match": response.headers["etag"]})
    assert revalidated.status_code == 304 and revalidated.content == b""
    return response.text


def test_widget_script_is_cacheable_by_content_hash(client: TestClient) -> None:
    text = _cacheable_by_content_hash(client, "widget.js")
    assert "__RECSYS_CSS__" not in text and "--recsys-min-height" in text
    assert "__RECSYS_EXPERIMENT__" not in text and "var EXPERIMENT = false;" in text
    assert "__RECSYS_EVENTS_ENABLED__" not in text
    css = client.get("/widget.css")
    assert css.headers["content-type"] == "text/css; charset=utf-8" and ".recsys-blocks" in css.text


def test_demo_pages_show_the_article_and_the_widget(client: TestClient) -> None:
    index = client.get("/demo")
    assert index.status_code == 200 and 'href="/demo/articles/football-2"' in index.text
    page = client.get("/demo/articles/harbour-hostile")
    assert page.status_code == 200
    assert "<script>alert" not in page.text and "&lt;script&gt;" in page.text
    assert 'data-recsys-article="harbour-hostile"' in page.text
    assert f'src="/widget.js?v={assets()["widget.js"].version}"' in page.text
    assert client.get("/demo/articles/nope").status_code == 404
    pointed = client.get("/demo/articles/football-2", params={"api": "http://127.0.0.1:9"})
    assert pointed.status_code == 200 and 'data-recsys-api="http://127.0.0.1:9"' in pointed.text
    hostile = client.get("/demo/articles/football-2", params={"api": 'javascript:alert(1)"'})
    assert hostile.status_code == 422 and hostile.json()["error"] == "invalid_input"


def test_demo_pages_are_off_by_default(settings: Settings, built: Catalog, encoder: FakeEncoder) -> None:
    with TestClient(create_app(Settings(data_dir=settings.data_dir), encoder=encoder)) as plain:
        assert plain.get("/demo").status_code == 404
        assert plain.get("/demo/articles/football-2").status_code == 404
        assert plain.get("/widget.js").status_code == 200  # the widget itself is always served


def test_fragment_headings_in_the_page_language(client: TestClient) -> None:
    params = {"limit": 2, "section_limit": 2}
    german = client.get(
        "/articles/football-2/blocks.html",
        params={**params, "heading_related": "Mehr zum Thema", "heading_section": "Weiteres aus {section}"},
    )
    assert parse(german.text).headings == ["Mehr zum Thema", "Weiteres aus football"]
    assert (
        german.headers["etag"]
        != client.get("/articles/football-2/blocks.html", params=params).headers["etag"]
    )
    odd = client.get(
        "/articles/football-2/blocks.html",
        params={**params, "heading_related": "<b>{0} {x", "heading_section": "{section}}"},
    )
    assert odd.status_code == 200 and parse(odd.text).headings == ["<b>{0} {x", "football}"]
    assert "&lt;b&gt;" in odd.text and "<b>" not in odd.text
    for bad in ("", "x" * 201):
        refused = client.get("/articles/football-2/blocks.html", params={"heading_related": bad})
        assert refused.status_code == 422 and "heading_related" in refused.json()["detail"]


def test_fragment_carries_what_events_js_reports_with(client: TestClient) -> None:
    """The container names the list's article, version, experiment and arm; each block its name;
    each item its position in its block (docs/integration.md#reader-events)."""
    params = {"limit": 3, "section_limit": 2}
    body = client.get("/articles/harbour-1/blocks", params=params).json()
    html = client.get("/articles/harbour-1/blocks.html", params=params).text
    assert html.startswith(
        '<div class="recsys-blocks" data-recsys-state="loaded" data-recsys-article="harbour-1"'
        f' data-recsys-version="{body["index_version"]}" data-recsys-experiment="" data-recsys-arm="default">'
    )
    assert re.findall(r'data-recsys-block="(\w+)"', html) == ["related", "section"]
    found = re.findall(
        r'<li class="recsys-item" data-recsys-id="([^"]+)" data-recsys-position="(\d+)">', html
    )
    listed = [*body["related"]["items"], *body["more_in_section"]["items"]]
    assert found == [(item["id"], str(n)) for n, item in [*enumerate(listed[:3]), *enumerate(listed[3:])]]


def test_fragment_names_the_experiment_and_each_items_arm_escaped() -> None:
    item = {"id": "a", "url": "/a", "title": "A", "section": "s", "arm": 'x"><script>'}
    body = {
        "article_id": "p",
        "index_version": "v1",
        "experiment": "fusion-test",
        "arm": "interleaved",
        "related": {"items": [item, {**item, "id": "b", "arm": None}]},
        "more_in_section": {"items": []},
    }
    html = blocks_html(body)
    assert 'data-recsys-experiment="fusion-test" data-recsys-arm="interleaved"' in html
    assert 'data-recsys-position="0" data-recsys-arm="x&quot;&gt;&lt;script&gt;">' in html
    assert '<li class="recsys-item" data-recsys-id="b" data-recsys-position="1">' in html
    assert "<script>" not in html


def test_events_script_is_served_as_the_widget_is(client: TestClient) -> None:
    events = _cacheable_by_content_hash(client, "events.js")
    # The widget carries the same code in front of its own: one script on a widget page.
    assert client.get("/widget.js").text.startswith(events) and "window.recsysEvents" in events


def test_a_service_that_takes_no_events_serves_scripts_that_send_none(
    client: TestClient, make_client: ClientFactory
) -> None:
    assert "var ENABLED = true;" in client.get("/events.js").text
    off = make_client(events=False)
    for name in ("events.js", "widget.js"):
        text = off.get(f"/{name}").text
        assert "var ENABLED = false;" in text and "var ENABLED = true;" not in text
    assert off.get("/widget.js").headers["etag"] != client.get("/widget.js").headers["etag"]


KEY = {"X-API-Key": "s3cret"}
EXPERIMENT = {"name": "tdi", "design": "interleave", "arms": [{"name": "a"}, {"name": "b", "method": "bm25"}]}


def test_while_an_experiment_runs_the_widget_is_a_copy_of_its_own(
    built: Catalog, make_client: ClientFactory
) -> None:
    client = make_client(api_key="s3cret", demo_pages=True)
    state = cast(ServiceState, client.app.state.recsys)  # type: ignore[attr-defined]
    plain = client.get("/widget.js")
    assert not experiment_running(state) and b"var EXPERIMENT = false;" in plain.content
    assert client.put("/admin/experiment", json=EXPERIMENT, headers=KEY).status_code == 200
    assert experiment_running(state)
    running = client.get("/widget.js")
    assert b"var EXPERIMENT = true;" in running.content and b"var EXPERIMENT = false;" not in running.content
    assert running.headers["etag"] == f'"{assets(True)["widget.js"].version}"' != plain.headers["etag"]
    assert client.get("/widget.js", headers={"If-None-Match": plain.headers["etag"]}).status_code == 200
    page = client.get("/demo/articles/football-2").text
    assert f'src="/widget.js?v={assets(True)["widget.js"].version}"' in page
    assert client.get("/events.js").content == assets()["events.js"].body  # no flag in it
    assert client.delete("/admin/experiment", headers=KEY).status_code == 200
    assert not experiment_running(state)
    assert client.get("/widget.js").content == plain.content


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("ar", "rtl"), ("ar-EG", "rtl"), ("he", "rtl"), ("fa", "rtl"), ("ur", "rtl"), ("az-Arab", "rtl"),
        ("ur-Latn", "auto"), ("zh", "auto"), ("zh-Hant-TW", "auto"), ("en", "auto"), ("de-CH-1996", "auto"),
        ("en-u-arab", "auto"), ("x-ar", "auto"), (None, "auto"),
    ],
)  # fmt: skip
def test_a_title_is_right_to_left_by_its_language_or_script(language: str | None, expected: str) -> None:
    assert direction(language) == expected


def test_each_title_carries_its_language_and_direction_escaped() -> None:
    def item(key: str, title: str | None, language: object) -> dict[str, Any]:
        return {"id": key, "url": f"https://news.example/{key}", "title": title, "language": language}

    body = {
        "index_version": "v",
        "related": {
            "items": [
                item("ar", "نهر تارن يفيض", "ar"),
                item("zh", "塔恩河决堤", "zh-Hans"),
                item("bad", "Quoted", 'en" onclick="alert(1)'),
                item("newline", "Trailing", "ar\n"),
                item("untitled", None, "ar"),  # its URL is shown: no language, no turn
            ]
        },
        "more_in_section": {"items": []},
    }
    html = blocks_html(body)
    assert 'href="https://news.example/ar" lang="ar" dir="rtl">نهر تارن يفيض</a>' in html
    assert 'href="https://news.example/zh" lang="zh-Hans" dir="auto">塔恩河决堤</a>' in html
    assert 'href="https://news.example/bad" dir="auto">Quoted</a>' in html
    assert 'href="https://news.example/newline" dir="auto">Trailing</a>' in html
    assert 'href="https://news.example/untitled" dir="auto">https://news.example/untitled</a>' in html
    assert "onclick" not in html and parse(html).scripts == 0
    assert html.count('dir="') == 5  # only the titles: the blocks keep the page's direction


def test_the_widget_script_has_the_fragments_right_to_left_list() -> None:
    script = assets()["widget.js"].body.decode("utf-8")
    assert widget.RTL_PLACEHOLDER not in script
    written = json.loads(re.search(r"var RTL = (\{.*?\});", script).group(1))  # type: ignore[union-attr]
    assert written == {"languages": sorted(RTL_LANGUAGES), "scripts": sorted(RTL_SCRIPTS)}
