"""Response models of the public API (they also document it in /docs)."""

from __future__ import annotations

from pydantic import BaseModel, Field


class RelatedItem(BaseModel):
    id: str
    url: str | None
    title: str | None
    section: str | None
    published_at: str | None = Field(description="ISO-8601 UTC")
    score: float = Field(description="cosine similarity to the article, -1..1")
    reason: str = Field(description="why the item is listed, e.g. 'similar'")


class RelatedResponse(BaseModel):
    article_id: str
    index_version: str
    items: list[RelatedItem]


class Health(BaseModel):
    status: str = Field(description="'ok', or 'unavailable' when no index could be loaded")
    index_version: str | None
    index_articles: int | None
    index_built_at: str | None
    catalog_articles: int
    model: str
    error: str | None = None
    # Hot reload: the version CURRENT points at, and why it is not served when it is not.
    current_version: str | None = None
    reload_error: str | None = None


class ReloadResponse(BaseModel):
    served_version: str | None = Field(description="the index version answering requests now")
    current_version: str | None = Field(description="the version the CURRENT pointer names")
    reloaded: bool = Field(description="whether this call swapped versions")
    error: str | None = Field(description="why the current version was refused (HTTP 409)")


class ErrorBody(BaseModel):
    error: str = Field(description="machine-readable kind, e.g. 'not_found'")
    detail: str
