"""The simulator's HTTP adapters against a real uvicorn server (tests/serve_fake.py): lists from GET
.../related, events to POST /events as the widget sends them; the counters in the catalog equal what
the simulated readers sent, and an experiment's better arm is found through the real service."""

from __future__ import annotations

import random
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from index.evaluation import prepare
from recsys.catalog.feedback import read_counts
from recsys.catalog.store import Catalog
from recsys.demo_corpus import generate, write_jsonl
from recsys.evaluation import clicks, simulate
from recsys.evaluation.truth import ProxyTruth
from recsys.root import Root
from recsys.settings import Settings
from tests.fakes import FakeEncoder, topic_of
from tests.servers import SERVE_FAKE, running


class SameTopic:
    def gain(self, query_id: str, candidate_id: str) -> float:
        return float(topic_of(query_id) == topic_of(candidate_id))


def test_simulated_readers_reach_the_counters_through_the_real_endpoints(
    tmp_path: Path, built: Catalog, settings: Settings
) -> None:
    variables = {
        "RECSYS_DATA_DIR": str(settings.data_dir),
        "RECSYS_LOG_LEVEL": "warning",
        "RECSYS_EVENTS_RATE": "0",
    }
    expected = simulate.MemorySink(day=datetime.now(UTC).strftime("%Y-%m-%d"))
    rng = random.Random(5)
    with (
        running(SERVE_FAKE, variables, output=tmp_path / "server.log") as (_, base),
        httpx.Client(base_url=base, timeout=30) as http,
    ):
        lists, sink = simulate.HttpLists(http, k=5), simulate.HttpSink(http)
        for view in range(40):
            article = rng.choice(["harbour-0", "harbour-1", "football-0", "election-2"])
            body = lists(article, simulate.Assignment())
            assert (body["arm"], body["experiment"]) == ("default", "")
            impressions, click = simulate.read_page(body, article, SameTopic(), simulate.ClickModel(), rng)
            for events in (impressions, [click] if click else []):
                if events:
                    sent = simulate.batch(body, f"sim-http-{view:04d}", events)
                    sink(sent)
                    expected(sent)
    assert sink.refused == 0 and sink.sent["impression"] == 200 and sink.sent["click"] > 0
    stored = [
        (r.day, r.article, r.block, r.position, r.experiment, r.arm, r.impressions, r.clicks)
        for r in read_counts(built)
    ]
    assert stored == [
        (r.day, r.article, r.block, r.position, r.experiment, r.arm, r.impressions, r.clicks)
        for r in expected.rows()
    ]


@pytest.mark.parametrize("design", ["ab", "interleave"])
def test_the_simulator_finds_the_better_arm_through_the_real_service(
    tmp_path: Path, settings: Settings, design: clicks.Design
) -> None:
    """The issue's end-to-end proof, small: an experiment set through the admin API, lists with `arm=`
    or `bucket=`, events through POST /events, the counters read back from the catalog."""
    corpus = tmp_path / "demo.jsonl"
    write_jsonl(corpus)
    prepared = prepare(Root(settings, encoder=FakeEncoder()), [corpus], say=lambda _: None)
    truth = ProxyTruth(prepared.corpus, "story", stories={a.id: a.story for a in generate() if a.story})
    variables = {
        "RECSYS_DATA_DIR": str(settings.data_dir),
        "RECSYS_LOG_LEVEL": "warning",
        "RECSYS_API_KEY": "sim",
        "RECSYS_EVENTS_RATE": "0",
        "RECSYS_EVENTS_FLUSH_SECONDS": "0.1",
    }
    with (
        running(SERVE_FAKE, variables, output=tmp_path / "server.log") as (_, base),
        httpx.Client(base_url=base, timeout=30) as http,
    ):
        found = simulate.over_http(
            http,
            prepared.catalog,
            truth,
            arms=("bm25", "random"),
            design=design,
            name=f"sim-{design}",
            api_key="sim",
            flush_seconds=0.1,
            max_views=200,
            seed=7,
        )
    assert [c.views for c in found] == [100, 200]
    assert simulate.views_needed(found, "bm25") == 100
