"""The app factory: create_app(settings, encoder), lifespan, middleware, routers; app_from_env.

The lifespan builds the service's root (recsys/root.py) and loads the current
index version once, keeping the state on app.state; tests build their own app with their own settings
and encoder. Endpoints reach the state through typed dependencies (service/deps.py)."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import faiss
from fastapi import FastAPI
from threadpoolctl import threadpool_limits

from recsys.encoding.protocol import Encoder
from recsys.root import Root
from recsys.settings import Settings
from service.admin import router as admin_router
from service.autopublish import auto_publish
from service.builds import Builder
from service.caching import ResponseCache
from service.cms import router as cms_router
from service.demo import router as demo_router
from service.errors import install_error_handlers
from service.events import Recorder, flushing
from service.events_http import CorsByPath, EventsEndpoint
from service.events_http import router as events_router
from service.experiments import apply_experiments_file
from service.experiments import router as experiments_router
from service.fast_lists import FastLists
from service.limits import install_body_limit
from service.logs import configure as configure_logging
from service.metrics import Metrics
from service.pages import router as pages_router
from service.pressure import install_in_flight_limit
from service.report import router as report_router
from service.request_id import RequestId
from service.routes import router
from service.state import (
    ServiceState,
    follow_remote,
    follow_remote_at_startup,
    wait_for_catalog,
    watch_changes,
    watch_current,
)
from service.widget import router as widget_router

log = logging.getLogger(__name__)


def create_app(settings: Settings, encoder: Encoder | None = None) -> FastAPI:
    metrics = Metrics(settings.metrics_dir)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if settings.search_threads:
            faiss.omp_set_num_threads(settings.search_threads)
        # A request's matrices are tiny (a few dozen vectors): a multi-threaded BLAS only spins on
        # the cores the event loop needs (measured under wrk: a quarter of all samples).
        threadpool_limits(limits=1, user_api="blas")
        # A request that meets a write lock waits briefly, then gets 503 + Retry-After.
        root = Root.for_service(settings, encoder)
        await wait_for_catalog(root)
        await apply_experiments_file(root)
        state = ServiceState(
            root=root,
            metrics=metrics,
            responses=ResponseCache(settings.response_cache_size),
        )
        await follow_remote_at_startup(state)
        state.reload(force=True)
        state.builder = Builder(root, on_published=state.reload)
        app.state.recsys = state
        # Readers' events: counted in memory, added to the catalog by a thread (service/events.py).
        recorder = Recorder(settings, root.catalog, metrics) if settings.events else None
        app.state.recsys_events = recorder
        async with (
            flushing(recorder),
            watch_current(state, settings.reload_interval),
            follow_remote(state, settings.versions_poll_seconds),
            watch_changes(state, settings.change_poll_seconds),
            auto_publish(state, settings.auto_publish_interval),
        ):
            yield
        root.close()
        metrics.worker_exited()

    app = FastAPI(
        title="recsys: related stories",
        version="0.1.0",
        description="Related stories for news articles, from sentence embeddings in a FAISS index.",
        lifespan=lifespan,
    )

    if settings.cors_origin_list:
        # Public lists and readers' events only: admin endpoints are for the newsroom's servers, not
        # for browsers.
        app.add_middleware(CorsByPath, allow_origins=settings.cors_origin_list)
    install_error_handlers(app)
    install_body_limit(app, settings.max_body_bytes)
    metrics.install(app)
    app.include_router(router)
    if settings.events:  # off: /events is an unknown route (404)
        # Early in the table: routes are matched in order, and each one passed costs a /events
        # request (the most frequent one after the lists) several microseconds.
        app.include_router(events_router)
    # Page blocks, drafts and editorial overrides (ranking, issue 3).
    app.include_router(pages_router)
    app.include_router(admin_router)
    app.include_router(experiments_router)  # the running experiment (docs/experiments.md)
    # The click report (issue 20): counters read on the admin request only.
    app.include_router(report_router)
    # The CMS over HTTP: articles and builds (docs/cms.md).
    app.include_router(cms_router)
    # The widget's script and stylesheet (issue 12); the demo pages only where asked for.
    app.include_router(widget_router)
    if settings.demo_pages:
        app.include_router(demo_router)
    in_flight = install_in_flight_limit(app, settings.max_in_flight, metrics)
    # Outermost: refusals by back-pressure and the catch-all 500 carry the request id too.
    app.add_middleware(RequestId)
    if settings.events:
        # Ahead of everything: POST /events answered in one layer (service/events_http.py).
        app.add_middleware(EventsEndpoint, metrics=metrics, cors_origins=settings.cors_origin_list)
    # Ahead of everything: a page view's default list answered in one layer (service/fast_lists.py).
    app.add_middleware(
        FastLists, metrics=metrics, cors_origins=settings.cors_origin_list, in_flight=in_flight
    )
    return app


def app_from_env(encoder: Encoder | None = None) -> FastAPI:
    """The app with settings from the environment (`RECSYS_*`, `.env`): what each worker of
    `recsys serve --workers N` builds, and what a process manager imports, e.g.
    `uvicorn --factory service.app:app_from_env` or gunicorn with uvicorn workers. It also sets up
    logging from the settings (format, level, request ids), for uvicorn's loggers too."""
    settings = Settings()
    configure_logging(settings)
    return create_app(settings, encoder=encoder)
