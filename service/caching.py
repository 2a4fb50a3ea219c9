"""HTTP caching of public GET responses: Cache-Control from settings, and an ETag that changes
whenever the list could: another index version, another overrides generation (pins, blocks,
retractions: recsys/overrides.py), or other query parameters.

The ETag is computed before any ranking work, so a matching If-None-Match costs one SQLite read.
"""

from __future__ import annotations

import hashlib

from fastapi import Request, Response

from recsys.recommend import Recommender


def etag_for(request: Request, recommender: Recommender) -> str:
    params = sorted(request.query_params.multi_items())
    parts = [
        recommender.index.version,
        str(recommender.catalog.generation()),
        request.url.path,
        repr(params),
    ]
    return '"' + hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:32] + '"'


def not_modified(request: Request, response: Response, recommender: Recommender) -> Response | None:
    """Set the caching headers on `response`; return a 304 when the client's copy is current."""
    etag = etag_for(request, recommender)
    max_age = request.app.state.recsys.settings.cache_max_age
    headers = {"ETag": etag, "Cache-Control": f"public, max-age={max_age}"}
    response.headers.update(headers)
    wanted = request.headers.get("if-none-match", "")
    if etag in {tag.strip().removeprefix("W/") for tag in wanted.split(",")} or wanted.strip() == "*":
        return Response(status_code=304, headers=headers)
    return None
