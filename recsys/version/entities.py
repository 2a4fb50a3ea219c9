"""Each article's names, numbers and tags, stored in the version: same-story evidence (issue 22).

The names and numbers an article's title and lead mention, and its tags, are a set per article.

Two reports of one event share names, places and figures ("Guentzel", "Ottawa", "26") that a
sentence embedding blurs and that BM25 weighs among every other word; two stories of the same week
about one country share the country but rarely the rest. The build extracts each article's set once
(`Entities.build`), weighted by inverse document frequency over the version, and the query side
scores a candidate by the IDF-weighted overlap of its set with the article's
(`Entities.overlap`: shared weight / sqrt(article weight x candidate weight), 0..1), a few array
operations per list. Names are hashed (64-bit BLAKE2b) so that the version stores integers only.

Extraction is deliberately plain and language-blind: capitalised words of the title and the first
`LEAD_CHARS` characters of the body (less a short list of capitalised function words and dates),
numbers of two digits or more, and every tag without a `prefix:` (catalog codes such as Reuters'
`topic:` are categories, not names), as the whole tag and as its words. A title in capitals only
(wire headlines: "BAHIA COCOA REVIEW") counts every word as a name; leaving them out was measured
and cost more: reuters lost 0.047 nDCG@10 to today instead of 0.017 (issue 22), since such titles
carry the topic.
"""

from __future__ import annotations

import functools
import hashlib
import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ENTITY_PTR_FILE = "entity_ptr.npy"
ENTITY_CODES_FILE = "entity_codes.npy"
ENTITY_VOCAB_FILE = "entity_vocab.npy"
ENTITY_IDF_FILE = "entity_idf.npy"
ENTITY_FILES = (ENTITY_PTR_FILE, ENTITY_CODES_FILE, ENTITY_VOCAB_FILE, ENTITY_IDF_FILE)
# Extraction's version, in the manifest: a version whose sets were made otherwise is rebuilt. With
# names on it is in the settings digest too, with the rule that they count under dated articles only.
EXTRACTION = "names-1"
LEAD_CHARS = 300

# Capitalised words that are not names: sentence starts, weekdays and months, bylines.
_NOT_NAMES = frozenset(
    """the a an in on at for of to and or but by with from as is are was were be has have had it its
    this that these those he she they we i you his her their our after before over under about into
    new says said say will would could should may can not no more most than one two three first last
    monday tuesday wednesday thursday friday saturday sunday january february march april june july
    august september october november december mr mrs ms dr us u.s reuters ap afp update""".split()  # noqa: SIM905
)
_CAPITALISED = re.compile(r"[A-Z][\w'’.-]*\w|[A-Z]")
_NUMBER = re.compile(r"\d[\d,.]*\d|\d")


def names(title: str | None, body: str | None, tags: Sequence[str] = ()) -> set[str]:
    """The names, numbers and tags of one article, lower-cased (tags as `t:tag`, numbers as `#n`)."""
    text = f"{title or ''}. {(body or '')[:LEAD_CHARS]}"
    found: set[str] = set()
    for token in _CAPITALISED.findall(text):
        word = token.lower().strip(".")
        if len(word) > 1 and word not in _NOT_NAMES:
            found.add(word)
    for token in _NUMBER.findall(text):
        number = token.replace(",", "")
        if len(number) >= 2:
            found.add(f"#{number}")
    for tag in tags:
        if not _own(tag):
            continue
        found.add(f"t:{tag.lower()}")
        found.update(w for w in tag.lower().split() if len(w) > 1 and w not in _NOT_NAMES)
    return found


def _own(tag: str) -> bool:
    """A tag the article was given (a name, a place, a subject), not a catalog code (`prefix:...`)."""
    return ":" not in tag


def tagged(tags: Sequence[str]) -> bool:
    """Whether names count under an article: only one with tags of its own (issue 22).

    Its tags are a publisher's statement of what the story is about, and they anchor its set. An
    article with none has only the capitalised words and numbers of its title and lead: on Reuters
    (capitals headlines, catalog codes only) those cost 0.014 nDCG@10 on its topic truth, and
    weighting them by how rare they are cost more (0.020 to 0.035), since the rare ones are companies
    and people that many topics share. Measured in docs/ranking-candidates.md ("Shared names")."""
    return any(_own(tag) for tag in tags)


def code_of(name: str) -> int:
    """A name's 64-bit code (stable across processes and versions, unlike hash())."""
    return int.from_bytes(
        hashlib.blake2b(name.encode("utf-8"), digest_size=8).digest(), "little", signed=True
    )


def codes_of(found: Iterable[str]) -> np.ndarray:
    """Sorted unique int64 codes of a set of names."""
    return np.unique(np.array([code_of(n) for n in found], dtype=np.int64))


@dataclass(frozen=True)
class Entities:
    """Every row's names as indices into a sorted vocabulary of codes, CSR (`ptr`, `codes`), and
    each vocabulary entry's IDF over the version's articles."""

    ptr: np.ndarray  # int64, row r's names: codes[ptr[r]:ptr[r + 1]]
    codes: np.ndarray  # int32 index into vocab, ascending within a row
    vocab: np.ndarray  # int64 name codes, ascending
    idf: np.ndarray  # float32, log(articles / articles naming it)

    @classmethod
    def build(cls, articles: Iterable[tuple[str | None, str | None, Sequence[str]]]) -> Entities:
        """From each row's (title, body, tags), in row order."""
        per_row = [codes_of(names(title, body, tags)) for title, body, tags in articles]
        ptr = np.zeros(len(per_row) + 1, dtype=np.int64)
        np.cumsum([len(c) for c in per_row], out=ptr[1:])
        flat = np.concatenate(per_row) if per_row else np.zeros(0, dtype=np.int64)
        vocab, index, counts = np.unique(flat, return_inverse=True, return_counts=True)
        idf = np.log(max(1, len(per_row)) / counts).astype(np.float32)
        return cls(ptr, index.astype(np.int32), vocab.astype(np.int64), idf)

    @property
    def rows(self) -> int:
        return len(self.ptr) - 1

    def arrays(self) -> dict[str, np.ndarray]:
        return {
            ENTITY_PTR_FILE: self.ptr,
            ENTITY_CODES_FILE: self.codes,
            ENTITY_VOCAB_FILE: self.vocab,
            ENTITY_IDF_FILE: self.idf,
        }

    @classmethod
    def load(cls, directory: Path) -> Entities:
        def read(name: str) -> np.ndarray:
            return np.load(directory / name, allow_pickle=False)

        entities = cls(
            read(ENTITY_PTR_FILE), read(ENTITY_CODES_FILE), read(ENTITY_VOCAB_FILE), read(ENTITY_IDF_FILE)
        )
        if (
            entities.ptr[-1] != len(entities.codes)
            or len(entities.vocab) != len(entities.idf)
            or (len(entities.codes) and int(entities.codes.max()) >= len(entities.vocab))
        ):
            raise ValueError("entity arrays do not match each other")
        return entities

    def meta(self) -> dict[str, object]:
        return {"extraction": EXTRACTION, "lead_chars": LEAD_CHARS, "names": len(self.vocab)}

    @functools.cached_property
    def norms(self) -> np.ndarray:
        """Each row's total weight (sum of its names' IDF), float64, added in the names' order (as
        `overlap` adds what two share, and as a plain loop would: no pairwise summation)."""
        owner = np.repeat(np.arange(self.rows), np.diff(self.ptr))
        return np.bincount(owner, weights=self.idf[self.codes].astype(np.float64), minlength=self.rows)

    def of_row(self, row: int) -> tuple[np.ndarray, float]:
        """A row's names (vocabulary indices, ascending) and total weight."""
        return self.codes[self.ptr[row] : self.ptr[row + 1]], float(self.norms[row])

    def of_text(self, title: str | None, body: str | None, tags: Sequence[str]) -> tuple[np.ndarray, float]:
        """An article the version does not hold: its names the vocabulary knows, and its total
        weight, a name no article of the version has counting as if one had (the rarest)."""
        codes = codes_of(names(title, body, tags))
        at = np.minimum(np.searchsorted(self.vocab, codes), max(0, len(self.vocab) - 1))
        known = (self.vocab[at] == codes) if len(self.vocab) else np.zeros(len(codes), dtype=bool)
        found = np.sort(at[known]).astype(np.int32)
        norm = 0.0
        for weight in self.idf[found].tolist():
            norm += weight
        rarest = math.log(max(1, self.rows))
        return found, norm + rarest * int((~known).sum())

    def overlap(self, names_of: tuple[np.ndarray, float], rows: np.ndarray) -> np.ndarray:
        """Each row's IDF-weighted overlap with an article's names (`of_row` / `of_text`): the
        weight they share / sqrt(the two totals), 0 where either has none; float64."""
        subject, subject_norm = names_of
        out = np.zeros(len(rows), dtype=np.float64)
        if not len(rows) or not len(subject) or subject_norm <= 0.0:
            return out
        starts = self.ptr[rows]
        lengths = self.ptr[rows + 1] - starts
        total = int(lengths.sum())
        if total == 0:
            return out
        owner = np.repeat(np.arange(len(rows)), lengths)
        offsets = np.arange(total) - np.repeat(np.cumsum(lengths) - lengths, lengths)
        codes = self.codes[np.repeat(starts, lengths) + offsets]
        at = np.minimum(np.searchsorted(subject, codes), len(subject) - 1)
        shared = np.where(subject[at] == codes, self.idf[codes].astype(np.float64), 0.0)
        weight = np.bincount(owner, weights=shared, minlength=len(rows))
        norms = self.norms[rows] * subject_norm
        np.divide(weight, np.sqrt(norms), out=out, where=norms > 0.0)
        return out
