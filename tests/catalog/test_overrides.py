"""Pins and blocks in the catalog, and the in-place migration of a schema-1 catalog."""

from __future__ import annotations

import shutil
import sqlite3
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from recsys.catalog.overrides import Overrides
from recsys.catalog.schema import SCHEMA_VERSION
from recsys.catalog.store import Catalog
from recsys.errors import ArticleNotFound, ConfigError, InvalidInput

V1_FILE = Path(__file__).parents[1] / "data" / "catalog-v1.sqlite3"


def test_a_version_1_catalog_is_migrated_in_place_and_keeps_its_data(tmp_path: Path) -> None:
    """catalog-v1.sqlite3 was written by the schema-1 code (3 articles, one retracted, one vector)."""
    path = tmp_path / "catalog.sqlite3"
    shutil.copy(V1_FILE, path)
    with sqlite3.connect(path) as raw:
        assert raw.execute("SELECT value FROM meta WHERE name = 'schema_version'").fetchone() == ("1",)
        assert raw.execute("SELECT name FROM sqlite_master WHERE name = 'pins'").fetchone() is None
    catalog = Catalog(path)
    assert catalog.count() == 3 and catalog.count("retracted") == 1
    assert catalog.get("v1-1").article.title == "Harbour ferry story 1"
    assert set(catalog.cached_vectors("fake", "recipe", ["h"])) == {"h"}
    assert catalog.generation() == 0
    overrides = Overrides(catalog)
    overrides.set_pins("v1-0", ["v1-1"])
    overrides.block("v1-1")
    catalog.close()
    reopened = Catalog(path)  # a second open finds version 2 and migrates nothing
    with sqlite3.connect(path) as raw:
        assert raw.execute("SELECT value FROM meta WHERE name = 'schema_version'").fetchone() == (
            str(SCHEMA_VERSION),
        )
    assert Overrides(reopened).pins("v1-0") == ["v1-1"] and reopened.generation() == 2


def test_a_catalog_from_a_newer_release_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "catalog.sqlite3"
    Catalog(path).close()
    with sqlite3.connect(path) as raw:
        raw.execute("UPDATE meta SET value = '99' WHERE name = 'schema_version'")
    with pytest.raises(ConfigError, match="schema 99 is newer"):
        Catalog(path)


def test_pins_keep_their_order_and_bump_the_generation(built: Catalog) -> None:
    overrides = Overrides(built)
    start = built.generation()
    assert overrides.set_pins("football-0", ["theatre-1", "harbour-2", "theatre-1"]) == [
        "theatre-1",
        "harbour-2",
    ]
    assert overrides.add_pins("football-0", ["vaccine-3", "theatre-1"]) == [
        "theatre-1",
        "harbour-2",
        "vaccine-3",
    ]
    assert built.generation() == start + 2
    assert overrides.unpin("football-0", ["harbour-2"]) == 1
    assert overrides.pins("football-0") == ["theatre-1", "vaccine-3"]
    assert overrides.unpin("football-0") == 2 and overrides.pins("football-0") == []
    assert overrides.unpin("football-0") == 0 and built.generation() == start + 4


def test_pins_and_blocks_refuse_nonsense(built: Catalog) -> None:
    overrides = Overrides(built)
    with pytest.raises(InvalidInput, match="under itself"):
        overrides.set_pins("football-0", ["football-0"])
    with pytest.raises(InvalidInput, match="unknown article id"):
        overrides.set_pins("football-0", ["nope"])
    with pytest.raises(ArticleNotFound):
        overrides.set_pins("nope", ["football-1"])
    with pytest.raises(InvalidInput, match="in the past"):
        overrides.block("football-1", expires_at=datetime.now(UTC) - timedelta(days=1))
    with pytest.raises(InvalidInput, match="unknown article id"):
        overrides.block("nope")
    # A lone surrogate (a JSON escape, or undecodable bytes in argv) never reaches SQLite.
    with pytest.raises(InvalidInput, match="lone surrogate"):
        overrides.set_pins("football-0", ["football-1", "\udcff"])
    with pytest.raises(InvalidInput, match="lone surrogate"):
        overrides.block("football-1", under="\ud800")
    with pytest.raises(InvalidInput, match="out of range"):
        overrides.block(
            "football-1", expires_at=datetime(9999, 12, 31, 23, 59, tzinfo=timezone(-timedelta(hours=1)))
        )


def test_blocks_are_scoped_and_expire(built: Catalog) -> None:
    overrides = Overrides(built)
    now = datetime.now(UTC)
    overrides.block("theatre-1")
    overrides.block("theatre-2", under="theatre-0", expires_at=now + timedelta(hours=1))
    assert overrides.blocked_ids("theatre-0", now) == {"theatre-1", "theatre-2"}
    assert overrides.blocked_ids("theatre-3", now) == {"theatre-1"}
    assert overrides.blocked_ids(None, now) == {"theatre-1"}
    assert overrides.blocked_ids("theatre-0", now + timedelta(hours=2)) == {"theatre-1"}
    assert overrides.unblock("theatre-1") and not overrides.unblock("theatre-1")
    assert [b.target_id for b in overrides.blocks()] == ["theatre-2"]
