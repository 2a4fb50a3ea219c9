"""A click simulator: simulated readers of judged lists, to show clicks tell two rankings apart.

A page view shows a reader the related list of a query article. The reader is a position-biased
cascade (Craswell et al. 2008; Chuklin, Markov and de Rijke 2015): they examine position k with
probability (k + 1) ** -eta, click an examined item with probability eps + (ceiling - eps) *
relevance (the judged gain of the evaluation truth, recsys/evaluation/truth.py, scaled to [0, 1]), and leave
after their first click (it navigates away). Everything else is the real thing:

* lists come from a `ListProvider`: `HttpLists` asks the running service (GET .../related with
  `arm=` for A/B, `bucket=` for team-draft interleaving); `MethodLists` asks the evaluation's methods
  in-process (recsys/evaluation/baselines.py), interleaved by the service's team draft
  (recsys/serving/experiments.py);
* events go to an `EventSink` in the widget's wire format (one impression batch per page view, one
  batch per click): `HttpSink` posts them to POST /events; `MemorySink` adds them up in memory;
* the counters are read back (`read_counts` over HTTP, `MemorySink.rows` in-process) and judged by
  recsys/evaluation/clicks.py, at checkpoints of 100, 200, 400... page views.

`views_needed` reports, per seed, the first checkpoint at which the test is significant at 95% in
the right direction (the arms' order is known in advance); benchmarks/click_simulator.py reports the
median over seeds for A/B and interleaving.
"""

from __future__ import annotations

import hashlib
import random
import statistics
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import quote

from recsys.catalog.feedback import Count, read_counts
from recsys.errors import InvalidInput, RecsysError
from recsys.evaluation import clicks
from recsys.evaluation.truth import Truth
from recsys.serving.experiments import interleave_seed, team_draft

if TYPE_CHECKING:
    from recsys.catalog.store import Catalog
    from recsys.evaluation.corpus import EvalCorpus
    from recsys.evaluation.runner import Method
    from recsys.serving.recommend import Recommender

BLOCK = "related"
LIST_LENGTH = 10
SIM_DAY = "2026-01-01"

Body = Mapping[str, Any]
Batch = dict[str, Any]


@dataclass(frozen=True)
class Assignment:
    """How a page view is assigned: an explicit arm (A/B) or a bucket 0..99 (interleaving)."""

    arm: str | None = None
    bucket: int | None = None


ListProvider = Callable[[str, Assignment], Body]
EventSink = Callable[[Batch], None]


@dataclass(frozen=True)
class ClickModel:
    """The simulated reader: examination (k + 1) ** -eta; an examined item is clicked with probability
    eps + (ceiling - eps) * relevance. A ceiling under 1 keeps a list of all-relevant items from
    drawing a click on every page view (real related blocks see a few percent)."""

    eta: float = 1.0
    eps: float = 0.02
    ceiling: float = 0.3
    top_gain: float = 1.0  # the gain that counts as fully relevant (graded pairs: 3)

    def examines(self, position: int) -> float:
        return float((position + 1) ** -self.eta)

    def attraction(self, gain: float) -> float:
        return self.eps + (self.ceiling - self.eps) * min(1.0, max(0.0, gain / self.top_gain))


class Judge(Protocol):
    """The part of an evaluation truth a reader needs: how relevant a listed item is to the page."""

    def gain(self, query_id: str, candidate_id: str) -> float: ...


def read_page(
    body: Body, query: str, truth: Judge, model: ClickModel, rng: random.Random
) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
    """One reader's page view: the impressions of the list and the click, if any."""
    impressions: list[dict[str, Any]] = []
    for position, item in enumerate(body["items"]):
        event = {"type": "impression", "block": BLOCK, "position": position, "item": item["id"]}
        if "arm" in item:
            event["arm"] = item["arm"]
        impressions.append(event)
    for event in impressions:
        position, item_id = event["position"], event["item"]
        if rng.random() < model.examines(position) and rng.random() < model.attraction(
            truth.gain(query, item_id)
        ):
            return impressions, {**event, "type": "click"}
    return impressions, None


def batch(body: Body, pv: str, events: list[dict[str, Any]]) -> Batch:
    """A batch as the widget sends it (docs/api.md, POST /events)."""
    return {
        "v": 1,
        "pv": pv,
        "article": body["article_id"],
        "version": body["index_version"],
        "experiment": body.get("experiment", ""),
        "arm": body.get("arm", "default"),
        "events": events,
    }


@dataclass
class MemorySink:
    """Adds batches up into counter rows in memory, keyed as the events path keys them: an event's own
    arm (an interleaved item's) over its batch's."""

    day: str = SIM_DAY
    _cells: dict[tuple[str, str, str, int, str, str], list[int]] = field(default_factory=dict)

    def __call__(self, sent: Batch) -> None:
        for event in sent["events"]:
            key = (
                self.day,
                sent["article"],
                event["block"],
                event["position"],
                sent["experiment"],
                event.get("arm", sent["arm"]),
            )
            cell = self._cells.setdefault(key, [0, 0])
            cell[0 if event["type"] == "impression" else 1] += 1

    def rows(self) -> list[Count]:
        return [Count(*key, impressions=i, clicks=c) for key, (i, c) in sorted(self._cells.items())]


class Ranker(Protocol):
    def __call__(self, article_id: str, k: int) -> list[str]: ...


@dataclass
class MethodLists:
    """In-process lists: each arm is a ranker (an evaluation method); `bucket` interleaves the two
    arms by the service's own team draft, seeded as the service seeds it."""

    rankers: Mapping[str, Ranker]
    experiment: str = "simulation"
    k: int = LIST_LENGTH
    version: str = "simulated"
    _cache: dict[tuple[str, str], list[str]] = field(default_factory=dict)

    def _ranked(self, arm: str, article: str) -> list[str]:
        if (arm, article) not in self._cache:
            self._cache[arm, article] = self.rankers[arm](article, self.k)
        return self._cache[arm, article]

    def __call__(self, article: str, assignment: Assignment) -> Body:
        arms = list(self.rankers)
        body: dict[str, Any] = {
            "article_id": article,
            "index_version": self.version,
            "experiment": self.experiment,
        }
        if assignment.arm is not None:
            if assignment.arm not in self.rankers:
                raise InvalidInput(f"unknown arm {assignment.arm!r}")
            body["arm"] = assignment.arm
            body["items"] = [{"id": i} for i in self._ranked(assignment.arm, article)]
            return body
        if assignment.bucket is None or len(arms) != 2:
            raise InvalidInput("interleaving needs a bucket and exactly two arms")
        first, second = (self._ranked(arm, article) for arm in arms)
        drafted = team_draft(first, second, self.k, interleave_seed(article, self.version, assignment.bucket))
        body["arm"] = arms[0]  # as the service's body names it; each item names its own arm
        body["items"] = [{"id": i, "arm": arms[team]} for i, team in drafted]
        return body


class HttpLists:
    """Lists from the running service: GET /articles/{id}/related with `arm=` or `bucket=`."""

    def __init__(self, client: Any, k: int = LIST_LENGTH) -> None:
        self._client = client  # an httpx.Client with the service's base_url
        self._k = k

    def __call__(self, article: str, assignment: Assignment) -> Body:
        params: dict[str, str | int] = {"limit": self._k}
        if assignment.arm is not None:
            params["arm"] = assignment.arm
        if assignment.bucket is not None:
            params["bucket"] = assignment.bucket
        response = self._client.get(f"/articles/{quote(article, safe='')}/related", params=params)
        response.raise_for_status()
        body: Body = response.json()
        return body


class HttpSink:
    """Batches to POST /events, as the widget's sendBeacon sends them (text/plain JSON, from a
    browser: the service drops events of clients that name no browser as a crawler's)."""

    HEADERS = {
        "Content-Type": "text/plain;charset=UTF-8",
        "User-Agent": "Mozilla/5.0 (X11; Linux x86_64; recsys click simulator) Firefox/128.0",
    }

    def __init__(self, client: Any) -> None:
        self._client = client
        self.refused = 0
        self.sent = {"impression": 0, "click": 0}

    def __call__(self, sent: Batch) -> None:
        import orjson

        response = self._client.post("/events", content=orjson.dumps(sent), headers=self.HEADERS)
        if response.status_code != 204:
            self.refused += 1
            return
        for event in sent["events"]:
            self.sent[event["type"]] += 1


def over_http(
    http: Any,
    catalog: Catalog,
    truth: Truth,
    *,
    arms: tuple[str, str],
    design: clicks.Design,
    name: str,
    api_key: str,
    flush_seconds: float,
    max_views: int,
    model: ClickModel | None = None,
    seed: int = 0,
    first_checkpoint: int = 100,
    stop_when: str | None = None,
) -> list[Checkpoint]:
    """`simulate` through a running service (an httpx.Client on its base URL): the experiment `name`
    with `arms` (each ranked by the method of its name) set through PUT /admin/experiment, lists and
    events over HTTP, the counters read from the service's `catalog` once a flush has run. Every
    event sent must be in the counters at the end, or the figures would mean nothing."""
    experiment = {
        "name": name,
        "design": design,
        "blocks": [BLOCK],
        "arms": [{"name": arm, "share": 0.5, "method": arm} for arm in arms],
    }
    http.put("/admin/experiment", json=experiment, headers={"X-API-Key": api_key}).raise_for_status()

    def counters() -> list[Count]:
        time.sleep(flush_seconds * 3)  # the service adds its counts every flush_seconds
        return read_counts(catalog, experiment=name)

    sink = HttpSink(http)
    found = simulate(
        truth,
        HttpLists(http),
        sink,
        counters,
        arms=arms,
        design=design,
        max_views=max_views,
        experiment=name,
        model=model,
        seed=seed,
        first_checkpoint=first_checkpoint,
        stop_when=stop_when,
    )
    stored = counters()
    kept = {"impression": sum(r.impressions for r in stored), "click": sum(r.clicks for r in stored)}
    if sink.refused or kept != sink.sent:
        raise RecsysError(f"{name}: {sink.refused} event batches refused; sent {sink.sent}, counted {kept}")
    return found


@dataclass(frozen=True)
class Checkpoint:
    views: int
    result: clicks.ABComparison | clicks.InterleavingResult


def checkpoints(max_views: int, first: int = 100) -> list[int]:
    """first, twice that, four times... up to max_views (max_views itself last)."""
    marks, n = [], first
    while n < max_views:
        marks.append(n)
        n *= 2
    return [*marks, max_views]


def simulate(
    truth: Truth,
    provider: ListProvider,
    sink: EventSink,
    read: Callable[[], Sequence[Count]],
    *,
    arms: tuple[str, str],
    design: clicks.Design,
    max_views: int,
    experiment: str,
    model: ClickModel | None = None,
    seed: int = 0,
    queries: Sequence[str] | None = None,
    first_checkpoint: int = 100,
    stop_when: str | None = None,
) -> list[Checkpoint]:
    """Simulated page views of the truth's query articles; at each checkpoint the counters read back
    are tested, arm `arms[0]` against `arms[1]`; with `stop_when`, the run ends at the first
    checkpoint whose test names that arm the winner."""
    clicks.parse_design(design)
    model = model or ClickModel()
    rng = random.Random(seed)
    pool = sorted(queries if queries is not None else truth.queries())
    if not pool:
        raise InvalidInput("the truth has no queries to simulate page views of")
    marks = set(checkpoints(max_views, first_checkpoint))
    # Page-view ids of their own per run: a service drops a page view's slot counted before as a
    # duplicate, so two runs against one server must never share one.
    run = hashlib.blake2b(f"{experiment}\x1f{seed}".encode(), digest_size=6).hexdigest()
    found: list[Checkpoint] = []
    for view in range(1, max_views + 1):
        query = rng.choice(pool)
        assignment = (
            Assignment(arm=rng.choice(arms)) if design == "ab" else Assignment(bucket=rng.randrange(100))
        )
        body = provider(query, assignment)
        pv = f"sim{run}-{view:08d}"
        impressions, click = read_page(body, query, truth, model, rng)
        if impressions:
            sink(batch(body, pv, impressions))
        if click is not None:
            sink(batch(body, pv, [click]))
        if view in marks:
            rows = [r for r in read() if r.experiment == experiment and r.block == BLOCK]
            found.append(Checkpoint(view, clicks.compare(rows, arms[0], arms[1], design)))
            if stop_when is not None and found[-1].result.winner() == stop_when:
                break
    return found


def views_needed(found: Iterable[Checkpoint], better: str) -> int | None:
    """The first checkpoint at which the test is significant with `better` ahead; None: never."""
    return next((c.views for c in found if c.result.winner() == better), None)


def median_views(needed: Sequence[int | None], max_views: int) -> float | None:
    """The median over seeds, a seed that never found it counting as beyond max_views; None when
    fewer than half the seeds found it."""
    if sum(n is not None for n in needed) * 2 < len(needed):
        return None
    return float(statistics.median(n if n is not None else max_views * 2 for n in needed))


def method_rankers(
    names: Sequence[str], corpus: EvalCorpus, recommender: Recommender, seed: int = 0
) -> dict[str, Ranker]:
    """The evaluation's methods (`system`, `bm25`, `random`...) as rankers by arm name."""
    from recsys.evaluation.baselines import make_methods

    def ranker(method: Method) -> Ranker:
        return lambda article, k: method.recommend(corpus.get(article), k)

    return {method.name: ranker(method) for method in make_methods(names, corpus, recommender, seed=seed)}
