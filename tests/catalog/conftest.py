"""The catalog's tests run on both backends: every test that takes `settings` (and so `catalog`,
`built`, the app) runs once on the embedded SQLite file and once on a PostgreSQL schema of its own.

Tests marked `sqlite_only` read SQLite's own file, locks or pragmas; they run on SQLite only.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from recsys.catalog.sqlite import Catalog
from recsys.settings import Settings
from tests.postgres import PostgresServer, missing_binaries, required


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    why = missing_binaries()
    if why is not None:
        if required():
            pytest.fail(f"RECSYS_TEST_REQUIRE_POSTGRES=1 but {why}")
        pytest.skip(why)
    try:
        import psycopg  # noqa: F401
    except ImportError:
        if required():
            pytest.fail("RECSYS_TEST_REQUIRE_POSTGRES=1 but psycopg is not installed (the postgres extra)")
        pytest.skip("psycopg is not installed (pip install 'recsys-news[postgres]')")
    server = PostgresServer().start()
    yield server
    server.stop()


@pytest.fixture(params=["sqlite", "postgresql"])
def backend(request: pytest.FixtureRequest) -> str:
    if request.param == "postgresql" and request.node.get_closest_marker("sqlite_only"):
        pytest.skip("reads SQLite's own file, locks or pragmas")
    return str(request.param)


@pytest.fixture
def settings(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> Settings:
    if backend == "postgresql":
        server: PostgresServer = request.getfixturevalue("postgres_server")
        url = server.fresh_url()
        Catalog.migrate(url)
        # Every Settings the test makes (the app's, the command line's) opens this catalog.
        monkeypatch.setenv("RECSYS_CATALOG_URL", url)
    return Settings(data_dir=tmp_path / "data")
