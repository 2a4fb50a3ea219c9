"""`recsys report` and the admin report: the counters in the catalog, read back as tables, JSON,
plots and an HTML page; bad options are one-line errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from cli import app as cli
from recsys.catalog.feedback import Count, add_counts
from recsys.catalog.store import Catalog
from recsys.serving.experiments import parse_experiment, store_experiment
from tests.helpers import ClientFactory

runner = CliRunner()
DAY1, DAY2 = "2026-03-01", "2026-03-02"


def _counts() -> list[Count]:
    rows = []
    for day in (DAY1, DAY2):
        for position in range(3):
            rows.append(Count(day, "harbour-0", "related", position, "", "default", 100, 9 - 3 * position))
        rows.append(Count(day, "harbour-0", "related", 0, "exp", "control", 400, 20))
        rows.append(Count(day, "harbour-0", "related", 0, "exp", "fusion", 400, 44))
    return rows


@pytest.fixture
def counted(built: Catalog) -> Catalog:
    add_counts(built, _counts())
    return built


def _report(data_dir: Path, *args: str):  # type: ignore[no-untyped-def]
    return runner.invoke(cli.app, ["report", "--data-dir", str(data_dir), *args])


def test_report_prints_the_tables(counted: Catalog, tmp_path: Path) -> None:
    result = _report(tmp_path / "data")
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert out.startswith("total: 2200 impressions, 164 clicks, CTR 7.45%")
    assert "CTR by position" in out and "position bias (related)" in out
    # Fusion 88/800 against control 40/800: the z-test finds it.
    assert "exp" in out and "fusion vs control" not in out and "control vs fusion" in out
    assert out.rstrip().endswith("fusion")


def test_report_json_filters_and_plots(counted: Catalog, tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    result = _report(
        tmp_path / "data",
        "--json",
        "--since",
        DAY2,
        "--experiment",
        "exp",
        "--design",
        "interleave",
        "--plot",
        str(tmp_path / "plots"),
    )
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert (summary["since"], summary["until"], summary["experiment"]) == (DAY2, None, "exp")
    assert summary["total"]["impressions"] == 800
    (comparison,) = summary["comparisons"]
    assert comparison["design"] == "interleave" and (comparison["clicks_a"], comparison["clicks_b"]) == (
        20,
        44,
    )
    assert comparison["winner"] == "fusion"
    assert sorted(p.name for p in (tmp_path / "plots").iterdir()) == [
        "arms.png",
        "ctr_by_day.png",
        "ctr_by_position.png",
    ]


def test_an_empty_catalog_says_so(built: Catalog, tmp_path: Path) -> None:
    result = _report(tmp_path / "data", "--until", "2026-01-01")
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == "no impressions recorded (start .. 2026-01-01)"


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["--since", "yesterday"], "--since expects a day as YYYY-MM-DD"),
        (["--until", "2026-02-30"], "--until expects a day as YYYY-MM-DD"),
        (["--since", "2026-03-02", "--until", "2026-03-01"], "is after --until"),
        (["--experiment", "exp", "--design", "mixed"], "unknown design 'mixed'"),
        (["--design", "ab"], "a design needs an experiment"),
    ],
)
def test_bad_options_are_one_line_errors(
    built: Catalog, tmp_path: Path, args: list[str], fragment: str
) -> None:
    result = _report(tmp_path / "data", *args)
    assert result.exit_code == 1, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and fragment in lines[0]


def test_the_admin_report_needs_the_key_and_shows_the_counters(
    counted: Catalog, make_client: ClientFactory
) -> None:
    client: TestClient = make_client(api_key="s3cret")
    assert client.get("/admin/report").status_code == 401
    key = {"X-API-Key": "s3cret"}
    body = client.get("/admin/report", params={"experiment": "exp", "bootstrap": 200}, headers=key).json()
    assert body["total"] == {
        "key": "all",
        "impressions": 1600,
        "clicks": 128,
        **{k: body["total"][k] for k in ("ctr", "low", "high")},
    }
    assert body["comparisons"][0]["winner"] == "fusion" and body["comparisons"][0]["bootstrap"] is not None
    page = client.get("/admin/report.html", params={"until": DAY1}, headers=key)
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "<h2>CTR by position</h2>" in page.text and "1100 impressions" in page.text
    bad = client.get("/admin/report", params={"since": "03/01/2026"}, headers=key)
    assert bad.status_code == 422


def test_the_admin_report_takes_the_running_experiments_design(
    counted: Catalog, make_client: ClientFactory
) -> None:
    client: TestClient = make_client(api_key="s3cret")
    key = {"X-API-Key": "s3cret"}
    # Running now, as interleaving: the report tests it so without being told.
    experiment = {"name": "exp", "design": "interleave", "arms": [{"name": "control"}, {"name": "fusion"}]}
    assert client.put("/admin/experiment", json=experiment, headers=key).status_code == 200
    (running,) = client.get("/admin/report", headers=key).json()["comparisons"]
    assert running["design"] == "interleave" and running["winner"] == "fusion"
    (asked,) = client.get("/admin/report", params={"experiment": "exp", "design": "ab"}, headers=key).json()[
        "comparisons"
    ]
    assert asked["design"] == "ab"
    assert client.get("/admin/report", params={"design": "ab"}, headers=key).status_code == 422


def test_report_tests_the_running_experiment_by_its_design(counted: Catalog, tmp_path: Path) -> None:
    running = {"name": "exp", "design": "interleave", "arms": [{"name": "control"}, {"name": "fusion"}]}
    store_experiment(counted, parse_experiment(running))
    result = _report(tmp_path / "data", "--json")
    assert result.exit_code == 0, result.output
    (comparison,) = json.loads(result.stdout)["comparisons"]
    assert comparison["design"] == "interleave" and comparison["p_value"] < 0.05
