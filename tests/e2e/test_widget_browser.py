"""The widget in a real browser: headless Chromium (the system's, driven by playwright) opens the demo
article page served by a real uvicorn server over an index of the built-in demo corpus, as a reader
would. The fake encoder builds and serves the index: what is checked is the page, not the model.

Checks: nothing is fetched before the blocks come near the viewport; both blocks then arrive, with
the items, links and titles of the API's JSON answer, in the markup of the HTML fragment, as an
accessible region with a heading and a list; the reserved space does not change (no layout shift);
with the service down, or answering an error or nonsense, the article stays intact and the blocks
stay empty, with no exception thrown into the page.

The browser is the Debian package `chromium`. Without it the test is skipped, unless
RECSYS_TEST_REQUIRE_BROWSER is set (CI sets it: .ci/run), where a missing browser fails.
"""

from __future__ import annotations

import importlib
import json
import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from index.build import build_index
from recsys.catalog.ingest import import_file
from recsys.demo_corpus import write_jsonl
from recsys.root import Root
from recsys.settings import Settings
from service.fragment import Headings, blocks_html
from tests.fakes import FakeEncoder
from tests.servers import SERVE_FAKE, free_port, running

# Read at import: the autouse fixture of conftest.py clears RECSYS_* variables for every test.
REQUIRE_BROWSER = os.environ.get("RECSYS_TEST_REQUIRE_BROWSER", "").lower() not in ("", "0", "false", "no")
BROWSER = next(
    (found for name in ("chromium", "chromium-browser") if (found := shutil.which(name))),
    None,
)
ARTICLE = "demo-0018"  # a storyline article: both blocks are full at the page's limits
LIMITS = {"limit": "5", "section_limit": "5"}  # what the demo page asks for
# A long article: the blocks start well below the widget's look-ahead margin (600px).
LONG_ARTICLE = """document.addEventListener('DOMContentLoaded', () => {
    const filler = document.createElement('div');
    filler.id = 'filler';
    filler.style.height = '3000px';
    document.querySelector('aside').before(filler);
});"""


def _browser_or_skip() -> str:
    if BROWSER is None:
        if REQUIRE_BROWSER:
            pytest.fail("RECSYS_TEST_REQUIRE_BROWSER is set but no chromium executable is on PATH")
        pytest.skip("no chromium on PATH (apt-get install chromium chromium-driver)")
    return BROWSER


@dataclass(frozen=True)
class Served:
    base: str
    dead: str  # an origin where nothing listens

    @property
    def other_origin(self) -> str:
        """The same server under another origin (localhost instead of 127.0.0.1)."""
        return self.base.replace("127.0.0.1", "localhost")


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    _browser_or_skip()
    data = tmp_path_factory.mktemp("widget") / "data"
    settings = Settings(data_dir=data)
    catalog = Root(settings).catalog
    write_jsonl(data / "demo.jsonl")
    import_file(catalog, data / "demo.jsonl", strict=True)
    build_index(settings, catalog, FakeEncoder())
    catalog.close()
    port = free_port()
    variables = {
        "RECSYS_DATA_DIR": str(data),
        "RECSYS_DEMO_PAGES": "true",
        # Pages of 127.0.0.1 may call the API from the browser; pages of localhost may not.
        "RECSYS_CORS_ORIGINS": f"http://127.0.0.1:{port}",
        "RECSYS_LOG_LEVEL": "warning",
    }
    with running(SERVE_FAKE, variables, port=port) as (_, base):
        yield Served(base, f"http://127.0.0.1:{free_port()}")


@pytest.fixture(scope="module")
def browser(served: Served) -> Iterator[Any]:
    # playwright is in the dev extra: missing, it fails where the browser is required.
    sync_api = importlib.import_module("playwright.sync_api") if REQUIRE_BROWSER else None
    sync_api = sync_api or pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        # --no-sandbox: CI runs as root, where Chromium's sandbox refuses to start.
        launched = playwright.chromium.launch(executable_path=_browser_or_skip(), args=["--no-sandbox"])
        yield launched
        launched.close()


@dataclass
class Opened:
    page: Any
    errors: list[str]  # exceptions thrown in the page
    block_requests: list[str]


@pytest.fixture
def open_page(browser: Any) -> Iterator[Any]:
    contexts: list[Any] = []

    def opener(url: str, *, init_script: str | None = None, route: Any = None) -> Opened:
        context = browser.new_context(viewport={"width": 1100, "height": 800})
        contexts.append(context)
        page = context.new_page()
        opened = Opened(page, [], [])
        page.on("pageerror", lambda error: opened.errors.append(str(error)))
        page.on("request", lambda r: "/blocks" in r.url and opened.block_requests.append(r.url))
        if init_script:
            page.add_init_script(init_script)
        if route is not None:
            page.route("**/blocks?*", route)
        page.goto(url)
        page.wait_for_function("() => document.querySelector('.recsys-blocks').dataset.recsysState")
        return opened

    yield opener
    for context in contexts:
        context.close()


def _height(page: Any) -> float:
    return float(page.eval_on_selector(".recsys-blocks", "e => e.getBoundingClientRect().height"))


def _scroll_to_blocks(page: Any) -> None:
    page.eval_on_selector(".recsys-blocks", "e => e.scrollIntoView()")


def _wait_state(page: Any, state: str) -> None:
    page.wait_for_selector(f'.recsys-blocks[data-recsys-state="{state}"]', state="attached", timeout=15_000)


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

    _scroll_to_blocks(page)
    _wait_state(page, "loaded")
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
    _scroll_to_blocks(page)
    _wait_state(page, "error")
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
    _scroll_to_blocks(opened.page)
    _wait_state(opened.page, "error")
    assert opened.page.eval_on_selector(".recsys-blocks", "e => e.childElementCount") == 0
    assert opened.errors == []


def test_without_intersection_observer_the_blocks_load_at_once(served: Served, open_page: Any) -> None:
    opened = open_page(
        f"{served.base}/demo/articles/{ARTICLE}",
        init_script=f"delete window.IntersectionObserver; {LONG_ARTICLE}",
    )
    _wait_state(opened.page, "loaded")  # never scrolled
    assert len(_shown(opened.page, "related")) == 5
    assert opened.errors == []


def test_every_field_renders_as_the_fragment_does_and_nothing_hostile_runs(
    served: Served, open_page: Any
) -> None:
    """Pictures, bylines, missing or unsafe links and hostile text: the widget builds exactly the
    fragment's markup (service/fragment.py renders the expected HTML from the same body) and runs
    nothing that came in the data."""
    hostile = '<img src=x onerror="window.__pwned=1">"&<b>'
    item = {"section": "politics", "score": 0.5, "reason": "similar", "published_at": "2026-01-05T08:00:00Z"}
    body = {
        "article_id": ARTICLE,
        "index_version": "v",
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
    _scroll_to_blocks(page)
    _wait_state(page, "loaded")
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
    _scroll_to_blocks(allowed.page)
    _wait_state(allowed.page, "loaded")
    assert served.other_origin in allowed.block_requests[0]
    assert len(_shown(allowed.page, "related")) == 5

    refused = open_page(f"{served.other_origin}/demo/articles/{ARTICLE}?api={served.base}")
    _scroll_to_blocks(refused.page)
    _wait_state(refused.page, "error")
    assert refused.page.eval_on_selector(".recsys-blocks", "e => e.childElementCount") == 0
    assert allowed.errors == [] and refused.errors == []
