"""Default list requests answered ahead of the framework: one ASGI layer instead of the stack.

A page view asks for an article's default list (`GET /articles/{id}/related` or `/blocks`, no
parameter or only the widget's limits at their defaults), and with the lists ranked at build time
(recsys/version/lists.py) that answer costs the worker little more than its HTTP stack: FastAPI's
outer layers, nine middleware, the router, the ListParams dependency. So the app factory installs
`FastLists` outermost, beside service/events_http.py's EventsEndpoint, and it answers those requests
by calling the routes' own functions (`routes.related`, `pages.article_blocks`: the ETag, the 304,
the cache headers, the response cache and the body are theirs) with what the skipped layers add: the
request id, CORS, the request counter and latency histogram under the route's template, and a place
in the in-flight count.

It answers only when the route would answer from the stored list, from memory, with no error to give:
an index is served, no experiment runs, no body is declared, the article is in the served version
and not deleted, and `Recommender.stored_list_holds` says its stored list is the answer. Everything
else (other parameters, an unknown or deleted id, a list ranked now, a full in-flight count) passes
through to the app unchanged, as does a request whose answer failed here before anything was sent:
the app then makes it again, and answers or refuses it as it would have.
tests/service/test_fast_lists.py holds the layer's answers equal to the app's.
"""

from __future__ import annotations

import re
import time
from collections.abc import Awaitable, Callable

from fastapi import Request, Response
from fastapi.routing import RouteContext, iter_route_contexts
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from recsys.serving.query import RelatedQuery
from service import request_id
from service.events_http import CorsByPath, with_cors
from service.metrics import Metrics
from service.pages import article_blocks
from service.params import Listing, parse_query
from service.pressure import InFlight
from service.routes import related
from service.state import ServiceState

Endpoint = Callable[[Request, Listing, str], Awaitable[Response]]
ENDPOINTS: tuple[Endpoint, ...] = (related, article_blocks)
_BODY_HEADERS = (b"content-length", b"transfer-encoding")


class _Route:
    """One list route as the app's router has it: its path pattern, methods and metrics label."""

    def __init__(self, route: RouteContext, endpoint: Endpoint) -> None:
        self.regex: re.Pattern[str] = route.path_regex
        self.methods = frozenset(route.methods or ())
        self.label = str(route.path)
        self.endpoint = endpoint


class FastLists:
    """Answers default list requests (see the module's docstring); passes every other request on."""

    def __init__(
        self, app: ASGIApp, *, metrics: Metrics, cors_origins: list[str], in_flight: InFlight | None = None
    ) -> None:
        self.app = app
        # The lists' own CORS (a simple GET's headers), configured where the app's is.
        self.cors = CorsByPath(app, allow_origins=cors_origins).lists if cors_origins else None
        self.metrics = metrics
        self.in_flight = in_flight
        self._routes: list[_Route] | None = None
        self._defaults: tuple[ServiceState, RelatedQuery, frozenset[bytes]] | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        chosen = self._chosen(scope)
        if chosen is None:
            await self.app(scope, receive, send)
            return
        route, listing, article_id = chosen
        started = time.perf_counter()
        headers = scope["headers"]
        rid = request_id.accept(next((value for name, value in headers if name == request_id.HEADER), None))
        request_id.current.set(rid)
        gate = self.in_flight
        if gate is not None:
            gate.count += 1
        try:
            response = await route.endpoint(Request(scope, receive), listing, article_id)
        except Exception:
            # Nothing was sent: the app makes the answer again and gives it as it would have (a live
            # state swapped since the checks, a catalog that refused; a bug's 500, logged once there).
            response = None
        finally:
            if gate is not None:
                gate.count -= 1
        if response is None:
            await self.app(scope, receive, send)
            return
        extra = (request_id.HEADER, rid.encode("latin-1"))
        cors = self.cors

        async def with_extra(message: Message) -> None:
            if message["type"] == "http.response.start":
                await with_cors(cors, message, scope)
                message["headers"] = [*message.get("headers", []), extra]
            await send(message)

        try:
            await response(scope, receive, with_extra)
        finally:
            self.metrics.requests.labels(route.label, scope["method"], str(response.status_code)).inc()
            self.metrics.latency.labels(route.label).observe(time.perf_counter() - started)

    def _chosen(self, scope: Scope) -> tuple[_Route, Listing, str] | None:
        """The route, the default listing and the article id of a request this layer answers."""
        if scope["type"] != "http" or scope.get("root_path"):
            return None
        path = scope["path"]
        if not path.startswith("/articles/"):
            return None
        routes = self._routes if self._routes is not None else self._find_routes(scope)
        for route in routes:
            match = route.regex.match(path)
            if match is not None:
                break
        else:
            return None
        if scope["method"] not in route.methods or any(name in _BODY_HEADERS for name, _ in scope["headers"]):
            return None
        service: ServiceState | None = getattr(scope["app"].state, "recsys", None)
        if service is None:
            return None
        query, accepted = self._default_query(service)
        query_string = scope.get("query_string", b"")
        if query_string and any(part not in accepted for part in query_string.split(b"&")):
            return None
        recommender = service.recommender
        if recommender is None or self.in_flight is not None and self.in_flight.full:
            return None
        state = recommender.live.current()
        if state.experiment is not None:
            return None
        article_id = match.group("article_id")
        row = recommender.snapshot.by_id.row(article_id)
        if row is None or not recommender.stored_list_holds(
            state, row, query, recommender.clock().timestamp()
        ):
            return None
        return route, Listing(service, recommender, query), article_id

    def _find_routes(self, scope: Scope) -> list[_Route]:
        # The routes as the app matches them (FastAPI resolves included routers on first use). No
        # route ahead of them in the table matches their paths (the CMS's are under /admin); the
        # tests would see one that did: its answers and metrics would differ from the app's.
        found = [
            _Route(route, route.endpoint)
            for route in iter_route_contexts(scope["app"].router.routes)
            if route.endpoint in ENDPOINTS
        ]
        self._routes = found
        return found

    def _default_query(self, service: ServiceState) -> tuple[RelatedQuery, frozenset[bytes]]:
        """The default query (as ListParams parses an empty query string) and the query-string parts
        that leave it unchanged: the widget's `limit` and `section_limit` at their defaults."""
        known = self._defaults
        if known is None or known[0] is not service:
            settings = service.settings
            query = parse_query([], settings.default_limit, settings.default_section_limit)
            accepted = frozenset(
                {b"limit=%d" % settings.default_limit, b"section_limit=%d" % settings.default_section_limit}
            )
            known = self._defaults = (service, query, accepted)
        return known[1], known[2]
