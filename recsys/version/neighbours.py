"""Precomputed candidates: for every article of an index version, its K nearest neighbours.

Computed at build time by batched FAISS search (FAISS spreads a batch over every core), stored with
the version as `neighbours.npy` (keys, int32, -1 padded) and `neighbour_scores.npy` (cosine, float32),
sorted best first, never the article itself. A request then starts from a list that is already there
instead of searching; the service recomputes the scores from the vectors, so the order is always the
current one even where a list was carried over from an older version.

An incremental build recomputes the lists of new and changed articles only, and inserts each of them
into the lists of the older articles it is close to (cosine is symmetric: if y is among x's nearest, x
enters y's list when it beats y's current last). Articles that left the catalog stay in older lists
until those are recomputed; the query side drops them (they have no row in the new version). A list
that lost more than half its members is recomputed.

Languages: where a version's articles are in more than one language, each article's list is computed
among the articles its default related list may hold (recsys/serving/rules.py): those of its own
primary language and those with none; an article with no language lists every article. A default
(same-language) request then finds enough candidates in the list instead of searching, and its final
list can be stored (recsys/version/lists.py). The groups are symmetric (y may be in x's list exactly
when x may be in y's), so an incremental build inserts new articles into older lists as before. Such
a version also keeps every article's list over all articles (`neighbours_every.npy`), for requests
that may list other languages (`cross_language`, a `language` filter). The manifest's `neighbours`
entry says `by_language`; a catalog in one language (or none) is built exactly as before languages.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from tqdm import tqdm

from recsys.language import primary
from recsys.version.snapshot import KeyRows
from recsys.version.vectors import VectorIndex

NEIGHBOURS_FILE = "neighbours.npy"
SCORES_FILE = "neighbour_scores.npy"
# Beside lists per language, lists over every article: what requests for other languages start from.
EVERY_FILE = "neighbours_every.npy"
EVERY_SCORES_FILE = "neighbour_scores_every.npy"
BATCH = 4096
NO_GROUP = -1  # an article with no language: its list is over every article
# A search among one language's articles widens the structure's search (IVF lists probed, HNSW ef) by
# the inverse of their share, at most this much, as a filtered request does (recsys/serving/recommend.py).
MAX_BREADTH = 16.0


@dataclass(frozen=True)
class LanguageGroups:
    """Which articles each list was computed among: per row, the code of its primary language
    (`names`), NO_GROUP for none; `pools[code]` counts the rows of that language plus those with none."""

    codes: np.ndarray
    names: list[str]
    pools: np.ndarray

    @classmethod
    def of(cls, tags: Sequence[str | None]) -> LanguageGroups | None:
        """The groups of articles tagged `tags` (in row order); None when they have fewer than two
        languages: then every list is over every article, as before languages. The primary subtag is
        taken as the request's language rule takes it (`primary`), so the groups are its groups."""
        names: dict[str, int] = {}
        codes = np.array([names.setdefault(tag, len(names)) if tag else -1 for tag in tags], dtype=np.int32)
        return cls.of_codes(codes, list(names))

    @classmethod
    def of_codes(cls, codes: np.ndarray, names: Sequence[str]) -> LanguageGroups | None:
        """`of` for tags given as codes into `names` (a negative code: no language), as a version's
        snapshot holds them."""
        group: dict[str, int] = {}
        lookup = np.array([group.setdefault(primary(name), len(group)) for name in names] + [NO_GROUP])
        if len(group) < 2:
            return None
        grouped = lookup[np.where(codes >= 0, codes, len(names))].astype(np.int32)
        counts = np.bincount(grouped[grouped >= 0], minlength=len(group))
        return cls(grouped, list(group), counts + int((grouped == NO_GROUP).sum()))

    def code_of(self, tag: str | None) -> int:
        """The group of an article tagged `tag`: NO_GROUP for none, -2 for a language no row had."""
        if not tag:
            return NO_GROUP
        try:
            return self.names.index(primary(tag))
        except ValueError:
            return -2

    def pool(self, rows: np.ndarray) -> np.ndarray:
        """How many articles the lists of `rows` were chosen among (each row itself included)."""
        codes = self.codes[rows]
        return np.where(codes == NO_GROUP, len(self.codes), self.pools[np.maximum(codes, 0)])

    def compatible(self, a: np.ndarray, b: np.ndarray | int) -> np.ndarray:
        """Whether articles of groups `a` may be in the lists of articles of groups `b` (symmetric)."""
        return (a == b) | (a == NO_GROUP) | (b == NO_GROUP)


def compute(
    index: VectorIndex,
    vectors: np.ndarray,
    own_keys: np.ndarray,
    k: int,
    *,
    groups: LanguageGroups | None = None,
    keys: np.ndarray | None = None,
    own_rows: np.ndarray | None = None,
    progress: bool = False,
) -> tuple[np.ndarray, np.ndarray]:
    """The k nearest neighbours (keys, scores) of each vector, its own key left out. With `groups`
    (over the version's rows, whose keys are `keys`; the vectors are those of rows `own_rows`), each
    among the articles of its own language and those of none."""
    n = len(vectors)
    keys_out = np.full((n, k), -1, dtype=np.int32)
    scores_out = np.full((n, k), -np.inf, dtype=np.float32)
    if n == 0 or k == 0:
        return keys_out, scores_out
    with tqdm(total=n, desc="neighbours", unit=" art", disable=not progress) as bar:
        if groups is None:
            _search(index, vectors, own_keys, k, None, 1.0, keys_out, scores_out, bar)
            return keys_out, scores_out
        assert keys is not None and own_rows is not None  # given with groups
        own_groups = groups.codes[own_rows]
        for code in np.unique(own_groups).tolist():
            at = np.flatnonzero(own_groups == code)
            allowed, breadth = None, 1.0
            if code != NO_GROUP:
                members = groups.compatible(groups.codes, code)
                allowed = index.key_bitmap(keys[members])
                breadth = min(MAX_BREADTH, len(keys) / max(1, int(members.sum())))
            found_keys, found_scores = (
                np.full((len(at), k), -1, dtype=np.int32),
                np.full((len(at), k), -np.inf, dtype=np.float32),
            )
            _search(index, vectors[at], own_keys[at], k, allowed, breadth, found_keys, found_scores, bar)
            keys_out[at], scores_out[at] = found_keys, found_scores
    return keys_out, scores_out


def _search(
    index: VectorIndex,
    vectors: np.ndarray,
    own_keys: np.ndarray,
    k: int,
    allowed: np.ndarray | None,
    breadth: float,
    keys_out: np.ndarray,
    scores_out: np.ndarray,
    bar: tqdm,  # type: ignore[type-arg]
) -> None:
    n = len(vectors)
    for start in range(0, n, BATCH):
        stop = min(n, start + BATCH)
        found, scores = index.search(vectors[start:stop], k + 1, allowed, breadth)
        mine = own_keys[start:stop, None]
        # Drop the article itself wherever it is in its list (ANN search may not return it first,
        # or at all: then the extra k+1-th result is dropped instead).
        keep = found != mine
        slot = np.cumsum(keep, axis=1) - 1
        keep &= slot < k
        r, c = np.nonzero(keep)
        keys_out[start + r, slot[r, c]] = found[r, c]
        scores_out[start + r, slot[r, c]] = np.where(found[r, c] >= 0, scores[r, c], -np.inf)
        bar.update(stop - start)


def carry_over(
    previous_keys: np.ndarray,
    previous_neighbours: np.ndarray,
    previous_scores: np.ndarray,
    keys: np.ndarray,
    reuse: np.ndarray,
    k: int,
    groups: LanguageGroups | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Lists of the new version's rows taken from the previous version where `reuse` (unchanged
    vector and language, and a list of the same length). Returns (keys, scores, todo): `todo` marks
    the rows whose list must be computed: new, changed, or having lost more than half of its members
    (with `groups`, a member whose language left the row's group counts as lost)."""
    n = len(keys)
    out_keys = np.full((n, k), -1, dtype=np.int32)
    out_scores = np.full((n, k), -np.inf, dtype=np.float32)
    at = KeyRows(previous_keys).rows(keys)
    present = reuse & (at >= 0)
    if previous_neighbours.shape[1] != k:
        present[:] = False
    rows = np.flatnonzero(present)
    out_keys[rows] = previous_neighbours[at[rows]]
    out_scores[rows] = previous_scores[at[rows]]
    # Members that left the version no longer count.
    members = KeyRows(keys).rows(out_keys[rows])
    alive = members >= 0
    if groups is not None:
        # A member whose language changed out of the row's group leaves the list (the rest move up).
        gone = alive & ~groups.compatible(groups.codes[np.maximum(members, 0)], groups.codes[rows][:, None])
        if gone.any():
            kept_keys, kept_scores = out_keys[rows], out_scores[rows]
            kept_keys[gone], kept_scores[gone] = -1, -np.inf
            order = np.argsort(gone, axis=1, kind="stable")
            out_keys[rows] = np.take_along_axis(kept_keys, order, axis=1)
            out_scores[rows] = np.take_along_axis(kept_scores, order, axis=1)
            alive &= ~gone
    expected = np.minimum(k, (groups.pool(rows) if groups is not None else n) - 1)
    todo = ~present
    todo[rows[alive.sum(axis=1) * 2 < expected]] = True
    return out_keys, out_scores, todo


def insert(
    keys: np.ndarray,
    neighbours: np.ndarray,
    scores: np.ndarray,
    fresh_rows: np.ndarray,
) -> None:
    """Put each freshly computed article into the lists of the articles in its own list (in place),
    where it beats their last member; an article already in a list is replaced, not repeated."""
    k = neighbours.shape[1]
    if len(fresh_rows) == 0 or k == 0:
        return
    fresh = np.zeros(len(keys), dtype=bool)
    fresh[fresh_rows] = True
    src_key = np.repeat(keys[fresh_rows].astype(np.int32), k)
    dst_key = neighbours[fresh_rows].ravel()
    score = scores[fresh_rows].ravel()
    dst = KeyRows(keys).rows(dst_key)
    ok = dst >= 0
    ok &= ~fresh[dst]  # fresh lists are exact already
    src_key, dst, score = src_key[ok], dst[ok], score[ok]
    if len(dst) == 0:
        return
    affected = np.unique(dst)
    entry_dst = np.concatenate([np.repeat(affected, k), dst])
    entry_key = np.concatenate([neighbours[affected].ravel(), src_key])
    entry_score = np.concatenate([scores[affected].ravel(), score])
    entry_new = np.concatenate([np.zeros(len(affected) * k, dtype=bool), np.ones(len(dst), dtype=bool)])
    live = entry_key >= 0
    entry_dst, entry_key, entry_score, entry_new = (
        entry_dst[live],
        entry_key[live],
        entry_score[live],
        entry_new[live],
    )
    # One entry per (list, member): the fresh score wins over a stale one.
    order = np.lexsort((~entry_new, entry_key, entry_dst))
    first = np.ones(len(order), dtype=bool)
    first[1:] = (entry_dst[order][1:] != entry_dst[order][:-1]) | (
        entry_key[order][1:] != entry_key[order][:-1]
    )
    keep = order[first]
    entry_dst, entry_key, entry_score = entry_dst[keep], entry_key[keep], entry_score[keep]
    order = np.lexsort((entry_key, -entry_score, entry_dst))
    entry_dst, entry_key, entry_score = entry_dst[order], entry_key[order], entry_score[order]
    starts = np.flatnonzero(np.r_[True, entry_dst[1:] != entry_dst[:-1]])
    rank = np.arange(len(entry_dst)) - np.repeat(starts, np.diff(np.r_[starts, len(entry_dst)]))
    top = rank < k
    neighbours[affected] = -1
    scores[affected] = -np.inf
    neighbours[entry_dst[top], rank[top]] = entry_key[top]
    scores[entry_dst[top], rank[top]] = entry_score[top]
