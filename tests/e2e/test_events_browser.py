"""Reader events in a real browser (issue 20): headless Chromium opens pages served by a real uvicorn
server over the demo corpus (tests/e2e/browser.py), and what the page sends to POST /events is read
in the browser, as sent (contract B of the issue: docs/integration.md#reader-events); the last test
lets them reach the service's POST /events and reads the counts it stored.

Checks: an impression batch goes only once a block is at least half in view, one event per listed
item, once per page view; a click is sent although the page navigates away; a middle click is one
too; with the service down, or the events endpoint failing, the page loads and nothing is thrown
into it; a page that includes the HTML fragment reports the same through GET /events.js, and with
the widget on the same page shares its page-view id; the opt-out sends nothing; the bucket a list
request carries, only while an experiment runs, is the FNV-1a hash the Python side computes.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from recsys.catalog.feedback import read_counts
from recsys.root import Root
from recsys.settings import Settings
from tests.e2e.browser import (
    ARTICLE,
    LIMITS,
    LONG_ARTICLE,
    Opened,
    Opener,
    Served,
    scroll_to_blocks,
    serve_demo,
    wait_state,
)

PAGE_VIEW = re.compile(r"^[A-Za-z0-9_-]{8,64}$")
OTHER_ARTICLE = "demo-0019"  # another article, for a second container on one page
LANDED = "<!doctype html><title>landed</title><h1>landed</h1>"


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    # Counts stored within a fifth of a second, for the test that reads them.
    variables = {"RECSYS_EVENTS_FLUSH_SECONDS": "0.2"}
    with serve_demo(tmp_path_factory.mktemp("events") / "data", variables) as found:
        yield found


def _land(page: Any) -> None:
    """The demo corpus links to news.example: its stories are answered in the browser."""
    page.context.route("https://news.example/**", lambda r: r.fulfill(content_type="text/html", body=LANDED))


def fnv1a_32(text: str) -> int:
    """FNV-1a, 32 bits, over the UTF-8 bytes: the hash of contract A, written out here to pin the
    widget's against an independent copy."""
    value = 2166136261
    for byte in text.encode("utf-8"):
        value = ((value ^ byte) * 16777619) % 2**32
    return value


def test_the_reference_hash_has_the_published_values() -> None:
    # The FNV authors' test vectors (draft-eastlake-fnv), then two beyond ASCII.
    assert [fnv1a_32(s) for s in ("", "a", "foobar")] == [0x811C9DC5, 0xE40C292C, 0xBF9CF968]
    assert [fnv1a_32(s) for s in ("Zürich", "🦀 news")] == [0xD7007F20, 0x9F53A55D]


def test_the_service_hashes_as_the_reference_does() -> None:
    """The service's hash (recsys/serving/experiments.py, from the experiments branch) is this one: so
    the bucket the widget computes is the bucket the service would compute from `assign`."""
    experiments = pytest.importorskip("recsys.serving.experiments")
    for text in ("", "a", "foobar", "Zürich", "🦀 news", "Yrx-o6gCIlQdkuRIucYEyQ"):
        assert experiments.bucket_of(text) == fnv1a_32(text) % 100


def _until(page: Any, check: Callable[[], bool], seconds: float = 10.0) -> None:
    """Let the page run until `check()` holds (the capture runs while the page waits)."""
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, "not within the time allowed"
        page.wait_for_timeout(50)


def _blocks(served: Served, article: str = ARTICLE) -> dict[str, Any]:
    body: dict[str, Any] = httpx.get(f"{served.base}/articles/{article}/blocks", params=LIMITS).json()
    return body


def _listed(body: dict[str, Any], name: str) -> list[tuple[int, str]]:
    return list(enumerate(item["id"] for item in body[name]["items"]))


def _reported(opened: Opened, kind: str, block: str) -> list[tuple[int, str]]:
    return [(event["position"], event["item"]) for event in opened.sent(kind, block)]


def _scroll_below(page: Any, pixels: int) -> None:
    """Scroll so that the container's top is `pixels` below the viewport's bottom edge."""
    page.eval_on_selector(
        ".recsys-blocks",
        f"e => window.scrollTo(0, e.getBoundingClientRect().top + window.scrollY - innerHeight - {pixels})",
    )


def _show_related(page: Any, share: float) -> None:
    """Scroll so that the top `share` of the related block is in view, at the viewport's bottom."""
    page.eval_on_selector(
        ".recsys-block--related",
        "e => window.scrollTo(0, e.getBoundingClientRect().top + window.scrollY - innerHeight"
        f" + e.offsetHeight * {share})",
    )


def _check_batches(opened: Opened, body: dict[str, Any]) -> None:
    """Every batch has the contract's head: this page view, the list's article, version and arm."""
    assert opened.events
    for batch in opened.events:
        assert set(batch) == {"v", "pv", "article", "version", "experiment", "arm", "events"}
        assert batch["v"] == 1 and PAGE_VIEW.match(batch["pv"])
        assert (batch["article"], batch["version"]) == (body["article_id"], body["index_version"])
        assert (batch["experiment"], batch["arm"]) == (body.get("experiment", ""), body.get("arm", "default"))
        for event in batch["events"]:
            assert set(event) == {"type", "block", "position", "item"}  # no arm: no interleaving
    assert len({batch["pv"] for batch in opened.events}) == 1


def test_impressions_are_sent_once_a_block_is_half_in_view(served: Served, open_page: Opener) -> None:
    opened = open_page(f"{served.base}/demo/articles/{ARTICLE}", init_script=LONG_ARTICLE)
    page = opened.page
    body = _blocks(served)
    # Within the widget's look-ahead (600px), out of view: the blocks load, nobody has seen them.
    _scroll_below(page, 300)
    wait_state(page, "loaded")
    page.wait_for_timeout(500)
    assert opened.events == []

    # 40% of the related block in view: not yet. 60%, none of the section block: the related batch.
    _show_related(page, 0.4)
    page.wait_for_timeout(500)
    assert opened.events == []
    _show_related(page, 0.6)
    _until(page, lambda: len(opened.events) == 1)
    page.wait_for_timeout(300)
    assert _reported(opened, "impression", "related") == _listed(body, "related")
    assert opened.sent("impression", "section") == []

    scroll_to_blocks(page)
    _until(page, lambda: len(opened.events) == 2)
    assert _reported(opened, "impression", "section") == _listed(body, "more_in_section")
    assert len(body["more_in_section"]["items"]) == 5

    # Out of view and back: once per block per page view.
    page.evaluate("() => window.scrollTo(0, 0)")
    page.wait_for_timeout(200)
    scroll_to_blocks(page)
    page.wait_for_timeout(500)
    assert len(opened.events) == 2 and len(opened.sent("impression")) == 10
    _check_batches(opened, body)
    assert set(opened.event_requests) == {("fetch", "text/plain;charset=utf-8")}  # no preflight
    assert opened.errors == []


def test_a_click_is_sent_although_the_page_navigates_away(served: Served, open_page: Opener) -> None:
    opened = open_page(f"{served.base}/demo/articles/{ARTICLE}", setup=_land)
    page = opened.page
    body = _blocks(served)
    scroll_to_blocks(page)
    wait_state(page, "loaded")
    _until(page, lambda: len(opened.sent("impression")) == 10)

    # A middle click opens the story elsewhere: counted, the page stays.
    section_first = body["more_in_section"]["items"][0]
    page.click(".recsys-block--section li:nth-child(1) a", button="middle")
    _until(page, lambda: len(opened.sent("click")) == 1)
    assert _reported(opened, "click", "section") == [(0, section_first["id"])]

    third = body["related"]["items"][2]
    page.click(".recsys-block--related li:nth-child(3) a")
    page.wait_for_url(third["url"])
    assert page.inner_text("h1") == "landed"
    _until(page, lambda: len(opened.sent("click")) == 2)
    assert _reported(opened, "click", "related") == [(2, third["id"])]
    _check_batches(opened, body)
    assert opened.event_requests[-1] == ("ping", "text/plain;charset=utf-8")  # sendBeacon, a text Blob
    assert opened.errors == []


def test_with_the_service_down_the_page_loads_and_sends_nothing(served: Served, open_page: Opener) -> None:
    opened = open_page(f"{served.base}/demo/articles/{ARTICLE}?api={served.dead}")
    page = opened.page
    scroll_to_blocks(page)
    wait_state(page, "error")
    page.wait_for_timeout(300)
    assert page.inner_text("h1") and page.eval_on_selector_all("article p", "ps => ps.length") > 0
    assert opened.events == [] and opened.errors == []


def test_a_failing_events_endpoint_breaks_nothing(served: Served, open_page: Opener) -> None:
    """The lists answer, POST /events does not (the connection is refused): the blocks show, the
    link still navigates, and no exception reaches the page."""

    def refuse(page: Any) -> None:
        page.context.route("**/events", lambda route: route.abort("connectionrefused"))
        _land(page)

    opened = open_page(f"{served.base}/demo/articles/{ARTICLE}", setup=refuse)
    page = opened.page
    scroll_to_blocks(page)
    wait_state(page, "loaded")
    page.wait_for_timeout(300)
    first = _blocks(served)["related"]["items"][0]
    page.click(".recsys-block--related li:nth-child(1) a")
    page.wait_for_url(first["url"])
    assert opened.errors == []


def _fragment_page(served: Served, *, widget: bool = False) -> str:
    """An article page of a publisher that includes the fragment (and, with `widget`, a widget
    container for another article too) and loads /events.js, its blocks far below the fold."""
    fragment = httpx.get(f"{served.base}/articles/{ARTICLE}/blocks.html", params=LIMITS).text
    other = (
        f'<div class="recsys-blocks" data-recsys-article="{OTHER_ARTICLE}" data-recsys-limit="5"'
        f' data-recsys-section-limit="5"></div><script src="{served.base}/widget.js" async></script>'
        if widget
        else ""
    )
    return (
        "<!doctype html><html><head><meta charset='utf-8'><title>A story</title></head><body>"
        "<h1>A story</h1><p>Its text.</p><div style='height: 3000px'></div>"
        f"{fragment}{other}<script src='{served.base}/events.js' async></script></body></html>"
    )


def test_a_fragment_page_reports_through_events_js(served: Served, open_page: Opener) -> None:
    url = f"{served.base}/publisher/story"
    opened = open_page(url, html=_fragment_page(served), setup=_land)
    page = opened.page
    body = _blocks(served)
    page.wait_for_function("() => window.recsysEvents && typeof window.recsysEvents.scan === 'function'")
    page.wait_for_timeout(300)
    assert opened.events == []  # below the fold

    scroll_to_blocks(page)
    _until(page, lambda: len(opened.sent("impression")) == 10)
    assert _reported(opened, "impression", "related") == _listed(body, "related")
    assert _reported(opened, "impression", "section") == _listed(body, "more_in_section")

    second = body["related"]["items"][1]
    page.click(".recsys-block--related li:nth-child(2) a")
    page.wait_for_url(second["url"])
    _until(page, lambda: len(opened.sent("click")) == 1)
    assert _reported(opened, "click", "related") == [(1, second["id"])]
    _check_batches(opened, body)
    assert opened.errors == []


def test_the_widget_and_events_js_on_one_page_share_the_page_view(served: Served, open_page: Opener) -> None:
    """A fragment and a widget container on one page, both scripts loaded: each block is reported
    once, all with one page-view id."""
    opened = open_page(f"{served.base}/publisher/both", html=_fragment_page(served, widget=True))
    page = opened.page
    page.eval_on_selector(f'[data-recsys-article="{OTHER_ARTICLE}"]', "e => e.scrollIntoView()")
    page.wait_for_selector(f'[data-recsys-article="{OTHER_ARTICLE}"][data-recsys-state="loaded"]')
    scroll_to_blocks(page)  # the fragment's container, the first on the page
    page.eval_on_selector(f'[data-recsys-article="{OTHER_ARTICLE}"]', "e => e.scrollIntoView()")
    _until(page, lambda: len(opened.events) == 4)
    page.wait_for_timeout(300)
    by_article = {(batch["article"], batch["events"][0]["block"]) for batch in opened.events}
    assert len(opened.events) == 4 and len(by_article) == 4
    assert len({batch["pv"] for batch in opened.events}) == 1
    assert page.evaluate("() => window.recsysEvents.pageView") == opened.events[0]["pv"]
    assert opened.errors == []


def _flip(page: Any, before: str, after: str) -> None:
    """/widget.js as the service builds it with another value of a flag (service/widget.py)."""

    def flip(route: Any) -> None:
        response = route.fetch()
        text = response.text()
        assert text.count(before) == 1
        route.fulfill(response=response, body=text.replace(before, after))

    page.route("**/widget.js*", flip)


def _events_off(page: Any) -> None:
    """/widget.js of a service with RECSYS_EVENTS=false."""
    _flip(page, "var ENABLED = true;", "var ENABLED = false;")
    _land(page)


@pytest.mark.parametrize("where", ["script", "container", "service"])
def test_the_opt_out_sends_nothing(served: Served, open_page: Opener, where: str) -> None:
    container_off = ' data-recsys-events="off"' if where == "container" else ""
    script_off = ' data-recsys-events="off"' if where == "script" else ""
    html = (
        "<!doctype html><html><body><h1>A story</h1>"
        f'<div class="recsys-blocks" data-recsys-article="{ARTICLE}"{container_off}></div>'
        f'<script src="{served.base}/widget.js"{script_off} async></script></body></html>'
    )

    opened = open_page(
        f"{served.base}/publisher/quiet", html=html, setup=_events_off if where == "service" else _land
    )
    page = opened.page
    wait_state(page, "loaded")
    first = _blocks(served)["related"]["items"][0]
    page.wait_for_timeout(300)
    page.click(".recsys-block--related li:nth-child(1) a")
    page.wait_for_url(first["url"])
    page.wait_for_timeout(300)
    assert opened.events == [] and opened.errors == []


ASSIGNED = ["a", "foobar", "Zürich", "🦀 news"]  # data-recsys-assign of containers 1..4


def _run_experiment(page: Any) -> None:
    """/widget.js as the service builds it while an experiment runs (service/widget.py sets the flag
    from the live state)."""
    _flip(page, "var EXPERIMENT = false;", "var EXPERIMENT = true;")


def _containers(served: Served) -> str:
    """Containers whose limit names them: 1..4 with a site's first-party id, 5 without, 6 with the
    site's own bucket in its query."""
    rows = [f'data-recsys-limit="{n}" data-recsys-assign="{assign}"' for n, assign in enumerate(ASSIGNED, 1)]
    rows += ['data-recsys-limit="5"', 'data-recsys-limit="6" data-recsys-query="bucket=7"']
    divs = "".join(f'<div class="recsys-blocks" data-recsys-article="{ARTICLE}" {row}></div>' for row in rows)
    script = f"<script src='{served.base}/widget.js' async></script>"
    return f"<!doctype html><html><body><h1>Buckets</h1>{divs}{script}</body></html>"


def _buckets(opened: Opened) -> dict[int, list[str]]:
    found = {}
    for url in opened.block_requests:
        query = httpx.URL(url).params
        found[int(query["limit"])] = query.get_list("bucket")
    return found


def test_the_list_request_carries_the_hash_bucket_only_while_an_experiment_runs(
    served: Served, open_page: Opener
) -> None:
    running = open_page(f"{served.base}/publisher/buckets", html=_containers(served), setup=_run_experiment)
    page = running.page
    _until(page, lambda: len(running.block_requests) == 6)
    page_view = page.evaluate("() => window.recsysEvents.pageView")
    assert PAGE_VIEW.match(page_view)
    expected = {n: [str(fnv1a_32(assign) % 100)] for n, assign in enumerate(ASSIGNED, 1)}
    expected |= {5: [str(fnv1a_32(page_view) % 100)], 6: ["7"]}
    assert _buckets(running) == expected
    assert running.errors == []

    plain = open_page(f"{served.base}/publisher/buckets", html=_containers(served))
    _until(plain.page, lambda: len(plain.block_requests) == 6)
    assert _buckets(plain) == {1: [], 2: [], 3: [], 4: [], 5: [], 6: ["7"]}
    assert plain.page.evaluate("() => window.recsysEvents.pageView") != page_view  # new per page load


def test_the_service_stores_what_the_page_sent(served: Served, open_page: Opener) -> None:
    """No capture: the page's impressions and its click reach POST /events (service/events.py), and
    the counts stored in the catalog are one impression per item and the one click."""
    opened = open_page(f"{served.base}/demo/articles/{ARTICLE}", setup=_land, capture=False)
    page = opened.page
    body = _blocks(served)
    scroll_to_blocks(page)
    wait_state(page, "loaded")
    catalog = Root(Settings(data_dir=served.data)).catalog
    try:
        _until(page, lambda: sum(c.impressions for c in read_counts(catalog)) == 10)
        third = body["related"]["items"][2]
        page.click(".recsys-block--related li:nth-child(3) a")
        page.wait_for_url(third["url"])
        _until(page, lambda: sum(c.clicks for c in read_counts(catalog)) == 1)
        page.wait_for_timeout(500)  # two flush intervals: nothing more arrives
        stored = {
            (c.article, c.block, c.position, c.experiment, c.arm): (c.impressions, c.clicks)
            for c in read_counts(catalog)
        }
    finally:
        catalog.close()
    expected = {(ARTICLE, "related", n, "", "default"): (1, int(n == 2)) for n in range(5)}
    expected |= {(ARTICLE, "section", n, "", "default"): (1, 0) for n in range(5)}
    assert stored == expected
    assert opened.errors == []


INTERLEAVED = {
    "name": "fusion-test",
    "design": "interleave",
    "blocks": ["related"],
    "arms": [{"name": "control"}, {"name": "fusion", "settings": {"fusion_weight": 0.3}}],
}


def test_under_an_experiment_the_page_sends_its_bucket_and_the_arms(
    tmp_path: Path, open_page: Opener
) -> None:
    """A service running an interleaving experiment (the experiments branch): its /widget.js sends
    the page view's bucket, the list names the experiment and each related item its arm, and the
    counts stored carry them."""
    experiments = pytest.importorskip("recsys.serving.experiments")
    config = tmp_path / "experiment.json"
    config.write_text(json.dumps(INTERLEAVED), encoding="utf-8")
    variables = {"RECSYS_EXPERIMENTS_FILE": str(config), "RECSYS_EVENTS_FLUSH_SECONDS": "0.2"}
    with serve_demo(tmp_path / "data", variables) as running:
        assert "var EXPERIMENT = true;" in httpx.get(f"{running.base}/widget.js").text
        opened = open_page(f"{running.base}/demo/articles/{ARTICLE}", setup=_land, capture=False)
        page = opened.page
        scroll_to_blocks(page)
        wait_state(page, "loaded")
        page_view = page.evaluate("() => window.recsysEvents.pageView")
        bucket = experiments.bucket_of(page_view)
        assert httpx.URL(opened.block_requests[0]).params["bucket"] == str(bucket)
        body = httpx.get(
            f"{running.base}/articles/{ARTICLE}/blocks", params={**LIMITS, "bucket": str(bucket)}
        ).json()
        arms = [item["arm"] for item in body["related"]["items"]]
        assert body["experiment"] == "fusion-test" and set(arms) <= {"control", "fusion"}
        shown = page.eval_on_selector_all(
            ".recsys-block--related li", "items => items.map(li => li.dataset.recsysArm)"
        )
        assert shown == arms
        catalog = Root(Settings(data_dir=running.data)).catalog
        try:
            _until(page, lambda: sum(c.impressions for c in read_counts(catalog)) == 10)
            stored = {(c.block, c.position): (c.experiment, c.arm) for c in read_counts(catalog)}
        finally:
            catalog.close()
    assert stored == {
        **{("related", n): ("fusion-test", arm) for n, arm in enumerate(arms)},
        **{("section", n): ("fusion-test", body["arm"]) for n in range(5)},
    }
    assert opened.errors == []
