"""Back-pressure: a bound on the HTTP requests in flight in one worker (RECSYS_MAX_IN_FLIGHT).

Beyond it a request is answered at once with 503 `overloaded` and `Retry-After: 1`, instead of
queueing without bound until clients time out; a load balancer can send it to another worker.
/health and /metrics are never refused: the load balancer and the monitoring must still see a busy
worker. Refusals are counted in `recsys_rejected_total{reason="in_flight"}`.

A plain ASGI middleware, outermost, so a refusal costs no routing or parsing. The count needs no
lock: a worker runs one event loop, and nothing awaits between the check and the increment.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from prometheus_client import Counter
from starlette.types import ASGIApp, Receive, Scope, Send

from service.errors import document_error, error_response
from service.metrics import Metrics

EXEMPT = frozenset({"/health", "/metrics"})
RETRY_AFTER = {"Retry-After": "1"}


class InFlight:
    """The requests in flight in one worker and their bound: one count for every layer that answers
    requests (service/fast_lists.py answers default lists ahead of InFlightLimit, and counts in it)."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.count = 0

    @property
    def full(self) -> bool:
        return self.count >= self.limit


class InFlightLimit:
    def __init__(
        self, app: ASGIApp, max_in_flight: int, rejected: Counter, gate: InFlight | None = None
    ) -> None:
        self.app = app
        self.max_in_flight = max_in_flight
        self.rejected = rejected
        self.gate = gate if gate is not None else InFlight(max_in_flight)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in EXEMPT:
            await self.app(scope, receive, send)
            return
        gate = self.gate
        if gate.full:
            self.rejected.inc()
            detail = f"more than {self.max_in_flight} requests in flight: retry shortly"
            await error_response(503, "overloaded", detail, RETRY_AFTER)(scope, receive, send)
            return
        gate.count += 1
        try:
            await self.app(scope, receive, send)
        finally:
            gate.count -= 1


def install_in_flight_limit(app: FastAPI, max_in_flight: int, metrics: Metrics) -> InFlight:
    """Call it after every other middleware but the request id (service/app.py): middleware added
    last wraps all the others. Returns the count, for the layers ahead of it to share."""
    rejected = metrics.rejected.labels("in_flight")
    gate = InFlight(max_in_flight)
    app.add_middleware(InFlightLimit, max_in_flight=max_in_flight, rejected=rejected, gate=gate)
    # Routes that document a 503 of their own (index or catalog unavailable) keep its description.
    unavailable = "overloaded or unavailable (see `error`); try again after Retry-After"
    document_error(app, 503, unavailable, _limited, list(RETRY_AFTER))
    return gate


def _limited(path: str, _: dict[str, Any]) -> bool:
    return path not in EXEMPT
