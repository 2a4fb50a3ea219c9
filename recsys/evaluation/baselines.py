"""The methods an evaluation compares: simple baselines, plain dense neighbours, and the full system.

Each one answers `recommend(query, k)` with the ids of up to k other articles, best first:

    random    k articles drawn at random (seeded): the floor
    recent    "More in <section>": the newest articles of the same section published no later than the
              article (undated articles count as oldest; no section: the newest articles overall)
    bm25      lexical "more like this": BM25 (bm25s) over the same title+lead text the model reads,
              tokenised per language, matching within a language
    dense     raw FAISS nearest neighbours minus the article itself: no ranking rules
    hybrid    reciprocal rank fusion of bm25 and dense (top 50 of each, constant 60)
    system    the public query API, `Recommender.related`: dense plus every ranking rule the service
              applies, so a new rule shows up in the evaluation without touching this module

`bm25`, `dense` and `system` also score a pair of articles (`score(first, second)`, for the rated
pairs of recsys/evaluation/ratings.py), symmetrically (the mean of both directions where a score has
one):

    bm25      BM25 of one article's text against the other, divided by its score against itself (1 for
              a copy, near 0 for a stranger), as the system's lexical half normalises it
    dense     the cosine of the two vectors
    system    the relevance its ranking starts from (`Policy.relevance`): the cosine blended with the
              normalised BM25 score of the version's lexical list (0 where the list does not hold the
              other article), before the time prior and the list rules (dedup, MMR), which act on a
              whole list rather than on a pair
"""

from __future__ import annotations

import bisect
import logging
import math
import random
from collections.abc import Callable, Sequence
from dataclasses import replace

import numpy as np

from recsys.catalog.store import StoredArticle
from recsys.encoding.recipe import TextRecipe
from recsys.errors import InvalidInput
from recsys.evaluation.corpus import EvalCorpus
from recsys.evaluation.languages import language_of
from recsys.evaluation.runner import Method
from recsys.serving.query import RelatedQuery
from recsys.serving.recommend import Recommender
from recsys.version.lexical import language_group, tokenize, tokenize_each
from recsys.version.vectors import VectorIndex

METHOD_NAMES: tuple[str, ...] = ("random", "recent", "bm25", "dense", "hybrid", "system")
RRF_CONSTANT = 60
FUSION_DEPTH = 50


class RandomBaseline:
    name = "random"

    def __init__(self, corpus: EvalCorpus, seed: int = 0) -> None:
        self._ids = [a.id for a in corpus.articles]
        self._rng = random.Random(seed)

    def recommend(self, query: StoredArticle, k: int) -> list[str]:
        picked = self._rng.sample(self._ids, min(len(self._ids), k + 1))
        return [i for i in picked if i != query.id][:k]


class RecentInSection:
    name = "recent"

    def __init__(self, corpus: EvalCorpus) -> None:
        # ISO-8601 UTC strings sort by time; "" puts undated articles first (oldest), key breaks ties.
        self._by_section: dict[str | None, list[tuple[str, int, str]]] = {}
        everything: list[tuple[str, int, str]] = []
        for stored in corpus.articles:
            entry = (stored.article.published_at or "", stored.key, stored.id)
            self._by_section.setdefault(stored.article.section, []).append(entry)
            everything.append(entry)
        for entries in self._by_section.values():
            entries.sort()
        self._everything = sorted(everything)

    def recommend(self, query: StoredArticle, k: int) -> list[str]:
        section = query.article.section
        entries = self._by_section.get(section, []) if section else self._everything
        end = len(entries)
        if query.article.published_at:
            end = bisect.bisect_right(entries, (query.article.published_at, float("inf"), ""))
        chosen: list[str] = []
        for _, _, article_id in reversed(entries[:end]):
            if article_id != query.id:
                chosen.append(article_id)
                if len(chosen) == k:
                    break
        return chosen


class LexicalBM25:
    """bm25s over the articles' text, each tokenised as its language (recsys/version/lexical.py), a
    query matching only articles of its own language or of none; a corpus without languages is
    tokenised and scored exactly as bm25s does by default."""

    name = "bm25"
    pair_score = "BM25 of each text against the other / against itself, mean of both directions"

    def __init__(self, corpus: EvalCorpus, recipe: TextRecipe) -> None:
        import bm25s  # imported here: only evaluations need it

        logging.getLogger("bm25s").setLevel(logging.WARNING)  # it logs every index build at DEBUG
        self._recipe = recipe
        self._ids = [a.id for a in corpus.articles]
        self._row_of = corpus.row_of
        texts = [recipe.text(a.article.title, a.article.body) for a in corpus.articles]
        groups = [language_group(a.article.language) for a in corpus.articles]
        self._groups = np.array(groups)
        self._languages = len(set(groups) - {""}) > 0
        self._texts = texts
        self._retriever = bm25s.BM25()
        if self._languages:
            self._retriever.index(tokenize_each(texts, groups), show_progress=False)
        else:
            self._retriever.index(bm25s.tokenize(texts, show_progress=False), show_progress=False)

    def ranked(self, query: StoredArticle, k: int) -> list[str]:
        text = self._recipe.text(query.article.title, query.article.body)
        group = language_group(query.article.language) if self._languages else ""
        tokens = tokenize([text], group)
        if not tokens[0]:
            return []
        mask = None
        if group:
            mask = ((self._groups == group) | (self._groups == "")).astype(np.float32)
        docs, scores = self._retriever.retrieve(
            tokens, k=min(k + 1, len(self._ids)), show_progress=False, weight_mask=mask
        )
        found = [self._ids[int(d)] for d, s in zip(docs[0], scores[0], strict=True) if s > 0]
        return [i for i in found if i != query.id][:k]

    def recommend(self, query: StoredArticle, k: int) -> list[str]:
        return self.ranked(query, k)

    def score(self, first: str, second: str) -> float:
        return (self._normalised(first, second) + self._normalised(second, first)) / 2.0

    def _normalised(self, query_id: str, other_id: str) -> float:
        row, other = self._row_of.get(query_id), self._row_of.get(other_id)
        if row is None or other is None:
            return math.nan
        # Tokenised as the index tokenised it: its language's tokens where the corpus has languages.
        group = str(self._groups[row]) if self._languages else ""
        tokens = tokenize([self._texts[row]], group)[0]
        if not tokens:
            return 0.0
        scores = self._retriever.get_scores(tokens)
        return float(scores[other] / scores[row]) if scores[row] > 0 else 0.0


class DenseNeighbours:
    pair_score = "cosine of the two vectors"

    def __init__(self, corpus: EvalCorpus, vectors: VectorIndex, name: str = "dense") -> None:
        self.name = name
        self._corpus = corpus
        self._vectors = vectors

    def ranked(self, query: StoredArticle, k: int) -> list[str]:
        keys, _ = self._vectors.search(self._corpus.vector(query.id)[None, :], k + 1)
        found = [self._vectors.article_id(int(key)) for key in keys[0] if key >= 0]
        return [i for i in found if i is not None and i != query.id][:k]

    def recommend(self, query: StoredArticle, k: int) -> list[str]:
        return self.ranked(query, k)

    def score(self, first: str, second: str) -> float:
        rows = self._corpus.row_of
        if first not in rows or second not in rows:
            return math.nan
        return float(self._corpus.vector(first) @ self._corpus.vector(second))


class ReciprocalRankFusion:
    name = "hybrid"

    def __init__(self, rankers: Sequence[Callable[[StoredArticle, int], list[str]]]) -> None:
        self._rankers = rankers

    def recommend(self, query: StoredArticle, k: int) -> list[str]:
        scores: dict[str, float] = {}
        for ranker in self._rankers:
            for rank, article_id in enumerate(ranker(query, max(k, FUSION_DEPTH))):
                scores[article_id] = scores.get(article_id, 0.0) + 1.0 / (RRF_CONSTANT + rank + 1)
        return sorted(scores, key=lambda i: -scores[i])[:k]


class FullSystem:
    """`Recommender.related`, or with request parameters (`query`, its limit replaced by k) the same
    `related_list` call a page makes: a knob sweep judges variants of the system under other names.

    `elsewhere` (the catalog's language codes): the method also answers `recommend_elsewhere`, the
    list a page linking an article's other editions asks for (`language=` every other code)."""

    def __init__(
        self,
        recommender: Recommender,
        query: RelatedQuery | None = None,
        name: str = "system",
        *,
        elsewhere: Sequence[str] = (),
    ) -> None:
        self.name = name
        self._recommender = recommender
        self._query = query
        self._elsewhere = tuple(sorted(set(elsewhere) - {""}))

    def recommend(self, query: StoredArticle, k: int) -> list[str]:
        if self._query is None:
            return [r.article.id for r in self._recommender.related(query.id, k)]
        ranked = self._recommender.related_list(query.id, replace(self._query, limit=k))
        return [r.article.id for r in ranked.items]

    def recommend_elsewhere(self, query: StoredArticle, k: int) -> list[str] | None:
        """The article's list in every other language of the catalog, as a page asks for it with
        `language=` each of them (otherwise the default query); None without `elsewhere` or for an
        article without a language (its default list holds every language already)."""
        own = language_of(query)
        others = tuple(code for code in self._elsewhere if code != own)
        if not own or not others:
            return None
        ranked = self._recommender.related_list(query.id, RelatedQuery(limit=k, languages=others))
        return [r.article.id for r in ranked.items]

    @property
    def pair_score(self) -> str:
        weight = self._recommender.policy.fusion_weight
        return (
            f"the ranking's relevance, {1 - weight:g} x cosine + {weight:g} x normalised BM25 from the "
            "version's lexical list (0 off the list), mean of both directions"
        )

    def score(self, first: str, second: str) -> float:
        return (self._relevance(first, second) + self._relevance(second, first)) / 2.0

    def _relevance(self, query_id: str, other_id: str) -> float:
        recommender = self._recommender
        index, by_id = recommender.index, recommender.snapshot.by_id
        row, other = by_id.row(query_id), by_id.row(other_id)
        if row is None or other is None:
            return math.nan
        first, second = index.vectors.vectors_of(recommender.snapshot.keys[[row, other]])
        lexical = 0.0
        if (
            recommender.policy.fusion_weight
            and index.lexical_rows is not None
            and index.lexical_scores is not None
        ):
            at = np.flatnonzero(index.lexical_rows[row] == other)
            lexical = float(index.lexical_scores[row][at[0]]) if len(at) else 0.0
        return float(recommender.policy.relevance(float(first @ second), lexical))


def make_methods(
    names: Sequence[str],
    corpus: EvalCorpus,
    recommender: Recommender,
    *,
    seed: int = 0,
    system_query: RelatedQuery | None = None,
    elsewhere: Sequence[str] = (),
) -> list[Method]:
    """The named methods, in the order given; unknown names are an InvalidInput. `system_query`: the
    request parameters `system` is asked with (default: none, as `Recommender.related`);
    `elsewhere`: as for FullSystem."""
    _check_names(names)
    vectors = recommender.index.vectors
    lexical: LexicalBM25 | None = None
    dense = DenseNeighbours(corpus, vectors)

    def bm25() -> LexicalBM25:
        nonlocal lexical
        if lexical is None:
            lexical = LexicalBM25(corpus, recommender.recipe)
        return lexical

    methods: list[Method] = []
    for name in dict.fromkeys(names):
        if name == "random":
            methods.append(RandomBaseline(corpus, seed))
        elif name == "recent":
            methods.append(RecentInSection(corpus))
        elif name == "bm25":
            methods.append(bm25())
        elif name == "dense":
            methods.append(dense)
        elif name == "hybrid":
            methods.append(ReciprocalRankFusion([bm25().ranked, dense.ranked]))
        else:
            methods.append(FullSystem(recommender, query=system_query, elsewhere=elsewhere))
    return methods


def parse_method_names(text: str) -> list[str]:
    """`"bm25, dense,system"` -> ["bm25", "dense", "system"]; unknown names are an InvalidInput."""
    names = list(dict.fromkeys(part.strip().lower() for part in text.split(",") if part.strip()))
    _check_names(names)
    return names


def _check_names(names: Sequence[str]) -> None:
    unknown = [n for n in names if n not in METHOD_NAMES]
    if unknown or not names:
        raise InvalidInput(
            f"unknown method(s) {', '.join(unknown) or '(none given)'}; choose from {', '.join(METHOD_NAMES)}"
        )
