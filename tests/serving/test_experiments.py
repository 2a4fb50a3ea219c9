"""Experiments (recsys/serving/experiments.py): the bucket hash, shares, parsing, team-draft
interleaving, and the arms' lists under the live rules."""

from __future__ import annotations

import copy
import random
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from recsys.catalog.overrides import Overrides
from recsys.catalog.store import Catalog
from recsys.errors import ConfigError, InvalidInput
from recsys.serving.experiments import (
    NO_ARM,
    Experiment,
    assign,
    bucket_of,
    experiment_from_file,
    experiment_from_json,
    fnv1a_32,
    interleave_seed,
    parse_experiment,
    store_experiment,
    stored_experiment,
    team_draft,
)
from recsys.serving.query import RelatedQuery
from recsys.serving.recommend import Recommender
from recsys.settings import Settings
from tests.fakes import FakeEncoder, make_recommender

AB: dict[str, Any] = {
    "name": "fusion-test",
    "design": "ab",
    "arms": [
        {"name": "control", "share": 0.5},
        {"name": "fusion", "share": 0.5, "settings": {"fusion_weight": 0.3}, "method": "system"},
    ],
}


def _config(**changes: Any) -> dict[str, Any]:
    config = copy.deepcopy(AB)
    config.update(changes)
    return config


# -- the hash the widget's JavaScript computes too ----------------------------------------------------


@pytest.mark.parametrize(
    ("text", "hashed", "bucket"),
    [
        ("", 2166136261, 61),  # the offset basis
        ("a", 0xE40C292C, 20),  # FNV-1a's published test vectors
        ("foobar", 0xBF9CF968, 20),
        ("pv-0123456789abcdef", 412205490, 90),
        ("é", 513665217, 17),  # UTF-8 bytes, as TextEncoder gives them
        ("Zürich-42", 3139971601, 1),
    ],
)
def test_the_bucket_hash_is_fnv1a_over_utf8(text: str, hashed: int, bucket: int) -> None:
    # The same values as `Math.imul`-based FNV-1a over `new TextEncoder().encode(text)` in node.
    assert fnv1a_32(text) == hashed
    assert bucket_of(text) == bucket


def test_a_lone_surrogate_hashes_as_the_replacement_character() -> None:
    assert fnv1a_32("a\ud800") == fnv1a_32("a\ufffd")


# -- parsing and shares ---------------------------------------------------------------------------------


def test_an_ab_experiment_splits_the_buckets_by_share_in_order() -> None:
    experiment = parse_experiment(AB)
    assert experiment.arm_names == frozenset({"control", "fusion"})
    assert experiment.buckets("control") == range(0, 50) and experiment.buckets("fusion") == range(50, 100)
    assert [experiment.arm_of_bucket(b).name for b in (0, 49, 50, 99)] == ["control"] * 2 + ["fusion"] * 2
    thirds = parse_experiment(
        _config(
            arms=[{"name": "a", "share": 1 / 3}, {"name": "b", "share": 1 / 3}, {"name": "c", "share": 1 / 3}]
        )
    )
    assert [thirds.buckets(n) for n in "abc"] == [range(0, 33), range(33, 67), range(67, 100)]
    # Rounded half up: 12.5 -> 13.
    eighth = parse_experiment(_config(arms=[{"name": "a", "share": 0.125}, {"name": "b", "share": 0.875}]))
    assert eighth.buckets("a") == range(0, 13)


def test_shares_may_be_left_out_for_equal_ones() -> None:
    experiment = parse_experiment(_config(arms=[{"name": "a"}, {"name": "b"}, {"name": "c"}, {"name": "d"}]))
    assert [len(experiment.buckets(n)) for n in "abcd"] == [25, 25, 25, 25]


def test_the_config_round_trips_through_its_json() -> None:
    experiment = parse_experiment(AB)
    again = experiment_from_json(experiment.to_json())
    assert again == experiment and again is not None and again.to_json() == experiment.to_json()
    assert experiment.arm("fusion") is not None and dict(experiment.arms[1].settings) == {
        "fusion_weight": 0.3
    }
    assert experiment_from_json("null") is None


@pytest.mark.parametrize(
    ("config", "message"),
    [
        (_config(name="Fusion Test"), "experiment.name"),
        (_config(design="abc"), "experiment.design"),
        (_config(colour="red"), "unknown field(s) 'colour'"),
        (_config(blocks=["sidebar"]), "experiment.blocks"),
        (_config(arms=[{"name": "only", "share": 1.0}]), "experiment.arms"),
        (_config(arms=[{"name": "a", "share": 0.5}, {"name": "a", "share": 0.5}]), "share a name"),
        (_config(arms=[{"name": "default", "share": 0.5}, {"name": "b", "share": 0.5}]), "reserved"),
        (_config(arms=[{"name": "A!", "share": 0.5}, {"name": "b", "share": 0.5}]), "arms[0].name"),
        (_config(arms=[{"name": "a", "share": 0.5}, {"name": "b", "share": 0.6}]), "sum to 1"),
        (_config(arms=[{"name": "a", "share": 0.995}, {"name": "b", "share": 0.005}]), "gets no bucket"),
        (_config(arms=[{"name": "a", "share": 0.5}, {"name": "b"}]), "arms[1].share"),
        (
            _config(arms=[{"name": "a", "share": 0.5}, {"name": "b", "share": 0.5, "method": "bert"}]),
            "method",
        ),
        (
            _config(
                arms=[
                    {"name": "a", "share": 0.5},
                    {"name": "b", "share": 0.5, "settings": {"dup_cosine": 0.5}},
                ]
            ),
            "'dup_cosine' is not a ranking setting",
        ),
        (
            _config(
                arms=[{"name": "a", "share": 0.5}, {"name": "b", "share": 0.5, "settings": {"mmr_lambda": 2}}]
            ),
            "settings.mmr_lambda: must be at least 0 and at most 1",
        ),
        (
            _config(
                arms=[
                    {"name": "a", "share": 0.5},
                    {"name": "b", "share": 0.5, "settings": {"mmr_lambda": "x"}},
                ]
            ),
            "settings.mmr_lambda: expected a number",
        ),
        (
            _config(design="interleave", arms=[{"name": "a"}, {"name": "b"}, {"name": "c"}]),
            "exactly two arms",
        ),
        (
            _config(design="interleave", blocks=["related", "section"]),
            "interleaving merges the related block only",
        ),
        (
            _config(
                blocks=["section"],
                arms=[{"name": "a", "share": 0.5}, {"name": "b", "share": 0.5, "method": "bm25"}],
            ),
            "ranks the related block",
        ),
        ([1, 2], "expected a JSON object"),
    ],
)
def test_a_config_that_cannot_work_says_which_field(config: Any, message: str) -> None:
    with pytest.raises(InvalidInput, match=None) as raised:
        parse_experiment(config)
    assert message in str(raised.value)


def test_a_file_that_is_no_config_is_a_config_error_naming_it(tmp_path: Any) -> None:
    broken = tmp_path / "exp.json"
    broken.write_text("{not json", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"exp\.json: experiment: not JSON"):
        experiment_from_file(broken)
    with pytest.raises(ConfigError, match="cannot be read"):
        experiment_from_file(tmp_path / "missing.json")


# -- assignment -------------------------------------------------------------------------------------------


def test_a_request_gets_its_arm_by_bucket_assign_or_name() -> None:
    experiment = parse_experiment(AB)
    assert assign(experiment, arm=None, bucket=None, assign=None) is NO_ARM
    assert assign(experiment, arm=None, bucket=0, assign=None).arm == "control"
    assert assign(experiment, arm=None, bucket=50, assign=None).arm == "fusion"
    by_id = assign(experiment, arm=None, bucket=None, assign="pv-0123456789abcdef")  # bucket 90
    assert (by_id.arm, by_id.experiment, by_id.bucket) == ("fusion", "fusion-test", 90)
    assert assign(experiment, arm="control", bucket=None, assign=None).arm == "control"
    assert assign(experiment, arm="default", bucket=None, assign=None) is NO_ARM
    assert assign(None, arm=None, bucket=7, assign=None) is NO_ARM
    with pytest.raises(InvalidInput, match="not an arm of the running experiment"):
        assign(experiment, arm="nope", bucket=None, assign=None)
    with pytest.raises(InvalidInput, match="no experiment is running"):
        assign(None, arm="fusion", bucket=None, assign=None)


def test_interleaving_assigns_both_arms_with_the_bucket() -> None:
    experiment = parse_experiment(_config(design="interleave"))
    chosen = assign(experiment, arm=None, bucket=42, assign=None)
    assert (
        chosen.interleaved and [a.name for a in chosen.arms] == ["control", "fusion"] and chosen.bucket == 42
    )
    assert not assign(experiment, arm="fusion", bucket=None, assign=None).interleaved


def test_a_query_takes_at_most_one_of_the_arm_parameters() -> None:
    assert RelatedQuery(bucket=3).assigned and not RelatedQuery().assigned
    assert RelatedQuery(arm="x").unassigned() == RelatedQuery()
    with pytest.raises(InvalidInput, match="at most one of bucket, assign and arm"):
        RelatedQuery(bucket=3, arm="x")


# -- team-draft interleaving ---------------------------------------------------------------------------


def _lists(rng: random.Random) -> tuple[list[int], list[int]]:
    pool = list(range(30))
    first = rng.sample(pool, rng.randint(0, 15))
    second = rng.sample(pool, rng.randint(0, 15))
    return first, second


@pytest.mark.parametrize("case", range(200))
def test_team_draft_keeps_each_teams_order_and_never_repeats(case: int) -> None:
    rng = random.Random(case)
    first, second = _lists(rng)
    limit = rng.randint(1, 20)
    merged = team_draft(first, second, limit, seed=case)
    items = [item for item, _ in merged]
    assert len(items) == len(set(items)) == min(limit, len(set(first) | set(second)))
    for team, source in ((0, first), (1, second)):
        mine = [item for item, t in merged if t == team]
        assert set(mine) <= set(source)
        assert mine == sorted(mine, key=source.index)  # relative order kept
        # A team only ever skips items already listed: its picks are its list's untaken prefix.
        untaken = [item for item in source if item not in set(items) - set(mine)]
        assert mine == untaken[: len(mine)]
    assert team_draft(first, second, limit, seed=case) == merged  # deterministic


def test_team_draft_rounds_give_each_team_one_pick_and_a_fair_first_pick() -> None:
    first, second = list(range(0, 10)), list(range(100, 110))
    starts = []
    for seed in range(400):
        teams = [team for _, team in team_draft(first, second, 10, seed)]
        assert all(sorted(teams[r : r + 2]) == [0, 1] for r in range(0, 10, 2))  # each round: one each
        starts.append(teams[0])
    assert 150 < sum(starts) < 250  # the coin is fair


def test_a_shared_item_counts_for_the_team_that_picked_it() -> None:
    merged = team_draft(["x", "a"], ["x", "b"], 3, seed=1)
    assert [item for item, _ in merged].count("x") == 1
    first_pick = merged[0][1]
    assert merged[0][0] == "x" and merged[1] == (["a", "b"][1 - first_pick], 1 - first_pick)


def test_the_interleaving_seed_is_fixed_by_article_version_and_bucket() -> None:
    seed = interleave_seed("a-1", "v1", 7)
    assert seed == interleave_seed("a-1", "v1", 7)
    assert (
        len(
            {
                seed,
                interleave_seed("a-2", "v1", 7),
                interleave_seed("a-1", "v2", 7),
                interleave_seed("a-1", "v1", 8),
            }
        )
        == 4
    )


# -- the arms' lists ------------------------------------------------------------------------------------

EVERY_METHOD: dict[str, Any] = {
    "name": "methods",
    "design": "ab",
    "blocks": ["related", "section"],
    "arms": [
        {"name": "control"},
        {"name": "tuned", "settings": {"fusion_weight": 0.0, "mmr_lambda": 0.5, "freshness_weight": 0.9}},
        {"name": "bm25", "method": "bm25"},
        {"name": "recent", "method": "recent"},
        {"name": "random", "method": "random"},
    ],
}


@pytest.fixture
def recommender(settings: Settings, built: Catalog, encoder: FakeEncoder) -> Recommender:
    return make_recommender(settings, built, encoder)


def _running(recommender: Recommender, config: dict[str, Any]) -> Experiment:
    experiment = parse_experiment(config)
    store_experiment(recommender.catalog, experiment)
    state = recommender.refresh()
    assert state.experiment == experiment and stored_experiment(recommender.catalog) == experiment
    assert recommender.experiment is state.experiment
    return experiment


def _ids(recommender: Recommender, article: str, **query: Any) -> list[str]:
    return [i.article.id for i in recommender.related_list(article, RelatedQuery(limit=5, **query)).items]


def test_the_experiment_reaches_the_live_state_and_leaves_it(recommender: Recommender) -> None:
    generation = recommender.live.generation
    experiment = _running(recommender, EVERY_METHOD)
    assert recommender.live.generation > generation
    assert store_experiment(recommender.catalog, experiment) is False  # the same again: no new generation
    store_experiment(recommender.catalog, None)
    assert recommender.refresh().experiment is None


def test_each_arm_ranks_its_own_way(recommender: Recommender) -> None:
    default = _ids(recommender, "football-2")
    _running(recommender, EVERY_METHOD)
    lists = {
        arm: _ids(recommender, "football-2", arm=arm)
        for arm in ("control", "tuned", "bm25", "recent", "random")
    }
    assert lists["control"] == default == _ids(recommender, "football-2", arm="default")
    assert _ids(recommender, "football-2") == default  # no parameter: the default ranking
    assert all(len(ids) == 5 and "football-2" not in ids for ids in lists.values())
    assert len({tuple(ids) for ids in lists.values()}) >= 3
    # recent: the section's stories, newest first
    published = {
        r.article.id: r.article.published_at
        for r in recommender.related_list("football-2", RelatedQuery(limit=5, arm="recent")).items
    }
    assert list(published) == sorted(published, key=lambda i: published[i] or "", reverse=True)
    assert lists["random"] == _ids(recommender, "football-2", arm="random")  # fixed per article and version
    ranked = recommender.related_list("football-2", RelatedQuery(limit=5, arm="bm25"))
    assert (ranked.arm, ranked.experiment) == ("bm25", "methods")


def test_no_arm_ever_lists_a_retracted_blocked_or_excluded_article_and_pins_come_first(
    recommender: Recommender, built: Catalog
) -> None:
    _running(recommender, EVERY_METHOD)
    arms = ("control", "tuned", "bm25", "recent", "random")
    shown = {arm: _ids(recommender, "vaccine-1", arm=arm) for arm in arms}
    retracted = shown["bm25"][0]
    blocked = shown["recent"][0]
    excluded = shown["random"][0]
    built.set_status(retracted, "retracted")
    overrides = Overrides(built)
    overrides.block(blocked, expires_at=datetime.now(UTC) + timedelta(days=1))
    overrides.set_pins("vaccine-1", ["theatre-3"])
    recommender.refresh()
    for arm in arms:
        for query in ({"arm": arm}, {"arm": arm, "exclude": (excluded,)}):
            ids = _ids(recommender, "vaccine-1", **query)
            assert ids[0] == "theatre-3", (arm, ids)
            assert retracted not in ids and blocked not in ids, (arm, ids)
            assert "exclude" not in query or excluded not in ids
        blocks = recommender.blocks("vaccine-1", RelatedQuery(limit=5, arm=arm))
        everything = [i.article.id for i in [*blocks.related.items, *blocks.more_in_section.items]]
        assert retracted not in everything and blocked not in everything
        assert len(everything) == len(set(everything))  # no article in both blocks
    interleaved = _running(
        recommender,
        {**EVERY_METHOD, "design": "interleave", "blocks": ["related"], "arms": EVERY_METHOD["arms"][2:4]},
    )
    assert interleaved.design == "interleave"
    for bucket in range(20):
        ranked = recommender.related_list("vaccine-1", RelatedQuery(limit=5, bucket=bucket))
        ids = [i.article.id for i in ranked.items]
        assert retracted not in ids and blocked not in ids and len(ids) == len(set(ids))


def test_a_filter_holds_in_every_arm(recommender: Recommender) -> None:
    _running(recommender, EVERY_METHOD)
    for arm in ("control", "tuned", "bm25", "recent", "random"):
        ranked = recommender.related_list("vaccine-1", RelatedQuery(limit=3, arm=arm, sections=("theatre",)))
        # A baseline lists only what its own candidates hold: bm25's matches and the article's
        # section are all about vaccines here, so it lists nothing rather than another section.
        assert {i.article.section for i in ranked.items} <= {"theatre"}, arm
        assert ranked.items or arm in ("bm25", "recent"), arm


def test_interleaved_items_name_their_arm_and_the_list_is_fixed_by_the_bucket(
    recommender: Recommender,
) -> None:
    _running(
        recommender,
        {
            **AB,
            "design": "interleave",
            "arms": [{"name": "bm25", "method": "bm25"}, {"name": "random", "method": "random"}],
        },
    )
    first = recommender.related_list("harbour-0", RelatedQuery(limit=6, bucket=3))
    assert first.arm == "bm25" and first.experiment == "fusion-test"
    assert {i.arm for i in first.items} == {"bm25", "random"}
    bm25 = _ids(recommender, "harbour-0", arm="bm25")
    mine = [i.article.id for i in first.items if i.arm == "bm25"]
    assert mine == [i for i in bm25 if i in mine]  # the arm's order kept
    again = recommender.related_list("harbour-0", RelatedQuery(limit=6, bucket=3))
    assert [(i.article.id, i.arm) for i in again.items] == [(i.article.id, i.arm) for i in first.items]
    blocks = recommender.blocks("harbour-0", RelatedQuery(limit=6, bucket=3))
    assert [(i.article.id, i.arm) for i in blocks.related.items] == [
        (i.article.id, i.arm) for i in first.items
    ]
    assert all(i.arm is None for i in blocks.more_in_section.items)
    related = {i.article.id for i in blocks.related.items}
    assert not related & {i.article.id for i in blocks.more_in_section.items}


@pytest.mark.parametrize("blocks", [["related"], ["section"], ["related", "section"]])
def test_an_arms_settings_apply_to_the_blocks_it_names(recommender: Recommender, blocks: list[str]) -> None:
    default = recommender.blocks("election-2", RelatedQuery(limit=2, section_limit=3))
    tuned_arm = {
        "name": "tuned",
        "settings": {"freshness_weight": 1.0, "fusion_weight": 0.0, "mmr_lambda": 0.2},
    }
    _running(recommender, {**AB, "blocks": blocks, "arms": [{"name": "control"}, tuned_arm]})
    tuned = recommender.blocks("election-2", RelatedQuery(limit=2, section_limit=3, arm="tuned"))
    alone = [
        i.article.id for i in recommender.related_list("election-2", RelatedQuery(limit=2, arm="tuned")).items
    ]
    related = [i.article.id for i in tuned.related.items]
    section = [i.article.id for i in tuned.more_in_section.items]
    assert (tuned.arm, tuned.experiment) == ("tuned", "fusion-test")
    assert not set(related) & set(section) and len(section) == 3
    if "related" not in blocks:
        assert related == [i.article.id for i in default.related.items]
    else:
        assert related == alone
