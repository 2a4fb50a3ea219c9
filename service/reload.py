"""Hot reload: noticing that the CURRENT pointer moved (a build or a rollback) and swapping the served
index version without a restart.

Two ways in: a watcher task that polls the pointer every `RECSYS_RELOAD_INTERVAL` seconds, and
`POST /admin/reload`. Both load in a worker thread, never on the event loop, so requests keep being
answered while a large index is read and checksummed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from service.app import ServiceState

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ReloadOutcome:
    served_version: str | None
    current_version: str | None
    reloaded: bool
    error: str | None

    @property
    def up_to_date(self) -> bool:
        return self.current_version is not None and self.served_version == self.current_version


def served_version(state: ServiceState) -> str | None:
    recommender = state.recommender
    return recommender.index.version if recommender is not None else None


def reload_if_changed(state: ServiceState, *, retry_refused: bool = False) -> ReloadOutcome:
    """Swap to the current version if it is not the one served. A version refused before is skipped
    unless `retry_refused` (the admin endpoint retries; the watcher does not)."""
    current = state.store.current_version()
    reloaded = False
    stale = current is not None and current != served_version(state)
    if stale and (retry_refused or current != state.refused_version):
        reloaded = state.load_current(current)
    return ReloadOutcome(
        served_version=served_version(state),
        current_version=current,
        reloaded=reloaded,
        error=state.reload_error if state.recommender is not None else state.index_error,
    )


async def _watch(state: ServiceState, interval: float) -> None:
    while True:
        await asyncio.sleep(interval)
        try:
            await asyncio.to_thread(reload_if_changed, state)
        except Exception:  # the watcher must outlive any one failure, or reloads stop silently
            log.exception("index watcher: reload check failed")


@contextlib.asynccontextmanager
async def watch_current(state: ServiceState, interval: float) -> AsyncIterator[None]:
    """Run the watcher for the life of the app; an interval of 0 turns it off."""
    if interval <= 0:
        yield
        return
    task = asyncio.create_task(_watch(state, interval), name="recsys-index-watcher")
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
