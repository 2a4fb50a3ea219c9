"""The long-story evaluation set (`--relevance long-story`, issue 22): stories that run for months,
judged on their items months away, with the story's nearer items set aside; built on a synthetic
wcep-like fixture with the fake encoder, and checked on the shared wcep2025_dev when it is there."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from index.evaluation import evaluate_prepared, prepare
from recsys.articles import Article, read_articles
from recsys.catalog.store import StoredArticle
from recsys.errors import InvalidInput
from recsys.evaluation.corpus import EvalCorpus
from recsys.evaluation.runner import score_method
from recsys.evaluation.truth import (
    LONG_STORY_GAP_DAYS,
    LONG_STORY_SPAN_DAYS,
    LongStoryTruth,
    make_truth,
)
from recsys.root import Root
from recsys.settings import Settings
from tests.fakes import FakeEncoder, write_jsonl
from tests.helpers import Fixed, shared_corpus

# A strike that runs from January to August (span 212 days), a fire over one month, a lone item, and
# an undated item filed under the strike.
STRIKE = [
    ("s-jan01", "2026-01-01"),
    ("s-jan20", "2026-01-20"),
    ("s-feb20", "2026-02-20"),
    ("s-jun10", "2026-06-10"),
    ("s-aug01", "2026-08-01"),
]
FIRE = [("f-may01", "2026-05-01"), ("f-may30", "2026-05-30")]
# wcep2025_dev's items in stories spanning more than 120 days with an item more than 60 days away.
LONG_WCEP_QUERIES = 1911


def _records() -> list[dict[str, object]]:
    strike = [
        {"id": i, "title": f"harbour dock strike {i}", "body": "dockers walk out", "published_at": day,
         "story": "harbour strike"}
        for i, day in STRIKE
    ]  # fmt: skip
    fire = [
        {"id": i, "title": f"warehouse fire {i}", "body": "crews fight the blaze", "published_at": day,
         "story": "warehouse fire"}
        for i, day in FIRE
    ]  # fmt: skip
    others = [
        {"id": "lone", "title": "harbour dock strike elsewhere", "published_at": "2026-03-01",
         "story": "singleton:lone"},
        {"id": "undated", "title": "harbour dock strike explained", "story": "harbour strike"},
    ]  # fmt: skip
    return [*strike, *fire, *others]


def _haystack() -> list[dict[str, object]]:
    """Older look-alikes with no story: what a long-tail prior must put below the story's months."""
    return [
        {"id": f"old-{year}", "title": f"harbour dock strike {year}", "body": "dockers walk out",
         "published_at": f"{year}-02-01"}
        for year in (2012, 2016, 2019)
    ]  # fmt: skip


@pytest.fixture
def long_prepared(settings: Settings, tmp_path: Path, encoder: FakeEncoder):  # type: ignore[no-untyped-def]
    stories = write_jsonl(tmp_path / "stories.jsonl", _records())
    hay = write_jsonl(tmp_path / "hay.jsonl", _haystack())
    return prepare(Root(settings, encoder=encoder), [stories], haystack=[hay])


def test_long_stories_judge_items_months_away_and_set_the_nearer_ones_aside(long_prepared) -> None:  # type: ignore[no-untyped-def]
    truth = make_truth(long_prepared.corpus, "long-story", stories=long_prepared.stories)
    assert isinstance(truth, LongStoryTruth)
    # Only the strike spans more than 120 days (212); every strike item has an item more than 60
    # days away; the fire (29 days), the singleton and the undated item are never queries.
    assert truth.queries() == sorted(i for i, _ in STRIKE)
    assert {i for i in ("s-jan20", "s-feb20", "s-jun10", "s-aug01") if truth.is_relevant("s-jan01", i)} == {
        "s-jun10",
        "s-aug01",
    }
    assert truth.count("s-jan01") == 2 and truth.ideal("s-jan01", 5) == [1.0, 1.0]
    assert truth.ignored("s-jan01") == {"s-jan20", "s-feb20"}  # 19 and 50 days: set aside
    assert truth.ignored("s-aug01") == {"s-jun10"} and truth.count("s-aug01") == 3  # 52 days aside
    for query in truth.queries():
        assert query not in truth.ignored(query)
        assert not truth.is_relevant(query, "undated") and not truth.is_relevant(query, "old-2019")
    assert truth.gain("s-jan01", "s-aug01") == 1.0 and truth.gain("s-jan01", "s-jan20") == 0.0
    assert (
        "more than 60 days away" in truth.description and "spanning more than 120 days" in truth.description
    )


def test_the_set_aside_items_leave_every_list_and_the_method_is_asked_for_more(long_prepared) -> None:  # type: ignore[no-untyped-def]
    corpus = long_prepared.corpus
    truth = make_truth(corpus, "long-story", stories=long_prepared.stories)
    asked: list[int] = []
    lists = {"s-jan01": ["s-jan20", "old-2019", "s-feb20", "s-aug01", "s-jun10"]}

    class Asking(Fixed):
        def recommend(self, query: StoredArticle, k: int) -> list[str]:
            asked.append(k)
            return super().recommend(query, k)

    result = score_method(Asking("fixed", lists), corpus, truth, ["s-jan01"], ks=(1, 3))
    assert asked == [3 + 2]  # two nearer items set aside: two more asked for
    assert result.lists["s-jan01"] == ["old-2019", "s-aug01", "s-jun10"]
    assert result.recall == {1: 0.0, 3: 1.0} and result.precision[3] == pytest.approx(2 / 3)


def test_recsys_evaluate_reports_the_long_story_set_with_baselines_and_significance(long_prepared) -> None:  # type: ignore[no-untyped-def]
    evaluation = evaluate_prepared(
        long_prepared, methods=["bm25", "dense", "system"], relevance="long-story", ks=(1, 5),
        resamples=200, permutations=200,
    )  # fmt: skip
    assert evaluation.truth.startswith("long stories")
    assert sorted(evaluation.query_ids) == sorted(i for i, _ in STRIKE)
    assert evaluation.labels == {"P@5": "story@5"}
    assert evaluation.significance is not None
    assert {c.baseline for c in evaluation.significance.comparisons} == {"bm25", "dense"}
    for result in evaluation.results:
        for query, items in result.lists.items():
            aside = {i for i, _ in STRIKE if abs(_day(i) - _day(query)) <= LONG_STORY_GAP_DAYS}
            assert not aside & set(items), (result.name, query)


def test_no_long_story_is_a_clear_error(settings: Settings, tmp_path: Path, encoder: FakeEncoder) -> None:
    short = [r for r in _records() if str(r["id"]).startswith("f-")]
    prepared = prepare(Root(settings, encoder=encoder), [write_jsonl(tmp_path / "short.jsonl", short)])
    with pytest.raises(InvalidInput, match="no story spans more than 120 days"):
        make_truth(prepared.corpus, "long-story", stories=prepared.stories)
    with pytest.raises(InvalidInput, match="needs a `story` field"):
        make_truth(prepared.corpus, "long-story", stories={})


def _day(article_id: str) -> float:
    day = dict(STRIKE)[article_id]
    return np.datetime64(day).astype("datetime64[D]").astype(float)


def test_the_long_story_set_of_the_shared_wcep2025_dev() -> None:
    """The set `recsys evaluate --relevance long-story` judges on wcep2025_dev, from the records alone
    (no model): its size, and that every judged pair is one story, months apart, in a long story."""
    path = shared_corpus("wcep2025_dev")
    articles = [a for _, a in read_articles(path) if isinstance(a, Article)]
    stored = [StoredArticle(n, a, "published", a.id, "") for n, a in enumerate(articles)]
    corpus = EvalCorpus(stored, np.zeros((len(stored), 1), dtype=np.float32))
    stories = {a.id: a.extra["story"] for a in articles if isinstance(a.extra.get("story"), str)}
    truth = LongStoryTruth(corpus, stories)
    queries = truth.queries()
    assert len(queries) == LONG_WCEP_QUERIES
    day = {a.id: np.datetime64(a.published_at[:10]).astype(float) for a in articles if a.published_at}
    members: dict[str, list[str]] = {}
    for article_id, story in stories.items():
        members.setdefault(story, []).append(article_id)
    for query in queries[::50]:
        story = stories[query]
        span = max(day[i] for i in members[story]) - min(day[i] for i in members[story])
        assert span > LONG_STORY_SPAN_DAYS
        relevant = [i for i in members[story] if truth.is_relevant(query, i)]
        assert relevant and all(abs(day[i] - day[query]) > LONG_STORY_GAP_DAYS for i in relevant)
        assert len(relevant) + len(truth.ignored(query)) == len(members[story]) - 1
