"""Per-language reporting and rated pairs: groups by query language and language pair on a tiny
corpus with known lists, and the correlations with their bootstrap intervals against scipy."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from scipy import stats

from recsys.articles import Article
from recsys.catalog.store import StoredArticle
from recsys.evaluation.corpus import EvalCorpus
from recsys.evaluation.languages import CROSS_LANGUAGE, EVERY_UNIT, SAME_LANGUAGE, language_of, pair_label
from recsys.evaluation.ratings import (
    RatedPair,
    correlate,
    named_pairs,
    pearson_rows,
    read_rated_pairs,
    spearman_rows,
)
from recsys.evaluation.runner import run
from recsys.evaluation.truth import CuratedTruth, read_pairs
from tests.helpers import Fixed, tiny_corpus


def _article(key: int, article_id: str, language: str | None, related: tuple[str, ...] = ()) -> StoredArticle:
    article = Article(id=article_id, title=article_id, language=language, related=related)
    return StoredArticle(
        key=key, article=article, status="published", content_hash=article.content_hash, updated_at="x"
    )


def _bilingual() -> EvalCorpus:
    """e1 is linked to e2 (en) and d1 (de); d1 to d2 (de); x (en) is linked to nothing."""
    articles = [
        _article(1, "e1", "en-GB", ("e2", "d1")),
        _article(2, "e2", "en"),
        _article(3, "d1", "de", ("d2",)),
        _article(4, "d2", "de-AT"),
        _article(5, "x", "en"),
    ]
    return EvalCorpus(articles, np.eye(5, dtype=np.float32))


LISTS = {"e1": ["e2", "x", "d1"], "e2": ["x", "e1"], "d1": ["d2", "e1"], "d2": ["e1", "d1"]}
BEST = {"e1": ["e2", "d1"], "e2": ["e1"], "d1": ["d2", "e1"], "d2": ["d1"]}


def _run(min_group: int, rated: list[RatedPair] | None = None):  # type: ignore[no-untyped-def]
    corpus = _bilingual()
    return run(
        corpus,
        [Fixed("system", LISTS), Fixed("best", BEST)],
        CuratedTruth(corpus),
        ["d1", "d2", "e1", "e2"],
        ks=(1, 5),
        resamples=200,
        permutations=200,
        min_group=min_group,
        rated=rated or [],
    )


def test_language_codes_are_primary_subtags() -> None:
    corpus = _bilingual()
    assert [language_of(a) for a in corpus.articles] == ["en", "en", "de", "de", "en"]
    assert language_of(_article(9, "n", None)) == ""
    assert pair_label("zh", "en") == "en-zh"
    assert pair_label("zh", "en", {frozenset(("en", "zh")): "zh-en"}) == "zh-en"


def test_groups_by_query_language_reuse_each_querys_values() -> None:
    report = _run(min_group=3).languages
    assert report is not None and report.metrics == ["R@1", "R@5", "nDCG@5"]
    by_name = {(g.kind, g.name): g for g in report.groups}
    english, german = by_name[("query language", "en")], by_name[("query language", "de")]
    # e1: e2 of {e2, d1} at rank 1 (0.5); e2: its one partner at rank 2 (0); likewise d1 and d2.
    assert english.units == 2 and english.means["system"]["R@1"] == pytest.approx(0.25)
    assert german.means["system"]["R@1"] == pytest.approx(0.25)
    assert english.means["best"]["R@1"] == pytest.approx(0.75)


def test_language_pairs_judge_a_list_on_the_partners_of_one_language() -> None:
    report = _run(min_group=3).languages
    assert report is not None
    pairs = {g.name: g for g in report.groups if g.kind == "language pair"}
    assert list(pairs)[:2] == [SAME_LANGUAGE, CROSS_LANGUAGE]
    # Units: (e1, en) (e2, en) (d1, de) (d2, de) within a language, (e1, de) (d1, en) across.
    assert pairs[SAME_LANGUAGE].units == 4 and pairs[CROSS_LANGUAGE].units == 2
    assert pairs[SAME_LANGUAGE].means["system"]["R@1"] == pytest.approx(0.5)
    cross = pairs[CROSS_LANGUAGE].means["system"]
    # e1's de partner is third, d1's en partner second: no hit at 1, both within 5.
    assert cross["R@1"] == 0.0 and cross["R@5"] == 1.0
    assert cross["nDCG@5"] == pytest.approx((1 / np.log2(4) + 1 / np.log2(3)) / 2)
    assert pairs["en-en"].units == 2 and pairs["de-de"].units == 2 and pairs["de-en"].units == 2
    # Significance only where a group has at least min_group units.
    assert pairs[SAME_LANGUAGE].significance is not None and pairs["de-en"].significance is None
    comparison = pairs[SAME_LANGUAGE].significance.comparisons[0]
    assert comparison.baseline == "best"


def test_language_pairs_take_the_names_of_the_pairs_file() -> None:
    evaluation = _run(min_group=3, rated=[RatedPair("e1", "d1", 1.0, "en", "de")])
    assert evaluation.languages is not None
    assert "en-de" in {g.name for g in evaluation.languages.groups}
    text = "\n".join(evaluation.languages.format_lines(["system", "best"]))
    assert "R@1 by language pair" in text and "cross-language" in text
    data = evaluation.as_dict()["languages"]
    assert data["minimum_units_for_significance"] == 3 and data["groups"][0]["kind"] == "query language"


def test_one_language_gives_no_language_report() -> None:
    corpus = tiny_corpus()  # no languages at all
    evaluation = run(corpus, [Fixed("system", {"a": ["c"]})], CuratedTruth(corpus), ["a", "c"], ks=(1, 5))
    assert evaluation.languages is None and evaluation.as_dict()["languages"] is None


def test_rated_pairs_read_both_layouts(tmp_path: Path) -> None:
    multilingual = tmp_path / "multi.tsv"
    multilingual.write_text("id1\tid2\tlang1\tlang2\toverall\na\tb\tzh\ten\t1.0000\nc\td\tde\tde\t3.5\n")
    assert read_rated_pairs(multilingual) == [
        RatedPair("a", "b", 1.0, "zh", "en"),
        RatedPair("c", "d", 3.5, "de", "de"),
    ]
    assert read_pairs(multilingual) == {("a", "b"): 3.0, ("c", "d"): 0.5}
    assert named_pairs(read_rated_pairs(multilingual)) == {
        frozenset(("zh", "en")): "zh-en",
        frozenset(("de",)): "de-de",
    }
    english = tmp_path / "english.tsv"
    english.write_text("id1\tid2\toverall_1_to_4_lower_is_more_similar\na\tb\t2.0\n")
    assert read_rated_pairs(english) == [RatedPair("a", "b", 2.0)]


def test_row_correlations_match_scipy() -> None:
    rng = np.random.default_rng(3)
    x = rng.integers(0, 5, size=(4, 40)).astype(np.float64)  # many ties
    y = x + rng.normal(0, 2, size=x.shape)
    for row in range(4):
        assert pearson_rows(x, y)[row] == pytest.approx(stats.pearsonr(x[row], y[row]).statistic)
        assert spearman_rows(x, y)[row] == pytest.approx(stats.spearmanr(x[row], y[row]).statistic)
    assert np.isnan(pearson_rows(np.ones(5), np.arange(5.0)))


class Scores:
    """A pair scorer with known scores (NaN for a pair it has none for)."""

    pair_score = "known"

    def __init__(self, name: str, scores: dict[tuple[str, str], float]) -> None:
        self.name = name
        self._scores = scores

    def score(self, first: str, second: str) -> float:
        return self._scores.get((first, second), float("nan"))


def test_correlations_with_intervals_per_language_pair_and_a_paired_test() -> None:
    rng = np.random.default_rng(0)
    pairs = [
        RatedPair(f"a{i}", f"b{i}", float(rng.integers(1, 5)), *(("en", "en") if i < 30 else ("de", "en")))
        for i in range(60)
    ]
    ratings = np.array([p.rating for p in pairs])
    good = {(p.id1, p.id2): -p.rating + rng.normal(0, 0.5) for p in pairs}
    noise = {(p.id1, p.id2): float(rng.normal()) for p in pairs}
    noise[("a0", "b0")] = float("nan")  # a pair one method cannot score is left out for every method
    report = correlate([Scores("system", good), Scores("noise", noise)], pairs, {}, resamples=500, seed=1)
    assert report is not None
    assert [g.name for g in report.groups] == ["all", "same-language", "cross-language", "de-en", "en-en"]
    overall = report.group("all")
    assert overall.pairs == 59
    kept = np.array([good[(p.id1, p.id2)] for p in pairs[1:]])
    assert overall.correlations["system"]["pearson"].mean == pytest.approx(
        stats.pearsonr(kept, -ratings[1:]).statistic
    )
    assert overall.correlations["system"]["spearman"].mean == pytest.approx(
        stats.spearmanr(kept, -ratings[1:]).statistic
    )
    interval = overall.correlations["system"]["pearson"]
    assert interval.low <= interval.mean <= interval.high
    versus = {(c.metric, c.baseline): c for c in overall.comparisons}
    assert versus[("pearson", "noise")].significant and versus[("pearson", "noise")].difference.mean > 0
    assert report.group("de-en").pairs == 30
    smaller = correlate([Scores("system", good)], pairs, {}, resamples=100, minimum=40)
    assert smaller is not None and [g.name for g in smaller.groups] == ["all"]
    data = report.as_dict()
    assert data["groups"]["all"]["methods"]["noise"]["spearman"]["low"] is not None
    assert "system" in "\n".join(report.format_lines(["system", "noise"]))


class _Editions(Fixed):
    """A method whose page also links each article's other editions: `elsewhere` lists."""

    def __init__(self, name: str, lists: dict[str, list[str]], elsewhere: dict[str, list[str]]) -> None:
        super().__init__(name, lists)
        self._elsewhere = elsewhere

    def recommend_elsewhere(self, query: StoredArticle, k: int) -> list[str] | None:
        return self._elsewhere[query.id][:k] if query.id in self._elsewhere else None


def test_cross_language_units_are_judged_on_the_other_languages_list() -> None:
    corpus = _bilingual()
    # The same default lists as `system`, and e1 / d1 find their other-language partner first there.
    editions = _Editions("editions", LISTS, {"e1": ["d1", "d2"], "d1": ["e1", "x"]})
    evaluation = run(
        corpus,
        [Fixed("system", LISTS), editions],
        CuratedTruth(corpus),
        ["d1", "d2", "e1", "e2"],
        ks=(1, 5),
        resamples=200,
        permutations=200,
        min_group=3,
    )
    assert evaluation.languages is not None
    pairs = {g.name: g for g in evaluation.languages.groups if g.kind == "language pair"}
    assert list(pairs)[:3] == [EVERY_UNIT, SAME_LANGUAGE, CROSS_LANGUAGE]
    assert pairs[CROSS_LANGUAGE].means["system"]["R@1"] == 0.0
    assert pairs[CROSS_LANGUAGE].means["editions"]["R@1"] == 1.0
    # Same-language units still read the default list: the two methods are level there.
    assert pairs[SAME_LANGUAGE].means["editions"] == pairs[SAME_LANGUAGE].means["system"]
    assert pairs[EVERY_UNIT].units == 6 and pairs[EVERY_UNIT].means["editions"]["R@1"] == pytest.approx(4 / 6)
    # The overall table is the default lists' alone.
    by_name = {r.name: r for r in evaluation.results}
    assert by_name["editions"].recall == by_name["system"].recall
    assert by_name["editions"].elsewhere == {"e1": ["d1", "d2"], "d1": ["e1", "x"]}
    assert by_name["system"].elsewhere == {}


def test_without_other_languages_lists_there_is_no_every_unit_group() -> None:
    report = _run(min_group=3).languages
    assert report is not None and EVERY_UNIT not in {g.name for g in report.groups}
