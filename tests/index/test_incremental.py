"""Incremental builds: what changed is embedded and listed again, everything else is carried over,
and the result agrees with a full build where it must (flat and IVF indexes, fake encoder)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest

from index.build import build_index
from recsys.catalog.ingest import import_file
from recsys.demo_corpus import generate
from recsys.root import Root
from recsys.serving.queryside import QuerySide
from recsys.settings import Settings
from tests.fakes import FakeEncoder, synthetic_records, write_jsonl


def _neighbour_ids(query_side: QuerySide, article_id: str) -> list[str]:
    loaded = query_side.load_index()
    row = loaded.snapshot.by_id.row(article_id)
    assert row is not None
    rows = loaded.neighbours[row]
    return [loaded.snapshot.ids[int(r)] for r in rows if r >= 0]


@pytest.mark.parametrize("index_type", ["flat", "ivf"])
def test_an_incremental_build_lists_new_articles_under_older_ones_and_drops_removed_ones(
    tmp_path: Path, index_type: str
) -> None:
    settings = Settings(
        data_dir=tmp_path / "data", index_type=index_type, ivf_nlist=4, ivf_nprobe=4, neighbours=8
    )
    catalog = Root(settings).catalog
    encoder = FakeEncoder()
    import_file(catalog, write_jsonl(tmp_path / "a.jsonl", synthetic_records()), strict=True)
    first = build_index(settings, catalog, encoder)
    assert first.lists_computed == 30 and not first.manifest.data["build"]["incremental"]

    records = synthetic_records()
    harbour = next(r for r in records if r["id"] == "harbour-0")
    edited = next(r for r in records if r["id"] == "election-3")
    late = [
        {**harbour, "id": "harbour-late", "url": "https://news.example/harbour/late",
         "body": f"{harbour['body']} harbour ferry dock tide"},
        {**edited, "body": "a completely different story about theatre actors stage premiere"},
    ]  # fmt: skip
    import_file(catalog, write_jsonl(tmp_path / "b.jsonl", late), strict=True)
    catalog.set_status("football-1", "retracted")
    catalog.delete("vaccine-2")
    encoder.texts_encoded = 0
    second = build_index(settings, catalog, encoder)

    build = second.manifest.data["build"]
    assert build["incremental"] and encoder.texts_encoded == 2  # the new and the edited text only
    assert (build["added"], build["changed"], build["removed"]) == (1, 1, 2)
    # Lists computed: the new and the edited article, plus any list that lost half its members.
    assert 2 <= second.lists_computed < 30
    query_side = Root(settings, encoder=encoder, catalog=catalog).query_side
    loaded = query_side.load_index()
    assert len(loaded.vectors) == 29 and not loaded.vectors.contains(catalog.get("football-1").key)
    edited_key = catalog.get("election-3").key
    fresh = encoder.encode(
        ["Ballot Mayor Campaign a completely different story about theatre actors stage premiere"]
    )
    # The edited article's vector is the new text's (title + body recipe), not the old one.
    assert float(loaded.vectors.vector(edited_key) @ fresh[0]) > 0.5
    # The new article entered the lists of the older harbour stories it is close to.
    assert all("harbour-late" in _neighbour_ids(query_side, f"harbour-{i}") for i in range(3))
    assert "harbour-0" in _neighbour_ids(query_side, "harbour-late")
    recommender = query_side.load()
    assert "harbour-late" in [i.article.id for i in recommender.related("harbour-1", 5)]
    # Nothing removed is listed; nothing was left pointing at a row that does not exist.
    assert all(
        len(ids) == len(set(ids)) for ids in (_neighbour_ids(query_side, f"harbour-{i}") for i in range(6))
    )
    assert np.all(loaded.neighbours < len(loaded.snapshot))


def test_a_full_build_reuses_nothing(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data", neighbours=8)
    catalog = Root(settings).catalog
    import_file(catalog, write_jsonl(tmp_path / "a.jsonl", synthetic_records()), strict=True)
    build_index(settings, catalog, FakeEncoder())
    again = build_index(settings, catalog, FakeEncoder(), full=True)
    assert again.lists_computed == 30 and not again.manifest.data["build"]["incremental"]


@pytest.mark.parametrize("names", [False, True], ids=["names-off", "names-on"])
def test_an_incremental_build_carries_over_exactly_the_final_lists_it_would_rank_alike(
    tmp_path: Path, names: bool
) -> None:
    """Lists none of whose inputs changed are carried over; the result equals ranking every list
    again over the new version, to the last bit. With names on (the default), a dated article's
    list hangs on the whole version's names IDF, so only undated articles' lists are carried over:
    every third article of the demo corpus is made undated for that."""
    shape = {} if names else {"entity_weight": 0.0, "time_prior_long_share": 0.0}
    settings = Settings(data_dir=tmp_path / "data", **shape)  # type: ignore[arg-type]
    assert (settings.entity_weight > 0) is names
    catalog = Root(settings).catalog
    encoder = FakeEncoder()
    records = [d.to_record() for d in generate()]
    if names:
        records = [{**r, "published_at": None} if i % 3 == 0 else r for i, r in enumerate(records)]
    import_file(catalog, write_jsonl(tmp_path / "a.jsonl", records), strict=True)
    build_index(settings, catalog, encoder)
    edited = [{**records[5], "body": "a completely different story about theatre actors stage premiere"}]
    moved = [{**records[60], "published_at": "2026-01-02T03:04:05Z"}]  # same text, another time
    new = [{**records[7], "id": "late-7", "url": "https://news.example/late/7"}]
    import_file(catalog, write_jsonl(tmp_path / "b.jsonl", [*edited, *moved, *new]), strict=True)
    catalog.set_status(records[100]["id"], "retracted")
    second = build_index(settings, catalog, encoder)
    lists_meta = second.manifest.data["lists"]
    assert 0 < lists_meta["carried_over"] < lists_meta["stored"]
    if names:
        assert lists_meta["carried_over"] <= sum(r["published_at"] is None for r in records)

    query_side = Root(settings, encoder=encoder, catalog=catalog).query_side
    loaded = query_side.load_index()
    assert loaded.lists is not None
    again = query_side.recommender(loaded, clock=lambda: datetime(9999, 1, 1, tzinfo=UTC))
    ranked = again.final_lists(settings.default_limit)
    for name, array in loaded.lists.arrays().items():
        assert np.array_equal(array, ranked.arrays()[name], equal_nan=True), name
