"""A PostgreSQL catalog imports in batches (recsys/catalog/bulk.py): the same rows, keys, generations,
counts and refusals as the one-article-at-a-time upsert of a SQLite catalog, record for record."""

from __future__ import annotations

from pathlib import Path

import pytest

from recsys.catalog import ingest
from recsys.catalog.ingest import ImportReport, import_file
from recsys.catalog.store import Catalog
from tests.fakes import write_jsonl
from tests.postgres import PostgresServer

FIRST = [
    {"id": "a", "title": "A", "url": "https://x.example/1"},
    {"id": "b", "title": "B", "url": "https://x.example/1"},  # a holds it: refused
    {"id": "a", "title": "A", "url": "https://x.example/2"},  # a moves off /1 ...
    {"id": "b", "title": "B", "url": "https://x.example/1"},  # ... so b may take it
    {"id": "c", "title": ""},  # invalid
    {"id": "a", "title": "A", "url": "https://x.example/2"},  # unchanged
    {"id": "d", "title": "D", "status": "retracted"},
    {"id": "b", "title": "B, edited", "url": "https://x.example/1", "tags": ["t"]},
    {"id": "e", "title": "E", "url": "https://x.example/3"},
]
SECOND = [
    {"id": "d", "title": "D"},  # no status: stays retracted
    {"id": "e", "title": "E", "url": "https://x.example/2"},  # a holds it
    {"id": "a", "title": "A", "url": "https://x.example/4", "section": "s"},
    {"id": "e", "title": "E", "url": "https://x.example/2"},  # free now
    {"id": "g", "title": "G", "url": "https://x.example/3"},  # e left it
]


def _state(catalog: Catalog, reports: list[ImportReport]) -> tuple[object, ...]:
    rows = catalog.connection().execute(
        "SELECT key, id, url, title, tags, section, status, content_hash, changed_gen FROM articles "
        "ORDER BY key"
    )
    seen = [(r.counts, r.read, r.skipped, r.rejected_lines) for r in reports]
    return [tuple(row) for row in rows], catalog.generation(), seen


@pytest.mark.parametrize("batch", [3, 1000])
def test_batches_write_what_one_by_one_writes(
    postgres_server: PostgresServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, batch: int
) -> None:
    monkeypatch.setattr(ingest, "BATCH_RECORDS", batch)
    first = write_jsonl(tmp_path / "first.jsonl", FIRST)
    second = write_jsonl(tmp_path / "second.jsonl", SECOND)
    url = postgres_server.fresh_url()
    Catalog.migrate(url)
    states = []
    for catalog in (Catalog(tmp_path / "catalog.sqlite3"), Catalog(url)):
        reports = [import_file(catalog, first), import_file(catalog, second)]
        states.append(_state(catalog, reports))
        catalog.dispose()
    sqlite, postgres = states
    assert postgres == sqlite
    assert [row[1] for row in sqlite[0]] == ["a", "b", "d", "e", "g"]
    assert sqlite[2][0][3] == [2, 5]  # the URL clash and the invalid record, by line


def test_text_with_a_nul_is_one_refused_record_on_postgres(
    postgres_server: PostgresServer, tmp_path: Path
) -> None:
    """SQLite stores a NUL character; PostgreSQL's text cannot: the record is skipped and named,
    and the rest of its batch is written."""
    url = postgres_server.fresh_url()
    Catalog.migrate(url)
    catalog = Catalog(url)
    records = [{"id": "f", "title": "F", "body": "a NUL \x00 inside"}, {"id": "g", "title": "G"}]
    report = import_file(catalog, write_jsonl(tmp_path / "nul.jsonl", records))
    assert report.counts.inserted == 1 and report.rejected_lines == [1] and "NUL" in report.errors[0]
    assert catalog.get("g").key == 1
    catalog.dispose()
