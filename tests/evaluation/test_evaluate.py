"""The evaluation library: metric arithmetic on hand-made lists, ground truth, baselines on the
synthetic corpus (fake encoder), the shared workflow, and importing an embedding cache."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from index.evaluation import evaluate_prepared, find_pairs, prepare
from recsys.articles import Article
from recsys.catalog.store import Catalog, StoredArticle
from recsys.errors import InvalidInput
from recsys.evaluation.baselines import METHOD_NAMES, make_methods, parse_method_names
from recsys.evaluation.corpus import EvalCorpus
from recsys.evaluation.metrics import ndcg, pair_correlation, pearson, spearman
from recsys.evaluation.report import format_table
from recsys.evaluation.runner import run, score_method
from recsys.evaluation.truth import CuratedTruth, ProxyTruth, choose_queries, make_truth, read_pairs
from recsys.root import Root
from recsys.settings import Settings
from recsys.version.store import IndexStore
from tests.fakes import FakeEncoder, synthetic_records, topic_of, write_jsonl
from tests.helpers import Fixed, tiny_corpus


def test_ndcg_and_correlations_match_hand_computed_values() -> None:
    assert ndcg([1, 0, 1], [1, 1]) == pytest.approx((1 + 1 / 2) / (1 + 1 / math.log2(3)))
    assert ndcg([0, 0], [1]) == 0.0 and ndcg([1], []) == 0.0
    assert pearson([1, 2, 3], [2, 4, 6]) == pytest.approx(1.0)
    assert spearman([1, 2, 3, 4], [10, 20, 30, 1000]) == pytest.approx(1.0)
    assert spearman([1, 1, 2], [3, 3, 1]) == pytest.approx(-1.0)  # ties get averaged ranks
    assert math.isnan(pearson([1, 1, 1], [1, 2, 3]))


def test_curated_truth_is_symmetric_and_proxy_counts_shared_labels() -> None:
    corpus = tiny_corpus()
    curated = CuratedTruth(corpus)
    assert curated.queries() == ["a", "c"]
    assert curated.is_relevant("c", "a") and curated.count("c") == 1 and not curated.is_relevant("a", "b")
    tags = ProxyTruth(corpus, "tags")
    assert tags.count("a") == 2  # c and e share t1
    assert tags.gain("b", "e") == 1.0 and tags.gain("b", "a") == 0.0
    assert tags.ideal("a", 10) == [1.0, 1.0]
    assert "d" not in tags.queries()
    section = make_truth(corpus, "section")
    assert section.count("a") == 2 and section.is_relevant("d", "c")


def test_graded_pairs_set_ndcg_gains_but_not_recall(tmp_path: Path) -> None:
    pairs = tmp_path / "pairs.tsv"
    pairs.write_text("id1\tid2\trating\na\tc\t1\na\te\t3\nb\td\t4\n")
    graded = read_pairs(pairs)
    assert graded == {("a", "c"): 3.0, ("a", "e"): 1.0, ("b", "d"): 0.0}
    truth = make_truth(tiny_corpus(), graded=graded)
    assert truth.gain("a", "c") == 3.0 and truth.gain("a", "e") == 1.0
    assert truth.count("a") == 1 and not truth.is_relevant("a", "e")
    assert truth.ideal("a", 5) == [3.0, 1.0]


def test_bad_pairs_file_and_unknown_relevance_are_clear_errors(tmp_path: Path) -> None:
    bad = tmp_path / "pairs.tsv"
    bad.write_text("id1\tid2\trating\na\tc\tseven\n")
    with pytest.raises(InvalidInput, match="pairs.tsv:2"):
        read_pairs(bad)
    bad.write_text("id1\tid2\trating\na\tc\t9\n")
    with pytest.raises(InvalidInput, match="outside 1..4"):
        read_pairs(bad)
    with pytest.raises(InvalidInput, match="no such pairs file"):
        read_pairs(tmp_path / "missing.tsv")
    with pytest.raises(InvalidInput, match="unknown relevance"):
        make_truth(tiny_corpus(), "vibes")


def test_score_method_on_known_lists() -> None:
    corpus = tiny_corpus()
    truth = CuratedTruth(corpus)
    method = Fixed("fixed", {"a": ["b", "c", "d"], "c": ["d", "e", "a"]})
    result = score_method(method, corpus, truth, ["a", "c"], ks=(1, 3), dup_threshold=0.95)
    assert result.recall == {1: 0.0, 3: 1.0}
    assert result.precision[3] == pytest.approx(2 / 6)
    assert result.mrr == pytest.approx((1 / 2 + 1 / 3) / 2)
    assert result.ndcg[3] == pytest.approx((1 / math.log2(3) + 1 / 2) / 2)
    # a's list: b (x), c (y), d (y) -> 1/3 in section x; c's list: d (y), e (x), a (x) -> 1/3
    assert result.section_agreement[3] == pytest.approx(1 / 3)
    assert result.section_agreement_by_section == {"x": pytest.approx(1 / 3), "y": pytest.approx(1 / 3)}
    # a's list holds b, a near-duplicate of a itself: one echo in three items; no duplicate pairs
    assert result.query_duplicates[3] == pytest.approx((1 / 3 + 0) / 2)
    assert result.duplicate_pairs[3] == 0.0
    assert result.coverage == {1: 2 / 5, 3: 1.0}
    # ages: a(01-10) - b(01-08) = 2, a - c = -2, a - d = 9; c(01-12) - d = 11, c - a = 2, e undated
    assert sorted(result.ages_days) == [-2.0, 2.0, 2.0, 9.0, 11.0]
    assert result.age_days_median == 2.0 and result.newer_share == pytest.approx(1 / 5)
    assert result.lists["a"] == ["b", "c", "d"]


def test_duplicate_pairs_and_self_and_unknown_ids_are_handled() -> None:
    corpus = tiny_corpus()
    truth = ProxyTruth(corpus, "section")
    method = Fixed("dups", {"c": ["c", "a", "b", "nope", "e"]})
    result = score_method(method, corpus, truth, ["c"], ks=(2, 3), dup_threshold=0.95)
    assert result.lists["c"] == ["a", "b"]  # the article itself and unknown ids are dropped, not refilled
    assert result.duplicate_pairs == {2: 1.0, 3: 1.0}
    assert result.intra_list_similarity[2] == pytest.approx(1.0)


def test_identical_copies_count_as_one_article() -> None:
    # q links p; p2 is p under another id (same title and body); q2 is a copy of q itself.
    def stored(key: int, article_id: str, text: str, **fields: object) -> StoredArticle:
        article = Article(id=article_id, title=text, body=text, **fields)  # type: ignore[arg-type]
        return StoredArticle(
            key=key, article=article, status="published", content_hash=article.content_hash, updated_at="x"
        )

    articles = [
        stored(1, "q", "query", related=("p",)),
        stored(2, "q2", "query"),
        stored(3, "p", "partner"),
        stored(4, "p2", "partner"),
        stored(5, "o", "other"),
    ]
    vectors = np.eye(5, dtype=np.float32)
    corpus = EvalCorpus(articles, vectors)
    assert corpus.copies.groups == 2 and corpus.copies.others("p") == ("p2",)
    truth = CuratedTruth(corpus)
    asked: list[int] = []

    class Listing(Fixed):
        def recommend(self, query: StoredArticle, k: int) -> list[str]:
            asked.append(k)
            return super().recommend(query, k)

    # The copy of the partner earns the partner's hit; the partner after it earns nothing more;
    # the article's own copy is left out, and the method is asked for one item more to make up.
    method = Listing("copies", {"q": ["q2", "p2", "p", "o"]})
    result = score_method(method, corpus, truth, ["q"], ks=(1, 3))
    assert asked == [4]
    assert result.lists["q"] == ["p2", "p", "o"]
    assert result.recall == {1: 1.0, 3: 1.0}
    assert result.precision[3] == pytest.approx(1 / 3)
    # By id (the old scoring): the copies are other articles.
    asked.clear()
    strict = score_method(method, corpus, truth, ["q"], ks=(1, 3), copies_as_distinct=True)
    assert asked == [3]
    assert strict.lists["q"] == ["q2", "p2", "p"] and strict.recall == {1: 0.0, 3: 1.0}


@pytest.fixture
def prepared(settings: Settings, corpus_file: Path, encoder: FakeEncoder):  # type: ignore[no-untyped-def]
    return prepare(Root(settings, encoder=encoder), [corpus_file])


def test_baselines_on_the_synthetic_corpus(prepared) -> None:  # type: ignore[no-untyped-def]
    evaluation = evaluate_prepared(prepared, ks=(1, 3, 5), seed=3)
    assert [r.name for r in evaluation.results] == list(METHOD_NAMES)
    assert len(evaluation.query_ids) == 30
    by_name = {r.name: r for r in evaluation.results}
    # articles of a topic share their words, so every content method finds the curated neighbour
    for name in ("bm25", "dense", "hybrid", "system"):
        assert by_name[name].recall[5] == 1.0, name
        assert by_name[name].section_agreement[5] == 1.0, name
    assert by_name["random"].recall[5] < 0.6
    assert by_name["recent"].section_agreement[5] == 1.0
    # no ranking rule removes anything here: the system lists the same stories as dense, though
    # diversity (MMR) may order them differently
    dense, system = by_name["dense"].lists, by_name["system"].lists
    assert dense.keys() == system.keys()
    assert all(set(dense[key]) == set(system[key]) for key in dense)
    table = format_table(evaluation)
    assert "system" in table and "R@5" in table
    data = evaluation.as_dict()
    assert data["methods"]["bm25"]["recall"]["5"] == 1.0 and data["queries"] == 30


def test_recent_in_section_lists_older_articles_of_the_section_newest_first(prepared) -> None:  # type: ignore[no-untyped-def]
    corpus = prepared.corpus
    (recent,) = make_methods(["recent"], corpus, prepared.recommender)
    query = corpus.get("harbour-3")
    assert recent.recommend(query, 5) == ["harbour-2", "harbour-1", "harbour-0"]
    assert recent.recommend(corpus.get("harbour-0"), 5) == []


def test_a_retracted_article_leaves_the_system_list_but_not_plain_dense(prepared) -> None:  # type: ignore[no-untyped-def]
    prepared.catalog.set_status("harbour-1", "retracted")
    prepared.recommender.refresh()  # the live view follows the catalog when asked
    evaluation = evaluate_prepared(prepared, methods=["dense", "system"], ks=(5,))
    dense, system = evaluation.results
    assert any("harbour-1" in items for items in dense.lists.values())
    assert not any("harbour-1" in items for items in system.lists.values())


def test_haystack_files_add_candidates_but_not_queries(
    settings: Settings, corpus_file: Path, tmp_path: Path, encoder: FakeEncoder
) -> None:
    records = synthetic_records()
    vaccine = [r for r in records if topic_of(str(r["id"])) == "vaccine"]
    needle = write_jsonl(tmp_path / "needle.jsonl", vaccine)
    hay = write_jsonl(tmp_path / "hay.jsonl", [r for r in records if r not in vaccine])
    prepared = prepare(Root(settings, encoder=encoder), [needle], haystack=[hay])
    evaluation = evaluate_prepared(prepared, methods=["dense"], ks=(1, 5))
    assert evaluation.corpus_size == 30
    assert sorted(evaluation.query_ids) == sorted(f"vaccine-{i}" for i in range(6))
    assert evaluation.results[0].recall[5] == 1.0


def test_prepare_reuses_the_current_index_when_nothing_changed(
    settings: Settings, corpus_file: Path, encoder: FakeEncoder
) -> None:
    prepare(Root(settings, encoder=encoder), [corpus_file])
    first = IndexStore(settings.index_root).current_version()
    again = prepare(Root(settings, encoder=encoder), [corpus_file])
    assert again.index.version == first
    assert len(IndexStore(settings.index_root).list_versions()) == 1


def test_sampling_is_seeded_and_bounded() -> None:
    truth = ProxyTruth(tiny_corpus(), "section")
    assert choose_queries(truth, sample=2, seed=1) == choose_queries(truth, sample=2, seed=1)
    assert len(choose_queries(truth, sample=2)) == 2
    assert choose_queries(truth, ["a", "zzz"]) == ["a"]
    with pytest.raises(InvalidInput, match="no article of the input"):
        choose_queries(truth, ["zzz"])


def test_unknown_method_names_are_rejected() -> None:
    assert parse_method_names(" BM25, dense,bm25 ") == ["bm25", "dense"]
    with pytest.raises(InvalidInput, match="unknown method"):
        parse_method_names("dense,magic")
    with pytest.raises(InvalidInput, match="none given"):
        parse_method_names(" , ")


def test_run_rejects_bad_cutoffs_and_reports_pair_correlation() -> None:
    corpus = tiny_corpus()
    truth = CuratedTruth(corpus)
    with pytest.raises(InvalidInput, match="between 1 and 100"):
        run(corpus, [Fixed("f", {})], truth, ["a"], ks=(0, 3))
    graded = {("a", "b"): 3.0, ("a", "c"): 2.0, ("a", "d"): 0.0, ("zz", "a"): 1.0}
    correlation = pair_correlation(corpus, graded)
    assert correlation["pairs"] == 3 and correlation["spearman"] == pytest.approx(1.0)


def test_find_pairs_looks_beside_the_input(tmp_path: Path) -> None:
    articles = tmp_path / "articles.jsonl"
    assert find_pairs([articles]) is None
    (tmp_path / "pairs.tsv").write_text("id1\tid2\tr\n")
    assert find_pairs([articles]) == tmp_path / "pairs.tsv"


def test_import_embeddings_copies_the_cache_once(tmp_path: Path) -> None:
    source = Catalog(tmp_path / "a.sqlite3")
    vectors = [("h1", np.ones(4, np.float32)), ("h2", np.zeros(4, np.float32))]
    source.store_vectors("m", "r", vectors)
    target = Catalog(tmp_path / "b.sqlite3")
    target.store_vectors("m", "r", [("h1", np.full(4, 2.0, np.float32))])
    assert target.import_embeddings(tmp_path / "a.sqlite3") == 1
    assert target.import_embeddings(tmp_path / "a.sqlite3") == 0
    cached = target.cached_vectors("m", "r", ["h1", "h2"])
    assert cached["h1"][0] == 2.0 and set(cached) == {"h1", "h2"}  # rows already there win
    assert target.import_embeddings(tmp_path / "b.sqlite3") == 0
    with pytest.raises(InvalidInput, match="no such catalog"):
        target.import_embeddings(tmp_path / "none.sqlite3")
    (tmp_path / "junk.sqlite3").write_text("not a database")
    with pytest.raises(InvalidInput, match="cannot read"):
        target.import_embeddings(tmp_path / "junk.sqlite3")


def test_story_labels_judge_whole_stories_and_need_a_story_field(
    settings: Settings, tmp_path: Path, encoder: FakeEncoder
) -> None:
    """wcep-like records: `related` links only the nearest item in time, the `story` label the whole
    story; singletons are never relevant."""
    records = [
        {"id": f"s{i}", "title": f"harbour strike day {i}", "published_at": f"2026-01-{i + 1:02d}",
         "story": "harbour strike", "related": [f"s{i + 1}"] if i < 3 else []}
        for i in range(4)
    ] + [{"id": "lone", "title": "harbour strike unrelated", "story": "singleton:lone"}]  # fmt: skip
    path = write_jsonl(tmp_path / "stories.jsonl", records)
    prepared = prepare(Root(settings, encoder=encoder), [path])
    assert prepared.stories["s0"] == "harbour strike"
    by_story = make_truth(prepared.corpus, "story", stories=prepared.stories)
    assert by_story.count("s0") == 3 and by_story.is_relevant("s0", "s3")
    assert "lone" not in by_story.queries() and not by_story.is_relevant("lone", "s0")
    curated = make_truth(prepared.corpus, "related")
    assert curated.count("s0") == 1 and not curated.is_relevant("s0", "s3")
    evaluation = evaluate_prepared(prepared, methods=["dense"], relevance="story", ks=(1, 5))
    assert evaluation.truth == "proxy: same `story` label is relevant"
    assert evaluation.labels == {"P@5": "story@5"}
    with pytest.raises(InvalidInput, match="needs a `story` field"):
        make_truth(prepared.corpus, "story", stories={})


def test_system_variants_run_other_settings_and_requests_against_a_reference(
    prepared, settings: Settings
) -> None:  # type: ignore[no-untyped-def]
    from pydantic import ValidationError

    from index.evaluation import system_variant
    from recsys.serving.query import RelatedQuery

    variants = [
        system_variant(prepared, "default", settings),
        system_variant(prepared, "mmr-0.7", settings, mmr_lambda=0.7),
        system_variant(prepared, "older-only", settings, query=RelatedQuery(background=True)),
    ]
    evaluation = evaluate_prepared(prepared, methods=[], variants=variants, reference="default", ks=(5,))
    by_name = {r.name: r for r in evaluation.results}
    # background=true lists only stories published before the article: the first of a topic has none
    assert by_name["older-only"].empty_lists > 0 and by_name["default"].empty_lists == 0
    assert by_name["mmr-0.7"].recall[5] == by_name["default"].recall[5] == 1.0
    assert evaluation.significance is not None and evaluation.significance.reference == "default"
    assert {c.baseline for c in evaluation.significance.comparisons} == {"mmr-0.7", "older-only"}
    with pytest.raises(InvalidInput, match="no setting named mmr_lamda"):
        system_variant(prepared, "typo", settings, mmr_lamda=0.5)
    with pytest.raises(ValidationError):
        system_variant(prepared, "nonsense", settings, mmr_lambda=7.0)
