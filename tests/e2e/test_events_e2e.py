"""Reader events through a real uvicorn server (tests/serve_fake.py, fake encoder): the counts stored
equal the events sent after a clean stop; two workers add up in one catalog; and after kill -9 the
store holds every event flushed before the kill, with at most the last flush interval missing
(measured and printed)."""

from __future__ import annotations

import signal
import time
from pathlib import Path
from typing import Any

import httpx

from recsys.catalog.feedback import read_counts
from recsys.catalog.store import Catalog
from recsys.settings import Settings
from tests.servers import SERVE_FAKE, metric_samples, running

BROWSER = {
    "User-Agent": "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/120.0 Safari/537.36",
    "Content-Type": "text/plain;charset=UTF-8",
}


def _variables(settings: Settings, **more: str) -> dict[str, str]:
    return {
        "RECSYS_DATA_DIR": str(settings.data_dir),
        "RECSYS_LOG_LEVEL": "warning",
        "RECSYS_EVENTS_RATE": "0",
    } | {f"RECSYS_{name.upper()}": value for name, value in more.items()}


def _clicks(base: str, client: httpx.Client, start: int, n: int) -> int:
    """`n` page views, each clicking the first related item (one event per batch); returns the events."""
    page = client.get(f"{base}/articles/harbour-0/related").json()
    item = page["items"][0]["id"]
    for view in range(start, start + n):
        batch = {
            "v": 1,
            "pv": f"pv-view-{view:06d}",
            "article": "harbour-0",
            "version": page["index_version"],
            "experiment": "",
            "arm": "default",
            "events": [{"type": "click", "block": "related", "position": 0, "item": item}],
        }
        answer = client.post(f"{base}/events", json=batch, headers=BROWSER)
        assert answer.status_code == 204, answer.text
    return n


def _stored_clicks(catalog: Catalog) -> int:
    return sum(count.clicks for count in read_counts(catalog))


def _metric_sum(base: str, name: str, **labels: Any) -> float:
    return sum(
        value
        for found, value in metric_samples(base, name)
        if all(found.get(k) == v for k, v in labels.items())
    )


def test_counts_equal_the_events_sent_after_a_clean_stop(
    tmp_path: Path, built: Catalog, settings: Settings
) -> None:
    variables = _variables(settings, events_flush_seconds="30")  # nothing flushed before the stop
    with (
        running(SERVE_FAKE, variables, output=tmp_path / "server.log") as (_, base),
        httpx.Client() as client,
    ):
        sent = _clicks(base, client, 0, 150)
        assert _metric_sum(base, "recsys_events_pending") == sent
        assert _stored_clicks(built) == 0
    assert _stored_clicks(built) == sent  # SIGINT: the lifespan's last flush


def test_two_workers_add_up_in_one_catalog(tmp_path: Path, built: Catalog, settings: Settings) -> None:
    log_dir = tmp_path / "events"
    variables = _variables(settings, workers="2", events_flush_seconds="0.5", events_log_dir=str(log_dir))
    sent = 0
    with running(SERVE_FAKE, variables, output=tmp_path / "server.log") as (_, base):
        deadline = time.monotonic() + 60
        # Each batch on a new connection, so the kernel hands them to either worker, until both have
        # written their raw log (one file per process) and so counted some.
        while len({path.name.rsplit("-", 1)[1] for path in log_dir.glob("events-*.jsonl")}) < 2:
            assert time.monotonic() < deadline, "one worker took every batch"
            with httpx.Client() as client:
                sent += _clicks(base, client, sent, 5)
            time.sleep(0.1)
        with httpx.Client() as client:
            sent += _clicks(base, client, sent, 20)
    assert _stored_clicks(built) == sent
    assert sum(len(path.read_text().splitlines()) for path in log_dir.glob("events-*.jsonl")) == sent


def test_kill_9_loses_at_most_the_last_flush_interval(
    tmp_path: Path, built: Catalog, settings: Settings
) -> None:
    interval = 1.0
    variables = _variables(settings, events_flush_seconds=str(interval))
    with (
        running(SERVE_FAKE, variables, output=tmp_path / "server.log", how=signal.SIGKILL) as (process, base),
        httpx.Client() as client,
    ):
        before = _clicks(base, client, 0, 100)
        time.sleep(2.5 * interval)  # longer than an interval: every event above is flushed
        assert _metric_sum(base, "recsys_events_pending") == 0
        started = time.monotonic()
        last = _clicks(base, client, before, 50)
        sending = time.monotonic() - started
        process.kill()  # kill -9: no shutdown, no last flush
        process.wait()
    stored = _stored_clicks(built)
    lost = before + last - stored
    sent = before + last
    print(f"kill -9: {sent} events sent, {stored} stored, {lost} lost (sent in the {sending:.2f} s before)")
    assert before <= stored <= before + last  # nothing flushed before the kill is missing, nothing doubled
    assert sending < interval  # so what may be missing was all sent within the last interval
