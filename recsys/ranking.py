"""From nearest-neighbour candidates to the list a page shows.

The rules are checked against the catalog at query time, not at build time, so a retraction or an
edit takes effect on the next request: never the article itself, never a retracted article, never an
article whose publication time is still in the future.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import numpy as np

from recsys.articles import Article, parse_timestamp
from recsys.catalog import StoredArticle


@dataclass(frozen=True)
class Recommendation:
    article: Article
    score: float
    reason: str = "similar"


def eligible(candidate: StoredArticle, query: StoredArticle | None, now: datetime) -> bool:
    if query is not None and (candidate.key == query.key or candidate.id == query.id):
        return False
    if candidate.status != "published":
        return False
    published = candidate.article.published_at
    return not (published is not None and parse_timestamp(published) > now)


def rank_similar(
    keys: np.ndarray,
    scores: np.ndarray,
    articles: dict[int, StoredArticle],
    query: StoredArticle | None,
    limit: int,
    now: datetime,
) -> list[Recommendation]:
    """Walk candidates best-first and keep the first `limit` that pass every rule."""
    chosen: list[Recommendation] = []
    for key, score in zip(keys.tolist(), scores.tolist(), strict=True):
        if key < 0:
            break  # FAISS pads with -1 when it has fewer results than asked
        candidate = articles.get(key)
        if candidate is None or not eligible(candidate, query, now):
            continue
        chosen.append(Recommendation(article=candidate.article, score=float(score)))
        if len(chosen) == limit:
            break
    return chosen
