"""Lexical candidates: a BM25 index over the text the model reads, built with every index version.

Tokens are bm25s's (`bm25s.tokenize`: lower case, words of two or more characters, English stop words
out) for a text of no language and for English; a text of another language is read as that language
(`tokenize`: its Snowball stemmer and bm25s's stop words where they exist, character pairs for Chinese,
Japanese and Korean). A text matches only texts of its own language (the primary subtag: `en-GB` with
`en`) and those of none: across languages a BM25 score measures shared names and numbers, not the
story. Scores are BM25 in bm25s's default Lucene variant (k1 = 1.5, b = 0.75,
idf = ln(1 + (N - df + 0.5) / (df + 0.5))), so a list here is what `bm25s.BM25().retrieve` returns
for the same texts (tests/version/test_lexical.py checks it). The index is kept as arrays: for each token, the
rows holding it and their term scores (`lex_ptr`, `lex_rows`, `lex_scores`), the vocabulary
(`lex_vocab`), the statistics a new text's own score needs (`lex_stats`: articles, mean length) and
each row's language (`lex_groups`, codes into `lex_group_names`; a version without them predates
languages, and its queries are tokenised as it was).

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
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import numpy as np
from scipy import sparse

from recsys.language import primary

LEXICAL_FILE = "lexical.npy"
LEXICAL_SCORES_FILE = "lexical_scores.npy"
PTR_FILE = "lex_ptr.npy"
ROWS_FILE = "lex_rows.npy"
TERM_SCORES_FILE = "lex_scores.npy"
VOCAB_FILE = "lex_vocab.npy"
STATS_FILE = "lex_stats.npy"
INDEX_FILES = (PTR_FILE, ROWS_FILE, TERM_SCORES_FILE, VOCAB_FILE, STATS_FILE)
# Each row's language group (int32 into the names; "" = none). Optional: a version built before them
# was tokenised without languages, and is queried so.
GROUPS_FILE = "lex_groups.npy"
GROUP_NAMES_FILE = "lex_group_names.npy"

T = TypeVar("T")

K1 = 1.5
B = 0.75
BATCH = 256
TOKENIZE_CHUNK = 4096


# Snowball stemmers (PyStemmer) by BCP 47 primary subtag. English is absent on purpose: stemming did
# not pay on the English sets (docs/ranking-candidates.md, "Languages"), so English keeps the tokens of
# articles without a language.
SNOWBALL: dict[str, str] = {
    "ar": "arabic",
    "ca": "catalan",
    "cs": "czech",
    "da": "danish",
    "de": "german",
    "el": "greek",
    "es": "spanish",
    "et": "estonian",
    "eu": "basque",
    "fa": "persian",
    "fi": "finnish",
    "fr": "french",
    "ga": "irish",
    "hi": "hindi",
    "hu": "hungarian",
    "hy": "armenian",
    "id": "indonesian",
    "it": "italian",
    "lt": "lithuanian",
    "nb": "norwegian",
    "ne": "nepali",
    "nl": "dutch",
    "nn": "norwegian",
    "no": "norwegian",
    "pl": "polish",
    "pt": "portuguese",
    "ro": "romanian",
    "ru": "russian",
    "sr": "serbian",
    "sv": "swedish",
    "ta": "tamil",
    "tr": "turkish",
    "yi": "yiddish",
}
# The stop word lists bm25s ships, by the same subtags (every other language keeps all its words).
STOPWORDS: dict[str, str] = {
    "da": "da",
    "de": "de",
    "es": "es",
    "fr": "fr",
    "it": "it",
    "nb": "no",
    "nl": "nl",
    "nn": "no",
    "no": "no",
    "pt": "pt",
    "ru": "ru",
    "sv": "sv",
    "tr": "tr",
}
# Written without spaces between words (Korean with spaces between phrases of several words): a word
# tokenizer sees whole clauses, so their text is read as overlapping character pairs.
CHARACTER_PAIRS = frozenset({"zh", "ja", "ko"})
# Han, kana and Hangul runs (the scripts read in character pairs); other words in such a text (Latin
# names, numbers) are tokenised as words.
_IDEOGRAPHIC = "\u1100-\u11ff\u3040-\u30ff\u3130-\u318f\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff"
_CJK_TOKENS = re.compile(f"[{_IDEOGRAPHIC}]+|[^\\W{_IDEOGRAPHIC}]{{2,}}")
_CJK_RUN = re.compile(f"[{_IDEOGRAPHIC}]")
# What the tokens of a version were made with (the manifest's "lexical" entry): lists made with other
# tokens are not carried over into a new version.
TOKENS = "language-1"


def language_group(tag: str | None) -> str:
    """The language a text is tokenised and matched as: a tag's primary subtag, "" for none."""
    return primary(tag).lower() if tag else ""


def tokenize(texts: Sequence[str], language: str | None = None) -> list[list[str]]:
    """`texts` as tokens of `language` (a BCP 47 tag or a group from `language_group`): bm25s's
    words with the language's stop words out and its Snowball stemmer, or character pairs for
    Chinese, Japanese and Korean. No language, English, or one with neither stemmer nor stop words:
    bm25s's default tokens (lower case, words of two or more characters, English stop words out)."""
    import bm25s  # imported here: the tokenizer pulls in bm25s's own imports

    logging.getLogger("bm25s").setLevel(logging.WARNING)  # it logs at DEBUG
    if not texts:
        return []
    group = language_group(language)
    if group in CHARACTER_PAIRS:
        return [_character_pairs(text) for text in texts]
    if group not in SNOWBALL and group not in STOPWORDS:
        return bm25s.tokenize(list(texts), return_ids=False, show_progress=False)  # type: ignore[return-value]
    return bm25s.tokenize(  # type: ignore[no-any-return]
        list(texts),
        stopwords=STOPWORDS.get(group, []),
        stemmer=_stemmer(group),
        return_ids=False,
        show_progress=False,
    )


def tokenize_each(texts: Sequence[str], languages: Sequence[str | None]) -> list[list[str]]:
    """`tokenize` of each text with its own language, in order (one bm25s call per language)."""
    groups: dict[str, list[int]] = {}
    for i, language in enumerate(languages):
        groups.setdefault(language_group(language), []).append(i)
    out: list[list[str]] = [[] for _ in texts]
    for group, at in groups.items():
        for i, tokens in zip(at, tokenize([texts[i] for i in at], group), strict=True):
            out[i] = tokens
    return out


def _stemmer(group: str) -> object | None:
    """A fresh Snowball stemmer (PyStemmer's are not safe to share between threads; one costs well
    under a microsecond), None where the language has none."""
    import Stemmer

    name = SNOWBALL.get(group)
    return Stemmer.Stemmer(name) if name is not None and name in Stemmer.algorithms() else None


def _character_pairs(text: str) -> list[str]:
    """Each run of CJK characters as its overlapping character pairs (a lone character as itself),
    other words lower-cased as bm25s would read them (English stop words kept: they are rare here)."""
    tokens: list[str] = []
    for run in _CJK_TOKENS.findall(text.lower()):
        if not _CJK_RUN.match(run) or len(run) == 1:
            tokens.append(run)
        else:
            tokens.extend(run[i : i + 2] for i in range(len(run) - 1))
    return tokens


@dataclass(frozen=True)
class Query:
    """A text as the index sees it: its known tokens (ids, counts) and its score against itself."""

    tokens: np.ndarray
    counts: np.ndarray
    own: float


class LexicalIndex:
    """`groups` (each row's language group, a code into `group_names`; None in versions built before
    languages) sets how a query is tokenised and which rows it may match: those of its own language
    and those of none; a text of no language matches every row."""

    def __init__(
        self,
        ptr: np.ndarray,
        rows: np.ndarray,
        scores: np.ndarray,
        vocab: np.ndarray,
        stats: np.ndarray,
        groups: np.ndarray | None = None,
        group_names: Sequence[str] = (),
    ) -> None:
        self.ptr = ptr
        self.rows = rows
        self.scores = scores
        self.vocab = vocab
        self.count = int(stats[0])
        self.mean_length = float(stats[1])
        self.groups = groups
        self.group_names = [str(name) for name in group_names]
        self._group_code = {name: code for code, name in enumerate(self.group_names)}
        self._lookup: dict[str, int] | None = None
        self._matrix: sparse.csr_matrix | None = None
        self._counts: sparse.csr_matrix | None = None  # rows x tokens term counts (a fresh build only)

    # -- building ------------------------------------------------------------------------------------

    @classmethod
    def build(cls, texts: Iterable[str], languages: Iterable[str | None] | None = None) -> LexicalIndex:
        """The index of `texts` (row i = the i-th text), each tokenised as its language (`languages`,
        BCP 47 tags or None, in the same order; none given: no text has one)."""
        return cls.build_tagged(
            zip(texts, languages, strict=True) if languages is not None else ((t, None) for t in texts)
        )

    @classmethod
    def build_tagged(cls, tagged: Iterable[tuple[str, str | None]]) -> LexicalIndex:
        """The index of (text, language) pairs; consumed in chunks, so that a million texts are never
        all held as token lists at once."""
        vocab: dict[str, int] = {}
        doc_parts: list[np.ndarray] = []
        token_parts: list[np.ndarray] = []
        tf_parts: list[np.ndarray] = []
        lengths: list[int] = []
        group_code: dict[str, int] = {"": 0}
        group_parts: list[np.ndarray] = []
        for chunk in _chunks(tagged, TOKENIZE_CHUNK):
            chunk_groups = [language_group(language) for _, language in chunk]
            group_parts.append(
                np.array([group_code.setdefault(g, len(group_code)) for g in chunk_groups], dtype=np.int32)
            )
            for words_of_text in tokenize_each([text for text, _ in chunk], chunk_groups):
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
        groups = np.concatenate(group_parts) if group_parts else np.zeros(0, np.int32)
        stats = np.array([n, mean_length], dtype=np.float64)
        built = cls(ptr, docs, term_scores, vocab_array, stats, groups, list(group_code))
        built._counts = sparse.csr_matrix((tf, (docs, tokens)), shape=(n, len(vocab)))
        return built

    def arrays(self) -> dict[str, np.ndarray]:
        return {
            PTR_FILE: self.ptr,
            ROWS_FILE: self.rows,
            TERM_SCORES_FILE: self.scores,
            VOCAB_FILE: self.vocab,
            STATS_FILE: np.array([self.count, self.mean_length], dtype=np.float64),
            **(
                {GROUPS_FILE: self.groups, GROUP_NAMES_FILE: np.array(self.group_names, dtype=np.str_)}
                if self.groups is not None
                else {}
            ),
        }

    @classmethod
    def load(cls, directory: Path) -> LexicalIndex:
        """The index of a version folder. The postings are memory-mapped: only drafts and articles
        published since the build read them, so the pages they never touch stay on disk."""
        ptr, rows, scores = (
            np.load(directory / name, allow_pickle=False, mmap_mode="r") for name in INDEX_FILES[:3]
        )
        vocab, stats = (np.load(directory / name, allow_pickle=False) for name in INDEX_FILES[3:])
        if not (directory / GROUPS_FILE).exists():
            return cls(ptr, rows, scores, vocab, stats)
        groups = np.load(directory / GROUPS_FILE, allow_pickle=False)
        names = np.load(directory / GROUP_NAMES_FILE, allow_pickle=False).tolist()
        if len(groups) != int(stats[0]) or not names or names[0] != "" or not (groups < len(names)).all():
            raise ValueError("the lexical language groups do not match the index")
        return cls(ptr, rows, scores, vocab, stats, groups, names)

    @property
    def nbytes(self) -> int:
        return sum(int(a.nbytes) for a in self.arrays().values())

    # -- scoring -------------------------------------------------------------------------------------

    @property
    def lookup(self) -> dict[str, int]:
        if self._lookup is None:
            self._lookup = {str(w): i for i, w in enumerate(self.vocab.tolist())}
        return self._lookup

    def query(self, text: str, max_terms: int = 0, *, language: str | None = None) -> Query:
        """`text` (in `language`, a BCP 47 tag) as a query: its tokens the index knows (the
        `max_terms` weightiest, tf x idf, when not 0), and its own score over them (as if it were
        indexed with the version's statistics)."""
        language = language if self.groups is not None else None
        tokens = tokenize([text], language)[0] if text else []
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
        self, text: str, k: int, *, language: str | None = None, max_terms: int = 0, skip_row: int = -1
    ) -> tuple[np.ndarray, np.ndarray]:
        """The `k` rows best matching `text` in `language` (rows, normalised scores in (0, 1]; ties by
        row), none scoring 0, none of another language, `skip_row` left out."""
        query = self.query(text, max_terms, language=language)
        if query.own <= 0 or self.count == 0:
            return np.zeros(0, dtype=np.int32), np.zeros(0, dtype=np.float32)
        scores = self.score_all(query)
        if self.groups is not None and (group := language_group(language)):
            # A language the version has no row of matches only the rows of none (code 0).
            code = self._group_code.get(group, 0)
            scores[(self.groups != code) & (self.groups != 0)] = 0.0
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
        several_languages = self.groups is not None and len(np.unique(self.groups[self.groups != 0])) > 1
        with tqdm(total=len(rows), desc="lexical", unit=" art", disable=not progress) as bar:
            for start in range(0, len(rows), BATCH):
                batch = rows[start : start + BATCH]
                scores = (counts[batch] @ matrix).toarray().astype(np.float32)
                if several_languages:
                    assert self.groups is not None  # several_languages says so
                    own_group = self.groups[batch][:, None]
                    other = (
                        (self.groups[None, :] != own_group) & (own_group != 0) & (self.groups[None, :] != 0)
                    )
                    scores[other] = 0.0
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


def _chunks(items: Iterable[T], size: int) -> Iterator[list[T]]:
    chunk: list[T] = []
    for item in items:
        chunk.append(item)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk
