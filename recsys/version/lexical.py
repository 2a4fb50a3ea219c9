"""Lexical candidates: a BM25 index over the text the model reads, built with every index version.

Tokens are bm25s's (`bm25s.tokenize`: lower case, words of two or more characters, English stop words
out), scores are BM25 in bm25s's default Lucene variant (k1 = 1.5, b = 0.75,
idf = ln(1 + (N - df + 0.5) / (df + 0.5))), so a list here is what `bm25s.BM25().retrieve` returns
for the same texts (tests/version/test_lexical.py checks it). The index is kept as arrays: for each token, the
rows holding it and their term scores (`lex_ptr`, `lex_rows`, `lex_scores`), the vocabulary
(`lex_vocab`) and the statistics a new text's own score needs (`lex_stats`: articles, mean length).

A lexical score is normalised by the text's score against itself (how much of its own lexical weight
another article matches): 1 for a copy, near 0 for a stranger, comparable across articles and with a
cosine. Each version stores every article's `k` best such matches (`lexical.npy`, keys, -1 padded,
with `lexical_scores.npy`), like the dense neighbour lists (recsys/version/neighbours.py), so a stored
article's request runs no BM25; drafts and articles published since the build are scored at
query time (`LexicalIndex.matches`).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy import sparse

LEXICAL_FILE = "lexical.npy"
LEXICAL_SCORES_FILE = "lexical_scores.npy"
PTR_FILE = "lex_ptr.npy"
ROWS_FILE = "lex_rows.npy"
TERM_SCORES_FILE = "lex_scores.npy"
VOCAB_FILE = "lex_vocab.npy"
STATS_FILE = "lex_stats.npy"
INDEX_FILES = (PTR_FILE, ROWS_FILE, TERM_SCORES_FILE, VOCAB_FILE, STATS_FILE)

K1 = 1.5
B = 0.75
BATCH = 256
TOKENIZE_CHUNK = 4096


def tokenize(texts: Sequence[str]) -> list[list[str]]:
    import bm25s  # imported here: the tokenizer pulls in bm25s's own imports

    logging.getLogger("bm25s").setLevel(logging.WARNING)  # it logs at DEBUG
    if not texts:
        return []
    return bm25s.tokenize(list(texts), return_ids=False, show_progress=False)  # type: ignore[return-value]


@dataclass(frozen=True)
class Query:
    """A text as the index sees it: its known tokens (ids, counts) and its score against itself."""

    tokens: np.ndarray
    counts: np.ndarray
    own: float


class LexicalIndex:
    def __init__(
        self, ptr: np.ndarray, rows: np.ndarray, scores: np.ndarray, vocab: np.ndarray, stats: np.ndarray
    ) -> None:
        self.ptr = ptr
        self.rows = rows
        self.scores = scores
        self.vocab = vocab
        self.count = int(stats[0])
        self.mean_length = float(stats[1])
        self._lookup: dict[str, int] | None = None
        self._matrix: sparse.csr_matrix | None = None
        self._counts: sparse.csr_matrix | None = None  # rows x tokens term counts (a fresh build only)

    # -- building ------------------------------------------------------------------------------------

    @classmethod
    def build(cls, texts: Iterable[str]) -> LexicalIndex:
        """The index of `texts` (row i = the i-th text); consumed in chunks, so that a million texts
        are never all held as token lists at once."""
        vocab: dict[str, int] = {}
        doc_parts: list[np.ndarray] = []
        token_parts: list[np.ndarray] = []
        tf_parts: list[np.ndarray] = []
        lengths: list[int] = []
        for chunk in _chunks(texts, TOKENIZE_CHUNK):
            for words_of_text in tokenize(chunk):
                ids = np.fromiter((vocab.setdefault(t, len(vocab)) for t in words_of_text), dtype=np.int64)
                unique, tf = np.unique(ids, return_counts=True)
                doc_parts.append(np.full(len(unique), len(lengths), dtype=np.int32))
                token_parts.append(unique)
                tf_parts.append(tf.astype(np.float32))
                lengths.append(len(ids))
        n = len(lengths)
        docs = np.concatenate(doc_parts) if doc_parts else np.zeros(0, np.int32)
        tokens = np.concatenate(token_parts) if token_parts else np.zeros(0, np.int64)
        tf = np.concatenate(tf_parts) if tf_parts else np.zeros(0, np.float32)
        length = np.array(lengths, dtype=np.float32)
        mean_length = float(length.mean()) if n and length.sum() else 1.0
        order = np.lexsort((docs, tokens))
        docs, tokens, tf = docs[order], tokens[order], tf[order]
        ptr = np.zeros(len(vocab) + 1, dtype=np.int64)
        np.cumsum(np.bincount(tokens, minlength=len(vocab)), out=ptr[1:])
        idf = _idf(np.diff(ptr), n)
        norm = K1 * (1 - B + B * length[docs] / mean_length)
        term_scores = (idf[tokens] * tf / (tf + norm)).astype(np.float32)
        words = np.empty(len(vocab), dtype=object)
        for word, i in vocab.items():
            words[i] = word
        vocab_array = words.astype(np.str_) if len(words) else np.zeros(0, dtype="U1")
        built = cls(ptr, docs, term_scores, vocab_array, np.array([n, mean_length], dtype=np.float64))
        built._counts = sparse.csr_matrix((tf, (docs, tokens)), shape=(n, len(vocab)))
        return built

    def arrays(self) -> dict[str, np.ndarray]:
        return {
            PTR_FILE: self.ptr,
            ROWS_FILE: self.rows,
            TERM_SCORES_FILE: self.scores,
            VOCAB_FILE: self.vocab,
            STATS_FILE: np.array([self.count, self.mean_length], dtype=np.float64),
        }

    @classmethod
    def load(cls, directory: Path) -> LexicalIndex:
        """The index of a version folder. The postings are memory-mapped: only drafts and articles
        published since the build read them, so the pages they never touch stay on disk."""
        ptr, rows, scores = (
            np.load(directory / name, allow_pickle=False, mmap_mode="r") for name in INDEX_FILES[:3]
        )
        vocab, stats = (np.load(directory / name, allow_pickle=False) for name in INDEX_FILES[3:])
        return cls(ptr, rows, scores, vocab, stats)

    @property
    def nbytes(self) -> int:
        return sum(int(a.nbytes) for a in self.arrays().values())

    # -- scoring -------------------------------------------------------------------------------------

    @property
    def lookup(self) -> dict[str, int]:
        if self._lookup is None:
            self._lookup = {str(w): i for i, w in enumerate(self.vocab.tolist())}
        return self._lookup

    def query(self, text: str, max_terms: int = 0) -> Query:
        """`text` as a query: its tokens the index knows (the `max_terms` weightiest, tf x idf, when
        not 0), and its own score over them (as if it were indexed with the version's statistics)."""
        tokens = tokenize([text])[0] if text else []
        lookup = self.lookup
        ids = np.array([lookup[t] for t in tokens if t in lookup], dtype=np.int64)
        unique, counts = np.unique(ids, return_counts=True)
        idf = _idf((self.ptr[unique + 1] - self.ptr[unique]).astype(np.float64), self.count)
        if max_terms and len(unique) > max_terms:
            keep = np.sort(np.lexsort((unique, -(counts * idf)))[:max_terms])
            unique, counts, idf = unique[keep], counts[keep], idf[keep]
        tf = counts.astype(np.float64)
        norm = K1 * (1 - B + B * len(tokens) / self.mean_length)
        own = float((counts * idf * tf / (tf + norm)).sum())
        return Query(unique, counts.astype(np.float32), own)

    def score_all(self, query: Query) -> np.ndarray:
        """BM25 of every row against `query` (a query token counted as often as it occurs)."""
        scores = np.zeros(self.count, dtype=np.float32)
        for token, count in zip(query.tokens.tolist(), query.counts.tolist(), strict=True):
            start, stop = int(self.ptr[token]), int(self.ptr[token + 1])
            scores[self.rows[start:stop]] += count * self.scores[start:stop]
        return scores

    def matches(
        self, text: str, k: int, *, max_terms: int = 0, skip_row: int = -1
    ) -> tuple[np.ndarray, np.ndarray]:
        """The `k` rows best matching `text` (rows, normalised scores in (0, 1]; ties by row), none
        scoring 0, `skip_row` left out."""
        query = self.query(text, max_terms)
        if query.own <= 0 or self.count == 0:
            return np.zeros(0, dtype=np.int32), np.zeros(0, dtype=np.float32)
        scores = self.score_all(query)
        if 0 <= skip_row < len(scores):
            scores[skip_row] = 0.0
        rows, values = _top(scores[None, :], k, np.array([query.own]))
        keep = rows[0] >= 0
        return rows[0][keep], values[0][keep]

    def lists(
        self, rows: np.ndarray, k: int, *, max_terms: int = 0, progress: bool = False
    ) -> tuple[np.ndarray, np.ndarray]:
        """The `k` best matches (rows, -1 padded; normalised scores, -inf padded) of the indexed rows
        `rows`, each row its own query, itself left out: one sparse product per batch. Only an index
        made by `build` in this process knows the term counts this needs."""
        from tqdm import tqdm

        if self._counts is None:
            raise ValueError("lexical lists are computed from a freshly built index")
        out_rows = np.full((len(rows), k), -1, dtype=np.int32)
        out_scores = np.full((len(rows), k), -np.inf, dtype=np.float32)
        if not len(rows) or not k:
            return out_rows, out_scores
        matrix = self.matrix
        counts = self._counts if not max_terms else _weightiest(self._counts, self.idf, max_terms)
        with tqdm(total=len(rows), desc="lexical", unit=" art", disable=not progress) as bar:
            for start in range(0, len(rows), BATCH):
                batch = rows[start : start + BATCH]
                scores = (counts[batch] @ matrix).toarray().astype(np.float32)
                at = np.arange(len(batch))
                # Its own score over the same terms (the article is indexed with all of its terms).
                own = scores[at, batch].astype(np.float64)
                scores[at, batch] = 0.0
                found, values = _top(scores, k, own)
                out_rows[start : start + len(batch), : found.shape[1]] = found
                out_scores[start : start + len(batch), : values.shape[1]] = values
                bar.update(len(batch))
        return out_rows, out_scores

    @property
    def idf(self) -> np.ndarray:
        return _idf(np.diff(self.ptr), self.count)

    @property
    def matrix(self) -> sparse.csr_matrix:
        """Tokens x rows term scores."""
        if self._matrix is None:
            self._matrix = sparse.csr_matrix(
                (self.scores, self.rows, self.ptr), shape=(len(self.vocab), self.count)
            )
        return self._matrix


def _weightiest(counts: sparse.csr_matrix, idf: np.ndarray, n: int) -> sparse.csr_matrix:
    """Each row's `n` weightiest terms (tf x idf; ties by token), the rest dropped."""
    owner = np.repeat(np.arange(counts.shape[0]), np.diff(counts.indptr))
    order = np.lexsort((counts.indices, -(counts.data * idf[counts.indices]), owner))
    rank = np.arange(len(order)) - counts.indptr[owner[order]]
    keep = np.sort(order[rank < n])
    kept = sparse.csr_matrix(
        (counts.data[keep], (owner[keep], counts.indices[keep])), shape=counts.shape, dtype=np.float32
    )
    kept.sort_indices()
    return kept


def _idf(df: np.ndarray, n: int) -> np.ndarray:
    df = np.asarray(df, dtype=np.float64)
    return np.log(1.0 + (n - df + 0.5) / (df + 0.5))


def _top(scores: np.ndarray, k: int, own: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per row of `scores`: the `k` best positive columns (best first, ties by column) and their
    scores divided by `own` (clipped to 1)."""
    n = scores.shape[1]
    k = min(k, n)
    if k == 0:
        return np.zeros((len(scores), 0), np.int32), np.zeros((len(scores), 0), np.float32)
    part = (
        np.argpartition(-scores, k - 1, axis=1)[:, :k] if k < n else np.tile(np.arange(n), (len(scores), 1))
    )
    # Ties at the cut: argpartition picks any of them; take the lowest rows, as the full sort would.
    picked = np.take_along_axis(scores, part, axis=1)
    rows_out = np.full((len(scores), k), -1, dtype=np.int32)
    scores_out = np.full((len(scores), k), -np.inf, dtype=np.float32)
    for i in range(len(scores)):
        cut = picked[i].min()
        if k < n:
            above = np.flatnonzero(scores[i] > cut)
            at = np.flatnonzero(scores[i] == cut)[: k - len(above)]
            cols = np.concatenate([above, at])
        else:
            cols = part[i]
        cols = cols[scores[i, cols] > 0]
        order = np.lexsort((cols, -scores[i, cols]))
        cols = cols[order]
        rows_out[i, : len(cols)] = cols
        base = own[i] if own[i] > 0 else math.inf
        scores_out[i, : len(cols)] = np.minimum(scores[i, cols] / base, 1.0)
    return rows_out, scores_out


def _chunks(items: Iterable[str], size: int) -> Iterator[list[str]]:
    chunk: list[str] = []
    for item in items:
        chunk.append(item)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk
