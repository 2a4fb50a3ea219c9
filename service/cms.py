"""The CMS over HTTP (docs/cms.md): upsert, retract and delete articles, and start and follow builds.
Every endpoint requires the API key (service/auth.py).

Articles are validated by the functions `recsys ingest` uses (recsys/articles.py, recsys/catalog/ingest.py),
so a record is refused for the same reasons and in the same words; the HTTP API also refuses fields
the record format does not have. A batch is imported as `recsys ingest` imports a file: bad lines
are skipped and reported by number, the rest written (`?strict=true`: all or nothing, as `--strict`).
Builds run in a background thread under the build lock (service/builds.py).

A write is applied to this worker's live state before its response returns (`refresh_live`): the
editor who retracts sees the article gone on the next request. Other workers and replicas follow
within the change poll (RECSYS_CHANGE_POLL_SECONDS, service/state.py).
"""

from __future__ import annotations

import io
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Path, Query, Request, Response, status
from fastapi.concurrency import run_in_threadpool

from recsys.articles import (
    Article,
    InvalidArticle,
    decode_json,
    jsonl_records,
    refuse_unknown_fields,
    validate_record,
)
from recsys.catalog.ingest import ImportReport, import_records, upsert_article
from recsys.catalog.store import StoredArticle as Stored
from recsys.errors import BuildLocked, InvalidInput
from service.auth import AdminKey
from service.builds import Builder, BuildStatus
from service.cms_schemas import (
    ArticleChange,
    ArticleRecord,
    BatchReport,
    BuildsList,
    CatalogArticle,
    LineError,
)
from service.deps import State
from service.errors import error_response
from service.schemas import ErrorBody
from service.state import ServiceState

router = APIRouter(prefix="/admin", tags=["cms"], dependencies=[AdminKey])

# How errors name a request body, where `recsys ingest` names the file: "body:3: field 'url': ...".
SOURCE = "body"
JSON_TYPES = ("application/json",)
JSONL_TYPES = ("application/x-ndjson", "application/jsonl", "application/x-jsonlines")
ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorBody} for code in (400, 401, 403, 404, 413, 415, 422, 503)
}
ArticleId = Annotated[str, Path(description="the article's id in the catalog")]


def _content_type(request: Request) -> str:
    return request.headers.get("content-type", "").split(";")[0].strip().lower()


async def _text(request: Request, accepted: tuple[str, ...]) -> str:
    """The body as text, after checking its declared type (415) and that it is UTF-8 (400)."""
    if _content_type(request) not in accepted:
        raise HTTPException(
            status.HTTP_415_UNSUPPORTED_MEDIA_TYPE, f"send the body as Content-Type: {' or '.join(accepted)}"
        )
    raw = await request.body()  # bounded by RECSYS_MAX_BODY_BYTES (413)
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, "the request body is not UTF-8 text") from exc


def _stored(state: ServiceState, stored: Stored, change: str | None = None) -> CatalogArticle:
    recommender = state.recommender
    manifest = recommender.index.manifest if recommender is not None else None
    article = stored.article
    return CatalogArticle(
        id=stored.id,
        key=stored.key,
        status=stored.status,
        url=article.url,
        title=article.title,
        section=article.section,
        tags=list(article.tags),
        published_at=article.published_at,
        related=list(article.related),
        image_url=article.image_url,
        author=article.author,
        language=article.language,
        content_hash=stored.content_hash,
        updated_at=stored.updated_at,
        indexed=recommender is not None and recommender.snapshot.row_of_key(stored.key) is not None,
        index_version=manifest.version if manifest else None,
        index_built_at=manifest.built_at if manifest else None,
        change=change,  # type: ignore[arg-type]
    )


# -- articles ---------------------------------------------------------------------------------------


def _one_record(text: str, article_id: str) -> Article:
    """The article a PUT body describes, validated as `recsys ingest` validates a line; the id in
    the path fills a missing one and must match a given one. Errors name the field, as ingest does."""
    try:
        record = decode_json(text, SOURCE, 1)
        if isinstance(record, dict) and record.get("id") in (None, ""):
            record = {**record, "id": article_id}
        article = refuse_unknown_fields(validate_record(record, SOURCE, 1), SOURCE, 1)
    except InvalidArticle as exc:
        raise InvalidInput(f"field '{exc.field}': {exc.message}") from exc
    if article.id != article_id:
        raise InvalidInput(f"field 'id': {article.id[:80]!r} differs from the id in the path")
    return article


@router.put(
    "/articles/{article_id:path}",
    response_model=CatalogArticle,
    status_code=status.HTTP_200_OK,
    responses={**ERRORS, 201: {"model": CatalogArticle, "description": "created"}},
    summary="Create or update one article (200 updated or unchanged, 201 created)",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": ArticleRecord.model_json_schema()}},
        }
    },
)
async def put_article(
    request: Request, state: State, article_id: ArticleId, response: Response
) -> CatalogArticle:
    """Validated as `recsys ingest` validates a record; written at once. The article has its own
    related list from now on (embedded on first view); it enters other articles' lists with the next
    build (`POST /admin/builds`)."""
    text = await _text(request, JSON_TYPES)
    catalog = state.query_side.catalog

    def write() -> tuple[str, Stored]:  # parsing a megabyte included: off the event loop
        article = _one_record(text, article_id)
        change = upsert_article(catalog, article, detect_language=state.settings.detect_language)
        state.refresh_live()
        return change, catalog.get(article.id)

    change, stored = await run_in_threadpool(write)
    if change == "created":
        response.status_code = status.HTTP_201_CREATED
    return _stored(state, stored, change)


def _report(report: ImportReport) -> BatchReport:
    return BatchReport(
        read=report.read,
        created=report.counts.inserted,
        updated=report.counts.updated,
        unchanged=report.counts.unchanged,
        skipped=report.skipped,
        rejected_lines=report.rejected_lines,
        errors=[
            LineError(line=p.line, field=p.field, message=p.message, error=str(p)) for p in report.problems
        ],
    )


@router.post(
    "/articles",
    response_model=BatchReport,
    responses=ERRORS,
    summary="Create or update articles from JSON Lines, one record per line",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/x-ndjson": {
                    "schema": {"type": "string", "description": "one JSON article record per line"}
                }
            },
        }
    },
)
async def post_articles(
    request: Request,
    state: State,
    strict: Annotated[
        bool, Query(description="refuse the whole batch at the first bad line (nothing is written)")
    ] = False,
) -> BatchReport:
    """As `recsys ingest FILE` (`?strict=true`: as `--strict`): bad lines are skipped, the others
    written, and the answer names every skipped line. 422 when no line could be written."""
    text = await _text(request, JSONL_TYPES)
    catalog = state.query_side.catalog

    def write() -> ImportReport:
        # StringIO with newline="" splits lines exactly as reading the same bytes from a file does.
        records = jsonl_records(io.StringIO(text, newline=""), SOURCE, unknown_fields=False)
        try:
            return import_records(
                catalog, records, SOURCE, strict=strict, detect_language=state.settings.detect_language
            )
        finally:
            state.refresh_live()  # what was committed, even when a later batch failed

    report = await run_in_threadpool(write)
    if report.skipped == report.read:
        raise InvalidInput(f"no line was written ({report.skipped} refused): {'; '.join(report.errors[:5])}")
    return _report(report)


@router.get(
    "/articles/{article_id:path}",
    response_model=CatalogArticle,
    responses=ERRORS,
    summary="An article's record and status, and whether the served index holds it",
)
def get_article(state: State, article_id: ArticleId) -> CatalogArticle:
    return _stored(state, state.query_side.catalog.get(article_id))


@router.post(
    "/articles/{article_id:path}/retract",
    response_model=ArticleChange,
    responses=ERRORS,
    summary="Retract an article: it leaves every list at once (as `recsys retract`)",
)
def retract_article(state: State, article_id: ArticleId) -> ArticleChange:
    changed = state.query_side.catalog.set_status(article_id, "retracted")
    state.refresh_live()
    return ArticleChange(id=article_id, status="retracted", changed=changed)


@router.delete(
    "/articles/{article_id:path}",
    response_model=ArticleChange,
    responses=ERRORS,
    summary="Delete an article: it leaves every list at once; the next build drops it (as `recsys delete`)",
)
def delete_article(state: State, article_id: ArticleId) -> ArticleChange:
    state.query_side.catalog.delete(article_id)
    state.refresh_live()
    return ArticleChange(id=article_id, status="deleted", changed=True)


# -- builds -----------------------------------------------------------------------------------------


def _builder(state: ServiceState) -> Builder:
    if state.builder is None:  # set by the lifespan; absent only in an app that never started
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, "builds are not available yet")
    return state.builder


def _location(build: BuildStatus) -> str:
    return f"/admin/builds/{build.id}"


@router.post(
    "/builds",
    response_model=BuildStatus,
    status_code=status.HTTP_202_ACCEPTED,
    responses={**ERRORS, 409: {"model": ErrorBody, "description": "build_locked: another build is running"}},
    summary="Start an incremental build and publish (one at a time: 409 while one runs)",
)
def start_build(
    state: State,
    response: Response,
    full: Annotated[bool, Query(description="recompute everything, reuse nothing (as --full)")] = False,
) -> Response | BuildStatus:
    """Accepted builds run in the background; follow them at the Location given. When one publishes,
    this worker serves the new version before the status says succeeded; the others within
    RECSYS_RELOAD_INTERVAL."""
    builder = _builder(state)
    try:
        build = builder.start(full=full, generation=state.query_side.catalog.generation())
    except BuildLocked as exc:
        running = builder.log.latest()
        headers = {"Location": _location(running)} if running is not None and running.active else None
        return error_response(409, "build_locked", state.public(str(exc)) or "", headers)
    response.headers["Location"] = _location(build)
    return build


@router.get("/builds", response_model=BuildsList, responses=ERRORS, summary="The latest builds, newest first")
def list_builds(
    state: State, limit: Annotated[int, Query(ge=1, le=100, description="at most this many")] = 20
) -> BuildsList:
    return BuildsList(builds=_builder(state).log.recent(limit))


@router.get(
    "/builds/latest", response_model=BuildStatus, responses=ERRORS, summary="The status of the latest build"
)
def latest_build(state: State) -> BuildStatus:
    build = _builder(state).log.latest()
    if build is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no build has been started from the service yet")
    return build


@router.get(
    "/builds/{build_id}", response_model=BuildStatus, responses=ERRORS, summary="The status of a build"
)
def get_build(
    state: State, build_id: Annotated[str, Path(description="as POST /admin/builds gave it")]
) -> BuildStatus:
    build = _builder(state).log.get(build_id)
    if build is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no build with id {build_id[:80]!r}")
    return build
