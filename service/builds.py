"""Builds started by the service: one at a time under the build lock, with status documents.

`POST /admin/builds` and auto-publish start them: one at a time under the build
lock, each in a background thread, each with a status document that every worker process can read.

The lock is taken before the build is accepted, so a second request is refused (BuildLocked, HTTP
409) instead of failing later; the same lock keeps `recsys build` and the service apart, and on a
PostgreSQL catalog the catalog's lock keeps builds on other hosts apart too (index/build.py). Status
documents are JSON files in `<data>/builds/<id>.json`, replaced whole on every change
(storage.replace_text), so any worker answers `GET /admin/builds/<id>` the same. A build id sorts by
time, so the newest file is the latest build. A document still saying queued or running while no
process holds the lock belongs to a process that died mid-build: it is read as failed.
"""

from __future__ import annotations

import json
import logging
import os
import re
import threading
import time
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import asdict, dataclass, fields, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

from index.build import BuildReport, build_index, build_lock
from recsys.articles import format_timestamp
from recsys.catalog.store import Catalog
from recsys.encoding.protocol import Encoder
from recsys.errors import BuildLocked, IndexError_, RecsysError
from recsys.root import Root
from recsys.storage import replace_text, writing
from recsys.version.store import IndexStore, new_version_id

log = logging.getLogger(__name__)

BuildState = Literal["queued", "running", "succeeded", "failed"]
Trigger = Literal["api", "auto"]
KEEP_BUILDS = 100  # status documents kept; older ones are removed when a build starts
# new_version_id's shape: anything else cannot name a status file (no paths, no dots).
_BUILD_ID = re.compile(r"\d{8}T\d{9}Z-[0-9a-f]{4}")
DIED = "the process running this build ended before it finished (stopped or killed); start another"


def _now() -> str:
    return format_timestamp(datetime.now(UTC))


@dataclass(frozen=True)
class BuildStatus:
    """The status document of one build (docs/cms.md describes each field)."""

    id: str
    state: BuildState
    trigger: Trigger
    full: bool
    requested_at: str
    pid: int
    catalog_generation: int | None = None
    started_at: str | None = None
    finished_at: str | None = None
    seconds: float | None = None
    previous_version: str | None = None
    version: str | None = None
    articles: int | None = None
    embedded: int | None = None
    reused: int | None = None
    added: int | None = None
    changed: int | None = None
    removed: int | None = None
    lists_computed: int | None = None
    error: str | None = None

    @property
    def active(self) -> bool:
        return self.state in ("queued", "running")

    def finished(self, started: float, **outcome: object) -> BuildStatus:
        return replace(
            self,
            finished_at=_now(),
            seconds=round(time.monotonic() - started, 3),
            **outcome,  # type: ignore[arg-type]
        )

    def succeeded(self, started: float, report: BuildReport) -> BuildStatus:
        changes = report.changes
        return self.finished(
            started,
            state="succeeded",
            version=report.version,
            previous_version=changes.previous if changes else None,
            articles=report.articles,
            embedded=report.embedded,
            reused=report.reused,
            added=changes.added if changes else None,
            changed=changes.changed if changes else None,
            removed=changes.removed if changes else None,
            lists_computed=report.lists_computed,
        )


class BuildLog:
    """The status documents in one folder."""

    def __init__(self, folder: Path, store: IndexStore) -> None:
        self.folder = folder
        self.store = store

    def write(self, status: BuildStatus) -> None:
        with writing(self.folder):
            self.folder.mkdir(parents=True, exist_ok=True)
        replace_text(self.folder / f"{status.id}.json", json.dumps(asdict(status), indent=2) + "\n")

    def get(self, build_id: str) -> BuildStatus | None:
        """The build's status, or None for an id no build has (any text that is not an id included)."""
        if not _BUILD_ID.fullmatch(build_id):
            return None
        try:
            data = json.loads((self.folder / f"{build_id}.json").read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None
        known = {f.name for f in fields(BuildStatus)}
        status = BuildStatus(**{k: v for k, v in data.items() if k in known})
        if status.active and not self.store.build_running():
            # Written while the lock was held, and final before it was released: nobody is building.
            return replace(status, state="failed", error=DIED)
        return status

    def ids(self) -> list[str]:
        """Build ids, oldest first."""
        if not self.folder.is_dir():
            return []
        return sorted(p.stem for p in self.folder.glob("*.json") if _BUILD_ID.fullmatch(p.stem))

    def latest(self) -> BuildStatus | None:
        ids = self.ids()
        return self.get(ids[-1]) if ids else None

    def recent(self, limit: int) -> list[BuildStatus]:
        """The newest `limit` builds, newest first."""
        found = (self.get(build_id) for build_id in reversed(self.ids()[-limit:]))
        return [status for status in found if status is not None]

    def prune(self, keep: int) -> None:
        for build_id in self.ids()[:-keep]:
            (self.folder / f"{build_id}.json").unlink(missing_ok=True)


def catalog_changed(catalog: Catalog, store: IndexStore) -> bool:
    """Whether an article was added, edited, retracted or deleted since the current version was built
    (pins and blocks act without a build and do not count)."""
    current = store.current_version()
    if current is None:
        return catalog.count("published") > 0
    try:
        generation = store.read_manifest(current).data.get("catalog_generation")
    except IndexError_:
        return True  # a broken current version: a build replaces it
    if not isinstance(generation, int):
        return True
    rows, deleted = catalog.changed_since(generation)
    return bool(rows or deleted)


def publish_if_changed(builder: Builder, catalog: Catalog) -> BuildStatus | None:
    """Auto-publish's one step: start a build when the catalog changed since the current version,
    unless a build runs (in any process: skipped quietly) or the latest one failed on this very
    catalog (it would fail again; the next change retries)."""
    if not catalog_changed(catalog, builder.store):
        return None
    generation = catalog.generation()
    latest = builder.log.latest()
    if latest is not None and latest.state == "failed" and latest.catalog_generation == generation:
        return None
    try:
        return builder.start(trigger="auto", generation=generation)
    except BuildLocked:
        log.debug("auto-publish: another build is running; skipped")
        return None


class Builder:
    """Starts builds in this process, with the root's model and index store; `on_published` runs after
    each publish (the service's reload), before the status says succeeded and the lock is released."""

    def __init__(self, root: Root, on_published: Callable[[], object]) -> None:
        self.root = root
        self.settings = root.settings
        self.on_published = on_published
        self.store = root.store
        self.log = BuildLog(root.settings.data_dir / "builds", self.store)
        self._threads: dict[str, threading.Thread] = {}
        self._threads_lock = threading.Lock()

    def start(
        self, *, full: bool = False, trigger: Trigger = "api", generation: int | None = None
    ) -> BuildStatus:
        """Take the build lock (BuildLocked if another build holds it), record the build as queued and
        start it in a background thread; returns at once. A root without a model: ModelLoadError."""
        encoder = self.root.encoder
        lock = ExitStack()
        lock.enter_context(build_lock(self.store, self.root.catalog))
        status = BuildStatus(
            id=new_version_id(),
            state="queued",
            trigger=trigger,
            full=full,
            requested_at=_now(),
            pid=os.getpid(),
            catalog_generation=generation,
        )
        thread = threading.Thread(
            target=self._run, args=(status, encoder, lock), name=f"recsys-build-{status.id}", daemon=True
        )
        # Registered before its status file is written: a caller that sees the file must also find the
        # thread to wait on.
        with self._threads_lock:
            self._threads = {i: t for i, t in self._threads.items() if t.is_alive()}
            self._threads[status.id] = thread
        try:
            self.log.write(status)
            self.log.prune(KEEP_BUILDS)
            thread.start()
        except BaseException:
            with self._threads_lock:
                self._threads.pop(status.id, None)
            lock.close()
            raise
        log.info("build %s started (%s%s)", status.id, trigger, ", full" if full else "")
        return status

    def wait(self, build_id: str, timeout: float | None = None) -> None:
        """Wait for a build this process started (tests; a clean shutdown)."""
        with self._threads_lock:
            thread = self._threads.get(build_id)
        if thread is None:
            return
        # Registered, and its status file written, just before it starts: a caller that saw the file
        # may get here first (join would refuse a thread not yet started).
        started_by = time.monotonic() + 10
        while thread.ident is None and time.monotonic() < started_by:
            time.sleep(0.01)
        if thread.ident is not None:
            thread.join(timeout)

    def _run(self, status: BuildStatus, encoder: Encoder, lock: ExitStack) -> None:
        with lock:
            started = time.monotonic()
            status = replace(status, state="running", started_at=_now())
            catalog = self.root.open_catalog()  # its own connection, with the CLI's patience
            try:
                self.log.write(status)
                report = build_index(self.settings, catalog, encoder, full=status.full, locked=True)
                status = status.succeeded(started, report)
                self._published()
                log.info("build %s: %s", status.id, report.summary())
            except RecsysError as exc:
                status = status.finished(started, state="failed", error=str(exc))
                log.error("build %s failed: %s", status.id, exc)
            except Exception as exc:  # a bug: the status must still end, and the lock be released
                status = status.finished(
                    started, state="failed", error=f"internal error ({type(exc).__name__})"
                )
                log.exception("build %s failed", status.id)
            finally:
                catalog.dispose()
            try:
                self.log.write(status)
            except RecsysError as exc:  # the disk refused: the document reads as failed once unlocked
                log.error("build %s: cannot record its end: %s", status.id, exc)

    def _published(self) -> None:
        try:
            self.on_published()
        except Exception:  # published is published: a failed reload is the watcher's to retry
            log.exception("reload after the build failed")
