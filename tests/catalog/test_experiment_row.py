"""The running experiment's row in the catalog's `meta` table (recsys/catalog/experiment.py), on both
backends: written once per change, read with the other changes in one snapshot, and followed by
another replica through the change feed."""

from __future__ import annotations

import threading

from recsys.catalog.changes import change_feed, read_changes
from recsys.catalog.experiment import read_experiment, write_experiment
from recsys.catalog.store import Catalog
from recsys.root import Root
from recsys.serving.experiments import parse_experiment, store_experiment
from recsys.serving.query import RelatedQuery
from recsys.settings import Settings
from tests.fakes import FakeEncoder

CONFIG = '{"arms":[],"name":"x"}'  # the row holds text; its meaning is the query side's


def test_the_experiment_row_moves_the_generation_once_per_change(catalog: Catalog) -> None:
    assert read_experiment(catalog.connection()) is None
    start = catalog.generation()
    assert write_experiment(catalog, CONFIG) is True
    assert read_experiment(catalog.connection()) == CONFIG
    assert catalog.generation() == start + 1
    assert write_experiment(catalog, CONFIG) is False  # the same text: no change, no new generation
    assert catalog.generation() == start + 1
    changes = read_changes(catalog, start)
    assert changes is not None and changes.experiment == CONFIG and changes.generation == start + 1
    assert write_experiment(catalog, CONFIG.replace("x", "y")) is True
    assert write_experiment(catalog, None) is True
    assert read_experiment(catalog.connection()) is None and catalog.generation() == start + 3
    changes = read_changes(catalog, start + 2)
    assert changes is not None and changes.experiment is None


def test_another_replica_follows_the_experiment_through_the_change_feed(
    settings: Settings, built: Catalog, encoder: FakeEncoder
) -> None:
    # A replica of its own: its own catalog connection, its own live view, woken by the feed
    # (PostgreSQL's notifications, or SQLite's polled generation).
    replica = Root(settings, encoder=encoder)
    try:
        recommender = replica.query_side.load()
        feed = change_feed(replica.catalog, interval=0.05, safety_poll=5.0)
        stop = threading.Event()
        seen = recommender.live.generation
        woken: list[int] = []

        def follow() -> None:  # what the replica's change watcher does
            generation = seen
            while generation == seen and not stop.is_set():
                generation = feed.wait(seen, stop)  # PostgreSQL: the first call starts listening
            woken.append(generation)
            feed.close()

        watcher = threading.Thread(target=follow)
        watcher.start()
        experiment = parse_experiment(
            {"name": "t", "arms": [{"name": "control"}, {"name": "bm25", "method": "bm25"}]}
        )
        store_experiment(built, experiment)  # through another connection: another process's write
        watcher.join(10.0)
        stop.set()
        assert woken and woken[0] != seen
        assert recommender.refresh().experiment == experiment
        ranked = recommender.related_list("harbour-1", RelatedQuery(limit=3, arm="bm25"))
        assert (ranked.arm, ranked.experiment) == ("bm25", "t") and len(ranked.items) == 3
    finally:
        replica.close()
