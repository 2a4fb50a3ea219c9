from __future__ import annotations

import gzip
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from recsys.articles import Article, format_timestamp, parse_timestamp, plausible_timestamp, read_articles
from recsys.errors import InvalidArticle, InvalidInput


def _results(path: Path) -> list[Article | InvalidArticle]:
    return [result for _, result in read_articles(path)]


def test_reads_jsonl_and_normalises_fields(tmp_path: Path) -> None:
    path = tmp_path / "a.jsonl"
    path.write_text(
        json.dumps(
            {
                "id": 42,
                "url": "https://x.example/a",
                "title": "  Title  ",
                "body": "Body",
                "section": "politics",
                "tags": ["a", "a", " b ", ""],
                "published_at": "2026-03-01T10:00:00+02:00",
                "related": ["7", "42"],
                "authors": "Someone",
            }
        )
        + "\n\n"
    )
    [article] = _results(path)
    assert isinstance(article, Article)
    assert article.id == "42"
    assert article.title == "Title"
    assert article.tags == ("a", "b")
    assert article.published_at == "2026-03-01T08:00:00Z"
    assert article.related == ("7",)  # a self-link is dropped
    assert article.status is None
    assert article.extra == {"authors": "Someone"}


def test_reads_gzip_and_csv_with_same_columns(tmp_path: Path) -> None:
    gz = tmp_path / "a.jsonl.gz"
    with gzip.open(gz, "wt") as handle:
        handle.write(json.dumps({"id": "g1", "title": "T", "published_at": "2022-09-23"}) + "\n")
    [from_gz] = _results(gz)
    assert isinstance(from_gz, Article) and from_gz.published_at == "2022-09-23T00:00:00Z"

    csv_path = tmp_path / "a.csv"
    csv_path.write_text(
        "id,url,title,body,section,tags,published_at,related,status\n"
        'c1,,Hello,"multi\nline body",news,a|b,2026-01-02T03:04:05Z,"[""c2""]",retracted\n'
        "c2,,Other,text,,,,,\n"
    )
    first, second = _results(csv_path)
    assert isinstance(first, Article) and isinstance(second, Article)
    assert first.tags == ("a", "b") and first.related == ("c2",) and first.status == "retracted"
    assert first.body == "multi\nline body"
    assert second.url is None and second.tags == () and second.status is None


@pytest.mark.parametrize(
    ("line", "field", "fragment"),
    [
        ("{not json", "<json>", "invalid JSON"),
        ("[" * 100_000, "<json>", "nested too deeply"),  # was a RecursionError traceback
        ('{"id": "a", "n": ' + "9" * 5000 + "}", "<json>", "invalid JSON"),  # past int's digit limit
        ('["a list"]', "<record>", "expected an object"),
        ('{"title": "no id"}', "id", "required"),
        ('{"id": "", "title": "x"}', "id", "required"),
        ('{"id": "a"}', "title", "title or a body"),
        ('{"id": "a", "title": 5}', "title", "expected a string"),
        ('{"id": "a", "title": "t", "tags": "x"}', "tags", "list of strings"),
        ('{"id": "a", "title": "t", "tags": [1]}', "tags", "list of strings"),
        ('{"id": "a", "title": "t", "published_at": "yesterday"}', "published_at", "ISO-8601"),
        ('{"id": "a", "title": "t", "published_at": 5}', "published_at", "ISO-8601"),
        ('{"id": "a", "title": "t", "published_at": "0999-06-01"}', "published_at", "year 999 is outside"),
        ('{"id": "a", "title": "t", "published_at": "2999-01-01T00:00:00Z"}', "published_at", "1800..2200"),
        ('{"id": "a", "title": "t", "published_at": "0001-01-01T00:00:00+01:00"}', "published_at", "range"),
        ('{"id": "a", "title": "t", "published_at": "9999-12-31T23:59:59-01:00"}', "published_at", "range"),
        ('{"id": "a", "title": "t", "status": "deleted"}', "status", "expected one of"),
        ('{"id": "a", "title": "t", "url": "ftp://x"}', "url", "http"),
        ('{"id": "a", "title": "harbour \\ud800"}', "title", "lone surrogate"),
        ('{"id": "a", "title": "t", "tags": ["\\udfff"]}', "tags", "lone surrogate"),
        ('{"id": "\\ud800", "title": "t"}', "id", "lone surrogate"),
    ],
)
def test_bad_record_names_file_line_and_field(tmp_path: Path, line: str, field: str, fragment: str) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text('{"id": "ok", "title": "fine"}\n' + line + "\n")
    good, bad = _results(path)
    assert isinstance(good, Article)
    assert isinstance(bad, InvalidArticle)
    assert bad.line == 2 and bad.field == field
    assert fragment in str(bad)
    assert str(bad).startswith(f"{path}:2: field '{field}'")


def test_csv_row_with_extra_cells_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / "a.csv"
    path.write_text("id,title\nx,Title,surplus\n")
    [bad] = _results(path)
    assert isinstance(bad, InvalidArticle) and bad.field == "<row>"


@pytest.mark.parametrize(
    ("name", "content", "fragment"),
    [
        ("a.txt", b"{}", "unknown file type"),
        ("a.jsonl.gz", b"this is not gzip", "cannot read file"),
        ("a.jsonl", b"\xff\xfe\xfa", "cannot read file"),
        ("a.csv", b"title,body\nx,y\n", "'id' column"),
    ],
)
def test_unreadable_files_raise_one_clear_error(
    tmp_path: Path, name: str, content: bytes, fragment: str
) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(InvalidInput, match=fragment):
        list(read_articles(path))


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="no such file"):
        list(read_articles(tmp_path / "nope.jsonl"))


def test_parse_timestamp_assumes_utc_for_naive_times() -> None:
    assert parse_timestamp("2026-01-01T12:00:00").isoformat() == "2026-01-01T12:00:00+00:00"
    assert parse_timestamp("2026-01-01T12:00:00Z") == parse_timestamp("2026-01-01T13:00:00+01:00")


def test_timestamps_are_written_with_four_digit_years_and_read_back() -> None:
    # strftime("%Y") writes year 999 as "999", which the parser then refused at query time.
    assert format_timestamp(datetime(999, 6, 1, tzinfo=UTC)) == "0999-06-01T00:00:00Z"
    assert parse_timestamp(format_timestamp(datetime(999, 6, 1, tzinfo=UTC))).year == 999
    assert format_timestamp(datetime(2026, 3, 1, 10, 0, 0, 123456, tzinfo=UTC)) == "2026-03-01T10:00:00Z"


@pytest.mark.parametrize("text", ["0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00", "2026-13-01"])
def test_parse_timestamp_never_overflows(text: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_timestamp(text)
    assert isinstance(caught.value, ValueError)  # callers catching the old ValueError still do


def test_plausible_years() -> None:
    assert plausible_timestamp(datetime(1800, 1, 1)).tzinfo is UTC
    assert plausible_timestamp(datetime(2200, 12, 31, 23, 59, tzinfo=UTC)).year == 2200
    with pytest.raises(InvalidInput, match="year 1799"):
        plausible_timestamp(datetime(1799, 12, 31, 23, 59, tzinfo=UTC))


def test_content_hash_follows_embedded_fields_only() -> None:
    base = Article(id="a", title="T", body="B", section="x")
    assert base.content_hash == Article(id="a", title="T", body="B", section="y", tags=("z",)).content_hash
    assert base.content_hash != Article(id="a", title="T", body="B2").content_hash


def test_to_record_round_trips_through_the_reader(tmp_path: Path) -> None:
    article = Article(
        id="r1",
        url="https://x.example/r1",
        title="T",
        body="B",
        section="s",
        tags=("a",),
        published_at="2026-01-02T03:04:05Z",
        related=("r2",),
        status="retracted",
    )
    path = tmp_path / "r.jsonl"
    path.write_text(json.dumps(article.to_record()) + "\n")
    [(_, again)] = list(read_articles(path))
    assert again == article
    assert "status" not in Article(id="x", title="t").to_record()
