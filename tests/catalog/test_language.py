"""An article's language (issue 21): BCP 47 tags from the input, detection where there is none,
the catalog's column and its migration (schema 5 -> 6) on both backends."""

from __future__ import annotations

import gzip
import json
import sqlite3
from pathlib import Path

import pytest

from recsys.articles import Article, jsonl_records
from recsys.catalog.ingest import import_file, upsert_article, with_language
from recsys.catalog.schema import SCHEMA_VERSION
from recsys.catalog.store import Catalog
from recsys.errors import InvalidArticle
from recsys.language import detect_language, detection_available, normalise_tag
from recsys.settings import Settings
from tests.fakes import write_jsonl
from tests.helpers import shared_corpus

needs_detector = pytest.mark.skipif(
    not detection_available(), reason="py3langid is not installed (the lead installs it in the venv)"
)

# One real sentence or two per language, as a newsroom would write a lead.
SENTENCES = {
    "en": "The city council approved the new budget on Tuesday after a long debate about housing.",
    "de": "Der Stadtrat hat am Dienstag nach einer langen Debatte über Wohnungen den neuen Haushalt "
    "beschlossen.",
    "fr": "Le conseil municipal a approuvé mardi le nouveau budget après un long débat sur le logement.",
    "es": "El ayuntamiento aprobó el martes el nuevo presupuesto tras un largo debate sobre la vivienda.",
    "ar": "وافق مجلس المدينة يوم الثلاثاء على الميزانية الجديدة بعد نقاش طويل حول الإسكان.",
    "zh": "市议会在经过关于住房问题的长时间辩论后，于周二批准了新的预算。",
    "ru": "Городской совет во вторник утвердил новый бюджет после долгих дебатов о жилье.",
    "ko": "시의회는 화요일 주택 문제에 대한 긴 논쟁 끝에 새 예산안을 승인했다.",
}


@pytest.mark.parametrize(
    ("given", "tag"),
    [
        ("en", "en"),
        ("EN", "en"),
        ("pt-br", "pt-BR"),
        ("pt_BR", "pt-BR"),
        (" zh-hant-tw ", "zh-Hant-TW"),
        ("es-419", "es-419"),
        ("sr-Latn", "sr-Latn"),
        ("de-CH-1996", "de-CH-1996"),
        ("en-US-u-ca-gregory", "en-US-u-ca-gregory"),
        ("x-Klingon", "x-klingon"),
    ],
)
def test_tags_are_normalised_to_bcp47_casing(given: str, tag: str) -> None:
    assert normalise_tag(given) == tag


@pytest.mark.parametrize(
    "bad", ["english", "e", "en--us", "en-US-u", "pt-BR-x", "123", "en US", "fr-ĉ", "a" * 40]
)
def test_malformed_tags_are_refused(bad: str) -> None:
    with pytest.raises(ValueError):
        normalise_tag(bad)


def _read(records: list[dict[str, object]]) -> list[Article | InvalidArticle]:
    lines = [json.dumps(record) + "\n" for record in records]
    return [result for _, result in jsonl_records(lines, "in.jsonl")]


def test_a_record_s_language_is_read_and_a_bad_one_is_refused_by_field() -> None:
    good, bad, wrong_type, none = _read(
        [
            {"id": "a", "title": "Notícias", "language": "pt-br"},
            {"id": "b", "title": "News", "language": "English"},
            {"id": "c", "title": "News", "language": 7},
            {"id": "d", "title": "News"},
        ]
    )
    assert isinstance(good, Article) and good.language == "pt-BR"
    assert good.to_record()["language"] == "pt-BR"
    for error in (bad, wrong_type):
        assert isinstance(error, InvalidArticle) and error.field == "language"
    assert str(bad).startswith("in.jsonl:2: field 'language': not a BCP 47 language tag")
    assert isinstance(none, Article) and none.language is None and "language" not in none.to_record()


def test_the_language_is_not_part_of_the_content_hash() -> None:
    assert Article(id="a", title="t", language="en").content_hash == Article(id="a", title="t").content_hash


def test_ingest_stores_the_given_language_and_none_without_detection(
    settings: Settings, tmp_path: Path
) -> None:
    path = write_jsonl(
        tmp_path / "in.jsonl",
        [
            {"id": "a", "title": "Harbour ferry", "language": "EN-gb"},
            {"id": "b", "title": "Hafenfähre", "body": SENTENCES["de"]},
            {"id": "c", "title": "Broken", "language": "not a tag"},
        ],
    )
    catalog = Catalog(settings.catalog_location)
    report = import_file(catalog, path)
    assert report.skipped == 1 and report.problems[0].field == "language"
    assert catalog.get("a").article.language == "en-GB"
    assert catalog.get("b").article.language is None
    # A change of language alone is a change of the row (written), never of the embedded text.
    before = catalog.get("a").content_hash
    assert upsert_article(catalog, Article(id="a", title="Harbour ferry", language="en")) == "updated"
    assert catalog.get("a").article.language == "en" and catalog.get("a").content_hash == before
    catalog.dispose()


@needs_detector
def test_ingest_detects_a_missing_language_and_keeps_a_given_one(settings: Settings, tmp_path: Path) -> None:
    path = write_jsonl(
        tmp_path / "in.jsonl",
        [
            {"id": "de", "title": "Haushalt beschlossen", "body": SENTENCES["de"]},
            {"id": "given", "title": "Haushalt beschlossen", "body": SENTENCES["de"], "language": "de-AT"},
            {"id": "short", "title": "OK 2026"},
        ],
    )
    catalog = Catalog(settings.catalog_location)
    import_file(catalog, path, detect_language=True)
    assert catalog.get("de").article.language == "de"
    assert catalog.get("given").article.language == "de-AT"
    assert catalog.get("short").article.language is None
    catalog.dispose()


@needs_detector
@pytest.mark.parametrize("language", sorted(SENTENCES))
def test_detection_on_real_sentences(language: str) -> None:
    assert detect_language(None, SENTENCES[language]) == language


@needs_detector
@pytest.mark.parametrize("text", ["", "2026-01-01 12:00", "OK", "https://x.io/a/1", "Ferry"])
def test_too_little_text_has_no_language(text: str) -> None:
    assert with_language(Article(id="a", title=text or None, body="...")).language is None


@needs_detector
def test_detection_agrees_with_the_semeval_languages() -> None:
    path = shared_corpus("semeval2022_multilingual_train")
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        records = [json.loads(line) for line in handle]
    given = [
        (r["language"], detect_language(r.get("title"), r.get("body"))) for r in records if r.get("language")
    ]
    assert len(given) > 2000
    agree = sum(detected is not None and detected == tag.split("-")[0] for tag, detected in given)
    assert agree / len(given) >= 0.95


def _schema_5(settings: Settings) -> None:
    """Turn the test's (new) catalog back into what schema 5 made: no language column."""
    catalog = Catalog(settings.catalog_location)
    with catalog.transaction() as conn:
        conn.execute(
            "INSERT INTO articles (id, title, content_hash, updated_at) "
            "VALUES ('old', 'Old story', 'h', 'now')"
        )
        conn.execute("ALTER TABLE articles DROP COLUMN language")
        conn.execute("UPDATE meta SET value = '5' WHERE name = 'schema_version'")
    catalog.dispose()


def test_a_schema_5_catalog_gains_the_language_column(settings: Settings) -> None:
    _schema_5(settings)
    if settings.catalog_is_postgres:
        assert Catalog.migrate(settings.catalog_location) == (5, SCHEMA_VERSION)
    catalog = Catalog(settings.catalog_location)
    assert SCHEMA_VERSION == 6
    assert catalog.get("old").article.language is None
    upsert_article(catalog, Article(id="new", title="Nuevo", language="es"))
    assert catalog.get("new").article.language == "es"
    catalog.dispose()
    if not settings.catalog_is_postgres:
        with sqlite3.connect(settings.catalog_file) as raw:
            version = raw.execute("SELECT value FROM meta WHERE name = 'schema_version'").fetchone()
        assert version == (str(SCHEMA_VERSION),)
