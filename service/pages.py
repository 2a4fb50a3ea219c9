"""The page endpoints: both blocks of an article page (by id, by URL, or for an unsaved draft), and
the request parameters they share with `/articles/{id}/related`."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request, Response

from recsys.articles import Article, format_timestamp
from recsys.ranking import RankedList
from recsys.recommend import Blocks, Recommender
from service.caching import not_modified
from service.params import QueryParams, aware
from service.routes import get_recommender, item
from service.schemas import Block, BlocksResponse, Draft, ErrorBody

router = APIRouter()

ERRORS: dict[int | str, dict[str, Any]] = {
    404: {"model": ErrorBody},
    422: {"model": ErrorBody},
    503: {"model": ErrorBody},
}


Current = Annotated[Recommender, Depends(get_recommender)]


def _block(ranked: RankedList) -> Block:
    return Block(items=[item(i) for i in ranked.items], collapsed=ranked.collapsed)


def _response(article_id: str | None, recommender: Recommender, blocks: Blocks) -> BlocksResponse:
    return BlocksResponse(
        article_id=article_id,
        index_version=recommender.index.version,
        related=_block(blocks.related),
        more_in_section=_block(blocks.more_in_section),
        next_cursor=blocks.next_cursor,
    )


@router.get(
    "/articles/{article_id:path}/blocks",
    response_model=BlocksResponse,
    responses={**ERRORS, 304: {"description": "not modified (If-None-Match)"}},
    summary="Both blocks of an article page: related, and more in the article's section",
)
def article_blocks(
    request: Request,
    response: Response,
    recommender: Current,
    query: QueryParams,
    article_id: Annotated[str, Path(description="the article's id in the catalog")],
) -> BlocksResponse | Response:
    if (cached := not_modified(request, response, recommender)) is not None:
        return cached
    return _response(article_id, recommender, recommender.blocks(article_id, query))


@router.get(
    "/related",
    response_model=BlocksResponse,
    responses={**ERRORS, 304: {"description": "not modified (If-None-Match)"}},
    summary="Both blocks of an article page, finding the article by its URL",
)
def blocks_by_url(
    request: Request,
    response: Response,
    recommender: Current,
    query: QueryParams,
    url: Annotated[str, Query(min_length=1, max_length=4_000, description="the article's URL")],
) -> BlocksResponse | Response:
    if (cached := not_modified(request, response, recommender)) is not None:
        return cached
    stored, blocks = recommender.blocks_for_url(url, query)
    return _response(stored.id, recommender, blocks)


@router.post(
    "/related",
    response_model=BlocksResponse,
    responses={422: {"model": ErrorBody}, 503: {"model": ErrorBody}},
    summary="Both blocks for an unsaved draft (title, body, section, tags, published_at)",
)
def blocks_for_draft(recommender: Current, query: QueryParams, draft: Draft) -> BlocksResponse:
    moment = aware(draft.published_at)
    article = Article(
        id="<draft>",
        title=(draft.title or "").strip() or None,
        body=(draft.body or "").strip() or None,
        section=(draft.section or "").strip() or None,
        tags=tuple(t.strip() for t in draft.tags if t.strip()),
        published_at=format_timestamp(moment) if moment is not None else None,
    )
    return _response(None, recommender, recommender.blocks_for_draft(article, query))
