"""The article endpoint, health, metrics and reload.

List endpoints are `async def`: a stored article's list is computed from memory in about a
millisecond, so it runs on the event loop rather than paying a thread hop and contending for the GIL
(benchmarks/wrk_load.py measures both). Endpoints that may run the encoder (drafts) stay plain
functions, which FastAPI runs in its thread pool.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Path, Request, Response

from recsys.articles import format_timestamp
from service.auth import AdminKey
from service.caching import cache_headers, cached_answer
from service.deps import State
from service.errors import INDEX_UNAVAILABLE, VERSION_REFUSED
from service.params import ListParams, openapi_parameters
from service.render import related_body
from service.schemas import ENCODER_BUSY, ErrorBody, Health, RelatedResponse, ReloadResponse

router = APIRouter()


@router.get(
    "/articles/{article_id:path}/related",
    response_model=RelatedResponse,
    responses={
        404: {"model": ErrorBody},
        422: {"model": ErrorBody},
        429: ENCODER_BUSY,
        503: {"model": ErrorBody},
        304: {"description": "not modified (If-None-Match)"},
    },
    summary="Related stories for an article",
    openapi_extra=openapi_parameters(),
)
async def related(
    request: Request,
    listing: ListParams,
    article_id: Annotated[str, Path(description="the article's id in the catalog")],
) -> Response:
    recommender, query = listing.recommender, listing.query
    state = recommender.live.current()  # read once: the ETag and the body both come from it
    headers, cached = cache_headers(
        request,
        recommender,
        state,
        listing.settings,
        lambda: recommender.has_article(article_id, state=state),
    )
    if cached is not None:
        return cached
    return await cached_answer(
        listing.state.responses,
        headers,
        lambda: related_body(
            article_id, recommender.index.version, recommender.related_list(article_id, query, state=state)
        ),
        in_memory=recommender.in_memory(article_id, state=state),
    )


@router.get("/health", response_model=Health, responses={503: {"model": Health}}, summary="Service health")
def health(state: State, response: Response) -> Health:
    recommender = state.recommender
    manifest = recommender.index.manifest if recommender else None
    if recommender is None:
        response.status_code = 503
    since = state.catalog_unreachable_since
    versions_ok = state.versions_unreachable_since is None
    return Health(
        status="unavailable" if recommender is None else "ok" if since is None and versions_ok else "stale",
        index_version=manifest.version if manifest else None,
        index_articles=manifest.count if manifest else None,
        index_built_at=manifest.built_at if manifest else None,
        catalog_articles=state.catalog_count(),
        catalog_reachable=since is None,
        stale_since=None if since is None else format_timestamp(datetime.fromtimestamp(since, UTC)),
        catalog_error=state.public(state.catalog_error),
        versions_reachable=versions_ok,
        versions_error=state.public(state.versions_error or state.download_error),
        model=state.query_side.encoder.name if state.query_side.encoder else state.settings.model,
        error=None if recommender else INDEX_UNAVAILABLE,
        detail=None if recommender else state.public(state.index_error or "no index loaded"),
        current_version=state.query_side.store.current_version(),
        reload_error=state.public(state.reload_error),
        worker_pid=os.getpid(),
    )


@router.get("/metrics", summary="Prometheus metrics", response_class=Response)
def metrics(state: State) -> Response:
    return state.metrics.render()


# -- index lifecycle: hot reload ---------------------------------------------------------------------


@router.post(
    "/admin/reload",
    response_model=ReloadResponse,
    responses={409: {"model": ReloadResponse}, 401: {"model": ErrorBody}, 403: {"model": ErrorBody}},
    dependencies=[AdminKey],
    summary="Serve the current index version now (needs X-API-Key)",
)
def admin_reload(state: State, response: Response) -> ReloadResponse:
    """Loads the version CURRENT names, if it is not the one served, and swaps to it. A version that
    fails its checks is refused (HTTP 409, with the reason) and the old one keeps serving."""
    outcome = state.reload(retry_refused=True)
    refused = not outcome.up_to_date
    if refused:
        response.status_code = 409
    return ReloadResponse(
        served_version=outcome.served_version,
        current_version=outcome.current_version,
        reloaded=outcome.reloaded,
        error=VERSION_REFUSED if refused else None,
        detail=(outcome.error or "the current index version is not served") if refused else None,
    )
