"""The query side: gather candidates for an article (or a draft) from the loaded index version and the
live catalog, and hand them to the ranking pipeline (recsys/ranking.py)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np

from recsys.articles import Article, format_timestamp
from recsys.catalog import Catalog, StoredArticle
from recsys.embed import Encoder, TextRecipe
from recsys.errors import InvalidInput
from recsys.overrides import Overrides
from recsys.query import MAX_LIMIT, RelatedQuery, encode_cursor
from recsys.ranking import (
    Candidate,
    Page,
    Policy,
    RankedList,
    Recommendation,
    Rules,
    Subject,
    published,
    rank_list,
    rank_similar,
)
from recsys.store import LoadedIndex

__all__ = ["MAX_LIMIT", "Blocks", "Clock", "Recommender"]

Clock = Callable[[], datetime]
FALLBACK_POOL = 50


def _utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Blocks:
    """Both blocks of an article page; no article is in both."""

    related: RankedList
    more_in_section: RankedList
    next_cursor: str | None


class Recommender:
    """Answers related-stories queries against one loaded index version and the live catalog."""

    def __init__(
        self,
        catalog: Catalog,
        index: LoadedIndex,
        encoder: Encoder | None,
        recipe: TextRecipe,
        clock: Clock = _utcnow,
        policy: Policy | None = None,
    ) -> None:
        self.catalog = catalog
        self.index = index
        self.encoder = encoder
        self.recipe = recipe
        self.clock = clock
        self.policy = policy or Policy()
        self.overrides = Overrides(catalog)

    def query_vector(self, stored: StoredArticle) -> np.ndarray:
        vector = self.index.vectors.vector(stored.key)
        if vector is not None:
            return vector
        # Published after the last build: embed it now, so a new article has related stories at once.
        return self.embed(stored.article)

    def embed(self, article: Article) -> np.ndarray:
        if self.encoder is None:
            raise InvalidInput(f"article {article.id!r} is not in the index yet and no encoder is loaded")
        text = self.recipe.text(article.title, article.body)
        if not text:
            raise InvalidInput("an article needs a title or a body")
        return np.asarray(self.encoder.encode([text])[0], dtype=np.float32)

    # -- the public queries ----------------------------------------------------------------------

    def related(self, article_id: str, limit: int = 10) -> list[Recommendation]:
        if not 1 <= limit <= MAX_LIMIT:
            raise InvalidInput(f"limit must be between 1 and {MAX_LIMIT}, got {limit}")
        return self.related_list(article_id, RelatedQuery(limit=limit)).items

    def related_list(self, article_id: str, query: RelatedQuery) -> RankedList:
        """The related block alone, paged by `query.cursor`."""
        subject = self.subject(self.catalog.get(article_id))
        now = self.clock()
        rules, page = self._context(subject, query, now)
        ranked = self._related(subject, query, rules, page)
        full = len(ranked.items) == query.limit
        cursor = encode_cursor([*query.seen_keys(), *_keys(ranked)]) if full else None
        return RankedList(ranked.items, ranked.collapsed, cursor)

    def blocks(self, article_id: str, query: RelatedQuery) -> Blocks:
        return self._blocks(self.subject(self.catalog.get(article_id)), query)

    def blocks_for_url(self, url: str, query: RelatedQuery) -> tuple[StoredArticle, Blocks]:
        stored = self.catalog.get_by_url(url)
        return stored, self._blocks(self.subject(stored), query)

    def blocks_for_draft(self, draft: Article, query: RelatedQuery) -> Blocks:
        """Blocks for an unsaved story: embedded now, dated now unless it says otherwise."""
        moment = draft.published_datetime() or self.clock()
        subject = Subject(vector=self.embed(draft), article=draft, key=None, anchor=moment)
        return self._blocks(subject, query)

    def similar_to(
        self, vector: np.ndarray, limit: int, *, query: StoredArticle | None = None
    ) -> list[Recommendation]:
        """Plain nearest neighbours under the never-show rules only (no dedup, diversity, pins)."""
        vectors = self.index.vectors
        now = self.clock()
        k = min(len(vectors), limit * 3 + 10)
        while True:
            keys, scores = vectors.search(vector[None, :], k)
            found = [int(key) for key in keys[0] if key >= 0]
            chosen = rank_similar(keys[0], scores[0], self.catalog.by_keys(found), query, limit, now)
            if len(chosen) >= limit or k >= len(vectors):
                return chosen
            k = min(len(vectors), k * 4)

    # -- the pipeline's inputs -------------------------------------------------------------------

    def subject(self, stored: StoredArticle) -> Subject:
        moment = published(stored) or self.clock()
        return Subject(
            vector=self.query_vector(stored), article=stored.article, key=stored.key, anchor=moment
        )

    def _context(self, subject: Subject, query: RelatedQuery, now: datetime) -> tuple[Rules, Page]:
        blocked = self.overrides.blocked_ids(subject.id, now)
        rules = Rules(subject, query, blocked, now)
        page = Page(subject, self.policy.duplicates)
        on_page = list(self.catalog.by_ids_or_urls(list(query.exclude)).values())
        on_page += list(self.catalog.by_keys(list(query.seen_keys())).values())
        for stored in on_page:
            vector = self.index.vectors.vector(stored.key)
            if vector is None:
                page.keys.add(stored.key)  # not indexed: it cannot be listed, nor compared
            else:
                page.add(stored.key, vector, stored.article.title)
        return rules, page

    def _candidates(self, stored: list[StoredArticle], subject: Subject) -> list[Candidate]:
        found = []
        for item in stored:
            vector = self.index.vectors.vector(item.key)
            if vector is not None:
                found.append(Candidate(item, vector, float(vector @ subject.vector)))
        return found

    def _section_pool(self, subject: Subject) -> list[StoredArticle]:
        section = subject.article.section
        if section is None:
            return []
        return self.catalog.section_around(
            section, format_timestamp(subject.anchor), self.policy.section_pool
        )

    def _nearest(self, subject: Subject, rules: Rules, page: Page, want: int) -> list[Candidate]:
        """Nearest neighbours that pass the hard rules; widens the search until `want` pass."""
        vectors = self.index.vectors
        k = min(len(vectors), want * 2 + len(page.keys) + 10)
        while True:
            keys, scores = vectors.search(subject.vector[None, :], k)
            found = [int(key) for key in keys[0] if key >= 0]
            stored = self.catalog.by_keys(found)
            passing = [
                (stored[key], float(score))
                for key, score in zip(found, scores[0].tolist(), strict=False)
                if key in stored and key not in page.keys and rules.allows(stored[key])
            ]
            if len(passing) >= want or k >= len(vectors):
                break
            k = min(len(vectors), k * 4)
        candidates = []
        for item, score in passing[:want]:
            vector = vectors.vector(item.key)
            if vector is not None:
                candidates.append(Candidate(item, vector, score))
        return candidates

    def _related(self, subject: Subject, query: RelatedQuery, rules: Rules, page: Page) -> RankedList:
        pins: list[Candidate] = []
        if subject.id is not None:
            targets = self.overrides.pins(subject.id)
            pinned = self.catalog.by_ids_or_urls(targets)
            for target in targets:
                if target in pinned:
                    stored = pinned[target]
                    vector = self.query_vector(stored)
                    pins.append(Candidate(stored, vector, float(vector @ subject.vector)))
        # Room for near-duplicates to collapse and for diversity to choose among.
        want = max(4 * query.limit, 40)

        def fallback() -> list[Candidate]:
            recent = sorted(
                self._section_pool(subject), key=lambda s: s.article.published_at or "", reverse=True
            )
            return self._candidates(recent[:FALLBACK_POOL], subject)

        return rank_list(
            subject,
            self._nearest(subject, rules, page, want),
            query=query,
            policy=self.policy,
            rules=rules,
            page=page,
            limit=query.limit,
            fresh=bool(query.freshness),  # off unless asked: relevance first for "related"
            reason="similar",
            pins=pins,
            fallback=fallback,
        )

    def _in_section(self, subject: Subject, query: RelatedQuery, rules: Rules, page: Page) -> RankedList:
        if query.section_limit == 0:
            return RankedList(items=[])
        return rank_list(
            subject,
            self._candidates(self._section_pool(subject), subject),
            query=query,
            policy=self.policy,
            rules=rules,
            page=page,
            limit=query.section_limit,
            fresh=query.freshness is not False,  # on unless refused: this block is about recent news
            reason="same_section",
        )

    def _blocks(self, subject: Subject, query: RelatedQuery) -> Blocks:
        now = self.clock()
        rules, page = self._context(subject, query, now)
        related = self._related(subject, query, rules, page)
        # Same page: the section block never repeats (or near-duplicates) a related item.
        in_section = self._in_section(subject, query, rules, page)
        full = len(related.items) == query.limit or (
            query.section_limit > 0 and len(in_section.items) == query.section_limit
        )
        cursor = encode_cursor([*query.seen_keys(), *_keys(related), *_keys(in_section)]) if full else None
        return Blocks(related=related, more_in_section=in_section, next_cursor=cursor)


def _keys(ranked: RankedList) -> list[int]:
    return [item.key for item in ranked.items if item.key is not None]
