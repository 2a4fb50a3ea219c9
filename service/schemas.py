"""Response models of the public API (they also document it in /docs)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from recsys.articles import UNENCODABLE, encodable, plausible_timestamp, to_utc
from recsys.language import MAX_TAG_LENGTH, normalise_tag


def _encodable(value: str) -> str:
    if not encodable(value):
        raise ValueError(UNENCODABLE)
    return value


# Text a client sends. Pydantic refuses a lone surrogate in some places but lets it through in others
# (list items, optional fields), where it would fail later, in SQLite or in the JSON answer: a 422 here.
Text = Annotated[str, AfterValidator(_encodable)]

# Times a client sends, in UTC: a 422 near year 1 or 9999 where an offset would overflow, and for a
# publication time also outside the plausible years (recsys/articles.py MIN_YEAR).
UtcTime = Annotated[datetime, AfterValidator(to_utc)]
PublicationTime = Annotated[datetime, AfterValidator(plausible_timestamp)]
# A BCP 47 tag a client sends, in canonical casing ("pt-br" -> "pt-BR"); a 422 when malformed.
LanguageTag = Annotated[str, Field(max_length=MAX_TAG_LENGTH), AfterValidator(normalise_tag)]


class RelatedItem(BaseModel):
    id: str
    url: str | None
    title: str | None
    section: str | None
    published_at: str | None = Field(description="ISO-8601 UTC")
    image_url: str | None = Field(default=None, description="the story's picture (http(s)), where known")
    author: str | None = Field(default=None, description="the byline, where known")
    language: str | None = Field(default=None, description="BCP 47 tag (given or detected), where known")
    score: float = Field(
        description="cosine similarity to the article, -1..1 (blended with freshness where that is on)"
    )
    reason: str = Field(description="why the item is listed: similar, pinned, same_section or fallback")
    arm: str | None = Field(
        default=None,
        description="under an interleaving experiment, the arm that contributed the item (related "
        "block only); absent otherwise",
    )


ARM = Field(
    default="default",
    description="the experiment arm the list was ranked with (docs/experiments.md); 'default' when "
    "no experiment applies (under interleaving, the first arm: each item names its own)",
)
EXPERIMENT = Field(default="", description="the running experiment's name; '' when none applies")


class RelatedResponse(BaseModel):
    article_id: str
    index_version: str
    arm: str = ARM
    experiment: str = EXPERIMENT
    items: list[RelatedItem]
    collapsed: int = Field(default=0, description="near-duplicates (copies, updates, corrections) left out")
    next_cursor: str | None = Field(default=None, description="pass as `cursor` for the next page")


class Health(BaseModel):
    status: str = Field(
        description="'ok'; 'stale' when the catalog cannot be reached (lists are answered from memory, "
        "HTTP 200) or the object store of index versions cannot (the versions at hand are served); "
        "'unavailable' when no index could be loaded (HTTP 503)"
    )
    index_version: str | None
    index_articles: int | None
    index_built_at: str | None
    catalog_articles: int | None = Field(
        description="articles in the catalog (refreshed at most every 5 s; the last count read while "
        "the catalog cannot be reached, null if none was)"
    )
    catalog_reachable: bool = Field(
        default=True, description="false while the change watcher cannot reach the catalog"
    )
    stale_since: str | None = Field(
        default=None,
        description="since when (UTC) the catalog could not be reached: lists show the state of then",
    )
    catalog_error: str | None = Field(default=None, description="why the catalog cannot be reached")
    versions_reachable: bool = Field(
        default=True,
        description="false while the object store of index versions (RECSYS_VERSIONS_URL) cannot be "
        "read: the replica serves the versions it has",
    )
    versions_error: str | None = Field(
        default=None,
        description="why the object store cannot be read, or why its current version was refused",
    )
    model: str
    # With HTTP 503 the body is the error body plus these fields: `error` is the kind, `detail` why.
    error: str | None = Field(default=None, description="null, or 'index_unavailable' (HTTP 503)")
    detail: str | None = Field(default=None, description="why no index could be loaded (HTTP 503)")
    # Hot reload: the version CURRENT points at, and why it is not served when it is not.
    current_version: str | None = None
    reload_error: str | None = None
    worker_pid: int = Field(
        description="process id of the worker that answered: with several workers, which one it was"
    )


class ReloadResponse(BaseModel):
    served_version: str | None = Field(description="the index version answering requests now")
    current_version: str | None = Field(description="the version the CURRENT pointer names")
    reloaded: bool = Field(description="whether this call swapped versions")
    # With HTTP 409 the body is the error body plus the fields above.
    error: str | None = Field(default=None, description="null, or 'version_refused' (HTTP 409)")
    detail: str | None = Field(default=None, description="why the current version was refused (HTTP 409)")


class ErrorBody(BaseModel):
    """The body of every 4xx and 5xx answer (service/errors.py). /health's 503 and /admin/reload's 409
    carry the same two fields beside their own (Health, ReloadResponse)."""

    error: str = Field(description="machine-readable kind, e.g. 'not_found' (docs/api.md lists them)")
    detail: str = Field(description="what went wrong, for a person; never repeats the request's input")


def json_error(description: str) -> dict[str, Any]:
    """An error answer of a route whose success is not JSON (HTML): spelled out, since with an HTML
    response class FastAPI would document a `model` as text/html."""
    schema = {"$ref": "#/components/schemas/ErrorBody"}
    return {"description": description, "content": {"application/json": {"schema": schema}}}


# The answer of a request that would run the encoder (a draft, an article not indexed yet) while every
# encoder slot is taken (RECSYS_MAX_CONCURRENT_ENCODES).
ENCODER_BUSY = {
    "model": ErrorBody,
    "description": "encoder_busy: retry after Retry-After seconds",
    "headers": {"Retry-After": {"schema": {"type": "string"}}},
}


# -- ranking: both blocks of a page, drafts, editorial overrides (issue 3) ---------------------------


class Block(BaseModel):
    items: list[RelatedItem]
    collapsed: int = Field(description="near-duplicates (copies, updates, corrections) left out")


class BlocksResponse(BaseModel):
    article_id: str | None = Field(description="the article's id; null for a draft")
    index_version: str
    arm: str = ARM
    experiment: str = EXPERIMENT
    related: Block = Field(description="nearest stories, any section")
    more_in_section: Block = Field(description="recent stories of the article's section; none in related")
    next_cursor: str | None = Field(description="pass as `cursor` for the next page of both blocks")


class Draft(BaseModel):
    """An unsaved story, as a CMS has it while it is being written.

    The encoder reads the title and the first RECSYS_RECIPE_MAX_WORDS words of the body (200 by
    default, at most 2,000), so 100,000 characters hold any lead many times over; the request body
    limit (RECSYS_MAX_BODY_BYTES) bounds the whole request on top of these.
    """

    title: Text | None = Field(default=None, max_length=2_000)
    body: Text | None = Field(default=None, max_length=100_000)
    section: Text | None = Field(default=None, max_length=200)
    tags: list[Annotated[Text, Field(max_length=200)]] = Field(default_factory=list, max_length=100)
    published_at: PublicationTime | None = Field(default=None, description="ISO-8601; default: now")
    language: LanguageTag | None = Field(
        default=None,
        description="BCP 47 tag (en, pt-BR): the list keeps to it as a saved article's would; omitted: "
        "none, and where the index is centered per language, centered under the detected one",
    )


class PinsBody(BaseModel):
    pins: list[Text] = Field(max_length=50, description="article ids, in the order to show them")


class PinsResponse(BaseModel):
    article_id: str
    pins: list[str]


class BlockBody(BaseModel):
    target: Text = Field(min_length=1, description="id of the article never to show")
    article: Text | None = Field(default=None, description="only under this article; null: everywhere")
    expires_at: UtcTime | None = Field(default=None, description="ISO-8601; null: until removed")


class ArmBody(BaseModel):
    model_config = ConfigDict(extra="forbid")  # a misspelt field is a 422, not an arm that ignores it

    name: str = Field(description="1..32 characters of a-z, 0-9, _ and -; 'default' is reserved")
    share: float | None = Field(
        default=None, description="share of the buckets (A/B; shares sum to 1; omitted: equal)"
    )
    settings: dict[str, float] = Field(
        default_factory=dict, description="ranking settings this arm changes (docs/experiments.md)"
    )
    method: str = Field(default="system", description="system, bm25, recent or random")


class ExperimentBody(BaseModel):
    """One experiment (docs/experiments.md); the rules are checked by recsys/serving/experiments.py."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(description="1..64 characters of a-z, 0-9, _ and -")
    design: str = Field(default="ab", description="ab (buckets split by share) or interleave (two arms)")
    blocks: list[str] = Field(default_factory=lambda: ["related"], description="related and/or section")
    arms: list[ArmBody]


class ExperimentResponse(BaseModel):
    experiment: ExperimentBody | None = Field(description="the running experiment; null when none runs")


class BlockEntry(BaseModel):
    target: str
    article: str | None
    expires_at: str | None
    created_at: str


class BlocksList(BaseModel):
    blocks: list[BlockEntry]
