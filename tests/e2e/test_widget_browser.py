"""The widget in a real browser: headless Chromium (the system's, driven by playwright) opens the demo
article page served by a real uvicorn server over an index of the built-in demo corpus, as a reader
would. The fake encoder builds and serves the index: what is checked is the page, not the model.

Checks: nothing is fetched before the blocks come near the viewport; both blocks then arrive, with
the items, links and titles of the API's JSON answer, in the markup of the HTML fragment, as an
accessible region with a heading and a list; the reserved space does not change (no layout shift);
with the service down, or answering an error or nonsense, the article stays intact and the blocks
stay empty, with no exception thrown into the page.

The browser, the server and the page opener: tests/e2e/browser.py and tests/e2e/conftest.py.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from service.fragment import Headings, blocks_html
from tests.e2e.browser import (
    ARTICLE,
    LIMITS,
    LONG_ARTICLE,
    Served,
    scroll_to_blocks,
    wait_state,
)


def _height(page: Any) -> float:
    return float(page.eval_on_selector(".recsys-blocks", "e => e.getBoundingClientRect().height"))


def _shown(page: Any, kind: str) -> list[tuple[str, str | None, str]]:
    return [
        tuple(row)
        for row in page.eval_on_selector_all(
            f".recsys-block--{kind} li.recsys-item",
            "items => items.map(li => [li.dataset.recsysId, "
            "li.querySelector('a.recsys-link')?.getAttribute('href') ?? null, "
            "li.querySelector('.recsys-link').textContent])",
        )
    ]


def _expected(block: dict[str, Any]) -> list[tuple[str, str | None, str]]:
    return [(i["id"], i["url"], i["title"]) for i in block["items"]]


def test_blocks_load_when_near_and_match_the_api(served: Served, open_page: Any, tmp_path: Path) -> None:
    opened = open_page(f"{served.base}/demo/articles/{ARTICLE}", init_script=LONG_ARTICLE)
    page = opened.page
    # Below the fold: the widget waits, and nothing has been asked of the API yet.
    assert page.eval_on_selector(".recsys-blocks", "e => e.dataset.recsysState") == "waiting"
    assert opened.block_requests == []
    title = page.inner_text("h1")
    before = _height(page)
    assert before > 300  # the page's reservation (44rem), held while empty

    scroll_to_blocks(page)
    wait_state(page, "loaded")
    assert len(opened.block_requests) == 1
    assert _height(page) == before  # no layout shift: the blocks fit their reserved space
    assert page.eval_on_selector(".recsys-blocks", "e => e.scrollHeight <= e.clientHeight")

    answer = httpx.get(f"{served.base}/articles/{ARTICLE}/blocks", params=LIMITS).json()
    assert len(answer["related"]["items"]) == 5 and len(answer["more_in_section"]["items"]) == 5
    assert _shown(page, "related") == _expected(answer["related"])
    assert _shown(page, "section") == _expected(answer["more_in_section"])

    # Accessible structure: two named regions, each with its heading and a list of links.
    section = answer["more_in_section"]["items"][0]["section"]
    for name, block in (("Related Stories", "related"), (f"More in {section}", "more_in_section")):
        region = page.get_by_role("region", name=name)
        assert region.get_by_role("heading", name=name).count() == 1
        assert region.get_by_role("list").get_by_role("listitem").count() == 5
        assert region.get_by_role("link").count() == len(answer[block]["items"])

    # The same markup as the HTML fragment, element for element, once both are parsed.
    fragment = httpx.get(f"{served.base}/articles/{ARTICLE}/blocks.html", params=LIMITS).text
    same = page.evaluate(
        """html => {
            const holder = document.createElement('template');
            holder.innerHTML = html;
            return holder.content.firstElementChild.innerHTML ===
                document.querySelector('.recsys-blocks').innerHTML;
        }""",
        fragment,
    )
    assert same
    # The theme reached the blocks through a custom property set by the page.
    assert page.eval_on_selector(".recsys-heading", "e => getComputedStyle(e).color") == "rgb(20, 33, 61)"
    assert page.inner_text("h1") == title and opened.errors == []

    shot = tmp_path / "widget-demo.png"
    page.eval_on_selector("#filler", "e => e.remove()")
    page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 10_000


def test_service_down_leaves_the_article_intact_and_the_blocks_empty(served: Served, open_page: Any) -> None:
    opened = open_page(f"{served.base}/demo/articles/{ARTICLE}?api={served.dead}")
    page = opened.page
    paragraphs = page.eval_on_selector_all("article p", "ps => ps.length")
    before = _height(page)
    scroll_to_blocks(page)
    wait_state(page, "error")
    assert served.dead in opened.block_requests[0]
    assert page.eval_on_selector(".recsys-blocks", "e => e.childElementCount") == 0
    assert page.inner_text(".recsys-blocks") == ""
    assert _height(page) == before
    assert page.eval_on_selector_all("article p", "ps => ps.length") == paragraphs > 0
    assert page.inner_text("h1")
    assert opened.errors == []


@pytest.mark.parametrize(
    "answer",
    [
        {"status": 503, "content_type": "application/json", "body": '{"error":"x","detail":"down"}'},
        {"status": 200, "content_type": "application/json", "body": "<html>not json</html>"},
        {"status": 200, "content_type": "application/json", "body": '{"related": 5}'},
    ],
    ids=["error-status", "not-json", "wrong-shape"],
)
def test_an_error_or_nonsense_answer_leaves_the_blocks_empty(
    served: Served, open_page: Any, answer: dict[str, Any]
) -> None:
    opened = open_page(f"{served.base}/demo/articles/{ARTICLE}", route=lambda route: route.fulfill(**answer))
    scroll_to_blocks(opened.page)
    wait_state(opened.page, "error")
    assert opened.page.eval_on_selector(".recsys-blocks", "e => e.childElementCount") == 0
    assert opened.errors == []


def test_without_intersection_observer_the_blocks_load_at_once(served: Served, open_page: Any) -> None:
    opened = open_page(
        f"{served.base}/demo/articles/{ARTICLE}",
        init_script=f"delete window.IntersectionObserver; {LONG_ARTICLE}",
    )
    wait_state(opened.page, "loaded")  # never scrolled
    assert len(_shown(opened.page, "related")) == 5
    assert opened.errors == []


def test_every_field_renders_as_the_fragment_does_and_nothing_hostile_runs(
    served: Served, open_page: Any
) -> None:
    """Pictures, bylines, missing or unsafe links, arms and hostile text: the widget builds exactly the
    fragment's markup (service/fragment.py renders the expected HTML from the same body), the same
    data attributes on its container, and runs nothing that came in the data."""
    hostile = '<img src=x onerror="window.__pwned=1">"&<b>'
    item = {"section": "politics", "score": 0.5, "reason": "similar", "published_at": "2026-01-05T08:00:00Z"}
    body = {
        "article_id": ARTICLE,
        "index_version": "v",
        "experiment": "fusion-test",
        "arm": "interleaved",
        "next_cursor": None,
        "related": {
            "collapsed": 0,
            "items": [
                {
                    **item,
                    "id": "a",
                    "url": "https://news.example/a",
                    "title": hostile,
                    "image_url": f"{served.base}/widget.css?picture",
                    "author": hostile,
                    "arm": hostile,
                },
                {
                    **item,
                    "id": "b",
                    "url": "javascript:window.__pwned=2",
                    "title": "No link",
                    "image_url": "javascript:window.__pwned=3",
                    "author": None,
                    "published_at": None,
                },
                {**item, "id": "c", "url": None, "title": None, "image_url": None, "author": "Ada"},
            ],
        },  # fmt: skip
        "more_in_section": {"collapsed": 0, "items": [{**item, "id": "d", "url": "/local/d", "title": "D"}]},
    }
    headings = Headings("Ähnliche <Artikel>", "Mehr aus {section} & {section}")
    opened = open_page(
        f"{served.base}/demo/articles/{ARTICLE}",
        route=lambda route: route.fulfill(status=200, content_type="application/json", body=json.dumps(body)),
        init_script=f"""document.addEventListener('DOMContentLoaded', () => {{
            const blocks = document.querySelector('.recsys-blocks');
            blocks.dataset.recsysHeadingRelated = {json.dumps(headings.related)};
            blocks.dataset.recsysHeadingSection = {json.dumps(headings.section)};
        }});""",
    )
    page = opened.page
    scroll_to_blocks(page)
    wait_state(page, "loaded")
    same = page.evaluate(
        """html => {
            const holder = document.createElement('template');
            holder.innerHTML = html;
            return [holder.content.firstElementChild.innerHTML,
                    document.querySelector('.recsys-blocks').innerHTML];
        }""",
        blocks_html(body, headings),
    )
    assert same[0] == same[1]
    # What events.js reports with: the container's attributes, the widget's as the fragment's.
    reported = page.evaluate(
        """html => {
            const holder = document.createElement('template');
            holder.innerHTML = html;
            const names = ['article', 'version', 'experiment', 'arm'].map(n => 'data-recsys-' + n);
            const read = e => names.map(n => e.getAttribute(n));
            return [read(holder.content.firstElementChild), read(document.querySelector('.recsys-blocks'))];
        }""",
        blocks_html(body, headings),
    )
    assert reported[0] == reported[1] == [ARTICLE, "v", "fusion-test", "interleaved"]
    assert _shown(page, "related") == [
        ("a", "https://news.example/a", hostile),
        ("b", None, "No link"),
        ("c", None, "c"),
    ]
    assert page.eval_on_selector_all(".recsys-image", "images => images.length") == 1
    assert page.inner_text(".recsys-block--related .recsys-author") == hostile
    assert page.get_by_role("region", name="Mehr aus politics & politics").count() == 1
    assert page.get_by_role("heading", name="Ähnliche <Artikel>").count() == 1
    page.click("text=No link")  # a span, not a javascript: link
    assert page.evaluate("() => window.__pwned") is None
    assert opened.errors == []


def test_a_page_of_another_origin_needs_cors(served: Served, open_page: Any) -> None:
    """The widget on a publisher's page calls the API of another origin: RECSYS_CORS_ORIGINS lets the
    configured origin read the answer, and the browser keeps it from any other (the blocks stay
    empty, quietly)."""
    allowed = open_page(f"{served.base}/demo/articles/{ARTICLE}?api={served.other_origin}")
    scroll_to_blocks(allowed.page)
    wait_state(allowed.page, "loaded")
    assert served.other_origin in allowed.block_requests[0]
    assert len(_shown(allowed.page, "related")) == 5

    refused = open_page(f"{served.other_origin}/demo/articles/{ARTICLE}?api={served.base}")
    scroll_to_blocks(refused.page)
    wait_state(refused.page, "error")
    assert refused.page.eval_on_selector(".recsys-blocks", "e => e.childElementCount") == 0
    assert allowed.errors == [] and refused.errors == []
