"""The app factory. The lifespan builds the query side (recsys/queryside.py) and loads the current
index version once, keeping the state on app.state; tests build their own app with their own settings
and encoder. Endpoints reach the state through typed dependencies (service/deps.py)."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import faiss
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from threadpoolctl import threadpool_limits

from recsys.embed import Encoder
from recsys.errors import (
    ArticleNotFound,
    BuildLocked,
    ConfigError,
    IndexError_,
    InvalidInput,
    ModelLoadError,
    RecsysError,
)
from recsys.queryside import QuerySide
from recsys.settings import Settings
from service.admin import router as admin_router
from service.metrics import Metrics
from service.pages import router as pages_router
from service.routes import router
from service.state import ServiceState, watch_current

log = logging.getLogger(__name__)

# One place that says which domain error is which HTTP status.
_STATUS: list[tuple[type[RecsysError], int, str]] = [
    (ArticleNotFound, 404, "not_found"),
    (InvalidInput, 422, "invalid_input"),
    (IndexError_, 503, "index_unavailable"),
    (BuildLocked, 409, "build_locked"),
    (ModelLoadError, 503, "model_unavailable"),
    (ConfigError, 500, "config_error"),
]


def create_app(settings: Settings, encoder: Encoder | None = None) -> FastAPI:
    metrics = Metrics()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if settings.search_threads:
            faiss.omp_set_num_threads(settings.search_threads)
        # A request's matrices are tiny (a few dozen vectors): a multi-threaded BLAS only spins on
        # the cores the event loop needs (measured under wrk: a quarter of all samples).
        threadpool_limits(limits=1, user_api="blas")
        state = ServiceState(query_side=QuerySide.open(settings, encoder), metrics=metrics)
        state.reload(force=True)
        app.state.recsys = state
        async with watch_current(state, settings.reload_interval):
            yield
        state.query_side.catalog.close()

    app = FastAPI(
        title="recsys: related stories",
        version="0.1.0",
        description="Related stories for news articles, from sentence embeddings in a FAISS index.",
        lifespan=lifespan,
    )

    @app.exception_handler(RecsysError)
    async def domain_error(_: Request, exc: RecsysError) -> JSONResponse:
        for kind, status, name in _STATUS:
            if isinstance(exc, kind):
                return JSONResponse({"error": name, "detail": str(exc)}, status_code=status)
        return JSONResponse({"error": "error", "detail": str(exc)}, status_code=500)

    metrics.install(app)
    app.include_router(router)
    # Page blocks, drafts and editorial overrides (ranking, issue 3).
    app.include_router(pages_router)
    app.include_router(admin_router)
    return app
