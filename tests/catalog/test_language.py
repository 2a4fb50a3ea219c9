"""An article's language (issue 21): BCP 47 tags from the input, detection where there is none,
the catalog's column and its migration (schema 5 -> 6) on both backends."""

from __future__ import annotations

import gzip
import json
import sqlite3
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from index.build import build_index
from recsys.articles import Article, jsonl_records
from recsys.catalog.ingest import import_file, upsert_article, with_language
from recsys.catalog.schema import SCHEMA_VERSION
from recsys.catalog.store import Catalog
from recsys.errors import InvalidArticle
from recsys.language import detect_language, detection_available, normalise_tag
from recsys.settings import Settings
from recsys.version.store import MANIFEST
from service.app import create_app
from tests.fakes import FakeEncoder, synthetic_records, write_jsonl
from tests.helpers import ClientFactory, shared_corpus

needs_detector = pytest.mark.skipif(
    not detection_available(), reason="py3langid is not installed (the lead installs it in the venv)"
)

KEY = {"X-API-Key": "s3cret"}
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


def _with_languages() -> list[dict[str, object]]:
    """The synthetic corpus; articles 0-2 of each topic in English, 3-4 in Portuguese (Brazil), 5 in none."""
    records = synthetic_records()
    for record in records:
        i = int(str(record["id"]).rsplit("-", 1)[1])
        if i < 5:
            record["language"] = "en" if i < 3 else "pt-br"
    return records


def _language_of(article_id: str) -> str | None:
    i = int(article_id.rsplit("-", 1)[1])
    return "en" if i < 3 else "pt-BR" if i < 5 else None


@pytest.fixture
def served(
    settings: Settings, catalog: Catalog, encoder: FakeEncoder, tmp_path: Path, make_client: ClientFactory
) -> TestClient:
    import_file(catalog, write_jsonl(tmp_path / "languages.jsonl", _with_languages()), strict=True)
    build_index(settings, catalog, encoder)
    return make_client(api_key=KEY["X-API-Key"])


def _items(body: dict[str, object]) -> list[dict[str, object]]:
    return [*body["related"]["items"], *body["more_in_section"]["items"]]  # type: ignore[index]


def test_list_items_show_their_language(served: TestClient, catalog: Catalog, tmp_path: Path) -> None:
    body = served.get("/articles/football-5/blocks", params={"limit": 5, "section_limit": 3}).json()
    assert _items(body)
    for item in _items(body):
        assert item["language"] == _language_of(str(item["id"]))
    # An edit after the build shows at once (the live state's per-row codes).
    record = next(r for r in _with_languages() if r["id"] == "football-4")
    import_file(catalog, write_jsonl(tmp_path / "edit.jsonl", [{**record, "language": "ko"}]), strict=True)
    served.app.state.recsys.refresh_live()  # type: ignore[attr-defined]
    items = served.get("/articles/football-5/related", params={"limit": 20}).json()["items"]
    assert {i["id"]: i["language"] for i in items}["football-4"] == "ko"


def test_the_cms_api_takes_and_shows_the_language(served: TestClient) -> None:
    answer = served.put(
        "/admin/articles/new-1", json={"title": "Ferry", "body": "x", "language": "PT-br"}, headers=KEY
    )
    assert answer.status_code == 201 and answer.json()["language"] == "pt-BR"
    bad = served.put("/admin/articles/new-2", json={"title": "Ferry", "language": "Deutsch"}, headers=KEY)
    assert bad.status_code == 422 and "field 'language'" in bad.text


def test_a_version_built_before_languages_still_loads(
    settings: Settings, served: TestClient, encoder: FakeEncoder
) -> None:
    version = (settings.index_root / "CURRENT").read_text().strip()
    folder = settings.index_root / "versions" / version
    manifest = json.loads((folder / MANIFEST).read_text())
    for name in [n for n in manifest["files"] if "language" in n]:
        (folder / name).unlink()
        del manifest["files"][name]
    (folder / MANIFEST).write_text(json.dumps(manifest))
    with TestClient(create_app(Settings(data_dir=settings.data_dir), encoder=encoder)) as client:
        items = client.get("/articles/football-2/related").json()["items"]
        assert items and {i["language"] for i in items} == {None}


def test_lists_keep_the_article_s_language_unless_asked_otherwise(served: TestClient) -> None:
    def languages(path: str, **params: object) -> set[str | None]:
        answer = served.get(path, params={"limit": 20, "section_limit": 5, **params})
        assert answer.status_code == 200, answer.text
        body = answer.json()
        items = _items(body) if "related" in body else body["items"]
        return {item["language"] for item in items}

    # English football-0: English items and items with no language, in both blocks.
    assert languages("/articles/football-0/blocks") == {"en", None}
    assert languages("/articles/football-3/related") == {"pt-BR", None}
    assert "pt-BR" in languages("/articles/football-0/blocks", cross_language="true")
    # An explicit filter wins, matches by prefix (RFC 4647), and leaves out articles with none.
    assert languages("/articles/football-0/related", language="pt") == {"pt-BR"}
    assert languages("/articles/football-0/related", language=["EN", "pt-br"]) == {"en", "pt-BR"}
    # An article with no language lists every language.
    assert languages("/articles/football-5/related") == {"en", "pt-BR", None}
    assert served.get("/articles/football-0/related", params={"language": "ko"}).json()["items"] == []
    bad = served.get("/articles/football-0/related", params={"language": "English"})
    assert bad.status_code == 422 and "language" in bad.text
