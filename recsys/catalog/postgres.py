"""The PostgreSQL catalog's connections: a psycopg 3 pool, the SQL the catalog shares with SQLite.

The catalog's statements are written once, in the SQL both servers accept (`?` and `:name`
parameters, `INSERT ... ON CONFLICT`, `UPDATE ... RETURNING`); `PgConnection` runs them on
PostgreSQL by rewriting the parameter marks, and gives rows that read by position and by column
name, as sqlite3.Row does. So recsys/catalog/ has one set of statements and two small connection
layers, not two catalogs. PostgreSQL's refusals become the same domain errors as SQLite's: a lock or
an unreachable server past the busy timeout is CatalogBusy, text it cannot store is InvalidInput.

psycopg is imported here only, and only when a `postgresql://` catalog is opened: the SQLite
default needs neither it nor a server.
"""

from __future__ import annotations

import functools
import re
import threading
import weakref
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

from recsys.articles import UNENCODABLE
from recsys.errors import CatalogBusy, ConfigError, InvalidInput, RecsysError, StorageError
from recsys.settings import POSTGRES_SCHEMES

if TYPE_CHECKING:
    import psycopg
    from psycopg_pool import ConnectionPool

# Writers take this transaction-scoped advisory lock first, so catalog writes run one at a time as
# they do on SQLite (BEGIN IMMEDIATE): an upsert's read-then-write needs no retry loop, and
# generations are bumped and committed in order. 0x7265637379 is "recsy".
WRITE_LOCK = 0x7265637379
# Held for a whole build, by a connection of the build's own (a session lock): one build at a time
# across every host that shares the catalog. PostgreSQL releases it when that connection ends, a
# killed build's included. "recsb".
BUILD_LOCK = 0x7265637362
# Every write transaction ends with a notification on this channel, its payload the generation the
# transaction leaves (recsys/catalog/changes.py, NotifiedGeneration). PostgreSQL delivers it only if
# the transaction commits: a notification means committed.
CHANGES_CHANNEL = "recsys_changes"
NOTIFY_GENERATION = (
    f"SELECT pg_notify('{CHANGES_CHANNEL}', value) FROM meta WHERE name = 'overrides_generation'"
)


def is_postgres_url(location: object) -> bool:
    return isinstance(location, str) and location.startswith(POSTGRES_SCHEMES)


def redacted(url: str) -> str:
    """The URL without its password, for messages and logs."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.netloc.rsplit("@", 1)[1]
    return urlunsplit(parts._replace(netloc=f"{parts.username}:***@{host}"))


# A string literal (kept as is), a `?` mark, a `:name` mark (not a `::` cast), or a `%` to escape.
_TOKENS = re.compile(r"'(?:[^']|'')*'|\?|(?<!:):([A-Za-z_]\w*)|%")


@functools.lru_cache(maxsize=512)
def to_pyformat(sql: str) -> str:
    """The statement with SQLite's parameter marks as psycopg's (`?` -> `%s`, `:id` -> `%(id)s`)."""

    def mark(match: re.Match[str]) -> str:
        token = match.group(0)
        if token == "?":
            return "%s"
        if token == "%":
            return "%%"
        if match.group(1) is not None:
            return f"%({match.group(1)})s"
        return token

    return _TOKENS.sub(mark, sql)


class Row(tuple[Any, ...]):
    """A result row read by position or by column name, like sqlite3.Row."""

    _names: dict[str, int]

    def __new__(cls, values: Sequence[Any], names: dict[str, int]) -> Row:
        row = super().__new__(cls, values)
        row._names = names
        return row

    def __getitem__(self, key: Any) -> Any:  # type: ignore[override]
        if isinstance(key, str):
            return super().__getitem__(self._names[key])
        return super().__getitem__(key)

    def keys(self) -> list[str]:
        return list(self._names)


def _row_factory(cursor: Any) -> Any:
    names = {column.name: n for n, column in enumerate(cursor.description or ())}
    return lambda values: Row(values, names)


class PgCursor:
    """A cursor over one statement's result (rows as `Row`)."""

    def __init__(self, cursor: psycopg.Cursor[Any]) -> None:
        self._cursor = cursor
        self.rowcount = cursor.rowcount

    def fetchone(self) -> Any:
        return self._cursor.fetchone() if self._cursor.description else None

    def fetchall(self) -> list[Any]:
        return self._cursor.fetchall() if self._cursor.description else []

    def fetchmany(self, size: int) -> list[Any]:
        return self._cursor.fetchmany(size) if self._cursor.description else []

    def __iter__(self) -> Iterator[Any]:
        return iter(self.fetchall())


class PgConnection:
    """One pooled connection, in autocommit: the catalog opens its transactions with explicit BEGINs,
    as it does on SQLite. Every statement goes through `execute`, where PostgreSQL's refusals become
    domain errors."""

    def __init__(self, conn: psycopg.Connection[Any], label: str, on_broken: Callable[[], None]) -> None:
        self.raw = conn
        self.label = label
        self._on_broken = on_broken

    @property
    def in_transaction(self) -> bool:
        from psycopg.pq import TransactionStatus

        return bool(self.raw.info.transaction_status != TransactionStatus.IDLE)

    @contextmanager
    def _refusals(self) -> Iterator[None]:
        """`refusals`, and a connection the server dropped (a restart, a failover) goes back to the
        pool, which discards it: the thread's next statement gets a fresh one."""
        try:
            with refusals(self.label):
                yield
        finally:
            if self.raw.broken or self.raw.closed:
                self._on_broken()

    def execute(self, sql: str, parameters: Any = ()) -> PgCursor:
        with self._refusals():
            cursor = self.raw.cursor(row_factory=_row_factory)
            # Parameters always given, even none: psycopg then reads `%%` as the `%` it escapes.
            cursor.execute(to_pyformat(sql), parameters)
            return PgCursor(cursor)

    def executemany(self, sql: str, parameters: Iterable[Any]) -> PgCursor:
        with self._refusals():
            cursor = self.raw.cursor(row_factory=_row_factory)
            cursor.executemany(to_pyformat(sql), list(parameters))
            return PgCursor(cursor)

    def execute_pipelined(self, statements: Sequence[tuple[str, Any]]) -> None:
        """Run statements in order without waiting for each one's answer (psycopg's pipeline mode):
        one round trip for a batch of writes whose results nobody reads."""
        with self._refusals(), self.raw.pipeline(), self.raw.cursor() as cursor:
            for sql, parameters in statements:
                cursor.execute(to_pyformat(sql), parameters)

    def copy_rows(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        """COPY ... FROM STDIN: the bulk path, one round trip for many rows."""
        with self._refusals(), self.raw.cursor() as cursor, cursor.copy(sql) as copy:
            for row in rows:
                copy.write_row(row)

    def insert_new(self, table: str, rows: Sequence[Sequence[Any]]) -> int:
        """Insert the rows whose key `table` does not hold yet, through COPY into a temporary twin of
        the table and one INSERT ... SELECT: one round trip per batch instead of one per row (the bulk
        path of the embedding cache: a backfill adds millions). Inside the caller's transaction;
        returns the rows added."""
        if not rows:
            return 0
        staging = f"{table}_incoming"
        self.execute(f"CREATE TEMPORARY TABLE IF NOT EXISTS {staging} (LIKE {table}) ON COMMIT DELETE ROWS")
        self.copy_rows(f"COPY {staging} FROM STDIN", rows)
        added = self.execute(f"INSERT INTO {table} SELECT * FROM {staging} ON CONFLICT DO NOTHING").rowcount
        self.execute(f"DELETE FROM {staging}")
        return int(added)

    def commit(self) -> None:
        self.execute("COMMIT")

    def rollback(self) -> None:
        if not (self.raw.closed or self.raw.broken):  # a dropped connection has nothing to roll back
            with self._refusals():
                self.raw.execute("ROLLBACK")


@contextmanager
def refusals(label: str) -> Iterator[None]:
    import psycopg
    from psycopg import errors
    from psycopg_pool import PoolTimeout

    try:
        yield
    except (errors.LockNotAvailable, errors.QueryCanceled) as exc:
        raise CatalogBusy(
            "the catalog is busy: another writer holds its lock past the busy timeout; try again in a moment"
        ) from exc
    except (PoolTimeout, psycopg.OperationalError) as exc:
        reason = _first_line(exc)
        raise CatalogBusy(f"the catalog server {label} cannot be reached ({reason}); try again") from exc
    except errors.DiskFull as exc:
        raise StorageError(f"the catalog server {label} is out of disk space") from exc
    except (psycopg.DataError, UnicodeEncodeError) as exc:
        # NUL characters and lone surrogates: PostgreSQL's text cannot hold them.
        raise InvalidInput(f"text {UNENCODABLE}") from exc


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]


class _Held:
    """A thread's connection, returned to the pool when the thread ends (its locals are freed)."""

    def __init__(
        self,
        pool: ConnectionPool[Any],
        conn: psycopg.Connection[Any],
        label: str,
        on_broken: Callable[[], None],
    ) -> None:
        self.conn = PgConnection(conn, label, on_broken)
        self.release = weakref.finalize(self, _give_back, pool, conn)


def _give_back(pool: ConnectionPool[Any], conn: psycopg.Connection[Any]) -> None:
    if pool.closed:
        conn.close()
    else:
        pool.putconn(conn)


class PgEngine:
    """The pool of one PostgreSQL catalog. Each thread holds one connection while it uses the
    catalog (as each holds its own SQLite connection) and gives it back with `release`, or when it
    ends. `busy_timeout` bounds the wait for another writer's lock; the wait for a pooled connection
    is never under a second, since opening one on a loaded host can take longer than a short lock
    timeout and a server that is merely slow to fork a backend is not busy."""

    def __init__(self, url: str, *, busy_timeout: float, max_size: int = 32) -> None:
        try:
            import psycopg  # noqa: F401
            from psycopg_pool import ConnectionPool
        except ImportError as exc:
            raise ConfigError(
                "a postgresql:// catalog needs psycopg: pip install 'recsys[postgres]'"
            ) from exc
        self.label = redacted(url)
        self._url = url
        self._connect_timeout = max(1, int(busy_timeout))
        lock_ms = max(1, int(busy_timeout * 1000))

        def configure(conn: psycopg.Connection[Any]) -> None:
            conn.execute(f"SET lock_timeout = {lock_ms}")
            conn.execute("SET TIME ZONE 'UTC'")

        self.pool: ConnectionPool[Any] = ConnectionPool(
            url,
            min_size=0,
            max_size=max_size,
            kwargs={"autocommit": True, "connect_timeout": self._connect_timeout},
            configure=configure,
            check=ConnectionPool.check_connection,
            timeout=max(busy_timeout, float(self._connect_timeout)),
            open=False,
            name="recsys-catalog",
        )
        with refusals(self.label):
            self.pool.open(wait=False)
        self._local = threading.local()

    def connection(self) -> PgConnection:
        held: _Held | None = getattr(self._local, "held", None)
        if held is None:
            with refusals(self.label):
                raw = self.pool.getconn()
            held = _Held(self.pool, raw, self.label, self.release)
            self._local.held = held
        return held.conn

    def release(self) -> None:
        """Give this thread's connection back to the pool (rolled back if a transaction was left open)."""
        held: _Held | None = getattr(self._local, "held", None)
        if held is not None:
            self._local.held = None
            held.release()

    def close(self) -> None:
        self.release()
        self.pool.close()

    @contextmanager
    def session_lock(self, key: int, taken: Callable[[], RecsysError]) -> Iterator[None]:
        """Hold advisory lock `key` on a connection of its own (outside the pool) for the block;
        `taken()` is raised when another session holds it. Released by closing the connection."""
        import psycopg

        with refusals(self.label):
            conn = psycopg.connect(self._url, autocommit=True, connect_timeout=self._connect_timeout)
        try:
            with refusals(self.label):
                row = conn.execute("SELECT pg_try_advisory_lock(%s)", (key,)).fetchone()
            if not (row and row[0]):
                raise taken()
            yield
        finally:
            conn.close()

    def listener(self) -> PgListener:
        return PgListener(self._url, self.label, self._connect_timeout)


class PgListener:
    """A connection of its own, outside the pool, that LISTENs on CHANGES_CHANNEL: a pooled one goes
    back to the pool between uses, and its LISTEN with it. A dropped connection (a restart, a
    failover, the server killed) is closed, and the next `wait` connects again."""

    def __init__(self, conninfo: str, label: str, connect_timeout: int) -> None:
        self.conninfo = conninfo
        self.label = label
        self.connect_timeout = connect_timeout
        self._conn: psycopg.Connection[Any] | None = None

    def connect(self) -> bool:
        """Connect and LISTEN, if not connected; returns whether it connected now (the caller then
        reads the generation: what was committed while it was not listening)."""
        if self._conn is not None and not (self._conn.closed or self._conn.broken):
            return False
        import psycopg

        self.close()
        with refusals(self.label):
            conn = psycopg.connect(self.conninfo, autocommit=True, connect_timeout=self.connect_timeout)
            conn.execute(f"LISTEN {CHANGES_CHANNEL}")
        self._conn = conn
        return True

    def wait(self, timeout: float) -> int | None:
        """The generation the first notification within `timeout` seconds carries; None when none came."""
        self.connect()
        assert self._conn is not None
        try:
            with refusals(self.label):
                for notify in self._conn.notifies(timeout=timeout, stop_after=1):
                    return int(notify.payload)
        except RecsysError:
            self.close()
            raise
        return None

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None


def unusable(exc: BaseException, label: str) -> RecsysError:
    return ConfigError(f"{label}: not a usable catalog database ({_first_line(exc)})")
