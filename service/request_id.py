"""X-Request-ID: kept when sane, else generated; carried into every log line.

A request id for every HTTP request: the caller's X-Request-ID when it is a sane token (a proxy or
CDN often sets one), otherwise a new one. It goes back in the response's X-Request-ID header and into
a context variable that the log filter (service/logs.py) copies onto every record emitted while the
request is handled: our own lines, the thread pool's (anyio copies the context), and uvicorn's access
and error lines, which uvicorn emits from the request's own task.

The variable is set and never reset: each request runs in a task of its own, whose context dies with
it, and not resetting it keeps the id on uvicorn's lines written after the app returns (a traceback).
"""

from __future__ import annotations

import re
import uuid
from contextvars import ContextVar

from starlette.types import ASGIApp, Message, Receive, Scope, Send

HEADER = b"x-request-id"  # ASGI header names are lower-case bytes
# A header a client controls ends up in every log line: only short tokens of safe characters (ids,
# UUIDs, trace ids) are kept; anything else (spaces, quotes, control or non-ASCII characters, a
# kilobyte of text) is replaced by a fresh id rather than echoed or logged.
_SANE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,127}")

current: ContextVar[str | None] = ContextVar("recsys_request_id", default=None)


def accept(given: bytes | None) -> str:
    """The id to use for a request that sent `given` (None: no header)."""
    if given is not None:
        text = given.decode("latin-1")
        if _SANE.fullmatch(text):
            return text
    return uuid.uuid4().hex


class RequestId:
    """A plain ASGI middleware (cheaper per request than BaseHTTPMiddleware); installed outermost,
    so that refusals by back-pressure and the catch-all 500 carry the id too."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = next((value for name, value in scope["headers"] if name == HEADER), None)
        request_id = accept(given)
        current.set(request_id)
        header = (HEADER, request_id.encode("latin-1"))

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [
                    *(h for h in message.get("headers", []) if h[0].lower() != HEADER),
                    header,
                ]
            await send(message)

        await self.app(scope, receive, send_with_id)
