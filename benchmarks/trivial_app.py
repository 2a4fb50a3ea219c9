"""The framework's floor for benchmarks/wrk_load.py: a trivial app with the same payload.

A minimal FastAPI app with routes of the same shape
as the service's (`/articles/{article_id}/related`, `/blocks`, ...) that answer any id with a response
body the real service gave once before the run, so both are measured with identical payloads.

Each handler is an `async def` returning prepared bytes: no thread pool, no validation, no
serialisation. Served by uvicorn with the options `recsys serve` uses (one worker, host, port, log level).

The payloads come from a JSON index file named by the TRIVIAL_PAYLOADS environment variable:
    {"payloads": [{"kind": "related", "query": "limit=10", "file": "0.json"}, ...]}
`kind` is the last path segment, `query` the exact query string of the requests it answers, `file` a
path relative to the index file.

    TRIVIAL_PAYLOADS=/tmp/payloads.json python -m benchmarks.trivial_app --port 8001
"""

from __future__ import annotations

import argparse
import json
import os
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request, Response

PAYLOADS_ENV = "TRIVIAL_PAYLOADS"

# (kind, raw query string) -> response body
Payloads = dict[tuple[str, bytes], bytes]


def write_payloads(index: Path, bodies: dict[tuple[str, str], bytes]) -> None:
    """Write bodies keyed by (kind, query string) beside `index`, and the index file naming them."""
    entries = []
    for number, ((kind, query), body) in enumerate(bodies.items()):
        name = f"payload-{number}.json"
        (index.parent / name).write_bytes(body)
        entries.append({"kind": kind, "query": query, "file": name})
    index.write_text(json.dumps({"payloads": entries}, indent=2) + "\n")


def read_payloads(index: Path) -> Payloads:
    entries = json.loads(index.read_text())["payloads"]
    return {
        (e["kind"], e["query"].encode("latin-1")): (index.parent / e["file"]).read_bytes() for e in entries
    }


def _handler(bodies: dict[bytes, bytes]) -> Callable[[str, Request], Awaitable[Response]]:
    async def handler(article_id: str, request: Request) -> Response:
        body = bodies.get(request.scope["query_string"])
        if body is None:
            return Response(status_code=404)
        return Response(content=body, media_type="application/json")

    return handler


def _conventional(bodies: dict[bytes, bytes]) -> Callable[[str, Request], Awaitable[Any]]:
    """The same answer the way a FastAPI endpoint usually gives it: a dict, validated against the
    response model and serialised by FastAPI."""
    parsed = {query: json.loads(body) for query, body in bodies.items()}

    async def handler(article_id: str, request: Request) -> Any:
        return parsed.get(request.scope["query_string"], {})

    return handler


def create_app(payloads: Payloads, style: str = "floor") -> FastAPI:
    """`style` "floor": prepared bytes, nothing else; "conventional": a dict through the response
    model (service/schemas.py), as FastAPI's tutorial writes endpoints."""
    from service.schemas import BlocksResponse, RelatedResponse

    app = FastAPI(title=f"trivial ({style})")
    models = {"related": RelatedResponse, "blocks": BlocksResponse}
    for kind in sorted({kind for kind, _ in payloads}):
        bodies = {query: body for (k, query), body in payloads.items() if k == kind}
        path = f"/articles/{{article_id:path}}/{kind}"
        if style == "conventional":
            app.add_api_route(path, _conventional(bodies), methods=["GET"], response_model=models.get(kind))
        else:
            app.add_api_route(path, _handler(bodies), methods=["GET"])

    @app.get("/health")
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    return app


STYLE_ENV = "TRIVIAL_STYLE"


def app_from_env() -> FastAPI:
    """The app for a server that imports a factory (granian: wrk_load --server granian): payloads from
    TRIVIAL_PAYLOADS, style from TRIVIAL_STYLE (default floor)."""
    index = os.environ.get(PAYLOADS_ENV)
    if not index:
        raise SystemExit(f"set {PAYLOADS_ENV} to a payload index file (see the module docstring)")
    return create_app(read_payloads(Path(index)), os.environ.get(STYLE_ENV, "floor"))


def main() -> None:
    import uvicorn

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8001)
    parser.add_argument("--log-level", default="warning")
    parser.add_argument("--style", choices=["floor", "conventional"], default="floor")
    # the same choices as RECSYS_HTTP_LOOP / RECSYS_HTTP_PARSER, so both sides of a ratio share a stack
    parser.add_argument("--loop", choices=["asyncio", "uvloop"], default="asyncio")
    parser.add_argument("--http", choices=["auto", "httptools", "h11"], default="auto")
    args = parser.parse_args()
    index = os.environ.get(PAYLOADS_ENV)
    if not index:
        raise SystemExit(f"set {PAYLOADS_ENV} to a payload index file (see the module docstring)")
    # the same call as `recsys serve`: one worker, host, port, log level, loop and parser
    uvicorn.run(
        create_app(read_payloads(Path(index)), args.style),
        host=args.host,
        port=args.port,
        log_level=args.log_level,
        loop=args.loop,
        http=args.http,
    )


if __name__ == "__main__":
    main()
