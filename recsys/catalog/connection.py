"""What the catalog's modules use of a connection and of a row, on either backend.

A SQLite connection (sqlite3.Connection, sqlite3.Row) and a PostgreSQL one (recsys/catalog/postgres.py)
both fit, so the statements of recsys/catalog/ are written once.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Literal, Protocol

Dialect = Literal["sqlite", "postgresql"]


class Row(Protocol):
    """A result row, read by position or by column name."""

    def __getitem__(self, key: Any, /) -> Any: ...

    def keys(self) -> list[str]: ...


class Connection(Protocol):
    """A connection in autocommit: statements in the shared SQL, and the end of a transaction that a
    `BEGIN` opened (the catalog's `transaction()` and `read_snapshot()`)."""

    @property
    def in_transaction(self) -> bool: ...

    def execute(self, sql: str, parameters: Any = (), /) -> Any: ...

    def executemany(self, sql: str, parameters: Iterable[Any], /) -> Any: ...

    def commit(self) -> None: ...

    def rollback(self) -> None: ...
