"""The corpus as an evaluation sees it: the published, indexed articles and their vectors.

List metrics (section agreement, tag overlap, near-duplicates, coverage, intra-list similarity, age)
read the index vectors and the catalog fields through it, whatever the method, so a lexical baseline
is measured with the same ruler as the dense one. Identical copies (one text under several ids) are
grouped here once (recsys/evaluation/copies.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from recsys.catalog.store import Catalog, StoredArticle
from recsys.errors import InvalidInput
from recsys.evaluation.copies import Copies
from recsys.version.vectors import VectorIndex


@dataclass
class EvalCorpus:
    """The published, indexed articles with their vectors (rows in `articles` order)."""

    articles: list[StoredArticle]
    vectors: np.ndarray
    row_of: dict[str, int] = field(init=False)
    copies: Copies = field(
        init=False
    )  # ids sharing one text: scored as one article (recsys/evaluation/copies.py)

    def __post_init__(self) -> None:
        if len(self.articles) != len(self.vectors):
            raise InvalidInput(f"{len(self.articles)} articles but {len(self.vectors)} vectors")
        self.row_of = {a.id: row for row, a in enumerate(self.articles)}
        self.copies = Copies((a.id, a.content_hash) for a in self.articles)

    @classmethod
    def from_index(cls, catalog: Catalog, vectors: VectorIndex) -> EvalCorpus:
        articles = [s for s in catalog.iter_all(status="published") if vectors.contains(s.key)]
        if not articles:
            raise InvalidInput("no published article of the catalog is in the index; run `recsys build`")
        matrix = np.vstack([vectors.vector(s.key) for s in articles]).astype(np.float32)  # type: ignore[misc]
        return cls(articles, matrix)

    def get(self, article_id: str) -> StoredArticle:
        return self.articles[self.row_of[article_id]]

    def vector(self, article_id: str) -> np.ndarray:
        return self.vectors[self.row_of[article_id]]

    def __len__(self) -> int:
        return len(self.articles)
