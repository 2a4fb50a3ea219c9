"""Request and response models of the CMS endpoints (service/cms.py, docs/cms.md). The article record
itself is validated by recsys/articles.py, as `recsys ingest` validates it; `ArticleRecord` only
describes it in the OpenAPI document."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from service.builds import BuildStatus


class ArticleRecord(BaseModel):
    """One article, in the fields of the input files (docs/index-lifecycle.md, Input files)."""

    model_config = ConfigDict(extra="forbid")

    id: str | None = Field(default=None, description="must equal the id in the path; omitted: taken from it")
    url: str | None = Field(default=None, description="http(s) URL or absolute path; unique")
    title: str | None = Field(default=None, description="a title or a body is required")
    body: str | None = None
    section: str | None = None
    tags: list[str] | None = None
    published_at: str | None = Field(default=None, description="ISO-8601; no zone = UTC; years 1800..2200")
    related: list[str] | None = Field(default=None, description="ids of curated related articles")
    status: Literal["published", "retracted"] | None = Field(
        default=None, description="omitted: a new article is published, an existing one keeps its status"
    )
    image_url: str | None = Field(default=None, description="http(s) URL of the story's picture")
    author: str | None = Field(default=None, description="the byline (at most 200 characters)")
    language: str | None = Field(
        default=None,
        description="BCP 47 tag (en, pt-BR); omitted: detected from the text where detection is on",
    )


class CatalogArticle(BaseModel):
    """An article as the catalog holds it (without its body), and whether the served index has it."""

    id: str
    key: int = Field(description="the catalog's integer key (never reused)")
    status: Literal["published", "retracted"]
    url: str | None
    title: str | None
    section: str | None
    tags: list[str]
    published_at: str | None
    related: list[str]
    image_url: str | None
    author: str | None
    language: str | None = Field(description="BCP 47 tag, given or detected; null: unknown")
    content_hash: str = Field(description="SHA-256 of the embedded text (title and body)")
    updated_at: str = Field(description="last change in the catalog (ISO-8601 UTC)")
    indexed: bool = Field(description="the served index version holds the article (as it was then)")
    index_version: str | None = Field(description="the served index version")
    index_built_at: str | None = Field(description="when it was built: changes after it wait for a build")
    change: Literal["created", "updated", "unchanged"] | None = Field(
        default=None, description="what this request did (upserts only)"
    )


class ArticleChange(BaseModel):
    id: str
    status: Literal["retracted", "deleted"]
    changed: bool = Field(description="false: it was retracted already")


class LineError(BaseModel):
    line: int = Field(description="line number in the body, from 1 (blank lines count)")
    field: str = Field(description="the field at fault; <json> for a line that is not JSON")
    message: str
    error: str = Field(description="the whole message, as `recsys ingest` prints it")


class BatchReport(BaseModel):
    read: int = Field(description="records read (non-blank lines)")
    created: int
    updated: int
    unchanged: int
    skipped: int = Field(description="lines refused; nothing of them was written")
    rejected_lines: list[int] = Field(description="the line number of every refused line")
    errors: list[LineError] = Field(description="the first 20 refused lines, with why")


class BuildsList(BaseModel):
    builds: list[BuildStatus] = Field(description="newest first")
