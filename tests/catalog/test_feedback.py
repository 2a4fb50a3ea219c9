"""The readers' counters (recsys/catalog/feedback.py) on both backends: adding, reading with the
articles' sections and filters, all-or-nothing writes, and two writers adding up in one catalog."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pytest

from recsys.catalog.feedback import Count, add_counts, read_counts
from recsys.catalog.ingest import import_file
from recsys.catalog.schema import SCHEMA_VERSION
from recsys.catalog.store import Catalog
from recsys.errors import InvalidInput
from recsys.settings import Settings


def _count(day: str = "2026-12-07", article: str = "harbour-0", position: int = 0, **more: object) -> Count:
    fields: dict[str, object] = {
        "block": "related",
        "experiment": "",
        "arm": "default",
        "impressions": 1,
        "clicks": 0,
    } | more
    return Count(day=day, article=article, position=position, **fields)  # type: ignore[arg-type]


def test_counts_add_up_and_carry_the_section(catalog: Catalog, corpus_file: Path) -> None:
    import_file(catalog, corpus_file, strict=True)
    add_counts(catalog, [_count(impressions=3), _count(impressions=2, clicks=1), _count(position=1)])
    add_counts(catalog, [_count(impressions=5, clicks=2), _count(article="gone", clicks=1, impressions=0)])
    rows = read_counts(catalog)
    assert [(r.article, r.position, r.impressions, r.clicks) for r in rows] == [
        ("gone", 0, 0, 1),
        ("harbour-0", 0, 10, 3),
        ("harbour-0", 1, 1, 0),
    ]
    section = catalog.get("harbour-0").article.section
    assert rows[1].section == section and rows[0].section is None  # LEFT JOIN: unknown kept
    assert rows[1] == _count(impressions=10, clicks=3, section=section)


def test_filters_by_day_and_experiment(catalog: Catalog) -> None:
    add_counts(
        catalog,
        [
            _count(day="2026-12-01"),
            _count(day="2026-12-02", experiment="fusion-test", arm="control"),
            _count(day="2026-12-03", experiment="fusion-test", arm="fusion"),
            _count(day="2026-12-04"),
        ],
    )
    days = [r.day for r in read_counts(catalog, since="2026-12-02", until="2026-12-03")]
    assert days == ["2026-12-02", "2026-12-03"]  # both bounds inclusive
    assert [r.arm for r in read_counts(catalog, experiment="fusion-test")] == ["control", "fusion"]
    assert [r.day for r in read_counts(catalog, experiment="")] == ["2026-12-01", "2026-12-04"]
    assert [r.day for r in read_counts(catalog, since="2026-12-04")] == ["2026-12-04"]
    with pytest.raises(InvalidInput, match="not a day"):
        read_counts(catalog, since="yesterday")


def test_a_failed_batch_adds_nothing(catalog: Catalog) -> None:
    add_counts(catalog, [_count(impressions=1)])
    with pytest.raises(InvalidInput):
        add_counts(catalog, [_count(impressions=4), _count(position=2, clicks=-1)])
    with pytest.raises(InvalidInput):  # text the catalog cannot hold: the whole batch is refused
        add_counts(catalog, [_count(position=3, impressions=7), _count(article="bad\ud800")])
    assert [(r.position, r.impressions) for r in read_counts(catalog)] == [(0, 1)]
    add_counts(catalog, [])
    assert len(read_counts(catalog)) == 1


def test_two_writers_add_up(settings: Settings, catalog: Catalog) -> None:
    """Two catalogs on one database (two workers, or two replicas on PostgreSQL), each adding the
    same slots many times at once: nothing is lost."""
    rounds = 40
    errors: list[BaseException] = []

    def writer(offset: int) -> None:
        own = Catalog(settings.catalog_location)
        try:
            for n in range(rounds):
                # Keys in both orders: writers that locked row by row could deadlock.
                positions = range(5) if (n + offset) % 2 else range(4, -1, -1)
                add_counts(own, [_count(position=p, impressions=1, clicks=n % 2) for p in positions])
        except BaseException as exc:
            errors.append(exc)
        finally:
            own.dispose()

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    rows = read_counts(catalog)
    assert [(r.position, r.impressions, r.clicks) for r in rows] == [
        (p, 2 * rounds, rounds) for p in range(5)
    ]


@pytest.mark.sqlite_only
def test_a_schema_4_catalog_gains_the_table(settings: Settings, tmp_path: Path) -> None:
    path = settings.catalog_file
    Catalog(path).dispose()
    with sqlite3.connect(path) as raw:
        raw.execute("DROP TABLE event_counts")
        raw.execute("ALTER TABLE articles DROP COLUMN language")  # schema 6's: a schema 4 has none
        raw.execute("UPDATE meta SET value = '4' WHERE name = 'schema_version'")
    catalog = Catalog(path)
    add_counts(catalog, [_count()])
    assert len(read_counts(catalog)) == 1
    with sqlite3.connect(path) as raw:
        assert raw.execute("SELECT value FROM meta WHERE name = 'schema_version'").fetchone() == (
            str(SCHEMA_VERSION),
        )
    catalog.dispose()
