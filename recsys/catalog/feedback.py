"""Readers' impressions and clicks, stored as counters in the catalog (the `event_counts` table).

One row per (day, article, block, position, experiment, arm) holds how many impressions and clicks
that slot had; raw events are never stored here. The service aggregates events in memory and adds
its totals with `add_counts` every few seconds (service/events.py): an UPSERT that adds to what is
stored, so every worker and every replica sharing a PostgreSQL catalog adds up into the same rows.
Reports read them with `read_counts` (recsys/evaluation/clicks.py, cli/report.py).

`day` is the UTC day of the event, `YYYY-MM-DD`; `article` the page's article (the list's subject);
`experiment` is "" and `arm` "default" outside experiments.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from recsys.catalog.store import Catalog
from recsys.errors import InvalidInput

_ADD = (
    "INSERT INTO event_counts (day, article, block, position, experiment, arm, impressions, clicks) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (day, article, block, position, experiment, arm) "
    "DO UPDATE SET impressions = event_counts.impressions + excluded.impressions, "
    "clicks = event_counts.clicks + excluded.clicks"
)
_READ = (
    "SELECT c.day, c.article, c.block, c.position, c.experiment, c.arm, c.impressions, c.clicks, "
    "a.section FROM event_counts c LEFT JOIN articles a ON a.id = c.article"
)
_ORDER = " ORDER BY c.day, c.article, c.block, c.position, c.experiment, c.arm"

Key = tuple[str, str, str, int, str, str]


@dataclass(frozen=True)
class Count:
    day: str
    article: str
    block: str
    position: int
    experiment: str
    arm: str
    impressions: int
    clicks: int
    section: str | None = None  # the article's section when read (None: unknown or deleted)

    @property
    def key(self) -> Key:
        return (self.day, self.article, self.block, self.position, self.experiment, self.arm)


def add_counts(catalog: Catalog, counts: Iterable[Count]) -> None:
    """Add `counts` to the stored counters, all in one transaction (none on failure, so a caller that
    keeps them can add them again). Counts with the same key are summed first; keys are written in
    order, so concurrent writers never wait on each other in a cycle."""
    merged: dict[Key, list[int]] = {}
    for count in counts:
        if count.impressions < 0 or count.clicks < 0:
            raise InvalidInput(f"negative count for {count.key!r}")
        totals = merged.setdefault(count.key, [0, 0])
        totals[0] += count.impressions
        totals[1] += count.clicks
    rows = [
        (*key, impressions, clicks)
        for key, (impressions, clicks) in sorted(merged.items())
        if impressions or clicks
    ]
    if not rows:
        return
    with catalog.transaction() as conn:
        conn.executemany(_ADD, rows)


def _day(name: str, value: str | None) -> str | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value).isoformat()
    except ValueError as exc:
        raise InvalidInput(f"{name}: {value!r} is not a day (YYYY-MM-DD)") from exc


def read_counts(
    catalog: Catalog, *, since: str | None = None, until: str | None = None, experiment: str | None = None
) -> list[Count]:
    """The stored counters, with each article's section; `since` and `until` are inclusive days
    (YYYY-MM-DD), `experiment` one experiment's rows ("" for those outside any)."""
    where: list[str] = []
    args: list[str] = []
    for clause, value in (
        ("c.day >= ?", _day("since", since)),
        ("c.day <= ?", _day("until", until)),
        ("c.experiment = ?", experiment),
    ):
        if value is not None:
            where.append(clause)
            args.append(value)
    sql = _READ + (" WHERE " + " AND ".join(where) if where else "") + _ORDER
    rows = catalog.connection().execute(sql, args).fetchall()
    return [
        Count(
            day=row[0],
            article=row[1],
            block=row[2],
            position=int(row[3]),
            experiment=row[4],
            arm=row[5],
            impressions=int(row[6]),
            clicks=int(row[7]),
            section=row[8],
        )
        for row in rows
    ]
