"""The embedding cache: vectors stored in the catalog by model, recipe and content hash.

A build embeds only texts that no build before it has embedded, and another data folder can share
the vectors.

It lives in the catalog's database (the `embeddings` table of recsys/catalog/schema.py) and goes
through the catalog's connections; `Catalog` hands out its methods under their old names.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Protocol

import numpy as np

from recsys.catalog.connection import Connection
from recsys.catalog.postgres import PgConnection
from recsys.errors import InvalidInput

# In the SQL both backends speak (recsys/catalog/postgres.py).
_ADD = "INSERT INTO embeddings VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING"
_REPLACE = (
    "INSERT INTO embeddings VALUES (?, ?, ?, ?, ?) ON CONFLICT (model, recipe, content_hash) "
    "DO UPDATE SET dim = excluded.dim, vector = excluded.vector"
)


class Database(Protocol):
    """What the cache needs of the catalog (recsys/catalog/store.py), which holds it."""

    path: Path | None  # None: not a file (PostgreSQL)

    def connection(self) -> Connection: ...

    def transaction(self) -> AbstractContextManager[Connection]: ...


class EmbeddingCache:
    """The embedding cache of one catalog."""

    def __init__(self, catalog: Database) -> None:
        self._catalog = catalog

    def cached_vectors(self, model: str, recipe: str, hashes: Iterable[str]) -> dict[str, np.ndarray]:
        wanted = list(dict.fromkeys(hashes))
        found: dict[str, np.ndarray] = {}
        conn = self._catalog.connection()
        for start in range(0, len(wanted), 500):
            chunk = wanted[start : start + 500]
            marks = ",".join("?" * len(chunk))
            rows = conn.execute(
                f"SELECT content_hash, dim, vector FROM embeddings WHERE model = ? AND recipe = ? "
                f"AND content_hash IN ({marks})",
                [model, recipe, *chunk],
            )
            for row in rows:
                vector = np.frombuffer(row["vector"], dtype=np.float32)
                if vector.shape[0] == row["dim"]:  # a torn row is a miss, not a crash
                    found[row["content_hash"]] = vector
        return found

    @staticmethod
    def _vector_rows(model: str, recipe: str, items: Iterable[tuple[str, np.ndarray]]) -> list[tuple]:
        return [
            (model, recipe, content_hash, int(vec.shape[0]), np.ascontiguousarray(vec, np.float32).tobytes())
            for content_hash, vec in items
        ]

    def store_vectors(self, model: str, recipe: str, items: Iterable[tuple[str, np.ndarray]]) -> None:
        rows = self._vector_rows(model, recipe, items)
        with self._catalog.transaction() as conn:
            conn.executemany(_REPLACE, rows)

    def add_vectors(self, model: str, recipe: str, chunks: Iterable[Iterable[tuple[str, np.ndarray]]]) -> int:
        """Add vectors to the cache in one transaction: all chunks or none, so an error while they are
        produced (a corrupt file half-way) leaves the cache as it was. Vectors already cached are
        kept. Returns the rows added."""
        added = 0
        with self._catalog.transaction() as conn:
            for chunk in chunks:
                added += self._insert_new(conn, self._vector_rows(model, recipe, chunk))
        return added

    @staticmethod
    def _insert_new(conn: Connection, rows: list[tuple]) -> int:
        """Add the rows not cached yet; returns how many. PostgreSQL takes them in bulk, with COPY."""
        if isinstance(conn, PgConnection):
            return conn.insert_new("embeddings", rows)
        return int(conn.executemany(_ADD, rows).rowcount)

    # -- sharing the cache with another catalog file ----------------------------------------------------

    @staticmethod
    def cache_identities(source: Path) -> dict[tuple[str, str, int], int]:
        """How many cached vectors another catalog file holds per (model, recipe, dimension); read-only."""
        try:
            other = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
            try:
                rows = other.execute(
                    "SELECT model, recipe, dim, COUNT(*) FROM embeddings GROUP BY model, recipe, dim"
                ).fetchall()
            finally:
                other.close()
        except sqlite3.DatabaseError as exc:
            raise InvalidInput(f"{source}: not a catalog with an embedding cache ({exc})") from exc
        return {(str(m), str(r), int(d)): int(n) for m, r, d, n in rows}

    def import_embeddings(self, source: Path) -> int:
        """Copy the embedding cache of another catalog file into this one (rows already here win).

        Lets a new catalog reuse vectors that another data folder paid for: a build then embeds only
        texts that neither catalog has seen. The source is opened read-only. Returns the rows added.
        """
        if not source.is_file():
            raise InvalidInput(f"{source}: no such catalog file")
        if self._catalog.path is not None and source.resolve() == self._catalog.path.resolve():
            return 0
        try:
            other = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
        except sqlite3.DatabaseError as exc:
            raise InvalidInput(f"{source}: not a readable catalog ({exc})") from exc
        added = 0
        try:
            rows = other.execute("SELECT model, recipe, content_hash, dim, vector FROM embeddings")
            while batch := rows.fetchmany(2000):
                with self._catalog.transaction() as conn:
                    added += self._insert_new(conn, [tuple(row) for row in batch])
        except sqlite3.DatabaseError as exc:
            raise InvalidInput(f"{source}: cannot read its embedding cache ({exc})") from exc
        finally:
            other.close()
        return added
