"""Pictures and bylines (issue 12): the optional `image_url` and `author` input fields, checked on the
way in, kept by the catalog (and added to older catalogs in place), carried by index versions, shown
in every list, and the `author` / `exclude_author` filters over HTTP and on the command line."""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from cli import app as cli
from index.build import build_index
from recsys.articles import MAX_AUTHOR_LENGTH, MAX_IMAGE_URL_LENGTH, Article, read_articles
from recsys.catalog.ingest import import_file
from recsys.catalog.schema import SCHEMA_VERSION
from recsys.catalog.store import Catalog
from recsys.errors import InvalidArticle
from recsys.root import Root
from recsys.serving.query import RelatedQuery
from recsys.settings import Settings
from recsys.version.store import MANIFEST
from service.app import create_app
from tests.fakes import FakeEncoder, synthetic_records, topic_of, use_fake_model, write_jsonl
from tests.helpers import ClientFactory

V3_FILE = Path(__file__).parents[1] / "data" / "catalog-v3.sqlite3"
AUTHORS = ("Ada Byline", "Ben Reporter")


def _with_bylines() -> list[dict[str, object]]:
    """The synthetic corpus; articles 0-2 of each topic by Ada (with a picture), 3-4 by Ben, 5 by nobody."""
    records = synthetic_records()
    for record in records:
        i = int(str(record["id"]).rsplit("-", 1)[1])
        if i < 3:
            record.update(author=AUTHORS[0], image_url=f"https://img.example/{record['id']}.jpg")
        elif i < 5:
            record["author"] = AUTHORS[1]
    return records


def _read(tmp_path: Path, record: dict[str, object]) -> Article | InvalidArticle:
    path = write_jsonl(tmp_path / "one.jsonl", [{"id": "a", "title": "T", **record}])
    [(_, result)] = list(read_articles(path))
    return result


def test_image_url_and_author_are_read_trimmed_and_optional(tmp_path: Path) -> None:
    article = _read(tmp_path, {"image_url": " https://img.example/a.jpg ", "author": "  Ada Byline "})
    assert isinstance(article, Article)
    assert (article.image_url, article.author) == ("https://img.example/a.jpg", "Ada Byline")
    assert article.to_record()["author"] == "Ada Byline" and "extra" not in article.to_record()
    plain = _read(tmp_path, {"author": "", "image_url": None})
    assert isinstance(plain, Article) and (plain.image_url, plain.author) == (None, None)
    assert "author" not in plain.to_record()  # files without the fields are written as before


@pytest.mark.parametrize(
    ("record", "field", "reason"),
    [
        ({"image_url": "javascript:alert(1)"}, "image_url", "not an http(s) URL"),
        ({"image_url": "/relative/picture.jpg"}, "image_url", "not an http(s) URL"),
        ({"image_url": "https://img.example/a b.jpg"}, "image_url", "not an http(s) URL"),
        ({"image_url": "https://x/" + "a" * MAX_IMAGE_URL_LENGTH}, "image_url", "longer than"),
        ({"image_url": 7}, "image_url", "expected a string"),
        ({"author": "x" * (MAX_AUTHOR_LENGTH + 1)}, "author", "longer than"),
        ({"author": ["Ada"]}, "author", "expected a string"),
    ],
)
def test_bad_image_urls_and_authors_are_refused_by_field(
    tmp_path: Path, record: dict[str, object], field: str, reason: str
) -> None:
    error = _read(tmp_path, record)
    assert isinstance(error, InvalidArticle)
    assert error.field == field and reason in str(error)


def test_a_schema_3_catalog_gains_the_columns_in_place(tmp_path: Path, encoder: FakeEncoder) -> None:
    """catalog-v3.sqlite3 was written by the schema-3 code (3 articles, no pictures, no bylines)."""
    path = tmp_path / "catalog.sqlite3"
    shutil.copy(V3_FILE, path)
    with sqlite3.connect(path) as raw:
        assert raw.execute("SELECT value FROM meta WHERE name = 'schema_version'").fetchone() == ("3",)
    catalog = Catalog(path)
    with sqlite3.connect(path) as raw:
        assert raw.execute("SELECT value FROM meta WHERE name = 'schema_version'").fetchone() == (
            str(SCHEMA_VERSION),
        )
    old = catalog.get("v3-1").article
    assert old.title == "Harbour ferry story 1" and (old.image_url, old.author) == (None, None)
    edited = write_jsonl(
        tmp_path / "edit.jsonl",
        # A body of its own, so that the list does not fold it into v3-0 as a near-duplicate.
        [
            {
                **old.to_record(),
                "author": "Ada Byline",
                "image_url": "https://img.example/1.jpg",
                "body": "harbour crane cargo quay at dawn",
            }
        ],  # fmt: skip
    )
    assert import_file(catalog, edited, strict=True).counts.updated == 1
    assert catalog.get("v3-1").article.author == "Ada Byline"
    settings = Settings(data_dir=tmp_path, catalog_path=path)
    build_index(settings, catalog, encoder)
    recommender = Root(settings, encoder=encoder, catalog=catalog).query_side.load()
    [item] = recommender.related_list("v3-0", RelatedQuery(authors=("Ada Byline",))).items
    assert item.fields()[5:7] == ("https://img.example/1.jpg", "Ada Byline")
    catalog.close()


@pytest.fixture
def served(
    settings: Settings, catalog: Catalog, encoder: FakeEncoder, tmp_path: Path, make_client: ClientFactory
) -> TestClient:
    import_file(catalog, write_jsonl(tmp_path / "bylines.jsonl", _with_bylines()), strict=True)
    build_index(settings, catalog, encoder)
    return make_client()


def _items(body: dict[str, object]) -> list[dict[str, object]]:
    return [*body["related"]["items"], *body["more_in_section"]["items"]]  # type: ignore[index]


def test_lists_show_pictures_and_bylines_and_filter_by_author(served: TestClient) -> None:
    body = served.get("/articles/football-5/blocks", params={"limit": 3, "section_limit": 2}).json()
    for item in _items(body):
        i = int(str(item["id"]).rsplit("-", 1)[1])
        assert item["author"] == (AUTHORS[0] if i < 3 else AUTHORS[1] if i < 5 else None)
        assert item["image_url"] == (f"https://img.example/{item['id']}.jpg" if i < 3 else None)

    by_ben = served.get("/articles/football-0/blocks", params={"author": AUTHORS[1], "limit": 20}).json()
    assert {i["author"] for i in _items(by_ben)} == {AUTHORS[1]}
    assert {topic_of(str(i["id"])) for i in by_ben["related"]["items"]} >= {"football"}
    not_ada = served.get("/articles/football-0/related", params={"exclude_author": AUTHORS[0], "limit": 20})
    assert not_ada.status_code == 200 and AUTHORS[0] not in {i["author"] for i in not_ada.json()["items"]}
    assert (
        served.get("/articles/football-0/blocks", params={"author": "Nobody"}).json()["related"]["items"]
        == []
    )
    both = served.get(
        "/articles/football-0/blocks", params={"author": "Ada Byline", "exclude_author": "Ada Byline"}
    )
    assert both.status_code == 422 and both.json()["error"] == "invalid_input"
    assert (
        served.get("/related", params={"url": "https://news.example/football/0", "author": ""}).status_code
        == 422
    )


def test_a_byline_edited_after_the_build_counts_at_once(
    served: TestClient, catalog: Catalog, tmp_path: Path
) -> None:
    record = next(r for r in _with_bylines() if r["id"] == "football-5")
    import_file(
        catalog, write_jsonl(tmp_path / "edit.jsonl", [{**record, "author": "Cora Desk"}]), strict=True
    )
    # What the change watcher does within RECSYS_CHANGE_POLL_SECONDS of a write made elsewhere.
    served.app.state.recsys.refresh_live()  # type: ignore[attr-defined]
    body = served.get("/articles/football-0/blocks", params={"author": "Cora Desk"}).json()
    assert [i["id"] for i in _items(body)] == ["football-5"] and _items(body)[0]["author"] == "Cora Desk"


def test_a_version_built_before_bylines_still_loads(
    settings: Settings, built: Catalog, encoder: FakeEncoder
) -> None:
    """An upgraded service keeps serving the version it finds until the next build: without the
    picture and byline files that version simply shows none."""
    version = (settings.index_root / "CURRENT").read_text().strip()
    folder = settings.index_root / "versions" / version
    manifest = json.loads((folder / MANIFEST).read_text())
    for name in [n for n in manifest["files"] if "author" in n or "image_url" in n]:
        (folder / name).unlink()
        del manifest["files"][name]
    (folder / MANIFEST).write_text(json.dumps(manifest))
    with TestClient(create_app(Settings(data_dir=settings.data_dir), encoder=encoder)) as client:
        items = client.get("/articles/football-2/related").json()["items"]
        assert items and {(i["author"], i["image_url"]) for i in items} == {(None, None)}
        assert client.get("/articles/football-2/related", params={"author": "Ada"}).json()["items"] == []


def test_cli_related_filters_by_author_and_prints_the_byline(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    use_fake_model(monkeypatch)
    data = str(tmp_path / "d")
    source = write_jsonl(tmp_path / "bylines.jsonl", _with_bylines())
    runner = CliRunner()
    assert (
        runner.invoke(
            cli.app, ["build", "--input", str(source), "--data-dir", data, "--no-progress"]
        ).exit_code
        == 0
    )
    table = runner.invoke(cli.app, ["related", "vaccine-1", "--author", AUTHORS[1], "--data-dir", data])
    assert table.exit_code == 0, table.output
    lines = table.stdout.strip().splitlines()
    assert lines and all(line.endswith(f"({AUTHORS[1]})") for line in lines)
    as_json = runner.invoke(
        cli.app, ["related", "vaccine-1", "--exclude-author", AUTHORS[0], "--json", "--data-dir", data]
    )
    items = json.loads(as_json.stdout)["items"]
    assert items and AUTHORS[0] not in {i["author"] for i in items} and "image_url" in items[0]


def test_the_cms_takes_and_returns_pictures_and_bylines(settings: Settings, built: Catalog) -> None:
    configured = Settings(data_dir=settings.data_dir, api_key="s3cret", reload_interval=0)
    key = {"X-API-Key": "s3cret"}
    record = {"title": "Harbour ferry", "body": "harbour ferry dock", "section": "harbour"}
    with TestClient(create_app(configured, encoder=FakeEncoder())) as client:
        put = client.put(
            "/admin/articles/harbour-byline",
            headers=key,
            json={**record, "author": " Ada Byline ", "image_url": "https://img.example/h.jpg"},
        )
        assert put.status_code in (200, 201), put.text
        assert (put.json()["author"], put.json()["image_url"]) == ("Ada Byline", "https://img.example/h.jpg")
        refused = client.put(
            "/admin/articles/harbour-bad", headers=key, json={**record, "image_url": "javascript:alert(1)"}
        )
        assert refused.status_code == 422 and "image_url" in refused.json()["detail"]
        read_back = client.get("/admin/articles/harbour-byline", headers=key).json()
        assert (read_back["author"], read_back["image_url"]) == ("Ada Byline", "https://img.example/h.jpg")
