"""The app factory. The lifespan opens the catalog, loads the encoder and the current index version
once, and keeps them on app.state; tests build their own app with their own settings and encoder."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from recsys.catalog import Catalog
from recsys.embed import Encoder, SentenceTransformerEncoder, TextRecipe
from recsys.errors import (
    ArticleNotFound,
    BuildLocked,
    ConfigError,
    IndexError_,
    InvalidInput,
    ModelLoadError,
    RecsysError,
)
from recsys.ranking import Policy
from recsys.recommend import Recommender
from recsys.settings import Settings
from recsys.store import IndexStore
from service.admin import router as admin_router
from service.metrics import Metrics
from service.pages import router as pages_router
from service.routes import router

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


@dataclass
class ServiceState:
    settings: Settings
    catalog: Catalog
    encoder: Encoder
    recipe: TextRecipe
    store: IndexStore
    metrics: Metrics
    recommender: Recommender | None = None
    index_error: str | None = None

    def load_current(self) -> None:
        """Load the current index version; on failure keep serving what was loaded before."""
        try:
            loaded = self.store.load(
                expect_model=self.encoder.name,
                expect_dimension=self.encoder.dimension,
                expect_recipe=self.recipe.id,
            )
        except IndexError_ as exc:
            self.index_error = str(exc)
            log.error("index not loaded: %s", exc)
            return
        self.recommender = Recommender(
            self.catalog, loaded, self.encoder, self.recipe, policy=Policy.from_settings(self.settings)
        )
        self.index_error = None
        self.metrics.index_articles.set(len(loaded.vectors))


def create_app(settings: Settings, encoder: Encoder | None = None) -> FastAPI:
    metrics = Metrics()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        state = ServiceState(
            settings=settings,
            catalog=Catalog(settings.catalog_file),
            encoder=encoder or SentenceTransformerEncoder(settings.model, settings.device),
            recipe=TextRecipe(max_words=settings.recipe_max_words),
            store=IndexStore(settings.index_root),
            metrics=metrics,
        )
        state.load_current()
        app.state.recsys = state
        yield
        state.catalog.close()

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
