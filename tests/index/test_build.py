from __future__ import annotations

import threading
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest

from index.build import BuildReport, build_index
from recsys.catalog.ingest import import_file
from recsys.catalog.store import Catalog
from recsys.encoding.recipe import TextRecipe
from recsys.errors import InvalidInput
from recsys.settings import Settings
from recsys.version.lists import FILES as LIST_FILES
from recsys.version.sections import FILES as SECTION_FILES
from recsys.version.store import IndexStore
from tests.fakes import PER_TOPIC, FakeEncoder, make_recommender, synthetic_records, topic_of, write_jsonl


def test_neighbours_are_the_articles_of_the_same_topic(
    settings: Settings, built: Catalog, encoder: FakeEncoder
) -> None:
    recommender = make_recommender(settings, built, encoder)
    for stored in built.iter_all():
        items = recommender.related(stored.id, PER_TOPIC - 1)
        ids = [item.article.id for item in items]
        assert stored.id not in ids
        assert {topic_of(i) for i in ids} == {topic_of(stored.id)}, (stored.id, ids)
        # related() orders by MMR (diversity), so scores need not fall; plain neighbours do.
        plain = recommender.similar_to(recommender.query_vector(stored), PER_TOPIC - 1, query=stored)
        assert [i.score for i in plain] == sorted((i.score for i in plain), reverse=True)


def test_retraction_takes_effect_without_a_rebuild(
    settings: Settings, built: Catalog, encoder: FakeEncoder
) -> None:
    recommender = make_recommender(settings, built, encoder)
    assert "harbour-1" in [i.article.id for i in recommender.related("harbour-0", 5)]
    built.set_status("harbour-1", "retracted")
    recommender.refresh()  # the live view follows the catalog when asked (the service: its watcher)
    ids = [i.article.id for i in recommender.related("harbour-0", 5)]
    assert "harbour-1" not in ids and len(ids) == 5


def test_future_articles_are_hidden_until_published(
    settings: Settings, built: Catalog, encoder: FakeEncoder
) -> None:
    # harbour-5 is published 2026-03-06; at an earlier "now" it must not be listed.
    early = make_recommender(settings, built, encoder, now=datetime(2026, 3, 3, tzinfo=UTC))
    assert "harbour-5" not in [i.article.id for i in early.related("harbour-0", 10)]
    late = make_recommender(settings, built, encoder, now=datetime(2026, 3, 7, tzinfo=UTC))
    assert "harbour-5" in [i.article.id for i in late.related("harbour-0", 10)]


def test_unchanged_articles_are_never_embedded_twice(
    settings: Settings, catalog: Catalog, encoder: FakeEncoder, tmp_path: Path
) -> None:
    records = synthetic_records()
    import_file(catalog, write_jsonl(tmp_path / "a.jsonl", records))
    first = build_index(settings, catalog, encoder)
    assert (first.embedded, first.reused) == (30, 0)
    second = build_index(settings, catalog, encoder)
    assert (second.embedded, second.reused) == (0, 30)
    records[3] = {**records[3], "title": "A new headline"}
    import_file(catalog, write_jsonl(tmp_path / "b.jsonl", records))
    third = build_index(settings, catalog, encoder)
    assert (third.embedded, third.reused) == (1, 29)
    assert IndexStore(settings.index_root).current_version() == third.version


def test_identical_texts_are_embedded_once(
    settings: Settings, catalog: Catalog, encoder: FakeEncoder, tmp_path: Path
) -> None:
    records = synthetic_records()[:3]
    copy = {**records[0], "id": "copy", "url": "https://news.example/copy"}
    import_file(catalog, write_jsonl(tmp_path / "a.jsonl", [*records, copy]))
    report = build_index(settings, catalog, encoder)
    assert report.articles == 4 and report.embedded == 3


def test_an_article_newer_than_the_index_is_embedded_on_the_fly(
    settings: Settings, built: Catalog, encoder: FakeEncoder, tmp_path: Path
) -> None:
    recommender = make_recommender(settings, built, encoder)
    fresh = {
        "id": "late",
        "title": "Ferry dock tide",
        "body": "harbour pier crane cargo",
        "published_at": "2026-03-02",
    }
    import_file(built, write_jsonl(tmp_path / "late.jsonl", [fresh]))
    ids = [i.article.id for i in recommender.related("late", 5)]
    assert {topic_of(i) for i in ids} == {"harbour"}


def test_a_failed_build_leaves_the_served_version_untouched(
    settings: Settings, built: Catalog, encoder: FakeEncoder, tmp_path: Path
) -> None:
    store = IndexStore(settings.index_root)
    before = store.current_version()
    manifest_before = (settings.index_root / "versions" / str(before) / "manifest.json").read_text()

    class Exploding(FakeEncoder):
        def encode(self, texts: list[str], *, batch_size: int = 64, progress: bool = False) -> np.ndarray:
            raise RuntimeError("out of memory, say")

    import_file(built, write_jsonl(tmp_path / "new.jsonl", [{"id": "new", "title": "brand new words"}]))
    with pytest.raises(RuntimeError):
        build_index(settings, built, Exploding())
    assert store.current_version() == before
    assert store.list_versions() == [before]
    assert (settings.index_root / "versions" / str(before) / "manifest.json").read_text() == manifest_before
    assert store.load().version == before


def test_an_empty_catalog_is_a_clear_error(
    settings: Settings, catalog: Catalog, encoder: FakeEncoder
) -> None:
    with pytest.raises(InvalidInput, match="no published articles"):
        build_index(settings, catalog, encoder)


def test_limit_bounds(settings: Settings, built: Catalog, encoder: FakeEncoder) -> None:
    recommender = make_recommender(settings, built, encoder)
    with pytest.raises(InvalidInput):
        recommender.related("harbour-0", 0)
    with pytest.raises(InvalidInput):
        recommender.related("harbour-0", 101)
    assert len(recommender.related("harbour-0", 100)) == 29  # everything but itself


def test_recipe_uses_title_and_lead() -> None:
    recipe = TextRecipe(max_words=3)
    assert recipe.text("Headline", "one two three four") == "Headline.\none two three"
    assert recipe.text("Question?", "a") == "Question?\na"
    assert recipe.text(None, "one two three four") == "one two three"
    assert recipe.id != TextRecipe(max_words=4).id


def test_final_lists_are_stored_unless_the_catalog_is_above_their_cap(
    settings: Settings, catalog: Catalog, encoder: FakeEncoder, tmp_path: Path
) -> None:
    import_file(catalog, write_jsonl(tmp_path / "a.jsonl", synthetic_records()))
    capped = settings.model_copy(update={"final_lists_max_articles": 29})  # 30 articles
    build_index(capped, catalog, encoder)
    store = IndexStore(settings.index_dir)
    assert "lists" not in store.read_manifest(store.current_version() or "").data
    ranked = make_recommender(settings, catalog, encoder)
    assert ranked.lists is None
    report = build_index(settings, catalog, encoder, full=True)
    manifest = report.manifest.data
    assert manifest["lists"]["stored"] == 30 and manifest["lists"]["limit"] == settings.default_limit
    assert {"lists_offsets.npy", "lists_keys.npy", "lists_scores.npy"} <= set(manifest["files"])
    stored = make_recommender(settings, catalog, encoder)
    assert stored.lists is not None
    for article in catalog.iter_all():
        assert [(i.key, i.score) for i in stored.related(article.id)] == [
            (i.key, i.score) for i in ranked.related(article.id)
        ]


def test_final_lists_ranked_across_processes_equal_those_ranked_in_one(
    settings: Settings,
    catalog: Catalog,
    encoder: FakeEncoder,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import_file(catalog, write_jsonl(tmp_path / "a.jsonl", synthetic_records()))
    one = settings.model_copy(update={"final_lists_workers": 1})
    alone = build_index(one, catalog, encoder).manifest
    monkeypatch.setattr("index.build.LISTS_SLICE", 7)  # 30 articles: five slices, two processes
    forked = build_index(settings.model_copy(update={"final_lists_workers": 2}), catalog, encoder, full=True)
    assert forked.manifest.data["lists"]["stored"] == alone.data["lists"]["stored"] == 30
    # The section blocks are ranked in the same slices across the same processes.
    assert forked.manifest.data["sections"]["stored"] == alone.data["sections"]["stored"] > 0
    for name in [*LIST_FILES, *SECTION_FILES]:
        assert forked.manifest.data["files"][name] == alone.data["files"][name], name

    # A build in another thread (the service's) never forks: one process ranks, to the same lists.
    def no_fork(method: str) -> None:
        raise AssertionError(f"a build off the main thread asked for a {method} pool")

    monkeypatch.setattr("index.build.multiprocessing.get_context", no_fork)
    done: list[BuildReport] = []
    two = settings.model_copy(update={"final_lists_workers": 2})
    worker = threading.Thread(target=lambda: done.append(build_index(two, catalog, encoder, full=True)))
    worker.start()
    worker.join()
    assert done and all(
        done[0].manifest.data["files"][name] == alone.data["files"][name] for name in LIST_FILES
    )
