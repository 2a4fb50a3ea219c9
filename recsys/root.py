"""The one composition root: from Settings to the objects the build side and the query side share.

The command line, the service, the build, the evaluation, the benchmarks and the tests get their
catalog, index store, text recipe, encoder, overrides and query side from a Root, so each of them is
constructed here only, the same way everywhere. Nothing is opened before it is first used:
`recsys ingest` never loads the model, `recsys versions` never opens the catalog.

The encoder is the configured model, loaded on first use (torch takes seconds), unless one is given
(the service's workers, tests with a fake one). Tests that run the command line without the model
replace `recsys.encoding.encoders.load_encoder`, the one function that turns settings into a model.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable
from functools import cached_property
from typing import TYPE_CHECKING

from recsys.catalog.store import DEFAULT_BUSY_TIMEOUT, Catalog
from recsys.encoding.protocol import Encoder, EncodeSlots
from recsys.encoding.recipe import TextRecipe
from recsys.errors import ModelLoadError, RecsysError
from recsys.settings import Settings

if TYPE_CHECKING:
    # Imported where used: they load faiss, and most commands need neither.
    from recsys.catalog.overrides import Overrides
    from recsys.serving.queryside import QuerySide
    from recsys.version.remote import RemoteVersions
    from recsys.version.store import IndexStore


class Root:
    """Everything built from one Settings. `encoder`: a model to use instead of loading the configured
    one; `with_model=False`: none at all (benchmarks of stored articles), so nothing can be embedded.
    `catalog`: an open catalog to share (a test's); the root then leaves closing it to its owner.
    `busy_timeout`: how long the catalog waits for another writer's lock; the default is the command
    line's and the build's patience, a service waits briefly instead (`for_service`).
    `follows_index`: with RECSYS_ENCODER_BACKEND=auto, load the backend the current index version was
    built with rather than the one chosen for this CPU (a query side: the service, `recsys serve`)."""

    def __init__(
        self,
        settings: Settings,
        *,
        encoder: Encoder | None = None,
        with_model: bool = True,
        catalog: Catalog | None = None,
        busy_timeout: float = DEFAULT_BUSY_TIMEOUT,
        follows_index: bool = False,
    ) -> None:
        self.settings = settings
        self.follows_index = follows_index
        self.busy_timeout = busy_timeout
        self._encoder = encoder
        self._with_model = with_model
        self._catalog = catalog
        self._owns_catalog = catalog is None

    @classmethod
    def for_service(cls, settings: Settings, encoder: Encoder | None = None) -> Root:
        """The service's root: a request that meets a write lock waits RECSYS_BUSY_TIMEOUT, then gets
        503 + Retry-After, instead of holding a worker thread for the command line's 30 s."""
        return cls(settings, encoder=encoder, busy_timeout=settings.busy_timeout, follows_index=True)

    def with_settings(self, settings: Settings) -> Root:
        """A root with other settings over the same catalog connection and the same loaded model (an
        evaluation's knob sweep: one catalog, one model, several rankings)."""
        return Root(
            settings,
            encoder=self._encoder,
            with_model=self._with_model,
            catalog=self.catalog,
            busy_timeout=self.busy_timeout,
            follows_index=self.follows_index,
        )

    # -- the catalog side ------------------------------------------------------------------------

    @property
    def catalog(self) -> Catalog:
        if self._catalog is None:
            self._catalog = self.open_catalog(self.busy_timeout)
        return self._catalog

    def open_catalog(self, busy_timeout: float = DEFAULT_BUSY_TIMEOUT) -> Catalog:
        """A catalog of its own, which the caller closes: a build thread writes through it with the
        command line's patience while the service's requests keep their short wait."""
        return Catalog(self.settings.catalog_location, busy_timeout=busy_timeout)

    @cached_property
    def overrides(self) -> Overrides:
        from recsys.catalog.overrides import Overrides

        return Overrides(self.catalog)

    def close(self) -> None:
        """Close the catalog this root opened (this thread's connection, a PostgreSQL catalog's pool);
        a shared one stays open."""
        if self._catalog is not None and self._owns_catalog:
            self._catalog.dispose()

    # -- what a build writes and the query side reads --------------------------------------------

    @cached_property
    def store(self) -> IndexStore:
        from recsys.version.store import IndexStore

        return IndexStore(self.settings.index_root)

    @cached_property
    def remote(self) -> RemoteVersions | None:
        """The object store the versions are published to (RECSYS_VERSIONS_URL), or None: the index
        folder alone."""
        if not self.settings.versions_url.strip():
            return None
        from recsys.version.remote import RemoteVersions

        return RemoteVersions(self.settings.versions_url, self.settings.versions_endpoint)

    @cached_property
    def recipe(self) -> TextRecipe:
        return TextRecipe(max_words=self.settings.recipe_max_words)

    # -- the model -------------------------------------------------------------------------------

    @property
    def encoder(self) -> Encoder:
        """The model, loaded on first use unless one was given (a wrong model: ModelLoadError)."""
        if self._encoder is None:
            if not self._with_model:
                raise ModelLoadError("no embedding model is loaded in this process; it cannot embed")
            from recsys.encoding.encoders import load_encoder

            built_with = self._served_identity()
            self._encoder = (
                load_encoder(self.settings, built_with) if built_with else load_encoder(self.settings)
            )
        return self._encoder

    def _served_identity(self) -> str | None:
        """The model identity of the current index version, which a query side with `auto` follows
        (None: not a query side, another setting, or no readable version yet)."""
        if not self.follows_index or self.settings.encoder_backend != "auto":
            return None
        version = self.store.current_version()
        if version is None:
            return None
        try:
            return self.store.read_manifest(version).model
        except RecsysError:  # a broken version: its load says why
            return None

    def follow_version(self, version: str) -> bool:
        """With `auto`, make the encoder the one `version` was built with when it is another (a build
        that chose again since this query side loaded its encoder: the folder moved to another CPU,
        or the first `auto` build of a folder built with `openvino`): for this version and the ones
        after it, the query side's and the builds'. False: nothing to follow, or it cannot run here
        (a warning says why); then the version stays refused. Loads without measuring."""
        if self._encoder is None or not self.follows_index or self.settings.encoder_backend != "auto":
            return False
        try:
            built_with = self.store.read_manifest(version).model
        except RecsysError:
            return False
        if built_with == self._encoder.name:
            return False
        from recsys.encoding.encoders import follow_backend

        encoder = follow_backend(self.settings, built_with)
        if encoder is None:
            return False
        self._encoder = encoder
        if "query_side" in self.__dict__:  # built already: the same bounds and parts, this encoder
            self.__dict__["query_side"] = dataclasses.replace(self.query_side, encoder=encoder)
        return True

    def model_identity(self) -> str:
        """The name the encoder has, or, not loaded, will have: what an index version must record."""
        if self._encoder is not None:
            return self._encoder.name
        from recsys.encoding.encoders import encoder_identity

        return encoder_identity(self.settings)

    def encoder_loader(self) -> Callable[[], Encoder]:
        """A picklable way to load this root's model in another process (a Ray actor)."""
        from recsys.encoding.encoders import load_encoder

        return functools.partial(load_encoder, self.settings)

    # -- the query side --------------------------------------------------------------------------

    @cached_property
    def query_side(self) -> QuerySide:
        """The request path's wiring (recsys/serving/queryside.py); loads the model unless the root
        has none. Nothing is read from the index until a version is loaded."""
        from recsys.serving.policy import Policy
        from recsys.serving.queryside import QuerySide

        return QuerySide(
            settings=self.settings,
            catalog=self.catalog,
            encoder=self.encoder if self._with_model or self._encoder is not None else None,
            recipe=self.recipe,
            store=self.store,
            policy=Policy.from_settings(self.settings),
            encode_slots=EncodeSlots(self.settings.max_concurrent_encodes),
        )
