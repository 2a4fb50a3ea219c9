"""Prometheus metrics for one app instance (multiprocess mode across workers).

Each app has its own registry: two apps in one process, as in tests, never share counters.

With several worker processes (RECSYS_METRICS_DIR, docs/deployment.md) prometheus-client's
multiprocess mode is on: each worker writes its values to files in that folder, and /metrics, whichever
worker answers it, reads them all: counters and histograms summed over the workers, the index gauge
the largest among the live ones. The library decides the mode when it is first imported, from
PROMETHEUS_MULTIPROC_DIR in the process environment (`recsys serve` and service/gunicorn_conf.py
export it before any worker starts); an app given a metrics folder in a process where the mode is
off would silently report one worker's numbers, so it refuses to start instead.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from fastapi import FastAPI, Response
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
    values,
)
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from recsys.errors import ConfigError


def multiprocess_mode() -> bool:
    """Whether prometheus-client was imported with PROMETHEUS_MULTIPROC_DIR set (values in files)."""
    return values.ValueClass is not values.MutexValue


class Metrics:
    def __init__(self, folder: Path | None = None) -> None:
        if folder is not None and not multiprocess_mode():
            raise ConfigError(
                f"metrics folder {folder} is set but prometheus-client is not in multiprocess mode: "
                "PROMETHEUS_MULTIPROC_DIR must be in the environment before the server starts "
                "(`recsys serve` sets it; see docs/deployment.md)"
            )
        if folder is not None and not folder.is_dir():
            raise ConfigError(f"metrics folder {folder} does not exist")
        self.folder = folder
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "recsys_http_requests_total",
            "HTTP requests",
            ["route", "method", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "recsys_http_request_seconds",
            "HTTP request latency",
            ["route"],
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5),
            registry=self.registry,
        )
        # Several workers: the largest count among live workers (they converge within a reload
        # interval); one series, as with a single worker.
        # 0 while this worker's change watcher cannot reach the catalog (its lists are then stale):
        # the smallest over the live workers.
        self.catalog_reachable = Gauge(
            "recsys_catalog_reachable",
            "1 when the catalog answers the change watcher, 0 while lists are served from a stale state",
            registry=self.registry,
            multiprocess_mode="livemin",
        )
        self.catalog_reachable.set(1)
        # 0 while this worker cannot read the object store of index versions (RECSYS_VERSIONS_URL).
        self.versions_reachable = Gauge(
            "recsys_versions_reachable",
            "1 when the object store of index versions answers (or none is used), 0 while it cannot",
            registry=self.registry,
            multiprocess_mode="livemin",
        )
        self.versions_reachable.set(1)
        # Versions downloaded from the object store: "installed" (every checksum verified, made the
        # local CURRENT) or "refused" (a file missing or failing its checksum; not served).
        self.version_downloads = Counter(
            "recsys_version_downloads_total",
            "index versions taken from the object store",
            ["result"],
            registry=self.registry,
        )
        self.index_articles = Gauge(
            "recsys_index_articles",
            "articles in the served index",
            registry=self.registry,
            multiprocess_mode="livemax",
        )
        # Hot reload: swaps to a new version ("swapped") and versions refused by their checks.
        self.index_reloads = Counter(
            "recsys_index_reloads_total",
            "index versions loaded after start",
            ["result"],
            registry=self.registry,
        )
        # Requests refused before they ran: "in_flight" is back-pressure (service/pressure.py).
        self.rejected = Counter(
            "recsys_rejected_total",
            "requests refused by back-pressure, by reason",
            ["reason"],
            registry=self.registry,
        )
        # Readers' events (service/events.py): accepted by type, dropped by reason (never stored),
        # additions to the catalog by result, and events counted in memory not yet added.
        self.events = Counter(
            "recsys_events_total", "reader events accepted, by type", ["type"], registry=self.registry
        )
        self.events_dropped = Counter(
            "recsys_events_dropped_total",
            "reader events dropped (not stored), by reason",
            ["reason"],
            registry=self.registry,
        )
        self.event_flushes = Counter(
            "recsys_events_flushes_total",
            "additions of counted events to the catalog, by result (ok, failed)",
            ["result"],
            registry=self.registry,
        )
        self.events_pending = Gauge(
            "recsys_events_pending",
            "events counted in memory and not yet added to the catalog",
            registry=self.registry,
            multiprocess_mode="livesum",
        )

        # What /metrics reads: this app's registry, or every worker's files.
        self.exposed = self.registry
        if folder is not None:
            self.exposed = CollectorRegistry()
            multiprocess.MultiProcessCollector(self.exposed, path=str(folder))

    def render(self) -> Response:
        return Response(generate_latest(self.exposed), media_type=CONTENT_TYPE_LATEST)

    def worker_exited(self) -> None:
        """Drop this worker's live gauge files (its counters stay in the totals). Called on a clean
        shutdown; a worker that is killed is marked by the process manager where it can (gunicorn's
        child_exit hook), otherwise its last gauge value lingers until the folder is emptied."""
        if self.folder is not None:
            multiprocess.mark_process_dead(os.getpid(), str(self.folder))

    def install(self, app: FastAPI) -> None:
        app.add_middleware(_Observe, metrics=self)


class _Observe:
    """Counts and times every HTTP request. A plain ASGI middleware: Starlette's BaseHTTPMiddleware
    (`@app.middleware`) costs more per request than a whole related list."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def observed_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, observed_send)
        finally:
            # The route template, not the raw path: one series per endpoint, not per article id.
            name = getattr(scope.get("route"), "path", "unmatched")
            self.metrics.requests.labels(name, scope["method"], str(status)).inc()
            self.metrics.latency.labels(name).observe(time.perf_counter() - started)
