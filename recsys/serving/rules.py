"""Stage 1 of recsys/serving/ranking.py on arrays: which candidate rows may be listed at all.

`RowRules` answers for many rows at once, from the snapshot and the live state: never the article
itself, nothing retracted, deleted, scheduled, blocked or already on the page; then the request's
section, author, tag, language and date filters. `allows` asks the same of one article the version has no row
for (a pin published since the build). It also knows, before any search, when the filters can match
nothing (an unknown section or tag, an empty date window), and which rows a narrow filter can match
at all, so that a short list is completed from those rows exactly instead of by widening a search.

Languages: an explicit `language` filter keeps the items whose tag it matches (RFC 4647 basic
filtering: `pt` matches `pt` and `pt-BR`). Without one, a list for an article with a language keeps
the items of the same primary language (`en-GB` with `en` and `en-US`) and the items with none, unless
`cross_language`, or an editor pinned it (a pin is an explicit link, such as an edition in another
language); an article with no language lists every language. A catalog without languages is ranked
exactly as before they existed.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable

import numpy as np

from recsys.articles import Article
from recsys.language import primary
from recsys.serving.live import LiveState
from recsys.serving.query import RelatedQuery
from recsys.serving.types import Subject
from recsys.version.snapshot import NO_CODE, Snapshot, epoch_of


def _member(values: np.ndarray, small: np.ndarray) -> np.ndarray:
    """np.isin for a short second array: one comparison per pair beats isin's sort (a few dozen
    microseconds) for the handful of codes or keys a request names."""
    if len(small) == 1:
        return values == small[0]
    if len(small) <= 32:
        return (values[:, None] == small[None, :]).any(axis=1)
    return np.isin(values, small)


def _codes(names: Iterable[str], table: dict[str, int]) -> np.ndarray:
    return np.array(sorted({table[n] for n in names if n in table}), dtype=np.int32)


def _in_range(tag: str, ranges: Iterable[str]) -> bool:
    """RFC 4647 basic filtering: a range matches a tag equal to it or starting with it and a hyphen."""
    lowered = tag.lower()
    return any(lowered == r.lower() or lowered.startswith(r.lower() + "-") for r in ranges)


def language_rule(query: RelatedQuery, subject: Subject) -> tuple[Callable[[str], bool], bool] | None:
    """Which languages a list may hold, and whether items with none pass; None: every language."""
    if query.languages:
        return (lambda tag: _in_range(tag, query.languages)), False
    own = subject.article.language
    if own is None or query.cross_language:
        return None
    return (lambda tag: primary(tag) == primary(own)), True


class RowRules:
    def __init__(
        self,
        snapshot: Snapshot,
        state: LiveState,
        subject: Subject,
        query: RelatedQuery,
        now: float,
        excluded_keys: Iterable[int],
    ) -> None:
        self.snapshot = snapshot
        self.state = state
        self.subject = subject
        self.query = query
        self.now = now
        self.excluded = np.array(sorted(set(excluded_keys)), dtype=np.int64)
        self.sections = _codes(query.sections, state.section_code)
        self.exclude_sections = _codes(query.exclude_sections, state.section_code)
        self.tags = _codes(query.tags, state.tag_code)
        self.exclude_tags = _codes(query.exclude_tags, state.tag_code)
        self.authors = _codes(query.authors, state.author_code)
        self.exclude_authors = _codes(query.exclude_authors, state.author_code)
        self.language_rule = language_rule(query, subject)
        self.default_language = not query.languages  # the subject's own: pins are exempt
        self.languages = np.zeros(0, dtype=np.int32)
        if self.language_rule is not None:
            wanted, unknown = self.language_rule
            codes = {code for tag, code in state.language_code.items() if wanted(tag)}
            self.languages = np.array(sorted(codes | ({NO_CODE} if unknown else set())), dtype=np.int32)
        self.dated = query.background or any(
            value is not None for value in (query.since, query.until, query.max_age_days)
        )
        low, high = -math.inf, now  # never a scheduled article
        if query.since is not None:
            low = max(low, query.since.timestamp())
        if query.until is not None:
            high = min(high, query.until.timestamp())
        if query.max_age_days is not None:
            low = max(low, subject.anchor_ts - query.max_age_days * 86_400.0)
        self.before = subject.anchor_ts if query.background else math.inf  # strictly before
        self.low, self.high = low, high
        self.impossible = (
            (bool(query.sections) and len(self.sections) == 0)
            or (bool(query.tags) and len(self.tags) == 0)
            or (bool(query.authors) and len(self.authors) == 0)
            or (bool(query.languages) and len(self.languages) == 0)
            or (self.dated and (low > high or low >= self.before))
        )

    def mask(self, rows: np.ndarray, *, pinned: bool = False) -> np.ndarray:
        """Which of `rows` pass every rule (`pinned`: the editor's pins, which the default language
        rule lets through)."""
        state = self.state
        ok = state.alive[rows].copy()
        moment = state.published[rows]
        ok &= ~(moment > self.now)  # NaN (undated) compares False: allowed unless a date rule applies
        if len(self.excluded):
            ok &= ~_member(self.snapshot.keys[rows], self.excluded)
        if len(self.query.sections):
            ok &= _member(state.sections[rows], self.sections)
        if len(self.exclude_sections):
            ok &= ~_member(state.sections[rows], self.exclude_sections)
        if len(self.query.authors):
            ok &= _member(state.authors[rows], self.authors)
        if len(self.exclude_authors):
            ok &= ~_member(state.authors[rows], self.exclude_authors)
        if self.language_rule is not None and not (pinned and self.default_language):
            ok &= _member(state.languages[rows], self.languages) if len(self.languages) else False
        if len(self.query.tags):
            ok &= self._has_tag(rows, self.tags)
        if len(self.exclude_tags):
            ok &= ~self._has_tag(rows, self.exclude_tags)
        if self.dated:
            with np.errstate(invalid="ignore"):
                ok &= (moment >= self.low) & (moment <= self.high) & (moment < self.before)
        return ok

    def allows(self, article: Article, key: int | None, status: str, *, pinned: bool = False) -> bool:
        """The rules of `mask` for one article that has no row in the version. Its section, author and
        tags are compared by name: a name first seen since the build has no code. The caller checks
        the page and the excluded keys."""
        subject, query = self.subject, self.query
        if key == subject.key or (subject.id is not None and article.id == subject.id):
            return False
        if status != "published":
            return False
        moment = epoch_of(article.published_at)
        if moment > self.now:  # NaN (undated) compares False, as in `mask`
            return False
        if query.sections and article.section not in query.sections:
            return False
        if query.exclude_sections and article.section in query.exclude_sections:
            return False
        if query.authors and article.author not in query.authors:
            return False
        if query.exclude_authors and article.author in query.exclude_authors:
            return False
        if self.language_rule is not None and not (pinned and self.default_language):
            wanted, unknown = self.language_rule
            if not (wanted(article.language) if article.language is not None else unknown):
                return False
        if query.tags and not set(article.tags) & set(query.tags):
            return False
        if query.exclude_tags and set(article.tags) & set(query.exclude_tags):
            return False
        if self.dated:
            return self.low <= moment <= self.high and moment < self.before  # False for NaN
        return True

    def _has_tag(self, rows: np.ndarray, codes: np.ndarray) -> np.ndarray:
        snapshot = self.snapshot
        starts = snapshot.tag_ptr[rows]
        counts = snapshot.tag_ptr[np.asarray(rows) + 1] - starts
        owner = np.repeat(np.arange(len(rows)), counts)
        offsets = np.repeat(starts - (np.cumsum(counts) - counts), counts)
        positions = np.arange(int(counts.sum())) + offsets
        hit = _member(snapshot.tag_codes[positions], codes)
        found = np.bincount(owner[hit], minlength=len(rows)) > 0
        if self.state.changed:
            wanted = set(codes.tolist())
            for i, row in enumerate(np.asarray(rows).tolist()):
                changed = self.state.changed.get(row)
                if changed is not None:
                    found[i] = bool(wanted.intersection(changed.tags))
        return found

    def narrow_rows(self, cap: int) -> np.ndarray | None:
        """Every row the section, author, tag or date filters can match, when some filter narrows it
        to at most `cap` rows (before the other rules); None when no filter is that narrow."""
        snapshot = self.snapshot
        # (rows, whether they can hold a row twice): a row has one section, but may have two tags.
        options: list[tuple[np.ndarray, bool]] = []
        if len(self.sections):
            options.append((np.concatenate([snapshot.section_all(int(c)) for c in self.sections]), False))
        if len(self.authors):
            options.append((np.concatenate([snapshot.author_all(int(c)) for c in self.authors]), False))
        if len(self.tags):
            options.append(
                (np.concatenate([snapshot.tag_members(int(c)) for c in self.tags]), len(self.tags) > 1)
            )
        if self.dated:
            high = min(self.high, np.nextafter(self.before, -math.inf))
            lo = int(np.searchsorted(snapshot.time_sorted, self.low, side="left"))
            hi = int(np.searchsorted(snapshot.time_sorted, high, side="right"))
            options.append((snapshot.time_order[lo : max(lo, hi)], False))
        fitting = [option for option in options if len(option[0]) <= cap]
        if not fitting:
            return None
        best, repeats = min(fitting, key=lambda option: len(option[0]))
        if not self.state.changed and not repeats:
            return best
        # Rows edited since the build may match now although their snapshot values did not (names
        # first seen since the build have no snapshot rows at all: only these).
        extra = np.fromiter(self.state.changed.keys(), dtype=np.int32, count=len(self.state.changed))
        return np.unique(np.concatenate([best.astype(np.int32), extra]))
