"""Importing a batch of articles into a PostgreSQL catalog in a few round trips, not four per article.

`Catalog.upsert` reads, then writes, one article at a time: fine next to a SQLite file, slow over a
network. `BatchUpsert` reads the rows of every id and URL of a batch in two statements, decides each
article in order exactly as `upsert` would (the same refusals, counts, keys and generations, a URL
moved by one record free for a later one), and sends the writes in one pipeline when the batch ends.
It runs inside the import's transaction, which holds the writers' lock, so nothing changes meanwhile.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from recsys.articles import Article
from recsys.catalog.postgres import PgConnection
from recsys.catalog.store import (
    CURRENT_COLUMNS,
    INSERT_ARTICLE,
    UPDATE_ARTICLE,
    UpsertCounts,
    now_stamp,
    row_values,
    unchanged,
)
from recsys.errors import InvalidInput


class BatchUpsert:
    """The upserts of one batch: `upsert` each article in order, then `flush`."""

    def __init__(self, conn: PgConnection, articles: Sequence[Article]) -> None:
        self.conn = conn
        ids = list({a.id for a in articles})
        urls = list({a.url for a in articles if a.url is not None})
        self.current: dict[str, dict[str, Any]] = {
            row["id"]: dict(zip(row.keys(), row, strict=True))
            for row in conn.execute(f"SELECT id, {CURRENT_COLUMNS} FROM articles WHERE id = ANY(?)", (ids,))
        }
        self.url_owner: dict[str, str] = {
            row["url"]: row["id"]
            for row in conn.execute("SELECT id, url FROM articles WHERE url = ANY(?)", (urls,))
        }
        row = conn.execute("SELECT value FROM meta WHERE name = 'overrides_generation'").fetchone()
        self.generation = int(row[0]) if row is not None else 0
        self.bumped = False
        self.writes: list[tuple[str, dict[str, Any]]] = []

    def upsert(self, article: Article, counts: UpsertCounts) -> None:
        """As Catalog.upsert: InvalidInput for a URL another article holds, and nothing written."""
        if article.url is not None:
            owner = self.url_owner.get(article.url)
            if owner is not None and owner != article.id:
                raise InvalidInput(f"url {article.url!r} already belongs to article {owner!r}")
        values = row_values(article)
        if any(isinstance(value, str) and "\x00" in value for value in values.values()):
            # Refused here, not by the server: its error would abort the whole batch's transaction.
            raise InvalidInput("text with a NUL character, which a PostgreSQL catalog cannot store")
        current = self.current.get(article.id)
        if current is None:
            status = article.status or "published"
            self._write(INSERT_ARTICLE, {**values, "status": status})
            counts.inserted += 1
        else:
            status = article.status or current["status"]
            if unchanged(current, values, status):
                counts.unchanged += 1
                return
            if current["url"] is not None and self.url_owner.get(current["url"]) == article.id:
                del self.url_owner[current["url"]]
            self._write(UPDATE_ARTICLE, {**values, "status": status})
            counts.updated += 1
        self.current[article.id] = {**values, "status": status}
        if article.url is not None:
            self.url_owner[article.url] = article.id

    def _write(self, sql: str, values: dict[str, Any]) -> None:
        self.generation += 1
        self.bumped = True
        self.writes.append((sql, {**values, "updated_at": now_stamp(), "gen": self.generation}))

    def flush(self) -> None:
        """Send the batch's writes, in order, and the generation they reached."""
        if not self.bumped:
            return
        self.conn.execute_pipelined(
            [
                *self.writes,
                (
                    "UPDATE meta SET value = :value WHERE name = 'overrides_generation'",
                    {"value": str(self.generation)},
                ),
            ]
        )
        self.writes = []
        self.bumped = False
