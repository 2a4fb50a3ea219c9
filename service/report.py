"""The admin click report: `GET /admin/report` (JSON) and `GET /admin/report.html` (tables, plots).

Both are behind the API key (service/auth.py).

The counters are read from the catalog on the admin request only: no public request path reads them
(the events endpoint only adds to them, off the request, service/events.py). The numbers and their
layout are recsys/evaluation/clicks.py's and click_report.py's, the same as `recsys report`'s."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from fastapi.responses import HTMLResponse

from recsys.catalog.feedback import read_counts
from recsys.evaluation import click_report
from service.auth import AdminKey
from service.deps import State
from service.schemas import ErrorBody, json_error

router = APIRouter(
    prefix="/admin",
    tags=["admin"],
    dependencies=[AdminKey],
    responses={401: {"model": ErrorBody}, 403: {"model": ErrorBody}, 422: {"model": ErrorBody}},
)

Since = Annotated[str | None, Query(description="first day counted, YYYY-MM-DD (UTC)")]
Until = Annotated[str | None, Query(description="last day counted, YYYY-MM-DD (UTC), inclusive")]
ExperimentName = Annotated[
    str | None,
    Query(max_length=128, description="only this experiment's counts (empty: outside experiments)"),
]
DesignName = Annotated[
    str | None, Query(pattern="^(ab|interleave)$", description="how the experiment's arms were served")
]
Bootstrap = Annotated[int, Query(ge=0, le=10_000, description="A/B: bootstrap resamples (0: none)")]


def _summary(
    state: State,
    since: Since = None,
    until: Until = None,
    experiment: ExperimentName = None,
    design: DesignName = None,
    bootstrap: Bootstrap = 0,
) -> dict[str, Any]:
    """Both routes' report, from their query parameters (a plain function: FastAPI runs it in its
    thread pool, so the catalog read never blocks the event loop)."""
    first, last = click_report.parse_day(since, "since"), click_report.parse_day(until, "until")
    click_report.check_range(first, last)
    catalog = state.query_side.catalog
    rows = read_counts(catalog, since=first, until=last, experiment=experiment)
    designs = click_report.designs_for(catalog, experiment, design)
    return click_report.build(
        rows, since=first, until=last, experiment=experiment, designs=designs, bootstrap=bootstrap
    )


Report = Annotated[dict[str, Any], Depends(_summary)]


@router.get("/report", summary="Impressions, clicks and CTR by block, position, section, day and arm")
def report(summary: Report) -> dict[str, Any]:
    return summary


@router.get(
    "/report.html",
    response_class=HTMLResponse,
    responses={
        200: {"content": {"text/html": {"schema": {"type": "string"}}}, "description": "the page"},
        401: json_error("no API key"),
        403: json_error("a wrong API key"),
        422: json_error("invalid parameters"),
    },
    summary="The click report as an HTML page",
)
def report_page(summary: Report) -> HTMLResponse:
    images = (
        {name: click_report.png(f) for name, f in click_report.figures(summary).items()}
        if click_report.can_plot()
        else {}
    )
    return HTMLResponse(click_report.format_html(summary, images))
