"""Titles in Arabic and Chinese in a real browser: the widget and the HTML fragment in the system
Chromium (playwright), served by a real uvicorn over the demo corpus with its editions in other
languages (`recsys demo-corpus --languages`), built with the fake encoder.

Checks, for the widget and for the fragment as the service sends it: each title's `lang` is its
item's `language`; its computed direction is right to left for Arabic and left to right for Chinese;
the text shown is exactly the title of the API's answer (UTF-8 end to end, no mojibake); the blocks,
headings and lists keep the page's direction; the stylesheet isolates titles and forces no
alignment. A list mixing both scripts with English, where an Arabic headline starts with a Latin
name, renders the same in both, on a left-to-right and on a right-to-left page.

The browser, the server and the page opener: tests/e2e/browser.py.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from recsys.demo_corpus import generate
from service.fragment import blocks_html
from tests.e2e.browser import LIMITS, Served, scroll_to_blocks, serve_demo, wait_state

ARABIC, CHINESE = "demo-ar-03", "demo-zh-03"  # editions of the Tern probe's arrival at Velka
EDITIONS = [(ARABIC, "ar", "rtl"), (CHINESE, "zh", "ltr")]
TITLES = {a.id: a.title for a in generate(languages=True) if a.id in (ARABIC, CHINESE)}

# What the page shows of each title, and how the browser lays it out.
SHOWN = """links => links.map(e => {
    const style = getComputedStyle(e);
    return {text: e.textContent, lang: e.getAttribute('lang'), direction: style.direction,
            bidi: style.unicodeBidi, align: style.textAlign};
})"""
# The computed direction of the container, its blocks, headings and lists.
FRAME = """() => [...document.querySelectorAll(
    '.recsys-blocks, .recsys-block, .recsys-heading, .recsys-list, .recsys-item')]
    .map(e => getComputedStyle(e).direction)"""


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """The demo server of the other browser tests, over the corpus with its editions."""
    with serve_demo(tmp_path_factory.mktemp("languages") / "data", languages=True) as found:
        yield found


def _items(served: Served, article: str) -> list[dict[str, Any]]:
    answer = httpx.get(f"{served.base}/articles/{article}/blocks", params=LIMITS).json()
    return [*answer["related"]["items"], *answer["more_in_section"]["items"]]


def _shown(page: Any) -> list[dict[str, Any]]:
    return list(page.eval_on_selector_all(".recsys-blocks .recsys-link", SHOWN))


def _check_titles(page: Any, items: list[dict[str, Any]], language: str, direction: str) -> None:
    shown = _shown(page)
    assert [s["text"] for s in shown] == [i["title"] for i in items]
    for s in shown:
        assert (s["lang"], s["direction"]) == (language, direction), s
        assert s["bidi"] == "isolate" and s["align"] == "start", s  # no forced left alignment
    assert set(page.evaluate(FRAME)) == {"ltr"}  # the page's direction: only the titles turn


@pytest.mark.parametrize(("article", "language", "direction"), EDITIONS)
def test_the_widget_gives_each_title_its_language_and_direction(
    served: Served, open_page: Any, article: str, language: str, direction: str
) -> None:
    items = _items(served, article)
    # The edition's own language only (docs/ranking.md#languages), five of them in this corpus.
    assert len(items) == 5 and {i["language"] for i in items} == {language}
    opened = open_page(f"{served.base}/demo/articles/{article}")
    page = opened.page
    scroll_to_blocks(page)
    wait_state(page, "loaded")
    _check_titles(page, items, language, direction)
    # The demo page marks the headline the same way; its header stays the page's.
    headline = page.eval_on_selector("h1", "e => [e.lang, getComputedStyle(e).direction, e.textContent]")
    assert headline == [language, direction, TITLES[article]]
    assert page.eval_on_selector("header.site", "e => getComputedStyle(e).direction") == "ltr"
    assert opened.errors == []


@pytest.mark.parametrize(("article", "language", "direction"), EDITIONS)
def test_the_fragment_gives_each_title_its_language_and_direction(
    served: Served, open_page: Any, article: str, language: str, direction: str
) -> None:
    """The fragment's own bytes, as the service sends them (text/html; charset=utf-8), opened in the
    browser with the widget's stylesheet."""
    items = _items(served, article)
    url = f"{served.base}/articles/{article}/blocks.html?{'&'.join(f'{k}={v}' for k, v in LIMITS.items())}"
    opened = open_page(url)
    page = opened.page
    page.add_style_tag(url=f"{served.base}/widget.css")
    _check_titles(page, items, language, direction)
    assert opened.errors == []


def _item(key: str, title: str, language: str | None) -> dict[str, Any]:
    return {
        "id": key, "url": f"https://news.example/{key}", "title": title, "section": "science",
        "published_at": "2026-01-15T19:10:00Z", "image_url": None, "author": None,
        "language": language, "score": 0.5, "reason": "similar",
    }  # fmt: skip


# (id, title, language, the title's computed direction): an Arabic headline that starts with a Latin
# name is still right to left (its language decides); a title with no language takes its direction
# from its first strong letter.
MIXED = [
    ("ar", "BMW تعلن عن مصنع جديد في 2026", "ar", "rtl"),
    ("zh", "塔恩河暴雨后在伊斯特布鲁克决堤", "zh-Hans", "ltr"),
    ("en", "Port Avery council proposes Harbour Bridge toll rise", "en", "ltr"),
    ("he", "כותרת בעברית (2026)", None, "rtl"),
]
MIXED_BODY = {
    "article_id": "demo-0024",
    "index_version": "v",
    "experiment": None,
    "arm": None,
    "next_cursor": None,
    "related": {"collapsed": 0, "items": [_item(key, title, language) for key, title, language, _ in MIXED]},
    "more_in_section": {"collapsed": 0, "items": []},
}


@pytest.mark.parametrize("page_direction", ["ltr", "rtl"])
def test_a_mixed_list_renders_the_same_in_the_widget_and_the_fragment(
    served: Served, open_page: Any, page_direction: str
) -> None:
    body = json.dumps(MIXED_BODY, ensure_ascii=False)  # UTF-8 on the wire, as orjson sends it
    flip = f"document.documentElement.setAttribute('dir', '{page_direction}');"
    opened = open_page(
        f"{served.base}/demo/articles/demo-0024",
        route=lambda route: route.fulfill(
            status=200, content_type="application/json; charset=utf-8", body=body
        ),
        init_script=f"document.addEventListener('DOMContentLoaded', () => {{ {flip} }});",
    )
    page = opened.page
    scroll_to_blocks(page)
    wait_state(page, "loaded")
    fragment = blocks_html(MIXED_BODY)
    widget_html, fragment_html = page.evaluate(
        """html => {
            const holder = document.createElement('template');
            holder.innerHTML = html;
            return [document.querySelector('.recsys-blocks').innerHTML,
                    holder.content.firstElementChild.innerHTML];
        }""",
        fragment,
    )
    assert widget_html == fragment_html
    expected = [(language, direction, title) for _, title, language, direction in MIXED]
    for where in ("widget", "fragment"):
        if where == "fragment":  # the same page, the blocks replaced by the fragment's markup
            page.evaluate("html => { document.querySelector('.recsys-blocks').outerHTML = html; }", fragment)
        shown = _shown(page)
        assert [(s["lang"], s["direction"], s["text"]) for s in shown] == expected, where
        assert all(s["bidi"] == "isolate" and s["align"] == "start" for s in shown), where
        assert set(page.evaluate(FRAME)) == {page_direction}, where
    assert opened.errors == []
