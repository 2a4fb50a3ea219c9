"""Auto-publish: every N seconds, build and publish when articles changed since the current version.

RECSYS_AUTO_PUBLISH_INTERVAL sets N (docs/cms.md). Every worker process runs the check; the build
lock lets one build at a time, and the others skip quietly (service/builds.py publish_if_changed)."""

from __future__ import annotations

import contextlib
import logging

from service.builds import publish_if_changed
from service.state import ServiceState, periodically

log = logging.getLogger(__name__)


def check_once(state: ServiceState) -> None:
    if state.builder is None:
        return
    started = publish_if_changed(state.builder, state.query_side.catalog)
    if started is not None:
        served = state.served_version()
        log.info("auto-publish: articles changed since %s; build %s started", served, started.id)


def auto_publish(state: ServiceState, interval: float) -> contextlib.AbstractAsyncContextManager[None]:
    """The check, every `interval` seconds for the life of the app; 0 turns it off."""
    return periodically(lambda: check_once(state), interval, "auto-publish")
