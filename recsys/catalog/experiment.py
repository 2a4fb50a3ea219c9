"""The running experiment's config, as JSON text in one row of the catalog's `meta` table.

A row rather than a table: no schema migration, and one experiment runs at a time. Writing it bumps
the catalog's generation, so every worker and replica reads the new one through the change feed
(recsys/catalog/changes.py) and every list's ETag changes. What the text means is the query side's
business (recsys/serving/experiments.py parses and checks it before it is written here).
"""

from __future__ import annotations

from recsys.catalog.connection import Connection
from recsys.catalog.store import Catalog

META_NAME = "experiment"


def read_experiment(conn: Connection) -> str | None:
    """The stored config's text; None when no experiment runs."""
    row = conn.execute("SELECT value FROM meta WHERE name = ?", (META_NAME,)).fetchone()
    return None if row is None else str(row[0])


def write_experiment(catalog: Catalog, text: str | None) -> bool:
    """Store `text` as the running experiment (None: stop it); returns whether anything changed.
    Writing the same text again changes nothing, so that workers loading one file at start do not
    move the generation (and every ETag) each time."""
    with catalog.transaction() as conn:
        if read_experiment(conn) == text:
            return False
        if text is None:
            conn.execute("DELETE FROM meta WHERE name = ?", (META_NAME,))
        else:
            conn.execute(
                "INSERT INTO meta VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value",
                (META_NAME, text),
            )
        catalog.bump_generation(conn)
    return True
