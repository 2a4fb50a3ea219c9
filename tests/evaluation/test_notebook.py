"""notebooks/evaluation.ipynb runs top to bottom (on the built-in demo corpus, to keep CI short) in a
kernel of the test's own interpreter; any failing cell fails the test."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest

from recsys.demo_corpus import write_jsonl
from tests.helpers import REPO, bilingual_corpus

NOTEBOOK = REPO / "notebooks" / "evaluation.ipynb"

pytestmark = pytest.mark.model


def _kernel_here(root: Path) -> str:
    """A kernelspec for this interpreter (with this checkout importable), so the notebook runs
    against the code under test rather than whatever a user-level `python3` kernel points at."""
    name = "recsys-under-test"
    folder = root / "kernels" / name
    folder.mkdir(parents=True)
    python_path = os.pathsep.join(p for p in (str(REPO), os.environ.get("PYTHONPATH", "")) if p)
    spec = {
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "recsys tests",
        "language": "python",
        "env": {"PYTHONPATH": python_path},
    }
    (folder / "kernel.json").write_text(json.dumps(spec))
    return name


def test_the_evaluation_notebook_runs_on_the_demo_corpus(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "jupyter"))
    kernel = _kernel_here(tmp_path / "jupyter")

    notebook = nbformat.read(NOTEBOOK, as_version=4)
    (parameters,) = [c for c in notebook.cells if "parameters" in c.metadata.get("tags", [])]
    corpus = tmp_path / "demo.jsonl"
    write_jsonl(corpus)
    (tmp_path / "multilingual").mkdir()
    multilingual = bilingual_corpus(tmp_path / "multilingual")
    # The demo corpus alone (no haystack, even where ../shared/data exists) and small sweeps and
    # resample counts: every cell runs, in a fraction of the default run's time.
    parameters.source += (
        f"\nCORPUS = {str(corpus)!r}\nDATA_DIR = {str(tmp_path / 'data')!r}\nSAMPLE = 100\nHAYSTACK = []\n"
        "RESAMPLES = 300\nPERMUTATIONS = 500\nSWEEP_SAMPLE = 40\nFAILURES = 2\nSIM_VIEWS = 300\n"
        # The multilingual section run here on a dozen English and German articles, not read from
        # the committed JSON of the full run.
        f"MULTILINGUAL_JSON = None\nMULTILINGUAL_DATA = {str(multilingual)!r}\n"
    )

    client = nbclient.NotebookClient(
        notebook,
        kernel_name=kernel,
        timeout=600,
        resources={"metadata": {"path": str(REPO / "notebooks")}},
    )
    client.execute()  # raises CellExecutionError, naming the cell, when a cell fails

    outputs = [o for c in notebook.cells if c.cell_type == "code" for o in c.get("outputs", [])]
    text = "".join(o.get("text", "") for o in outputs if o.get("output_type") == "stream")
    assert f"corpus: {corpus}" in text
    assert "100 queries; truth: curated related links" in text
    assert "system minus each baseline" in text and "Holm-corrected" in text
    assert "system loses to" in text  # the failure gallery's summary line
    images = [o for o in outputs if "image/png" in o.get("data", {})]
    # recall with bands, metric panels, differences, scatter (empty: no pairs), MMR + dedup sweeps (one
    # figure), time-prior sweep, ages, per-section agreement, simulated CTR by position, R@1 and
    # Pearson per language pair, the long-story runs against each baseline (one figure for the runs)
    assert len(images) == 11
    assert f"multilingual run on {multilingual}: 12 queries" in text
    # No counters in a fresh data folder: the click section simulates readers of system and bm25.
    assert "click report: no counters; 300 simulated page views per design (system vs bm25)" in text
    assert "CTR by position" in text and "simulated-interleave" in text
    tables = [o["data"]["text/markdown"] for o in outputs if "text/markdown" in o.get("data", {})]
    assert tables[0].startswith("| method | nDCG@10 | R@1 | R@5 | story@5 | MRR | dup@10 |")
    failures = [t for t in tables if "\n| rank | curated | system | " in t]
    assert 1 <= len(failures) <= 2 and "nDCG@10: system " in failures[0]  # FAILURES = 2
    assert sum("| rank | curated | bm25 | dense | hybrid | system |" in t for t in tables) == 3  # EXAMPLES
    # The long-story section reads the committed runs (LONG_STORY_JSONS): today's, the mixed archive's
    # and the names run's, each a table of means with intervals.
    long_story = [t for t in tables if t.startswith(("**eval_long_story", "**names_tail_long"))]
    assert len(long_story) == 3 and all("| system | " in t for t in long_story)
    (languages,) = [t for t in tables if t.startswith("| group | n | bm25 R@1 / nDCG@10 |")]
    assert "| en queries | 6 |" in languages and "| cross-language | 12 |" in languages
