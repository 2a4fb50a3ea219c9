"""The catalog's schema: the DDL of every table, and the versioned migrations.

One source for both backends: the statements are written in SQLite's SQL, and `render` turns the few
words PostgreSQL spells differently (the key column, BLOB) into its own. A SQLite catalog made by an
older release is brought up to date on open, in place; a PostgreSQL catalog, shared by replicas, only
by `recsys migrate` (`migrate`), and a process refuses to open one whose schema is not this release's
(`check`).

Tables: `meta` (schema version, generation), `articles`, `embeddings` (the embedding cache,
recsys/catalog/embeddings.py), `pins` and `blocks` (editorial overrides, recsys/catalog/overrides.py),
`deletions` (tombstones for the change feed, Catalog.changed_since), `event_counts` (readers'
impressions and clicks, recsys/catalog/feedback.py).
"""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path
from typing import Any

from recsys.errors import ConfigError

SCHEMA_VERSION = 6

_TABLES = """
CREATE TABLE IF NOT EXISTS meta (
    name  TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS articles (
    key          INTEGER PRIMARY KEY AUTOINCREMENT,
    id           TEXT NOT NULL UNIQUE,
    url          TEXT UNIQUE,
    title        TEXT,
    body         TEXT,
    section      TEXT,
    tags         TEXT NOT NULL DEFAULT '[]',
    published_at TEXT,
    status       TEXT NOT NULL DEFAULT 'published' CHECK (status IN ('published', 'retracted')),
    content_hash TEXT NOT NULL,
    related      TEXT NOT NULL DEFAULT '[]',
    updated_at   TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS articles_status ON articles (status);
CREATE INDEX IF NOT EXISTS articles_section_published ON articles (section, published_at);
CREATE TABLE IF NOT EXISTS embeddings (
    model        TEXT NOT NULL,
    recipe       TEXT NOT NULL,
    content_hash TEXT NOT NULL,
    dim          INTEGER NOT NULL,
    vector       BLOB NOT NULL,
    PRIMARY KEY (model, recipe, content_hash)
);
"""

# Each step takes a catalog from version N to N + 1, in place and inside one transaction; a catalog
# created by an older release is upgraded on open, never refused.
_MIGRATIONS: dict[int, str] = {
    1: """
CREATE TABLE IF NOT EXISTS pins (
    article_id TEXT NOT NULL,
    target_id  TEXT NOT NULL,
    position   INTEGER NOT NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (article_id, target_id)
);
CREATE TABLE IF NOT EXISTS blocks (
    scope      TEXT NOT NULL,  -- an article id, or '' for a global block
    target_id  TEXT NOT NULL,
    expires_at TEXT,
    created_at TEXT NOT NULL,
    PRIMARY KEY (scope, target_id)
);
INSERT INTO meta VALUES ('overrides_generation', '0') ON CONFLICT DO NOTHING;
""",
    # The query side keeps a snapshot of each index version in memory and re-reads only what changed
    # since: every write stamps its rows with the generation it bumped to, and a deletion leaves a
    # tombstone, so "what changed after generation G" is one indexed query.
    2: """
ALTER TABLE articles ADD COLUMN changed_gen INTEGER NOT NULL DEFAULT 0;
CREATE INDEX IF NOT EXISTS articles_changed ON articles (changed_gen);
CREATE TABLE IF NOT EXISTS deletions (
    key        INTEGER PRIMARY KEY,
    id         TEXT NOT NULL,
    changed_gen INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS deletions_changed ON deletions (changed_gen);
""",
    # Optional fields a listed item shows (issue 12): a picture and a byline; NULL for older rows.
    3: """
ALTER TABLE articles ADD COLUMN image_url TEXT;
ALTER TABLE articles ADD COLUMN author TEXT;
""",
    # Readers' impressions and clicks (issue 20): counters, never raw events. No foreign key to
    # articles: a deleted article's counts stay for the reports.
    4: """
CREATE TABLE IF NOT EXISTS event_counts (
    day         TEXT NOT NULL,
    article     TEXT NOT NULL,
    block       TEXT NOT NULL,
    position    INTEGER NOT NULL,
    experiment  TEXT NOT NULL,
    arm         TEXT NOT NULL,
    impressions INTEGER NOT NULL DEFAULT 0,
    clicks      INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (day, article, block, position, experiment, arm)
);
CREATE INDEX IF NOT EXISTS event_counts_experiment ON event_counts (experiment, day);
""",
    # Each article's language (issue 21), a BCP 47 tag; NULL for older rows and where none was given
    # or detected. Not part of content_hash: an older row keeps its embedding.
    5: """
ALTER TABLE articles ADD COLUMN language TEXT;
""",
}


def prepare(conn: sqlite3.Connection, path: Path) -> None:
    """Create the tables of a new catalog, or upgrade an older one in place (ConfigError for a catalog
    made by a newer release). SQLite's own errors are the caller's to report."""
    conn.executescript(_TABLES)
    row = conn.execute("SELECT value FROM meta WHERE name = 'schema_version'").fetchone()
    if row is None:
        # A new catalog runs every migration, so there is one definition of each table.
        conn.execute("INSERT INTO meta VALUES ('schema_version', '1')")
        version = 1
    else:
        version = int(row[0])
    if version > SCHEMA_VERSION:
        raise ConfigError(
            f"{path}: catalog schema {version} is newer than the supported {SCHEMA_VERSION}; upgrade recsys"
        )
    _migrate(conn, version)


def _migrate(conn: sqlite3.Connection, version: int) -> None:
    while version < SCHEMA_VERSION:
        # executescript would commit on its own; run the statements inside our transaction.
        conn.execute("BEGIN IMMEDIATE")
        try:
            current = int(conn.execute("SELECT value FROM meta WHERE name = 'schema_version'").fetchone()[0])
            if current == version:  # another process may have migrated meanwhile
                for statement in _MIGRATIONS[version].split(";"):
                    if statement.strip():
                        conn.execute(statement)
                conn.execute("UPDATE meta SET value = ? WHERE name = 'schema_version'", (str(version + 1),))
        except BaseException:
            conn.rollback()
            raise
        conn.commit()
        version = int(conn.execute("SELECT value FROM meta WHERE name = 'schema_version'").fetchone()[0])


# -- PostgreSQL --------------------------------------------------------------------------------------

# SQLite's spelling -> PostgreSQL's. Keys and generations are 64-bit; the article key is an identity
# column that never reuses a value, as AUTOINCREMENT does not.
_POSTGRES_WORDS = (
    (r"\bINTEGER PRIMARY KEY AUTOINCREMENT\b", "BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY"),
    (r"\bINTEGER\b", "BIGINT"),
    (r"\bBLOB\b", "BYTEA"),
)
# Any id: writers and migrations serialise on recsys.catalog.postgres.WRITE_LOCK.
_ADVISORY_LOCK = "SELECT pg_advisory_xact_lock(?)"


def render(sql: str) -> str:
    """A statement of this module in PostgreSQL's words."""
    for pattern, replacement in _POSTGRES_WORDS:
        sql = re.sub(pattern, replacement, sql)
    return sql


def _statements(script: str) -> list[str]:
    return [statement for statement in script.split(";") if statement.strip()]


def postgres_version(conn: Any) -> int | None:
    """The schema version of a PostgreSQL catalog; None for a database without one."""
    exists = conn.execute("SELECT to_regclass('meta') IS NOT NULL").fetchone()[0]
    if not exists:
        return None
    row = conn.execute("SELECT value FROM meta WHERE name = 'schema_version'").fetchone()
    return None if row is None else int(row[0])


def check(conn: Any, label: str) -> None:
    """Refuse a PostgreSQL catalog this release does not know: none yet, older, or newer."""
    version = postgres_version(conn)
    if version == SCHEMA_VERSION:
        return
    if version is None:
        raise ConfigError(f"{label}: no recsys catalog in this database; run `recsys migrate` first")
    if version > SCHEMA_VERSION:
        raise ConfigError(
            f"{label}: catalog schema {version} is newer than the supported {SCHEMA_VERSION}; upgrade recsys"
        )
    raise ConfigError(
        f"{label}: catalog schema {version} is older than this release's {SCHEMA_VERSION}; "
        "run `recsys migrate`"
    )


def migrate_postgres(conn: Any, lock: int) -> tuple[int | None, int]:
    """Create or upgrade a PostgreSQL catalog in one transaction, under the writers' lock (so two
    replicas that migrate at once do it once). Returns the version before (None: a new catalog) and
    after; ConfigError for a catalog made by a newer release."""
    conn.execute("BEGIN")
    try:
        conn.execute(_ADVISORY_LOCK, (lock,))
        before = postgres_version(conn)
        if before is not None and before > SCHEMA_VERSION:
            raise ConfigError(
                f"catalog schema {before} is newer than the supported {SCHEMA_VERSION}; upgrade recsys"
            )
        for statement in _statements(_TABLES):
            conn.execute(render(statement))
        if before is None:
            conn.execute("INSERT INTO meta VALUES ('schema_version', '1')")
        version = before or 1
        while version < SCHEMA_VERSION:
            for statement in _statements(_MIGRATIONS[version]):
                conn.execute(render(statement))
            version += 1
            conn.execute("UPDATE meta SET value = ? WHERE name = 'schema_version'", (str(version),))
        conn.commit()
    except BaseException:
        conn.rollback()
        raise
    return before, version


def migrate_sqlite(conn: sqlite3.Connection, path: Path) -> tuple[int | None, int]:
    """`recsys migrate` on a SQLite catalog: what opening it does, with the versions reported."""
    exists = conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'meta'").fetchone() is not None
    before = None
    if exists:
        row = conn.execute("SELECT value FROM meta WHERE name = 'schema_version'").fetchone()
        before = None if row is None else int(row[0])
    prepare(conn, path)
    return before, SCHEMA_VERSION
