"""The ranking pipeline with known answers, on the synthetic corpus (fake encoder) plus a few
near-duplicates, a future article and a retraction, through the library API."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

from index.build import build_index
from recsys.articles import Article
from recsys.catalog.ingest import import_file
from recsys.catalog.overrides import Overrides
from recsys.catalog.store import Catalog
from recsys.errors import InvalidInput
from recsys.serving.dedup import DuplicateRule, normalise_title, title_similarity
from recsys.serving.diversity import mmr_order
from recsys.serving.policy import Policy
from recsys.serving.query import RelatedQuery, encode_cursor
from recsys.serving.ranking import prior_decay, rank_list
from recsys.serving.recommend import Recommender
from recsys.serving.rules import RowRules
from recsys.serving.types import ArticleAsSource, Candidate, Page, Subject
from recsys.settings import Settings
from tests.fakes import FakeEncoder, make_recommender, synthetic_records, topic_of, write_jsonl

NOW = datetime(2026, 6, 1, tzinfo=UTC)
ORIGINAL = "football-2"
VARIANTS = {"football-2-update", "football-2-wire"}


def _extra_records() -> list[dict[str, object]]:
    original = next(r for r in synthetic_records() if r["id"] == ORIGINAL)
    return [
        {**original, "id": "football-2-update", "url": "https://news.example/football/2u",
         "title": f"UPDATE: {original['title']}", "body": f"{original['body']} coach",
         "published_at": "2026-03-03T09:00:00Z"},
        {**original, "id": "football-2-wire", "url": "https://news.example/football/2w",
         "title": f"{original['title']} - wire", "published_at": "2026-03-03T12:00:00Z"},
        {**original, "id": "football-future", "url": "https://news.example/football/future",
         "title": "Goal Striker League Derby", "body": "goal striker league keeper derby penalty",
         "published_at": "2027-01-01T00:00:00Z"},
    ]  # fmt: skip


@pytest.fixture
def recommender(settings: Settings, catalog: Catalog, encoder: FakeEncoder, tmp_path: Path) -> Recommender:
    records = synthetic_records() + _extra_records()
    import_file(catalog, write_jsonl(tmp_path / "corpus.jsonl", records), strict=True)
    catalog.set_status("football-4", "retracted")
    build_index(settings, catalog, encoder)
    return make_recommender(settings, catalog, encoder, now=NOW)


def _ids(recommender: Recommender, article_id: str, **params: object) -> list[str]:
    ranked = recommender.related_list(article_id, RelatedQuery(**params))  # type: ignore[arg-type]
    return [item.article.id for item in ranked.items]


def test_titles_are_compared_without_version_markers() -> None:
    assert normalise_title("UPDATE: Mayor quits - wire") == "mayor quits"
    assert normalise_title("CORRECTION: Rates (Reuters)") == "rates"
    assert title_similarity("UPDATE 2-Bank cuts rates", "Bank cuts rates") == 1.0
    assert title_similarity("Bank cuts rates", "Bank raises rates") < 0.9
    assert title_similarity(None, "x") == 0.0
    rule = DuplicateRule(cosine=0.97, cosine_with_title=0.9, title=0.9)
    assert rule.is_duplicate(0.98, "a", "b")
    assert rule.is_duplicate(0.92, "UPDATE: Ferry sinks", "Ferry sinks")
    assert not rule.is_duplicate(0.92, "Ferry sinks", "Crane falls on the quay")
    assert not rule.is_duplicate(0.85, "Ferry sinks", "Ferry sinks")


def test_never_itself_retracted_future_and_only_one_of_a_duplicate_group(recommender: Recommender) -> None:
    ranked = recommender.related_list("football-0", RelatedQuery(limit=10))
    ids = [item.article.id for item in ranked.items]
    assert "football-0" not in ids and "football-4" not in ids and "football-future" not in ids
    assert len({ORIGINAL, *VARIANTS} & set(ids)) == 1
    assert ranked.collapsed == 2
    assert all(item.reason == "similar" for item in ranked.items)


def test_duplicates_of_the_article_itself_are_collapsed(recommender: Recommender) -> None:
    ranked = recommender.related_list(ORIGINAL, RelatedQuery(limit=4))
    ids = [item.article.id for item in ranked.items]
    assert not VARIANTS & set(ids) and ranked.collapsed == 2
    assert {topic_of(i) for i in ids} == {"football"}


def test_dedup_and_diversity_can_be_switched_off_for_measurements(recommender: Recommender) -> None:
    ids = _ids(recommender, ORIGINAL, limit=5, dedup=False, diversity=False)
    assert set(ids[:2]) >= VARIANTS


def test_exclude_by_id_or_url_also_drops_the_excluded_items_duplicates(recommender: Recommender) -> None:
    ids = _ids(recommender, "football-0", limit=10, exclude=("https://news.example/football/2", "football-1"))
    assert not {ORIGINAL, *VARIANTS, "football-1"} & set(ids)


def test_pins_come_first_in_order_and_still_obey_blocks(recommender: Recommender) -> None:
    overrides = Overrides(recommender.catalog)
    overrides.set_pins("football-0", ["theatre-1", "harbour-2", "football-4"])  # football-4 is retracted
    recommender.refresh()  # the live view follows the catalog when asked (the service: its watcher)
    ranked = recommender.related_list("football-0", RelatedQuery(limit=4))
    assert [(i.article.id, i.reason) for i in ranked.items[:2]] == [
        ("theatre-1", "pinned"),
        ("harbour-2", "pinned"),
    ]
    assert {i.reason for i in ranked.items[2:]} == {"similar"} and len(ranked.items) == 4
    overrides.block("theatre-1", under="football-0")
    recommender.refresh()
    assert _ids(recommender, "football-0", limit=4)[0] == "harbour-2"
    assert "theatre-1" in _ids(recommender, "theatre-0", limit=5)  # the block is scoped


def test_global_block_and_expiry(recommender: Recommender) -> None:
    overrides = Overrides(recommender.catalog)
    assert "football-1" in _ids(recommender, "football-0", limit=5)
    overrides.block("football-1", expires_at=datetime.now(UTC) + timedelta(days=1))
    recommender.refresh()  # the live view follows the catalog when asked (the service: its watcher)
    assert "football-1" not in _ids(recommender, "football-0", limit=5)
    assert "football-1" not in _ids(recommender, "football-3", limit=5)
    recommender.clock = lambda: datetime.now(UTC) + timedelta(days=2)
    assert "football-1" in _ids(recommender, "football-0", limit=5)


def test_filters_and_date_window(recommender: Recommender) -> None:
    assert {topic_of(i) for i in _ids(recommender, "football-0", limit=6, sections=("theatre",))} == {
        "theatre"
    }
    ids = _ids(recommender, "football-0", limit=20, exclude_sections=("football",))
    assert ids and "football" not in {topic_of(i) for i in ids}
    assert {topic_of(i) for i in _ids(recommender, "football-0", limit=3, tags=("vaccine",))} == {"vaccine"}
    since, until = datetime(2026, 3, 2, tzinfo=UTC), datetime(2026, 3, 4, tzinfo=UTC)
    for article_id in _ids(recommender, "football-0", limit=30, since=since, until=until):
        moment = recommender.catalog.get(article_id).article.published_datetime()
        assert moment is not None and since <= moment <= until
    # football-3 was published 2026-03-04T02:00Z: background means strictly before it.
    before = _ids(recommender, "football-3", limit=30, background=True)
    assert before and all(recommender.catalog.get(i).article.published_at < "2026-03-04T02" for i in before)
    recent = _ids(recommender, "football-5", limit=30, max_age_days=2)  # football-5: 2026-03-06T02:00Z
    assert recent and all(recommender.catalog.get(i).article.published_at >= "2026-03-04T02" for i in recent)


def test_cursor_pages_never_repeat(recommender: Recommender) -> None:
    first = recommender.related_list("harbour-0", RelatedQuery(limit=4))
    assert first.next_cursor is not None
    second = recommender.related_list("harbour-0", RelatedQuery(limit=4, cursor=first.next_cursor))
    assert len(second.items) == 4
    assert not {i.article.id for i in first.items} & {i.article.id for i in second.items}


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"limit": 0}, "limit"),
        ({"section_limit": 101}, "section_limit"),
        ({"cursor": "not-a-cursor"}, "cursor"),
        ({"cursor": encode_cursor([1]).replace("e", "x")}, "cursor"),
        ({"since": datetime(2026, 5, 1, tzinfo=UTC), "until": datetime(2026, 4, 1, tzinfo=UTC)}, "since"),
        ({"since": datetime(2026, 5, 1)}, "time zone"),
        ({"max_age_days": 0}, "max_age_days"),
        ({"half_life_days": -1.0}, "half_life_days"),
        ({"sections": ("a",), "exclude_sections": ("a",)}, "both included and excluded"),
        ({"exclude": tuple(str(i) for i in range(201))}, "at most"),
    ],
)
def test_nonsense_parameters_are_refused(params: dict[str, object], message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        RelatedQuery(**params)  # type: ignore[arg-type]


def test_blocks_share_nothing_and_the_section_block_is_the_articles_section(
    recommender: Recommender,
) -> None:
    blocks = recommender.blocks("football-0", RelatedQuery(limit=3, section_limit=3))
    related = [i.article.id for i in blocks.related.items]
    in_section = [i.article.id for i in blocks.more_in_section.items]
    assert len(related) == 3 and in_section and not set(related) & set(in_section)
    assert {i.article.section for i in blocks.more_in_section.items} == {"football"}
    assert {i.reason for i in blocks.more_in_section.items} == {"same_section"}


def test_a_draft_gets_blocks_without_being_stored(recommender: Recommender) -> None:
    draft = Article(
        id="<draft>", title="Ferry dock tide", body="harbour ferry dock tide pier", section="harbour"
    )
    blocks = recommender.blocks_for_draft(draft, RelatedQuery(limit=3, section_limit=2))
    assert {topic_of(i.article.id) for i in blocks.related.items} == {"harbour"}
    assert recommender.catalog.count() == 33


# -- the pipeline's stages on hand-made vectors -------------------------------------------------------


def _candidate(
    key: int, title: str, vector: np.ndarray, similarity: float, published: str | None = None
) -> Candidate:
    article = Article(id=f"a{key}", title=title, published_at=published)
    moment = article.published_datetime()
    return Candidate(
        key, vector, similarity, moment.timestamp() if moment else math.nan, 0, ArticleAsSource(article)
    )


def _unit(*values: float) -> np.ndarray:
    vector = np.array(values, dtype=np.float32)
    return vector / np.linalg.norm(vector)


def test_mmr_prefers_another_related_story_over_a_third_angle_of_one_event() -> None:
    event = [_unit(1, 0.05 * i, 0, 0) for i in range(3)]  # three angles of one event
    other = _unit(0.6, 0, 0.8, 0)  # a different, somewhat less related story
    vectors = np.stack([*event, other])
    relevance = np.array([0.9, 0.89, 0.88, 0.8])
    assert mmr_order(relevance, vectors, 1.0, 2) == [0, 1]
    assert mmr_order(relevance, vectors, 0.7, 2) == [0, 3]
    unrelated = np.array([0.9, 0.89, 0.88, 0.1])  # below the floor: never picked for variety alone
    assert mmr_order(unrelated, vectors, 0.7, 4) == [0, 1, 2, 3]


def test_the_redundancy_cap_puts_near_copies_last_even_among_weak_candidates() -> None:
    event = [_unit(1, 0.05 * i, 0, 0) for i in range(3)]  # cosine >= 0.99 to each other
    other = _unit(0.6, 0, 0.8, 0)
    weak = _unit(0, 0, 0, 1)
    vectors = np.stack([*event, other, weak])
    relevance = np.array([0.9, 0.89, 0.88, 0.8, 0.2])  # the last is below the MMR floor
    # Without a cap, lambda 1 is plain relevance; with it, the angles of the event wait for the rest.
    assert mmr_order(relevance, vectors, 1.0, 5) == [0, 1, 2, 3, 4]
    assert mmr_order(relevance, vectors, 1.0, 5, cap=0.9) == [0, 3, 4, 1, 2]
    assert mmr_order(relevance, vectors, 1.0, 3, cap=0.9) == [0, 3, 4]


def test_reserves_come_after_the_pool_and_before_capped_candidates() -> None:
    event = [_unit(1, 0.05 * i, 0, 0) for i in range(3)]  # cosine >= 0.99 to each other
    deeper = _unit(0.6, 0, 0.8, 0)
    vectors = np.stack([*event, deeper])
    relevance = np.array([0.9, 0.89, 0.88, 0.5])
    # The pool is the event alone (index 3 is a reserve): the reserve beats the capped angles...
    assert mmr_order(relevance, vectors, 1.0, 3, cap=0.9, reserve=3) == [0, 3, 1]
    # ... but not an uncapped pool candidate, however much more relevant the reserve is.
    other = _unit(0, 0, 0, 1)
    with_other = np.stack([*event, other, deeper])
    weak_other = np.array([0.9, 0.89, 0.88, 0.3, 0.8])
    assert mmr_order(weak_other, with_other, 1.0, 3, cap=0.9, reserve=4) == [0, 3, 4]
    # Told not to fill with capped candidates, the order ends where only those are left.
    assert mmr_order(relevance, vectors, 1.0, 4, cap=0.9, reserve=3, fill_capped=False) == [0, 3]


DIM = 48


def _axis(i: int, lean: float) -> np.ndarray:
    """A unit vector mostly along axis 0 (`lean` of it) with its own axis `i`."""
    vector = np.zeros(DIM, dtype=np.float32)
    vector[0], vector[i] = lean, 1.0
    return vector / np.linalg.norm(vector)


def _templated(count: int) -> list[Candidate]:
    """`count` reports of one template: cosine 0.93 to each other (near-copies past a 0.9 cap, but
    not duplicates: the vectors stay under 0.97 and the headlines differ)."""
    return [
        _candidate(i, f"{i * 7919:x} report {chr(65 + i)}", _axis(i, 3.7), 0.9 - 0.001 * i)
        for i in range(1, count + 1)
    ]


def _rank(
    candidates: list[Candidate], fallback: list[Candidate] | None = None
) -> list[tuple[int | None, str]]:
    subject = Subject(_axis(DIM - 1, 0.0), Article(id="q", title="q", section="s"), 0, NOW)
    ranked = rank_list(
        subject, candidates, query=RelatedQuery(limit=10), policy=Policy(mmr_lambda=0.9, redundancy_cap=0.9),
        page=Page(subject, DuplicateRule()), limit=10, fresh=False, reason="similar",
        fallback=None if fallback is None else lambda: fallback,
    )  # fmt: skip
    return [(i.key, i.reason) for i in ranked.items]


def test_a_pool_of_one_template_fills_from_the_deeper_candidates() -> None:
    templated = _templated(30)  # the whole pool of 30
    sims = [float(a.vector @ b.vector) for a in templated[:2] for b in templated[2:3]]
    assert all(0.9 <= s < 0.97 for s in sims)
    # Deeper, less relevant but different stories (cosine about 0.2 to the template and each other).
    deeper = [_candidate(100 + i, f"other story {i}", _axis(31 + i, 0.5), 0.6 - 0.01 * i) for i in range(12)]
    listed = _rank([*templated, *deeper])
    # One report, then the deeper stories in order: no second report while a different story is left.
    assert listed == [(1, "similar"), *[(100 + i, "similar") for i in range(9)]]


def test_when_only_near_copies_are_left_the_section_fallback_comes_before_them() -> None:
    templated = _templated(30)
    recent = [_candidate(200 + i, f"section story {i}", _axis(40 + i, 0.0), 0.0) for i in range(3)]
    # Nothing deeper: the section's recent stories fill the list, and the near-copies only after them.
    assert _rank(templated, fallback=recent) == [
        (1, "similar"),
        *[(200 + i, "fallback") for i in range(3)],
        *[(k, "similar") for k in range(2, 8)],
    ]
    # Without a fallback (no section) the list is still full: near-copies rather than a short list.
    assert _rank(templated) == [(k, "similar") for k in range(1, 11)]


def test_fallback_fills_from_the_section_and_is_marked() -> None:
    subject = Subject(_unit(1, 0, 0, 0), Article(id="q", title="q", section="s"), 0, NOW)
    similar = _candidate(1, "one", _unit(1, 0.5, 0, 0), 0.89)
    copy = _candidate(2, "one", _unit(1, 0.5, 0, 0), 0.89)  # a duplicate of `similar`
    recent = _candidate(3, "recent", _unit(0, 1, 0, 0), 0.0)
    query = RelatedQuery(limit=3)
    ranked = rank_list(
        subject, [similar, copy], query=query, policy=Policy(),
        page=Page(subject, DuplicateRule()), limit=3, fresh=False, reason="similar",
        fallback=lambda: [copy, recent],
    )  # fmt: skip
    assert [(i.key, i.reason) for i in ranked.items] == [(1, "similar"), (3, "fallback")]
    assert ranked.collapsed == 1


def test_freshness_lifts_a_recent_story_over_a_slightly_closer_old_one() -> None:
    subject = Subject(_unit(1, 0, 0, 0), Article(id="q", title="q"), 0, NOW)
    old = _candidate(1, "old", _unit(1, 0, 1, 0), 0.75, published="2025-01-01T00:00:00Z")
    new = _candidate(2, "new", _unit(1, 0, 0, 1), 0.70, published="2026-05-31T00:00:00Z")
    query = RelatedQuery(limit=2)

    def order(fresh: bool) -> list[int | None]:
        ranked = rank_list(
            subject, [old, new], query=query, policy=Policy(),
            page=Page(subject, DuplicateRule()), limit=2, fresh=fresh, reason="similar",
        )  # fmt: skip
        return [i.key for i in ranked.items]

    assert order(False) == [1, 2] and order(True) == [2, 1]


def test_undated_articles_pass_no_date_rule_but_pass_when_there_is_none(recommender: Recommender) -> None:
    # The rules for one article the version has no row for (a pin published since the build).
    subject = Subject(_unit(1, 0, 0, 0), Article(id="q", title="q"), 0, NOW)
    undated = Article(id="u", title="u")
    snapshot, state = recommender.snapshot, recommender.live.current()

    def rules(query: RelatedQuery) -> RowRules:
        return RowRules(snapshot, state, subject, query, NOW.timestamp(), [])

    assert rules(RelatedQuery()).allows(undated, 9, "published")
    for params in ({"background": True}, {"max_age_days": 5.0}, {"since": NOW - timedelta(days=9)}):
        query = RelatedQuery(**params)  # type: ignore[arg-type]
        assert not rules(query).allows(undated, 9, "published")


def test_a_banded_time_prior_reorders_only_the_close_matches() -> None:
    # The Taiwan cotton case: a cotton-buying article, cotton items 50-100 days earlier (cosine
    # 0.66-0.70) and same-week items on another crop (cosine 0.55-0.58).
    article = Article(id="q", title="q", published_at="2026-06-01T00:00:00Z")
    subject = Subject(_unit(1, 0, 0, 0, 0, 0), article, 0, NOW)
    cotton = [
        _candidate(1, "cotton a", _unit(1, 1, 0, 0, 0, 0), 0.70, published="2026-03-01T00:00:00Z"),
        _candidate(2, "cotton b", _unit(1, 0, 1, 0, 0, 0), 0.66, published="2026-04-10T00:00:00Z"),
    ]
    same_week = [
        _candidate(3, "soybeans a", _unit(1, 0, 0, 1, 0, 0), 0.58, published="2026-05-30T00:00:00Z"),
        _candidate(4, "soybeans b", _unit(1, 0, 0, 0, 1, 0), 0.55, published="2026-06-02T00:00:00Z"),
        _candidate(5, "cotton c", _unit(1, 0, 0, 0, 0, 1), 0.69, published="2026-05-25T00:00:00Z"),
    ]

    def order(**knobs: float) -> list[int | None]:
        policy = Policy(**{"mmr_lambda": 1.0, "time_prior_weight": 0.3, **knobs})  # type: ignore[arg-type]
        ranked = rank_list(
            subject, [*cotton, *same_week], query=RelatedQuery(limit=5), policy=policy,
            page=Page(subject, DuplicateRule()), limit=5, fresh=False, reason="similar",
        )  # fmt: skip
        return [i.key for i in ranked.items]

    # Everywhere, the prior lifts the weaker same-week items over the older close matches.
    assert order() == [5, 3, 4, 2, 1]
    # Banded at 0.9 of the best (0.63): the recent close match still leads, the older close matches
    # follow it re-ordered by time, and the weak same-week items come after every close match, in
    # relevance order.
    assert order(time_prior_band=0.9) == [5, 2, 1, 3, 4]
    # Without a prior the band changes nothing.
    assert order(time_prior_band=0.9, time_prior_weight=0.0) == [1, 5, 2, 3, 4]
    # A Gaussian decay with a 90-day half-life is nearly flat over the first weeks and months: the
    # older cotton items lose less than the relevance the same-week items lack.
    assert order(time_prior_exponent=2, time_prior_half_life_days=90) == [5, 2, 1, 3, 4]


def test_an_additive_time_prior_moves_weak_candidates_as_much_as_strong_ones() -> None:
    article = Article(id="q", title="q", published_at="2026-06-01T00:00:00Z")
    subject = Subject(_unit(1, 0, 0, 0), article, 0, NOW)
    far = _candidate(1, "far", _unit(1, 1, 0, 0), 0.5, published="2024-06-01T00:00:00Z")
    near = _candidate(2, "near", _unit(1, 0, 1, 0), 0.3, published="2026-06-01T00:00:00Z")

    def scores(additive: bool) -> list[tuple[int | None, float]]:
        policy = Policy(mmr_lambda=1.0, time_prior_weight=0.3, time_prior_additive=additive)
        ranked = rank_list(
            subject, [far, near], query=RelatedQuery(limit=2), policy=policy,
            page=Page(subject, DuplicateRule()), limit=2, fresh=False, reason="similar",
        )  # fmt: skip
        return [(i.key, round(i.score, 3)) for i in ranked.items]

    # Two years away the decay is ~0: x 0.7 keeps the far match first (0.35 against 0.30), a
    # penalty of 0.3 in cosine units puts it last (0.20).
    assert scores(False) == [(1, 0.35), (2, 0.3)]
    assert scores(True) == [(2, 0.3), (1, 0.2)]


def test_a_long_tailed_time_prior_tells_months_from_years_and_a_week_from_months() -> None:
    """Issue 22's North Korea page: a same-story item eight months before the article against a
    look-alike seven years before, a little more relevant."""
    article = Article(id="q", title="q", published_at="2025-07-01T00:00:00Z")
    subject = Subject(_unit(1, 0, 0, 0, 0), article, 0, datetime(2025, 7, 1, tzinfo=UTC))
    months = _candidate(1, "months", _unit(1, 1, 0, 0, 0), 0.60, published="2024-11-01T00:00:00Z")
    years = _candidate(2, "years", _unit(1, 0, 1, 0, 0), 0.62, published="2018-07-01T00:00:00Z")
    week = _candidate(3, "week", _unit(1, 0, 0, 1, 0), 0.50, published="2025-06-24T00:00:00Z")
    quarter = _candidate(4, "quarter", _unit(1, 0, 0, 0, 1), 0.52, published="2025-04-01T00:00:00Z")

    def order(**knobs: float) -> list[int | None]:
        policy = Policy(**{"mmr_lambda": 1.0, "time_prior_weight": 0.3, **knobs})  # type: ignore[arg-type]
        ranked = rank_list(
            subject, [months, years, week, quarter], query=RelatedQuery(limit=4), policy=policy,
            page=Page(subject, DuplicateRule()), limit=4, fresh=False, reason="similar",
        )  # fmt: skip
        return [i.key for i in ranked.items]

    # A 30-day half-life alone is ~0 at eight months and at seven years: the look-alike's relevance
    # wins, and three months count for so little that both old items pass it.
    assert order() == [3, 2, 1, 4]
    # Half of the decay on a one-year half-life: eight months beat seven years, and the week still
    # leads three months.
    assert order(time_prior_long_share=0.5, time_prior_long_half_life_days=365) == [3, 1, 4, 2]
    assert prior_decay(7.0, 30.0, long_share=0.5, long_half_life=365.0) > prior_decay(
        91.0, 30.0, long_share=0.5, long_half_life=365.0
    )
    # No tail: the short decay bit for bit.
    assert prior_decay(240.0, 30.0) == 0.5 ** (240.0 / 30.0)


def test_an_undated_candidate_under_a_dated_article_is_scored_as_if_that_many_days_away() -> None:
    article = Article(id="q", title="q", published_at="2025-07-01T00:00:00Z")
    subject = Subject(_unit(1, 0, 0), article, 0, datetime(2025, 7, 1, tzinfo=UTC))
    undated = _candidate(1, "undated", _unit(1, 1, 0), 0.60)
    recent = _candidate(2, "recent", _unit(1, 0, 1), 0.50, published="2025-06-30T00:00:00Z")

    def scores(**knobs: float) -> list[tuple[int | None, float]]:
        policy = Policy(**{"mmr_lambda": 1.0, "time_prior_weight": 0.3, **knobs})  # type: ignore[arg-type]
        ranked = rank_list(
            subject, [undated, recent], query=RelatedQuery(limit=2), policy=policy,
            page=Page(subject, DuplicateRule()), limit=2, fresh=False, reason="similar",
        )  # fmt: skip
        return [(i.key, round(i.score, 4)) for i in ranked.items]

    # Today's policy (0): the undated item keeps its relevance, as if of the article's own day.
    assert scores() == [(1, 0.6), (2, round(0.5 * (0.7 + 0.3 * 0.5 ** (1 / 30)), 4))]
    # As if a year away: the prior's value there (0.6 x (0.7 + 0.3 x 0.5^(365/30))), below the
    # recent item but not gone.
    assert scores(time_prior_undated_days=365) == [
        (2, round(0.5 * (0.7 + 0.3 * 0.5 ** (1 / 30)), 4)),
        (1, round(0.6 * (0.7 + 0.3 * 0.5 ** (365 / 30)), 4)),
    ]
