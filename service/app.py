"""The app factory. The lifespan opens the catalog, loads the encoder and the current index version
once, and keeps them on app.state; tests build their own app with their own settings and encoder."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

import faiss
from fastapi import FastAPI

from recsys.catalog import Catalog
from recsys.embed import Encoder, SentenceTransformerEncoder, TextRecipe
from recsys.errors import IndexError_
from recsys.ranking import Policy
from recsys.recommend import Recommender
from recsys.settings import Settings
from recsys.store import IndexStore
from service.admin import router as admin_router
from service.errors import install_error_handlers
from service.limits import install_body_limit
from service.metrics import Metrics
from service.pages import router as pages_router
from service.reload import watch_current
from service.routes import router

log = logging.getLogger(__name__)

CATALOG_COUNT_TTL = 5.0


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
    # Hot reload: why the current version is not the one served, and which version that was (so the
    # watcher does not retry, and log, the same broken version every few seconds).
    reload_error: str | None = None
    refused_version: str | None = None
    _reload_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    # /health is polled often and COUNT(*) scans the table (about 80 ms at a million articles): the
    # count is refreshed at most every CATALOG_COUNT_TTL seconds.
    _count: tuple[float, int] | None = field(default=None, repr=False)

    def catalog_count(self) -> int:
        now = time.monotonic()
        if self._count is None or now - self._count[0] > CATALOG_COUNT_TTL:
            self._count = (now, self.catalog.count())
        return self._count[1]

    def load_current(self, version: str | None = None) -> bool:
        """Load the current index version (or `version`) and swap it in; on failure keep serving what
        was loaded before. Returns whether the swap happened.

        The swap is one assignment: a request holds the Recommender it started with, so in-flight
        requests finish on the old version and the next ones get the new one.
        """
        with self._reload_lock:
            version = version or self.store.current_version()
            try:
                loaded = self.store.load(
                    version,
                    expect_model=self.encoder.name,
                    expect_dimension=self.encoder.dimension,
                    expect_recipe=self.recipe.id,
                )
            except IndexError_ as exc:
                self.refused_version = version
                if self.recommender is None:
                    self.index_error = str(exc)
                    log.error("index not loaded: %s", exc)
                else:
                    self.reload_error = str(exc)
                    self.metrics.index_reloads.labels("refused").inc()
                    log.error(
                        "refused index version %s: %s; still serving %s",
                        version,
                        exc,
                        self.recommender.index.version,
                    )
                return False
            previous = self.recommender.index.version if self.recommender else None
            self.recommender = Recommender(
                self.catalog, loaded, self.encoder, self.recipe, policy=Policy.from_settings(self.settings)
            )
            self.index_error = self.reload_error = self.refused_version = None
            self.metrics.index_articles.set(len(loaded.vectors))
            if previous is not None and previous != loaded.version:
                self.metrics.index_reloads.labels("swapped").inc()
                log.info("now serving index version %s (was %s)", loaded.version, previous)
            return True


def create_app(settings: Settings, encoder: Encoder | None = None) -> FastAPI:
    metrics = Metrics()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if settings.search_threads:
            faiss.omp_set_num_threads(settings.search_threads)
        state = ServiceState(
            settings=settings,
            catalog=Catalog(settings.catalog_file, busy_timeout=settings.busy_timeout),
            encoder=encoder or SentenceTransformerEncoder(settings.model, settings.device),
            recipe=TextRecipe(max_words=settings.recipe_max_words),
            store=IndexStore(settings.index_root),
            metrics=metrics,
        )
        state.load_current()
        app.state.recsys = state
        async with watch_current(state, settings.reload_interval):
            yield
        state.catalog.close()

    app = FastAPI(
        title="recsys: related stories",
        version="0.1.0",
        description="Related stories for news articles, from sentence embeddings in a FAISS index.",
        lifespan=lifespan,
    )

    install_error_handlers(app)
    install_body_limit(app, settings.max_body_bytes)
    metrics.install(app)
    app.include_router(router)
    # Page blocks, drafts and editorial overrides (ranking, issue 3).
    app.include_router(pages_router)
    app.include_router(admin_router)
    return app
