"""The running experiment's row in the catalog's `meta` table (recsys/catalog/experiment.py), on both
backends: written once per change, and read with the other changes in one snapshot."""

from __future__ import annotations

from recsys.catalog.changes import read_changes
from recsys.catalog.experiment import read_experiment, write_experiment
from recsys.catalog.store import Catalog

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
