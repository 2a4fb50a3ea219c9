"""`POST /events` over HTTP: answered ahead of the framework, one ASGI layer instead of the stack.

Behind a CDN every reader event reaches the origin while most list requests do not, and an event
batch answered through FastAPI cost the worker about what a stored list did: the HTTP stack, nine
middleware layers and the router took most of it (py-spy, docs/benchmarks.md#reader-events-under-load).
So the app factory installs `EventsEndpoint` outermost, and it answers `POST /events` itself with
what those layers would have added for it: the request id (header and log context), CORS's
Access-Control-Allow-Origin, the request counter and latency histogram, the one JSON error body, and
the events' own limits (rate per client, 16 KiB, the batch's schema). Every other request, the
preflight `OPTIONS /events` included, passes through untouched.

Not applied to events: the in-flight limit (a batch never waits on anything but its own body, which
is bounded) and the general body limit (the events' own is smaller). The route below stays: it
documents the operation in the OpenAPI schema and answers the same way where this layer is not
installed. CORS for the rest of the API (`CorsByPath`) lives here too: /events is the one public
POST. What is counted, and how it reaches the catalog, is service/events.py.
"""

from __future__ import annotations

import time
from typing import Any

from fastapi import APIRouter, Request, Response
from pydantic import ValidationError
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service import request_id
from service.deps import state_of
from service.errors import Cors, describe_validation, error_response
from service.events import EVENTS_PATH, MAX_BODY_BYTES, Batch, Recorder
from service.metrics import Metrics
from service.schemas import ErrorBody
from service.state import ServiceState

_USER_AGENT = b"user-agent"
_CONTENT_LENGTH = b"content-length"


class Refused(Exception):
    """An answer other than 204: status, error kind, detail and extra headers, as the error body says."""

    def __init__(self, status: int, error: str, detail: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(detail)
        self.status, self.error, self.detail, self.headers = status, error, detail, headers


def too_large() -> Refused:
    # Connection: close, since the rest of the body is never read.
    return Refused(
        413, "body_too_large", f"request body larger than {MAX_BODY_BYTES} bytes", {"Connection": "close"}
    )


async def read_body(scope: Scope, receive: Receive, limit: int = MAX_BODY_BYTES) -> bytes:
    """The body, refused by its declared length or as soon as the streamed bytes pass `limit`."""
    declared = next((value for name, value in scope["headers"] if name == _CONTENT_LENGTH), b"")
    if declared.isdigit() and int(declared) > limit:
        raise too_large()
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise Refused(400, "bad_request", "the client went away before the body was read")
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise too_large()
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


def accept(recorder: Recorder, state: ServiceState, client: str, user_agent: str | None, body: bytes) -> None:
    """Count one batch (service/events.py's Recorder), or raise Refused: the one place both the route
    and this layer decide a batch's answer."""
    if not recorder.limiter.allow(client):
        raise Refused(
            429,
            "too_many_requests",
            "too many event batches from this client; slow down",
            {"Retry-After": "1"},
        )
    try:
        batch = Batch.model_validate_json(body)
    except ValidationError as exc:
        raise Refused(422, "invalid_input", describe_validation(exc.errors(include_input=False))) from None
    recorder.record(batch, state, user_agent)


class EventsEndpoint:
    """Answers `POST /events` (see the module's docstring); passes every other request on."""

    def __init__(self, app: ASGIApp, *, metrics: Metrics, cors_origins: list[str]) -> None:
        self.app = app
        self.cors = CorsByPath(app, allow_origins=cors_origins).events if cors_origins else None
        self._requests = metrics.requests
        self._latency = metrics.latency.labels(EVENTS_PATH)
        self._ok = metrics.requests.labels(EVENTS_PATH, "POST", "204")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] != EVENTS_PATH or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        headers = _first_of(scope["headers"])
        rid = request_id.accept(headers.get(request_id.HEADER))
        request_id.current.set(rid)
        extra = [(request_id.HEADER, rid.encode("latin-1"))]
        app_state = scope["app"].state
        recorder: Recorder = app_state.recsys_events
        user_agent = headers.get(_USER_AGENT)
        client = scope["client"][0] if scope.get("client") else ""
        try:
            body = await read_body(scope, receive)
            accept(
                recorder, app_state.recsys, client, user_agent.decode("latin-1") if user_agent else None, body
            )
        except Refused as refused:
            await self._refuse(refused, extra, scope, receive, send)
            self._requests.labels(EVENTS_PATH, "POST", str(refused.status)).inc()
        else:
            start: Message = {"type": "http.response.start", "status": 204, "headers": extra}
            await with_cors(self.cors, start, scope)
            await send(start)
            await send({"type": "http.response.body", "body": b""})
            self._ok.inc()
        self._latency.observe(time.perf_counter() - started)

    async def _refuse(
        self, refused: Refused, extra: list[tuple[bytes, bytes]], scope: Scope, receive: Receive, send: Send
    ) -> None:
        async def with_extra(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *extra]
                await with_cors(self.cors, message, scope)
            await send(message)

        await error_response(refused.status, refused.error, refused.detail, refused.headers)(
            scope, receive, with_extra
        )


async def with_cors(cors: Cors | None, start: Message, scope: Scope) -> None:
    """Add to a response's start message what Starlette's CORS middleware adds to a simple (non
    preflight) response: its own code, so a layer answering ahead of the app answers CORS alike."""
    if cors is not None:
        await cors.send(start, send=_nowhere, request_headers=Headers(scope=scope))


async def _nowhere(message: Message) -> None:
    """CORS's `send`: the layer sends the message itself once CORS has added its headers."""


def _first_of(pairs: list[tuple[bytes, bytes]]) -> dict[bytes, bytes]:
    """The first value of each header name, as Starlette's Headers.get reads it (dict() keeps the last)."""
    first: dict[bytes, bytes] = {}
    for name, value in pairs:
        first.setdefault(name, value)
    return first


# -- the route: the OpenAPI description, and the same answers where EventsEndpoint is not installed ----

router = APIRouter()

_BODY_SCHEMA: dict[str, Any] = {
    "description": 'a batch of events as JSON (docs/api.md, "Events"), sent as text/plain by '
    "navigator.sendBeacon or as application/json",
    "required": True,
    "content": {
        kind: {"schema": {"type": "object", "required": ["v", "pv", "article", "version", "events"]}}
        for kind in ("application/json", "text/plain")
    },
}


@router.post(
    EVENTS_PATH,
    status_code=204,
    response_class=Response,
    responses={
        413: {"model": ErrorBody},
        422: {"model": ErrorBody},
        429: {"model": ErrorBody, "description": "this client sends too many batches"},
    },
    summary="Readers' impressions and clicks from a page (public)",
    openapi_extra={"requestBody": _BODY_SCHEMA},
)
async def events(request: Request) -> Response:
    """Counts a batch of impressions or clicks: 204 once the batch parsed, whatever its events' fate
    (invalid ones are dropped and counted in `recsys_events_dropped_total`, never stored)."""
    recorder: Recorder = request.app.state.recsys_events
    client = request.client.host if request.client is not None else ""
    try:
        body = await read_body(request.scope, request.receive)
        accept(recorder, state_of(request), client, request.headers.get("user-agent"), body)
    except Refused as refused:
        return error_response(refused.status, refused.error, refused.detail, refused.headers)
    return Response(status_code=204)


class CorsByPath:
    """CORS as the lists have it (GET), except that /events also allows a POST with a Content-Type
    (a preflight for application/json; the browser's sendBeacon sends text/plain, which needs none).
    Neither allows credentials: no cookie is ever read."""

    def __init__(self, app: ASGIApp, *, allow_origins: list[str]) -> None:
        common: dict[str, Any] = {"allow_origins": allow_origins, "max_age": 3600}
        self.lists = Cors(
            app, allow_methods=["GET"], allow_headers=["If-None-Match"], expose_headers=["ETag"], **common
        )
        self.events = Cors(app, allow_methods=["POST"], allow_headers=["Content-Type"], **common)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        chosen = self.events if scope["type"] == "http" and scope["path"] == EVENTS_PATH else self.lists
        await chosen(scope, receive, send)
