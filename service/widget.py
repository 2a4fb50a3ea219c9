"""The widget's files, /widget.js, /widget.css and /events.js, versioned by content hash.

GET /widget.js is the script, with its stylesheet inside and the reader-events script in front of it;
GET /widget.css is the same stylesheet and GET /events.js the same events script, for pages that
include the HTML fragment instead.

While the served lists are under an experiment, /widget.js is built with its EXPERIMENT flag on (the
list requests then carry a bucket), a file of its own with its own hash: one more copy, not a change.
The widget's rule for the direction of titles is the fragment's: its right-to-left languages and
scripts are written into the script from service/fragment.py (RTL_PLACEHOLDER).
Where the service takes no events (RECSYS_EVENTS=false), the events script is built with ENABLED off,
so that pages send none.

Both are static for a given release and named by a hash of their content, which is their ETag:
- `/widget.js` is what an embed snippet names; it may be cached for an hour (WIDGET_MAX_AGE) and is
  then revalidated with If-None-Match, a 304 until the service is upgraded;
- `/widget.js?v=<hash>` (the hash the service names, as the demo page does) is that exact content,
  cacheable for a year (`immutable`); a `v` that is not the current hash gets the short lifetime, so
  an old page never pins a browser to a stale copy for a year.
"""

from __future__ import annotations

import functools
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from service.caching import client_has
from service.deps import State
from service.fragment import RTL_LANGUAGES, RTL_SCRIPTS
from service.state import ServiceState

router = APIRouter()

STATIC = Path(__file__).resolve().parent / "static"
WIDGET_MAX_AGE = 3600
VERSIONED_MAX_AGE = 365 * 86_400
CSS_PLACEHOLDER = "__RECSYS_CSS__"
EXPERIMENT_PLACEHOLDER = "__RECSYS_EXPERIMENT__"
EVENTS_PLACEHOLDER = "__RECSYS_EVENTS_ENABLED__"
RTL_PLACEHOLDER = "__RECSYS_RTL__"


@dataclass(frozen=True)
class Asset:
    body: bytes
    media_type: str

    @functools.cached_property
    def version(self) -> str:
        return hashlib.sha256(self.body).hexdigest()[:16]

    @property
    def etag(self) -> str:
        return f'"{self.version}"'


def experiment_running(state: ServiceState) -> bool:
    """Whether the served lists are under an experiment (docs/integration.md#reader-events)."""
    recommender = state.recommender
    return recommender is not None and recommender.live.current().experiment is not None


@functools.cache
def assets(experiment: bool = False, events_enabled: bool = True) -> dict[str, Asset]:
    """The widget's files, read once (per value of the flags): they are part of the release, not
    configuration."""
    css = (STATIC / "widget.css").read_text(encoding="utf-8")
    events = (STATIC / "events.js").read_text(encoding="utf-8")
    events = events.replace(EVENTS_PLACEHOLDER, json.dumps(events_enabled))
    widget = (STATIC / "widget.js").read_text(encoding="utf-8")
    rtl = {"languages": sorted(RTL_LANGUAGES), "scripts": sorted(RTL_SCRIPTS)}
    widget = (
        widget.replace(CSS_PLACEHOLDER, json.dumps(css))
        .replace(EXPERIMENT_PLACEHOLDER, json.dumps(experiment))
        .replace(RTL_PLACEHOLDER, json.dumps(rtl))
    )
    script = "text/javascript; charset=utf-8"
    return {
        "widget.js": Asset(f"{events}\n{widget}".encode(), script),
        "widget.css": Asset(css.encode("utf-8"), "text/css; charset=utf-8"),
        "events.js": Asset(events.encode("utf-8"), script),
    }


def served(state: ServiceState) -> dict[str, Asset]:
    """The copies of the widget's files the service serves now."""
    return assets(experiment_running(state), state.settings.events)


def versioned_path(name: str, state: ServiceState) -> str:
    """The path naming the copy of a widget file the service serves now, e.g. `/widget.js?v=...`."""
    return f"/{name}?v={served(state)[name].version}"


def _answer(request: Request, state: ServiceState, name: str, v: str | None) -> Response:
    asset = served(state)[name]
    max_age = VERSIONED_MAX_AGE if v == asset.version else WIDGET_MAX_AGE
    headers = {
        "ETag": asset.etag,
        "Cache-Control": f"public, max-age={max_age}" + (", immutable" if v == asset.version else ""),
        "X-Content-Type-Options": "nosniff",
    }
    if client_has(request, asset.etag) or request.headers.get("if-none-match", "").strip() == "*":
        return Response(status_code=304, headers=headers)
    return Response(asset.body, media_type=asset.media_type, headers=headers)


VersionParam = Annotated[
    str | None, Query(max_length=64, description="the content hash, for a copy cacheable for a year")
]


@router.get("/widget.js", response_class=Response, summary="The related-stories widget (script)")
async def widget_js(request: Request, state: State, v: VersionParam = None) -> Response:
    return _answer(request, state, "widget.js", v)


@router.get("/widget.css", response_class=Response, summary="The widget's stylesheet (for the HTML fragment)")
async def widget_css(request: Request, state: State, v: VersionParam = None) -> Response:
    return _answer(request, state, "widget.css", v)


@router.get("/events.js", response_class=Response, summary="Reader events for the HTML fragment (script)")
async def events_js(request: Request, state: State, v: VersionParam = None) -> Response:
    return _answer(request, state, "events.js", v)
