"""Ground truth: what counts as relevant for a query article, and which articles are judged.

In order of preference:

* curated links (`related` in the input): relevant = the links of an article plus the articles that
  link to it (an editor linking A to B is evidence both ways). With graded pairs (semeval's pairs.tsv,
  1 = same story .. 4 = unrelated) nDCG uses gain 4 - rating for the rated pairs;
* a proxy where a corpus has no curated links: `section` (same section is relevant) or `tags` (sharing
  a tag is relevant, optionally only tags with a prefix such as `topic:` on reuters21578). A proxy
  rewards topical lists, not same-story lists; recall against a proxy is tiny by construction, so read
  precision and nDCG there;
* `story`: the same `story` label in the input records (wcep2025's editor story header). Unlike its
  `related` links, capped at the 20 items nearest in time, a label covers the whole story however
  long it runs, so it does not favour lists that stay close in time;
* `long-story`: the long-tail subset of the story labels (`LongStoryTruth`). Queries are the items of
  stories spanning more than `LONG_STORY_SPAN_DAYS`; relevant are the items of the same story more than
  `LONG_STORY_GAP_DAYS` away from the query; the story's nearer items are set aside (left out of
  every list, which is asked for as many more items), so a list is judged on what it finds months
  away, among whatever else the catalog holds (a haystack of older look-alikes, say).

Every method is judged on the same query articles (`choose_queries`: a seeded sample when there are
many).
"""

from __future__ import annotations

import random
from collections.abc import Iterable
from pathlib import Path
from typing import Literal, Protocol

from recsys.articles import parse_timestamp
from recsys.errors import InvalidInput
from recsys.evaluation.corpus import EvalCorpus
from recsys.evaluation.ratings import read_rated_pairs

Relevance = Literal["auto", "related", "section", "tags", "story", "long-story"]
RELEVANCE_MODES: tuple[str, ...] = ("auto", "related", "section", "tags", "story", "long-story")
# wcep2025's label for an item the editors filed under no story: a cluster of one, never relevant.
SINGLETON_STORY = "singleton:"
# The long-story set (issue 22): stories running for more than four months, judged on their items
# more than two months from the query, where a short time prior can no longer tell them from years.
LONG_STORY_SPAN_DAYS = 120.0
LONG_STORY_GAP_DAYS = 60.0
_SECONDS_PER_DAY = 86_400.0


class Truth(Protocol):
    """What counts as relevant for a query: `gain` > 0 is relevant; `ideal` gives the best possible
    gains in order (for nDCG) and `count` the number of relevant articles (for recall)."""

    description: str

    def queries(self) -> list[str]: ...

    def gain(self, query_id: str, candidate_id: str) -> float: ...

    def is_relevant(self, query_id: str, candidate_id: str) -> bool: ...

    def ideal(self, query_id: str, k: int) -> list[float]: ...

    def count(self, query_id: str) -> int: ...

    def ignored(self, query_id: str) -> frozenset[str]:
        """Articles neither relevant nor irrelevant for the query: left out of its lists."""
        ...

    def gains(self, query_id: str) -> dict[str, float]:
        """Every article with a gain > 0 for the query (the relevant ones among them): what a
        per-language breakdown splits by the language of the item."""
        ...


class CuratedTruth:
    """Editors' links, made symmetric; optional graded gains from rated pairs for nDCG."""

    def __init__(self, corpus: EvalCorpus, graded: dict[tuple[str, str], float] | None = None) -> None:
        self.description = "curated related links (symmetric)"
        relevant: dict[str, set[str]] = {}
        for stored in corpus.articles:
            for other in stored.article.related:
                if other in corpus.row_of and other != stored.id:
                    relevant.setdefault(stored.id, set()).add(other)
                    relevant.setdefault(other, set()).add(stored.id)
        self._relevant = relevant
        self._gains: dict[str, dict[str, float]] = {q: dict.fromkeys(ids, 1.0) for q, ids in relevant.items()}
        if graded:
            self.description += " + graded pairs (gain 4 - rating)"
            for (a, b), gain in graded.items():
                for q, c in ((a, b), (b, a)):
                    if q in self._gains and c in corpus.row_of:
                        self._gains[q][c] = gain

    def queries(self) -> list[str]:
        return sorted(self._relevant)

    def gain(self, query_id: str, candidate_id: str) -> float:
        return self._gains.get(query_id, {}).get(candidate_id, 0.0)

    def is_relevant(self, query_id: str, candidate_id: str) -> bool:
        return candidate_id in self._relevant.get(query_id, ())

    def ideal(self, query_id: str, k: int) -> list[float]:
        return sorted((g for g in self._gains.get(query_id, {}).values() if g > 0), reverse=True)[:k]

    def count(self, query_id: str) -> int:
        return len(self._relevant.get(query_id, ()))

    def ignored(self, query_id: str) -> frozenset[str]:
        return frozenset()

    def gains(self, query_id: str) -> dict[str, float]:
        return {c: g for c, g in self._gains.get(query_id, {}).items() if g > 0}


class ProxyTruth:
    """Relevance from metadata: same section, at least one shared tag (optionally with a prefix), or
    the same story label (`stories`: article id -> label, read from the input files)."""

    def __init__(
        self,
        corpus: EvalCorpus,
        kind: Literal["section", "tags", "story"],
        tag_prefix: str = "",
        stories: dict[str, str] | None = None,
    ) -> None:
        self.kind = kind
        self._labels: dict[str, frozenset[str]] = {}
        stories = stories or {}
        for stored in corpus.articles:
            if kind == "section":
                labels = {stored.article.section} if stored.article.section else set()
            elif kind == "story":
                story = stories.get(stored.id)
                labels = {story} if story and not story.startswith(SINGLETON_STORY) else set()
            else:
                labels = {t for t in stored.article.tags if t.startswith(tag_prefix)}
            if labels:
                self._labels[stored.id] = frozenset(labels)
        postings: dict[str, set[str]] = {}
        for article_id, owned in self._labels.items():
            for label in owned:
                postings.setdefault(label, set()).add(article_id)
        self._postings = postings
        self._counts = {
            article_id: len(set().union(*(postings[label] for label in labels))) - 1
            for article_id, labels in self._labels.items()
        }
        scope = f" ({tag_prefix}*)" if tag_prefix else ""
        what = {"section": "same section", "tags": f"a shared tag{scope}", "story": "same `story` label"}[
            kind
        ]
        self.description = f"proxy: {what} is relevant"

    def queries(self) -> list[str]:
        return sorted(q for q, n in self._counts.items() if n > 0)

    def gain(self, query_id: str, candidate_id: str) -> float:
        mine = self._labels.get(query_id)
        theirs = self._labels.get(candidate_id)
        return 1.0 if mine and theirs and not mine.isdisjoint(theirs) else 0.0

    def is_relevant(self, query_id: str, candidate_id: str) -> bool:
        return self.gain(query_id, candidate_id) > 0

    def ideal(self, query_id: str, k: int) -> list[float]:
        return [1.0] * min(k, self._counts.get(query_id, 0))

    def count(self, query_id: str) -> int:
        return self._counts.get(query_id, 0)

    def ignored(self, query_id: str) -> frozenset[str]:
        return frozenset()

    def gains(self, query_id: str) -> dict[str, float]:
        labels = self._labels.get(query_id, frozenset())
        members = set().union(*(self._postings[label] for label in labels)) - {query_id}
        return dict.fromkeys(sorted(members), 1.0)


class LongStoryTruth:
    """Same story, months away: for an item of a story spanning more than `span_days`, its story's
    items more than `gap_days` away (either side) are relevant, the nearer ones set aside. Undated
    items belong to no long story."""

    def __init__(
        self,
        corpus: EvalCorpus,
        stories: dict[str, str],
        *,
        span_days: float = LONG_STORY_SPAN_DAYS,
        gap_days: float = LONG_STORY_GAP_DAYS,
    ) -> None:
        members: dict[str, list[tuple[float, str]]] = {}
        for stored in corpus.articles:
            story = stories.get(stored.id)
            moment = stored.article.published_at
            if story and not story.startswith(SINGLETON_STORY) and moment:
                days = parse_timestamp(moment).timestamp() / _SECONDS_PER_DAY
                members.setdefault(story, []).append((days, stored.id))
        self._relevant: dict[str, frozenset[str]] = {}
        self._ignored: dict[str, frozenset[str]] = {}
        for items in members.values():
            times = [days for days, _ in items]
            if max(times) - min(times) <= span_days:
                continue
            for days, article_id in items:
                far = frozenset(other for t, other in items if abs(t - days) > gap_days)
                if far:
                    self._relevant[article_id] = far
                    self._ignored[article_id] = frozenset(
                        other for t, other in items if abs(t - days) <= gap_days and other != article_id
                    )
        self.description = (
            f"long stories: same `story` label more than {gap_days:g} days away, in stories spanning "
            f"more than {span_days:g} days (the story's nearer items set aside)"
        )

    def queries(self) -> list[str]:
        return sorted(self._relevant)

    def gain(self, query_id: str, candidate_id: str) -> float:
        return 1.0 if candidate_id in self._relevant.get(query_id, ()) else 0.0

    def is_relevant(self, query_id: str, candidate_id: str) -> bool:
        return candidate_id in self._relevant.get(query_id, ())

    def ideal(self, query_id: str, k: int) -> list[float]:
        return [1.0] * min(k, len(self._relevant.get(query_id, ())))

    def count(self, query_id: str) -> int:
        return len(self._relevant.get(query_id, ()))

    def ignored(self, query_id: str) -> frozenset[str]:
        return self._ignored.get(query_id, frozenset())

    def gains(self, query_id: str) -> dict[str, float]:
        return dict.fromkeys(sorted(self._relevant.get(query_id, ())), 1.0)


def read_pairs(path: Path) -> dict[tuple[str, str], float]:
    """Graded pairs (recsys/evaluation/ratings.py `read_rated_pairs`) as nDCG gains, 4 - rating (3 for
    the same story, 0 for unrelated)."""
    return {(p.id1, p.id2): 4.0 - p.rating for p in read_rated_pairs(path)}


def make_truth(
    corpus: EvalCorpus,
    relevance: str = "auto",
    *,
    tag_prefix: str = "",
    graded: dict[tuple[str, str], float] | None = None,
    stories: dict[str, str] | None = None,
) -> Truth:
    """Curated links when the corpus has them (or when asked), else a section or tag proxy; story
    labels only when asked (`stories`: the `story` field of the input records, by article id)."""
    if relevance not in RELEVANCE_MODES:
        raise InvalidInput(f"unknown relevance {relevance!r} (expected one of {', '.join(RELEVANCE_MODES)})")
    if relevance in ("story", "long-story"):
        if not stories:
            raise InvalidInput(
                f"--relevance {relevance} needs a `story` field in the input records; none has one"
            )
        if relevance == "long-story":
            long = LongStoryTruth(corpus, stories)
            if not long.queries():
                raise InvalidInput(
                    f"no story spans more than {LONG_STORY_SPAN_DAYS:g} days with items more than "
                    f"{LONG_STORY_GAP_DAYS:g} days apart: nothing to judge against"
                )
            return long
        by_story = ProxyTruth(corpus, "story", stories=stories)
        if not by_story.queries():
            raise InvalidInput("no two indexed articles share a `story` label: nothing to judge against")
        return by_story
    if relevance in ("auto", "related"):
        curated = CuratedTruth(corpus, graded)
        if curated.queries() or relevance == "related":
            if not curated.queries():
                raise InvalidInput("the corpus has no curated `related` links between its articles")
            return curated
        has_sections = any(s.article.section for s in corpus.articles)
        relevance = "section" if has_sections else "tags"
    truth = ProxyTruth(corpus, "section" if relevance == "section" else "tags", tag_prefix)
    if not truth.queries():
        raise InvalidInput(f"no article has a {relevance} shared with another one: nothing to judge against")
    return truth


def choose_queries(
    truth: Truth, candidates: Iterable[str] | None = None, *, sample: int | None = None, seed: int = 0
) -> list[str]:
    """The articles to judge: those with ground truth (and among `candidates`, when given), sampled
    with a fixed seed when there are more than `sample`."""
    judged = truth.queries()
    if candidates is not None:
        allowed = set(candidates)
        judged = [q for q in judged if q in allowed]
    if not judged:
        raise InvalidInput("no article of the input has ground truth to be judged against")
    if sample is not None and len(judged) > sample:
        judged = sorted(random.Random(seed).sample(judged, sample))
    return judged
