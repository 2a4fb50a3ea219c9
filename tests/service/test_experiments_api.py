"""Experiments over HTTP: the admin API, bucket/assign/arm on every list route, the bodies' arm and
experiment, ETags per arm and per experiment, a second worker following the change, the config file
at start, and `recsys experiment`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from cli import app as cli
from recsys.catalog.store import Catalog
from recsys.errors import ConfigError
from recsys.serving.experiments import bucket_of
from tests.helpers import ClientFactory, until

KEY = {"X-API-Key": "s3cret"}
AB: dict[str, Any] = {
    "name": "bm25-test",
    "design": "ab",
    "arms": [{"name": "control", "share": 0.5}, {"name": "bm25", "share": 0.5, "method": "bm25"}],
}
INTERLEAVE: dict[str, Any] = {
    "name": "tdi",
    "design": "interleave",
    "arms": [{"name": "bm25", "method": "bm25"}, {"name": "random", "method": "random"}],
}
RELATED = "/articles/harbour-1/related"


@pytest.fixture
def admin(built: Catalog, make_client: ClientFactory) -> TestClient:
    return make_client(api_key="s3cret")


def _start(client: TestClient, config: dict[str, Any]) -> dict[str, Any]:
    response = client.put("/admin/experiment", json=config, headers=KEY)
    assert response.status_code == 200, response.text
    return response.json()


def test_the_admin_api_needs_the_key(admin: TestClient) -> None:
    assert admin.put("/admin/experiment", json=AB).status_code == 401
    assert admin.get("/admin/experiment", headers={"X-API-Key": "guess"}).status_code == 403
    assert admin.delete("/admin/experiment").status_code == 401
    assert admin.get("/admin/experiment", headers=KEY).json() == {"experiment": None}


def test_admin_puts_shows_and_stops_an_experiment(admin: TestClient) -> None:
    started = _start(admin, AB)["experiment"]
    assert started["name"] == "bm25-test" and [a["name"] for a in started["arms"]] == ["control", "bm25"]
    assert started["arms"][1]["method"] == "bm25" and started["blocks"] == ["related"]
    assert admin.get("/admin/experiment", headers=KEY).json()["experiment"] == started
    assert admin.get(RELATED, params={"bucket": 70}).json()["arm"] == "bm25"
    assert admin.delete("/admin/experiment", headers=KEY).json() == {"experiment": None}
    body = admin.get(RELATED, params={"bucket": 70}).json()
    assert (body["arm"], body["experiment"]) == ("default", "")


@pytest.mark.parametrize(
    ("config", "fragment"),
    [
        (
            {**AB, "arms": [{"name": "control", "share": 0.5}, {"name": "x", "share": 0.5, "setting": {}}]},
            "setting",
        ),
        (
            {
                **AB,
                "arms": [{"name": "a", "share": 0.5}, {"name": "b", "share": 0.5, "settings": {"nope": 1}}],
            },
            "nope",
        ),
        ({**AB, "design": "interleave", "arms": AB["arms"] * 2}, "exactly two arms"),
    ],
)
def test_a_config_that_cannot_work_is_422_and_changes_nothing(
    admin: TestClient, config: dict[str, Any], fragment: str
) -> None:
    response = admin.put("/admin/experiment", json=config, headers=KEY)
    assert response.status_code == 422 and response.json()["error"] == "invalid_input"
    assert fragment in response.json()["detail"]
    assert admin.get("/admin/experiment", headers=KEY).json() == {"experiment": None}


def test_bucket_assign_and_arm_choose_the_arm(admin: TestClient) -> None:
    plain = admin.get(RELATED).json()
    assert (plain["arm"], plain["experiment"]) == ("default", "")
    _start(admin, AB)
    assert admin.get(RELATED).json() == plain  # no parameter: the default ranking
    control = admin.get(RELATED, params={"bucket": 10}).json()
    bm25 = admin.get(RELATED, params={"bucket": 60}).json()
    assert (control["arm"], control["experiment"]) == ("control", "bm25-test")
    assert (bm25["arm"], bm25["experiment"]) == ("bm25", "bm25-test")
    assert control["items"] == plain["items"]
    assert admin.get(RELATED, params={"arm": "bm25"}).json()["items"] == bm25["items"]
    assert all("arm" not in item for item in bm25["items"])  # items name an arm only when interleaved
    page_view = "pv-0123456789abcdef"  # bucket 90: bm25
    assert bucket_of(page_view) == 90
    assert admin.get(RELATED, params={"assign": page_view}).json()["arm"] == "bm25"
    assert admin.get(RELATED, params={"arm": "default"}).json()["arm"] == "default"


@pytest.mark.parametrize(
    "params",
    [
        {"arm": "nope"},
        {"arm": "x" * 33},
        {"bucket": 100},
        {"bucket": -1},
        {"assign": ""},
        {"assign": "a" * 129},
        {"bucket": 3, "arm": "bm25"},
        {"bucket": 3, "assign": "pv"},
        {"assign": "pv", "arm": "bm25"},
    ],
)
def test_an_unknown_arm_or_two_arm_parameters_are_422(admin: TestClient, params: dict[str, Any]) -> None:
    _start(admin, AB)
    for path in (RELATED, "/articles/harbour-1/blocks", "/related"):
        extra = {"url": "https://news.example/harbour/1"} if path == "/related" else {}
        response = admin.get(path, params={**params, **extra})
        assert response.status_code == 422, (path, params, response.text)
        assert response.json()["error"] == "invalid_input"
        assert "nope" not in response.json()["detail"]  # never echoes the value


def test_an_arm_with_no_experiment_running_is_422(admin: TestClient) -> None:
    response = admin.get(RELATED, params={"arm": "bm25"})
    assert response.status_code == 422 and "no experiment is running" in response.json()["detail"]


def test_every_list_route_passes_the_arm_through(admin: TestClient) -> None:
    _start(admin, AB)
    by_id = admin.get("/articles/harbour-1/blocks", params={"arm": "bm25"}).json()
    by_url = admin.get("/related", params={"url": "https://news.example/harbour/1", "arm": "bm25"}).json()
    control = admin.get("/articles/harbour-1/blocks", params={"arm": "control"}).json()
    for body in (by_id, by_url):
        assert (body["arm"], body["experiment"]) == ("bm25", "bm25-test")
    assert by_id["related"] == by_url["related"] and by_id["related"] != control["related"]
    assert control["related"] == admin.get("/articles/harbour-1/blocks").json()["related"]
    html = admin.get("/articles/harbour-1/blocks.html", params={"arm": "bm25"})
    html_url = admin.get("/related.html", params={"url": "https://news.example/harbour/1", "arm": "bm25"})
    assert html.status_code == html_url.status_code == 200
    first = by_id["related"]["items"][0]["title"]
    assert first in html.text and first in html_url.text


def test_the_etag_differs_per_arm_and_changes_with_the_experiment(admin: TestClient) -> None:
    before = admin.get(RELATED, params={"bucket": 60}).headers["ETag"]
    _start(admin, AB)
    control = admin.get(RELATED, params={"bucket": 10})
    bm25 = admin.get(RELATED, params={"bucket": 60})
    assert len({before, control.headers["ETag"], bm25.headers["ETag"]}) == 3
    # The client's copy is current until the experiment changes.
    again = admin.get(RELATED, params={"bucket": 60}, headers={"If-None-Match": bm25.headers["ETag"]})
    assert again.status_code == 304
    _start(
        admin,
        {**AB, "arms": [{"name": "control", "share": 0.2}, {"name": "bm25", "share": 0.8, "method": "bm25"}]},
    )
    changed = admin.get(RELATED, params={"bucket": 60}, headers={"If-None-Match": bm25.headers["ETag"]})
    assert changed.status_code == 200 and changed.headers["ETag"] != bm25.headers["ETag"]


def test_interleaved_lists_name_each_items_arm(admin: TestClient) -> None:
    _start(admin, INTERLEAVE)
    body = admin.get(RELATED, params={"bucket": 5, "limit": 8}).json()
    assert (body["arm"], body["experiment"]) == ("bm25", "tdi")
    arms = [item["arm"] for item in body["items"]]
    assert set(arms) == {"bm25", "random"} and len(arms) == 8
    assert admin.get(RELATED, params={"bucket": 5, "limit": 8}).json() == body  # the same page view
    blocks = admin.get("/articles/harbour-1/blocks", params={"bucket": 5, "limit": 8}).json()
    assert blocks["related"]["items"] == body["items"]
    assert all("arm" not in item for item in blocks["more_in_section"]["items"])
    one_arm = admin.get(RELATED, params={"arm": "random"}).json()
    assert one_arm["arm"] == "random" and all("arm" not in item for item in one_arm["items"])


def test_a_second_worker_follows_the_experiment(admin: TestClient, make_client: ClientFactory) -> None:
    # Another app on the same catalog: another worker, or a replica, seeing the change feed only.
    other = make_client(api_key="s3cret", change_poll_seconds=0.05)
    _start(admin, AB)
    until(
        "the other worker runs the experiment",
        lambda: other.get(RELATED, params={"bucket": 60}).json()["arm"] == "bm25",
        10,
    )
    admin.delete("/admin/experiment", headers=KEY)
    until(
        "the other worker stops it",
        lambda: other.get(RELATED, params={"bucket": 60}).json()["arm"] == "default",
        10,
    )


def test_the_experiments_file_is_the_running_experiment_at_start(
    built: Catalog, make_client: ClientFactory, tmp_path: Path
) -> None:
    path = tmp_path / "experiment.json"
    path.write_text(json.dumps(INTERLEAVE), encoding="utf-8")
    client = make_client(api_key="s3cret", experiments_file=path)
    assert client.get("/admin/experiment", headers=KEY).json()["experiment"]["name"] == "tdi"
    assert client.get(RELATED, params={"bucket": 1}).json()["experiment"] == "tdi"
    path.write_text('{"name": "tdi", "arms": []}', encoding="utf-8")
    with pytest.raises(ConfigError, match="experiment.json: experiment.arms"):
        make_client(experiments_file=path)


def test_the_cli_sets_shows_and_stops_the_experiment(admin: TestClient, tmp_path: Path) -> None:
    data = str(admin.app.state.recsys.settings.data_dir)  # type: ignore[attr-defined]
    path = tmp_path / "ab.json"
    path.write_text(json.dumps(AB), encoding="utf-8")
    runner = CliRunner()
    done = runner.invoke(cli.app, ["experiment", "set", str(path), "--data-dir", data])
    assert done.exit_code == 0 and "experiment: bm25-test" in done.stdout, done.output
    shown = runner.invoke(cli.app, ["experiment", "show", "--data-dir", data])
    assert json.loads(shown.stdout)["arms"][1]["method"] == "bm25"
    until(
        "the service runs it", lambda: admin.get(RELATED, params={"bucket": 60}).json()["arm"] == "bm25", 10
    )
    assert "experiment stopped" in runner.invoke(cli.app, ["experiment", "stop", "--data-dir", data]).stdout
    assert json.loads(runner.invoke(cli.app, ["experiment", "show", "--data-dir", data]).stdout) is None
    path.write_text("{}", encoding="utf-8")
    bad = runner.invoke(cli.app, ["experiment", "set", str(path), "--data-dir", data])
    assert bad.exit_code == 1 and "error: experiment file" in bad.output and "experiment.name" in bad.output
