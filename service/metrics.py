"""Prometheus metrics for one app instance (its own registry: two apps in one process, as in tests,
never share counters)."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable

from fastapi import FastAPI, Request, Response
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)


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

    def render(self) -> Response:
        return Response(generate_latest(self.registry), media_type=CONTENT_TYPE_LATEST)

    def install(self, app: FastAPI) -> None:
        @app.middleware("http")
        async def observe(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
            started = time.perf_counter()
            response = await call_next(request)
            # The route template, not the raw path: one series per endpoint, not per article id.
            route = request.scope.get("route")
            name = getattr(route, "path", "unmatched")
            self.requests.labels(name, request.method, str(response.status_code)).inc()
            self.latency.labels(name).observe(time.perf_counter() - started)
            return response
