"""Admin endpoints for editorial overrides (pins and blocks). Every one requires the API key
(service/auth.py). A change acts with no rebuild: this worker applies it to its live state before it
answers, so the next request shows it; other workers and replicas within the change poll
(RECSYS_CHANGE_POLL_SECONDS, service/state.py)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, status

from recsys.catalog.overrides import Block, Overrides
from service.auth import AdminKey
from service.deps import overrides_of, state_of
from service.params import aware
from service.schemas import BlockBody, BlockEntry, BlocksList, ErrorBody, PinsBody, PinsResponse

router = APIRouter(
    prefix="/admin",
    tags=["admin"],
    dependencies=[AdminKey],
    responses={401: {"model": ErrorBody}, 403: {"model": ErrorBody}, 422: {"model": ErrorBody}},
)
ArticleId = Annotated[str, Path(description="the article the pins are shown under")]
# An id no route matches (one holding a line break) is answered 404 by the router.
UNROUTABLE = {"model": ErrorBody, "description": "no such route: the id cannot be an article id"}


def _overrides(request: Request) -> Overrides:
    return overrides_of(state_of(request))


def _applied(request: Request) -> None:
    """Apply a committed change to this worker's live state before the response goes out."""
    state_of(request).refresh_live()


def _entry(block: Block) -> BlockEntry:
    return BlockEntry(
        target=block.target_id,
        article=block.article_id,
        expires_at=block.expires_at,
        created_at=block.created_at,
    )


@router.get(
    "/pins/{article_id:path}",
    response_model=PinsResponse,
    responses={404: UNROUTABLE},
    summary="An article's pins",
)
def get_pins(request: Request, article_id: ArticleId) -> PinsResponse:
    return PinsResponse(article_id=article_id, pins=_overrides(request).pins(article_id))


@router.put(
    "/pins/{article_id:path}",
    response_model=PinsResponse,
    responses={404: {"model": ErrorBody}},
    summary="Replace an article's pins (an ordered list; empty unpins all)",
)
def put_pins(request: Request, article_id: ArticleId, body: PinsBody) -> PinsResponse:
    pins = _overrides(request).set_pins(article_id, body.pins)
    _applied(request)
    return PinsResponse(article_id=article_id, pins=pins)


@router.delete(
    "/pins/{article_id:path}",
    response_model=PinsResponse,
    responses={404: UNROUTABLE},
    summary="Remove all pins of an article",
)
def delete_pins(request: Request, article_id: ArticleId) -> PinsResponse:
    _overrides(request).unpin(article_id)
    _applied(request)
    return PinsResponse(article_id=article_id, pins=[])


@router.get(
    "/blocks", response_model=BlocksList, summary="Blocks (global, or those applying under an article)"
)
def list_blocks(
    request: Request,
    article: Annotated[str | None, Query(description="only blocks that apply under this article")] = None,
) -> BlocksList:
    return BlocksList(blocks=[_entry(b) for b in _overrides(request).blocks(article)])


@router.post(
    "/blocks",
    response_model=BlockEntry,
    status_code=status.HTTP_201_CREATED,
    summary="Block an article everywhere, or under one article, optionally until a time",
)
def add_block(request: Request, body: BlockBody) -> BlockEntry:
    block = _overrides(request).block(body.target, under=body.article, expires_at=aware(body.expires_at))
    _applied(request)
    return _entry(block)


@router.delete("/blocks", response_model=BlocksList, summary="Remove a block; returns the remaining ones")
def remove_block(
    request: Request,
    target: Annotated[str, Query(min_length=1, description="the blocked article")],
    article: Annotated[str | None, Query(description="the article it is blocked under; omit: global")] = None,
) -> BlocksList:
    overrides = _overrides(request)
    overrides.unblock(target, under=article)
    _applied(request)
    return BlocksList(blocks=[_entry(b) for b in overrides.blocks()])
