"""The request body size limit (RECSYS_MAX_BODY_BYTES).

A larger body gets 413 with the one error body,
before it is read into memory.

A pure ASGI middleware, so that it sees the body as it streams in: a declared Content-Length over the
limit is refused before anything is read, and a body sent without one (chunked) is counted chunk by
chunk and refused as soon as it passes the limit.
"""

from __future__ import annotations

from fastapi import FastAPI, HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service.errors import TrackedSend, document_error, error_response, has_body


class BodyTooLarge(HTTPException):
    def __init__(self, max_bytes: int) -> None:
        super().__init__(413, f"request body larger than {max_bytes} bytes")


class BodyLimit:
    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = _content_length(scope)
        if declared is not None and declared > self.max_bytes:
            await self._refuse(scope, receive, send)
            return
        received = 0

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    # An HTTPException: FastAPI re-raises it from its body reading (anything else
                    # would become a 400) and the error handlers answer it with the one body.
                    raise BodyTooLarge(self.max_bytes)
            return message

        tracked = TrackedSend(send)
        try:
            await self.app(scope, counting_receive, tracked)
        except BodyTooLarge:
            # Only reached where no handler answered it (an app that reads the body itself).
            if not tracked.started:
                await self._refuse(scope, receive, send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        detail = str(BodyTooLarge(self.max_bytes).detail)
        # Connection: close, since the rest of the body is never read.
        response = error_response(413, "body_too_large", detail, {"Connection": "close"})
        await response(scope, receive, send)


def _content_length(scope: Scope) -> int | None:
    """The declared length, if any (an unreadable one is left to the server and the streamed count)."""
    for name, value in scope.get("headers", []):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


def install_body_limit(app: FastAPI, max_bytes: int) -> None:
    app.add_middleware(BodyLimit, max_bytes=max_bytes)
    document_error(app, 413, f"request body larger than {max_bytes} bytes", has_body)
