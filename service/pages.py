"""The page endpoints: both blocks of an article page, as JSON or as HTML.

Both blocks by id, by URL, or for an unsaved draft, as JSON
or as the HTML fragment the widget also renders (service/fragment.py)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request, Response
from fastapi.responses import HTMLResponse

from recsys.articles import Article, format_timestamp
from service.caching import cache_headers, cached_answer
from service.deps import Current
from service.fragment import MAX_HEADING_LENGTH, RELATED_HEADING, SECTION_HEADING, Headings, blocks_html
from service.params import Listing, ListParams, Param, QueryParams, aware, openapi_parameters
from service.render import blocks_body, dumps, json_response
from service.schemas import ENCODER_BUSY, BlocksResponse, Draft, ErrorBody, json_error

router = APIRouter()
Render = Callable[[dict[str, Any]], bytes]

ERRORS: dict[int | str, dict[str, Any]] = {
    404: {"model": ErrorBody},
    422: {"model": ErrorBody},
    429: ENCODER_BUSY,
    503: {"model": ErrorBody},
}


HTML_ERRORS: dict[int | str, dict[str, Any]] = {
    200: {"content": {"text/html": {"schema": {"type": "string"}}}, "description": "the fragment"},
    304: {"description": "not modified (If-None-Match)"},
    404: json_error("no such article"),
    422: json_error("invalid parameters"),
    429: {**json_error("encoder_busy: retry after Retry-After seconds"), "headers": ENCODER_BUSY["headers"]},
    503: json_error("no index loaded, or the catalog is busy"),
}


# The fragment's own parameters, on top of the list parameters: its headings in the page's language.
HEADING_PARAMS = (
    Param(
        "heading_related",
        "string",
        f"heading of the related block (default '{RELATED_HEADING}')",
        max_length=MAX_HEADING_LENGTH,
        min_length=1,
    ),
    Param(
        "heading_section",
        "string",
        f"heading of the section block, {{section}} standing for its name (default '{SECTION_HEADING}')",
        max_length=MAX_HEADING_LENGTH,
        min_length=1,
    ),
)
HTML_PARAMETERS = {
    "parameters": [*openapi_parameters()["parameters"], *(p.openapi() for p in HEADING_PARAMS)]
}


def _html(request: Request) -> tuple[Render, str]:
    """The HTML serialiser for a request: its headings are checked before any list is made."""
    given = request.query_params
    found = {p.name: p.parse(given[p.name]) for p in HEADING_PARAMS if p.name in given}
    headings = Headings(
        found.get("heading_related", RELATED_HEADING), found.get("heading_section", SECTION_HEADING)
    )
    return (lambda body: blocks_html(body, headings).encode("utf-8")), "text/html; charset=utf-8"


# The JSON and the HTML of both blocks share everything but the serialiser: the parameters, the
# ETag (which names the path and every parameter, so the two never answer for each other), the body
# cache, the errors.
_JSON: tuple[Render, str] = (dumps, "application/json")


async def _blocks_by_id(
    request: Request, listing: Listing, article_id: str, form: tuple[Render, str]
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
    version = recommender.index.version
    return await cached_answer(
        listing.state.responses,
        headers,
        lambda: blocks_body(article_id, version, recommender.blocks(article_id, query, state=state)),
        in_memory=recommender.in_memory(article_id, state=state),
        render=form[0],
        media_type=form[1],
    )


async def _blocks_by_url(request: Request, listing: Listing, url: str, form: tuple[Render, str]) -> Response:
    recommender, query = listing.recommender, listing.query
    state = recommender.live.current()  # read once: the ETag and the body both come from it
    headers, cached = cache_headers(
        request, recommender, state, listing.settings, lambda: recommender.has_url(url, state=state)
    )
    if cached is not None:
        return cached

    def make() -> dict[str, Any]:
        article_id, blocks = recommender.blocks_for_url(url, query, state=state)
        return blocks_body(article_id, recommender.index.version, blocks)

    return await cached_answer(
        listing.state.responses,
        headers,
        make,
        in_memory=recommender.in_memory(url=url, state=state),
        render=form[0],
        media_type=form[1],
    )


ArticleId = Annotated[str, Path(description="the article's id in the catalog")]
PageUrl = Annotated[str, Query(min_length=1, max_length=4_000, description="the article's URL")]


@router.get(
    "/articles/{article_id:path}/blocks",
    response_model=BlocksResponse,
    responses={**ERRORS, 304: {"description": "not modified (If-None-Match)"}},
    summary="Both blocks of an article page: related, and more in the article's section",
    openapi_extra=openapi_parameters(),
)
async def article_blocks(request: Request, listing: ListParams, article_id: ArticleId) -> Response:
    return await _blocks_by_id(request, listing, article_id, _JSON)


@router.get(
    "/articles/{article_id:path}/blocks.html",
    response_class=HTMLResponse,
    responses=HTML_ERRORS,
    summary="Both blocks of an article page as an HTML fragment (the widget's markup)",
    openapi_extra=HTML_PARAMETERS,
)
async def article_blocks_html(request: Request, listing: ListParams, article_id: ArticleId) -> Response:
    return await _blocks_by_id(request, listing, article_id, _html(request))


@router.get(
    "/related",
    response_model=BlocksResponse,
    responses={**ERRORS, 304: {"description": "not modified (If-None-Match)"}},
    summary="Both blocks of an article page, finding the article by its URL",
    openapi_extra=openapi_parameters(),
)
async def blocks_by_url(request: Request, listing: ListParams, url: PageUrl) -> Response:
    return await _blocks_by_url(request, listing, url, _JSON)


@router.get(
    "/related.html",
    response_class=HTMLResponse,
    responses=HTML_ERRORS,
    summary="Both blocks of an article page as an HTML fragment, finding the article by its URL",
    openapi_extra=HTML_PARAMETERS,
)
async def blocks_by_url_html(request: Request, listing: ListParams, url: PageUrl) -> Response:
    return await _blocks_by_url(request, listing, url, _html(request))


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
        language=draft.language,
    )
    blocks = recommender.blocks_for_draft(article, query)
    return json_response(blocks_body(None, recommender.index.version, blocks))
