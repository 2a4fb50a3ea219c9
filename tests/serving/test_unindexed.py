"""Articles the served version does not hold (imported since the build, retracted before it): known
to the live state by id and URL, their bodies and vectors prepared when the state is refreshed, so
their lists, and the 404 of an id nobody knows, are answered with the catalog unreachable.

The catalog is made unreachable by a connection that refuses (CatalogBusy, as a PostgreSQL server
that is down does): any read on the request path would fail the request."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from index.build import build_index
from recsys.catalog.ingest import import_file
from recsys.catalog.overrides import Overrides
from recsys.catalog.store import Catalog
from recsys.errors import ArticleNotFound, CatalogBusy
from recsys.serving.query import RelatedQuery
from recsys.serving.recommend import Recommender
from recsys.settings import Settings
from tests.fakes import FakeEncoder, make_recommender, write_jsonl

LATE = {
    "id": "harbour-late",
    "url": "https://news.example/harbour/late",
    "title": "Ferry Dock Tide",
    "body": "harbour ferry dock tide pier crane late",
    "section": "harbour",
    "tags": ["harbour"],
    "published_at": "2026-03-20T08:00:00Z",
}
QUERY = RelatedQuery(limit=5, section_limit=3)


def _import(catalog: Catalog, folder: Path, *records: dict[str, object]) -> None:
    path = write_jsonl(folder / f"late-{len(list(folder.glob('late-*')))}.jsonl", list(records))
    import_file(catalog, path, strict=True)


def _ids(recommender: Recommender, article_id: str) -> list[str]:
    return [i.fields()[0] for i in recommender.related_list(article_id, QUERY).items]


class Outage:
    """The catalog's connection refuses while `on` (every read and write raises CatalogBusy)."""

    def __init__(self, catalog: Catalog, monkeypatch: pytest.MonkeyPatch) -> None:
        self.on = False
        connect = catalog._conn

        def refusing() -> object:
            if self.on:
                raise CatalogBusy("catalog unreachable (test)")
            return connect()

        monkeypatch.setattr(catalog, "_conn", refusing)


@pytest.fixture
def world(
    settings: Settings, built: Catalog, encoder: FakeEncoder, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[Recommender, Catalog, Outage]]:
    recommender = make_recommender(settings, built, encoder)
    yield recommender, built, Outage(built, monkeypatch)


def test_a_new_article_is_listed_from_memory_once_refreshed(
    world: tuple[Recommender, Catalog, Outage], encoder: FakeEncoder, tmp_path: Path
) -> None:
    recommender, catalog, outage = world
    _import(catalog, tmp_path, LATE)
    recommender.refresh()
    assert recommender.in_memory("harbour-late") and recommender.in_memory(url=LATE["url"])
    listed = _ids(recommender, "harbour-late")
    blocks = recommender.blocks("harbour-late", QUERY)
    calls = encoder.calls

    outage.on = True
    assert _ids(recommender, "harbour-late") == listed
    assert listed and all(i.startswith("harbour-") for i in listed[:3])
    again = recommender.blocks("harbour-late", QUERY)
    assert [i.fields()[0] for i in again.more_in_section.items] == [
        i.fields()[0] for i in blocks.more_in_section.items
    ]
    found, by_url = recommender.blocks_for_url(str(LATE["url"]), QUERY)
    assert found == "harbour-late" and [i.fields()[0] for i in by_url.related.items][:3] == listed[:3]
    assert recommender.has_article("harbour-late") and recommender.has_url(str(LATE["url"]))
    assert encoder.calls == calls  # nothing embedded on the request either


def test_an_unknown_id_or_url_is_not_found_from_memory(world: tuple[Recommender, Catalog, Outage]) -> None:
    recommender, _, outage = world
    outage.on = True
    for ask in (
        lambda: recommender.related_list("no-such-story", QUERY),
        lambda: recommender.blocks("no-such-story", QUERY),
        lambda: recommender.blocks_for_url("https://news.example/no/such/story", QUERY),
    ):
        with pytest.raises(ArticleNotFound):  # not CatalogBusy: no catalog read
            ask()
    assert not recommender.has_article("no-such-story")
    assert not recommender.has_url("https://news.example/no/such/story")
    assert recommender.in_memory("no-such-story")  # its 404 is made from memory


def test_a_deleted_new_article_leaves_and_an_edited_one_is_prepared_again(
    world: tuple[Recommender, Catalog, Outage], tmp_path: Path
) -> None:
    recommender, catalog, outage = world
    other = {
        **LATE,
        **{"id": "vaccine-late", "url": "https://news.example/vaccine/late", "section": "vaccine"},
        **{"tags": ["vaccine"], "title": "Vaccine Trial Dose", "body": "vaccine trial dose clinic late"},
    }
    _import(catalog, tmp_path, LATE, other)
    recommender.refresh()
    assert _ids(recommender, "vaccine-late")[0].startswith("vaccine-")
    catalog.delete("harbour-late")
    # The text changes topic: its vector is made again, under its new content hash.
    _import(
        catalog, tmp_path, {**other, "title": "Goal Striker League", "body": "goal striker league keeper"}
    )
    recommender.refresh()
    assert len(recommender.subjects) == 1

    outage.on = True
    with pytest.raises(ArticleNotFound):
        recommender.related_list("harbour-late", QUERY)
    with pytest.raises(ArticleNotFound):
        recommender.blocks_for_url(str(LATE["url"]), QUERY)
    assert _ids(recommender, "vaccine-late")[0].startswith("football-")


def test_an_article_retracted_before_the_build_is_known_from_memory(
    settings: Settings,
    catalog: Catalog,
    encoder: FakeEncoder,
    corpus_file: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The version does not hold it and no later change names it: read once when the version loads.
    Its list is answered as before this state knew it (the catalog found it), now from memory."""
    import_file(catalog, corpus_file, strict=True)
    catalog.set_status("theatre-2", "retracted")
    build_index(settings, catalog, encoder)
    recommender = make_recommender(settings, catalog, encoder)
    assert recommender.snapshot.by_id.row("theatre-2") is None
    recommender.refresh()
    Outage(catalog, monkeypatch).on = True
    assert recommender.has_article("theatre-2")
    listed = _ids(recommender, "theatre-2")
    assert listed and "theatre-2" not in listed and listed[0].startswith("theatre-")


def test_a_pinned_new_article_is_listed_from_memory(
    world: tuple[Recommender, Catalog, Outage], tmp_path: Path
) -> None:
    recommender, catalog, outage = world
    _import(catalog, tmp_path, LATE)
    Overrides(catalog).set_pins("election-0", ["harbour-late"])
    recommender.refresh()
    assert recommender.in_memory("election-0")
    outage.on = True
    assert _ids(recommender, "election-0")[0] == "harbour-late"


def test_a_catalog_unreachable_during_preparation_leaves_the_refresh_whole_and_is_retried(
    world: tuple[Recommender, Catalog, Outage], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    recommender, catalog, outage = world
    _import(catalog, tmp_path, LATE)
    by_keys = catalog.by_keys

    def refusing(keys: object) -> object:
        raise CatalogBusy("catalog unreachable (test)")

    monkeypatch.setattr(catalog, "by_keys", refusing)
    state = recommender.refresh()  # the state moves on; the article is not prepared
    assert state.unindexed.by_id("harbour-late") is not None
    assert not recommender.in_memory("harbour-late")
    monkeypatch.setattr(catalog, "by_keys", by_keys)
    recommender.refresh()  # nothing changed in the catalog: preparing is tried again all the same
    assert recommender.in_memory("harbour-late")
    outage.on = True
    assert _ids(recommender, "harbour-late")


def test_past_the_bound_a_new_article_is_read_from_the_catalog_as_before(
    settings: Settings, built: Catalog, encoder: FakeEncoder, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    recommender = make_recommender(settings.model_copy(update={"unindexed_max_articles": 1}), built, encoder)
    older = {**LATE, "id": "harbour-older", "url": "https://news.example/harbour/older"}
    _import(built, tmp_path, older)
    _import(built, tmp_path, LATE)  # the newer key: the one prepared
    recommender.refresh()
    assert len(recommender.subjects) == 1
    assert recommender.in_memory("harbour-late") and not recommender.in_memory("harbour-older")
    assert _ids(recommender, "harbour-older")  # read and embedded on the request
    Outage(built, monkeypatch).on = True
    assert _ids(recommender, "harbour-late")
    with pytest.raises(CatalogBusy):
        recommender.related_list("harbour-older", QUERY)
