"""Fixtures of the browser tests (tests/e2e/browser.py): per module, a demo server and Chromium."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.e2e.browser import Opener, Served, launch, opener, serve_demo


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    with serve_demo(tmp_path_factory.mktemp("widget") / "data") as found:
        yield found


@pytest.fixture(scope="module")
def browser(served: Served) -> Iterator[Any]:
    with launch() as launched:
        yield launched


@pytest.fixture
def open_page(browser: Any) -> Iterator[Opener]:
    with opener(browser) as open_page:
        yield open_page
