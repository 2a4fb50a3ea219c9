"""`recsys backup DEST`: a consistent online copy of the catalog, and a restore from it (fake encoder)."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cli import app as cli
from recsys.catalog.overrides import Overrides
from recsys.catalog.store import Catalog
from recsys.settings import Settings
from tests.fakes import use_fake_model
from tests.helpers import one_line_error

runner = CliRunner()
pytestmark = pytest.mark.sqlite_only  # a PostgreSQL catalog is backed up with pg_dump


def _snapshot(catalog: Catalog) -> tuple[object, ...]:
    overrides = Overrides(catalog)
    articles = [(s.key, s.id, s.status, s.content_hash, s.article) for s in catalog.iter_all()]
    blocks = [(b.target_id, b.article_id, b.expires_at) for b in overrides.blocks()]
    return articles, overrides.all_pins(), blocks, catalog.generation()


def test_backup_while_in_use_then_restore(
    settings: Settings, built: Catalog, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    overrides = Overrides(built)
    overrides.set_pins("harbour-0", ["theatre-1", "football-2"])
    overrides.block("vaccine-3")
    overrides.block("election-1", under="harbour-0")
    built.set_status("theatre-4", "retracted")
    before = _snapshot(built)
    dest = tmp_path / "backups" / "catalog-copy.sqlite3"

    # The catalog stays open (`built`), and a writer is half-way through a transaction: the copy
    # holds what was committed, nothing of the rest, and the backup does not wait for the writer.
    with sqlite3.connect(settings.catalog_file, isolation_level=None) as writer:
        writer.execute("BEGIN IMMEDIATE")
        writer.execute("DELETE FROM pins")
        result = runner.invoke(cli.app, ["backup", str(dest), "--data-dir", str(settings.data_dir)])
        writer.execute("ROLLBACK")
    assert result.exit_code == 0, result.output
    assert "(30 articles)" in result.stdout and dest.is_file()
    assert [p.name for p in dest.parent.iterdir()] == [dest.name]  # no partial file left behind

    restored = tmp_path / "restored"
    restored.mkdir()
    shutil.copy(dest, restored / "catalog.sqlite3")
    catalog = Catalog(restored / "catalog.sqlite3")
    assert _snapshot(catalog) == before
    with sqlite3.connect(restored / "catalog.sqlite3") as check:
        assert check.execute("PRAGMA integrity_check").fetchone() == ("ok",)

    # The restored folder builds and answers, from the copied embedding cache.
    use_fake_model(monkeypatch)
    build = runner.invoke(
        cli.app, ["build", "--data-dir", str(restored), "--no-progress", "--log-level", "warning"]
    )
    assert build.exit_code == 0 and "(0 embedded, 29 from cache)" in build.stdout, build.output
    related = runner.invoke(
        cli.app, ["related", "harbour-0", "--limit", "3", "--json", "--data-dir", str(restored)]
    )
    assert '"theatre-1"' in related.stdout and '"vaccine-3"' not in related.stdout


def test_backup_refuses_to_overwrite_and_says_why(settings: Settings, built: Catalog, tmp_path: Path) -> None:
    data = ["--data-dir", str(settings.data_dir)]
    dest = tmp_path / "copy.sqlite3"
    dest.write_text("an older backup")
    one_line_error(runner.invoke(cli.app, ["backup", str(dest), *data]), "exists; pass --force")
    assert dest.read_text() == "an older backup"
    assert runner.invoke(cli.app, ["backup", str(dest), "--force", *data]).exit_code == 0
    assert Catalog(dest).count() == 30
    one_line_error(runner.invoke(cli.app, ["backup", str(tmp_path), *data]), "is a folder")
    itself = runner.invoke(cli.app, ["backup", str(settings.catalog_file), "--force", *data])
    one_line_error(itself, "is the catalog itself")
    nothing = runner.invoke(cli.app, ["backup", str(dest), "--data-dir", str(tmp_path / "empty")])
    one_line_error(nothing, "no catalog at")
