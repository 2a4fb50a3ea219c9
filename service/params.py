"""The request parameters every list endpoint shares, turned into one validated RelatedQuery."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import Depends, Query, Request

from recsys.query import MAX_CURSOR_ITEMS, MAX_CURSOR_LENGTH, MAX_EXCLUDE, MAX_LIMIT, RelatedQuery
from service.deps import state_of

CURSOR_DESCRIPTION = (
    "next_cursor of the previous page, passed back unchanged. Format (version 1): unpadded URL-safe "
    'base64 of the compact JSON {"v":1,"seen":[K,...]}, each K the catalog key of an item already '
    f"returned (an integer, 0 <= K < 2^31, no leading zeros; at most {MAX_CURSOR_ITEMS} keys). Any other "
    "value is a 422."
)


def aware(moment: datetime | None) -> datetime | None:
    return moment.replace(tzinfo=UTC) if moment is not None and moment.tzinfo is None else moment


async def related_query(
    request: Request,
    limit: Annotated[
        int | None, Query(ge=1, le=MAX_LIMIT, description="related items (default RECSYS_DEFAULT_LIMIT)")
    ] = None,
    section_limit: Annotated[
        int | None,
        Query(ge=0, le=MAX_LIMIT, description="more_in_section items (default RECSYS_DEFAULT_SECTION_LIMIT)"),
    ] = None,
    cursor: Annotated[str | None, Query(max_length=MAX_CURSOR_LENGTH, description=CURSOR_DESCRIPTION)] = None,
    exclude: Annotated[
        list[str], Query(max_length=MAX_EXCLUDE, description="ids or URLs the page already shows")
    ] = [],  # noqa: B006 - FastAPI copies query defaults
    section: Annotated[list[str], Query(description="only these sections")] = [],  # noqa: B006
    exclude_section: Annotated[list[str], Query(description="never these sections")] = [],  # noqa: B006
    tag: Annotated[list[str], Query(description="only items with one of these tags")] = [],  # noqa: B006
    exclude_tag: Annotated[list[str], Query(description="never items with these tags")] = [],  # noqa: B006
    since: Annotated[datetime | None, Query(description="published at or after (ISO-8601)")] = None,
    until: Annotated[datetime | None, Query(description="published at or before (ISO-8601)")] = None,
    max_age_days: Annotated[
        float | None, Query(gt=0, le=36_500, description="at most this many days older than the article")
    ] = None,
    background: Annotated[bool, Query(description="only stories published before the article")] = False,
    freshness: Annotated[
        bool | None,
        Query(description="blend recency into the score (default: off for related, on for more_in_section)"),
    ] = None,
    half_life_days: Annotated[
        float | None, Query(gt=0, le=36_500, description="freshness half-life (default from settings)")
    ] = None,
) -> RelatedQuery:
    settings = state_of(request).settings
    return RelatedQuery(
        limit=limit or settings.default_limit,
        section_limit=settings.default_section_limit if section_limit is None else section_limit,
        cursor=cursor,
        exclude=tuple(exclude),
        sections=tuple(section),
        exclude_sections=tuple(exclude_section),
        tags=tuple(tag),
        exclude_tags=tuple(exclude_tag),
        since=aware(since),
        until=aware(until),
        max_age_days=max_age_days,
        background=background,
        freshness=freshness,
        half_life_days=half_life_days,
    )


QueryParams = Annotated[RelatedQuery, Depends(related_query)]
