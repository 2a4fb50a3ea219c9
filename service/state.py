"""What a running service holds, and what keeps it current without a restart (hot reload, changes).

Both run off the request path:

- Hot reload: noticing that the CURRENT pointer moved (a build or a rollback) and swapping the
  served index version. Two ways in: a watcher task that polls the pointer every
  `RECSYS_RELOAD_INTERVAL` seconds, and `POST /admin/reload`. Both load in a worker thread, never on
  the event loop, so requests keep being answered while a large index is read and checksummed.
  Whether a reload is needed is decided, and decided again after the load, inside one lock: a load
  that a rollback overtook is not swapped in.
- Catalog changes (retractions, edits, deletions, pins, blocks): the served version's live state
  (recsys/serving/live.py) is refreshed by a watcher thread that follows the catalog's change feed
  (recsys/catalog/changes.py: PostgreSQL's notifications, or a poll of SQLite's generation every
  `RECSYS_CHANGE_POLL_SECONDS`), and right after every write this process makes (`refresh_live`,
  called by the admin and CMS endpoints before they answer). Requests only read the state the last
  refresh swapped in.
- Articles the served version does not hold (imported since the build): the change watcher also
  prepares their bodies and vectors (recsys/serving/unindexed.py) before each wait on the feed, so
  their lists are made from memory too; a write's own refresh does not wait for that, and a hot swap
  takes what the previous version prepared and wakes the watcher for the rest.
- A catalog that cannot be reached (a PostgreSQL server down): lists keep being answered from the
  state in memory, flagged stale in /health and the `recsys_catalog_reachable` metric; the watcher
  tries again every RECONNECT_SECONDS and, once it reaches the catalog, catches up before the flag
  is lowered.
- Index versions in object storage (RECSYS_VERSIONS_URL, recsys/version/remote.py): a follower task
  reads the object store's CURRENT every `RECSYS_VERSIONS_POLL_SECONDS`; when it names a version this
  replica does not serve, the version is downloaded into the local index folder, every file checked
  against the manifest, and made the local CURRENT, which the hot reload then swaps in. A version
  that fails a check is refused once (a log line, `recsys_version_downloads_total{result="refused"}`)
  and the old one keeps serving; an object store that cannot be reached is flagged in /health and
  `recsys_versions_reachable`, and the replica keeps serving what it has. At start-up the follower
  runs once before the first load, so a replica that joins late serves the current version at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Literal

from recsys.catalog.changes import ChangeFeed, change_feed
from recsys.catalog.postgres import redacted
from recsys.errors import (
    BuildLocked,
    CatalogBusy,
    IndexError_,
    IndexMismatch,
    IndexMissing,
    ObjectStoreError,
    RecsysError,
)
from recsys.root import Root
from recsys.serving.queryside import QuerySide
from recsys.serving.recommend import Recommender
from recsys.settings import Settings
from service.builds import Builder
from service.caching import ResponseCache
from service.metrics import Metrics

log = logging.getLogger(__name__)

CATALOG_COUNT_TTL = 5.0
MAX_RELOAD_ROUNDS = 3  # loads in one reload when CURRENT keeps moving; the next check catches up
RECONNECT_SECONDS = 1.0  # between the change watcher's tries while the catalog cannot be reached
STARTUP_RETRY_SECONDS = 2.0  # between tries to open the catalog at start-up
STARTUP_REMINDER_SECONDS = 60.0  # a start-up that still waits says so again this often
# How long a starting worker waits for the index folder's lock (held by another worker downloading the
# same version, or a build) before it starts with what the folder has.
STARTUP_LOCK_SECONDS = 120.0

# What one look at the object store's CURRENT did (ServiceState.follow_remote).
Followed = Literal["off", "moved", "same", "locked", "refused", "unreachable"]


@dataclass(frozen=True)
class ReloadOutcome:
    served_version: str | None
    current_version: str | None
    reloaded: bool
    error: str | None

    @property
    def up_to_date(self) -> bool:
        return self.current_version is not None and self.served_version == self.current_version


@dataclass
class ServiceState:
    root: Root  # everything built from the settings: catalog, store, recipe, encoder, overrides
    metrics: Metrics
    responses: ResponseCache = field(default_factory=lambda: ResponseCache(0))
    recommender: Recommender | None = None
    # The version served before the last swap: pages may still hold its lists (reader events).
    previous_version: str | None = None
    index_error: str | None = None
    # Hot reload: why the current version is not the one served, and which version that was (so the
    # watcher does not retry, and log, the same broken version every few seconds).
    reload_error: str | None = None
    refused_version: str | None = None
    # Starts builds in this process (POST /admin/builds, auto-publish); set by the lifespan.
    builder: Builder | None = None
    _reload_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    # /health is polled often and COUNT(*) scans the table (about 80 ms at a million articles): the
    # count is refreshed at most every CATALOG_COUNT_TTL seconds.
    _count: tuple[float, int] | None = field(default=None, repr=False)
    # Since when (Unix time) the change watcher could not reach the catalog, and why; None while it
    # can. Meanwhile the live state is stale: lists come from memory, writes get 503.
    catalog_unreachable_since: float | None = None
    catalog_error: str | None = None
    # The object store of index versions: since when it could not be reached, and why; and the last
    # version it offered that failed a check (not downloaded again until CURRENT names another).
    versions_unreachable_since: float | None = None
    versions_error: str | None = None
    download_refused: str | None = None
    download_error: str | None = None
    # Set to end the change watcher's wait on the feed early: a hot swap (the new version's articles
    # to prepare), or the watcher's stop.
    watcher_wake: threading.Event = field(default_factory=threading.Event, repr=False)

    def catalog_unreachable(self, error: RecsysError) -> None:
        """The change watcher could not read the catalog: said once in the log, then in /health."""
        self.catalog_error = str(error)
        if self.catalog_unreachable_since is None:
            self.catalog_unreachable_since = time.time()
            self.metrics.catalog_reachable.set(0)
            log.error(
                "catalog unreachable: %s; lists are answered from memory (stale), writes get 503 "
                "until it is back; retrying every %.0f s",
                error,
                RECONNECT_SECONDS,
            )

    def catalog_reached(self) -> None:
        """The change watcher read the catalog again, and caught up."""
        since = self.catalog_unreachable_since
        if since is not None:
            self.catalog_unreachable_since = self.catalog_error = None
            self.metrics.catalog_reachable.set(1)
            log.warning("catalog reachable again after %.1f s; caught up", time.time() - since)

    def follow_remote(self) -> Followed:
        """Make the object store's CURRENT this replica's local CURRENT, downloading the version and
        checking every file first if the index folder lacks it; "moved" when the local CURRENT moved
        (the caller reloads). Never raises for what the next look may cure."""
        remote = self.root.remote
        if remote is None:
            return "off"
        store = self.query_side.store
        version = None
        try:
            version = remote.current()
            if version is not None and version == self.download_refused:
                self._versions_reached()
                return "refused"
            moved = (
                version is not None
                and version != store.current_version()  # the usual answer: no lock taken
                and remote.install(store, version, keep=self.settings.keep_versions)
            )
        except ObjectStoreError as exc:
            self._versions_unreachable(exc)
            return "unreachable"
        except BuildLocked:  # a build, or another worker downloading it: the next look sees it done
            self._versions_reached()
            return "locked"
        except IndexError_ as exc:
            self._versions_reached()
            if str(exc) != self.download_error:  # said once, not every few seconds
                self.download_refused, self.download_error = version, str(exc)
                self.metrics.version_downloads.labels("refused").inc()
                log.error(
                    "refused index version %s from %s: %s; still serving %s",
                    version,
                    remote.url,
                    exc,
                    self.served_version(),
                )
            return "refused"
        self._versions_reached()
        self.download_refused = self.download_error = None  # CURRENT names another version now
        if not moved:
            return "same"
        self.metrics.version_downloads.labels("installed").inc()
        return "moved"

    def _versions_unreachable(self, error: RecsysError) -> None:
        self.versions_error = str(error)
        if self.versions_unreachable_since is None:
            self.versions_unreachable_since = time.time()
            self.metrics.versions_reachable.set(0)
            log.error("object store unreachable: %s; serving the versions this replica has", error)

    def _versions_reached(self) -> None:
        since = self.versions_unreachable_since
        if since is not None:
            self.versions_unreachable_since = self.versions_error = None
            self.metrics.versions_reachable.set(1)
            log.warning("object store reachable again after %.1f s", time.time() - since)

    @property
    def query_side(self) -> QuerySide:
        return self.root.query_side

    @property
    def settings(self) -> Settings:
        return self.root.settings

    def public(self, text: str | None) -> str | None:
        """`text` without the server's own paths (data folder, catalog, index folder): what public
        answers may say. Admin answers and the log keep the full text."""
        if text is None:
            return None
        s = self.settings
        if s.catalog_is_postgres:  # the server's address, as messages name it (without its password)
            text = text.replace(redacted(str(s.catalog_location)), "<catalog>")
        # The object store of versions, and its server (obstore's messages name the request's URL).
        stores = ((s.versions_url.strip().rstrip("/"), "<versions>"), (s.versions_endpoint.strip(), "<s3>"))
        for address, name in stores:
            if address:
                text = text.replace(address, name)
        for path, name in ((s.index_root, "<index>"), (s.catalog_file, "<catalog>"), (s.data_dir, "<data>")):
            for form in sorted({str(path.resolve()), str(path)}, key=len, reverse=True):
                text = text.replace(form, name)
        return text

    def serving(self) -> Recommender:
        """The recommender of the served version; IndexMissing (HTTP 503) when none could be loaded."""
        recommender = self.recommender
        if recommender is None:
            raise IndexMissing(self.index_error or "no index loaded")
        return recommender

    def served_version(self) -> str | None:
        recommender = self.recommender
        return recommender.index.version if recommender is not None else None

    def refresh_live(self) -> None:
        """Bring the served live state up to the catalog now: after a write through this process has
        committed (so that its own response, and every request after it, see it), and from the
        change watcher. A hot swap refreshes the new version's state after the swap, so a write
        committed while a version loaded is not lost."""
        recommender = self.recommender
        if recommender is not None:
            recommender.refresh()

    def catalog_count(self) -> int | None:
        """The catalog's article count, at most CATALOG_COUNT_TTL seconds old; while the catalog cannot
        be reached, the last one read (None if none was), without waiting on the server."""
        now = time.monotonic()
        if (self._count is None or now - self._count[0] > CATALOG_COUNT_TTL) and (
            self.catalog_unreachable_since is None
        ):
            try:
                self._count = (now, self.query_side.catalog.count())
            except RecsysError as exc:
                log.warning("catalog count not read: %s", exc)
        return self._count[1] if self._count is not None else None

    # -- reloading -------------------------------------------------------------------------------------

    def reload(self, *, retry_refused: bool = False, force: bool = False) -> ReloadOutcome:
        """Serve the version CURRENT names, if it is not the one served. A version refused before is
        skipped unless `retry_refused` (the admin endpoint retries; the watcher does not). `force`
        loads even when nothing is served yet (start-up)."""
        with self._reload_lock:
            reloaded = False
            # Decided, and decided again after each load, inside the lock: a load that CURRENT moved
            # away from while it ran (a rollback, another build) is not swapped in; what CURRENT names
            # now is loaded instead.
            for _ in range(MAX_RELOAD_ROUNDS):
                current = self.query_side.store.current_version()
                stale = current != self.served_version() or (force and self.recommender is None)
                retry = retry_refused or force or current != self.refused_version
                if not ((current is not None or force) and stale and retry):
                    break
                outcome = self._load(current)
                reloaded = reloaded or outcome is True
                if outcome is not None:
                    break
            return ReloadOutcome(
                served_version=self.served_version(),
                current_version=self.query_side.store.current_version(),
                reloaded=reloaded,
                error=self.reload_error if self.recommender is not None else self.index_error,
            )

    def _load(self, version: str | None) -> bool | None:
        """Load `version` and swap it in (called with the lock held); on failure keep serving what was
        loaded before. The swap is one assignment: a request holds the Recommender it started with.
        Returns whether it swapped, or None when CURRENT moved while it loaded."""
        try:
            try:
                # The change watcher prepares its unindexed articles, not the refreshes after writes.
                recommender = self.query_side.load(version, watched=True)
            except IndexMismatch:
                # With `auto`, a version built with another backend than the one loaded (a build
                # chose again) is served with its own: the root loads it (Root.follow_version).
                if version is None or not self.root.follow_version(version):
                    raise
                recommender = self.query_side.load(version, watched=True)
        except IndexError_ as exc:
            self.refused_version = version
            if self.recommender is None:
                self.index_error = str(exc)
                log.error("index not loaded: %s", exc)
            else:
                self.reload_error = str(exc)
                self.metrics.index_reloads.labels("refused").inc()
                log.error(
                    "refused index version %s: %s; still serving %s", version, exc, self.served_version()
                )
            return False
        if self.query_side.store.current_version() != version and self.recommender is not None:
            # CURRENT moved while this version loaded (a rollback, another build): the next check
            # loads what it names now; swapping this one in would serve a version nobody points at.
            log.info("index version %s loaded but no longer current; not swapped in", version)
            return None
        previous = self.served_version()
        if self.recommender is not None:
            recommender.subjects.adopt(self.recommender.subjects)
        if previous is not None and previous != recommender.index.version:
            self.previous_version = previous
        self.recommender = recommender
        # A write that committed while this version loaded refreshed the one it replaces.
        try:
            recommender.refresh()
        except RecsysError as exc:
            log.warning("catalog changes not read after the swap (the change watcher will): %s", exc)
        self.watcher_wake.set()  # the articles this version lacks: prepared by the watcher
        self.index_error = self.reload_error = self.refused_version = None
        self.metrics.index_articles.set(len(recommender.index.vectors))
        if previous is not None and previous != recommender.index.version:
            self.metrics.index_reloads.labels("swapped").inc()
            log.info("now serving index version %s (was %s)", recommender.index.version, previous)
        return True


async def wait_for_catalog(root: Root) -> None:
    """Open the catalog before anything is served, waiting while it cannot be reached (a PostgreSQL
    server down): said in one log line, repeated every STARTUP_REMINDER_SECONDS, and tried again every
    STARTUP_RETRY_SECONDS. Until then the app does not start, so its port answers nothing and a load
    balancer keeps sending pages to the replicas that can answer: serving the index alone would list
    every article retracted, deleted or blocked since it was built, and the schema check (a replica
    never runs on a schema it does not know) needs the catalog too. Other refusals (no schema, a bad
    URL) still stop the start."""

    def reach() -> None:
        root.catalog.close()  # opened and checked; this thread's connection goes back to the pool

    waiting_since: float | None = None
    said_at = 0.0
    while True:
        try:
            await asyncio.to_thread(reach)
        except CatalogBusy as exc:
            now = time.monotonic()
            if waiting_since is None:
                waiting_since = now
            if now - said_at >= STARTUP_REMINDER_SECONDS or said_at == 0.0:
                said_at = now
                log.error(
                    "catalog unreachable at start-up (%.0f s so far): %s; not serving until it answers, "
                    "retrying every %.0f s",
                    now - waiting_since,
                    exc,
                    STARTUP_RETRY_SECONDS,
                )
            await asyncio.sleep(STARTUP_RETRY_SECONDS)
            continue
        if waiting_since is not None:
            log.warning("catalog reached after %.0f s; starting", time.monotonic() - waiting_since)
        return


async def _every(step: Callable[[], object], interval: float, name: str) -> None:
    while True:
        await asyncio.sleep(interval)
        try:
            await asyncio.to_thread(step)
        except RecsysError as exc:  # a busy catalog, a full disk: the next round tries again
            log.warning("%s: %s", name, exc)
        except Exception:  # the loop must outlive any one failure, or it stops silently
            log.exception("%s failed", name)


@contextlib.asynccontextmanager
async def periodically(step: Callable[[], object], interval: float, name: str) -> AsyncIterator[None]:
    """Run `step` in a worker thread every `interval` seconds for the life of the app (never on the
    event loop); an interval of 0 turns it off."""
    if interval <= 0:
        yield
        return
    task = asyncio.create_task(_every(step, interval, name), name=f"recsys-{name.replace(' ', '-')}")
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


def watch_current(state: ServiceState, interval: float) -> contextlib.AbstractAsyncContextManager[None]:
    """The watcher: reload when CURRENT moves."""
    return periodically(state.reload, interval, "index watcher")


async def follow_remote_at_startup(state: ServiceState) -> None:
    """Before the first load: bring the object store's current version into the index folder, so a
    replica that joins late serves it from its first answer. A worker that finds the folder locked
    (another worker downloading, a build) waits for it, at most STARTUP_LOCK_SECONDS."""
    if state.root.remote is None:  # a bad URL or a missing extra (ConfigError) stops the start here
        return
    deadline = time.monotonic() + STARTUP_LOCK_SECONDS
    while True:
        try:
            followed = await asyncio.to_thread(state.follow_remote)
        except RecsysError as exc:  # a full disk: serve what the folder has; the follower tries again
            log.error("index version not taken from the object store at start-up: %s", exc)
            return
        if followed != "locked" or time.monotonic() > deadline:
            return
        await asyncio.sleep(0.2)


def follow_remote(state: ServiceState, interval: float) -> contextlib.AbstractAsyncContextManager[None]:
    """The follower: download and serve the version the object store's CURRENT names."""

    def step() -> None:
        state.follow_remote()
        # Whoever moved the local CURRENT (this worker, or another one that held the folder's lock
        # meanwhile): reading it is one small file, and reload loads only when it names another version.
        state.reload()

    return periodically(step, interval if state.root.remote is not None else 0, "version follower")


class ChangeWatcher:
    """A daemon thread that follows the catalog's change feed and refreshes the served live state
    whenever the generation moves. The feed (SQLite's poll, PostgreSQL's notifications) is the one
    seam between the backends: the thread only waits on it, and says when the catalog cannot be
    reached and when it can again (ServiceState.catalog_unreachable, catalog_reached)."""

    def __init__(self, state: ServiceState, feed: ChangeFeed, interval: float) -> None:
        self.state = state
        self.feed = feed
        self.interval = interval  # the wait after a failure, and while nothing is served
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="recsys-change-watcher", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self.state.watcher_wake.set()
        self._thread.join()

    def _run(self) -> None:
        try:
            while not self._stop.is_set():
                try:
                    self._follow()
                except RecsysError as exc:  # a busy or unreachable catalog: the next round tries again
                    self.state.catalog_unreachable(exc)
                    self._stop.wait(max(self.interval, RECONNECT_SECONDS))
                except Exception:  # the thread must outlive any one failure, or changes stop silently
                    log.exception("change watcher failed")
                    self._stop.wait(self.interval)
        finally:
            self.feed.close()

    def _follow(self) -> None:
        recommender = self.state.recommender
        if recommender is None:  # nothing served yet: nothing to keep current
            self._stop.wait(self.interval)
            return
        if self.state.catalog_unreachable_since is not None:
            # Back from an outage: catch up on what was committed meanwhile before saying so. The
            # feed may wait for the next change (a poll finds none, a listener already connected
            # gets no notification), so this read, not the feed, ends the outage.
            self.state.refresh_live()
            self.state.catalog_reached()
        seen = recommender.live.generation
        wake = self.state.watcher_wake
        wake.clear()
        # Off the request path: the articles the version lacks, up to the state read above (a write
        # committed after it moves the generation past `seen`, so the wait returns at once).
        recommender.prepare()
        if self._stop.is_set():
            return
        if self.feed.wait(seen, wake) != seen:
            self.state.refresh_live()


@contextlib.asynccontextmanager
async def watch_changes(state: ServiceState, interval: float) -> AsyncIterator[None]:
    """The change watcher for the life of the app, on the catalog's feed: PostgreSQL's notifications,
    or SQLite's generation polled every `interval` seconds."""
    feed = change_feed(
        state.query_side.catalog, interval=interval, safety_poll=state.settings.change_safety_poll_seconds
    )
    watcher = ChangeWatcher(state, feed, interval)
    watcher.start()
    try:
        yield
    finally:
        await asyncio.to_thread(watcher.stop)  # at most one poll interval
