"""The exhaustive reference path of the query side, for equivalence tests only.

It answers the same questions as recsys/serving/recommend.py the slow, obvious way: every article row
read from the catalog (SQL), every rule checked one article at a time (`Rules` below, written apart
from recsys/serving/rules.py: the section, author, tag, language and date filters among them), every indexed
vector scored against the subject (relevance: the cosine blended with the subject's lexical match,
read from the version's lexical lists, or scored now for an article the version does not hold), and
the section pool read with SQL. The fast path must return the same lists;
tests/serving/test_equivalence.py checks that it does.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import datetime

import numpy as np

from recsys.articles import Article, format_timestamp, parse_timestamp
from recsys.catalog.overrides import Overrides
from recsys.catalog.store import Catalog, StoredArticle
from recsys.encoding.recipe import TextRecipe
from recsys.serving.policy import Policy
from recsys.serving.query import RelatedQuery, encode_cursor
from recsys.serving.ranking import rank_list
from recsys.serving.recommend import FALLBACK_POOL, Blocks
from recsys.serving.types import ArticleAsSource, Candidate, Page, RankedList, Subject
from recsys.version.entities import code_of, names
from recsys.version.snapshot import epoch_of
from recsys.version.store import LoadedIndex


def published(article: Article) -> datetime | None:
    value = article.published_at
    return parse_timestamp(value) if value else None


class Rules:
    """Stage 1 for one article: may it appear at all under this subject, for this request? With
    datetimes and names, where the fast path (recsys/serving/rules.py) has epoch seconds and codes."""

    def __init__(self, subject: Subject, query: RelatedQuery, blocked: set[str], now: datetime) -> None:
        self.subject = subject
        self.query = query
        self.blocked = blocked
        self.now = now
        self.oldest = subject.anchor - query.max_age if query.max_age is not None else None
        # Under any date rule an undated candidate is left out: it cannot be shown to satisfy it.
        self.dated = query.background or any(
            value is not None for value in (query.since, query.until, query.max_age_days)
        )

    def _language_allows(self, language: str | None, pinned: bool) -> bool:
        """An explicit `language` keeps tags equal to a range or under it (`pt` over `pt-BR`), never an
        article with none; else an article with a language keeps its own language (by the part before
        the first hyphen) and the articles with none, unless `cross_language` or an editor pinned it."""
        query, own = self.query, self.subject.article.language
        if query.languages:
            return language is not None and any(
                language.lower() == r.lower() or language.lower().startswith(f"{r.lower()}-")
                for r in query.languages
            )
        if own is None or query.cross_language or language is None or pinned:
            return True
        return language.split("-")[0] == own.split("-")[0]

    def allows(self, article: Article, key: int | None, status: str, *, pinned: bool = False) -> bool:
        subject, query = self.subject, self.query
        if key == subject.key or (subject.id is not None and article.id == subject.id):
            return False
        if status != "published" or article.id in self.blocked:
            return False
        moment = published(article)
        if moment is not None and moment > self.now:
            return False
        if query.sections and article.section not in query.sections:
            return False
        if query.exclude_sections and article.section in query.exclude_sections:
            return False
        if query.authors and article.author not in query.authors:
            return False
        if query.exclude_authors and article.author in query.exclude_authors:
            return False
        if not self._language_allows(article.language, pinned):
            return False
        if query.tags and not set(article.tags) & set(query.tags):
            return False
        if query.exclude_tags and set(article.tags) & set(query.exclude_tags):
            return False
        if self.dated:
            if moment is None:
                return False
            if query.since is not None and moment < query.since:
                return False
            if query.until is not None and moment > query.until:
                return False
            if self.oldest is not None and moment < self.oldest:
                return False
            if query.background and moment >= subject.anchor:
                return False
        return True


def _candidate(stored: StoredArticle, vector: np.ndarray, relevance: float) -> Candidate:
    article = stored.article
    return Candidate(
        stored.key, vector, relevance, epoch_of(article.published_at), 0, ArticleAsSource(article)
    )


class ReferenceRecommender:
    def __init__(
        self,
        catalog: Catalog,
        index: LoadedIndex,
        clock: Callable[[], datetime],
        policy: Policy | None = None,
        embed: Callable[[Article], np.ndarray] | None = None,
        recipe: TextRecipe | None = None,
    ) -> None:
        self.catalog = catalog
        self.index = index
        self.clock = clock
        self.policy = policy or Policy()
        self.embed = embed
        self.recipe = recipe or TextRecipe()
        self.overrides = Overrides(catalog)
        vectors = index.vectors
        self.keys = np.array(sorted(int(k) for k in vectors.keys.tolist()), dtype=np.int64)
        self.matrix = vectors.vectors_of(self.keys)

    def vector(self, stored: StoredArticle) -> np.ndarray | None:
        vector = self.index.vectors.vector(stored.key)
        if vector is None and self.embed is not None:
            return self.embed(stored.article)
        return vector

    def subject(self, stored: StoredArticle) -> Subject:
        vector = self.vector(stored)
        assert vector is not None
        return Subject(vector, stored.article, stored.key, published(stored.article) or self.clock())

    def lexical(self, subject: Subject) -> dict[int, float]:
        """Key -> normalised BM25 match of the subject's lexical list (empty when fusion is off)."""
        index = self.index
        if self.policy.fusion_weight == 0.0 or index.lexical_rows is None or index.lexical_scores is None:
            return {}
        row = index.snapshot.row_of_key(subject.key) if subject.key is not None else None
        if row is not None:
            rows, scores = index.lexical_rows[row], index.lexical_scores[row]
        else:
            assert index.lexical is not None
            text = self.recipe.text(subject.article.title, subject.article.body)
            rows, scores = index.lexical.matches(
                text, index.lexical_k, language=subject.article.language, max_terms=index.lexical_terms
            )
        return {
            int(index.snapshot.keys[r]): float(v)
            for r, v in zip(rows.tolist(), scores.tolist(), strict=True)
            if r >= 0
        }

    def names(self, subject: Subject) -> tuple[set[int], float] | None:
        """The subject's names as vocabulary indices and their total IDF, the slow way: the version's
        set for an article it holds (built from the text of the build, like the lexical lists),
        extracted now for one it does not; None when the policy gives names no weight or the
        subject is undated (names count only under the time prior's dates) or has no tag of its own
        (catalog codes `prefix:...` are not names)."""
        entities = self.index.entities
        if self.policy.entity_weight == 0.0 or entities is None or published(subject.article) is None:
            return None
        if all(":" in tag for tag in subject.article.tags):
            return None
        row = self.index.snapshot.row_of_key(subject.key) if subject.key is not None else None
        if row is not None:
            found = self._row_names(row)
            return found, self._weight(found)
        vocabulary = {int(code): i for i, code in enumerate(entities.vocab.tolist())}
        codes = {
            code_of(name) for name in names(subject.article.title, subject.article.body, subject.article.tags)
        }
        found = {vocabulary[c] for c in codes if c in vocabulary}
        unknown = len(codes) - len(found)
        return found, self._weight(found) + math.log(max(1, entities.rows)) * unknown

    def _row_names(self, row: int) -> set[int]:
        entities = self.index.entities
        assert entities is not None
        return {int(c) for c in entities.codes[entities.ptr[row] : entities.ptr[row + 1]].tolist()}

    def _weight(self, found: set[int]) -> float:
        entities = self.index.entities
        assert entities is not None
        total = 0.0
        for code in sorted(found):
            total += float(entities.idf[code])
        return total

    def named(self, subject: Subject) -> set[int]:
        """The keys whose names count under this subject: its precomputed neighbours and lexical
        matches (for an article the version does not hold, its lexical matches)."""
        keys = set(self.lexical(subject))
        row = self.index.snapshot.row_of_key(subject.key) if subject.key is not None else None
        if row is not None:
            snapshot = self.index.snapshot
            keys |= {int(snapshot.keys[r]) for r in self.index.neighbours[row].tolist() if r >= 0}
        return keys

    def shared(
        self, subject_names: tuple[set[int], float] | None, key: int, named: set[int], dated: bool
    ) -> float:
        """The IDF-weighted overlap of the subject's names with those of the article `key` (0 when
        `key` is not among the `named` keys, or is undated)."""
        row = self.index.snapshot.row_of_key(key)
        if subject_names is None or row is None or key not in named or not dated:
            return 0.0
        mine, my_weight = subject_names
        theirs = self._row_names(row)
        norm = self._weight(theirs) * my_weight
        return self._weight(mine & theirs) / math.sqrt(norm) if norm > 0.0 else 0.0

    def relevance(self, subject: Subject, item: StoredArticle, cosine: float) -> float:
        key = item.key
        lexical = self.lexical(subject).get(key, 0.0)
        subject_names = self.names(subject)
        shared = None
        if subject_names is not None:
            dated = published(item.article) is not None
            shared = np.float64(self.shared(subject_names, key, self.named(subject), dated))
        return float(self.policy.relevance(np.float64(cosine), np.float64(lexical), shared))

    def related_list(self, article_id: str, query: RelatedQuery) -> RankedList:
        subject = self.subject(self.catalog.get(article_id))
        rules, page = self._context(subject, query)
        ranked = self._related(subject, query, rules, page)
        full = len(ranked.items) == query.limit
        keys = [i.key for i in ranked.items if i.key is not None]
        return RankedList(
            ranked.items, ranked.collapsed, encode_cursor([*query.seen_keys(), *keys]) if full else None
        )

    def blocks(self, article_id: str, query: RelatedQuery) -> Blocks:
        subject = self.subject(self.catalog.get(article_id))
        rules, page = self._context(subject, query)
        related = self._related(subject, query, rules, page)
        in_section = self._in_section(subject, query, rules, page)
        full = len(related.items) == query.limit or (
            query.section_limit > 0 and len(in_section.items) == query.section_limit
        )
        keys = [i.key for i in [*related.items, *in_section.items] if i.key is not None]
        cursor = encode_cursor([*query.seen_keys(), *keys]) if full else None
        return Blocks(related, in_section, cursor)

    def _context(self, subject: Subject, query: RelatedQuery) -> tuple[Rules, Page]:
        now = self.clock()
        rules = Rules(subject, query, self.overrides.blocked_ids(subject.id, now), now)
        page = Page(subject, self.policy.duplicates)
        on_page = list(self.catalog.by_ids_or_urls(list(query.exclude)).values())
        on_page += list(self.catalog.by_keys(list(query.seen_keys())).values())
        seen: set[int] = set()
        for stored in sorted(on_page, key=lambda s: s.key):
            if stored.key in seen:
                continue
            seen.add(stored.key)
            vector = self.index.vectors.vector(stored.key)
            if vector is None:
                page.keys.add(stored.key)
            else:
                page.add(stored.key, vector, stored.article.title)
        return rules, page

    def _allowed(self, stored: StoredArticle, rules: Rules, page: Page) -> bool:
        return stored.key not in page.keys and rules.allows(stored.article, stored.key, stored.status)

    def _nearest(self, subject: Subject, rules: Rules, page: Page, want: int) -> list[Candidate]:
        lexical = self.lexical(subject)
        matched = np.array([lexical.get(int(k), 0.0) for k in self.keys.tolist()], dtype=np.float64)
        subject_names = self.names(subject)
        stored = self.catalog.by_keys(self.keys.tolist())
        shared = None
        if subject_names is not None:
            named = self.named(subject)
            dated = [k in stored and published(stored[k].article) is not None for k in self.keys.tolist()]
            shared = np.array(
                [
                    self.shared(subject_names, int(k), named, d)
                    for k, d in zip(self.keys.tolist(), dated, strict=True)
                ]
            )
        sims = self.policy.relevance(self.matrix @ subject.vector, matched, shared)
        order = np.lexsort((self.keys, -sims))
        found: list[Candidate] = []
        for i in order.tolist():
            item = stored.get(int(self.keys[i]))
            if item is not None and self._allowed(item, rules, page):
                found.append(_candidate(item, self.matrix[i], float(sims[i])))
                if len(found) == want:
                    break
        return found

    def _pool(self, subject: Subject) -> list[StoredArticle]:
        section = subject.article.section
        if section is None:
            return []
        # Up to `section_pool` published articles of the section at or before the article's time
        # (newest first) and as many after it (oldest first), straight from SQL.
        moment, n, conn = (
            format_timestamp(subject.anchor),
            self.policy.section_pool,
            self.catalog.connection(),
        )
        where = "WHERE section = ? AND status = 'published' AND published_at"
        before = conn.execute(
            f"SELECT key FROM articles {where} <= ? ORDER BY published_at DESC, key DESC LIMIT ?",
            (section, moment, n),
        ).fetchall()
        after = conn.execute(
            f"SELECT key FROM articles {where} > ? ORDER BY published_at, key LIMIT ?", (section, moment, n)
        ).fetchall()
        keys = [int(row[0]) for row in [*before, *after]]
        stored = self.catalog.by_keys(keys)
        return [stored[k] for k in keys if k in stored and self.index.vectors.contains(k)]

    def _scored(self, items: list[StoredArticle], subject: Subject) -> list[Candidate]:
        out = []
        for item in items:
            vector = self.index.vectors.vector(item.key)
            assert vector is not None
            out.append(
                _candidate(item, vector, self.relevance(subject, item, float(vector @ subject.vector)))
            )
        return out

    def _related(self, subject: Subject, query: RelatedQuery, rules: Rules, page: Page) -> RankedList:
        pins: list[Candidate] = []
        if subject.id is not None:
            targets = self.overrides.pins(subject.id)
            pinned = self.catalog.by_ids_or_urls(targets)
            for target in targets:
                item = pinned.get(target)
                if item is not None and rules.allows(item.article, item.key, item.status, pinned=True):
                    vector = self.vector(item)
                    if vector is not None:
                        cosine = float(vector @ subject.vector)
                        pins.append(_candidate(item, vector, self.relevance(subject, item, cosine)))

        def fallback() -> list[Candidate]:
            allowed = [s for s in self._pool(subject) if rules.allows(s.article, s.key, s.status)]
            recent = sorted(allowed, key=lambda s: (epoch_of(s.article.published_at), s.key), reverse=True)
            return self._scored(recent[:FALLBACK_POOL], subject)

        return rank_list(
            subject,
            self._nearest(subject, rules, page, max(4 * query.limit, 40)),
            query=query,
            policy=self.policy,
            page=page,
            limit=query.limit,
            fresh=bool(query.freshness),
            reason="similar",
            pins=pins,
            fallback=fallback,
        )

    def _in_section(self, subject: Subject, query: RelatedQuery, rules: Rules, page: Page) -> RankedList:
        if query.section_limit == 0:
            return RankedList(items=[])
        pool = [s for s in self._pool(subject) if rules.allows(s.article, s.key, s.status)]
        return rank_list(
            subject,
            self._scored(pool, subject),
            query=query,
            policy=self.policy,
            page=page,
            limit=query.section_limit,
            fresh=query.freshness is not False,
            reason="same_section",
        )


class Score(float):
    """A score that equals another within 1e-5: the two paths compute the same cosines with
    different BLAS calls (a matrix product against a dot), which differ in the last bits."""

    def __eq__(self, other: object) -> bool:
        return isinstance(other, float) and abs(float(self) - other) <= 1e-5

    __hash__ = float.__hash__


def summary(ranked: RankedList) -> list[tuple[str, str, float, tuple[str | None, ...]]]:
    """What a list shows, comparable across the two paths: each item's id, reason, score and the
    fields the API shows of it (from the snapshot and live view, or from the catalog's rows)."""
    return [(i.article.id, i.reason, Score(i.score), i.fields()) for i in ranked.items]


__all__ = ["ReferenceRecommender", "summary"]
