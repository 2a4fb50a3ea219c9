"""The article store: connections, articles, status, generation and what changed since.

One database holds every article, its status, the hash of its embedded text and its curated
links, and also the embedding cache (recsys/catalog/embeddings.py) and the editorial overrides (pins
and blocks, recsys/catalog/overrides.py); the DDL of every table and the migrations are in
recsys/catalog/schema.py. The database is a SQLite file (the default, embedded) or a PostgreSQL
server shared by several replicas (a `postgresql://` location: recsys/catalog/postgres.py); the same
statements run on both, and nothing above this class knows which it got.

Each article gets an integer `key` that never changes; the vector index uses it as the FAISS id, so an
index version and the catalog agree on identity even as articles are edited or retracted.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from recsys.articles import UNENCODABLE, Article, Status, format_timestamp
from recsys.catalog.connection import Connection, Dialect, Row
from recsys.catalog.embeddings import EmbeddingCache
from recsys.catalog.postgres import (
    BUILD_LOCK,
    NOTIFY_GENERATION,
    WRITE_LOCK,
    PgEngine,
    PgListener,
    is_postgres_url,
    redacted,
)
from recsys.catalog.schema import check, migrate_postgres, migrate_sqlite, prepare
from recsys.errors import ArticleNotFound, BuildLocked, ConfigError, InvalidInput, RecsysError, StorageError
from recsys.storage import fsync_path, os_refusal, sqlite_refusal, writing

LEAN_COLUMNS = (
    "key, id, url, title, section, tags, published_at, status, content_hash, image_url, author, language"
)
DEFAULT_BUSY_TIMEOUT = 30.0


class _Connection(sqlite3.Connection):
    """A catalog connection whose statements raise domain errors where SQLite refuses: CatalogBusy for
    a lock that outlasts the busy timeout, StorageError for a full or read-only disk, InvalidInput
    for text UTF-8 cannot encode. Every read and write of the catalog goes through it."""

    catalog_path: Path

    def execute(self, sql: str, parameters: Any = (), /) -> sqlite3.Cursor:
        with self._refusals():
            return super().execute(sql, parameters)

    def executemany(self, sql: str, parameters: Iterable[Any], /) -> sqlite3.Cursor:
        with self._refusals():
            return super().executemany(sql, parameters)

    def executescript(self, sql_script: str, /) -> sqlite3.Cursor:
        with self._refusals():
            return super().executescript(sql_script)

    def commit(self) -> None:
        with self._refusals():
            super().commit()

    @contextmanager
    def _refusals(self) -> Iterator[None]:
        try:
            yield
        except sqlite3.OperationalError as exc:
            if (error := sqlite_refusal(exc, self.catalog_path)) is not None:
                raise error from exc
            raise
        except UnicodeEncodeError as exc:  # the last guard: text is checked where it comes in
            raise InvalidInput(f"text {UNENCODABLE}") from exc


@dataclass(frozen=True)
class StoredArticle:
    key: int
    article: Article
    status: Status
    content_hash: str
    updated_at: str

    @property
    def id(self) -> str:
        return self.article.id


@dataclass
class UpsertCounts:
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0


def now_stamp() -> str:
    return format_timestamp(datetime.now(UTC))


# An upsert's statements (Catalog.upsert; recsys/catalog/bulk.py sends the same in batches).
CURRENT_COLUMNS = (
    "url, title, body, section, tags, published_at, status, content_hash, related, image_url, author, "
    "language"
)
INSERT_ARTICLE = (
    "INSERT INTO articles (id, url, title, body, section, tags, published_at, status, "
    "content_hash, related, image_url, author, language, updated_at, changed_gen) VALUES (:id, :url, "
    ":title, :body, :section, :tags, :published_at, :status, :content_hash, :related, "
    ":image_url, :author, :language, :updated_at, :gen)"
)
UPDATE_ARTICLE = (
    "UPDATE articles SET url = :url, title = :title, body = :body, section = :section, "
    "tags = :tags, published_at = :published_at, status = :status, "
    "content_hash = :content_hash, related = :related, image_url = :image_url, "
    "author = :author, language = :language, updated_at = :updated_at, changed_gen = :gen "
    "WHERE id = :id"
)


def row_values(article: Article) -> dict[str, Any]:
    """An article's columns as the catalog stores them (status, times and generation aside)."""
    return {
        "id": article.id,
        "url": article.url,
        "title": article.title,
        "body": article.body,
        "section": article.section,
        "tags": json.dumps(list(article.tags)),
        "published_at": article.published_at,
        "content_hash": article.content_hash,
        "related": json.dumps(list(article.related)),
        "image_url": article.image_url,
        "author": article.author,
        "language": article.language,
    }


def unchanged(current: Row | dict[str, Any], values: dict[str, Any], status: str) -> bool:
    """Whether a stored row already holds these values and status: an upsert then writes nothing."""
    same = all(current[name] == values[name] for name in values if name != "id")
    return same and status == current["status"]


class Catalog:
    """The article store over one database. `location`: a SQLite file (one connection per thread; WAL
    so that the service keeps reading while a build or an ingest writes), or a `postgresql://` URL
    (a pool; each thread holds one connection while it uses the catalog, as with SQLite).

    `busy_timeout`: seconds a statement waits for another writer's lock before CatalogBusy. The CLI
    and builds wait long (an import commits every 1,000 records); the service waits briefly
    and answers 503 with Retry-After rather than hold a request.

    A SQLite catalog is created or upgraded in place on open. A PostgreSQL one is created and
    upgraded only by `migrate` (`recsys migrate`), and opening one whose schema is not this
    release's is a ConfigError: a replica never runs on a schema it does not know.
    """

    def __init__(self, location: Path | str, *, busy_timeout: float = DEFAULT_BUSY_TIMEOUT) -> None:
        self.busy_timeout = busy_timeout
        self.embeddings = EmbeddingCache(self)
        self._pg: PgEngine | None = None
        self.path: Path | None
        if is_postgres_url(location):
            assert isinstance(location, str)
            self.dialect: Dialect = "postgresql"
            self.path = None
            self.label = redacted(location)
            self._pg = PgEngine(location, busy_timeout=busy_timeout)
            try:
                check(self._pg.connection(), self.label)
            except BaseException:
                self._pg.close()
                raise
            return
        path = Path(location)
        self.dialect = "sqlite"
        self.path = path
        self.label = str(path)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            refused = os_refusal(exc, path.parent)
            raise refused or ConfigError(f"cannot create the catalog folder {path.parent}: {exc}") from exc
        self._local = threading.local()
        conn = self._sqlite()
        try:
            prepare(conn, path)
        except sqlite3.DatabaseError as exc:
            raise self._unusable(exc) from exc

    @staticmethod
    def migrate(location: Path | str) -> tuple[int | None, int]:
        """Create or upgrade the catalog's schema (`recsys migrate`); returns the version before
        (None: there was no catalog) and after."""
        if is_postgres_url(location):
            assert isinstance(location, str)
            engine = PgEngine(location, busy_timeout=DEFAULT_BUSY_TIMEOUT)
            try:
                return migrate_postgres(engine.connection(), WRITE_LOCK)
            finally:
                engine.close()
        path = Path(location)
        path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(path, isolation_level=None)
        try:
            return migrate_sqlite(conn, path)
        except sqlite3.DatabaseError as exc:
            raise ConfigError(f"{path}: not a usable catalog database ({exc})") from exc
        finally:
            conn.close()

    def _unusable(self, exc: sqlite3.DatabaseError) -> RecsysError:
        """Why opening failed: the disk or the lock refused (say so, with what to do), or the file is
        not a catalog at all."""
        assert self.path is not None
        if isinstance(exc, sqlite3.OperationalError) and (refused := sqlite_refusal(exc, self.path)):
            return refused
        return ConfigError(f"{self.path}: not a usable catalog database ({exc})")

    def _sqlite(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            assert self.path is not None
            try:
                # Autocommit; transaction() opens explicit ones, so reads never hold a write lock.
                conn = sqlite3.connect(
                    self.path, timeout=self.busy_timeout, isolation_level=None, factory=_Connection
                )
                conn.catalog_path = self.path
                conn.execute("PRAGMA journal_mode=WAL")
                conn.execute("PRAGMA synchronous=NORMAL")
                conn.execute("PRAGMA foreign_keys=ON")
            except sqlite3.DatabaseError as exc:
                raise self._unusable(exc) from exc
            conn.row_factory = sqlite3.Row
            self._local.conn = conn
        return conn

    def _conn(self) -> Connection:
        return self._pg.connection() if self._pg is not None else self._sqlite()

    def connection(self) -> Connection:
        """This thread's connection (autocommit), for modules that own tables of the catalog."""
        return self._conn()

    def close(self) -> None:
        """Release this thread's connection (PostgreSQL: back to the pool)."""
        if self._pg is not None:
            self._pg.release()
            return
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None

    def dispose(self) -> None:
        """Close the catalog for good: this thread's connection, and a PostgreSQL catalog's pool."""
        self.close()
        if self._pg is not None:
            self._pg.close()

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        """All-or-nothing: commit at the end, roll back on any exception (a failed commit included:
        a full disk must not leave the connection inside a transaction that holds the lock). Writers
        run one at a time on both backends."""
        conn = self._conn()
        if self._pg is not None:
            conn.execute("BEGIN")
            try:
                conn.execute("SELECT pg_advisory_xact_lock(?)", (WRITE_LOCK,))
            except BaseException:
                conn.rollback()
                raise
        else:
            conn.execute("BEGIN IMMEDIATE")
        try:
            yield conn
            if self._pg is not None:  # the replicas' change feeds wake on it, once this commits
                conn.execute(NOTIFY_GENERATION)
            conn.commit()
        except BaseException:
            conn.rollback()
            raise

    @contextmanager
    def build_lock(self) -> Iterator[None]:
        """One build at a time across the hosts that share this catalog, besides each host's own lock
        on its index folder (IndexStore.build_lock): on PostgreSQL an advisory lock held by a
        connection of the build's own, released by the server when that connection ends, however the
        build ended (BuildLocked while another holds it). A SQLite catalog is one host's: nothing to
        add."""
        if self._pg is None:
            yield
            return

        def taken() -> BuildLocked:
            return BuildLocked(
                f"another build is running on a host that shares the catalog {self.label} "
                "(its build lock); try again when it finishes"
            )

        with self._pg.session_lock(BUILD_LOCK, taken):
            yield

    def listener(self) -> PgListener | None:
        """A PostgreSQL catalog's own connection for LISTEN (the change feed); None on SQLite."""
        return self._pg.listener() if self._pg is not None else None

    @contextmanager
    def read_snapshot(self) -> Iterator[Connection]:
        """One read transaction: every read inside it sees the same committed state."""
        conn = self._conn()
        conn.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY" if self._pg is not None else "BEGIN")
        try:
            yield conn
        finally:
            conn.execute("COMMIT")

    # -- writing -------------------------------------------------------------------------------

    def upsert(self, conn: Connection, article: Article, counts: UpsertCounts) -> None:
        """Insert or update one article inside an open transaction.

        Raises InvalidInput when the URL already belongs to another article; the caller decides
        whether that skips the record or fails the import.
        """
        if article.url is not None:
            owner = conn.execute(
                "SELECT id FROM articles WHERE url = ? AND id != ?", (article.url, article.id)
            ).fetchone()
            if owner is not None:
                raise InvalidInput(f"url {article.url!r} already belongs to article {owner['id']!r}")
        values = row_values(article)
        current = conn.execute(
            f"SELECT {CURRENT_COLUMNS} FROM articles WHERE id = ?", (article.id,)
        ).fetchone()
        if current is None:
            gen = self.bump_generation(conn)
            conn.execute(
                INSERT_ARTICLE,
                {**values, "status": article.status or "published", "updated_at": now_stamp(), "gen": gen},
            )
            counts.inserted += 1
            return
        status = article.status or current["status"]
        if unchanged(current, values, status):
            counts.unchanged += 1
            return
        gen = self.bump_generation(conn)
        conn.execute(UPDATE_ARTICLE, {**values, "status": status, "updated_at": now_stamp(), "gen": gen})
        counts.updated += 1

    def set_status(self, article_id: str, status: Status) -> bool:
        """Set an article's status; returns whether it changed. Unknown id raises ArticleNotFound."""
        with self.transaction() as conn:
            row = conn.execute("SELECT status FROM articles WHERE id = ?", (article_id,)).fetchone()
            if row is None:
                raise ArticleNotFound(article_id)
            if row["status"] == status:
                return False
            gen = self.bump_generation(conn)
            conn.execute(
                "UPDATE articles SET status = ?, updated_at = ?, changed_gen = ? WHERE id = ?",
                (status, now_stamp(), gen, article_id),
            )
            return True

    # -- the overrides generation --------------------------------------------------------------------

    @staticmethod
    def bump_generation(conn: Connection) -> int:
        """Count a change that can alter a list without a rebuild (pin, block, retraction, an article
        imported or edited): caches keyed on the generation (ETags, the query side's live view) see
        every such change. Returns the new generation, which article writes stamp on their row."""
        row = conn.execute(
            "UPDATE meta SET value = CAST(CAST(value AS INTEGER) + 1 AS TEXT) "
            "WHERE name = 'overrides_generation' RETURNING value"
        ).fetchone()
        return int(row[0]) if row is not None else 0

    def generation(self) -> int:
        row = self._conn().execute("SELECT value FROM meta WHERE name = 'overrides_generation'").fetchone()
        return int(row[0]) if row is not None else 0

    def delete(self, article_id: str) -> None:
        """Remove an article for good. Its key is never reused (AUTOINCREMENT), so index versions that
        still hold it simply find no catalog row and skip it at query time. Its cached embedding stays:
        it is keyed by content, and another article may share it."""
        with self.transaction() as conn:
            row = conn.execute("SELECT key FROM articles WHERE id = ?", (article_id,)).fetchone()
            if row is None:
                raise ArticleNotFound(article_id)
            conn.execute("DELETE FROM articles WHERE key = ?", (row["key"],))
            gen = self.bump_generation(conn)  # lists that showed it change: ETags must too
            conn.execute(
                "INSERT INTO deletions VALUES (?, ?, ?) ON CONFLICT (key) "
                "DO UPDATE SET id = excluded.id, changed_gen = excluded.changed_gen",
                (row["key"], article_id, gen),
            )

    # -- reading -------------------------------------------------------------------------------

    @staticmethod
    def _stored(row: Row) -> StoredArticle:
        article = Article(
            id=row["id"],
            url=row["url"],
            title=row["title"],
            body=row["body"],
            section=row["section"],
            tags=tuple(json.loads(row["tags"])),
            published_at=row["published_at"],
            related=tuple(json.loads(row["related"])),
            status=row["status"],
            image_url=row["image_url"],
            author=row["author"],
            language=row["language"],
        )
        return StoredArticle(
            key=row["key"],
            article=article,
            status=row["status"],
            content_hash=row["content_hash"],
            updated_at=row["updated_at"],
        )

    def get(self, article_id: str) -> StoredArticle:
        row = self._conn().execute("SELECT * FROM articles WHERE id = ?", (article_id,)).fetchone()
        if row is None:
            raise ArticleNotFound(article_id)
        return self._stored(row)

    def get_by_url(self, url: str) -> StoredArticle:
        row = self._conn().execute("SELECT * FROM articles WHERE url = ?", (url,)).fetchone()
        if row is None:
            raise ArticleNotFound(url)
        return self._stored(row)

    def by_keys(self, keys: Sequence[int]) -> dict[int, StoredArticle]:
        """Articles for the given keys (missing keys are simply absent from the result)."""
        found: dict[int, StoredArticle] = {}
        conn = self._conn()
        # SQLite caps the number of bound parameters; 500 is well under every build's limit.
        for start in range(0, len(keys), 500):
            chunk = [int(k) for k in keys[start : start + 500]]
            marks = ",".join("?" * len(chunk))
            for row in conn.execute(f"SELECT * FROM articles WHERE key IN ({marks})", chunk):
                found[row["key"]] = self._stored(row)
        return found

    def by_ids_or_urls(self, refs: Sequence[str]) -> dict[str, StoredArticle]:
        """Articles named by id or by URL, keyed by the reference as given (unknown ones are absent)."""
        found: dict[str, StoredArticle] = {}
        conn = self._conn()
        for start in range(0, len(refs), 250):
            chunk = list(refs[start : start + 250])
            marks = ",".join("?" * len(chunk))
            rows = conn.execute(
                f"SELECT * FROM articles WHERE id IN ({marks}) OR url IN ({marks})", chunk + chunk
            )
            for row in rows:
                stored = self._stored(row)
                for ref in (stored.id, stored.article.url):
                    if ref is not None and ref in chunk:
                        found[ref] = stored
        return found

    def lean_rows(self, sql_where: str = "", args: Sequence[object] = ()) -> list[Row]:
        """Rows without bodies (LEAN_COLUMNS): what the query side keeps in memory, read without
        paying for the text."""
        return self._conn().execute(f"SELECT {LEAN_COLUMNS} FROM articles {sql_where}", args).fetchall()

    def published_snapshot(self) -> tuple[int, list[Row]]:
        """The catalog's generation and every published article's lean row (by key), read in one
        read transaction: the build's view of the catalog, and the point the live view counts from."""
        with self.read_snapshot():
            generation = self.generation()
            rows = self.lean_rows("WHERE status = 'published' ORDER BY key")
        return generation, rows

    def changed_since(self, generation: int) -> tuple[list[Row], list[int]]:
        """Lean rows written after `generation`, and the keys deleted after it."""
        rows = self.lean_rows("WHERE changed_gen > ?", (generation,))
        deleted = [
            int(r[0])
            for r in self._conn().execute("SELECT key FROM deletions WHERE changed_gen > ?", (generation,))
        ]
        return rows, deleted

    def iter_all(self, status: Status | None = None) -> Iterator[StoredArticle]:
        conn = self._conn()
        if status is None:
            rows = conn.execute("SELECT * FROM articles ORDER BY key")
        else:
            rows = conn.execute("SELECT * FROM articles WHERE status = ? ORDER BY key", (status,))
        for row in rows:
            yield self._stored(row)

    def count(self, status: Status | None = None) -> int:
        conn = self._conn()
        if status is None:
            return int(conn.execute("SELECT COUNT(*) FROM articles").fetchone()[0])
        return int(conn.execute("SELECT COUNT(*) FROM articles WHERE status = ?", (status,)).fetchone()[0])

    # -- the embedding cache (recsys/catalog/embeddings.py) -------------------------------------------

    def cached_vectors(self, model: str, recipe: str, hashes: Iterable[str]) -> dict[str, np.ndarray]:
        return self.embeddings.cached_vectors(model, recipe, hashes)

    def store_vectors(self, model: str, recipe: str, items: Iterable[tuple[str, np.ndarray]]) -> None:
        self.embeddings.store_vectors(model, recipe, items)

    def add_vectors(self, model: str, recipe: str, chunks: Iterable[Iterable[tuple[str, np.ndarray]]]) -> int:
        return self.embeddings.add_vectors(model, recipe, chunks)

    @staticmethod
    def cache_identities(source: Path) -> dict[tuple[str, str, int], int]:
        return EmbeddingCache.cache_identities(source)

    def import_embeddings(self, source: Path) -> int:
        return self.embeddings.import_embeddings(source)

    # -- backup ------------------------------------------------------------------------------------

    def backup(self, dest: Path) -> int:
        """Write a consistent copy of the catalog (articles, pins, blocks, the embedding cache) to `dest`
        while it stays in use: SQLite's online backup API copies one committed snapshot, and writers
        go on meanwhile (WAL). The copy is checked, then renamed into place, so a failed backup never
        leaves half a file at `dest`. Returns the number of articles in the copy.

        A PostgreSQL catalog is the database server's to back up (ConfigError saying so)."""
        if self.path is None:
            raise ConfigError(
                f"{self.label} is a PostgreSQL catalog: back it up with pg_dump "
                "(pg_dump --format=custom URL > catalog.dump; docs/deployment.md)"
            )
        partial = dest.with_name(f".{dest.name}.{os.getpid()}.partial")
        try:
            with writing(dest):
                dest.parent.mkdir(parents=True, exist_ok=True)
                copy = sqlite3.connect(partial)
                try:
                    self._sqlite().backup(copy)
                    if copy.execute("PRAGMA quick_check").fetchone()[0] != "ok":
                        raise StorageError(f"the copy at {partial} fails SQLite's check; try again")
                    articles = int(copy.execute("SELECT COUNT(*) FROM articles").fetchone()[0])
                finally:
                    copy.close()
                fsync_path(partial)
                os.replace(partial, dest)
                fsync_path(dest.parent)
        except sqlite3.OperationalError as exc:
            raise sqlite_refusal(exc, dest) or StorageError(f"cannot write {dest}: {exc}") from exc
        finally:
            partial.unlink(missing_ok=True)
        return articles
