"""benchmarks/click_simulator.py runs end to end (in-process, demo corpus, fake encoder, tiny sizes)
and writes its JSON; the full run is in docs/evaluation.md."""

from __future__ import annotations

import json
from pathlib import Path

from benchmarks import click_simulator


def test_the_click_simulator_writes_its_figures(fake_model: None, tmp_path: Path) -> None:
    output = tmp_path / "sim.json"
    click_simulator.main(
        [
            "--demo",
            "--data-dir",
            str(tmp_path / "d"),
            "--seeds",
            "2",
            "--max-views",
            "200",
            "--output",
            str(output),
        ]
    )
    payload = json.loads(output.read_text())
    assert payload["checkpoints"] == [100, 200] and payload["path"] == "in-process"
    results = {(r["better"], r["worse"], r["design"]): r for r in payload["results"]}
    assert set(results) == {(a, b, d) for a, b in click_simulator.PAIRS for d in ("ab", "interleave")}
    # bm25 beats random at once on the demo corpus, both ways (seeds 0 and 1).
    assert results["bm25", "random", "ab"]["views_needed"] == [100, 100]
    assert results["bm25", "random", "interleave"]["median_views"] == 100
