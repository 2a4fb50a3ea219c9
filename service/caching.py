"""HTTP caching of public GET responses: Cache-Control from settings, and an ETag that changes
whenever the list could: another index version, another catalog generation (pins, blocks,
retractions, edits: recsys/overrides.py, recsys/catalog.py), or other query parameters.

The ETag is computed before any ranking work, so a matching If-None-Match costs one read of the
catalog's generation.
"""

from __future__ import annotations

import hashlib

from fastapi import Request, Response

from recsys.recommend import Recommender
from recsys.settings import Settings


def etag_for(request: Request, recommender: Recommender) -> str:
    params = sorted(request.query_params.multi_items())
    parts = [
        recommender.index.version,
        str(recommender.live.current().generation),
        request.url.path,
        repr(params),
    ]
    return '"' + hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:32] + '"'


def cache_headers(
    request: Request, recommender: Recommender, settings: Settings
) -> tuple[dict[str, str], Response | None]:
    """The caching headers of a response, and a 304 to send instead when the client's copy is
    current."""
    etag = etag_for(request, recommender)
    headers = {"ETag": etag, "Cache-Control": f"public, max-age={settings.cache_max_age}"}
    wanted = request.headers.get("if-none-match", "")
    if etag in {tag.strip().removeprefix("W/") for tag in wanted.split(",")} or wanted.strip() == "*":
        return headers, Response(status_code=304, headers=headers)
    return headers, None
