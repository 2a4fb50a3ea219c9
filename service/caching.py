"""HTTP caching of public GET responses: ETag, Cache-Control, 304, the response cache.

Cache-Control comes from settings, and the ETag changes whenever the list could:
- another index version, or another catalog generation (pins, blocks, retractions, edits, the
  running experiment: recsys/catalog/overrides.py, recsys/catalog/store.py,
  recsys/catalog/experiment.py);
- the next moment at which time alone changes a list (a block that expires, a scheduled article that
  goes live): once it has passed, the ETag names the one after it;
- the settings that shape lists (ranking policy, default limits, search bound);
- the path and the query parameters.

A request reads the query side's live state once (recsys/serving/live.py: memory, no catalog read,
no lock) and passes it here and to the body, so the ETag and the body always describe the same
state. The ETag is computed from it before any ranking work, so a matching If-None-Match costs no
I/O at all, and neither does a response cache hit. `If-None-Match: *` matches only an article that
exists (for a stored article, decided from the same state).

The live state follows the catalog off the request path (service/state.py): a write made through
this process (admin API, CMS) is applied to it before the write's response returns; a write made
elsewhere (another worker, the CLI, another host) within RECSYS_CHANGE_POLL_SECONDS plus the time
to read the change (docs/architecture.md, "Serving at scale", has the measured bound).
"""

from __future__ import annotations

import functools
import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl

from fastapi import Request, Response
from fastapi.concurrency import run_in_threadpool

from recsys.serving.live import LiveState
from recsys.serving.recommend import Recommender
from recsys.settings import Settings
from service.render import dumps


def etag_for(request: Request, recommender: Recommender, state: LiveState, now: float) -> str:
    """A few values the request has at hand, no hash over them: the version and list settings (one
    token per recommender), the state's generation, the next time-driven change, and a digest of the
    path and query parameters (kept per path and query string)."""
    scope = request.scope
    resource = _resource_digest(scope["path"], scope.get("query_string", b""))
    change = recommender.next_change(state, now)
    return f'"{recommender.etag_token}.{state.generation:x}.{change!r}.{resource}"'


@functools.lru_cache(maxsize=65_536)
def _resource_digest(path: str, query_string: bytes) -> str:
    """128 bits of the path and the query parameters, sorted (their order does not change a list):
    the response cache is keyed by the ETag, so two resources must never share one."""
    params = sorted(parse_qsl(query_string.decode("latin-1"), keep_blank_values=True))
    return hashlib.blake2b(repr((path, params)).encode(), digest_size=16).hexdigest()


def cache_headers(
    request: Request,
    recommender: Recommender,
    state: LiveState,
    settings: Settings,
    exists: Callable[[], bool],
) -> tuple[dict[str, str], Response | None]:
    """The caching headers of a response under `state` (the one its body will be made from), and a
    304 to send instead when the client's copy is current (`exists` says whether the requested
    article exists under that state, for `If-None-Match: *`)."""
    now = recommender.clock().timestamp()
    etag = etag_for(request, recommender, state, now)
    headers = {"ETag": etag, "Cache-Control": f"public, max-age={settings.cache_max_age}"}
    wanted = request.headers.get("if-none-match", "")
    if not wanted:
        return headers, None
    if client_has(request, etag) or (wanted.strip() == "*" and exists()):
        return headers, Response(status_code=304, headers=headers)
    return headers, None


def client_has(request: Request, etag: str) -> bool:
    """Whether the request's If-None-Match names `etag` (weak or strong)."""
    wanted = request.headers.get("if-none-match", "")
    return etag in {tag.strip().removeprefix("W/") for tag in wanted.split(",")}


class ResponseCache:
    """Bodies of recent public list answers, by ETag: the ETag already names everything a list depends
    on (version, catalog generation, the next time-driven change, list settings, path, query), so a
    hit is exactly the answer the ranking would give again. A popular story's page views then cost a
    dictionary lookup. `size` 0 turns it off (the serving benchmarks measure the ranking with it off)."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._bodies: OrderedDict[str, bytes] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, etag: str) -> bytes | None:
        if not self.size:
            return None
        with self._lock:
            body = self._bodies.get(etag)
            if body is not None:
                self._bodies.move_to_end(etag)
            return body

    def put(self, etag: str, body: bytes) -> None:
        if not self.size:
            return
        with self._lock:
            self._bodies[etag] = body
            while len(self._bodies) > self.size:
                self._bodies.popitem(last=False)


async def cached_answer(
    cache: ResponseCache,
    headers: dict[str, str],
    make: Callable[[], dict[str, Any]],
    *,
    in_memory: bool = True,
    render: Callable[[dict[str, Any]], bytes] = dumps,
    media_type: str = "application/json",
) -> Response:
    """The list body for these caching headers: from the cache, or made (and kept), serialised by
    `render` (JSON, or the HTML fragment: service/fragment.py).

    A list made from memory (an indexed article) is made on the event loop: about a millisecond,
    less than a thread hop costs under load. One that may run the encoder (an article published
    since the build) is made in the thread pool, so that no other request waits for the model."""
    etag = headers["ETag"]
    body = cache.get(etag)  # the ETag names the path, so a JSON and an HTML body never share one
    if body is None:
        made = make() if in_memory else await run_in_threadpool(make)
        body = render(made)
        cache.put(etag, body)
    return Response(body, media_type=media_type, headers=headers)
