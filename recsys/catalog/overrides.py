"""Editorial overrides, stored in the catalog and applied at query time (so they act with no rebuild):

* pins: an ordered list of manual picks for one article, shown before the automatic results;
* blocks: never show a target under one article (`scope` = that article) or anywhere (global), each
  with an optional expiry after which it no longer applies.

Every change bumps the catalog's overrides generation, which the service puts into its ETags. The
query side does not read these tables per request: it holds every pin and block in memory, read by
`pin_map` and `block_map` whenever the generation moves (recsys/catalog/changes.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from recsys.articles import UNENCODABLE, encodable, format_timestamp, parse_timestamp, to_utc
from recsys.catalog.connection import Connection
from recsys.catalog.store import Catalog
from recsys.errors import InvalidInput, InvalidTimestamp

GLOBAL = ""
MAX_PINS = 50


@dataclass(frozen=True)
class Block:
    target_id: str
    article_id: str | None  # None: a global block
    expires_at: str | None
    created_at: str

    def active(self, now: datetime) -> bool:
        return self.expires_at is None or parse_timestamp(self.expires_at) > now


@dataclass(frozen=True)
class Pin:
    article_id: str
    target_id: str
    position: int


def _check_text(ids: list[str]) -> None:
    if not all(encodable(i) for i in ids):
        raise InvalidInput(f"article id {UNENCODABLE}")


def _stamp(now: datetime | None = None) -> str:
    return format_timestamp(now or datetime.now(UTC))


# scope (GLOBAL or an article id) -> (blocked key, expires_at as stored or None) for each block
BlockMap = dict[str, tuple[tuple[int, str | None], ...]]


def pin_map(conn: Connection) -> dict[str, tuple[int, ...]]:
    """Every article's pins as catalog keys, in their order."""
    found: dict[str, list[int]] = {}
    rows = conn.execute(
        "SELECT p.article_id, a.key FROM pins p JOIN articles a ON a.id = p.target_id "
        "ORDER BY p.article_id, p.position"
    )
    for article_id, key in rows:
        found.setdefault(article_id, []).append(int(key))
    return {article_id: tuple(keys) for article_id, keys in found.items()}


def block_map(conn: Connection) -> BlockMap:
    """Every block (expired ones included) as catalog keys, by scope."""
    found: dict[str, list[tuple[int, str | None]]] = {}
    rows = conn.execute(
        "SELECT b.scope, b.expires_at, a.key FROM blocks b JOIN articles a ON a.id = b.target_id"
    ).fetchall()
    for scope, expires, key in rows:
        found.setdefault(scope, []).append((int(key), expires or None))
    return {scope: tuple(entries) for scope, entries in found.items()}


class Overrides:
    """Pins and blocks of one catalog. Ids are checked against the catalog when written."""

    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog

    # -- pins ------------------------------------------------------------------------------------

    def set_pins(self, article_id: str, targets: list[str]) -> list[str]:
        """Replace the article's pins with `targets`, in that order; returns the stored list."""
        _check_text([article_id, *targets])
        ordered = list(dict.fromkeys(t.strip() for t in targets if t.strip()))
        if article_id in ordered:
            raise InvalidInput(f"an article cannot be pinned under itself: {article_id!r}")
        if len(ordered) > MAX_PINS:
            raise InvalidInput(f"at most {MAX_PINS} pins per article, got {len(ordered)}")
        self.catalog.get(article_id)
        self._require(ordered)
        with self.catalog.transaction() as conn:
            conn.execute("DELETE FROM pins WHERE article_id = ?", (article_id,))
            conn.executemany(
                "INSERT INTO pins VALUES (?, ?, ?, ?)",
                [(article_id, target, n, _stamp()) for n, target in enumerate(ordered)],
            )
            self.catalog.bump_generation(conn)
        return ordered

    def add_pins(self, article_id: str, targets: list[str]) -> list[str]:
        """Append targets to the article's pins (already pinned ones keep their place)."""
        return self.set_pins(article_id, [*self.pins(article_id), *targets])

    def unpin(self, article_id: str, targets: list[str] | None = None) -> int:
        """Remove the given pins (all of the article's pins when `targets` is None); returns how many."""
        with self.catalog.transaction() as conn:
            if targets is None:
                removed = conn.execute("DELETE FROM pins WHERE article_id = ?", (article_id,)).rowcount
            else:
                removed = sum(
                    conn.execute(
                        "DELETE FROM pins WHERE article_id = ? AND target_id = ?", (article_id, t)
                    ).rowcount
                    for t in targets
                )
            if removed:
                self.catalog.bump_generation(conn)
        return int(removed)

    def pins(self, article_id: str) -> list[str]:
        rows = self.catalog.connection().execute(
            "SELECT target_id FROM pins WHERE article_id = ? ORDER BY position", (article_id,)
        )
        return [row[0] for row in rows]

    def all_pins(self, article_id: str | None = None) -> list[Pin]:
        sql = "SELECT article_id, target_id, position FROM pins"
        args: tuple[str, ...] = ()
        if article_id is not None:
            sql, args = sql + " WHERE article_id = ?", (article_id,)
        rows = self.catalog.connection().execute(sql + " ORDER BY article_id, position", args)
        return [Pin(row[0], row[1], int(row[2])) for row in rows]

    # -- blocks ----------------------------------------------------------------------------------

    def block(self, target_id: str, *, under: str | None = None, expires_at: datetime | None = None) -> Block:
        """Never show `target_id` under article `under` (or anywhere when None), until `expires_at`."""
        _check_text([target_id] if under is None else [target_id, under])
        if under is not None and under == target_id:
            raise InvalidInput("an article is never shown under itself; no block needed")
        if expires_at is not None:
            # Far-future expiries ("2999-01-01") are a common way to say "for good": only times a
            # datetime cannot hold in UTC are refused here, not implausible years.
            try:
                expires_at = to_utc(expires_at)
            except InvalidTimestamp as exc:
                raise InvalidInput(f"expires_at: {exc}") from exc
        if expires_at is not None and expires_at <= datetime.now(UTC):
            raise InvalidInput(f"expiry {format_timestamp(expires_at)} is in the past")
        self._require([target_id] if under is None else [target_id, under])
        block = Block(
            target_id=target_id,
            article_id=under,
            expires_at=format_timestamp(expires_at) if expires_at is not None else None,
            created_at=_stamp(),
        )
        with self.catalog.transaction() as conn:
            conn.execute(
                "INSERT INTO blocks VALUES (?, ?, ?, ?) ON CONFLICT (scope, target_id) "
                "DO UPDATE SET expires_at = excluded.expires_at, created_at = excluded.created_at",
                (under or GLOBAL, target_id, block.expires_at, block.created_at),
            )
            self.catalog.bump_generation(conn)
        return block

    def unblock(self, target_id: str, *, under: str | None = None) -> bool:
        with self.catalog.transaction() as conn:
            removed = conn.execute(
                "DELETE FROM blocks WHERE scope = ? AND target_id = ?", (under or GLOBAL, target_id)
            ).rowcount
            if removed:
                self.catalog.bump_generation(conn)
        return bool(removed)

    def blocks(self, article_id: str | None = None) -> list[Block]:
        """All stored blocks (expired ones included), or those that apply under `article_id`."""
        conn = self.catalog.connection()
        if article_id is None:
            rows = conn.execute("SELECT * FROM blocks ORDER BY scope, target_id").fetchall()
        else:
            rows = conn.execute(
                "SELECT * FROM blocks WHERE scope IN (?, ?) ORDER BY scope, target_id", (GLOBAL, article_id)
            ).fetchall()
        return [
            Block(row["target_id"], row["scope"] or None, row["expires_at"], row["created_at"])
            for row in rows
        ]

    def blocked_ids(self, article_id: str | None, now: datetime) -> set[str]:
        """Targets that must not be shown under `article_id` (a draft: None, global blocks only)."""
        return {b.target_id for b in self.blocks(article_id or GLOBAL) if b.active(now)}

    def _require(self, ids: list[str]) -> None:
        found = self.catalog.by_ids_or_urls(ids)
        missing = [i for i in ids if i not in found or found[i].id != i]
        if missing:
            raise InvalidInput(f"unknown article id(s): {', '.join(repr(m) for m in missing)}")
