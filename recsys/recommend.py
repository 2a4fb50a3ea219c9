"""The query side: given an article id, find its related stories in the loaded index version."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import numpy as np

from recsys.catalog import Catalog, StoredArticle
from recsys.embed import Encoder, TextRecipe
from recsys.errors import InvalidInput
from recsys.ranking import Recommendation, rank_similar
from recsys.store import LoadedIndex

MAX_LIMIT = 100
Clock = Callable[[], datetime]


def _utcnow() -> datetime:
    return datetime.now(UTC)


class Recommender:
    """Answers related-stories queries against one loaded index version and the live catalog."""

    def __init__(
        self,
        catalog: Catalog,
        index: LoadedIndex,
        encoder: Encoder | None,
        recipe: TextRecipe,
        clock: Clock = _utcnow,
    ) -> None:
        self.catalog = catalog
        self.index = index
        self.encoder = encoder
        self.recipe = recipe
        self.clock = clock

    def query_vector(self, stored: StoredArticle) -> np.ndarray:
        vector = self.index.vectors.vector(stored.key)
        if vector is not None:
            return vector
        # Published after the last build: embed it now, so a new article has related stories at once.
        if self.encoder is None:
            raise InvalidInput(f"article {stored.id!r} is not in the index yet and no encoder is loaded")
        text = self.recipe.text(stored.article.title, stored.article.body)
        return self.encoder.encode([text])[0]

    def related(self, article_id: str, limit: int = 10) -> list[Recommendation]:
        if not 1 <= limit <= MAX_LIMIT:
            raise InvalidInput(f"limit must be between 1 and {MAX_LIMIT}, got {limit}")
        query = self.catalog.get(article_id)
        return self.similar_to(self.query_vector(query), limit, query=query)

    def similar_to(
        self, vector: np.ndarray, limit: int, *, query: StoredArticle | None = None
    ) -> list[Recommendation]:
        vectors = self.index.vectors
        now = self.clock()
        # Over-fetch, then filter; widen the search while rules reject too many candidates.
        k = min(len(vectors), limit * 3 + 10)
        while True:
            keys, scores = vectors.search(vector[None, :], k)
            found = [int(key) for key in keys[0] if key >= 0]
            chosen = rank_similar(keys[0], scores[0], self.catalog.by_keys(found), query, limit, now)
            if len(chosen) >= limit or k >= len(vectors):
                return chosen
            k = min(len(vectors), k * 4)
