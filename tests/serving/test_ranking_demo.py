"""The ranking rules with the real model on the built-in demo corpus, whose answers are known: which
articles are copies, updates and corrections of which, the storylines, and the one retraction.

The index is built once per module (the model embeds the demo articles once)."""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from index.build import build_index
from recsys.articles import Article, parse_timestamp
from recsys.catalog.ingest import import_file
from recsys.catalog.overrides import Overrides
from recsys.demo_corpus import DemoArticle, generate, write_jsonl
from recsys.encoding.encoders import SentenceTransformerEncoder
from recsys.root import Root
from recsys.serving.query import RelatedQuery
from recsys.serving.recommend import Blocks, Recommender
from recsys.serving.types import Recommendation
from recsys.settings import Settings
from tests.fakes import make_recommender

pytestmark = pytest.mark.model

NOW = datetime(2026, 5, 1, tzinfo=UTC)  # after the whole corpus: nothing is in the future
CORPUS = generate()
BY_ID = {a.id: a for a in CORPUS}
RETRACTED = next(a.id for a in CORPUS if a.status == "retracted")
STANDALONES = [a.id for a in CORPUS if a.kind == "standalone"]
GLOBAL_BLOCK = STANDALONES[0]
SECTIONS = sorted({a.section for a in CORPUS})


def _group(article: DemoArticle) -> str:
    """Articles of one group are near-duplicates of each other (an original and its variants)."""
    return article.variant_of or article.id


GROUPS: dict[str, list[str]] = {}
for _article in CORPUS:
    GROUPS.setdefault(_group(_article), []).append(_article.id)
WITH_VARIANTS = sorted(root for root, members in GROUPS.items() if len(members) > 1)


@pytest.fixture(scope="module")
def demo_settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return Settings(data_dir=tmp_path_factory.mktemp("demo") / "data")


@pytest.fixture(scope="module")
def recommender(demo_settings: Settings, real_encoder: SentenceTransformerEncoder) -> Iterator[Recommender]:
    catalog = Root(demo_settings).catalog
    path = demo_settings.data_dir.parent / "demo.jsonl"
    write_jsonl(path)
    import_file(catalog, path, strict=True)
    build_index(demo_settings, catalog, real_encoder)
    Overrides(catalog).block(GLOBAL_BLOCK)
    yield make_recommender(demo_settings, catalog, real_encoder, now=NOW)
    catalog.close()


def _ids(items: list[Recommendation]) -> list[str]:
    return [i.article.id for i in items]


def test_near_duplicates_of_the_article_are_never_listed_and_are_counted(recommender: Recommender) -> None:
    for root in WITH_VARIANTS:
        for member in GROUPS[root]:
            ranked = recommender.related_list(member, RelatedQuery(limit=10))
            assert not set(GROUPS[root]) & set(_ids(ranked.items)), (member, _ids(ranked.items))
            assert ranked.collapsed >= len(GROUPS[root]) - 1 or BY_ID[root].status == "retracted"


def test_without_dedup_the_copies_would_be_listed(recommender: Recommender) -> None:
    """The control for the test above: the copies are the nearest neighbours when dedup is off."""
    plain = RelatedQuery(limit=5, dedup=False, diversity=False)
    hits = sum(
        bool(set(GROUPS[root]) & set(_ids(recommender.related_list(root, plain).items)))
        for root in WITH_VARIANTS
    )
    assert hits == len(WITH_VARIANTS)


def test_storyline_siblings_are_not_collapsed(recommender: Recommender) -> None:
    """Distinct articles of one storyline stay: the same-story share of a related list stays high."""
    originals = [a for a in CORPUS if a.kind == "original" and a.status == "published"]
    same = total = 0
    for article in originals:
        items = recommender.related_list(article.id, RelatedQuery(limit=5)).items
        same += sum(BY_ID[i].story == article.story for i in _ids(items))
        total += len(items)
    assert same / total >= 0.85, f"{same}/{total}"


def test_retracted_and_future_articles_never_appear(
    recommender: Recommender, demo_settings: Settings, real_encoder: SentenceTransformerEncoder
) -> None:
    neighbours = [a.id for a in CORPUS if a.story == BY_ID[RETRACTED].story and a.id != RETRACTED]
    for article_id in neighbours:
        assert RETRACTED not in _ids(recommender.related(article_id, 20))
    early = make_recommender(
        demo_settings, recommender.catalog, real_encoder, now=datetime(2026, 2, 1, tzinfo=UTC)
    )
    for article_id in neighbours[:3]:
        blocks = early.blocks(article_id, RelatedQuery(limit=10, section_limit=10))
        for item in [*blocks.related.items, *blocks.more_in_section.items]:
            assert item.article.published_at is not None and item.article.published_at < "2026-02-01"


def test_background_mode_only_lists_earlier_stories(recommender: Recommender) -> None:
    late = [a for a in CORPUS if a.kind == "original" and a.published_at > "2026-03-15"][:10]
    for article in late:
        blocks = recommender.blocks(article.id, RelatedQuery(limit=8, section_limit=5, background=True))
        items = [*blocks.related.items, *blocks.more_in_section.items]
        assert items and all((i.article.published_at or "") < article.published_at for i in items)


def test_more_in_section_is_recent_same_section_and_fresher_than_related(recommender: Recommender) -> None:
    gaps_related: list[float] = []
    gaps_section: list[float] = []
    for article in [a for a in CORPUS if a.kind == "original"][::4]:
        anchor = parse_timestamp(article.published_at)
        blocks = recommender.blocks(article.id, RelatedQuery(limit=5, section_limit=5))
        assert {i.article.section for i in blocks.more_in_section.items} <= {article.section}
        for items, gaps in (
            (blocks.related.items, gaps_related),
            (blocks.more_in_section.items, gaps_section),
        ):
            gaps += [abs((parse_timestamp(i.article.published_at or "") - anchor).days) for i in items]
    assert sorted(gaps_section)[len(gaps_section) // 2] < sorted(gaps_related)[len(gaps_related) // 2]


def test_freshness_on_related_shrinks_the_age_gap(recommender: Recommender) -> None:
    def median_gap(fresh: bool) -> float:
        gaps = []
        for article in [a for a in CORPUS if a.kind == "original"][::3]:
            anchor = parse_timestamp(article.published_at)
            query = RelatedQuery(limit=5, freshness=fresh, half_life_days=3)
            for item in recommender.related_list(article.id, query).items:
                gaps.append(abs((parse_timestamp(item.article.published_at or "") - anchor).total_seconds()))
        return sorted(gaps)[len(gaps) // 2]

    assert median_gap(True) < median_gap(False)


# -- the property: for any article and any parameters, no list breaks a never-show rule -------------


def _check_invariants(recommender: Recommender, article_id: str, query: RelatedQuery, blocks: Blocks) -> None:
    related, in_section = blocks.related.items, blocks.more_in_section.items
    ids = _ids(related) + _ids(in_section)
    assert len(ids) == len(set(ids)), "an item is in both blocks (or twice in one)"
    assert article_id not in ids and RETRACTED not in ids and GLOBAL_BLOCK not in ids
    assert not set(ids) & set(query.exclude)
    assert len(related) <= query.limit and len(in_section) <= query.section_limit
    rule = recommender.policy.duplicates
    shown = [recommender.catalog.get(article_id), *(recommender.catalog.get(i) for i in ids)]
    vectors = {s.id: recommender.query_vector(s) for s in shown}
    for a, b in itertools.combinations(shown, 2):
        similarity = float(vectors[a.id] @ vectors[b.id])
        assert not rule.is_duplicate(similarity, a.article.title, b.article.title), (a.id, b.id, similarity)
    anchor = parse_timestamp(BY_ID[article_id].published_at)
    for item in [*related, *in_section]:
        article = item.article
        moment = parse_timestamp(article.published_at or "")
        assert moment <= NOW
        if query.sections:
            assert article.section in query.sections
        assert article.section not in query.exclude_sections
        if query.background:
            assert moment < anchor
        if query.max_age_days is not None:
            assert moment >= anchor - timedelta(days=query.max_age_days)
    for item in in_section:
        assert item.article.section == BY_ID[article_id].section


@st.composite
def _queries(draw: st.DrawFn) -> tuple[str, RelatedQuery]:
    article_id = draw(st.sampled_from([a.id for a in CORPUS]))
    exclude = tuple(draw(st.lists(st.sampled_from([a.id for a in CORPUS]), max_size=4, unique=True)))
    sections = tuple(draw(st.lists(st.sampled_from(SECTIONS), max_size=2, unique=True)))
    excluded_sections = tuple(
        draw(st.lists(st.sampled_from([s for s in SECTIONS if s not in sections]), max_size=2, unique=True))
    )
    query = RelatedQuery(
        limit=draw(st.integers(1, 25)),
        section_limit=draw(st.integers(0, 10)),
        exclude=exclude,
        sections=sections,
        exclude_sections=excluded_sections,
        background=draw(st.booleans()),
        max_age_days=draw(st.none() | st.floats(0.5, 60)),
        freshness=draw(st.none() | st.booleans()),
        half_life_days=draw(st.none() | st.floats(0.5, 30)),
    )
    return article_id, query


@hsettings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(case=_queries())
def test_no_list_ever_breaks_a_never_show_rule(
    recommender: Recommender, case: tuple[str, RelatedQuery]
) -> None:
    article_id, query = case
    blocks = recommender.blocks(article_id, query)
    _check_invariants(recommender, article_id, query, blocks)
    if blocks.next_cursor is not None:  # the next page keeps every rule, and repeats nothing
        second = recommender.blocks(article_id, dataclasses.replace(query, cursor=blocks.next_cursor))
        _check_invariants(recommender, article_id, query, second)
        first_ids = set(_ids(blocks.related.items) + _ids(blocks.more_in_section.items))
        assert not first_ids & set(_ids(second.related.items) + _ids(second.more_in_section.items))


def test_draft_blocks_with_the_real_model(recommender: Recommender) -> None:
    original = next(a for a in CORPUS if a.kind == "original" and a.id in WITH_VARIANTS)
    draft = Article(id="<draft>", title=original.title, body=original.body, section=original.section)
    blocks = recommender.blocks_for_draft(draft, RelatedQuery(limit=5, section_limit=3))
    ids = _ids(blocks.related.items) + _ids(blocks.more_in_section.items)
    # The draft is a copy of `original`: neither it nor its variants are suggested; its storyline is.
    assert not set(GROUPS[original.id]) & set(ids)
    assert sum(BY_ID[i].story == original.story for i in _ids(blocks.related.items)) >= 3
