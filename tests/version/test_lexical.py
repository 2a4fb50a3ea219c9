"""Lexical candidates (recsys/version/lexical.py): BM25 lists that are bm25s's, stored with each version,
carried over by incremental builds under the drift policy, fused with the dense candidates; and the
time prior of `related`, which leaves undated articles exactly as they were."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import bm25s
import numpy as np
import pytest

from index.build import build_index
from recsys.articles import Article
from recsys.catalog.ingest import import_file
from recsys.catalog.store import Catalog
from recsys.demo_corpus import generate
from recsys.encoding.recipe import TextRecipe
from recsys.errors import IndexMismatch
from recsys.root import Root
from recsys.serving.query import RelatedQuery
from recsys.settings import Settings
from recsys.version.lexical import LEXICAL_FILE, PTR_FILE, TOKENS, LexicalIndex
from recsys.version.store import IndexStore
from tests.fakes import FakeEncoder, synthetic_records, write_jsonl


def _demo_texts() -> list[str]:
    recipe = TextRecipe()
    return [recipe.text(d.title, d.body) for d in generate()]


def test_lists_are_what_bm25s_retrieves() -> None:
    texts = _demo_texts()
    index = LexicalIndex.build(texts)
    rows, scores = index.lists(np.arange(len(texts)), 10)
    retriever = bm25s.BM25()
    retriever.index(bm25s.tokenize(texts, show_progress=False), show_progress=False)
    for i in range(0, len(texts), 17):
        tokens = bm25s.tokenize([texts[i]], return_ids=False, show_progress=False)
        found, raw = retriever.retrieve(tokens, k=len(texts), show_progress=False)
        theirs = {int(d): float(s) for d, s in zip(found[0], raw[0], strict=True) if d != i and s > 0}
        own = float(raw[0][list(found[0]).index(i)])
        mine = rows[i][rows[i] >= 0]
        # Same scores (normalised by the article's own), so the same list up to float ties.
        for row, score in zip(mine.tolist(), scores[i][: len(mine)].tolist(), strict=True):
            assert score == pytest.approx(min(1.0, theirs[row] / own), abs=1e-4)
        best = sorted(theirs.values(), reverse=True)[: len(mine)]
        assert np.allclose(sorted(scores[i][: len(mine)] * own, reverse=True), best, rtol=1e-4)


def test_a_copy_scores_one_and_a_draft_is_scored_as_if_indexed() -> None:
    texts = _demo_texts()
    index = LexicalIndex.build([*texts, texts[5]])  # row len(texts) is a copy of row 5
    rows, scores = index.lists(np.array([5]), 5)
    assert rows[0][0] == len(texts) and scores[0][0] == pytest.approx(1.0)
    assert np.all((scores[0][rows[0] >= 0] > 0) & (scores[0][rows[0] >= 0] <= 1))
    for terms in (0, 8):
        stored_rows, stored_scores = index.lists(np.array([7]), 12, max_terms=terms)
        draft_rows, draft_scores = index.matches(texts[7], 12, max_terms=terms, skip_row=7)
        assert draft_rows.tolist() == stored_rows[0].tolist()
        assert np.allclose(draft_scores, stored_scores[0], atol=1e-5)
    assert index.matches("", 5)[0].size == 0
    assert index.matches("zzzqqq unknownword", 5)[0].size == 0


def _built(tmp_path: Path, **overrides: object) -> tuple[Settings, Catalog]:
    settings = Settings(data_dir=tmp_path / "data", neighbours=8, lexical_neighbours=8, **overrides)  # type: ignore[arg-type]
    catalog = Root(settings).catalog
    import_file(catalog, write_jsonl(tmp_path / "a.jsonl", synthetic_records()), strict=True)
    build_index(settings, catalog, FakeEncoder())
    return settings, catalog


def test_a_version_stores_its_lexical_lists_checksummed(tmp_path: Path) -> None:
    settings, catalog = _built(tmp_path)
    loaded = Root(settings, encoder=FakeEncoder(), catalog=catalog).query_side.load_index()
    files = loaded.manifest.data["files"]
    assert LEXICAL_FILE in files and PTR_FILE in files
    assert loaded.manifest.data["lexical"] == {
        "k": 8,
        "query_terms": 0,
        "tokens": TOKENS,
        "drift": 0.0,
        "lists_computed": 30,
    }
    assert loaded.lexical is not None and loaded.lexical_rows is not None
    row = loaded.snapshot.by_id.row("harbour-0")
    assert row is not None
    listed = {loaded.snapshot.ids[r] for r in loaded.lexical_rows[row] if r >= 0}
    assert "harbour-0" not in listed and "harbour-1" in listed


def test_above_the_size_cap_a_version_has_dense_candidates_only(tmp_path: Path) -> None:
    settings, catalog = _built(tmp_path, lexical_max_articles=29)  # 30 articles
    side = Root(settings, encoder=FakeEncoder(), catalog=catalog).query_side
    loaded = side.load_index()
    assert LEXICAL_FILE not in loaded.manifest.data["files"] and "lexical" not in loaded.manifest.data
    assert loaded.lexical is None
    listed = [item.article.id for item in side.recommender(loaded).related("harbour-0", limit=3)]
    assert listed and "harbour-0" not in listed


def test_an_older_format_is_refused_with_what_to_do(tmp_path: Path) -> None:
    settings, _ = _built(tmp_path)
    store = IndexStore(settings.index_root)
    version = store.current_version()
    assert version is not None
    path = store.versions_dir / version / "manifest.json"
    manifest = json.loads(path.read_text())
    path.write_text(json.dumps({**manifest, "format_version": 2}))
    with pytest.raises(IndexMismatch, match="predates the lexical candidates.*recsys build"):
        store.load()


def test_incremental_builds_carry_lexical_lists_until_the_corpus_drifts(tmp_path: Path) -> None:
    settings, catalog = _built(tmp_path, lexical_refresh=0.1)
    records = synthetic_records()
    harbour = next(r for r in records if r["id"] == "harbour-0")
    late = {**harbour, "id": "harbour-late", "url": "https://news.example/harbour/late"}
    import_file(catalog, write_jsonl(tmp_path / "b.jsonl", [late]), strict=True)
    second = build_index(settings, catalog, FakeEncoder())
    lexical = second.manifest.data["lexical"]
    # One article of 31 added (3%): carried over, the new one listed and inserted into older lists.
    assert lexical["lists_computed"] == 1 and lexical["drift"] == pytest.approx(1 / 31)
    loaded = Root(settings, encoder=FakeEncoder(), catalog=catalog).query_side.load_index()
    assert loaded.lexical_rows is not None
    row = loaded.snapshot.by_id.row("harbour-0")
    assert row is not None
    assert "harbour-late" in {loaded.snapshot.ids[r] for r in loaded.lexical_rows[row] if r >= 0}
    # Three more (13% in all, past the 10% bound): every list is computed again, drift starts over.
    more = [
        {**late, "id": f"harbour-late{i}", "url": f"https://news.example/harbour/late{i}"} for i in range(3)
    ]
    import_file(catalog, write_jsonl(tmp_path / "c.jsonl", more), strict=True)
    third = build_index(settings, catalog, FakeEncoder())
    assert third.manifest.data["lexical"]["lists_computed"] == 34
    assert third.manifest.data["lexical"]["drift"] == 0.0


def test_a_stored_article_runs_no_bm25_a_draft_does(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    settings, catalog = _built(tmp_path)
    recommender = Root(settings, encoder=FakeEncoder(), catalog=catalog).query_side.load()
    calls: list[str] = []
    original = LexicalIndex.matches

    def counting(self: LexicalIndex, text: str, k: int, **kwargs: object) -> tuple[np.ndarray, np.ndarray]:
        calls.append(text)
        return original(self, text, k, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(LexicalIndex, "matches", counting)
    assert recommender.related("harbour-0", 5)
    assert calls == []
    draft = Article(id="draft", title="Harbour ferry", body="harbour ferry dock tide boats")
    blocks = recommender.blocks_for_draft(draft, RelatedQuery(limit=5))
    assert len(calls) == 1 and blocks.related.items
    assert all(i.article.id.startswith("harbour") for i in blocks.related.items[:3])


def test_lexical_fusion_lifts_an_exact_wording_match(tmp_path: Path) -> None:
    """Two candidates at the same cosine: the one sharing the article's words ranks first."""
    settings, catalog = _built(tmp_path)
    side = Root(settings, encoder=FakeEncoder(), catalog=catalog).query_side
    fused = side.load()
    plain = side.recommender(fused.index)
    plain.policy = dataclasses.replace(plain.policy, fusion_weight=0.0)
    assert fused.policy.fusion_weight == 0.4
    for article_id in ("harbour-0", "election-2"):
        a = [(i.article.id, round(i.score, 6)) for i in fused.related(article_id, 5)]
        b = [(i.article.id, round(i.score, 6)) for i in plain.related(article_id, 5)]
        assert a != b  # the scores carry the lexical share


def _undated(records: list[dict[str, object]]) -> list[dict[str, object]]:
    return [{**r, "published_at": None} for r in records]


@pytest.mark.parametrize("dated", [False, True])
@pytest.mark.parametrize("shape", [{}, {"time_prior_long_share": 0.5, "time_prior_undated_days": 365.0}])
def test_the_time_prior_leaves_undated_articles_exactly_as_without_it(
    tmp_path: Path, dated: bool, shape: dict[str, float]
) -> None:
    """Whatever the prior's shape and its policy for undated items: an undated article's own list
    (so every list of a fully undated corpus) is exactly the list without the prior."""
    settings = Settings(data_dir=tmp_path / "data", neighbours=16, time_prior_weight=0.5, **shape)
    catalog = Root(settings).catalog
    records = synthetic_records()
    # An undated corpus, or a dated one whose subjects below are undated.
    chosen = records if dated else _undated(records)
    subjects = ["harbour-0", "election-2", "football-3"]
    chosen = [{**r, "published_at": None} if r["id"] in subjects else r for r in chosen]
    import_file(catalog, write_jsonl(tmp_path / "a.jsonl", chosen), strict=True)
    build_index(settings, catalog, FakeEncoder())
    side = Root(settings, encoder=FakeEncoder(), catalog=catalog).query_side
    with_prior = side.load()
    without = side.recommender(with_prior.index)
    without.policy = dataclasses.replace(without.policy, time_prior_weight=0.0)
    for article_id in subjects:
        a = with_prior.related_list(article_id, RelatedQuery(limit=10))
        b = without.related_list(article_id, RelatedQuery(limit=10))
        assert [(i.article.id, i.score) for i in a.items] == [(i.article.id, i.score) for i in b.items]


def test_the_time_prior_prefers_the_articles_own_time_either_side(tmp_path: Path) -> None:
    settings = Settings(
        data_dir=tmp_path / "data", neighbours=16, time_prior_weight=0.5, time_prior_half_life_days=30
    )
    catalog = Root(settings).catalog
    base = next(r for r in synthetic_records() if r["id"] == "harbour-0")
    # Identical texts: only the dates tell them apart. The article sits in mid 2025.
    records = [
        {**base, "id": name, "url": f"https://news.example/{name}", "published_at": when}
        for name, when in (
            ("article", "2025-06-01T00:00:00Z"),
            ("years-before", "2023-06-01T00:00:00Z"),
            ("month-before", "2025-05-01T00:00:00Z"),
            ("month-after", "2025-07-01T00:00:00Z"),
            ("years-after", "2026-09-01T00:00:00Z"),
        )
    ]
    import_file(catalog, write_jsonl(tmp_path / "a.jsonl", records), strict=True)
    build_index(settings, catalog, FakeEncoder())
    side = Root(settings, encoder=FakeEncoder(), catalog=catalog).query_side
    recommender = side.load()
    # Dedup off: the texts are identical on purpose.
    ranked = recommender.related_list("article", RelatedQuery(limit=4, dedup=False, diversity=False))
    ids = [i.article.id for i in ranked.items]
    # Nearest in time first, either side: 30 days after, 31 before, 15 months after, 2 years before.
    assert ids == ["month-after", "month-before", "years-after", "years-before"]
    # freshness=false turns every time term off: all four tie on relevance (ties by key).
    plain = recommender.related_list(
        "article", RelatedQuery(limit=4, dedup=False, diversity=False, freshness=False)
    )
    assert len({round(i.score, 6) for i in plain.items}) == 1
