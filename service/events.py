"""Readers' impressions and clicks: the batch's format, what counts, and the counts kept until stored.

The widget sends a batch per block seen and one per click (docs/api.md, "Events"). A batch is
bounded (16 KiB, 100 events, a token bucket per client address) and each event is checked against
what this worker serves, from memory: the article and the item known, the version served or the one
before it, the block, the position, the experiment and arm, not a page view's duplicate, not a
crawler. An event that fails is dropped and counted by reason (`recsys_events_dropped_total`), never
stored. The request touches no disk and no database: accepted events are added to counters in
memory (`Tally`), and a thread (`Flusher`) adds those to the catalog every
RECSYS_EVENTS_FLUSH_SECONDS (recsys/catalog/feedback.py) and on a clean stop. A flush the catalog
refuses keeps its counts for the next one, so a kill -9 loses at most the last interval's events.

Privacy: no cookie is read or set, no user id exists, and the client address is used only as the
key of the in-memory rate limiter (`RateLimiter`): never stored, logged or written anywhere. The
optional raw log (RECSYS_EVENTS_LOG_DIR) holds what the batch said, the time and nothing else.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import os
import re
import threading
import time
from collections import Counter as Tallied
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

import orjson
from pydantic import BaseModel, ConfigDict, Field

from recsys.catalog.feedback import Count, add_counts
from recsys.catalog.store import Catalog
from recsys.errors import RecsysError
from recsys.serving.experiments import Experiment
from recsys.serving.live import LiveState
from recsys.serving.recommend import Recommender
from recsys.settings import Settings
from service.metrics import Metrics
from service.schemas import Text
from service.state import ServiceState

log = logging.getLogger(__name__)

EVENTS_PATH = "/events"
MAX_BODY_BYTES = 16 * 1024
MAX_EVENTS = 100
MAX_POSITION = 100  # positions 0..99
BLOCKS = frozenset({"related", "section"})
NO_EXPERIMENT = ""
DEFAULT_ARM = "default"
DUPLICATE_SECONDS = 3600.0
# Memory bounds, per worker: page-view slots remembered for duplicates, client addresses in the rate
# limiter, counter rows kept through failing flushes, raw log lines waiting to be written, known ids.
MAX_SEEN = 100_000
MAX_CLIENTS = 65_536
MAX_PENDING_ROWS = 100_000
MAX_PENDING_LINES = 100_000
MAX_KNOWN = 65_536
REASONS = (
    "unknown_article",
    "unknown_item",
    "unknown_version",
    "bad_block",
    "bad_position",
    "unknown_arm",
    "duplicate",
    "bot",
)
# Crawlers that run scripts name themselves; a browser always sends a User-Agent. Headless
# browsers are not on the list: sites test their pages with them (and so do our browser tests).
_CRAWLERS = re.compile(
    r"bot\b|bot/|crawl|spider|slurp|facebookexternalhit|mediapartners|bingpreview|ia_archiver|"
    r"feedfetcher|embedly|quora link preview",
    re.IGNORECASE,
)

Key = tuple[str, str, str, int, str, str]  # day, article, block, position, experiment, arm


# -- the wire format (docs/api.md, "Events") ----------------------------------------------------------


class Event(BaseModel):
    model_config = ConfigDict(extra="ignore")

    type: Literal["impression", "click"]
    block: Text = Field(max_length=64)
    position: int
    item: Text = Field(min_length=1, max_length=1024)
    arm: Text | None = Field(default=None, max_length=64)  # the arm that contributed it (interleaving)


class Batch(BaseModel):
    model_config = ConfigDict(extra="ignore")

    v: Literal[1]
    pv: str = Field(pattern=r"^[A-Za-z0-9_-]{8,64}$", description="a random page-view id")
    # Text: a lone surrogate is a 422 here, not an error where the ids are hashed.
    article: Text = Field(
        min_length=1, max_length=1024, description="the page's article (the list's subject)"
    )
    version: Text = Field(max_length=128, description="index_version of the list")
    experiment: Text = Field(default=NO_EXPERIMENT, max_length=64)
    arm: Text = Field(default=DEFAULT_ARM, max_length=64)
    events: list[Event] = Field(max_length=MAX_EVENTS)


# -- what is valid now --------------------------------------------------------------------------------


def arm_known(experiment: Experiment | None, name: str, arm: str) -> bool:
    """Whether (experiment, arm) names a list this worker could have served: outside any experiment,
    or an arm of the current one."""
    if name == NO_EXPERIMENT:
        return arm == DEFAULT_ARM
    return experiment is not None and name == experiment.name and arm in experiment.arm_names


@functools.lru_cache(maxsize=1024)
def is_crawler(user_agent: str | None) -> bool:
    # Cached: readers' browsers send a few hundred distinct agents, and the search over one was a
    # twentieth of an event batch's cost (py-spy, docs/benchmarks.md#reader-events-under-load).
    return not user_agent or _CRAWLERS.search(user_agent) is not None


# -- bounded memories ---------------------------------------------------------------------------------


class Known:
    """The ids known to one (recommender, live state), remembered as they are asked about.

    A batch names the ids of a list just served: the same few thousand ids over and over, and the
    lookup (a hash and a binary search in the version, then the live state) was a seventh of an event
    batch's cost. Only known ids are kept, so ids made up by a client never fill it; a new live state
    (a retraction, a block, a build) or a new recommender starts it afresh.
    """

    def __init__(self, max_entries: int = MAX_KNOWN) -> None:
        self._max = max_entries
        self._ids: set[str] = set()
        self._recommender: Recommender | None = None
        self._live: LiveState | None = None

    def has(self, recommender: Recommender, live: LiveState, article_id: str) -> bool:
        if recommender is not self._recommender or live is not self._live:
            self._ids = set()
            self._recommender, self._live = recommender, live
        if article_id in self._ids:
            return True
        if not recommender.has_article(article_id, state=live):
            return False
        if len(self._ids) >= self._max:
            self._ids = set()
        self._ids.add(article_id)
        return True


class RateLimiter:
    """A token bucket per client address, in memory only: `rate` batches per second, bursts of twice
    that. The least recently seen address is forgotten beyond `max_clients` (it starts full again)."""

    def __init__(
        self, rate: float, *, max_clients: int = MAX_CLIENTS, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.rate = rate
        self.burst = max(1.0, 2 * rate)
        self.max_clients = max_clients
        self.clock = clock
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()

    def allow(self, client: str) -> bool:
        if self.rate <= 0:
            return True
        now = self.clock()
        tokens, last = self._buckets.pop(client, (self.burst, now))
        tokens = min(self.burst, tokens + (now - last) * self.rate)
        allowed = tokens >= 1
        self._buckets[client] = (tokens - 1 if allowed else tokens, now)
        if len(self._buckets) > self.max_clients:
            self._buckets.popitem(last=False)
        return allowed


class Seen:
    """Page-view slots (page view, type, block, position) counted within the last `window` seconds, at
    most `max_entries` of them (the oldest forgotten first): a batch sent twice counts once."""

    def __init__(self, *, window: float = DUPLICATE_SECONDS, max_entries: int = MAX_SEEN) -> None:
        self.window = window
        self.max_entries = max_entries
        self._at: OrderedDict[int, float] = OrderedDict()  # oldest first: entries are never moved

    def __len__(self) -> int:
        return len(self._at)

    def first(self, slot: tuple[str, str, str, int], now: float) -> bool:
        """Whether `slot` was not seen within the window; remembers it if so."""
        while self._at and next(iter(self._at.values())) < now - self.window:
            self._at.popitem(last=False)
        key = hash(slot)  # 8 bytes instead of the strings; a collision drops one event in 2**64
        if key in self._at:
            return False
        self._at[key] = now
        if len(self._at) > self.max_entries:
            self._at.popitem(last=False)
        return True


@dataclass
class Pending:
    """What a flush takes: counter rows and raw log lines (hour, line)."""

    counts: dict[Key, list[int]]
    lines: list[tuple[str, bytes]]

    @property
    def events(self) -> int:
        return sum(impressions + clicks for impressions, clicks in self.counts.values())


class Tally:
    """Accepted events added up in memory until a flush takes them; thread-safe (requests add on the
    event loop, the flusher takes from its thread)."""

    def __init__(self, *, max_rows: int = MAX_PENDING_ROWS, max_lines: int = MAX_PENDING_LINES) -> None:
        self.max_rows = max_rows
        self.max_lines = max_lines
        self._lock = threading.Lock()
        self._pending = Pending({}, [])

    def add(self, counts: dict[Key, list[int]], lines: list[tuple[str, bytes]]) -> int:
        """Add a batch's counts and lines; returns how many events did not fit (dropped and logged by
        the caller: only while the catalog refuses flushes for long)."""
        lost = 0
        with self._lock:
            held = self._pending.counts
            for key, (impressions, clicks) in counts.items():
                totals = held.get(key)
                if totals is None:
                    if len(held) >= self.max_rows:
                        lost += impressions + clicks
                        continue
                    totals = held[key] = [0, 0]
                totals[0] += impressions
                totals[1] += clicks
            room = self.max_lines - len(self._pending.lines)
            self._pending.lines.extend(lines[: max(0, room)])
        return lost

    def take(self) -> Pending:
        with self._lock:
            taken, self._pending = self._pending, Pending({}, [])
        return taken

    def give_back(self, pending: Pending) -> int:
        """Put back what a failed flush took (bounded as `add`); returns how many events did not fit."""
        return self.add(pending.counts, pending.lines)


# -- the flusher ----------------------------------------------------------------------------------------


class RawLog:
    """JSON Lines, one file per hour and process (`events-YYYYMMDDHH-<pid>.jsonl`), appended by the
    flusher only."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def write(self, lines: list[tuple[str, bytes]]) -> None:
        by_hour: dict[str, list[bytes]] = {}
        for hour, line in lines:
            by_hour.setdefault(hour, []).append(line)
        self.folder.mkdir(parents=True, exist_ok=True)
        for hour, chunk in sorted(by_hour.items()):
            with (self.folder / f"events-{hour}-{os.getpid()}.jsonl").open("ab") as out:
                out.write(b"".join(chunk))


class Flusher:
    """A daemon thread that adds the tally to the catalog every `interval` seconds and once more when
    stopped. A failure keeps the counts for the next try (a log line when failures start, one when
    they end); what a clean stop cannot store is said in the log."""

    def __init__(
        self, tally: Tally, catalog: Catalog, metrics: Metrics, interval: float, raw: RawLog | None
    ) -> None:
        self.tally = tally
        self.catalog = catalog
        self.metrics = metrics
        self.interval = interval
        self.raw = raw
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="recsys-events-flusher", daemon=True)
        self._lock = threading.Lock()  # one flush at a time (the thread's, a test's)
        # Since when (monotonic) counts could not be stored: an outage is said once when it starts
        # and once when it ends, not every interval.
        self._failing_since: float | None = None

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()

    def _run(self) -> None:
        try:
            while not self._stop.wait(self.interval):
                self.flush()
        finally:
            if not self.flush():
                left = self.tally.take().events
                log.error("events: %d counted events not stored at shutdown (the catalog refused)", left)
            self.catalog.close()

    def flush(self) -> bool:
        """Store what the tally holds; returns whether everything was stored (what was not is kept
        for the next try)."""
        with self._lock:
            pending = self.tally.take()
            if not pending.counts and not pending.lines:
                return True
            kept = Pending(self._store(pending.counts), self._write(pending.lines))
            stored = not kept.counts and not kept.lines
            if not stored:
                lost = self.tally.give_back(kept)
                if lost:
                    self.metrics.events_pending.dec(lost)
                    log.error("events: %d counted events dropped, over the memory bound", lost)
            self.metrics.event_flushes.labels("ok" if stored else "failed").inc()
            return stored

    def _store(self, counts: dict[Key, list[int]]) -> dict[Key, list[int]]:
        """Add `counts` to the catalog; returns what is left to store (all of it on a failure)."""
        if not counts:
            return counts
        try:
            add_counts(self.catalog, _rows(counts))
        except RecsysError as exc:  # a busy or unreachable catalog, a full disk
            if self._failing_since is None:
                self._failing_since = time.monotonic()
                log.warning(
                    "events: counts not stored, kept in memory and tried every %.1f s: %s", self.interval, exc
                )
            return counts
        except Exception:  # the thread must outlive any one failure, or counts pile up silently
            self._failing_since = self._failing_since or time.monotonic()
            log.exception("events: counts not stored (kept for the next try)")
            return counts
        self.metrics.events_pending.dec(Pending(counts, []).events)
        if self._failing_since is not None:
            log.warning("events: counts stored again after %.1f s", time.monotonic() - self._failing_since)
            self._failing_since = None
        return {}

    def _write(self, lines: list[tuple[str, bytes]]) -> list[tuple[str, bytes]]:
        if not lines or self.raw is None:
            return []
        try:
            self.raw.write(lines)
        except OSError as exc:
            log.warning("events: raw log not written yet (kept for the next try): %s", exc)
            return lines
        return []


def _rows(counts: dict[Key, list[int]]) -> list[Count]:
    return [Count(*key, impressions=i, clicks=c) for key, (i, c) in counts.items()]


# -- the recorder: what a request does --------------------------------------------------------------


class Recorder:
    """One worker's events: the limits, the duplicate memory, the tally and its flusher."""

    def __init__(self, settings: Settings, catalog: Catalog, metrics: Metrics) -> None:
        self.metrics = metrics
        self.limiter = RateLimiter(settings.events_rate)
        self.seen = Seen()
        self.known = Known()
        self.tally = Tally()
        raw = RawLog(settings.events_log_dir) if settings.events_log_dir is not None else None
        self.flusher = Flusher(self.tally, catalog, metrics, settings.events_flush_seconds, raw)
        # Every series exists from the start, at 0; and a label lookup per batch costs more than the
        # increment.
        self._dropped = {reason: metrics.events_dropped.labels(reason) for reason in REASONS}
        self._accepted = {kind: metrics.events.labels(kind) for kind in ("impression", "click")}
        for result in ("ok", "failed"):
            metrics.event_flushes.labels(result)
        self.raw = raw is not None

    def record(self, batch: Batch, state: ServiceState, user_agent: str | None) -> None:
        """Count the batch's valid events and drop the others by reason. Memory only."""
        dropped: Tallied[str] = Tallied()
        accepted: Tallied[str] = Tallied()
        counts: dict[Key, list[int]] = {}
        lines: list[tuple[str, bytes]] = []
        now = datetime.now(UTC)
        reason = self._batch_reason(batch, state, user_agent)
        recommender = state.recommender
        if reason is not None or recommender is None:
            dropped[reason or "unknown_version"] += len(batch.events)
        else:
            live = recommender.live.current()
            experiment = live.experiment
            day, hour, clock = now.strftime("%Y-%m-%d"), now.strftime("%Y%m%d%H"), time.monotonic()
            for event in batch.events:
                why = self._event_reason(batch, event, recommender, live, experiment, clock)
                if why is not None:
                    dropped[why] += 1
                    continue
                accepted[event.type] += 1
                arm = event.arm or batch.arm  # under interleaving, the arm that contributed the item
                totals = counts.setdefault(
                    (day, batch.article, event.block, event.position, batch.experiment, arm), [0, 0]
                )
                totals[event.type == "click"] += 1
                if self.raw:
                    lines.append((hour, _raw_line(now, batch, event, arm)))
        for why, n in dropped.items():
            self._dropped[why].inc(n)
        if accepted:
            for kind, n in accepted.items():
                self._accepted[kind].inc(n)
            taken = sum(accepted.values())
            lost = self.tally.add(counts, lines)
            self.metrics.events_pending.inc(taken - lost)
            if lost:
                log.error("events: %d counted events dropped, over the memory bound", lost)

    def _batch_reason(self, batch: Batch, state: ServiceState, user_agent: str | None) -> str | None:
        if is_crawler(user_agent):
            return "bot"
        recommender = state.recommender
        if recommender is None or batch.version not in (recommender.index.version, state.previous_version):
            return "unknown_version"
        if not self.known.has(recommender, recommender.live.current(), batch.article):
            return "unknown_article"
        return None

    def _event_reason(
        self,
        batch: Batch,
        event: Event,
        recommender: Recommender,
        live: LiveState,
        experiment: Experiment | None,
        clock: float,
    ) -> str | None:
        if event.block not in BLOCKS:
            return "bad_block"
        if not 0 <= event.position < MAX_POSITION:
            return "bad_position"
        if not self.known.has(recommender, live, event.item):
            return "unknown_item"
        if not arm_known(experiment, batch.experiment, batch.arm) or (
            event.arm is not None and not arm_known(experiment, batch.experiment, event.arm)
        ):
            return "unknown_arm"
        if not self.seen.first((batch.pv, event.type, event.block, event.position), clock):
            return "duplicate"
        return None


def _raw_line(now: datetime, batch: Batch, event: Event, arm: str) -> bytes:
    record = {
        "time": now.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        "pv": batch.pv,
        "article": batch.article,
        "version": batch.version,
        "experiment": batch.experiment,
        "arm": arm,
        "type": event.type,
        "block": event.block,
        "position": event.position,
        "item": event.item,
    }
    return orjson.dumps(record) + b"\n"


@contextlib.asynccontextmanager
async def flushing(recorder: Recorder | None) -> AsyncIterator[None]:
    """The flusher for the life of the app; its last flush runs when the app stops cleanly."""
    if recorder is None:
        yield
        return
    recorder.flusher.start()
    try:
        yield
    finally:
        await asyncio.to_thread(recorder.flusher.stop)
