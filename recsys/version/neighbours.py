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
"""

from __future__ import annotations

import numpy as np
from tqdm import tqdm

from recsys.version.snapshot import KeyRows
from recsys.version.vectors import VectorIndex

NEIGHBOURS_FILE = "neighbours.npy"
SCORES_FILE = "neighbour_scores.npy"
BATCH = 4096


def compute(
    index: VectorIndex,
    vectors: np.ndarray,
    own_keys: np.ndarray,
    k: int,
    *,
    progress: bool = False,
) -> tuple[np.ndarray, np.ndarray]:
    """The k nearest neighbours (keys, scores) of each vector, its own key left out."""
    n = len(vectors)
    keys_out = np.full((n, k), -1, dtype=np.int32)
    scores_out = np.full((n, k), -np.inf, dtype=np.float32)
    if n == 0 or k == 0:
        return keys_out, scores_out
    with tqdm(total=n, desc="neighbours", unit=" art", disable=not progress) as bar:
        for start in range(0, n, BATCH):
            stop = min(n, start + BATCH)
            found, scores = index.search(vectors[start:stop], k + 1)
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
    return keys_out, scores_out


def carry_over(
    previous_keys: np.ndarray,
    previous_neighbours: np.ndarray,
    previous_scores: np.ndarray,
    keys: np.ndarray,
    reuse: np.ndarray,
    k: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Lists of the new version's rows taken from the previous version where `reuse` (unchanged
    vector, and a list of the same length). Returns (keys, scores, todo): `todo` marks the rows whose
    list must be computed: new, changed, or having lost more than half of its members."""
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
    alive = KeyRows(keys).rows(out_keys[rows]) >= 0
    expected = np.minimum(k, n - 1)
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
