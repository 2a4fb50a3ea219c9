"""docs/deployment.md's multi-host recipe with its CDN: two replicas, one PostgreSQL catalog, one
version folder, and nginx in front configured by the ```nginx block of that page, read from it (only
its @...@ placeholders replaced), so the page is what is tested.

Through the CDN: a list is fetched once and then served from the cache without reaching a replica
(counted on the replicas' /metrics); after max-age the CDN revalidates with the ETag and a replica
answers 304; a retraction made through the CDN's /admin/ leaves the list it serves within max-age and a
bound; admin answers are never cached; with one replica killed every list still answers, and with
both killed the lists the CDN holds still do (stale). Every wait is bounded and none is an
expectation of speed.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from subprocess import Popen
from typing import Any

import httpx
import pytest

from tests.helpers import REPO, deploy, replica_variables, until
from tests.nginx import Nginx, binary_or_skip
from tests.postgres import PostgresServer
from tests.servers import SERVE_FAKE, free_port, metric_samples, running

RECIPE = REPO / "docs" / "deployment.md"
KEY = {"X-API-Key": "s3cret"}
MAX_AGE = 3  # seconds of Cache-Control: short, so that the test sees entries expire
WAIT = 60.0  # seconds: a bound on each wait below, never an expectation of speed
LIST = "/articles/{article_id:path}/related"  # the route's label on /metrics
SUBJECT = "/articles/harbour-0/related?limit=5"
OTHERS = [f"/articles/{topic}-1/related?limit=5" for topic in ("election", "football", "theatre")]


def site_from_recipe(values: dict[str, str]) -> str:
    """The page's one ```nginx block, with its placeholders replaced by `values` (all of them, and only
    them: a placeholder the test does not know, or one it fills that the page lost, fails here)."""
    blocks = re.findall(r"^```nginx\n(.*?)^```$", RECIPE.read_text(encoding="utf-8"), re.M | re.S)
    assert len(blocks) == 1, f"{RECIPE.name} should hold one ```nginx block (the CDN), not {len(blocks)}"
    site: str = blocks[0]
    assert set(re.findall(r"@[A-Z0-9_]+@", site)) == set(values), "the recipe's placeholders changed"
    for placeholder, value in values.items():
        site = site.replace(placeholder, value)
    return site


@dataclass
class Stack:
    cdn: str
    replicas: list[tuple[Popen[str], str]]
    nginx: Nginx

    def get(self, path: str, **headers: str) -> httpx.Response:
        return httpx.get(f"{self.cdn}{path}", headers=headers, timeout=30)

    def listed(self, path: str) -> tuple[httpx.Response, list[str]]:
        answer = self.get(path)
        assert answer.status_code == 200, (answer.status_code, answer.text, self.nginx.logs())
        return answer, [item["id"] for item in answer.json()["items"]]

    def answered(self, route: str, status: str) -> float:
        """How many requests to `route` the replicas answered with `status`, all together."""
        return sum(
            value
            for _, base in self.replicas
            for labels, value in metric_samples(base, "recsys_http_requests_total")
            if labels["route"] == route and labels["status"] == status
        )

    def admin_requests(self) -> float:
        return sum(
            value
            for _, base in self.replicas
            for labels, value in metric_samples(base, "recsys_http_requests_total")
            if labels["route"].startswith("/admin/")
        )


def cache_status(answer: httpx.Response) -> str | None:
    return answer.headers.get("X-Cache-Status")


def _until(what: str, check: Callable[[], Any], seconds: float = WAIT) -> Any:
    return until(what, check, seconds)


@pytest.fixture
def stack(postgres_server: PostgresServer, tmp_path: Path, corpus_file: Path) -> Iterator[Stack]:
    """The synthetic corpus imported and built once into the shared version folder (as the builder
    would), two replicas on it, and the recipe's nginx in front of them."""
    binary = binary_or_skip()
    url = postgres_server.fresh_url()
    shared = tmp_path / "shared-versions"
    deploy(url, corpus_file, tmp_path / "builder", shared)
    variables = functools.partial(
        replica_variables,
        index_dir=shared,
        catalog_url=url,
        api_key=KEY["X-API-Key"],
        cache_max_age=str(MAX_AGE),
    )

    nginx = Nginx(binary)
    try:
        with (
            running(SERVE_FAKE, variables(tmp_path / "replica-a")) as first,
            running(SERVE_FAKE, variables(tmp_path / "replica-b")) as second,
        ):
            port = free_port()
            site = site_from_recipe(
                {
                    "@CACHE_DIR@": str(nginx.cache),
                    "@LISTEN@": f"127.0.0.1:{port}",
                    "@REPLICA_1@": first[1].removeprefix("http://"),
                    "@REPLICA_2@": second[1].removeprefix("http://"),
                }
            )
            with running(nginx.command(site), port=port) as (_, cdn):
                yield Stack(cdn, [first, second], nginx)
    finally:
        nginx.remove()


def test_the_cdn_caches_lists_revalidates_with_the_etag_and_keeps_answering_without_replicas(
    stack: Stack,
) -> None:
    # Fetched once: the CDN keeps the service's own caching headers.
    first, listed = stack.listed(SUBJECT)
    assert cache_status(first) == "MISS"
    assert first.headers["Cache-Control"] == f"public, max-age={MAX_AGE}" and first.headers["ETag"]
    fetched = stack.answered(LIST, "200")

    # Then served from the cache: no replica answers it. On a slow box the entry may expire between
    # two requests; then the next pair is tried.
    def a_hit() -> httpx.Response | None:
        before = (stack.answered(LIST, "200"), stack.answered(LIST, "304"))
        answer = stack.get(SUBJECT)
        if cache_status(answer) != "HIT":
            return None
        assert (stack.answered(LIST, "200"), stack.answered(LIST, "304")) == before, "a HIT reached a replica"
        return answer

    hit = _until("a cache HIT", a_hit)
    assert hit.json() == first.json() and hit.headers["ETag"] == first.headers["ETag"]
    # A browser revalidating its own copy gets a 304, from the CDN or through it.
    assert stack.get(SUBJECT, **{"If-None-Match": first.headers["ETag"]}).status_code == 304

    # Expired: revalidated with the ETag, a replica answers 304 and the body is not sent again.
    not_modified = stack.answered(LIST, "304")
    revalidated = _until(
        "the CDN revalidates the expired list",
        lambda: (
            (answer := stack.get(SUBJECT)).status_code == 200
            and cache_status(answer) == "REVALIDATED"
            and answer
        ),
    )
    assert revalidated.json() == first.json()
    assert stack.answered(LIST, "304") > not_modified
    assert stack.answered(LIST, "200") == fetched, "the body was fetched again, not revalidated"

    # Admin and CMS answers are never cached: every request reaches a replica.
    admin_paths = ["/admin/pins/harbour-0", "/admin/blocks", "/admin/articles/harbour-0"]
    sent = stack.admin_requests()
    for path in admin_paths * 2:
        answer = stack.get(path, **KEY)
        assert answer.status_code == 200 and cache_status(answer) is None, (path, answer.headers)
    assert stack.get(admin_paths[0]).status_code == 401  # nor is a refusal, nor an answer to a key
    assert stack.admin_requests() == sent + 2 * len(admin_paths) + 1
    assert stack.get("/metrics").status_code == 404  # scraped from each replica, never through the CDN

    # A retraction through the CDN: gone from the list it serves within max-age and a bound.
    victim = listed[0]
    retracted = httpx.post(f"{stack.cdn}/admin/articles/{victim}/retract", headers=KEY, timeout=30)
    assert retracted.status_code == 200 and cache_status(retracted) is None, retracted.text
    changed = _until(
        f"the CDN stops listing {victim}",
        lambda: victim not in (found := stack.listed(SUBJECT))[1] and found[0],
        MAX_AGE + WAIT,
    )
    assert cache_status(changed) == "EXPIRED" and changed.headers["ETag"] != first.headers["ETag"]

    # One replica killed: every list still answers, from the other one or from the cache.
    for path in OTHERS[:2]:
        stack.listed(path)  # cached while both replicas run
    stack.replicas[0][0].kill()
    stack.replicas[0][0].wait()
    for path in [SUBJECT, *OTHERS]:
        for _ in range(3):
            stack.listed(path)

    # Both killed: what the CDN holds still answers, stale, once expired; what it never held cannot.
    stack.replicas[1][0].kill()
    stack.replicas[1][0].wait()
    for path in [SUBJECT, *OTHERS[:2]]:
        _until(
            f"the CDN answers {path} from its expired copy",
            lambda path=path: cache_status(stack.listed(path)[0]) == "STALE",  # type: ignore[misc]
        )
    assert stack.get("/articles/vaccine-1/related?limit=5").status_code == 502
