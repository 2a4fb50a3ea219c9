"""End to end, as a platform engineer runs it: `recsys build` on the default corpus, then
`recsys serve` (a real uvicorn process on a free 127.0.0.1 port), queried over HTTP. Real model.

No RECSYS_* setting reaches them, so the encoder backend is the default, `auto`; its measurement
(26-47 s, tested in tests/encoding/test_choice.py) is recorded beforehand as the bf16 box's or an
AVX2 box's choice would be, so the build reads it and says it, and the service follows the version."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from recsys.demo_corpus import generate
from recsys.encoding import choice as chooser
from recsys.encoding.encoders import model_identity
from recsys.settings import DEFAULT_MODEL, EncoderBackend, Settings
from tests.servers import metric_samples, running, worker_pids

pytestmark = pytest.mark.model

# What `auto` picks on the bf16 box, and on an AVX2 one: the exports the other model tests make too.
CHOSEN: EncoderBackend = "openvino" if chooser.has_bf16(chooser.cpu_features()) else "openvino-f32"
MODEL = model_identity(DEFAULT_MODEL, CHOSEN)


def _recsys(*args: str) -> list[str]:
    return [sys.executable, "-m", "cli", *args]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    data = tmp_path_factory.mktemp("e2e") / "data"
    env = {k: v for k, v in os.environ.items() if not k.startswith("RECSYS_")}
    chooser.store_choice(
        Settings(data_dir=data), DEFAULT_MODEL, chooser.Choice(CHOSEN, chooser.cpu_features())
    )
    build = subprocess.run(
        _recsys("build", "--data-dir", str(data), "--no-progress"),
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )
    assert build.returncode == 0, build.stderr
    assert "built-in demo corpus" in build.stdout and "published index version" in build.stdout
    assert f"\nencoder: {CHOSEN} on " in build.stdout  # what `auto` chose, said
    serve = _recsys("serve", "--data-dir", str(data), "--port", "{port}", "--log-level", "warning")
    with running(serve) as (_, base):
        yield base, data


def test_health_and_docs(server: tuple[str, Path]) -> None:
    base, data = server
    health = httpx.get(f"{base}/health").json()
    assert health["status"] == "ok"
    assert health["index_version"] == (data / "index" / "CURRENT").read_text().strip()
    assert health["index_articles"] == len([a for a in generate() if a.status == "published"])
    assert health["model"] == MODEL  # the backend the version was built with, e.g. ...+openvino
    assert list((data / "models").glob("*/*/model.onnx"))  # exported once by the build, reused by serve
    assert httpx.get(f"{base}/docs").status_code == 200
    assert "recsys_http_requests_total" in httpx.get(f"{base}/metrics").text


def test_related_stories_come_from_the_same_storyline(server: tuple[str, Path]) -> None:
    base, _ = server
    articles = generate()
    story_of = {a.id: a.story for a in articles}
    originals = [a for a in articles if a.kind == "original" and a.status == "published"]
    good = 0
    for article in originals:
        response = httpx.get(f"{base}/articles/{article.id}/related", params={"limit": 5})
        assert response.status_code == 200
        items = response.json()["items"]
        assert len(items) == 5
        ids = [item["id"] for item in items]
        assert article.id not in ids
        same = sum(story_of[i] == article.story for i in ids)
        good += same >= 4
    assert good / len(originals) >= 0.9, (
        f"{good}/{len(originals)} originals had >= 4 of 5 from their storyline"
    )


def test_the_retracted_article_is_never_listed(server: tuple[str, Path]) -> None:
    base, _ = server
    articles = generate()
    [retracted] = [a for a in articles if a.status == "retracted"]
    siblings = [a for a in articles if a.story == retracted.story and a.id != retracted.id]
    for sibling in siblings:
        items = httpx.get(f"{base}/articles/{sibling.id}/related", params={"limit": 20}).json()["items"]
        assert retracted.id not in [i["id"] for i in items]


def test_bad_requests_over_http(server: tuple[str, Path]) -> None:
    base, _ = server
    missing = httpx.get(f"{base}/articles/does-not-exist/related")
    assert missing.status_code == 404 and missing.json()["error"] == "not_found"
    assert httpx.get(f"{base}/articles/demo-0001/related", params={"limit": 0}).status_code == 422
    assert httpx.get(f"{base}/articles/demo-0001/related", params={"limit": 101}).status_code == 422


def test_a_process_manager_starts_the_app_factory_from_the_environment(server: tuple[str, Path]) -> None:
    """`uvicorn --factory service.app:app_from_env`: settings from RECSYS_* alone (here the data
    folder and CORS for one origin), as gunicorn or a container entry point would start it."""
    _, data = server
    site = "https://www.news.example"
    variables = {"RECSYS_DATA_DIR": str(data), "RECSYS_CORS_ORIGINS": site, "RECSYS_LOG_LEVEL": "warning"}
    command = [sys.executable, "-m", "uvicorn", "--factory", "service.app:app_from_env", "--port", "{port}"]
    with running(command, variables) as (_, base):
        path = f"{base}/articles/demo-0018/related"
        allowed = httpx.get(path, headers={"Origin": site}, timeout=10)
        assert allowed.status_code == 200 and allowed.headers["access-control-allow-origin"] == site
        assert "etag" in allowed.headers["access-control-expose-headers"].lower()
        other = httpx.get(path, headers={"Origin": "https://elsewhere.example"}, timeout=10)
        assert other.status_code == 200 and "access-control-allow-origin" not in other.headers


def test_recsys_serve_with_two_workers(server: tuple[str, Path], tmp_path: Path) -> None:
    """`recsys serve --workers 2` with the real model: the flags reach both workers (the data folder
    and the log format are flags here, not variables), both answer, /metrics counts for both, and
    every line the service writes is JSON (no progress bar of the model loader in between)."""
    _, data = server
    command = _recsys("serve", "--data-dir", str(data), "--port", "{port}", "--workers", "2")
    log = tmp_path / "serve.log"
    with running([*command, "--log-format", "json"], output=log) as (_, base):
        pids, sent = worker_pids(base)
        assert len(pids) == 2, f"one worker answered all {sent} requests"
        for _ in range(6):
            health = httpx.get(f"{base}/health", timeout=10).json()
            assert health["model"] == MODEL
            assert health["index_version"] == (data / "index" / "CURRENT").read_text().strip()
            related = httpx.get(f"{base}/articles/demo-0018/related", params={"limit": 3}, timeout=30)
            assert related.status_code == 200 and len(related.json()["items"]) == 3
        counts = metric_samples(base, "recsys_http_requests_total")
        assert sum(v for labels, v in counts if labels["route"] == "/health") >= sent + 6
    records = [json.loads(line) for line in log.read_text().splitlines() if line.strip()]
    assert any("serving on" in r["message"] and "2 workers" in r["message"] for r in records)
    access = [r for r in records if r["logger"] == "uvicorn.access"]
    assert {r["pid"] for r in access} == pids and all(r["request_id"] for r in access)
