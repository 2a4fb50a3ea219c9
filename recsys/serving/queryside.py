"""The query side's wiring: from the root's parts to a Recommender over a checked index version.

recsys/root.py builds it (`Root.query_side`) for the service, the command line, the evaluation and the
benchmarks, so they all rank with the same catalog, recipe, checks, ranking policy and bounds. It
loads no model itself: the root gives it the encoder (or none)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from recsys.catalog.store import Catalog
from recsys.encoding.protocol import Encoder, EncodeSlots
from recsys.encoding.recipe import TextRecipe
from recsys.serving.policy import Policy
from recsys.serving.recommend import Clock, Recommender, utcnow
from recsys.settings import Settings
from recsys.version.entities import EXTRACTION
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

    @property
    def settings_digest(self) -> str:
        """The settings that shape lists, hashed: a change of any of them changes every ETag."""
        s = self.settings
        shaping: tuple[object, ...] = (
            self.policy,
            s.default_limit,
            s.default_section_limit,
            s.search_cap,
            s.recipe_max_words,
        )
        if self.policy.entity_weight:
            # With names on, how they are read shapes lists too: a list stored before they (and the
            # prior's tail) counted under dated, tagged articles, for dated candidates, is ranked anew.
            shaping += (("names", EXTRACTION, "dated", "tagged", "tail", "dated candidates"),)
        return hashlib.sha256(repr(shaping).encode()).hexdigest()[:16]

    def load_index(self, version: str | None = None) -> LoadedIndex:
        """A version (default: the current one) with every check a server makes."""
        return self.store.load(
            version,
            expect_model=self.encoder.name if self.encoder else None,
            expect_dimension=self.encoder.dimension if self.encoder else None,
            expect_recipe=self.recipe.id,
        )

    def recommender(
        self, loaded: LoadedIndex, clock: Clock = utcnow, *, watched: bool = False
    ) -> Recommender:
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
            unindexed_max=self.settings.unindexed_max_articles,
            watched=watched,
        )

    def load(
        self, version: str | None = None, clock: Clock = utcnow, *, watched: bool = False
    ) -> Recommender:
        """A Recommender over `version` (default: the current one). `watched=True`: its
        caller follows the catalog and prepares the articles the version lacks (`Recommender.prepare`)."""
        return self.recommender(self.load_index(version), clock, watched=watched)
