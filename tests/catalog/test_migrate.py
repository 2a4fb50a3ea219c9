"""`recsys migrate` on both backends, the start-up check of a PostgreSQL catalog's schema, and
`recsys backup` on PostgreSQL (fake encoder)."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from cli import app as cli
from recsys.catalog.overrides import Overrides
from recsys.catalog.schema import SCHEMA_VERSION
from recsys.catalog.store import Catalog
from recsys.errors import CatalogBusy, ConfigError
from recsys.root import Root
from recsys.settings import Settings
from tests.helpers import one_line_error
from tests.postgres import PostgresServer

runner = CliRunner()


def test_migrate_says_what_it_did_and_is_idempotent(settings: Settings) -> None:
    data = ["--data-dir", str(settings.data_dir)]
    first = runner.invoke(cli.app, ["migrate", *data])
    assert first.exit_code == 0, first.output
    # The fixture migrated a PostgreSQL schema already; a SQLite file is new here.
    expected = "already at" if settings.catalog_is_postgres else "created at"
    assert f"catalog {expected} schema {SCHEMA_VERSION}" in first.output
    again = runner.invoke(cli.app, ["migrate", *data])
    assert again.exit_code == 0 and f"already at schema {SCHEMA_VERSION}" in again.output
    assert Root(settings).catalog.count() == 0


def test_a_postgres_catalog_is_never_opened_on_a_schema_it_does_not_know(
    postgres_server: PostgresServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = postgres_server.fresh_url()
    with pytest.raises(ConfigError, match="no recsys catalog in this database; run `recsys migrate`"):
        Catalog(url)
    assert Catalog.migrate(url) == (None, SCHEMA_VERSION)
    catalog = Catalog(url)
    with catalog.transaction() as conn:
        conn.execute("UPDATE meta SET value = ? WHERE name = 'schema_version'", (str(SCHEMA_VERSION + 1),))
    catalog.dispose()
    with pytest.raises(ConfigError, match=f"schema {SCHEMA_VERSION + 1} is newer"):
        Catalog(url)
    with pytest.raises(ConfigError, match="newer"):
        Catalog.migrate(url)

    older = postgres_server.fresh_url()
    Catalog.migrate(older)
    catalog = Catalog(older)
    with catalog.transaction() as conn:
        conn.execute("ALTER TABLE articles DROP COLUMN author")
        conn.execute("ALTER TABLE articles DROP COLUMN image_url")
        conn.execute("ALTER TABLE articles DROP COLUMN language")
        conn.execute("UPDATE meta SET value = '3' WHERE name = 'schema_version'")
    catalog.dispose()
    with pytest.raises(ConfigError, match="schema 3 is older .* run `recsys migrate`"):
        Catalog(older)
    monkeypatch.setenv("RECSYS_CATALOG_URL", older)
    result = runner.invoke(cli.app, ["migrate"])
    assert result.exit_code == 0 and f"migrated from schema 3 to {SCHEMA_VERSION}" in result.output
    assert Catalog(older).count() == 0


def test_a_command_refuses_an_unmigrated_postgres_catalog(
    postgres_server: PostgresServer, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("RECSYS_CATALOG_URL", postgres_server.fresh_url())
    result = runner.invoke(cli.app, ["retract", "x"])
    one_line_error(result, "run `recsys migrate` first")


def test_backup_of_a_postgres_catalog_says_pg_dump(settings: Settings, tmp_path: Path) -> None:
    if not settings.catalog_is_postgres:
        pytest.skip("the SQLite backup is tests/catalog/test_backup.py's")
    result = runner.invoke(cli.app, ["backup", "copy.dump", "--data-dir", str(settings.data_dir)])
    one_line_error(result, "back it up with pg_dump")


def test_the_password_never_shows_in_messages(postgres_server: PostgresServer) -> None:
    url = postgres_server.url().replace("postgres@", "postgres:s3cret@").replace("/postgres?", "/nodb?")
    with pytest.raises(Exception) as caught:  # noqa: B017 - whatever the server says, not the password
        Catalog(url, busy_timeout=1)
    assert "s3cret" not in str(caught.value)


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("", "data/catalog.sqlite3"),
        ("elsewhere/catalog.db", "elsewhere/catalog.db"),
        ("sqlite:////abs/catalog.db", "/abs/catalog.db"),  # as SQLAlchemy: four slashes, absolute
        ("sqlite:///rel.db", "rel.db"),
    ],
)
def test_one_setting_chooses_the_backend(url: str, expected: str) -> None:
    settings = Settings(data_dir=Path("data"), catalog_url=url)
    assert not settings.catalog_is_postgres and settings.catalog_location == Path(expected)
    postgres = Settings(data_dir=Path("data"), catalog_url="postgresql://u:pw@db:5432/news")
    assert postgres.catalog_is_postgres and postgres.catalog_location == "postgresql://u:pw@db:5432/news"


@pytest.mark.parametrize("url", ["mysql://db/news", "sqlite:relative.db"])
def test_a_catalog_url_of_no_known_kind_is_refused(url: str) -> None:
    with pytest.raises(ValueError, match="catalog_url"):
        Settings(catalog_url=url)


def test_a_dropped_postgres_connection_is_replaced(settings: Settings, catalog: Catalog) -> None:
    """The server drops the catalog's connections (a restart, a failover): the statement that meets
    the dead connection is CatalogBusy (503 and Retry-After in the service), and the next gets a fresh
    connection from the pool."""
    if not settings.catalog_is_postgres:
        pytest.skip("a PostgreSQL server's connections")
    assert catalog.count() == 0
    killer = Catalog(settings.catalog_location)
    killer.connection().execute(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
        "WHERE pid <> pg_backend_pid() AND backend_type = 'client backend'"
    )
    killer.dispose()
    with pytest.raises(CatalogBusy, match="cannot be reached"):
        catalog.count()
    assert catalog.count() == 0
    Overrides(catalog).unpin("nobody")  # a write, too
    assert catalog.generation() == 0


def test_the_service_does_not_start_on_an_unmigrated_postgres_catalog(
    postgres_server: PostgresServer, tmp_path: Path
) -> None:
    from fastapi.testclient import TestClient

    from service.app import create_app
    from tests.fakes import FakeEncoder

    settings = Settings(data_dir=tmp_path / "data", catalog_url=postgres_server.fresh_url())
    with (
        pytest.raises(ConfigError, match="run `recsys migrate` first"),
        TestClient(create_app(settings, encoder=FakeEncoder())),
    ):
        pass
