"""The endpoints. Handlers are plain functions (run in the threadpool): FAISS and SQLite calls block."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request, Response

from recsys.errors import IndexMissing
from recsys.ranking import Recommendation
from recsys.recommend import Recommender
from service.auth import AdminKey
from service.caching import not_modified
from service.params import QueryParams
from service.reload import reload_if_changed
from service.schemas import ErrorBody, Health, RelatedItem, RelatedResponse, ReloadResponse

router = APIRouter()


def get_recommender(request: Request) -> Recommender:
    state = request.app.state.recsys
    if state.recommender is None:
        raise IndexMissing(state.index_error or "no index loaded")
    return state.recommender  # type: ignore[no-any-return]


def item(rec: Recommendation) -> RelatedItem:
    """One listed story as the API shows it (shared by every list endpoint)."""
    article = rec.article
    return RelatedItem(
        id=article.id,
        url=article.url,
        title=article.title,
        section=article.section,
        published_at=article.published_at,
        score=round(rec.score, 6),
        reason=rec.reason,
    )


@router.get(
    "/articles/{article_id:path}/related",
    response_model=RelatedResponse,
    responses={
        404: {"model": ErrorBody},
        422: {"model": ErrorBody},
        503: {"model": ErrorBody},
        304: {"description": "not modified (If-None-Match)"},
    },
    summary="Related stories for an article",
)
def related(
    request: Request,
    response: Response,
    recommender: Annotated[Recommender, Depends(get_recommender)],
    article_id: Annotated[str, Path(description="the article's id in the catalog")],
    query: QueryParams,
) -> RelatedResponse | Response:
    if (cached := not_modified(request, response, recommender)) is not None:
        return cached
    ranked = recommender.related_list(article_id, query)
    return RelatedResponse(
        article_id=article_id,
        index_version=recommender.index.version,
        items=[item(i) for i in ranked.items],
        collapsed=ranked.collapsed,
        next_cursor=ranked.next_cursor,
    )


@router.get("/health", response_model=Health, responses={503: {"model": Health}}, summary="Service health")
def health(request: Request, response: Response) -> Health:
    state = request.app.state.recsys
    recommender: Recommender | None = state.recommender
    manifest = recommender.index.manifest if recommender else None
    if recommender is None:
        response.status_code = 503
    return Health(
        status="ok" if recommender else "unavailable",
        index_version=manifest.version if manifest else None,
        index_articles=manifest.count if manifest else None,
        index_built_at=manifest.built_at if manifest else None,
        catalog_articles=state.catalog_count(),
        model=state.encoder.name,
        error=state.index_error,
        current_version=state.store.current_version(),
        reload_error=state.reload_error,
    )


@router.get("/metrics", summary="Prometheus metrics", response_class=Response)
def metrics(request: Request) -> Response:
    return request.app.state.recsys.metrics.render()  # type: ignore[no-any-return]


# -- index lifecycle: hot reload ---------------------------------------------------------------------


@router.post(
    "/admin/reload",
    response_model=ReloadResponse,
    responses={409: {"model": ReloadResponse}, 401: {"model": ErrorBody}, 403: {"model": ErrorBody}},
    dependencies=[AdminKey],
    summary="Serve the current index version now (needs X-API-Key)",
)
def admin_reload(request: Request, response: Response) -> ReloadResponse:
    """Loads the version CURRENT names, if it is not the one served, and swaps to it. A version that
    fails its checks is refused (HTTP 409, with the reason) and the old one keeps serving."""
    outcome = reload_if_changed(request.app.state.recsys, retry_refused=True)
    if not outcome.up_to_date:
        response.status_code = 409
    return ReloadResponse(
        served_version=outcome.served_version,
        current_version=outcome.current_version,
        reloaded=outcome.reloaded,
        error=outcome.error,
    )
