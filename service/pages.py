"""The page endpoints: both blocks of an article page (by id, by URL, or for an unsaved draft)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request, Response

from recsys.articles import Article, format_timestamp
from service.caching import cache_headers, cached_answer
from service.deps import Current
from service.params import ListParams, QueryParams, aware, openapi_parameters
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
    openapi_extra=openapi_parameters(),
)
async def article_blocks(
    request: Request,
    listing: ListParams,
    article_id: Annotated[str, Path(description="the article's id in the catalog")],
) -> Response:
    recommender, query = listing.recommender, listing.query
    headers, cached = cache_headers(
        request, recommender, listing.settings, lambda: recommender.has_article(article_id)
    )
    if cached is not None:
        return cached
    version = recommender.index.version
    return await cached_answer(
        listing.state.responses,
        headers,
        lambda: blocks_body(article_id, version, recommender.blocks(article_id, query)),
        in_memory=recommender.in_memory(article_id),
    )


@router.get(
    "/related",
    response_model=BlocksResponse,
    responses={**ERRORS, 304: {"description": "not modified (If-None-Match)"}},
    summary="Both blocks of an article page, finding the article by its URL",
    openapi_extra=openapi_parameters(),
)
async def blocks_by_url(
    request: Request,
    listing: ListParams,
    url: Annotated[str, Query(min_length=1, max_length=4_000, description="the article's URL")],
) -> Response:
    recommender, query = listing.recommender, listing.query
    headers, cached = cache_headers(request, recommender, listing.settings, lambda: recommender.has_url(url))
    if cached is not None:
        return cached

    def make() -> dict[str, Any]:
        article_id, blocks = recommender.blocks_for_url(url, query)
        return blocks_body(article_id, recommender.index.version, blocks)

    return await cached_answer(
        listing.state.responses, headers, make, in_memory=recommender.in_memory(url=url)
    )


@router.post(
    "/related",
    response_model=BlocksResponse,
    responses={422: {"model": ErrorBody}, 429: ENCODER_BUSY, 503: {"model": ErrorBody}},
    summary="Both blocks for an unsaved draft (title, body, section, tags, published_at)",
    openapi_extra=openapi_parameters(),
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
