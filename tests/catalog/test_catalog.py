from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from recsys.articles import RecordResult, read_articles
from recsys.catalog import ingest
from recsys.catalog.ingest import import_file
from recsys.catalog.store import Catalog
from recsys.errors import (
    ArticleNotFound,
    CatalogBusy,
    ConfigError,
    InvalidArticle,
    InvalidInput,
    StorageError,
)
from recsys.settings import Settings
from tests.fakes import synthetic_records, write_jsonl


def test_import_is_idempotent_and_keys_are_stable(catalog: Catalog, corpus_file: Path) -> None:
    first = import_file(catalog, corpus_file)
    assert (first.counts.inserted, first.counts.updated, first.skipped) == (30, 0, 0)
    keys = {s.id: s.key for s in catalog.iter_all()}
    second = import_file(catalog, corpus_file)
    assert (second.counts.inserted, second.counts.updated, second.counts.unchanged) == (0, 0, 30)
    assert {s.id: s.key for s in catalog.iter_all()} == keys
    assert catalog.count() == 30


def test_edit_changes_content_hash_but_not_key(catalog: Catalog, tmp_path: Path) -> None:
    records = synthetic_records()
    import_file(catalog, write_jsonl(tmp_path / "a.jsonl", records))
    before = catalog.get("harbour-0")
    records[0] = {**records[0], "body": "entirely new text"}
    report = import_file(catalog, write_jsonl(tmp_path / "b.jsonl", records))
    after = catalog.get("harbour-0")
    assert report.counts.updated == 1 and report.counts.unchanged == 29
    assert after.key == before.key and after.content_hash != before.content_hash
    assert after.article.body == "entirely new text"


def test_bad_lines_are_skipped_and_counted_by_default(catalog: Catalog, tmp_path: Path) -> None:
    path = tmp_path / "mixed.jsonl"
    path.write_text('{"id": "a", "title": "A"}\n{"id": "b"}\n{oops\n{"id": "c", "title": "C"}\n')
    report = import_file(catalog, path)
    assert report.read == 4 and report.skipped == 2 and report.counts.inserted == 2
    assert f"{path}:2: field 'title'" in report.errors[0]
    assert f"{path}:3: field '<json>'" in report.errors[1]
    assert [s.id for s in catalog.iter_all()] == ["a", "c"]


def test_strict_import_writes_nothing_on_a_bad_line(catalog: Catalog, tmp_path: Path) -> None:
    path = tmp_path / "mixed.jsonl"
    path.write_text('{"id": "a", "title": "A"}\n{"id": "b", "title": "B", "tags": [3]}\n')
    with pytest.raises(InvalidArticle, match=":2: field 'tags'"):
        import_file(catalog, path, strict=True)
    assert catalog.count() == 0


@pytest.mark.sqlite_only
@pytest.mark.parametrize(("strict", "visible"), [(False, 20), (True, 0)])
def test_imports_commit_in_batches_unless_strict(
    catalog: Catalog, corpus_file: Path, monkeypatch: pytest.MonkeyPatch, strict: bool, visible: int
) -> None:
    """What another connection (the service) sees while record 25 of 30 is being imported: the
    batches committed so far, so it is never locked out for a whole file; strict stays all-or-nothing."""
    monkeypatch.setattr(ingest, "BATCH_RECORDS", 10)
    seen: list[int] = []

    def watched(path: Path) -> Iterator[RecordResult]:
        for number, result in read_articles(path):
            if number == 25:
                with sqlite3.connect(catalog.path) as other:
                    seen.append(other.execute("SELECT COUNT(*) FROM articles").fetchone()[0])
            yield number, result

    monkeypatch.setattr(ingest, "read_articles", watched)
    assert import_file(catalog, corpus_file, strict=strict).counts.inserted == 30
    assert seen == [visible] and catalog.count() == 30


def test_url_belongs_to_one_article(catalog: Catalog, tmp_path: Path) -> None:
    path = tmp_path / "urls.jsonl"
    path.write_text(
        '{"id": "a", "title": "A", "url": "https://x.example/1"}\n'
        '{"id": "b", "title": "B", "url": "https://x.example/1"}\n'
    )
    report = import_file(catalog, path)
    assert report.skipped == 1 and "already belongs to article 'a'" in report.errors[0]
    assert ":2: field 'url'" in report.errors[0]
    with pytest.raises(InvalidArticle):
        import_file(catalog, path, strict=True)
    assert catalog.get_by_url("https://x.example/1").id == "a"


def test_reimport_without_status_keeps_a_retraction(catalog: Catalog, corpus_file: Path) -> None:
    import_file(catalog, corpus_file)
    assert catalog.set_status("harbour-1", "retracted") is True
    assert catalog.set_status("harbour-1", "retracted") is False
    import_file(catalog, corpus_file)
    assert catalog.get("harbour-1").status == "retracted"
    assert catalog.count("published") == 29


def test_unknown_ids(catalog: Catalog) -> None:
    with pytest.raises(ArticleNotFound):
        catalog.get("nope")
    with pytest.raises(ArticleNotFound):
        catalog.set_status("nope", "retracted")


def test_empty_file_is_an_error(catalog: Catalog, tmp_path: Path) -> None:
    path = tmp_path / "empty.jsonl"
    path.write_text("\n")
    with pytest.raises(InvalidInput, match="no records"):
        import_file(catalog, path)


def test_embedding_cache_round_trip(catalog: Catalog) -> None:
    vec = np.arange(4, dtype=np.float32)
    catalog.store_vectors("m", "r", [("h1", vec)])
    assert set(catalog.cached_vectors("m", "r", ["h1", "h2"])) == {"h1"}
    np.testing.assert_array_equal(catalog.cached_vectors("m", "r", ["h1"])["h1"], vec)
    assert catalog.cached_vectors("other-model", "r", ["h1"]) == {}
    assert catalog.cached_vectors("m", "other-recipe", ["h1"]) == {}


def test_a_file_that_is_not_a_database_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "catalog.sqlite3"
    path.write_bytes(b"definitely not sqlite" * 100)
    with pytest.raises(ConfigError, match="not a usable catalog"):
        Catalog(path)


@pytest.mark.sqlite_only
def test_catalog_is_a_real_sqlite_file(catalog: Catalog, corpus_file: Path) -> None:
    import_file(catalog, corpus_file)
    with sqlite3.connect(catalog.path) as conn:
        assert conn.execute("SELECT COUNT(*) FROM articles").fetchone()[0] == 30


@pytest.mark.sqlite_only
def test_a_lock_past_the_busy_timeout_is_catalog_busy(catalog: Catalog, corpus_file: Path) -> None:
    import_file(catalog, corpus_file)
    impatient = Catalog(catalog.path, busy_timeout=0.05)
    with sqlite3.connect(catalog.path, isolation_level=None) as other:
        other.execute("BEGIN IMMEDIATE")  # an import holding the write lock
        started = time.perf_counter()
        with pytest.raises(CatalogBusy, match="try again in a moment"):
            impatient.set_status("harbour-1", "retracted")
        assert time.perf_counter() - started < 1
        assert impatient.get("harbour-1").status == "published"  # WAL: reads go on
        other.execute("ROLLBACK")
    assert impatient.set_status("harbour-1", "retracted")


@pytest.mark.sqlite_only
@pytest.mark.parametrize(
    ("pragma", "message"),
    [
        ("max_page_count = 1", "no space left on device while writing"),  # SQLite's own "disk full"
        ("query_only = ON", "cannot be written .read-only file system or no permission."),
    ],
)
def test_a_disk_that_refuses_writes_is_a_storage_error(
    catalog: Catalog, corpus_file: Path, pragma: str, message: str
) -> None:
    import_file(catalog, corpus_file)
    catalog.connection().execute(f"PRAGMA {pragma}")
    records = [{"id": f"new-{i}", "title": "x" * 5000} for i in range(50)]
    with pytest.raises(StorageError, match=message) as caught:
        import_file(catalog, write_jsonl(corpus_file.parent / "more.jsonl", records))
    assert str(catalog.path) in str(caught.value)
    assert catalog.count() == 30 and not catalog.connection().in_transaction  # rolled back, lock released


def test_text_sqlite_cannot_encode_is_invalid_input(catalog: Catalog) -> None:
    with pytest.raises(InvalidInput, match="lone surrogate"):
        catalog.get("\ud800")


def test_vectors_added_in_bulk_count_only_new_ones_all_or_nothing(catalog: Catalog, tmp_path: Path) -> None:
    vec = np.arange(4, dtype=np.float32)
    assert catalog.add_vectors("m", "r", [[("h1", vec), ("h2", vec)], [("h3", vec)]]) == 3
    assert catalog.add_vectors("m", "r", [[("h1", vec * 2), ("h4", vec)]]) == 1
    np.testing.assert_array_equal(catalog.cached_vectors("m", "r", ["h1"])["h1"], vec)  # kept

    def broken() -> Iterator[list[tuple[str, np.ndarray]]]:
        yield [("h5", vec)]
        raise InvalidInput("a corrupt file half-way")

    with pytest.raises(InvalidInput):
        catalog.add_vectors("m", "r", broken())
    assert set(catalog.cached_vectors("m", "r", ["h1", "h2", "h3", "h4", "h5"])) == {"h1", "h2", "h3", "h4"}

    other = Catalog(tmp_path / "other.sqlite3")
    other.store_vectors("m", "r", [("h1", vec), ("h6", vec * 3)])
    other.close()
    assert catalog.import_embeddings(tmp_path / "other.sqlite3") == 1
    np.testing.assert_array_equal(catalog.cached_vectors("m", "r", ["h6"])["h6"], vec * 3)


def test_another_catalog_sees_each_committed_batch_of_an_import(
    settings: Settings, catalog: Catalog, corpus_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The batches of an import as another process sees them, on either backend."""
    monkeypatch.setattr(ingest, "BATCH_RECORDS", 10)
    other = Catalog(settings.catalog_location)
    seen: list[int] = []

    def watched(path: Path) -> Iterator[RecordResult]:
        for number, result in read_articles(path):
            if number in (5, 25):
                seen.append(other.count())
            yield number, result

    monkeypatch.setattr(ingest, "read_articles", watched)
    import_file(catalog, corpus_file)
    assert seen == [0, 20] and other.count() == 30
    other.dispose()


def test_a_postgres_writer_lock_past_the_busy_timeout_is_catalog_busy(
    settings: Settings, catalog: Catalog, corpus_file: Path
) -> None:
    if not settings.catalog_is_postgres:
        pytest.skip("SQLite's lock: test_a_lock_past_the_busy_timeout_is_catalog_busy")
    import_file(catalog, corpus_file)
    impatient = Catalog(settings.catalog_location, busy_timeout=0.05)
    with catalog.transaction():  # an import holding the writers' lock
        started = time.perf_counter()
        with pytest.raises(CatalogBusy, match="try again in a moment"):
            impatient.set_status("harbour-1", "retracted")
        assert time.perf_counter() - started < 1
        assert impatient.get("harbour-1").status == "published"  # reads go on
    assert impatient.set_status("harbour-1", "retracted")
    impatient.dispose()
