"""The request parameters every list endpoint shares, turned into one validated RelatedQuery.

They are parsed from the query string rather than declared one by one as FastAPI parameters:
FastAPI's per-parameter machinery cost about 0.2 ms per request for these fifteen (py-spy under wrk),
as much as a fifth of a whole related list. `PARAMS` (recsys/serving/query.py, beside RelatedQuery)
is the one description of them: the parser reads it, and so do the OpenAPI document
(`openapi_parameters`) and `recsys related`'s options, so none of them can drift apart. A bad value
is a 422 with the one error body, naming the parameter and never echoing the value.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import Depends, Request

from recsys.serving.query import PARAMS, Param, RelatedQuery, parse_query
from recsys.serving.recommend import Recommender
from recsys.settings import Settings
from service.deps import state_of
from service.state import ServiceState

__all__ = [
    "PARAMS",
    "ListParams",
    "Listing",
    "Param",
    "QueryParams",
    "aware",
    "listing",
    "openapi_parameters",
    "parse_query",
    "related_query",
]


def aware(moment: datetime | None) -> datetime | None:
    return moment.replace(tzinfo=UTC) if moment is not None and moment.tzinfo is None else moment


def openapi_parameters() -> dict[str, Any]:
    """`openapi_extra` for a route that takes the list parameters."""
    return {"parameters": [param.openapi() for param in PARAMS]}


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
