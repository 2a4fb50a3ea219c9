"""The query side: from an article (or a draft) to its lists, touching memory only on the hot path.

Where a list's candidates come from, cheapest first:
1. the article's precomputed neighbours (recsys/version/neighbours.py), filtered by the rules as arrays
   (recsys/serving/rules.py); for an unfiltered request these are nearly always enough;
2. when filters leave too few: the rows a narrow filter can match, scored exactly (at most
   `search_cap` of them), or else one search for `search_cap` neighbours: a hard bound, never a
   search widened until it has read the whole index;
3. the fallback (the section's recent stories), inside the ranking pipeline.
A filter that cannot match anything answers at once. Drafts and articles published after the last
build have no precomputed list and take step 2.

What the rules read comes from the version's snapshot and the live view of the catalog
(recsys/serving/live.py): one in-memory state, read once per request. The public queries take that
state (`state=`) so that a caller that has already read it (the service: for the ETag) answers
from the same one; without it they read the current one. Nothing here reads the catalog for a
stored article, nor for an article (or a pin) the version does not hold once its subject is prepared
(recsys/serving/unindexed.py: its body and vector, made when the state is refreshed); an id or URL
the state does not know is not found, from memory. A draft is embedded; an article past the
preparation's bound, or not prepared yet, is read from the catalog (and embedded), as before. What is
embedded here is centered with the version's language means when its vectors are (docs/encoders.md,
per-language centering): a draft under its `language`, else the one detected from its text.

Experiments (recsys/serving/experiments.py): a query that names an arm (`bucket`, `assign` or `arm`)
while one runs is ranked by the arm's recommender: this one for an arm that changes nothing, else a
sibling sharing its index, live view and caches under the arm's policy, or ranking by a baseline
(`bm25`, `recent`, `random`) under the same live rules; under interleaving, the two arms' lists are
merged by team draft. A query that names none makes one attribute check (`RelatedQuery.assigned`).
"""

from __future__ import annotations

import contextlib
import copy
import functools
import hashlib
import math
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

import numpy as np

from recsys.articles import Article, ListedFields
from recsys.catalog.store import Catalog, StoredArticle
from recsys.encoding.centering import center, language_code
from recsys.encoding.protocol import Encoder, EncodeSlots
from recsys.encoding.recipe import TextRecipe
from recsys.errors import ArticleNotFound, CatalogBusy, ConfigError, InvalidInput
from recsys.language import detect_language, primary
from recsys.serving.experiments import (
    DEFAULT_ARM,
    Arm,
    Assignment,
    Experiment,
    assign,
    interleave_seed,
    team_draft,
)
from recsys.serving.live import LiveState, LiveView, UnindexedArticle, built_state
from recsys.serving.policy import Policy
from recsys.serving.query import MAX_LIMIT, RelatedQuery, encode_cursor
from recsys.serving.ranking import SECONDS_PER_DAY, depth, list_in_order, rank_list
from recsys.serving.rules import RowRules
from recsys.serving.types import ArticleAsSource, Candidate, Page, RankedList, Recommendation, Subject
from recsys.serving.unindexed import DEFAULT_LIMIT, PreparedSubjects
from recsys.version.entities import Entities, tagged
from recsys.version.lists import Entry, FinalLists
from recsys.version.neighbours import NO_GROUP
from recsys.version.sections import SectionBlocks, SectionEntry
from recsys.version.snapshot import NO_CODE, epoch_of
from recsys.version.store import LoadedIndex

__all__ = ["MAX_LIMIT", "Blocks", "Clock", "Recommender"]

Clock = Callable[[], datetime]
FALLBACK_POOL = 50
EMBEDDED_CACHE = 1024
BITMAP_CACHE = 256
MAX_BREADTH = 16.0
DEFAULT_SEARCH_CAP = 2048


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Blocks:
    """Both blocks of an article page; no article is in both. `arm` and `experiment`: what ranked
    them (recsys/serving/experiments.py; "default" and "" outside any experiment)."""

    related: RankedList
    more_in_section: RankedList
    next_cursor: str | None
    arm: str = DEFAULT_ARM
    experiment: str = ""


@dataclass
class _Request:
    """One request's fixed inputs: the live state it started with, its subject and rules."""

    state: LiveState
    subject: Subject
    row: int | None  # the subject's row in the served version (None: a draft, or not indexed yet)
    section: int  # the subject's section code (NO_CODE: none, or one the version does not know)
    rules: RowRules
    page: Page
    query: RelatedQuery
    source: _Rows
    # The subject's lexical matches (rows ascending, normalised BM25 scores): read from the version
    # for a stored article, scored now for a draft or an article published since the build.
    lexical_rows: np.ndarray
    lexical_scores: np.ndarray
    # The subject's names (vocabulary indices, total weight: recsys/version/entities.py); None when
    # the policy gives them no weight, the version has none, the subject is undated (names only
    # count where the time prior keeps the list to the story's time: without it, shared names pull in
    # look-alikes from any year, measured on bbc and semeval) or has no tags of its own (`tagged`:
    # capitalised words alone cost reuters' topic lists). They count for the subject's stored
    # candidates only (`named_rows`, ascending: its precomputed neighbours and lexical matches), so
    # that an article outside both lists still ranks below every listed one (see `_nearest`).
    names: tuple[np.ndarray, float] | None
    named_rows: np.ndarray
    # Set when the list read more than the subject's precomputed and lexical lists (a search, a
    # narrow filter's rows, the section fallback): such a list is not stored at build time.
    wide: bool = False

    def lexical(self, rows: np.ndarray) -> np.ndarray:
        """The normalised BM25 score of each of `rows` for this subject (0 where not matched)."""
        out = np.zeros(len(rows), dtype=np.float64)
        if len(self.lexical_rows):
            at = np.minimum(np.searchsorted(self.lexical_rows, rows), len(self.lexical_rows) - 1)
            hit = self.lexical_rows[at] == rows
            out[hit] = self.lexical_scores[at[hit]]
        return out

    def shared_names(self, entities: Entities | None, rows: np.ndarray) -> np.ndarray | None:
        """The overlap of each of `rows`' names with the subject's (0 for a row outside the
        subject's stored candidates, or undated); None where names do not count for this subject."""
        if self.names is None or entities is None:
            return None
        out = np.zeros(len(rows), dtype=np.float64)
        # An undated candidate shares no names: the prior cannot place it in the story's time, and
        # names alone bring in old wire copy of the same places (issue 22's undated 2004 items).
        named = np.isin(rows, self.named_rows) & ~np.isnan(self.state.published[rows])
        out[named] = entities.overlap(self.names, rows[named])
        return out


class Recommender:
    """Answers related-stories queries against one loaded index version and the live catalog."""

    def __init__(
        self,
        catalog: Catalog,
        index: LoadedIndex,
        encoder: Encoder | None,
        recipe: TextRecipe,
        clock: Clock = utcnow,
        policy: Policy | None = None,
        search_cap: int = DEFAULT_SEARCH_CAP,
        settings_digest: str = "",
        encode_slots: EncodeSlots | None = None,
        unindexed_max: int = DEFAULT_LIMIT,
        watched: bool = False,
    ) -> None:
        self.catalog = catalog
        self.index = index
        self.snapshot = index.snapshot
        self.encoder = encoder
        self.recipe = recipe
        self.clock = clock
        self.policy = policy or Policy()
        self.search_cap = search_cap
        # What else shapes lists (ranking policy, default limits): part of every ETag.
        self.settings_digest = settings_digest or repr((self.policy, search_cap))
        self.encode_slots = encode_slots or contextlib.nullcontext()  # None: unbounded (library use)
        self.live = LiveView(catalog, index.snapshot)
        # The bodies and vectors of articles the version does not hold, made off the request path.
        # The embedding cache is read under the model that embeds here (the version's, as loading
        # checks), or that built the version when none is loaded.
        model = encoder.name if encoder is not None else index.manifest.model
        self.subjects = PreparedSubjects(
            catalog, encoder, recipe, model=model, limit=unindexed_max, centering=index.centering
        )
        # True where another thread follows the catalog and calls `prepare` (the service's change
        # watcher): then a write's own refresh does not wait on the encoder, and an id the state does
        # not know is a 404 from memory. Library use (False) has no watcher: `refresh` prepares, and
        # an id it does not know makes it read what changed in the catalog once before saying so.
        self.watched = watched
        # Articles published after the build are embedded on their first view; a popular new story
        # is viewed often before the next build, so its vector is kept (by key, content hash and
        # language: a centered vector depends on the language too).
        self._embedded: OrderedDict[tuple[int, str, str | None], np.ndarray] = OrderedDict()
        self._embedded_lock = threading.Lock()
        self._bitmaps: OrderedDict[tuple[tuple[int, ...], ...], tuple[np.ndarray, int]] = OrderedDict()
        # The version's final lists, when they were ranked under this recommender's settings: then a
        # default request whose inputs have not changed since the build is answered from them.
        lists = index.lists
        self.lists = lists if lists is not None and lists.settings_digest == self.settings_digest else None
        self._lists_policy = self.policy  # a policy swapped in later (sweeps, tests) ranks per request
        # The section blocks stored beside them (recsys/version/sections.py): used only beside a
        # stored related list, so under the same settings.
        sections = index.sections
        self.sections = (
            sections
            if sections is not None and sections.blocks.settings_digest == self.settings_digest
            else None
        )
        # The rows changed in the last state asked about, by section and time before and after the
        # change: what a stored section block checks its window against.
        self._section_moves: tuple[LiveState, np.ndarray, np.ndarray] | None = None
        self._default_queries: dict[int, RelatedQuery] = {}
        self._next_change: tuple[LiveState, float, float] | None = None
        # Per live state: the rows edited into another language since the build (`_language_moves`).
        self._moved_rows: tuple[LiveState, np.ndarray, np.ndarray, np.ndarray] | None = None
        # What the ETag names of the recommender itself: the version and the settings shaping lists.
        self.etag_token = hashlib.blake2b(
            f"{index.version}\x1f{self.settings_digest}".encode(), digest_size=8
        ).hexdigest()
        # How the related block is ranked: `system` (the pipeline, under `policy`), or an
        # experiment's baseline (`bm25`, `recent`, `random`), on an arm's recommender (`_rankers`).
        self.method = "system"
        # The running experiment's arms: for each, the recommenders of its related and section
        # blocks, made on first use, kept while that experiment runs.
        self._arms: tuple[Experiment, dict[str, tuple[Recommender, Recommender]]] | None = None

    # -- vectors -----------------------------------------------------------------------------------

    def query_vector(self, stored: StoredArticle) -> np.ndarray:
        vector = self.index.vectors.vector(stored.key)
        if vector is not None:
            return vector
        cache_key = (stored.key, stored.content_hash, stored.article.language)
        with self._embedded_lock:
            cached = self._embedded.get(cache_key)
            if cached is not None:
                self._embedded.move_to_end(cache_key)
                return cached
        # Published after the last build: embed it now, so a new article has related stories at once.
        vector = self.embed(stored.article)
        with self._embedded_lock:
            self._embedded[cache_key] = vector
            while len(self._embedded) > EMBEDDED_CACHE:
                self._embedded.popitem(last=False)
        return vector

    def embed(self, article: Article, *, detect: bool = False) -> np.ndarray:
        """The vector of `article` as the version's own are made: centered with its language means
        when they are. `detect`: an article without a language is centered under the one detected
        from its text (a draft; the catalog's articles were given theirs, or not, on import)."""
        if self.encoder is None:
            raise InvalidInput(f"article {article.id!r} is not in the index yet and no encoder is loaded")
        text = self.recipe.text(article.title, article.body)
        if not text:
            raise InvalidInput("an article needs a title or a body")
        with self.encode_slots:  # EncoderBusy when every slot is taken
            vector = np.asarray(self.encoder.encode([text])[0], dtype=np.float32)
        means = self.index.centering
        if means is None:
            return vector
        language = article.language
        if language is None and detect:
            try:
                language = detect_language(article.title, article.body)
            except ConfigError:  # no detector installed: centered with the mean of every article
                language = None
        return center(vector[None, :], [language_code(language)], means)[0]

    # -- the live state -----------------------------------------------------------------------------

    def state(self, state: LiveState | None = None) -> LiveState:
        """`state`, or the current one when none is given."""
        return self.live.current() if state is None else state

    @property
    def experiment(self) -> Experiment | None:
        """The running experiment, as the current live state has it (None when none runs)."""
        return self.live.current().experiment

    def refresh(self) -> LiveState:
        """Follow what changed in the catalog since the live state was read, and prepare the articles
        it holds that the version does not, unless another thread does (library use: the service
        refreshes from its watcher and after its own writes, and prepares from its watcher)."""
        state = self.live.refresh()
        if not self.watched:
            self.prepare(state)
        return state

    def prepare(self, state: LiveState | None = None) -> int:
        """Read and embed, off the request path, the articles `state` holds that the version does
        not, so that their lists are made from memory; returns how many were prepared now. A
        catalog or encoder that refuses is logged and tried again at the next call."""
        return self.subjects.prepare(self.state(state).unindexed)

    # -- the public queries ----------------------------------------------------------------------

    def related(self, article_id: str, limit: int = 10) -> list[Recommendation]:
        if not 1 <= limit <= MAX_LIMIT:
            raise InvalidInput(f"limit must be between 1 and {MAX_LIMIT}, got {limit}")
        return self.related_list(article_id, RelatedQuery(limit=limit)).items

    def related_list(
        self, article_id: str, query: RelatedQuery, *, state: LiveState | None = None
    ) -> RankedList:
        """The related block alone, paged by `query.cursor`; ranked by the running experiment's arm
        when the query names one (bucket, assign or arm)."""
        state = self.state(state)
        if query.assigned:
            return self._related_in_experiment(article_id, query, state)
        ranked = self._ranked_related(article_id, query, state)
        return RankedList(ranked.items, ranked.collapsed, _cursor(query, ranked))

    def _ranked_related(self, article_id: str, query: RelatedQuery, state: LiveState) -> RankedList:
        ranked = None
        if self.lists is not None:
            row = self.snapshot.by_id.row(article_id)
            if row is not None:
                ranked = self._stored_related(state, row, query, self.clock().timestamp())
        if ranked is None:
            ranked = self._related(self._request(self._subject_by_id(state, article_id), query))
        return ranked

    def blocks(self, article_id: str, query: RelatedQuery, *, state: LiveState | None = None) -> Blocks:
        state = self.state(state)
        stored = self._stored_blocks(state, article_id, query)
        if stored is not None:
            return stored
        return self._page_blocks(self._subject_by_id(state, article_id), query)

    def blocks_for_url(
        self, url: str, query: RelatedQuery, *, state: LiveState | None = None
    ) -> tuple[str, Blocks]:
        """Blocks of the article at `url`; returns its id with them."""
        found = self._subject_by_url(self.state(state), url)
        return found[1].article.id, self._page_blocks(found, query)

    def blocks_for_draft(self, draft: Article, query: RelatedQuery) -> Blocks:
        """Blocks for an unsaved story: embedded now, dated now unless it says otherwise."""
        moment = draft.published_datetime() or self.clock()
        subject = Subject(vector=self.embed(draft, detect=True), article=draft, key=None, anchor=moment)
        return self._page_blocks((self.state(), subject, None), query)

    def _page_blocks(self, found: tuple[LiveState, Subject, int | None], query: RelatedQuery) -> Blocks:
        if query.assigned:
            return self._blocks_in_experiment(found, query)
        return self._blocks(self._request(found, query))

    def similar_to(
        self, vector: np.ndarray, limit: int, *, query: StoredArticle | None = None
    ) -> list[Recommendation]:
        """Plain nearest neighbours under the never-show rules only (no dedup, diversity, pins)."""
        state = self.state()
        now = self.clock().timestamp()
        keys, scores = self.index.vectors.search(vector[None, :], min(len(self.snapshot), self.search_cap))
        rows = self.snapshot.rows_of_keys(keys[0])
        chosen: list[Recommendation] = []
        for row, key, score in zip(rows.tolist(), keys[0].tolist(), scores[0].tolist(), strict=True):
            if row < 0 or not state.alive[row] or state.published[row] > now:
                continue
            if query is not None and key == query.key:
                continue
            chosen.append(Recommendation(self.live.article(state, row), float(score), "similar", key))
            if len(chosen) == limit:
                break
        return chosen

    # -- existence and time ---------------------------------------------------------------------------

    def has_article(self, article_id: str, *, state: LiveState | None = None) -> bool:
        return self._row_or_unindexed(self.state(state), article_id) is not None

    def in_memory(
        self, article_id: str | None = None, *, url: str | None = None, state: LiveState | None = None
    ) -> bool:
        """Whether the lists of this article (by id or URL) are made from memory alone: it is in the
        served version or prepared, and so are its pins (an unknown one is not found, from memory).
        Otherwise making them may read the catalog and run the encoder (an article or pin published
        since the build and not prepared)."""
        state = self.state(state)
        if url is not None:
            row = self._row_of_url(state, url)
            entry = state.unindexed.by_url(url) if row is None else None
        else:
            found = self._row_or_unindexed(state, article_id) if article_id is not None else None
            row, entry = (found, None) if isinstance(found, int) else (None, found)
        if row is not None:
            subject_id = self.snapshot.ids[row]
        elif entry is not None:
            if self.subjects.get(entry) is None:
                return False
            subject_id = entry.article.id
        else:
            return True  # not found: decided from memory
        pins = state.pins.get(subject_id, ())
        if not pins:
            return True
        rows = self.snapshot.rows_of_keys(np.array(pins, dtype=np.int64))
        return all(
            row >= 0 or (e := state.unindexed.by_key.get(key)) is None or self.subjects.get(e) is not None
            for key, row in zip(pins, rows.tolist(), strict=True)
        )

    def has_url(self, url: str, *, state: LiveState | None = None) -> bool:
        state = self.state(state)
        return self._row_of_url(state, url) is not None or state.unindexed.by_url(url) is not None

    def next_change(self, state: LiveState, now: float) -> float:
        """The first moment after `now` at which time alone changes some list under `state`: a block
        expires or a scheduled article goes live (inf when neither is ahead). Kept for the last state
        asked about: the answer found at `since` holds for every moment from `since` until it."""
        known = self._next_change
        if known is not None and known[0] is state and known[1] <= now < known[2]:
            return known[2]
        times = self.snapshot.time_sorted
        at = int(np.searchsorted(times, now, side="right"))
        scheduled = float(times[at]) if at < len(times) else math.inf
        moved = [c.published for c in state.changed.values() if c.published > now]
        found = min(scheduled, state.next_expiry(now), *moved)
        self._next_change = (state, now, found)
        return found

    # -- the subject ---------------------------------------------------------------------------------

    def _row_or_unindexed(self, state: LiveState, article_id: str) -> int | UnindexedArticle | None:
        """The article's row in the version, or its entry among the articles the version does not
        hold; None when the state knows neither: not found, decided from memory (an unknown id
        costs no catalog read)."""
        row = self.snapshot.by_id.row(article_id)
        if row is not None:
            changed = state.changed.get(row)
            if changed is None or changed.status != "deleted":
                return row
        return state.unindexed.by_id(article_id)  # imported since the build (again, if deleted)

    def _unknown(self, state: LiveState) -> LiveState | None:
        """Library use only: the state after reading what changed in the catalog, when `state` was the
        current one (an article imported since it was read is then known); None in the service,
        where the watcher follows the catalog and a request reads no catalog."""
        if self.watched or state is not self.live.current():
            return None
        try:
            return self.refresh()
        except CatalogBusy:  # the catalog cannot say: what memory holds is the answer, as in the service
            return None

    def _subject_by_id(
        self, state: LiveState, article_id: str, *, again: bool = True
    ) -> tuple[LiveState, Subject, int | None]:
        found = self._row_or_unindexed(state, article_id)
        if found is None:
            if again and (newer := self._unknown(state)) is not None:
                return self._subject_by_id(newer, article_id, again=False)
            raise ArticleNotFound(article_id)
        if isinstance(found, int):
            return self._indexed_subject(state, found)
        return state, self._unindexed_subject(found), None

    def _subject_by_url(
        self, state: LiveState, url: str, *, again: bool = True
    ) -> tuple[LiveState, Subject, int | None]:
        row = self._row_of_url(state, url)
        if row is not None:
            return self._indexed_subject(state, row)
        entry = state.unindexed.by_url(url)
        if entry is None:
            if again and (newer := self._unknown(state)) is not None:
                return self._subject_by_url(newer, url, again=False)
            raise ArticleNotFound(url)
        return state, self._unindexed_subject(entry), None

    def _row_of_url(self, state: LiveState, url: str) -> int | None:
        """The served version's row of the article at `url` under `state`; None when the version
        holds no live article there (one published since the build, deleted, or moved away)."""
        row = state.urls.get(url)
        if row is None:
            row = self.snapshot.by_url.row(url)
            changed = state.changed.get(row) if row is not None else None
            if changed is not None and changed.article.url != url:
                row = None  # the URL moved to another article since the build
        if row is not None:
            changed = state.changed.get(row)
            if changed is not None and changed.status == "deleted":
                return None
        return row

    def _indexed_subject(self, state: LiveState, row: int) -> tuple[LiveState, Subject, int | None]:
        changed = state.changed.get(row)
        if changed is not None and changed.status == "deleted":
            raise ArticleNotFound(self.snapshot.ids[row])
        key = int(self.snapshot.keys[row])
        moment = state.published[row]
        anchor = datetime.fromtimestamp(moment, UTC) if moment == moment else self.clock()
        vector = self.index.vectors.vectors_of(np.array([key]))[0]
        subject = Subject(vector=vector, article=self.live.article(state, row), key=key, anchor=anchor)
        return state, subject, row

    def _unindexed_subject(self, entry: UnindexedArticle) -> Subject:
        prepared = self.subjects.get(entry)
        if prepared is not None:
            # As the state has it, with the body read when it was prepared (same content hash).
            key, article, vector = entry.key, replace(entry.article, body=prepared.body), prepared.vector
        else:
            # Past the preparation's bound, or not prepared yet: read and embed it now, as before
            # preparation existed (this path waits on the catalog, and on the encoder's slots).
            stored = self.catalog.get(entry.article.id)
            key, article, vector = stored.key, stored.article, self.query_vector(stored)
        moment = epoch_of(article.published_at)
        anchor = datetime.fromtimestamp(moment, UTC) if moment == moment else self.clock()
        return Subject(vector=vector, article=article, key=key, anchor=anchor)

    def _request(self, found: tuple[LiveState, Subject, int | None], query: RelatedQuery) -> _Request:
        state, subject, row = found
        now = self.clock().timestamp()
        page = Page(subject, self.policy.duplicates)
        on_page = self._on_page(state, query)
        for page_row in on_page.tolist():
            key = int(self.snapshot.keys[page_row])
            vector = self.index.vectors.vectors_of(np.array([key]))[0]
            page.add(key, vector, self.live.title(state, page_row))
        # Earlier pages' items that the version does not hold (pins published since the build).
        page.keys.update(k for k in query.seen_keys() if self.snapshot.row_of_key(k) is None)
        blocked = state.blocked_keys(subject.id, now)
        rules = RowRules(self.snapshot, state, subject, query, now, [*page.keys, *blocked])
        section = state.section_code.get(subject.article.section or "", NO_CODE)
        if row is not None:
            section = int(state.sections[row])
        lexical_rows, lexical_scores = self._lexical(subject, row)
        names, named_rows = None, np.zeros(0, dtype=np.int32)
        entities = self.index.entities
        named = subject.dated and tagged(subject.article.tags)
        if self.policy.entity_weight > 0.0 and entities is not None and named:
            article = subject.article
            if row is not None:
                names = entities.of_row(row)
                listed = self.index.neighbours[row]
                named_rows = np.union1d(listed[listed >= 0], lexical_rows)
            else:
                names = entities.of_text(article.title, article.body, article.tags)
                named_rows = lexical_rows
        return _Request(
            state,
            subject,
            row,
            section,
            rules,
            page,
            query,
            _Rows(self.live, state),
            lexical_rows,
            lexical_scores,
            names,
            named_rows,
        )

    def _lexical(self, subject: Subject, row: int | None) -> tuple[np.ndarray, np.ndarray]:
        """The subject's lexical matches, rows ascending; none when fusion is off."""
        index = self.index
        if self.policy.fusion_weight == 0.0 or index.lexical_rows is None or index.lexical_scores is None:
            return np.zeros(0, dtype=np.int32), np.zeros(0, dtype=np.float32)
        if row is not None:
            rows, scores = index.lexical_rows[row], index.lexical_scores[row]
            keep = rows >= 0
            rows, scores = rows[keep], scores[keep]
        elif index.lexical is not None:
            text = self.recipe.text(subject.article.title, subject.article.body)
            rows, scores = index.lexical.matches(
                text, index.lexical_k, language=subject.article.language, max_terms=index.lexical_terms
            )
        else:
            return np.zeros(0, dtype=np.int32), np.zeros(0, dtype=np.float32)
        order = np.argsort(rows, kind="stable")
        return rows[order], scores[order]

    def _on_page(self, state: LiveState, query: RelatedQuery) -> np.ndarray:
        """Rows the page already shows: `exclude` (ids or URLs) and the cursor's earlier items.
        References to articles outside the served version are ignored: they cannot be listed."""
        rows: list[int] = []
        for ref in query.exclude:
            row = self.snapshot.by_id.row(ref)
            if row is None:
                row = state.urls.get(ref)
            if row is None:
                row = self.snapshot.by_url.row(ref)
                if row is not None and row in state.changed and state.changed[row].article.url != ref:
                    row = None
            if row is not None:
                rows.append(row)
        seen = self.snapshot.rows_of_keys(np.array(query.seen_keys(), dtype=np.int64))
        rows += seen[seen >= 0].tolist()
        found = np.unique(np.array(rows, dtype=np.int32))
        deleted = [r for r in found.tolist() if r in state.changed and state.changed[r].status == "deleted"]
        return np.setdiff1d(found, np.array(deleted, dtype=np.int32)) if deleted else found

    # -- candidates ----------------------------------------------------------------------------------

    def _candidates(
        self, request: _Request, rows: np.ndarray, want: int | None = None, *, fresh: bool = False
    ) -> list[Candidate]:
        """Candidates for rows that passed the rules, scored against the subject; with `want`, only
        the `want` best by the score the ranking will use (similarity, blended with freshness when
        `fresh`; ties by key)."""
        if len(rows) == 0:
            return []
        keys = self.snapshot.keys[rows]
        vectors = self.index.vectors.vectors_of(keys)
        sims = self.policy.relevance(
            vectors @ request.subject.vector,
            request.lexical(rows),
            request.shared_names(self.index.entities, rows),
        )
        if want is not None and len(rows) > want:
            score = sims.astype(np.float64)
            weight = self.policy.freshness_weight if fresh else 0.0
            if weight:
                half_life = request.query.half_life_days or self.policy.half_life_days
                gap = np.abs(request.state.published[rows] - request.subject.anchor_ts) / SECONDS_PER_DAY
                decay = np.nan_to_num(0.5 ** (gap / half_life), nan=0.0)
                score = (1.0 - weight) * score + weight * decay
            best = np.lexsort((keys, -score))[:want]
            rows, keys, vectors, sims = rows[best], keys[best], vectors[best], sims[best]
        published = request.state.published[rows].tolist()
        source = request.source
        return [
            Candidate(key, vectors[i], sim, published[i], row, source)
            for i, (key, row, sim) in enumerate(zip(keys.tolist(), rows.tolist(), sims.tolist(), strict=True))
        ]

    def _nearest(self, request: _Request, want: int) -> list[Candidate]:
        """Up to `want` nearest candidates that pass the rules, with bounded work."""
        rules, snapshot = request.rules, self.snapshot
        if rules.impossible:
            return []
        passing = np.zeros(0, dtype=np.int32)
        matched = (
            request.lexical_rows[rules.mask(request.lexical_rows)] if len(request.lexical_rows) else passing
        )
        if request.row is not None:
            listed = self.index.neighbours[request.row]
            pool = self._list_pool(request)
            entered = self._entered(request.state, request.row) if pool is not None else None
            if pool is None and self.index.every_neighbours is not None:
                # A request beyond the list's language starts from the list over every article.
                listed, pool = self.index.every_neighbours[request.row], len(snapshot)
                if len(request.named_rows):
                    # That list may not hold the rows whose shared names count (the subject's own
                    # list and matches), and their names can lift them above all it holds. Every
                    # other path starts from the subject's own list, which holds them.
                    named = request.named_rows[rules.mask(request.named_rows)]
                    matched = np.union1d(matched, named).astype(np.int32, copy=False)
            listed = listed[listed >= 0]
            passing = listed[rules.mask(listed)]
            # With `want` dense neighbours passing, no article outside the two lists can beat them:
            # its relevance is at most (1 - w) x a cosine below every listed one (and its shared
            # names count for nothing: `_Request.named_rows`). A list that holds every other article
            # it was chosen among is the whole answer. Both hold only where the list was chosen among
            # every article the request may list (`_list_pool`); rows edited into the list's language
            # since the build were not, and are candidates of their own.
            if pool is not None and (len(passing) >= want or len(listed) >= pool - 1):
                rows = np.union1d(passing, matched)
                if entered is not None and len(entered):
                    rows = np.union1d(rows, entered[rules.mask(entered)])
                return self._candidates(request, rows, want)
        request.wide = True
        passing = np.union1d(passing, matched)
        narrow = rules.narrow_rows(self.search_cap)
        if narrow is not None:
            more = narrow[rules.mask(narrow)]
        else:
            # One search, restricted to the sections or tags asked for when there are some: among
            # the nearest articles of any kind there may be none of a wide but distant section.
            k = min(len(snapshot), self.search_cap)
            allowed, share = self._allowed(request)
            # A filter keeping a share s of the articles searches 1/s as wide (at most MAX_BREADTH).
            breadth = min(MAX_BREADTH, 1.0 / share) if share > 0 else MAX_BREADTH
            keys, _ = self.index.vectors.search(request.subject.vector[None, :], k, allowed, breadth)
            found = snapshot.rows_of_keys(keys[0][keys[0] >= 0])
            found = found[found >= 0]
            more = found[rules.mask(found)]
        # A narrow filter's rows hold every passing precomputed neighbour and match already.
        rows = more if narrow is not None or not len(passing) else np.union1d(passing, more)
        return self._candidates(request, rows, want)

    def _list_pool(self, request: _Request) -> int | None:
        """How many articles the subject's precomputed list was chosen among, when those are every
        article of the version the request's language rule may list; None when they are not (a list
        of one language, and a request for other languages too: `cross_language`, a `language` filter
        beyond it, or the subject's language edited since the build)."""
        assert request.row is not None
        groups = self.index.neighbour_groups
        if groups is None or groups.codes[request.row] == NO_GROUP:
            return len(self.snapshot)
        rule = request.rules.language_rule
        if rule is None:
            return None
        wanted, _ = rule
        name = groups.names[int(groups.codes[request.row])]
        if any(wanted(tag) and primary(tag) != name for tag in request.state.language_code):
            return None
        return int(groups.pools[groups.codes[request.row]])

    def _language_moves(self, state: LiveState) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The rows whose language was edited since the build, with the language group each was in
        at the build and the one it is in now (recsys/version/neighbours.py `LanguageGroups`)."""
        cached = self._moved_rows
        if cached is not None and cached[0] is state:
            return cached[1], cached[2], cached[3]
        groups = self.index.neighbour_groups
        assert groups is not None
        changed = np.fromiter(state.changed, dtype=np.int64, count=len(state.changed))
        rows = changed[state.languages[changed] != self.snapshot.languages[changed]].astype(np.int32)
        names = {code: tag for tag, code in state.language_code.items()}
        now = np.array([groups.code_of(names.get(int(c))) for c in state.languages[rows]], dtype=np.int32)
        self._moved_rows = (state, rows, groups.codes[rows], now)
        return rows, groups.codes[rows], now

    def _entered(self, state: LiveState, row: int) -> np.ndarray:
        """Rows edited since the build out of a language whose articles `row`'s list was not chosen
        among: its precomputed list cannot hold them, however close they are."""
        groups = self.index.neighbour_groups
        if groups is None or not state.changed:
            return np.zeros(0, dtype=np.int32)
        code = groups.codes[row]
        moved, before, _ = self._language_moves(state)
        return moved[~groups.compatible(before, code)]

    def _allowed(self, request: _Request) -> tuple[np.ndarray | None, float]:
        """A key bitmap of the articles the section, author and tag filters include (None without
        such filters), with every article edited since the build (the rules judge those by their live
        values), and the share of the version they are. One bitmap per filter is kept per version."""
        rules = request.rules
        if not len(rules.sections) and not len(rules.tags) and not len(rules.authors):
            return None, 1.0
        cache_key = (
            tuple(rules.sections.tolist()),
            tuple(rules.tags.tolist()),
            tuple(rules.authors.tolist()),
        )
        with self._embedded_lock:
            bitmap = self._bitmaps.get(cache_key)
        if bitmap is None:
            snapshot = self.snapshot
            groups = []
            if len(rules.sections):
                groups.append(np.concatenate([snapshot.section_all(int(c)) for c in rules.sections]))
            if len(rules.tags):
                groups.append(np.concatenate([snapshot.tag_members(int(c)) for c in rules.tags]))
            if len(rules.authors):
                groups.append(np.concatenate([snapshot.author_all(int(c)) for c in rules.authors]))
            # Several filters: an article must pass each.
            members = functools.reduce(np.intersect1d, groups)
            bitmap = self.index.vectors.key_bitmap(self.snapshot.keys[members]), len(members)
            with self._embedded_lock:
                self._bitmaps[cache_key] = bitmap
                while len(self._bitmaps) > BITMAP_CACHE:
                    self._bitmaps.popitem(last=False)
        bits, count = bitmap
        if request.state.changed:
            bits = bits.copy()
            keys = self.snapshot.keys[np.fromiter(request.state.changed, dtype=np.int64)]
            np.bitwise_or.at(bits, keys >> 3, (1 << (keys & 7)).astype(np.uint8))
        return bits, count / max(1, len(self.snapshot))

    def _section_pool(self, request: _Request) -> np.ndarray:
        """Up to `section_pool` live articles of the subject's section published at or before its
        time (newest first), then as many after it (oldest first): the section's recent stories as
        seen from the article."""
        code, n = request.section, self.policy.section_pool
        if code == NO_CODE:
            return np.zeros(0, dtype=np.int32)
        state, anchor = request.state, request.subject.anchor_ts
        rows = np.zeros(0, dtype=np.int32)
        times = np.zeros(0, dtype=np.float64)
        if code < len(self.snapshot.section_names):
            rows, times = self.snapshot.section_members(code)
        # Rows whose section or time changed since the build are placed by their live values.
        if state.changed:
            moved = np.fromiter(state.changed.keys(), dtype=np.int32, count=len(state.changed))
            stay = ~np.isin(rows, moved)
            rows, times = rows[stay], times[stay]
            joins = moved[(state.sections[moved] == code) & ~np.isnan(state.published[moved])]
            if len(joins):
                rows = np.concatenate([rows, joins])
                times = np.concatenate([times, state.published[joins]])
                order = np.lexsort((self.snapshot.keys[rows], times))
                rows, times = rows[order], times[order]
        split = int(np.searchsorted(times, anchor, side="right"))
        before = _alive_run(state, rows[:split][::-1], n)
        after = _alive_run(state, rows[split:], n)
        return np.concatenate([before, after])

    def _pins(self, request: _Request) -> list[Candidate]:
        subject, state = request.subject, request.state
        if subject.id is None:
            return []
        keys = state.pins.get(subject.id, ())
        if not keys:
            return []
        rows = self.snapshot.rows_of_keys(np.array(keys, dtype=np.int64))
        allowed = request.rules.mask(np.maximum(rows, 0), pinned=True) & (rows >= 0)
        by_key = {c.key: c for c in self._candidates(request, rows[allowed])}
        outside = [int(k) for k, r in zip(keys, rows.tolist(), strict=True) if r < 0]
        if outside:
            # Pinned articles published after the build: checked one by one; their vectors prepared,
            # else (past the bound, not prepared yet) read from the catalog and embedded on the fly.
            for key, article, vector in self._outside_pins(request.state, outside):
                if key in request.page.keys or np.isin(key, request.rules.excluded):
                    continue
                if article.id in request.query.exclude or article.url in request.query.exclude:
                    continue
                if request.rules.allows(article, key, article.status or "published", pinned=True):
                    vector = vector() if callable(vector) else vector
                    source = ArticleAsSource(article)
                    when = epoch_of(article.published_at)
                    # Not in the version, so in no lexical list and sharing no counted names.
                    shared = None if request.names is None else np.float64(0.0)
                    relevance = float(
                        self.policy.relevance(np.float64(vector @ subject.vector), np.float64(0.0), shared)
                    )
                    by_key[key] = Candidate(key, vector, relevance, when, 0, source)
        return [by_key[k] for k in keys if k in by_key]

    def _outside_pins(
        self, state: LiveState, keys: list[int]
    ) -> list[tuple[int, Article, np.ndarray | Callable[[], np.ndarray]]]:
        """Pinned articles the version does not hold, with their vectors (or how to make one), as
        `state` has them; a key the state does not know is deleted."""
        found: list[tuple[int, Article, np.ndarray | Callable[[], np.ndarray]]] = []
        unprepared = []
        for key in keys:
            entry = state.unindexed.by_key.get(key)
            if entry is None:
                continue
            prepared = self.subjects.get(entry)
            if prepared is None:
                unprepared.append(key)
            else:
                found.append((key, entry.article, prepared.vector))
        if unprepared:
            for key, stored in self.catalog.by_keys(unprepared).items():
                found.append((key, stored.article, functools.partial(self.query_vector, stored)))
        return found

    # -- final lists (ranked at build time, recsys/version/lists.py) ------------------------------

    def final_lists(
        self,
        limit: int,
        reused: Callable[[int], Entry | None] | None = None,
        rows: range | None = None,
    ) -> FinalLists:
        """Every article's default list of `limit` (or those of `rows`, in order: index/build.py ranks
        a version in slices across processes and joins them with `FinalLists.joined`), ranked by the
        request path's own pipeline under the version as built (no pin, no block, nothing changed
        since). Run it with a clock past every publication time: no article is held back as
        scheduled, and a list records from when that is true (`not_before`). `reused(row)`: a list
        known already (an incremental build's, where none of its inputs changed), or None to rank it."""
        state = built_state(self.snapshot)
        query = RelatedQuery(limit=limit)

        def entry(row: int) -> Entry | None:
            known = reused(row) if reused is not None else None
            return known if known is not None else self._final_list(state, row, query)

        every = range(len(self.snapshot)) if rows is None else rows
        return FinalLists.from_lists(limit, self.settings_digest, map(entry, every))

    def _final_list(self, state: LiveState, row: int, query: RelatedQuery) -> Entry | None:
        request = self._request(self._indexed_subject(state, row), query)
        ranked = self._related(request)
        if request.wide or any(item.reason != "similar" or item.key is None for item in ranked.items):
            return None  # it read more than the subject's own lists: ranked per request
        moments = state.published[self._depends_on(row)]
        moments = moments[~np.isnan(moments)]
        not_before = float(moments.max()) if len(moments) else -math.inf
        return (
            [int(i.key) for i in ranked.items if i.key is not None],
            [i.score for i in ranked.items],
            (ranked.collapsed),
            not_before,
        )

    def _depends_on(self, row: int) -> np.ndarray:
        """The rows a stored list of `row` was ranked from: its precomputed and lexical lists."""
        listed = self.index.neighbours[row]
        rows = listed[listed >= 0]
        if self.index.lexical_rows is not None:
            lexical = self.index.lexical_rows[row]
            rows = np.concatenate([rows, lexical[lexical >= 0]])
        return rows

    def stored_list_holds(self, state: LiveState, row: int, query: RelatedQuery, now: float) -> bool:
        """Whether `row`'s stored list is its related list for `query` under `state` at `now` (see
        `_stored_related`); service/fast_lists.py asks it before answering a request itself."""
        lists = self.lists
        if lists is None or lists.rows is None or self.policy is not self._lists_policy:
            return False
        if lists.collapsed[row] < 0 or now < lists.not_before[row] or row in state.changed:
            return False
        default = self._default_queries.get(query.section_limit)
        if default is None:
            default = self._default_queries[query.section_limit] = replace(
                RelatedQuery(limit=lists.limit), section_limit=query.section_limit
            )
        if query != default:
            return False
        article_id = self.snapshot.ids[row]
        if state.pins.get(article_id):
            return False
        if state.changed and self.index.neighbour_groups is not None:
            groups = self.index.neighbour_groups
            moved, before, now_in = self._language_moves(state)
            code = groups.codes[row]
            # A row edited into the list's language from another: the list was ranked without it.
            if (~groups.compatible(before, code) & groups.compatible(now_in, code)).any():
                return False
        if state.changed or state.blocks:
            depends = self._depends_on(row)
            if state.changed and not state.changed.keys().isdisjoint(depends.tolist()):
                return False
            blocked = state.blocked_keys(article_id, now)
            if blocked and np.isin(self.snapshot.keys[depends], np.array(blocked, dtype=np.int64)).any():
                return False
        return True

    def _stored_related(
        self, state: LiveState, row: int, query: RelatedQuery, now: float
    ) -> RankedList | None:
        """The related list of `row` from the final lists, when it is exactly what ranking it now would
        give: a default query, and nothing it was ranked from changed since the build (no pin on the
        article, no edit, retraction, deletion or block of it or of any row it was ranked from, none
        of those rows still scheduled). None: rank it now."""
        lists = self.lists
        if lists is None or lists.rows is None or not self.stored_list_holds(state, row, query, now):
            return None
        return _stored_list(lists, row, "similar", _Rows(self.live, state))

    def final_sections(self, section_limit: int, rows: range | None = None) -> SectionBlocks:
        """Every article's default section block beside its stored related list (its page), ranked by
        the request path's own pipeline under the version as built, with the window it was ranked from
        (recsys/version/sections.py); or those of `rows`, in order, as `final_lists` does. Needs the
        final lists loaded, and a clock past every date."""
        lists = self.lists
        if lists is None or lists.rows is None:
            raise ValueError("section blocks are ranked beside the final lists: none are loaded")
        state = built_state(self.snapshot)
        query = replace(RelatedQuery(limit=lists.limit), section_limit=section_limit)

        def entry(row: int) -> SectionEntry | None:
            if lists.collapsed[row] < 0:
                return None
            request = self._request(self._indexed_subject(state, row), query)
            if self._stored_on_page(request) is None:
                return None
            pool = self._section_pool(request)
            dated = not math.isnan(self.snapshot.published[row])
            if not dated and len(pool):
                return None  # seen from the clock: its pool and freshness move with time
            ranked = self._in_section(request)
            window = self._section_window(request.section, request.subject.anchor_ts if dated else math.nan)
            moments = state.published[pool]
            not_before = float(moments.max()) if len(moments) else -math.inf
            keys = [int(i.key) for i in ranked.items if i.key is not None]
            return (keys, [i.score for i in ranked.items], ranked.collapsed, not_before), *window

        every = range(len(self.snapshot)) if rows is None else rows
        return SectionBlocks.from_blocks(lists.limit, section_limit, self.settings_digest, map(entry, every))

    def _section_window(self, code: int, anchor: float) -> tuple[float, float]:
        """The first and last publication time of the section pool around `anchor` under the version as
        built (every row live): -inf / inf where it reaches the section's first or last story, empty
        (inf, -inf) without a section. A row moved to a time outside it is never in the pool. An
        undated subject (`anchor` NaN) is stored only with an empty pool (a section of undated
        stories): any dated story joining its section enters it."""
        if code == NO_CODE or code >= len(self.snapshot.section_names):
            return math.inf, -math.inf
        if math.isnan(anchor):
            return -math.inf, math.inf
        _, times = self.snapshot.section_members(code)
        n = self.policy.section_pool
        split = int(np.searchsorted(times, anchor, side="right"))
        first = -math.inf if split - n <= 0 else float(times[split - n])
        last = math.inf if split + n >= len(times) else float(times[split + n - 1])
        return first, last

    def _stored_section(
        self, state: LiveState, row: int, query: RelatedQuery, now: float
    ) -> RankedList | None:
        """`row`'s section block from the stored ones, when ranking it now would give exactly it; asked
        only beside `row`'s stored related list (the same page). None: rank it now."""
        sections = self.sections
        if sections is None or query.section_limit != sections.section_limit:
            return None
        blocks = sections.blocks
        if blocks.rows is None or blocks.collapsed[row] < 0 or now < blocks.not_before[row]:
            return None
        first, last = sections.window[row].tolist()
        code = int(self.snapshot.sections[row])
        if state.changed:
            moved = self._section_moves
            if moved is None or moved[0] is not state:
                rows = np.fromiter(state.changed, dtype=np.int32, count=len(state.changed))
                codes = np.concatenate([self.snapshot.sections[rows], state.sections[rows]])
                times = np.concatenate([self.snapshot.published[rows], state.published[rows]])
                moved = self._section_moves = (state, codes, times)
            _, codes, times = moved
            if ((codes == code) & (times >= first) & (times <= last)).any():
                return None
        blocked = state.blocked_keys(self.snapshot.ids[row], now)
        if blocked:
            rows = self.snapshot.rows_of_keys(np.array(blocked, dtype=np.int64))
            rows = rows[rows >= 0]
            times = self.snapshot.published[rows]
            if ((self.snapshot.sections[rows] == code) & (times >= first) & (times <= last)).any():
                return None
        return _stored_list(blocks, row, "same_section", _Rows(self.live, state))

    def _stored_blocks(self, state: LiveState, article_id: str, query: RelatedQuery) -> Blocks | None:
        """Both blocks from the stored lists, when both are what ranking them now would give."""
        if self.sections is None:
            return None
        row = self.snapshot.by_id.row(article_id)
        if row is None:
            return None
        now = self.clock().timestamp()
        related = self._stored_related(state, row, query, now)
        if related is None:
            return None
        in_section = self._stored_section(state, row, query, now)
        return None if in_section is None else _paired(query, related, in_section)

    # -- the lists -------------------------------------------------------------------------------

    def _related(self, request: _Request) -> RankedList:
        if self.method != "system":
            return self._baseline(request)
        query = request.query
        # Room for near-duplicates to collapse and for diversity to choose among.
        want = max(4 * query.limit, 40)

        def fallback() -> list[Candidate]:
            request.wide = True
            if request.rules.impossible:
                return []
            return self._candidates(request, self._recent_rows(request)[:FALLBACK_POOL])

        return rank_list(
            request.subject,
            self._nearest(request, want),
            query=query,
            policy=self.policy,
            page=request.page,
            limit=query.limit,
            fresh=bool(query.freshness),  # off unless asked: relevance first for "related"
            reason="similar",
            pins=self._pins(request),
            fallback=fallback,
        )

    def _in_section(self, request: _Request) -> RankedList:
        query = request.query
        if query.section_limit == 0 or request.rules.impossible:
            return RankedList(items=[])
        pool = self._section_pool(request)
        pool = pool[request.rules.mask(pool)]
        fresh = query.freshness is not False  # on unless refused: this block is about recent news
        return rank_list(
            request.subject,
            self._candidates(request, pool, self._reach(query.section_limit, request), fresh=fresh),
            query=query,
            policy=self.policy,
            page=request.page,
            limit=query.section_limit,
            fresh=fresh,
            reason="same_section",
        )

    @staticmethod
    def _reach(limit: int, request: _Request) -> int:
        """How many of the best candidates the ranking can look at for a list of `limit` (its pool,
        what dedup may drop on the way, and the page), with room to spare: candidates past it are
        never made."""
        return depth(limit) + len(request.page.keys) + 16

    def _blocks(self, request: _Request) -> Blocks:
        related = self._stored_on_page(request)
        if related is None:
            return self._with_section(request, self._related(request))
        assert request.row is not None  # a stored list is an indexed article's
        in_section = self._stored_section(request.state, request.row, request.query, request.rules.now)
        if in_section is None:
            return self._with_section(request, related)
        return _paired(request.query, related, in_section)

    def _related_on_page(self, request: _Request) -> RankedList:
        """The related block, its items on the request's page."""
        related = self._stored_on_page(request)
        return self._related(request) if related is None else related

    def _stored_on_page(self, request: _Request) -> RankedList | None:
        """The stored related block, its items on the request's page; None when it is ranked now."""
        related = None
        if self.lists is not None and request.row is not None:
            related = self._stored_related(request.state, request.row, request.query, request.rules.now)
        if related is None:
            return None
        # On the page as rank_list would have put them: the section block must not repeat them.
        assert self.lists is not None and self.lists.rows is not None and request.row is not None
        at = self.lists.offsets[request.row : request.row + 2]
        rows = self.lists.rows[int(at[0]) : int(at[1])]
        keys = self.snapshot.keys[rows]
        vectors = self.index.vectors.vectors_of(keys)
        for key, row, vector in zip(keys.tolist(), rows.tolist(), vectors, strict=True):
            request.page.add(key, vector, self.live.title(request.state, row))
        return related

    def _with_section(self, request: _Request, related: RankedList) -> Blocks:
        """Both blocks, from the related one (already on the request's page)."""
        query = request.query
        # Same page: the section block never repeats (or near-duplicates) a related item.
        return _paired(query, related, self._in_section(request))

    # -- experiments (recsys/serving/experiments.py) ------------------------------------------------

    def _rankers(self, experiment: Experiment, arm: Arm) -> tuple[Recommender, Recommender]:
        """The recommenders of `arm`'s related and section blocks: this one where the arm changes
        nothing for the block, else one that shares this one's index, live view and caches and
        ranks under the arm's policy (and method). Made once per experiment."""
        known = self._arms
        if known is None or known[0] is not experiment:
            made = {}
            for each in experiment.arms:
                sibling = self if each.plain else self._arm_recommender(each)
                made[each.name] = (
                    sibling if "related" in experiment.blocks else self,
                    sibling if "section" in experiment.blocks else self,
                )
            known = self._arms = (experiment, made)
        return known[1][arm.name]

    def _arm_recommender(self, arm: Arm) -> Recommender:
        sibling = copy.copy(self)
        overrides: dict[str, Any] = dict(arm.settings)  # knobs of Policy, checked when parsed
        sibling.policy = replace(self.policy, **overrides)
        sibling.method = arm.method
        # The final lists were ranked under the build's policy and method: another ranks per request.
        sibling.lists = None
        sibling._arms = None
        return sibling

    def _assignment(self, state: LiveState, query: RelatedQuery) -> tuple[Assignment, Experiment | None]:
        chosen = assign(state.experiment, arm=query.arm, bucket=query.bucket, assign=query.assign)
        return chosen, state.experiment

    def _related_in_experiment(self, article_id: str, query: RelatedQuery, state: LiveState) -> RankedList:
        chosen, experiment = self._assignment(state, query)
        plain = query.unassigned()
        if not chosen.arms or experiment is None:
            ranked = self._ranked_related(article_id, plain, state)
        elif not chosen.interleaved:
            ranked = self._rankers(experiment, chosen.arms[0])[0]._ranked_related(article_id, plain, state)
        else:
            first, second = (
                self._rankers(experiment, arm)[0]._ranked_related(article_id, plain, state)
                for arm in chosen.arms
            )
            ranked = self._interleaved(article_id, first, second, chosen, plain.limit)
        return RankedList(
            ranked.items, ranked.collapsed, _cursor(plain, ranked), chosen.arm, chosen.experiment
        )

    def _blocks_in_experiment(
        self, found: tuple[LiveState, Subject, int | None], query: RelatedQuery
    ) -> Blocks:
        chosen, experiment = self._assignment(found[0], query)
        plain = query.unassigned()
        if not chosen.arms or experiment is None:
            blocks = self._blocks(self._request(found, plain))
        elif not chosen.interleaved:
            related_by, section_by = self._rankers(experiment, chosen.arms[0])
            if related_by is section_by:
                blocks = related_by._blocks(related_by._request(found, plain))
            else:
                related = related_by._related_on_page(related_by._request(found, plain))
                blocks = section_by._section_after(found, plain, related)
        else:
            first, second = (
                ranker._related_on_page(ranker._request(found, plain))
                for ranker in (self._rankers(experiment, arm)[0] for arm in chosen.arms)
            )
            merged = self._interleaved(found[1].article.id, first, second, chosen, plain.limit)
            blocks = self._section_after(found, plain, merged)
        return replace(blocks, arm=chosen.arm, experiment=chosen.experiment)

    def _interleaved(
        self, article_id: str, first: RankedList, second: RankedList, chosen: Assignment, limit: int
    ) -> RankedList:
        """The two arms' related lists merged by team draft, each item naming the arm it came from."""
        seed = interleave_seed(article_id, self.index.version, chosen.bucket)
        names = [arm.name for arm in chosen.arms]
        merged = team_draft(first.items, second.items, limit, seed, key=_identity)
        for item, team in merged:
            item.arm = names[team]
        return RankedList([item for item, _ in merged], max(first.collapsed, second.collapsed))

    def _section_after(
        self, found: tuple[LiveState, Subject, int | None], query: RelatedQuery, related: RankedList
    ) -> Blocks:
        """Both blocks, the related one ranked elsewhere (another arm, or two interleaved): the
        section block, ranked here, repeats none of its items nor their near-duplicates."""
        request = self._request(found, query)
        keys = _keys(related)
        rows = self.snapshot.rows_of_keys(np.array(keys, dtype=np.int64)).tolist() if keys else []
        for key, row in zip(keys, rows, strict=True):
            if row >= 0:
                vector = self.index.vectors.vectors_of(np.array([key]))[0]
                request.page.add(key, vector, self.live.title(request.state, row))
            else:  # a pin published since the build: no vector here, never listed twice all the same
                request.page.keys.add(key)
        return self._with_section(request, related)

    def _baseline(self, request: _Request) -> RankedList:
        """The related block of a baseline arm, in the order of `bm25` (the subject's lexical
        matches, best first), `recent` (its section's stories, newest first) or `random` (a draw fixed
        per article and version), under the live rules every list keeps: pins first; nothing
        retracted, scheduled, blocked, excluded, filtered out or on the page; no near-duplicate. A
        short list is completed from the section's recent stories, as the related block is."""
        query, rules = request.query, request.rules
        reach = self._reach(query.limit, request)
        if rules.impossible:
            rows = np.zeros(0, dtype=np.int32)
        elif self.method == "bm25":
            rows = self._bm25_rows(request)
        elif self.method == "recent":
            rows = self._recent_rows(request)
        else:
            rows = self._random_rows(request, reach)

        def fallback() -> list[Candidate]:
            if rules.impossible:
                return []
            return self._candidates(request, self._recent_rows(request)[:FALLBACK_POOL])

        return list_in_order(
            self._candidates(request, rows[:reach]),
            query=query,
            page=request.page,
            limit=query.limit,
            reason="same_section" if self.method == "recent" else "similar",
            pins=self._pins(request),
            fallback=fallback,
        )

    def _recent_rows(self, request: _Request) -> np.ndarray:
        """The section's stories around the subject that pass the rules, newest first."""
        pool = self._section_pool(request)
        pool = pool[request.rules.mask(pool)]
        if len(pool) == 0:
            return pool
        order = np.lexsort((-self.snapshot.keys[pool], -request.state.published[pool]))
        return pool[order]

    def _bm25_rows(self, request: _Request) -> np.ndarray:
        """The subject's lexical matches that pass the rules, best first (ties by key): the version's
        stored list for an article it holds, scored now for others; none without lexical lists."""
        index = self.index
        if request.row is not None and index.lexical_rows is not None and index.lexical_scores is not None:
            rows, scores = index.lexical_rows[request.row], index.lexical_scores[request.row]
            keep = rows >= 0
            rows, scores = rows[keep], scores[keep]
        elif request.row is None and index.lexical is not None and index.lexical_k > 0:
            article = request.subject.article
            text = self.recipe.text(article.title, article.body)
            rows, scores = index.lexical.matches(
                text, index.lexical_k, language=article.language, max_terms=index.lexical_terms
            )
        else:
            return np.zeros(0, dtype=np.int32)
        rows = rows[np.lexsort((self.snapshot.keys[rows], -scores))]
        return rows[request.rules.mask(rows)]

    def _random_rows(self, request: _Request, want: int) -> np.ndarray:
        """Rows drawn at random among those a filter can match (every row without one), fixed by the
        article and the version, that pass the rules: about `want` before the rules."""
        population = request.rules.narrow_rows(self.search_cap)
        size = len(self.snapshot) if population is None else len(population)
        if size == 0:
            return np.zeros(0, dtype=np.int32)
        text = f"{request.subject.article.id}\x1f{self.index.version}"
        seed = int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "big")
        drawn = np.random.default_rng(seed).choice(size, size=min(size, 2 * want), replace=False)
        rows = drawn.astype(np.int32) if population is None else population[drawn]
        return rows[request.rules.mask(rows)]


class _Rows:
    """Headlines and articles of the served version's rows, as one request's live state has them."""

    __slots__ = ("live", "state")

    def __init__(self, live: LiveView, state: LiveState) -> None:
        self.live = live
        self.state = state

    def title(self, row: int) -> str | None:
        return self.live.title(self.state, row)

    def article(self, row: int) -> Article:
        return self.live.article(self.state, row)

    def fields(self, row: int) -> ListedFields:
        return self.live.fields(self.state, row)


def _alive_run(state: LiveState, rows: np.ndarray, n: int) -> np.ndarray:
    """The first `n` of `rows` that are live, looking at no more rows than it must."""
    taken: list[np.ndarray] = []
    count, start, step = 0, 0, max(2 * n, 16)
    while count < n and start < len(rows):
        chunk = rows[start : start + step]
        chunk = chunk[state.alive[chunk]]
        taken.append(chunk[: n - count])
        count += len(taken[-1])
        start += step
    return np.concatenate(taken) if taken else np.zeros(0, dtype=np.int32)


def _stored_list(lists: FinalLists, row: int, reason: str, source: _Rows) -> RankedList:
    """Article `row`'s stored list (one it has) as served: its items read from `source`."""
    assert lists.rows is not None  # filled when a version is loaded
    start, end = int(lists.offsets[row]), int(lists.offsets[row + 1])
    items = [
        Recommendation(None, score, reason, key, source=source, row=at)
        for key, score, at in zip(
            lists.keys[start:end].tolist(),
            lists.scores[start:end].tolist(),
            lists.rows[start:end].tolist(),
            strict=True,
        )
    ]
    return RankedList(items, int(lists.collapsed[row]))


def _paired(query: RelatedQuery, related: RankedList, in_section: RankedList) -> Blocks:
    """Both blocks, with the next page's cursor when either is full."""
    full = len(related.items) == query.limit or (
        query.section_limit > 0 and len(in_section.items) == query.section_limit
    )
    cursor = encode_cursor([*query.seen_keys(), *_keys(related), *_keys(in_section)]) if full else None
    return Blocks(related=related, more_in_section=in_section, next_cursor=cursor)


def _keys(ranked: RankedList) -> list[int]:
    return [item.key for item in ranked.items if item.key is not None]


def _cursor(query: RelatedQuery, ranked: RankedList) -> str | None:
    """The next page's cursor of a full related list; None when there is no next page."""
    full = len(ranked.items) == query.limit
    return encode_cursor([*query.seen_keys(), *_keys(ranked)]) if full else None


def _identity(item: Recommendation) -> object:
    """What makes two listed items the same story, for interleaving."""
    return item.key if item.key is not None else item.fields()[0]
