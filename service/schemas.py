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


class ErrorBody(BaseModel):
    error: str = Field(description="machine-readable kind, e.g. 'not_found'")
    detail: str
