"""The simulator's HTTP adapters against a real uvicorn server (tests/serve_fake.py): lists from GET
.../related, events to POST /events as the widget sends them, and the counters in the catalog after a
clean stop equal what the simulated readers sent."""

from __future__ import annotations

import random
from datetime import UTC, datetime
from pathlib import Path

import httpx

from recsys.catalog.feedback import read_counts
from recsys.catalog.store import Catalog
from recsys.evaluation import simulate
from recsys.settings import Settings
from tests.fakes import topic_of
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
            assert (body.get("arm", "default"), body.get("experiment", "")) == ("default", "")
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
