"""The click simulator finds the known-better arm on the demo corpus, A/B and interleaved (fixed seeds)."""

from __future__ import annotations

import random

import pytest

from index.evaluation import Prepared, prepare
from recsys.demo_corpus import generate, write_jsonl
from recsys.evaluation import clicks, simulate
from recsys.evaluation.truth import ProxyTruth
from recsys.root import Root
from recsys.settings import Settings
from tests.fakes import FakeEncoder


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Prepared:
    folder = tmp_path_factory.mktemp("simulate")
    corpus = folder / "demo.jsonl"
    write_jsonl(corpus)
    root = Root(Settings(data_dir=folder / "data"), encoder=FakeEncoder())
    return prepare(root, [corpus], say=lambda _: None)


def _truth(demo: Prepared) -> ProxyTruth:
    stories = {a.id: a.story for a in generate() if a.story}
    return ProxyTruth(demo.corpus, "story", stories=stories)


def test_a_page_view_sends_what_the_widget_sends() -> None:
    class Everything:
        def gain(self, query_id: str, candidate_id: str) -> float:
            return 1.0

    body = {
        "article_id": "q",
        "index_version": "v1",
        "experiment": "e",
        "arm": "x",
        "items": [{"id": "a"}, {"id": "b"}],
    }
    sink = simulate.MemorySink()
    impressions, click = simulate.read_page(
        body, "q", Everything(), simulate.ClickModel(eta=0, ceiling=1), random.Random(0)
    )
    assert [e["position"] for e in impressions] == [0, 1]
    assert click == {
        "type": "click",
        "block": "related",
        "position": 0,
        "item": "a",
    }  # always examined, always clicked
    sink(simulate.batch(body, "pv-00000001", impressions))
    sink(simulate.batch(body, "pv-00000001", [click]))
    rows = sink.rows()
    assert [(r.position, r.arm, r.impressions, r.clicks) for r in rows] == [(0, "x", 1, 1), (1, "x", 1, 0)]


@pytest.mark.parametrize("design", ["ab", "interleave"])
@pytest.mark.parametrize(("better", "worse"), [("system", "random"), ("bm25", "random")])
def test_the_simulator_finds_the_better_arm(
    demo: Prepared, design: clicks.Design, better: str, worse: str
) -> None:
    truth = _truth(demo)
    rankers = simulate.method_rankers([better, worse], demo.corpus, demo.recommender, seed=1)
    sink = simulate.MemorySink()
    found = simulate.simulate(
        truth,
        simulate.MethodLists(rankers, experiment="sim"),
        sink,
        sink.rows,
        arms=(better, worse),
        design=design,
        max_views=400,
        experiment="sim",
        seed=7,
    )
    assert [c.views for c in found] == [100, 200, 400]
    assert simulate.views_needed(found, better) is not None
    assert all(c.result.winner() != worse for c in found)


def test_a_run_can_stop_once_the_better_arm_is_found(demo: Prepared) -> None:
    rankers = simulate.method_rankers(["bm25", "random"], demo.corpus, demo.recommender, seed=1)
    sink = simulate.MemorySink()
    found = simulate.simulate(
        _truth(demo),
        simulate.MethodLists(rankers, experiment="sim"),
        sink,
        sink.rows,
        arms=("bm25", "random"),
        design="ab",
        max_views=6400,
        experiment="sim",
        seed=7,
        stop_when="bm25",
    )
    assert [c.views for c in found] == [100]
    assert sum(r.impressions for r in sink.rows()) == 100 * simulate.LIST_LENGTH


def test_runs_never_share_a_page_view_id(demo: Prepared) -> None:
    # A service counts a page view's slot once: a second run against the same server that reused the
    # first run's ids would see its impressions dropped as duplicates.
    rankers = simulate.method_rankers(["bm25", "random"], demo.corpus, demo.recommender, seed=1)
    ids: dict[str, set[str]] = {}
    for experiment in ("first", "second"):
        seen = ids.setdefault(experiment, set())

        def sink(sent: simulate.Batch, seen: set[str] = seen) -> None:
            seen.add(sent["pv"])

        simulate.simulate(
            _truth(demo),
            simulate.MethodLists(rankers, experiment=experiment),
            sink,
            list,
            arms=("bm25", "random"),
            design="ab",
            max_views=100,
            experiment=experiment,
            seed=7,
        )
    assert len(ids["first"]) == len(ids["second"]) == 100
    assert not ids["first"] & ids["second"]
