"""Several workers (docs/deployment.md): real uvicorn (and gunicorn, and granian) processes serving a
small index built with the fake encoder. Requests land on every worker, /metrics adds up all workers' counts
whichever worker answers it, every worker picks up a newly published version, and JSON log lines
carry the request id, uvicorn's access line included. Plus the pieces in-process: request ids,
the JSON formatter, the metrics folder."""

from __future__ import annotations

import importlib.util
import json
import logging
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import SimpleNamespace

import httpx
import pytest
import uvicorn
from fastapi import FastAPI
from fastapi.testclient import TestClient
from uvicorn.protocols.http.auto import AutoHTTPProtocol

from index.build import build_index
from recsys.catalog.ingest import import_file
from recsys.catalog.store import Catalog
from recsys.errors import ConfigError
from recsys.settings import Settings
from service.app import create_app
from service.logs import JsonFormatter
from service.metrics import Metrics
from service.run import NoDelayH11, NoDelayHTTP, empty_metrics_folder, serve, set_nodelay, worker_environment
from tests.fakes import FakeEncoder, write_jsonl
from tests.servers import SERVE_FAKE, metric_samples, running, worker_pids

GENERATED = re.compile(r"[0-9a-f]{32}")
HOSTILE = ["x" * 129, 'two words"', "<script>", "-leading-dash", "id\tTab"]

# -- real servers ------------------------------------------------------------------------------------


@contextmanager
def _server(
    command: list[str], data_dir: Path, log: Path, **variables: str
) -> Iterator[tuple[subprocess.Popen[str], str]]:
    """A server started with `command` on a free port, settings from RECSYS_* variables only (as a
    process manager starts it); its output goes to `log`."""
    variables = {"RECSYS_DATA_DIR": str(data_dir), "RECSYS_API_KEY": "s3cret", **variables}
    # gunicorn's master, stopped with SIGINT, can leave its workers running: SIGTERM, as systemd does
    how = signal.SIGTERM if "gunicorn" in command[2] else signal.SIGINT
    with running(command, variables, output=log, how=how) as server:
        yield server


GRANIAN = pytest.mark.skipif(
    importlib.util.find_spec("granian") is None, reason="granian is not installed (the granian extra)"
)
SERVERS = ["uvicorn", pytest.param("granian", marks=GRANIAN)]  # RECSYS_HTTP_SERVER of `recsys serve`


SERVE = SERVE_FAKE  # service/run.py, as `recsys serve` runs it
FACTORY = "tests.serve_fake:app_from_env"  # service.app:app_from_env with the fake encoder
LAUNCHERS = {
    "recsys serve --workers 2": SERVE,
    "uvicorn --factory --workers 2": [
        *[sys.executable, "-m", "uvicorn", "--factory", FACTORY, "--workers", "2", "--port"],
        "{port}",
    ],
    "gunicorn -c python:service.gunicorn_conf": [
        *[sys.executable, "-m", "gunicorn", "-c", "python:service.gunicorn_conf"],
        f"{FACTORY}()",
    ],
    "recsys serve --workers 2 --server granian": SERVE,
}


@pytest.mark.parametrize(
    "launcher", [pytest.param(n, marks=GRANIAN) if "granian" in n else n for n in LAUNCHERS]
)
def test_requests_land_on_both_workers_and_metrics_add_up(
    launcher: str, tmp_path: Path, built: Catalog, settings: Settings
) -> None:
    command = LAUNCHERS[launcher]
    metrics = tmp_path / "metrics"
    variables = {"RECSYS_WORKERS": "2", "RECSYS_LOG_LEVEL": "warning"}
    if "granian" in launcher:
        variables["RECSYS_HTTP_SERVER"] = "granian"
    if not launcher.startswith("recsys serve"):  # recsys serve makes a folder itself
        metrics.mkdir()
        if launcher.startswith("gunicorn"):  # its on_starting hook empties the folder
            (metrics / "counter_1.db").write_bytes(b"left by an earlier run")
        variables["PROMETHEUS_MULTIPROC_DIR"] = str(metrics)
    with _server(command, settings.data_dir, tmp_path / "server.log", **variables) as (_, base):
        pids, sent = worker_pids(base)
        assert len(pids) == 2, f"one worker answered all {sent} requests"
        # Each worker answered fewer than `sent`: a total of at least `sent` is a sum over both.
        counts = metric_samples(base, "recsys_http_requests_total")
        health = sum(v for labels, v in counts if labels["route"] == "/health" and labels["status"] == "200")
        assert health >= sent
        for _ in range(2):  # the same total whichever worker answers /metrics
            again = metric_samples(base, "recsys_http_requests_total")
            assert sum(v for labels, v in again if labels["route"] == "/health") >= health
        assert [v for _, v in metric_samples(base, "recsys_index_articles")] == [30.0]
        assert sum(v for _, v in metric_samples(base, "recsys_http_request_seconds_count")) >= sent
    if launcher == "gunicorn -c python:service.gunicorn_conf":
        # child_exit dropped the exited workers' live gauges; their counts stay for the totals
        assert not list(metrics.glob("gauge_live*")) and list(metrics.glob("counter_*.db"))


def _publish(catalog: Catalog, settings: Settings, tmp_path: Path, article_id: str) -> str:
    text = "harbour ferry dock tide pier crane"
    import_file(catalog, write_jsonl(tmp_path / f"{article_id}.jsonl", [{"id": article_id, "title": text}]))
    return build_index(settings, catalog, FakeEncoder()).version


@pytest.mark.parametrize("server", SERVERS)
def test_every_worker_serves_a_new_version_after_the_reload_interval(
    server: str, tmp_path: Path, built: Catalog, settings: Settings
) -> None:
    variables = {"RECSYS_WORKERS": "2", "RECSYS_RELOAD_INTERVAL": "0.2", "RECSYS_LOG_LEVEL": "warning"}
    variables["RECSYS_HTTP_SERVER"] = server
    with _server(SERVE, settings.data_dir, tmp_path / "server.log", **variables) as (_, base):
        pids, _ = worker_pids(base)
        assert len(pids) == 2
        version = _publish(built, settings, tmp_path, "harbour-new")
        served: dict[int, str] = {}
        deadline = time.monotonic() + 60  # a bound for a stuck watcher, not a speed requirement
        while not all(served.get(pid) == version for pid in pids):
            assert time.monotonic() < deadline, f"not every worker serves {version}: {served}"
            health = httpx.get(f"{base}/health", timeout=10).json()
            served[health["worker_pid"]] = health["index_version"]
        assert [v for _, v in metric_samples(base, "recsys_index_articles")] == [31.0]
        swaps = metric_samples(base, "recsys_index_reloads_total")
        assert sum(v for labels, v in swaps if labels["result"] == "swapped") == 2  # one per worker
        for _ in range(10):  # whichever worker answers, the new article is in the list
            related = httpx.get(f"{base}/articles/harbour-0/related", timeout=10).json()
            assert related["index_version"] == version
            assert "harbour-new" in [item["id"] for item in related["items"]]


@GRANIAN
@pytest.mark.parametrize("workers", [1, 2])
def test_granian_serves_reloads_respawns_and_stops_cleanly_on_sigterm(
    workers: int, tmp_path: Path, built: Catalog, settings: Settings
) -> None:
    """RECSYS_HTTP_SERVER=granian: the app's lifespan runs in granian's workers (the index loaded, the
    CURRENT watcher swapping in a new version, metrics), a killed worker is replaced, and SIGTERM
    stops every worker through the app's shutdown with exit status 0."""
    variables = {"RECSYS_HTTP_SERVER": "granian", "RECSYS_WORKERS": str(workers)}
    variables |= {"RECSYS_DATA_DIR": str(settings.data_dir), "RECSYS_RELOAD_INTERVAL": "0.2"}
    log = tmp_path / "server.log"
    with running(SERVE, variables, output=log, how=signal.SIGTERM) as (process, base):
        health = httpx.get(f"{base}/health", timeout=10).json()
        assert health["status"] == "ok" and health["index_articles"] == 30
        related = httpx.get(f"{base}/articles/harbour-0/related", timeout=10)
        assert related.status_code == 200 and related.json()["items"]
        pids = worker_pids(base)[0] if workers > 1 else {health["worker_pid"]}
        assert len(pids) == workers and process.pid not in pids  # granian's workers, not its main process
        version = _publish(built, settings, tmp_path, "harbour-new")
        deadline = time.monotonic() + 60  # a bound for a stuck watcher, not a speed requirement
        while True:
            related = httpx.get(f"{base}/articles/harbour-0/related", timeout=10).json()
            if related["index_version"] == version:
                break
            assert time.monotonic() < deadline, f"still serving {related['index_version']}, not {version}"
            time.sleep(0.05)
        assert "harbour-new" in [item["id"] for item in related["items"]]
        assert [v for _, v in metric_samples(base, "recsys_index_articles")] == [31.0]
        if workers > 1:  # as under uvicorn, a worker that dies is started again
            killed = min(pids)
            os.kill(killed, signal.SIGKILL)
            deadline = time.monotonic() + 60
            while not (new := {httpx.get(f"{base}/health", timeout=10).json()["worker_pid"]} - pids):
                assert time.monotonic() < deadline, "no new worker after one was killed"
                time.sleep(0.05)
            pids = pids - {killed} | new
    assert process.returncode == 0, log.read_text()[-3000:]
    for pid in pids:  # every worker exited with the main process
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)
    assert "Traceback" not in log.read_text()


def test_json_log_lines_carry_the_request_id(tmp_path: Path, built: Catalog, settings: Settings) -> None:
    log = tmp_path / "server.log"
    variables = {"RECSYS_WORKERS": "2", "RECSYS_LOG_FORMAT": "json", "RECSYS_RELOAD_INTERVAL": "0"}
    with _server(SERVE, settings.data_dir, log, **variables) as (_, base):
        given = "trace-42.a:b"
        response = httpx.get(f"{base}/articles/harbour-0/related", headers={"X-Request-ID": given})
        assert response.status_code == 200 and response.headers["x-request-id"] == given
        missing = httpx.get(f"{base}/articles/nope/related", headers={"X-Request-ID": "not-found-1"})
        assert missing.status_code == 404 and missing.headers["x-request-id"] == "not-found-1"
        # A line our code logs while handling a request: the reload (watcher off, so the request does it)
        version = _publish(built, settings, tmp_path, "harbour-new")
        reload = httpx.post(
            f"{base}/admin/reload", headers={"X-API-Key": "s3cret", "X-Request-ID": "reload-7"}
        )
        assert reload.json()["served_version"] == version
        for hostile in HOSTILE:
            answer = httpx.get(f"{base}/health", headers={"X-Request-ID": hostile})
            assert GENERATED.fullmatch(answer.headers["x-request-id"]), hostile
        generated = httpx.get(f"{base}/health").headers["x-request-id"]
        assert GENERATED.fullmatch(generated)
    lines = [line for line in log.read_text().splitlines() if line.strip()]
    records = [json.loads(line) for line in lines]  # every line is one JSON object
    assert all({"time", "level", "logger", "message", "pid", "request_id"} <= r.keys() for r in records)

    def with_id(rid: str) -> list[dict[str, object]]:
        return [r for r in records if r["request_id"] == rid]

    access = [r for r in with_id(given) if r["logger"] == "uvicorn.access"]
    assert len(access) == 1
    assert access[0]["path"] == "/articles/harbour-0/related" and access[0]["status"] == 200
    assert isinstance(access[0]["pid"], int) and access[0]["method"] == "GET"
    assert [r["status"] for r in with_id("not-found-1") if r["logger"] == "uvicorn.access"] == [404]
    ours = [r for r in with_id("reload-7") if r["logger"] == "service.state"]
    assert ours and f"now serving index version {version}" in str(ours[0]["message"])
    assert len({r["pid"] for r in records if r["logger"] == "uvicorn.access"}) >= 1
    assert len(with_id(generated)) == 1
    assert not any(h in line for h in HOSTILE for line in lines)


# -- in-process --------------------------------------------------------------------------------------


def test_request_ids_in_process(tmp_path: Path, built: Catalog, encoder: FakeEncoder) -> None:
    with TestClient(create_app(Settings(data_dir=tmp_path / "data", reload_interval=0), encoder)) as client:
        sane = "0f7c1a2e-5b7d-4c1e-9d0a-2f9e8c7b6a5d"
        assert client.get("/health", headers={"X-Request-ID": sane}).headers["x-request-id"] == sane
        first, second = (client.get("/health").headers["x-request-id"] for _ in range(2))
        assert GENERATED.fullmatch(first) and GENERATED.fullmatch(second) and first != second
        for hostile in [*HOSTILE, "", "ünïcode".encode()]:
            header = client.get("/health", headers={"X-Request-ID": hostile}).headers["x-request-id"]
            assert GENERATED.fullmatch(header), hostile
        # error answers carry it too
        assert (
            client.get("/articles/nope/related", headers={"X-Request-ID": "e1"}).headers["x-request-id"]
            == "e1"
        )


def test_the_json_formatter() -> None:
    formatter = JsonFormatter()
    access = logging.LogRecord(
        "uvicorn.access", logging.INFO, __file__, 1, '%s - "%s %s HTTP/%s" %d',
        ("10.0.0.1:5000", "GET", "/health?x=1", "1.1", 200), None,
    )  # fmt: skip
    access.request_id = "abc"
    entry = json.loads(formatter.format(access))
    assert entry["message"] == '10.0.0.1:5000 - "GET /health?x=1 HTTP/1.1" 200'
    assert (entry["request_id"], entry["status"], entry["path"], entry["pid"]) == (
        "abc",
        200,
        "/health?x=1",
        os.getpid(),
    )
    try:
        raise ValueError("boom\nsecond line")
    except ValueError:
        failed = logging.LogRecord(
            "service", logging.ERROR, __file__, 1, "failed %s", (Path("/x"),), sys.exc_info()
        )
    failed.request_id = "-"
    entry = json.loads(formatter.format(failed))
    assert entry["message"] == "failed /x" and entry["request_id"] is None
    assert "ValueError: boom" in entry["exception"] and entry["level"] == "error"


def test_a_metrics_folder_needs_multiprocess_mode(tmp_path: Path) -> None:
    # pytest imported prometheus-client without PROMETHEUS_MULTIPROC_DIR: the counts would be this
    # process's only, so the folder is refused rather than silently half-used
    with pytest.raises(ConfigError, match="PROMETHEUS_MULTIPROC_DIR"):
        Metrics(tmp_path)
    with pytest.raises(ConfigError, match="PROMETHEUS_MULTIPROC_DIR"):
        create_app(Settings(data_dir=tmp_path / "data", metrics_dir=tmp_path), FakeEncoder())


def test_the_metrics_folder_is_emptied_of_metrics_only(tmp_path: Path) -> None:
    folder = tmp_path / "metrics"
    empty_metrics_folder(folder)  # created
    (folder / "counter_123.db").write_bytes(b"old")
    (folder / "README").write_text("the operator's")
    empty_metrics_folder(folder)
    assert [p.name for p in folder.iterdir()] == ["README"]
    (tmp_path / "file").write_text("")
    with pytest.raises(ConfigError, match="metrics folder"):
        empty_metrics_folder(tmp_path / "file" / "metrics")


def test_flags_become_the_variables_workers_read(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    flags = {"data_dir": tmp_path / "d", "port": 9000, "workers": 2, "log_format": "json", "model": None}
    environment = worker_environment(flags)
    assert "RECSYS_MODEL" not in environment
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    assert Settings() == Settings(**{k: v for k, v in flags.items() if v is not None})  # type: ignore[arg-type]


def test_connections_of_several_workers_send_without_delay() -> None:
    """uvicorn binds the socket of several workers without naming the protocol, and asyncio then
    leaves Nagle's algorithm on for the connections it accepts (about 40 ms per kept-alive request,
    measured); the protocol `recsys serve` gives uvicorn turns it off."""
    with socket.socket(socket.AF_INET) as listener:  # as uvicorn's Config.bind_socket makes it
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        with socket.create_connection(listener.getsockname()) as _, listener.accept()[0] as accepted:
            assert not accepted.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)
            transport = SimpleNamespace(get_extra_info=lambda name: accepted if name == "socket" else None)
            set_nodelay(transport)  # type: ignore[arg-type]
            assert accepted.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)
    assert issubclass(NoDelayHTTP, AutoHTTPProtocol)


def test_serve_hands_uvicorn_the_factory_and_a_fresh_metrics_folder(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    calls: list[tuple[object, dict[str, object]]] = []
    seen: dict[str, str] = {}

    def fake_run(app: object, **options: object) -> None:
        calls.append((app, options))
        seen.update(os.environ)
        assert not list(Path(os.environ["PROMETHEUS_MULTIPROC_DIR"]).iterdir())

    monkeypatch.setattr(uvicorn, "run", fake_run)
    monkeypatch.setattr(os, "environ", {})  # what serve exports stays inside this test
    folder = tmp_path / "metrics"
    folder.mkdir()
    (folder / "histogram_1.db").write_bytes(b"old")
    settings = Settings(data_dir=tmp_path / "d", workers=3, metrics_dir=folder, log_format="json")
    serve(settings, {"workers": 3, "data_dir": tmp_path / "d"}, lambda _: pytest.fail("not one process"))
    ((app, options),) = calls
    assert app == "service.app:app_from_env"
    assert options["factory"] is True and options["workers"] == 3 and options["http"] is NoDelayHTTP
    assert seen == {
        "RECSYS_WORKERS": "3",
        "RECSYS_DATA_DIR": str(tmp_path / "d"),
        "PROMETHEUS_MULTIPROC_DIR": str(folder),
    }
    assert options["log_config"]["formatters"]["recsys"] == {"()": "service.logs.JsonFormatter"}  # type: ignore[index]


@pytest.mark.parametrize(
    ("parser", "protocol"), [("auto", NoDelayHTTP), ("httptools", NoDelayHTTP), ("h11", NoDelayH11)]
)
def test_serve_hands_uvicorn_asyncio_and_the_configured_parser(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, parser: str, protocol: type
) -> None:
    calls: list[dict[str, object]] = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **options: calls.append(options))
    monkeypatch.setattr(os, "environ", {})
    serve(Settings(data_dir=tmp_path / "d", http_parser=parser), {}, lambda _: FastAPI())  # type: ignore[arg-type]
    ((options,),) = [calls]
    assert options["loop"] == "asyncio" and options["http"] is protocol


def test_uvloop_only_when_asked_for_and_installed(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    calls: list[dict[str, object]] = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **options: calls.append(options))
    monkeypatch.setattr(os, "environ", {})
    settings = Settings(data_dir=tmp_path / "d", http_loop="uvloop")
    if importlib.util.find_spec("uvloop") is None:
        with pytest.raises(ConfigError, match="uvloop is not installed"):
            serve(settings, {}, lambda _: FastAPI())
    else:
        serve(settings, {}, lambda _: FastAPI())
        assert calls[0]["loop"] == "uvloop"


def test_granian_only_when_installed(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """The granian extra missing: one ConfigError naming it, before anything starts."""
    find_spec = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name: None if name == "granian" else find_spec(name)
    )
    settings = Settings(data_dir=tmp_path / "d", http_server="granian")
    with pytest.raises(
        ConfigError, match=r"granian is not installed \(pip install 'recsys-news\[granian\]'\)"
    ):
        serve(settings, {}, lambda _: pytest.fail("no app without a server"))


def test_the_default_parser_is_httptools() -> None:
    """httptools is a dependency: the default (auto) must not fall back to pure Python silently."""
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

    assert issubclass(NoDelayHTTP, HttpToolsProtocol)
