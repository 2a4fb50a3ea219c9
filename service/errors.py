"""The one error body for every 4xx and 5xx, domain errors mapped to HTTP, CORS refusals, the JSON 500.

The body is `{"error": kind, "detail": message}` (schemas.ErrorBody), for every 4xx and 5xx
the service answers: domain errors (recsys/errors.py) mapped to their HTTP status, FastAPI's request
validation errors, Starlette's HTTP errors (unknown route, wrong method, the API key check), a refused
CORS preflight, and anything unexpected: a JSON 500 whose traceback goes to the log once. /health's 503
and /admin/reload's 409 are the same two fields plus their own (schemas.Health, ReloadResponse).
docs/api.md lists every kind; tests/service/test_error_shapes.py triggers each.

Bodies never repeat the request's input: it can be megabytes long, or not even encodable.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any, cast

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from recsys.errors import (
    ArticleNotFound,
    BuildLocked,
    CatalogBusy,
    ConfigError,
    EncoderBusy,
    IndexError_,
    InvalidInput,
    ModelLoadError,
    RecsysError,
    StorageError,
)
from service.schemas import ErrorBody

log = logging.getLogger(__name__)

# Kinds answered outside the domain-error table: by a route that carries its own fields beside the
# error body (/health, /admin/reload), and by the CORS preflight check.
INDEX_UNAVAILABLE = "index_unavailable"
VERSION_REFUSED = "version_refused"
CORS_REFUSED = "cors_refused"


@dataclass(frozen=True)
class _Answer:
    status: int
    error: str
    headers: Mapping[str, str] | None = None
    # Said instead of the message where that names server paths; the message then goes to the log.
    public_detail: str | None = None


# One place that says which domain error is which HTTP answer (the first match wins).
_ANSWERS: list[tuple[type[RecsysError], _Answer]] = [
    (ArticleNotFound, _Answer(404, "not_found")),
    (InvalidInput, _Answer(422, "invalid_input")),
    (IndexError_, _Answer(503, INDEX_UNAVAILABLE)),
    (BuildLocked, _Answer(409, "build_locked")),
    (ModelLoadError, _Answer(503, "model_unavailable")),
    # An import batch or a build holds the lock for seconds at most: say when to try again.
    (CatalogBusy, _Answer(503, "catalog_busy", {"Retry-After": "1"})),
    # Every encoder slot is taken (RECSYS_MAX_CONCURRENT_ENCODES): this caller should slow down.
    (EncoderBusy, _Answer(429, "encoder_busy", {"Retry-After": "1"})),
    (StorageError, _Answer(503, "storage_unavailable", public_detail="the catalog cannot be written now")),
    (ConfigError, _Answer(500, "config_error")),
]
# Kinds for Starlette's and FastAPI's own statuses where the HTTP phrase is not a good name (413's
# phrase also differs between Python versions).
_HTTP_KINDS = {413: "body_too_large", 422: "invalid_input"}
MAX_DETAIL = 2_000
MAX_PROBLEMS = 5
MAX_LOC_PART = 80


def error_response(
    status: int, error: str, detail: str, headers: Mapping[str, str] | None = None
) -> Response:
    """The one error body. The detail is bounded and made encodable: a lone surrogate in it would fail
    the response's UTF-8 encoding and turn the intended answer into a 500."""
    safe = detail[:MAX_DETAIL].encode("utf-8", "backslashreplace").decode("utf-8")
    body = ErrorBody(error=error, detail=safe).model_dump()
    return JSONResponse(body, status_code=status, headers=headers)


def describe_validation(errors: Sequence[Any]) -> str:
    """Which parameters failed and why, e.g. `query.limit: Input should be less than or equal to 100`.
    Only the location and pydantic's message: never the input."""
    parts = []
    for error in errors[:MAX_PROBLEMS]:
        where = ".".join(str(part)[:MAX_LOC_PART] for part in error.get("loc", ()))
        parts.append(f"{where or 'request'}: {error.get('msg', 'invalid')}")
    if len(errors) > MAX_PROBLEMS:
        parts.append(f"and {len(errors) - MAX_PROBLEMS} more")
    return "; ".join(parts) or "invalid request"


def _http_kind(status: int) -> str:
    if status in _HTTP_KINDS:
        return _HTTP_KINDS[status]
    try:
        return HTTPStatus(status).phrase.lower().replace(" ", "_").replace("-", "_")
    except ValueError:
        return "error"


async def _domain_error(request: Request, exc: Exception) -> Response:
    answer = next((answer for kind, answer in _ANSWERS if isinstance(exc, kind)), _Answer(500, "error"))
    if answer.public_detail is not None:
        log.error("%s", exc)
    detail = answer.public_detail or str(exc)
    state = getattr(request.app.state, "recsys", None)
    if state is not None:  # no server paths in public answers (index and config errors name them)
        detail = state.public(detail)
    return error_response(answer.status, answer.error, detail, answer.headers)


async def _validation_error(_: Request, exc: Exception) -> Response:
    errors = cast(RequestValidationError, exc).errors()  # registered for this type only
    return error_response(422, "invalid_input", describe_validation(errors))


async def _http_error(_: Request, error: Exception) -> Response:
    exc = cast(HTTPException, error)  # registered for this type only
    if exc.status_code in (204, 304):  # no body allowed
        return Response(status_code=exc.status_code, headers=exc.headers)
    detail = exc.detail if isinstance(exc.detail, str) else HTTPStatus(exc.status_code).phrase
    return error_response(exc.status_code, _http_kind(exc.status_code), detail, exc.headers)


class TrackedSend:
    """`send`, remembering whether the response has started: after that no other answer can be sent."""

    def __init__(self, send: Send) -> None:
        self._send = send
        self.started = False

    async def __call__(self, message: Message) -> None:
        self.started = self.started or message["type"] == "http.response.start"
        await self._send(message)


class CatchAll:
    """Answers any exception no handler took with the JSON 500 and logs its traceback once.

    A middleware rather than an exception handler for Exception: Starlette re-raises after calling
    such a handler, so the server would log the same traceback a second time.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        tracked = TrackedSend(send)
        try:
            await self.app(scope, receive, tracked)
        except Exception:
            log.exception("internal error answering %s %s", scope.get("method"), scope.get("path"))
            if not tracked.started:  # otherwise the client gets a cut-off response, which it can tell
                await error_response(500, "internal", "internal error")(scope, receive, send)


async def _server_error(_: Request, __: Exception) -> Response:
    """Starlette's last resort, for an exception raised outside CatchAll (in an outer middleware): the
    same JSON 500 instead of its plain-text one. The server logs the traceback (Starlette re-raises)."""
    return error_response(500, "internal", "internal error")


class Cors(CORSMiddleware):
    """Starlette's CORS middleware, except that a refused preflight (an origin, method or header not
    allowed) is answered with the error body instead of a plain-text 400."""

    def preflight_response(self, request_headers: Headers) -> Response:
        response = super().preflight_response(request_headers)
        if response.status_code < 400:
            return response
        cors_headers = {k: v for k, v in response.headers.items() if k.lower().startswith("access-control-")}
        detail = bytes(response.body).decode("utf-8", "replace")  # e.g. "Disallowed CORS origin"
        return error_response(response.status_code, CORS_REFUSED, detail, cors_headers)


def _document_error_body(app: FastAPI) -> None:
    """Make the OpenAPI document say what 422s look like now: ErrorBody, not FastAPI's default
    HTTPValidationError, which FastAPI adds to every route with parameters."""
    generate = app.openapi
    ref = "#/components/schemas/ErrorBody"

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        schema = generate()
        for operation in (op for path in schema.get("paths", {}).values() for op in path.values()):
            for response in operation.get("responses", {}).values():
                content = response.get("content", {}).get("application/json", {})
                if content.get("schema", {}).get("$ref", "").endswith("/HTTPValidationError"):
                    content["schema"] = {"$ref": ref}
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        components.setdefault("ErrorBody", ErrorBody.model_json_schema())
        for unused in ("HTTPValidationError", "ValidationError"):
            components.pop(unused, None)
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]


def document_error(
    app: FastAPI,
    status: int,
    description: str,
    applies: Callable[[str, dict[str, Any]], bool],
    headers: Sequence[str] = (),
) -> None:
    """Say in the OpenAPI document that every operation `applies(path, operation)` selects may answer
    `status` with the ErrorBody (and `headers`): for answers given by middleware, which no route
    declares. A route's own entry for that status is kept."""
    generate = app.openapi
    response: dict[str, Any] = {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorBody"}}},
    }
    documented_headers = {name: {"schema": {"type": "string"}} for name in headers}

    def openapi() -> dict[str, Any]:
        schema = generate()  # built and cached once (_document_error_body); adding again changes nothing
        for path, item in schema.get("paths", {}).items():
            for operation in item.values():
                if isinstance(operation, dict) and applies(path, operation):
                    answer = operation.setdefault("responses", {}).setdefault(str(status), response)
                    if documented_headers:
                        answer.setdefault("headers", {}).update(documented_headers)
        return schema

    app.openapi = openapi  # type: ignore[method-assign]


def has_body(_: str, operation: dict[str, Any]) -> bool:
    return "requestBody" in operation


def install_error_handlers(app: FastAPI) -> None:
    """Every error answer in the one body. Call it before adding middleware that should see the JSON
    500s (metrics): middleware added later wraps this."""
    app.add_exception_handler(RecsysError, _domain_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(500, _server_error)
    app.add_middleware(CatchAll)
    _document_error_body(app)
    # A body that is not text FastAPI can parse (bytes that are not UTF-8) gets its 400 `bad_request`.
    document_error(app, 400, "the request body cannot be parsed", has_body)
