"""The request parameters every list endpoint shares, turned into one validated RelatedQuery.

They are parsed here from the query string rather than declared one by one as FastAPI parameters:
FastAPI's per-parameter machinery cost about 0.2 ms per request for these fifteen (py-spy under wrk),
as much as a fifth of a whole related list. `PARAMS` is the one description of them: the parser
reads it, and so does the OpenAPI document (`openapi_parameters`), so the two cannot drift apart.
A bad value is a 422 with the one error body, naming the parameter and never echoing the value.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import Depends, Request

from recsys.articles import parse_timestamp
from recsys.errors import InvalidInput
from recsys.serving.query import MAX_CURSOR_ITEMS, MAX_CURSOR_LENGTH, MAX_EXCLUDE, MAX_LIMIT, RelatedQuery
from recsys.serving.recommend import Recommender
from recsys.settings import Settings
from service.deps import state_of
from service.state import ServiceState

CURSOR_DESCRIPTION = (
    "next_cursor of the previous page, passed back unchanged. Format (version 1): unpadded URL-safe "
    'base64 of the compact JSON {"v":1,"seen":[K,...]}, each K the catalog key of an item already '
    f"returned (an integer, 0 <= K < 2^31, no leading zeros; at most {MAX_CURSOR_ITEMS} keys). Any other "
    "value is a 422."
)
MAX_VALUE_LENGTH = 4_000
_TRUE = {"true", "1", "yes", "on"}
_FALSE = {"false", "0", "no", "off"}


def aware(moment: datetime | None) -> datetime | None:
    return moment.replace(tzinfo=UTC) if moment is not None and moment.tzinfo is None else moment


@dataclass(frozen=True)
class Param:
    name: str
    kind: str  # integer | number | boolean | string | date-time
    description: str
    many: bool = False
    minimum: float | None = None
    maximum: float | None = None
    exclusive_minimum: bool = False
    max_items: int | None = None
    max_length: int = MAX_VALUE_LENGTH
    min_length: int = 0

    def openapi(self) -> dict[str, Any]:
        schema: dict[str, Any] = {"type": "string" if self.kind == "date-time" else self.kind}
        if self.kind == "date-time":
            schema["format"] = "date-time"
        if self.kind == "string":
            schema["maxLength"] = self.max_length
            if self.min_length:
                schema["minLength"] = self.min_length
        if self.minimum is not None:
            schema["exclusiveMinimum" if self.exclusive_minimum else "minimum"] = self.minimum
        if self.maximum is not None:
            schema["maximum"] = self.maximum
        if self.many:
            schema = {"type": "array", "items": schema}
            if self.max_items is not None:
                schema["maxItems"] = self.max_items
        return {
            "name": self.name,
            "in": "query",
            "required": False,
            "description": self.description,
            "schema": schema,
            **({"style": "form", "explode": True} if self.many else {}),
        }

    def parse(self, raw: str) -> Any:
        if len(raw) > self.max_length:
            raise InvalidInput(f"query.{self.name}: longer than {self.max_length} characters")
        if len(raw) < self.min_length:
            raise InvalidInput(f"query.{self.name}: must not be empty")
        value = _PARSERS[self.kind](raw, self.name)
        if isinstance(value, int | float) and not isinstance(value, bool):
            low_ok = self.minimum is None or (
                value > self.minimum if self.exclusive_minimum else value >= self.minimum
            )
            if not low_ok or (self.maximum is not None and value > self.maximum):
                low = "above" if self.exclusive_minimum else "at least"
                raise InvalidInput(
                    f"query.{self.name}: must be {low} {self.minimum} and at most {self.maximum}"
                )
        return value


def _integer(raw: str, name: str) -> int:
    try:
        return int(raw.strip(), 10)
    except ValueError:
        raise InvalidInput(f"query.{name}: not an integer") from None


def _number(raw: str, name: str) -> float:
    try:
        value = float(raw.strip())
    except ValueError:
        raise InvalidInput(f"query.{name}: not a number") from None
    if not math.isfinite(value):
        raise InvalidInput(f"query.{name}: not a finite number")
    return value


def _boolean(raw: str, name: str) -> bool:
    text = raw.strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise InvalidInput(f"query.{name}: not a boolean (true or false)")


def _string(raw: str, name: str) -> str:
    return raw


def _moment(raw: str, name: str) -> datetime:
    try:
        return parse_timestamp(raw)
    except ValueError:
        raise InvalidInput(f"query.{name}: not an ISO-8601 date or time") from None


_PARSERS: dict[str, Callable[[str, str], Any]] = {
    "integer": _integer,
    "number": _number,
    "boolean": _boolean,
    "string": _string,
    "date-time": _moment,
}

PARAMS: tuple[Param, ...] = (
    Param("limit", "integer", "related items (default RECSYS_DEFAULT_LIMIT)", minimum=1, maximum=MAX_LIMIT),
    Param(
        "section_limit",
        "integer",
        "more_in_section items (default RECSYS_DEFAULT_SECTION_LIMIT)",
        minimum=0,
        maximum=MAX_LIMIT,
    ),
    Param("cursor", "string", CURSOR_DESCRIPTION, max_length=MAX_CURSOR_LENGTH),
    Param(
        "exclude",
        "string",
        "ids or URLs the page already shows",
        many=True,
        max_items=MAX_EXCLUDE,
        min_length=1,
    ),
    Param("section", "string", "only these sections", many=True, min_length=1),
    Param("exclude_section", "string", "never these sections", many=True, min_length=1),
    Param("author", "string", "only items by these authors (the byline, exactly)", many=True, min_length=1),
    Param("exclude_author", "string", "never items by these authors", many=True, min_length=1),
    Param("tag", "string", "only items with one of these tags", many=True, min_length=1),
    Param("exclude_tag", "string", "never items with these tags", many=True, min_length=1),
    Param("since", "date-time", "published at or after (ISO-8601)"),
    Param("until", "date-time", "published at or before (ISO-8601)"),
    Param(
        "max_age_days",
        "number",
        "at most this many days older than the article",
        minimum=0,
        maximum=36_500,
        exclusive_minimum=True,
    ),
    Param("background", "boolean", "only stories published before the article"),
    Param(
        "freshness",
        "boolean",
        "blend recency into the score (default: off for related, on for more_in_section)",
    ),
    Param(
        "half_life_days",
        "number",
        "freshness half-life (default from settings)",
        minimum=0,
        maximum=36_500,
        exclusive_minimum=True,
    ),
)
_BY_NAME = {param.name: param for param in PARAMS}


def openapi_parameters() -> dict[str, Any]:
    """`openapi_extra` for a route that takes the list parameters."""
    return {"parameters": [param.openapi() for param in PARAMS]}


def parse_query(items: list[tuple[str, str]], default_limit: int, default_section_limit: int) -> RelatedQuery:
    """A RelatedQuery from the query string's (name, value) pairs; unknown names are ignored."""
    values: dict[str, Any] = {}
    lists: dict[str, list[Any]] = {}
    for name, raw in items:
        param = _BY_NAME.get(name)
        if param is None:
            continue
        if param.many:
            found = lists.setdefault(name, [])
            if param.max_items is not None and len(found) >= param.max_items:
                raise InvalidInput(f"query.{name}: at most {param.max_items} values")
            found.append(param.parse(raw))
        else:
            values[name] = param.parse(raw)  # the last one wins, as in FastAPI
    limit = values.get("limit")
    section_limit = values.get("section_limit")
    return RelatedQuery(
        limit=default_limit if limit is None else limit,
        section_limit=default_section_limit if section_limit is None else section_limit,
        cursor=values.get("cursor"),
        exclude=tuple(lists.get("exclude", ())),
        sections=tuple(lists.get("section", ())),
        exclude_sections=tuple(lists.get("exclude_section", ())),
        tags=tuple(lists.get("tag", ())),
        exclude_tags=tuple(lists.get("exclude_tag", ())),
        authors=tuple(lists.get("author", ())),
        exclude_authors=tuple(lists.get("exclude_author", ())),
        since=aware(values.get("since")),
        until=aware(values.get("until")),
        max_age_days=values.get("max_age_days"),
        background=bool(values.get("background", False)),
        freshness=values.get("freshness"),
        half_life_days=values.get("half_life_days"),
    )


async def related_query(request: Request) -> RelatedQuery:
    settings = state_of(request).settings
    return parse_query(
        request.query_params.multi_items(), settings.default_limit, settings.default_section_limit
    )


QueryParams = Annotated[RelatedQuery, Depends(related_query)]


@dataclass(frozen=True)
class Listing:
    """What a public list endpoint needs, from one dependency: each dependency FastAPI solves costs a
    few dozen microseconds, and these endpoints answer every page view."""

    state: ServiceState
    recommender: Recommender
    query: RelatedQuery

    @property
    def settings(self) -> Settings:
        return self.state.settings


async def listing(request: Request) -> Listing:
    state = state_of(request)
    recommender = state.serving()  # no index: 503 before anything else
    settings = state.settings
    query = parse_query(
        request.query_params.multi_items(), settings.default_limit, settings.default_section_limit
    )
    return Listing(state, recommender, query)


ListParams = Annotated[Listing, Depends(listing)]
