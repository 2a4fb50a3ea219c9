"""The catalog's tests run on both backends: every test that takes `settings` (and so `catalog`,
`built`, the app) runs once on the embedded SQLite file and once on a PostgreSQL schema of its own.

Tests marked `sqlite_only` read SQLite's own file, locks or pragmas; they run on SQLite only.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from recsys.settings import Settings
from tests.postgres import BACKENDS, settings_on


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def settings(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> Settings:
    return settings_on(backend, tmp_path, request, monkeypatch)
