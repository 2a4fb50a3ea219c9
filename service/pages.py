"""The page endpoints: both blocks of an article page (by id, by URL, or for an unsaved draft)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request, Response

from recsys.articles import Article, format_timestamp
from service.caching import cache_headers
from service.deps import Current, CurrentSettings
from service.params import QueryParams, aware
from service.render import blocks_body, json_response
from service.schemas import ENCODER_BUSY, BlocksResponse, Draft, ErrorBody

router = APIRouter()

ERRORS: dict[int | str, dict[str, Any]] = {
    404: {"model": ErrorBody},
    422: {"model": ErrorBody},
    429: ENCODER_BUSY,
    503: {"model": ErrorBody},
}


@router.get(
    "/articles/{article_id:path}/blocks",
    response_model=BlocksResponse,
    responses={**ERRORS, 304: {"description": "not modified (If-None-Match)"}},
    summary="Both blocks of an article page: related, and more in the article's section",
)
async def article_blocks(
    request: Request,
    recommender: Current,
    settings: CurrentSettings,
    query: QueryParams,
    article_id: Annotated[str, Path(description="the article's id in the catalog")],
) -> Response:
    headers, cached = cache_headers(request, recommender, settings)
    if cached is not None:
        return cached
    blocks = recommender.blocks(article_id, query)
    return json_response(blocks_body(article_id, recommender.index.version, blocks), headers)


@router.get(
    "/related",
    response_model=BlocksResponse,
    responses={**ERRORS, 304: {"description": "not modified (If-None-Match)"}},
    summary="Both blocks of an article page, finding the article by its URL",
)
async def blocks_by_url(
    request: Request,
    recommender: Current,
    settings: CurrentSettings,
    query: QueryParams,
    url: Annotated[str, Query(min_length=1, max_length=4_000, description="the article's URL")],
) -> Response:
    headers, cached = cache_headers(request, recommender, settings)
    if cached is not None:
        return cached
    article_id, blocks = recommender.blocks_for_url(url, query)
    return json_response(blocks_body(article_id, recommender.index.version, blocks), headers)


@router.post(
    "/related",
    response_model=BlocksResponse,
    responses={422: {"model": ErrorBody}, 429: ENCODER_BUSY, 503: {"model": ErrorBody}},
    summary="Both blocks for an unsaved draft (title, body, section, tags, published_at)",
)
def blocks_for_draft(recommender: Current, query: QueryParams, draft: Draft) -> Response:
    moment = aware(draft.published_at)
    article = Article(
        id="<draft>",
        title=(draft.title or "").strip() or None,
        body=(draft.body or "").strip() or None,
        section=(draft.section or "").strip() or None,
        tags=tuple(t.strip() for t in draft.tags if t.strip()),
        published_at=format_timestamp(moment) if moment is not None else None,
    )
    blocks = recommender.blocks_for_draft(article, query)
    return json_response(blocks_body(None, recommender.index.version, blocks))
