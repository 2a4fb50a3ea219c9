"""The index lifecycle in-process: incremental builds and their report, deletions, versions, rollback,
pruning, and the index type chosen by settings."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from index.build import build_index
from recsys.catalog.ingest import import_file
from recsys.catalog.store import Catalog
from recsys.errors import ArticleNotFound, IndexCorrupt, IndexMismatch, IndexMissing
from recsys.root import Root
from recsys.serving.recommend import Recommender
from recsys.settings import Settings
from recsys.version.store import IndexStore
from tests.fakes import FakeEncoder, make_recommender, synthetic_records, topic_of, write_jsonl

HARBOUR_NEWS = {
    "id": "harbour-new",
    "title": "Harbour ferry dock",
    "body": "harbour ferry dock tide pier crane cargo quay",
    "section": "harbour",
    # tagged like the story it joins, as a newsroom's new article is: names count under the story's
    # tagged articles, and an untagged newcomer shares fewer of them
    "tags": ["harbour"],
    "published_at": "2026-03-20T00:00:00Z",
}


def _ids(recommender: Recommender, article_id: str, limit: int = 5) -> list[str]:
    return [item.article.id for item in recommender.related(article_id, limit)]


def test_an_update_reports_added_changed_removed_and_reused(
    settings: Settings, built: Catalog, encoder: FakeEncoder, tmp_path: Path
) -> None:
    edited = {**synthetic_records()[7], "title": "An entirely rewritten headline"}
    import_file(built, write_jsonl(tmp_path / "update.jsonl", [HARBOUR_NEWS, edited]))
    built.set_status("vaccine-2", "retracted")
    built.delete("theatre-4")
    previous = IndexStore(settings.index_root).current_version()

    report = build_index(settings, built, encoder)

    assert report.changes is not None and report.changes.previous == previous
    assert (report.changes.added, report.changes.changed, report.changes.removed) == (1, 1, 2)
    assert (report.articles, report.embedded, report.reused) == (29, 2, 27)
    assert f"since {previous}: 1 added, 1 changed, 2 removed" in report.summary()
    build_info = report.manifest.data["build"]
    assert (build_info["added"], build_info["changed"], build_info["removed"]) == (1, 1, 2)
    ids = set(IndexStore(settings.index_root).load().vectors.article_ids.tolist())
    assert "harbour-new" in ids and "vaccine-2" not in ids and "theatre-4" not in ids


def test_a_rebuild_with_nothing_new_embeds_nothing(
    settings: Settings, built: Catalog, encoder: FakeEncoder
) -> None:
    report = build_index(settings, built, encoder)
    assert report.changes is not None
    assert (report.changes.added, report.changes.changed, report.changes.removed) == (0, 0, 0)
    assert report.embedded == 0 and report.reused == 30


def test_after_an_update_a_new_article_joins_the_lists_of_older_close_articles(
    settings: Settings, built: Catalog, encoder: FakeEncoder, tmp_path: Path
) -> None:
    import_file(built, write_jsonl(tmp_path / "new.jsonl", [HARBOUR_NEWS]))
    old = make_recommender(settings, built, encoder)
    assert all("harbour-new" not in _ids(old, f"harbour-{i}") for i in range(6))

    build_index(settings, built, encoder)
    new = make_recommender(settings, built, encoder)
    lists = {f"harbour-{i}": _ids(new, f"harbour-{i}") for i in range(6)}
    assert sum("harbour-new" in ids for ids in lists.values()) >= 4, lists
    assert all("harbour-new" not in _ids(new, f"election-{i}") for i in range(6))


def test_a_deleted_article_leaves_every_list_at_once(
    settings: Settings, built: Catalog, encoder: FakeEncoder
) -> None:
    recommender = make_recommender(settings, built, encoder)
    top = _ids(recommender, "football-0")[0]
    built.delete(top)
    recommender.refresh()  # the live view follows the catalog when asked (the service: its watcher)
    after = _ids(recommender, "football-0", 4)  # the four football articles left
    assert top not in after and len(after) == 4 and {topic_of(i) for i in after} == {"football"}
    with pytest.raises(ArticleNotFound):
        recommender.related(top)
    with pytest.raises(ArticleNotFound):
        built.delete(top)


def test_versions_rollback_and_pruning(tmp_path: Path, corpus_file: Path, encoder: FakeEncoder) -> None:
    settings = Settings(data_dir=tmp_path / "data", keep_versions=3)
    catalog = Root(settings).catalog
    import_file(catalog, corpus_file)
    store = IndexStore(settings.index_root)
    with pytest.raises(IndexMissing, match="nothing to roll back"):
        store.rollback()
    built = [build_index(settings, catalog, encoder).version for _ in range(5)]
    kept = store.list_versions()
    assert kept == built[-3:] and store.current_version() == built[-1]
    infos = store.describe()
    assert [i.current for i in infos] == [False, False, True]
    assert all(i.manifest is not None and i.manifest.count == 30 for i in infos)

    assert store.rollback(expect_model=encoder.name) == (built[-1], built[-2])
    assert store.current_version() == built[-2] and store.load().version == built[-2]
    assert store.rollback(built[-1]) == (built[-2], built[-1])

    # A version that fails its checks is never made current.
    (settings.index_root / "versions" / built[-3] / "keys.npy").write_bytes(b"garbage")
    with pytest.raises(IndexCorrupt, match="keys.npy fails its checksum"):
        store.rollback(built[-3])
    with pytest.raises(IndexMismatch, match="another-model"):
        store.rollback(built[-2], expect_model="another-model")
    with pytest.raises(IndexMissing, match="no index version 'nope'"):
        store.rollback("nope")
    with pytest.raises(IndexMissing, match="no index version '../versions'"):
        store.rollback("../versions")
    assert store.current_version() == built[-1]
    assert store.describe()[0].problem is None  # listing reads manifests; checksums are load's job

    # After a rollback the next build compares with the rolled-back version and prunes to keep 3.
    store.rollback(built[-2])
    again = build_index(settings, catalog, encoder)
    assert again.changes is not None and again.changes.previous == built[-2]
    assert store.list_versions() == [built[-2], built[-1], again.version]
    catalog.close()


def test_rollback_with_only_one_version_is_a_clear_error(settings: Settings, built: Catalog) -> None:
    with pytest.raises(IndexMissing, match="no version older than the current one"):
        IndexStore(settings.index_root).rollback()


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({}, {"type": "flat", "params": {}}),
        (
            {"index_type": "hnsw", "hnsw_m": 8, "hnsw_ef_construction": 40, "hnsw_ef_search": 20},
            {"type": "hnsw", "params": {"m": 8, "ef_construction": 40, "ef_search": 20}},
        ),
        (
            {"index_type": "ivf", "ivf_nlist": 5, "ivf_nprobe": 5},
            {"type": "ivf", "params": {"nlist": 5, "nprobe": 5}},
        ),
        ({"index_type": "ivf"}, {"type": "ivf", "params": {"nlist": 21, "nprobe": 16}}),
    ],
)
def test_index_type_and_parameters_come_from_settings_and_reach_the_manifest(
    tmp_path: Path,
    corpus_file: Path,
    encoder: FakeEncoder,
    overrides: dict[str, object],
    expected: dict[str, object],
) -> None:
    settings = Settings(data_dir=tmp_path / "data", **overrides)  # type: ignore[arg-type]
    catalog = Root(settings).catalog
    import_file(catalog, corpus_file)
    report = build_index(settings, catalog, encoder)
    manifest = json.loads((settings.index_root / "versions" / report.version / "manifest.json").read_text())
    assert manifest["index"] == expected
    if expected["params"] and expected["params"].get("nlist") != 21:  # type: ignore[union-attr]
        # Parameters generous enough to be exact on 30 articles: the topics come back whole.
        recommender = make_recommender(settings, catalog, encoder)
        assert {topic_of(i) for i in _ids(recommender, "election-3")} == {"election"}
    catalog.close()
