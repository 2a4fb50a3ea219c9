"""Prometheus metrics for one app instance (its own registry: two apps in one process, as in tests,
never share counters)."""

from __future__ import annotations

import time

from fastapi import FastAPI, Response
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from starlette.types import ASGIApp, Message, Receive, Scope, Send


class Metrics:
    def __init__(self) -> None:
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
        self.index_articles = Gauge(
            "recsys_index_articles", "articles in the served index", registry=self.registry
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

    def render(self) -> Response:
        return Response(generate_latest(self.registry), media_type=CONTENT_TYPE_LATEST)

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
