"""What the browser tests share: the system Chromium (playwright) and a demo server, real uvicorn.

The server holds an index of the built-in demo corpus (the fake encoder builds and serves it) and
serves the demo pages.

The browser is the Debian package `chromium`. Without it the tests are skipped, unless
RECSYS_TEST_REQUIRE_BROWSER is set (CI sets it: .ci/run), where a missing browser fails.

Every page opened records the exceptions thrown in it, the list requests it made and the reader
events it sent (the bodies of POST /events, parsed; answered 204 in the browser, so the tests see
exactly what a page sends, whether or not the service has the endpoint).
"""

from __future__ import annotations

import importlib
import json
import os
import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from index.build import build_index
from recsys.catalog.ingest import import_file
from recsys.demo_corpus import write_jsonl
from recsys.root import Root
from recsys.settings import Settings
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


def browser_or_skip() -> str:
    if BROWSER is None:
        if REQUIRE_BROWSER:
            pytest.fail("RECSYS_TEST_REQUIRE_BROWSER is set but no chromium executable is on PATH")
        pytest.skip("no chromium on PATH (apt-get install chromium chromium-driver)")
    return BROWSER


@dataclass(frozen=True)
class Served:
    base: str
    dead: str  # an origin where nothing listens
    data: Path  # the data folder: its catalog holds what the server stored

    @property
    def other_origin(self) -> str:
        """The same server under another origin (localhost instead of 127.0.0.1)."""
        return self.base.replace("127.0.0.1", "localhost")


@contextmanager
def serve_demo(
    data: Path, variables: dict[str, str] | None = None, *, languages: bool = False
) -> Iterator[Served]:
    """The demo corpus (with `languages`, its editions in other languages too) imported and built in
    `data`, served with the demo pages on."""
    browser_or_skip()
    settings = Settings(data_dir=data)
    catalog = Root(settings).catalog
    write_jsonl(data / "demo.jsonl", languages=languages)
    import_file(catalog, data / "demo.jsonl", strict=True)
    build_index(settings, catalog, FakeEncoder())
    catalog.close()
    port = free_port()
    environment = {
        "RECSYS_DATA_DIR": str(data),
        "RECSYS_DEMO_PAGES": "true",
        # Pages of 127.0.0.1 may call the API from the browser; pages of localhost may not.
        "RECSYS_CORS_ORIGINS": f"http://127.0.0.1:{port}",
        "RECSYS_LOG_LEVEL": "warning",
        **(variables or {}),
    }
    with running(SERVE_FAKE, environment, port=port) as (_, base):
        yield Served(base, f"http://127.0.0.1:{free_port()}", data)


@contextmanager
def launch() -> Iterator[Any]:
    """The system Chromium, headless."""
    # playwright is in the dev extra: missing, it fails where the browser is required.
    sync_api = importlib.import_module("playwright.sync_api") if REQUIRE_BROWSER else None
    sync_api = sync_api or pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        # --no-sandbox: CI runs as root, where Chromium's sandbox refuses to start.
        launched = playwright.chromium.launch(executable_path=browser_or_skip(), args=["--no-sandbox"])
        yield launched
        launched.close()


@dataclass
class Opened:
    page: Any
    errors: list[str] = field(default_factory=list)  # exceptions thrown in the page
    block_requests: list[str] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)  # bodies POSTed to /events
    # Each one's resource type (a beacon is "ping") and Content-Type, in lower case.
    event_requests: list[tuple[str, str]] = field(default_factory=list)

    def sent(self, kind: str, block: str | None = None) -> list[dict[str, Any]]:
        """The events of `kind` (of `block`) sent so far, each with its batch's fields beside it."""
        return [
            {**{k: v for k, v in batch.items() if k != "events"}, **event}
            for batch in self.events
            for event in batch["events"]
            if event["type"] == kind and block in (None, event["block"])
        ]


Opener = Callable[..., Opened]


@contextmanager
def opener(browser: Any) -> Iterator[Opener]:
    """open(url, ...): a page in a context of its own, closed at the end. `init_script` runs before the
    page's own; `route` answers its list requests; `html` is the page itself (served at `url` in the
    browser); `setup(page)` runs before it is opened; with `wait`, it returns once the first
    container has its state. Without `capture`, its events go to the server."""
    contexts: list[Any] = []

    def capturing(opened: Opened) -> Callable[[Any], None]:
        def handle(route: Any) -> None:
            request = route.request
            if request.method == "POST":
                opened.events.append(json.loads(request.post_data or "null"))
                kind = request.headers.get("content-type", "").lower()
                opened.event_requests.append((request.resource_type, kind))
            route.fulfill(status=204)

        return handle

    def open_page(
        url: str,
        *,
        init_script: str | None = None,
        route: Any = None,
        wait: bool = True,
        html: str | None = None,
        setup: Callable[[Any], None] | None = None,
        capture: bool = True,
    ) -> Opened:
        context = browser.new_context(viewport={"width": 1100, "height": 800})
        contexts.append(context)
        page = context.new_page()
        opened = Opened(page)
        page.on("pageerror", lambda error: opened.errors.append(str(error)))
        page.on("request", lambda r: opened.block_requests.extend([r.url] if "/blocks" in r.url else []))
        # On the context: a beacon sent as the page navigates away is still the context's request.
        if capture:
            context.route("**/events", capturing(opened))
        if init_script:
            page.add_init_script(init_script)
        if route is not None:
            page.route("**/blocks?*", route)
        if html is not None:
            page.route(
                url,
                lambda route: route.fulfill(status=200, content_type="text/html; charset=utf-8", body=html),
            )
        if setup is not None:
            setup(page)
        page.goto(url)
        if wait:
            page.wait_for_function("() => document.querySelector('.recsys-blocks').dataset.recsysState")
        return opened

    try:
        yield open_page
    finally:
        for context in contexts:
            context.close()


def scroll_to_blocks(page: Any) -> None:
    page.eval_on_selector(".recsys-blocks", "e => e.scrollIntoView()")


def wait_state(page: Any, state: str) -> None:
    page.wait_for_selector(f'.recsys-blocks[data-recsys-state="{state}"]', state="attached", timeout=15_000)
