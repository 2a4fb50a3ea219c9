"""Lexical candidates per language (recsys/version/lexical.py): each text tokenised as its language
(Snowball stems, stop words, character pairs for Chinese, Japanese and Korean), matches only within a
language, texts of no language exactly as before, and a query scored as the build scores it."""

from __future__ import annotations

from pathlib import Path

import bm25s
import numpy as np
import pytest

from index.build import build_index
from recsys.articles import Article
from recsys.catalog.ingest import import_file
from recsys.root import Root
from recsys.serving.query import RelatedQuery
from recsys.settings import Settings
from recsys.version.lexical import GROUPS_FILE, LexicalIndex, language_group, tokenize
from recsys.version.store import IndexStore
from tests.fakes import FakeEncoder, write_jsonl

GERMAN = [
    "Die Bundesregierung beschließt neue Regeln für Häuser",  # Häuser -> haus
    "Ein Haus am See brennt nieder",
    "Fußball: der Verein gewinnt das Spiel",
]
CHINESE = [
    "北京市政府今天宣布新的交通政策",
    "上海股市周一大幅上涨",
    "新的交通政策将于下月实施",
]


def test_languages_are_grouped_by_their_primary_subtag() -> None:
    assert language_group("de-AT") == "de" and language_group("zh-Hant-TW") == "zh"
    assert language_group(None) == "" and language_group("") == ""


def test_a_german_inflection_matches_its_stem() -> None:
    assert tokenize(["Die Häuser der Regierung"], "de") == tokenize(["das Haus der Regierungen"], "de")
    index = LexicalIndex.build(GERMAN, ["de"] * 3)
    rows, scores = index.matches("Häuser", 3, language="de-DE")
    assert sorted(rows.tolist()) == [0, 1] and (scores > 0).all()
    # Without its language a query is read as before: unstemmed, "häuser" matches no stem.
    assert index.matches("Häuser", 3)[0].size == 0


def test_chinese_is_read_in_character_pairs() -> None:
    assert tokenize(["交通政策 COVID"], "zh") == [["交通", "通政", "政策", "covid"]]
    index = LexicalIndex.build(CHINESE, ["zh-Hans"] * 3)
    rows, _ = index.lists(np.arange(3), 2)
    assert rows[0][0] == 2 and rows[2][0] == 0  # the two transport-policy stories
    assert sorted(index.matches("交通政策", 3, language="zh")[0].tolist()) == [0, 2]


def test_no_lexical_score_across_known_languages() -> None:
    texts = ["Berlin Brandenburg Flughafen", "Berlin Brandenburg airport", "Berlin Brandenburg Flughafen"]
    index = LexicalIndex.build(texts, ["de", "en", None])
    rows, _ = index.lists(np.arange(3), 3)
    assert set(rows[0][rows[0] >= 0].tolist()) == {2}  # German: the text of no language, not English
    assert set(rows[1][rows[1] >= 0].tolist()) == {2}
    assert set(rows[2][rows[2] >= 0].tolist()) == {0, 1}  # no language: matches any
    assert index.matches("Berlin Brandenburg", 3, language="en")[0].tolist() == [1, 2]
    assert index.matches("Berlin Brandenburg", 3)[0].tolist() == [0, 1, 2]
    # A language the version has no article of: only the texts of none.
    assert index.matches("Berlin Brandenburg", 3, language="fr")[0].tolist() == [2]


def test_texts_without_a_language_keep_todays_tokens_and_scores() -> None:
    texts = ["The houses of the government", "A house by the lake burns down", "Governments build houses"]
    assert tokenize(texts) == bm25s.tokenize(texts, return_ids=False, show_progress=False)
    assert tokenize(texts, "en-GB") == tokenize(texts)  # English: stemming did not pay
    before, after = LexicalIndex.build(texts), LexicalIndex.build(texts, [None, None, None])
    for name, array in before.arrays().items():
        assert np.array_equal(array, after.arrays()[name]), name
    rows, scores = before.lists(np.arange(3), 2)
    rows_en, scores_en = LexicalIndex.build(texts, ["en"] * 3).lists(np.arange(3), 2)
    assert np.array_equal(rows, rows_en) and np.array_equal(scores, scores_en)


@pytest.mark.parametrize("language", ["de", "zh", None])
def test_a_query_is_scored_as_the_build_scores_it(language: str | None) -> None:
    texts = [*GERMAN, *CHINESE, "Regeln für Häuser und Spiel"]
    languages = [language] * len(texts)
    index = LexicalIndex.build(texts, languages)
    for row in range(len(texts)):
        stored_rows, stored_scores = index.lists(np.array([row]), 4)
        keep = stored_rows[0] >= 0
        draft_rows, draft_scores = index.matches(texts[row], 4, language=language, skip_row=row)
        assert draft_rows.tolist() == stored_rows[0][keep].tolist()
        assert np.allclose(draft_scores, stored_scores[0][keep], atol=1e-5)


def test_a_version_keeps_the_languages_and_a_draft_matches_within_its_own(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data", neighbours=8, lexical_neighbours=8)  # type: ignore[call-arg]
    catalog = Root(settings).catalog
    records: list[dict[str, object]] = [
        {"id": f"de-{i}", "title": t, "body": t, "language": "de"} for i, t in enumerate(GERMAN)
    ]
    records += [{"id": f"zh-{i}", "title": t, "body": t, "language": "zh"} for i, t in enumerate(CHINESE)]
    records.append({"id": "en-0", "title": "Haus Häuser", "body": "Haus Häuser Regeln", "language": "en"})
    import_file(catalog, write_jsonl(tmp_path / "a.jsonl", records), strict=True)
    build_index(settings, catalog, FakeEncoder())
    loaded = IndexStore(settings.index_dir).load()
    assert GROUPS_FILE in loaded.manifest.data["files"] and loaded.lexical is not None
    assert loaded.lexical_rows is not None
    row = loaded.snapshot.by_id.row("zh-0")
    assert row is not None
    assert [loaded.snapshot.ids[r] for r in loaded.lexical_rows[row] if r >= 0] == ["zh-2"]
    english = loaded.snapshot.by_id.row("en-0")
    assert english is not None and (loaded.lexical_rows[english] < 0).all()  # German words, English text
    draft_rows, _ = loaded.lexical.matches("Die Häuser", 8, language="de")
    assert sorted(loaded.snapshot.ids[r] for r in draft_rows) == ["de-0", "de-1"]
    recommender = Root(settings, encoder=FakeEncoder(), catalog=catalog).query_side.load()
    draft = Article(id="draft", title="Häuser", body="Regeln für Häuser", language="de")
    blocks = recommender.blocks_for_draft(draft, RelatedQuery(limit=5))
    assert {i.article.id for i in blocks.related.items} <= {"de-0", "de-1", "de-2"}
