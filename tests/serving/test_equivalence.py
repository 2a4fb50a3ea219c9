"""The fast query side (precomputed lists, snapshot, live view) returns exactly what the exhaustive
reference path (tests/reference.py) returns, for random articles and parameter combinations.

The catalog is changed after the build in every way the live view must follow: retractions, a
deletion, edits that move an article to another section and date, articles imported after the build
(not indexed: they are subjects and pins, never candidates), pins, blocks with and without expiry.

The index is flat (exact), so there is no approximation to allow for: any difference is a bug. The
demo corpus is run with the fake encoder and, marked `model`, with the real one.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, event, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from index.build import build_index
from recsys.articles import format_timestamp
from recsys.catalog.changes import CatalogChanges
from recsys.catalog.ingest import import_file
from recsys.catalog.overrides import Overrides
from recsys.demo_corpus import generate
from recsys.encoding.protocol import Encoder
from recsys.errors import ArticleNotFound
from recsys.root import Root
from recsys.serving.live import LiveState, built_state
from recsys.serving.query import RelatedQuery
from recsys.serving.recommend import Recommender
from recsys.serving.types import RankedList
from recsys.serving.unindexed import PreparedSubjects
from recsys.settings import Settings
from tests.fakes import FakeEncoder
from tests.reference import ReferenceRecommender, summary

NOW = datetime(2026, 4, 20, 12, tzinfo=UTC)  # inside the corpus: later articles are scheduled
# Bylines for most articles (the demo corpus has none); "Late Editor" first appears after the build.
AUTHORS = ("Ada Byline", "Ben Reporter", "Cora Desk", "Dev Stringer")
LATE_AUTHOR = "Late Editor"
LATE_SECTION, LATE_TAG = "new-desk", "new-tag"
ARCHIVE = "archive"  # a section of undated stories only


def _byline(n: int) -> dict[str, str]:
    if n % 5 == 3:
        return {}
    return {"author": AUTHORS[n % len(AUTHORS)], "image_url": f"https://img.example/{n}.jpg"}


# Languages for the language world: English in two regions, German, Portuguese, and none.
LANGUAGES = ("en", "en-GB", "de", "pt-BR", None)


def _language(n: int) -> dict[str, str]:
    language = LANGUAGES[n % len(LANGUAGES)]
    return {} if language is None else {"language": language}


@dataclass
class World:
    fast: Recommender
    reference: ReferenceRecommender
    ids: list[str]
    urls: list[str]
    sections: list[str]
    tags: list[str]
    authors: list[str]
    languages: tuple[str, ...] = ()


def _world(
    folder: Path, encoder: Encoder, *, languages: bool = False, archive: bool = False, **overrides: object
) -> Iterator[World]:
    settings = Settings(data_dir=folder / "data", **overrides)  # type: ignore[arg-type]
    catalog = Root(settings).catalog
    demo = generate()
    # Some articles undated, as in archives without dates: every rule must treat them alike.
    records = [
        {
            **d.to_record(),
            **_byline(n),
            **({"published_at": None} if n % 15 == 7 else {}),
            # Some with catalog codes for tags only (as a wire archive's `topic:` codes): no names count.
            **({"tags": [f"topic:{t}" for t in d.tags]} if n % 13 == 4 else {}),
            # `archive`: the undated ones in a section of their own (a section block seen from the clock)
            **({"section": ARCHIVE} if archive and n % 15 == 7 else {}),
            **(_language(n) if languages else {}),
        }
        for n, d in enumerate(demo)
    ]
    path = folder / "demo.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    import_file(catalog, path, strict=True)
    build_index(settings, catalog, encoder)
    query_side = Root(settings, encoder=encoder, catalog=catalog).query_side
    # Served from before the changes below: its live view follows them by refreshes, one per step,
    # as the service's watcher would (requests never read the catalog).
    fast = query_side.load(clock=lambda: NOW)
    ids = [d.id for d in demo]
    # After the build: everything the live view has to follow.
    catalog.set_status(ids[3], "retracted")
    catalog.set_status(ids[40], "retracted")
    catalog.delete(ids[41])
    fast.refresh()
    moved = [(n, d) for n, d in enumerate(demo) if d.id in (ids[10], ids[77], ids[150])]
    # Edits after the build: a new section and date, a new title, and bylines changed or removed
    # (one to an author the version has never seen).
    late = [
        {**d.to_record(), **_byline(n), "section": "world" if d.section != "world" else "sport",
         "published_at": "2026-04-18T08:00:00Z", "title": f"{d.title} (updated)",
         "author": (LATE_AUTHOR, AUTHORS[0], None)[i]}
        for i, (n, d) in enumerate(moved)
    ]  # fmt: skip
    # ... and a section and a tag the version has never seen.
    late[2].update(section=LATE_SECTION, tags=[*late[2]["tags"], LATE_TAG])
    fresh = [
        {**demo[i].to_record(), "id": f"late-{i}", "url": f"https://news.example/late/{i}",
         "published_at": "2026-04-19T09:00:00Z", "related": []}
        for i in (5, 120)
    ]  # fmt: skip
    extra = folder / "late.jsonl"
    extra.write_text("".join(json.dumps(r) + "\n" for r in [*late, *fresh]))
    import_file(catalog, extra, strict=True)
    fast.refresh()
    overrides = Overrides(catalog)
    overrides.set_pins(ids[0], [ids[200], ids[3], "late-5", ids[1]])
    overrides.set_pins(ids[18], [ids[100], ids[101]])
    overrides.block(ids[2])  # everywhere
    overrides.block(ids[19], under=ids[18])
    # Blocks with an expiry on either side of NOW (stored by hand: the API refuses expiries before
    # the real clock's now, and NOW is in the corpus's past).
    with catalog.transaction() as conn:
        for target, expiry in ((ids[22], NOW + timedelta(days=1)), (ids[23], NOW - timedelta(days=1))):
            stamp = format_timestamp(expiry)
            conn.execute("INSERT INTO blocks VALUES ('', ?, ?, ?)", (target, stamp, stamp))
        catalog.bump_generation(conn)
    fast.refresh()  # the state current before anything is compared

    reference = ReferenceRecommender(
        catalog, fast.index, lambda: NOW, query_side.policy, embed=fast.embed, recipe=query_side.recipe
    )
    urls = [d.url for d in demo if d.url][:40]
    sections = [
        *sorted({d.section for d in demo if d.section}),
        LATE_SECTION,
        *([ARCHIVE] if archive else []),
    ]
    tags = [*sorted({t for d in demo for t in d.tags})[:12], LATE_TAG]
    authors = [*AUTHORS, LATE_AUTHOR]
    known = ("en", "en-GB", "de", "pt", "pt-BR", "ko") if languages else ()
    yield World(fast, reference, [*ids, "late-5", "late-120"], urls, sections, tags, authors, known)
    catalog.close()


@pytest.fixture(scope="module")
def fake_world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    yield from _world(tmp_path_factory.mktemp("fake"), FakeEncoder())


@pytest.fixture(scope="module")
def language_world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    """Articles in four languages and none: the default same-language rule, `cross_language` and the
    `language` filter, against the reference's own reading of them."""
    yield from _world(tmp_path_factory.mktemp("languages"), FakeEncoder(), languages=True)


@pytest.fixture(scope="module")
def short_lists_world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    """Four precomputed neighbours and a search bound of 64: most requests leave the precomputed
    path, so the narrow-filter scan and the bounded search are what is compared."""
    yield from _world(tmp_path_factory.mktemp("short"), FakeEncoder(), neighbours=4, search_cap=64)


@pytest.fixture(scope="module")
def capped_world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    """A redundancy cap low enough that most lists reach it: the ranking then looks past its pool
    for reserves and lists capped candidates after the section fallback, on both paths alike."""
    yield from _world(tmp_path_factory.mktemp("capped"), FakeEncoder(), redundancy_cap=0.5)


@pytest.fixture(scope="module")
def narrow_sections_world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    """A section pool of 12 stories each side: each section block's window is a slice of its section,
    so live changes fall inside some windows and outside others; and a section of undated stories."""
    yield from _world(tmp_path_factory.mktemp("narrow"), FakeEncoder(), archive=True, section_pool=12)


@pytest.fixture(scope="module")
def real_world(tmp_path_factory: pytest.TempPathFactory, real_encoder: Encoder) -> Iterator[World]:
    yield from _world(tmp_path_factory.mktemp("real"), real_encoder)


@st.composite
def queries(draw: st.DrawFn, world: World) -> tuple[str, RelatedQuery]:
    article_id = draw(st.sampled_from(world.ids))
    window = st.one_of(
        st.none(),
        st.datetimes(min_value=datetime(2025, 12, 1), max_value=datetime(2026, 6, 1), timezones=st.just(UTC)),
    )
    since, until = draw(window), draw(window)
    if since is not None and until is not None and since > until:
        since, until = until, since
    sections = draw(st.lists(st.sampled_from([*world.sections, "no-such-desk"]), max_size=2, unique=True))
    excluded_sections = draw(st.lists(st.sampled_from(world.sections), max_size=2, unique=True))
    tags = draw(st.lists(st.sampled_from([*world.tags, "no-such-tag"]), max_size=2, unique=True))
    excluded_tags = draw(st.lists(st.sampled_from(world.tags), max_size=1, unique=True))
    authors = draw(st.lists(st.sampled_from([*world.authors, "no-such-author"]), max_size=2, unique=True))
    excluded_authors = draw(st.lists(st.sampled_from(world.authors), max_size=1, unique=True))
    query = RelatedQuery(
        limit=draw(st.integers(1, 15)),
        section_limit=draw(st.integers(0, 6)),
        exclude=tuple(draw(st.lists(st.sampled_from(world.ids + world.urls), max_size=4))),
        sections=tuple(sections),
        exclude_sections=tuple(s for s in excluded_sections if s not in sections),
        tags=tuple(tags),
        exclude_tags=tuple(t for t in excluded_tags if t not in tags),
        authors=tuple(authors),
        exclude_authors=tuple(a for a in excluded_authors if a not in authors),
        since=since,
        until=until,
        max_age_days=draw(st.one_of(st.none(), st.floats(1, 120))),
        background=draw(st.booleans()),
        freshness=draw(st.sampled_from([None, True, False])),
        half_life_days=draw(st.one_of(st.none(), st.floats(0.5, 60))),
    )
    if world.languages:
        chosen = draw(st.lists(st.sampled_from(world.languages), max_size=2, unique=True))
        query = replace(query, languages=tuple(chosen), cross_language=draw(st.booleans()))
    return article_id, query


def _same(world: World, article_id: str, query: RelatedQuery) -> None:
    try:
        world.reference.related_list(article_id, query)
    except ArticleNotFound:  # deleted since the build: gone for both
        with pytest.raises(ArticleNotFound):
            world.fast.related_list(article_id, query)
        return
    fast = world.fast.related_list(article_id, query)
    slow = world.reference.related_list(article_id, query)
    assert summary(fast) == summary(slow)
    assert (fast.collapsed, fast.next_cursor) == (slow.collapsed, slow.next_cursor)
    fast_blocks = world.fast.blocks(article_id, query)
    slow_blocks = world.reference.blocks(article_id, query)
    assert summary(fast_blocks.related) == summary(slow_blocks.related)
    assert summary(fast_blocks.more_in_section) == summary(slow_blocks.more_in_section)
    assert fast_blocks.next_cursor == slow_blocks.next_cursor
    if fast_blocks.next_cursor:  # the next page, from the same cursor, agrees too
        again = replace(query, cursor=fast_blocks.next_cursor)
        assert summary(world.fast.blocks(article_id, again).related) == summary(
            world.reference.blocks(article_id, again).related
        )


@hsettings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_fast_path_equals_the_exhaustive_reference(fake_world: World, data: st.DataObject) -> None:
    article_id, query = data.draw(queries(fake_world))
    _same(fake_world, article_id, query)


@hsettings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_narrow_filters_scan_exactly_what_they_can_match(
    short_lists_world: World, data: st.DataObject
) -> None:
    article_id, query = data.draw(queries(short_lists_world))
    # With a bound of 64 a search is approximate by design (it sees 64 of 310 articles), so only
    # requests whose filters narrow them to at most 64 articles are compared: those are scored exactly.
    fast = short_lists_world.fast
    try:
        request = fast._request(fast._subject_by_id(fast.live.current(), article_id), query)
    except ArticleNotFound:
        return
    if request.rules.narrow_rows(fast.search_cap) is not None:
        _same(short_lists_world, article_id, query)


@pytest.mark.model
@hsettings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_fast_path_equals_the_reference_on_real_vectors(real_world: World, data: st.DataObject) -> None:
    article_id, query = data.draw(queries(real_world))
    _same(real_world, article_id, query)


@hsettings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_language_rules_agree_with_the_reference(language_world: World, data: st.DataObject) -> None:
    article_id, query = data.draw(queries(language_world))
    _same(language_world, article_id, query)


def test_the_default_lists_keep_the_subject_s_language(language_world: World) -> None:
    fast = language_world.fast
    for article_id in language_world.ids[:60]:
        _same(language_world, article_id, RelatedQuery(limit=10, section_limit=5))
        row = fast.snapshot.by_id.row(article_id)
        subject = fast.live.article(fast.live.current(), row) if row is not None else None
        if subject is None or subject.language is None:
            continue
        try:
            listed = fast.blocks(article_id, RelatedQuery(limit=10, section_limit=5))
        except ArticleNotFound:  # deleted since the build
            continue
        items = [*listed.related.items, *listed.more_in_section.items]
        if article_id == language_world.ids[18]:  # pt-BR, pins two English stories: explicit links pass
            assert {i.fields()[7] for i in items if i.reason == "pinned"} == {"en", "en-GB"}
        for item in (i for i in items if i.reason != "pinned"):
            language = item.fields()[7]
            assert language is None or language.split("-")[0] == subject.language.split("-")[0]
        across = fast.related_list(article_id, RelatedQuery(limit=10, cross_language=True))
        _same(language_world, article_id, RelatedQuery(limit=10, cross_language=True))
        assert len(across.items) >= len(listed.related.items)


def test_every_article_and_the_default_query_agree(fake_world: World) -> None:
    for article_id in fake_world.ids:
        _same(fake_world, article_id, RelatedQuery(limit=10, section_limit=5))


@hsettings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_reserves_and_capped_candidates_agree(capped_world: World, data: st.DataObject) -> None:
    article_id, query = data.draw(queries(capped_world))
    _same(capped_world, article_id, query)


def test_articles_the_version_lacks_agree_prepared_or_read_on_the_request(fake_world: World) -> None:
    """late-5 and late-120, imported since the build, are prepared in memory when the state is
    refreshed; with nothing prepared (a bound of 0) a request reads and embeds them, as before
    preparation existed. Both ways agree with the reference."""
    fast = fake_world.fast
    state = fast.live.current()
    late = [state.unindexed.by_id(i) for i in ("late-5", "late-120")]
    assert all(e is not None and fast.subjects.get(e) is not None for e in late)
    unprepared = copy.copy(fast)
    unprepared.subjects = PreparedSubjects(fast.catalog, fast.encoder, fast.recipe, model="", limit=0)
    unprepared.prepare()
    assert len(unprepared.subjects) == 0 and not unprepared.in_memory("late-5")
    for world in (fake_world, replace(fake_world, fast=unprepared)):
        for article_id in ("late-5", "late-120"):
            for query in (
                RelatedQuery(limit=10, section_limit=5),
                RelatedQuery(limit=4, exclude=("late-120",)),
            ):
                _same(world, article_id, query)


def test_every_article_agrees_under_a_low_cap(capped_world: World) -> None:
    for article_id in capped_world.ids:
        _same(capped_world, article_id, RelatedQuery(limit=10, section_limit=5))


def test_a_filter_that_cannot_match_answers_without_searching(fake_world: World) -> None:
    searches = []
    vectors = fake_world.fast.index.vectors
    original = vectors.search

    def counting(queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        searches.append(k)
        return original(queries, k)

    vectors.search = counting  # type: ignore[method-assign]
    try:
        for query in (
            RelatedQuery(sections=("no-such-desk",)),
            RelatedQuery(tags=("no-such-tag",)),
            RelatedQuery(authors=("no-such-author",)),
            RelatedQuery(since=datetime(2100, 1, 1, tzinfo=UTC)),
            RelatedQuery(until=datetime(2000, 1, 1, tzinfo=UTC)),
        ):
            blocks = fake_world.fast.blocks(fake_world.ids[0], query)
            assert blocks.related.items == [] and blocks.more_in_section.items == []
        # An unfiltered request of a stored article is answered from its precomputed list.
        assert fake_world.fast.related_list(fake_world.ids[30], RelatedQuery()).items
        assert searches == []
    finally:
        del vectors.search


def test_a_section_filter_finds_its_undated_articles_too(short_lists_world: World) -> None:
    """A section filter scans the section's articles, dated or not (no date rule asks for a date)."""
    snapshot = short_lists_world.fast.snapshot
    narrow = [
        s
        for s in short_lists_world.sections
        if s in snapshot.section_code and len(snapshot.section_all(snapshot.section_code[s])) <= 64
    ]
    assert narrow
    for article_id in short_lists_world.ids[::7]:
        for section in narrow:
            _same(short_lists_world, article_id, RelatedQuery(limit=20, section_limit=0, sections=(section,)))


def test_an_author_filter_lists_that_author_only_as_the_live_catalog_has_it(short_lists_world: World) -> None:
    """Bylines edited since the build count as they are now, an author the version never saw
    included; a narrow author filter is scanned exactly."""
    fast = short_lists_world.fast
    for article_id in short_lists_world.ids[::11]:
        for author in (LATE_AUTHOR, AUTHORS[0], AUTHORS[2]):
            query = RelatedQuery(limit=20, section_limit=3, authors=(author,))
            _same(short_lists_world, article_id, query)
            try:
                listed = fast.blocks(article_id, query)
            except ArticleNotFound:
                continue
            shown = [i.fields() for i in [*listed.related.items, *listed.more_in_section.items]]
            assert {fields[6] for fields in shown} <= {author}
    late = fast.related_list(short_lists_world.ids[0], RelatedQuery(limit=20, authors=(LATE_AUTHOR,)))
    assert [i.fields()[0] for i in late.items] == [short_lists_world.ids[10]]


@pytest.mark.parametrize("filters", [{"sections": (LATE_SECTION,)}, {"tags": (LATE_TAG,)}])
def test_a_section_or_tag_first_seen_since_the_build_can_be_filtered_on(
    short_lists_world: World, fake_world: World, filters: dict[str, tuple[str, ...]]
) -> None:
    """Such a name has a code in the live view only: its filter finds the edited article (it once
    failed with an IndexError, a 500 over HTTP)."""
    for world in (short_lists_world, fake_world):
        query = RelatedQuery(limit=20, section_limit=0, **filters)  # type: ignore[arg-type]
        assert [i.fields()[0] for i in world.fast.related_list(world.ids[0], query).items] == [world.ids[150]]
        _same(world, world.ids[0], query)


@pytest.mark.parametrize(
    "shape",
    [
        {"time_prior_band": 0.85},
        {"time_prior_additive": True, "time_prior_weight": 0.2},
        {"time_prior_exponent": 2.0, "time_prior_half_life_days": 90.0},
        {"time_prior_long_share": 0.5, "time_prior_long_half_life_days": 365.0},
        {"time_prior_undated_days": 180.0},
        # Same-story evidence (issue 22): the names two articles share, alone and with the tail.
        {"entity_weight": 0.4},
        {"entity_weight": 0.4, "time_prior_long_share": 0.5, "time_prior_long_half_life_days": 730.0},
    ],
)
def test_every_article_agrees_under_other_shapes_of_the_time_prior(
    fake_world: World, shape: dict[str, object]
) -> None:
    fast, reference = fake_world.fast, fake_world.reference
    before = fast.policy
    query = RelatedQuery(limit=10, section_limit=5)
    live = [i for i in fake_world.ids if i != fake_world.ids[41]]  # ids[41] is deleted since the build
    # Each shape against the prior of before issue 22 (no names, no tail; the default has both), so
    # that every shape, the default's own included, changes lists.
    plain = replace(before, entity_weight=0.0, time_prior_long_share=0.0)
    # The knobs are Policy fields only (sweep knobs), so both paths are handed the same Policy.
    fast.policy = reference.policy = plain
    try:
        default = [summary(fast.related_list(i, query)) for i in live]
        fast.policy = reference.policy = replace(plain, **{"time_prior_weight": 0.3, **shape})  # type: ignore[arg-type]
        for article_id in fake_world.ids:
            _same(fake_world, article_id, query)
        changed = sum(summary(fast.related_list(i, query)) != d for i, d in zip(live, default, strict=True))
    finally:
        fast.policy = reference.policy = before
    assert changed > 0  # the shape changes lists, so the comparison above compares something


def test_names_leave_an_undated_or_untagged_article_ranked_exactly_as_without_them(fake_world: World) -> None:
    """Names count only for a dated article, where the time prior keeps its list to the story's time,
    with tags of its own, and with names on the prior's tail goes with them (issue 22): an undated
    one's lists, or one whose tags are all catalog codes, scores included, are those of
    entity_weight 0 and no tail, on both paths; a dated, tagged one's change."""
    fast, reference = fake_world.fast, fake_world.reference
    before = fast.policy
    query = RelatedQuery(limit=10, section_limit=5)
    live = [i for i in fake_world.ids if i != fake_world.ids[41]]  # ids[41] is deleted since the build
    undated = {str(fast.snapshot.ids[r]) for r in np.flatnonzero(np.isnan(fast.snapshot.published)).tolist()}
    codes_only = {i for i in live if all(":" in t for t in fast.catalog.get(i).article.tags)} - undated
    assert undated & set(live) and codes_only and set(live) - undated - codes_only
    undated |= codes_only

    def lists(**shape: float) -> dict[str, tuple[object, ...]]:
        fast.policy = reference.policy = replace(before, time_prior_weight=0.3, **shape)  # type: ignore[arg-type]
        try:
            return {
                i: (_exact(fast.related_list(i, query)), _exact(reference.related_list(i, query)))
                for i in live
            }
        finally:
            fast.policy = reference.policy = before

    without = lists(entity_weight=0.0, time_prior_long_share=0.0)
    named = lists(entity_weight=0.4, time_prior_long_share=0.5, time_prior_long_half_life_days=730.0)
    assert all(without[i] == named[i] for i in undated & set(live))
    assert any(without[i] != named[i] for i in set(live) - undated)


# -- final lists: the default list stored with the version (recsys/version/lists.py) ----------------


def _exact(ranked: RankedList) -> list[tuple[int | None, str, float, tuple[str | None, ...]]]:
    """What a list serves, compared exactly: keys, order, reasons, scores (no tolerance) and fields."""
    return [(i.key, i.reason, i.score, i.fields()) for i in ranked.items]


def _both(fast: Recommender, article_id: str, query: RelatedQuery, state: LiveState) -> bool:
    """The answer with the final lists and section blocks equals the one ranked now, to the last bit;
    returns whether the stored list was used."""
    return _both_blocks(fast, article_id, query, state)[0]


def _both_blocks(
    fast: Recommender, article_id: str, query: RelatedQuery, state: LiveState
) -> tuple[bool, bool]:
    """As `_both`; returns whether the stored related list and the stored section block were used."""
    lists, sections = fast.lists, fast.sections
    assert lists is not None and sections is not None
    row = fast.snapshot.by_id.row(article_id)
    now = fast.clock().timestamp()
    used = row is not None and fast._stored_related(state, row, query, now) is not None
    in_section = used and row is not None and fast._stored_section(state, row, query, now) is not None
    answers: list[object] = []
    for stored in ((lists, sections), (lists, None), (None, None)):
        fast.lists, fast.sections = stored
        try:
            try:
                related = fast.related_list(article_id, query, state=state)
                blocks = fast.blocks(article_id, query, state=state)
            except ArticleNotFound:
                answers.append(None)
                continue
        finally:
            fast.lists, fast.sections = lists, sections
        answers.append(
            (
                _exact(related),
                related.collapsed,
                related.next_cursor,
                _exact(blocks.related),
                blocks.related.collapsed,
                _exact(blocks.more_in_section),
                blocks.more_in_section.collapsed,
                blocks.next_cursor,
            )
        )
    assert answers[0] == answers[1] == answers[2]
    return used, in_section


def test_final_lists_are_stored_with_the_version(fake_world: World) -> None:
    lists = fake_world.fast.lists
    assert lists is not None and lists.rows is not None
    assert lists.limit == Settings().default_limit
    assert lists.stored > len(fake_world.fast.snapshot) // 2
    manifest = fake_world.fast.index.manifest.data
    assert manifest["lists"]["stored"] == lists.stored
    assert all(name in manifest["files"] for name in lists.arrays())


def test_final_lists_equal_the_ranked_lists_for_every_article(fake_world: World) -> None:
    """Every article of the demo corpus, under the live changes of the world (retractions, a
    deletion, edits, imports, pins, blocks with and without expiry, scheduled articles at NOW)."""
    fast = fake_world.fast
    state = fast.live.current()
    query = RelatedQuery(limit=10, section_limit=5)
    # On 310 articles with 64 neighbours each, the world's changes (a global block among them) touch
    # nearly every list, and NOW holds back later articles: most lists are ranked now here.
    for article_id in fake_world.ids:
        _both(fast, article_id, query, state)
    # With nothing changed since the build and a clock past every date, every stored list is used.
    built = built_state(fast.snapshot)
    later = copy.copy(fast)
    later.clock = lambda: datetime(2100, 1, 1, tzinfo=UTC)
    assert later.lists is not None
    everywhere = [_both_blocks(later, article_id, query, built) for article_id in fake_world.ids]
    assert sum(related for related, _ in everywhere) == later.lists.stored
    # Beside each of them, the stored section block (an undated subject's block is ranked now).
    assert later.sections is not None
    assert sum(section for _, section in everywhere) == later.sections.blocks.stored > 0
    assert all(related for related, section in everywhere if section)


def test_section_blocks_are_stored_with_the_version(fake_world: World) -> None:
    sections = fake_world.fast.sections
    assert sections is not None and sections.section_limit == Settings().default_section_limit
    manifest = fake_world.fast.index.manifest.data
    assert manifest["sections"]["stored"] == sections.blocks.stored
    assert all(name in manifest["files"] for name in sections.arrays())


@st.composite
def live_changes(draw: st.DrawFn, world: World) -> LiveState:
    """A live state as a refresh would make it from random changes since the build: retractions,
    deletions, edits (a new section, a date moved into the future: scheduled), imports (articles the
    version does not hold), pins (to stored and imported articles) and blocks with and without expiry."""
    fast = world.fast
    # What a refresh keeps whatever else changed: the articles the version does not hold (late-5 and
    # late-120, imported since the build), known to the state and prepared.
    base = replace(built_state(fast.snapshot), unindexed=fast.live.current().unindexed)
    snapshot = fast.snapshot
    n = len(snapshot)
    records: list[dict[str, object]] = []
    deleted: list[int] = []
    for row in draw(st.lists(st.integers(0, n - 1), max_size=6, unique=True)):
        article = snapshot.article(row)
        kinds = ["retracted", "deleted", "scheduled", "moved", *(["language"] if world.languages else [])]
        kind = draw(st.sampled_from(kinds))
        if kind == "deleted":
            deleted.append(int(snapshot.keys[row]))
            continue
        published = article.published_at
        section = article.section
        if kind == "scheduled":
            published = format_timestamp(NOW + timedelta(days=draw(st.integers(-3, 30))))
        if kind == "moved":
            section = draw(st.sampled_from(world.sections))
        language = article.language
        if kind == "language":  # into another language's lists, or out of every one
            language = draw(st.sampled_from([*LANGUAGES, "ko"]))
        records.append(
            {"key": int(snapshot.keys[row]), "id": article.id, "url": article.url, "title": article.title,
             "section": section, "tags": json.dumps(list(article.tags)), "published_at": published,
             "status": "retracted" if kind == "retracted" else "published", "image_url": article.image_url,
             "author": article.author, "language": language}
        )  # fmt: skip
    imported = 10**6  # keys the version does not hold: imported since the build
    for i in range(draw(st.integers(0, 2))):
        # Published in a section since the build (or scheduled there), or undated and in none.
        section = draw(st.sampled_from([None, *world.sections]))
        when = draw(st.integers(-60, 30)) if section is not None else None
        published = format_timestamp(NOW + timedelta(days=when)) if when is not None else None
        records.append(
            {"key": imported + i, "id": f"new-{i}", "url": None, "title": "new", "section": section,
             "tags": "[]", "published_at": published, "status": "published", "image_url": None,
             "author": None, "language": None, "content_hash": f"new-{i}"}
        )  # fmt: skip
    keys = st.sampled_from([int(k) for k in snapshot.keys[:: max(1, n // 60)]])
    pins = {
        draw(st.sampled_from(world.ids[:300])): tuple(
            draw(st.lists(keys, min_size=1, max_size=3, unique=True))
        )
        for _ in range(draw(st.integers(0, 2)))
    }
    expiry = st.one_of(
        st.none(), st.integers(-5, 5).map(lambda d: format_timestamp(NOW + timedelta(days=d, hours=1)))
    )
    blocks: dict[str, list[tuple[int, str | None]]] = {}
    for _ in range(draw(st.integers(0, 3))):
        scope = draw(st.sampled_from(["", *world.ids[:300]]))
        blocks.setdefault(scope, []).append((draw(keys), draw(expiry)))
    changes = CatalogChanges(
        generation=base.generation + 1,
        rows=records,  # type: ignore[arg-type]  # read by name, as sqlite3.Row is
        deleted=deleted,
        pins=pins,
        blocks={scope: tuple(entries) for scope, entries in blocks.items()},
    )
    return fast.live._next(base, changes)


@hsettings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_final_lists_equal_the_ranked_lists_under_random_live_changes(
    fake_world: World, data: st.DataObject
) -> None:
    _random_live_changes(fake_world, data)


@hsettings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_section_blocks_equal_the_ranked_blocks_under_random_live_changes(
    narrow_sections_world: World, data: st.DataObject
) -> None:
    """Section windows narrower than their sections: a change inside the window of the subject's block
    ranks it now, one outside leaves the stored block, and both answers are the ranked ones."""
    _random_live_changes(narrow_sections_world, data)


def _random_live_changes(world: World, data: st.DataObject) -> None:
    state = data.draw(live_changes(world))
    fast = copy.copy(world.fast)
    moment = data.draw(st.sampled_from([NOW, NOW + timedelta(days=40), datetime(2100, 1, 1, tzinfo=UTC)]))
    fast.clock = lambda: moment
    section_limit = st.one_of(st.just(Settings().default_section_limit), st.integers(0, 6))
    defaults = st.builds(RelatedQuery, limit=st.just(10), section_limit=section_limit)
    query = data.draw(st.one_of(defaults, queries(world).map(lambda pair: pair[1])))
    for article_id in data.draw(st.lists(st.sampled_from(world.ids), min_size=1, max_size=8)):
        related, section = _both_blocks(fast, article_id, query, state)
        event("stored list" if related else "ranked now")
        event("stored section block" if section else "section ranked now")


def test_lists_in_several_languages_are_per_language_and_stored(language_world: World) -> None:
    """Each article's precomputed list holds its own language and none (recsys/version/neighbours.py),
    so its default list is stored; under the world's edits (some moved to another language since the
    build) and without them, the stored lists are what ranking now gives."""
    fast = language_world.fast
    assert fast.index.manifest.data["neighbours"].get("by_language") is True
    lists = fast.lists
    assert lists is not None and lists.stored > len(fast.snapshot) * 3 // 4
    state = fast.live.current()
    assert len(fast._language_moves(state)[0]) > 0  # edits since the build changed some articles' language
    query = RelatedQuery(limit=10, section_limit=5)
    for article_id in language_world.ids:
        _both(fast, article_id, query, state)
    later = copy.copy(fast)
    later.clock = lambda: datetime(2100, 1, 1, tzinfo=UTC)
    built = built_state(fast.snapshot)
    assert sum(_both(later, i, query, built) for i in language_world.ids) == lists.stored


@hsettings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_final_lists_in_several_languages_equal_the_ranked_lists_under_random_live_changes(
    language_world: World, data: st.DataObject
) -> None:
    state = data.draw(live_changes(language_world))
    fast = copy.copy(language_world.fast)
    moment = data.draw(st.sampled_from([NOW, datetime(2100, 1, 1, tzinfo=UTC)]))
    fast.clock = lambda: moment
    defaults = st.builds(RelatedQuery, limit=st.just(10), section_limit=st.integers(0, 6))
    query = data.draw(st.one_of(defaults, queries(language_world).map(lambda pair: pair[1])))
    for article_id in data.draw(st.lists(st.sampled_from(language_world.ids), min_size=1, max_size=8)):
        event("stored list" if _both(fast, article_id, query, state) else "ranked now")


@pytest.mark.model
def test_final_lists_equal_the_ranked_lists_on_real_vectors(real_world: World) -> None:
    fast = real_world.fast
    query = RelatedQuery(limit=10, section_limit=5)
    for article_id in real_world.ids:
        _both(fast, article_id, query, fast.live.current())
    later = copy.copy(fast)
    later.clock = lambda: datetime(2100, 1, 1, tzinfo=UTC)
    assert later.lists is not None
    built = built_state(fast.snapshot)
    assert sum(_both(later, i, query, built) for i in real_world.ids) == later.lists.stored > 0


def test_an_undated_article_keeps_its_block_in_a_section_of_undated_stories(
    narrow_sections_world: World,
) -> None:
    """Seen from the clock, an undated article's section block moves with time unless its section has
    no dated story: then it is empty, stored, and used until a dated story joins the section."""
    fast = narrow_sections_world.fast
    snapshot, sections = fast.snapshot, fast.sections
    assert sections is not None
    undated = np.flatnonzero(np.isnan(snapshot.published)).tolist()
    stored = [row for row in undated if sections.blocks.collapsed[row] >= 0]
    archive = snapshot.section_code[ARCHIVE]
    assert stored and all(int(snapshot.sections[row]) == archive for row in stored)
    later = copy.copy(fast)
    later.clock = lambda: datetime(2100, 1, 1, tzinfo=UTC)
    query = RelatedQuery(limit=10, section_limit=5)
    built = built_state(snapshot)
    assert all(_both_blocks(later, snapshot.ids[row], query, built)[1] for row in stored)
