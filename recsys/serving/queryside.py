"""The one composition root of the query side: settings -> a Recommender over a checked version.

The service, the command line, the evaluation and the benchmarks all build it here, so they
rank with the same catalog, recipe, checks, ranking policy and bounds."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from recsys.catalog.sqlite import Catalog
from recsys.encoding.encoders import load_encoder
from recsys.encoding.protocol import Encoder, EncodeSlots
from recsys.encoding.recipe import TextRecipe
from recsys.serving.ranking import Policy
from recsys.serving.recommend import Clock, Recommender, utcnow
from recsys.settings import Settings
from recsys.version.store import IndexStore, LoadedIndex


@dataclass
class QuerySide:
    settings: Settings
    catalog: Catalog
    encoder: Encoder | None  # None: no model loaded (benchmarks); nothing can be embedded
    recipe: TextRecipe
    store: IndexStore
    policy: Policy
    # One bound for every Recommender built here: a hot swap must not double it.
    encode_slots: EncodeSlots

    @classmethod
    def open(
        cls,
        settings: Settings,
        encoder: Encoder | None = None,
        catalog: Catalog | None = None,
        *,
        with_model: bool = True,
    ) -> QuerySide:
        """The catalog, encoder (the configured model unless one is given; none without
        `with_model`) and index store of `settings`; nothing is loaded from the index yet."""
        if encoder is None and with_model:
            encoder = load_encoder(settings)
        return cls(
            settings=settings,
            catalog=catalog or Catalog(settings.catalog_file),
            encoder=encoder,
            recipe=TextRecipe(max_words=settings.recipe_max_words),
            store=IndexStore(settings.index_root),
            policy=Policy.from_settings(settings),
            encode_slots=EncodeSlots(settings.max_concurrent_encodes),
        )

    @property
    def settings_digest(self) -> str:
        """The settings that shape lists, hashed: a change of any of them changes every ETag."""
        s = self.settings
        shaping = (self.policy, s.default_limit, s.default_section_limit, s.search_cap, s.recipe_max_words)
        return hashlib.sha256(repr(shaping).encode()).hexdigest()[:16]

    def load_index(self, version: str | None = None) -> LoadedIndex:
        """A version (default: the current one) with every check a server makes."""
        return self.store.load(
            version,
            expect_model=self.encoder.name if self.encoder else None,
            expect_dimension=self.encoder.dimension if self.encoder else None,
            expect_recipe=self.recipe.id,
        )

    def recommender(self, loaded: LoadedIndex, clock: Clock = utcnow) -> Recommender:
        return Recommender(
            self.catalog,
            loaded,
            self.encoder,
            self.recipe,
            clock=clock,
            policy=self.policy,
            search_cap=self.settings.search_cap,
            settings_digest=self.settings_digest,
            encode_slots=self.encode_slots,
        )

    def load(self, version: str | None = None, clock: Clock = utcnow) -> Recommender:
        return self.recommender(self.load_index(version), clock)
