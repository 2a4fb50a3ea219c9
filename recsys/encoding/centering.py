"""Per-language centering: each language's mean vector taken from its articles' vectors, renormalised.

Multilingual encoders place each language in a region of its own: two stories in one language are
closer than the same story in two, so cross-language neighbours rarely win. Subtracting the mean
vector of an article's language removes most of that offset (on the SemEval-2022 multilingual pairs,
multilingual-e5-small's cross-language same-story recall@1 goes from 0.28 to 0.62; docs/encoders.md).

Pure functions over arrays: `language_means` estimates the means from a catalog's raw vectors (a build
does, and stores them with the index version), `center` applies them to any vectors (the version's,
a draft's, an article imported since the build). Languages are grouped by their primary subtag
(`zh-Hant-TW` -> `zh`, `language_code`); an article with no language, or of a language with too few
articles for a mean of its own, is centered with the mean over every article.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from recsys.encoding.protocol import normalise
from recsys.settings import LanguageCentering

# A language needs this many articles for a mean of its own. Fewer, and the mean is mostly those
# articles' own topics: subtracting it would cancel what they share (one article's mean is itself,
# and would leave it a zero vector). The smallest language of the SemEval-2022 data has 88.
MIN_ARTICLES = 20
# Share of the articles added, changed or removed since the means were estimated beyond which an
# incremental build estimates them again (and so re-centers every vector). Replacing a share s of a
# language's articles moves its mean by at most 2s, and by far less when the newsroom keeps writing
# about the same mix of things; between refreshes the version's vectors stay comparable with its
# neighbour lists, which a build carries over.
REFRESH_SHARE = 0.1


def language_code(tag: str | None) -> str:
    """The code articles are grouped by: the primary subtag, lower case; "" for no language."""
    return tag.split("-", 1)[0].lower() if tag else ""


def applies(setting: LanguageCentering, model: str, multilingual: frozenset[str]) -> bool:
    """Whether a build centers: `auto` does for the multilingual models (`model` is the encoder's
    identity, whose canonical name comes before any `+backend` or `+len` suffix)."""
    if setting == "auto":
        return model.split("+", 1)[0] in multilingual
    return setting == "on"


@dataclass(frozen=True, eq=False)  # arrays have no truth value: compare `identity`
class Means:
    """The mean vector of each language with enough articles, and of every article (`overall`)."""

    languages: tuple[str, ...]  # sorted codes with a mean of their own
    counts: tuple[int, ...]  # articles each language's mean was estimated from
    vectors: np.ndarray  # (len(languages), dimension) float32
    overall: np.ndarray  # (dimension,) float32
    total: int  # articles the overall mean was estimated from

    def __post_init__(self) -> None:
        if len(self.languages) != len(self.counts) or self.vectors.shape != (
            len(self.languages),
            self.overall.shape[0],
        ):
            raise ValueError("language means: languages, counts and vectors do not match")

    @property
    def dimension(self) -> int:
        return int(self.overall.shape[0])

    @property
    def identity(self) -> str:
        """A digest of the means: vectors centered under equal identities are comparable."""
        digest = hashlib.sha256(repr(self.languages).encode())
        digest.update(np.ascontiguousarray(self.overall, dtype=np.float32).tobytes())
        digest.update(np.ascontiguousarray(self.vectors, dtype=np.float32).tobytes())
        return digest.hexdigest()[:16]

    def has(self, code: str) -> bool:
        return code in self.languages

    def matrix(self) -> np.ndarray:
        """Every mean as one array, the overall one first: how a version stores them (`from_matrix`)."""
        return np.vstack([self.overall[None, :], self.vectors]).astype(np.float32)

    def meta(self) -> dict[str, object]:
        """What a version's manifest says of the means besides the array itself."""
        return {"languages": list(self.languages), "counts": list(self.counts), "total": self.total}

    @classmethod
    def from_matrix(cls, matrix: np.ndarray, meta: dict[str, object]) -> Means:
        """The means a version stored (`matrix`, `meta`); ValueError when they do not fit together."""
        languages, counts, total = meta.get("languages"), meta.get("counts"), meta.get("total")
        if not (
            isinstance(languages, list)
            and all(isinstance(code, str) for code in languages)
            and isinstance(counts, list)
            and all(isinstance(n, int) for n in counts)
            and isinstance(total, int)
        ):
            raise ValueError("the manifest's centering entry lacks languages, counts or total")
        if matrix.ndim != 2 or matrix.dtype != np.float32 or matrix.shape[0] != len(languages) + 1:
            raise ValueError(
                f"language means of shape {matrix.shape} ({matrix.dtype}) for {len(languages)} languages"
            )
        return cls(tuple(languages), tuple(counts), matrix[1:], matrix[0], total)


# Rows handled at once: a million-article build never holds more than one extra chunk of vectors.
CHUNK = 65_536


def language_means(vectors: np.ndarray, codes: Sequence[str], *, min_articles: int = MIN_ARTICLES) -> Means:
    """The means of raw (uncentered) `vectors`, one row per article, grouped by `codes`
    (`language_code`). "" (no language) counts towards the overall mean only."""
    matrix = np.asarray(vectors, dtype=np.float32)
    if len(codes) != len(matrix):
        raise ValueError(f"{len(matrix)} vectors but {len(codes)} language codes")
    if len(matrix) == 0:
        raise ValueError("no vectors to estimate language means from")
    counted = Counter(codes)
    languages = sorted(code for code, n in counted.items() if code and n >= min_articles)
    groups = _groups(codes, languages)
    # Sums in float64: a million unit vectors summed in float32 lose the low digits of the mean.
    sums = np.zeros((len(languages), matrix.shape[1]), dtype=np.float64)
    overall = np.zeros(matrix.shape[1], dtype=np.float64)
    for start in range(0, len(matrix), CHUNK):
        chunk, chunk_groups = matrix[start : start + CHUNK], groups[start : start + CHUNK]
        overall += chunk.sum(axis=0, dtype=np.float64)
        for group in range(len(languages)):
            sums[group] += chunk[chunk_groups == group].sum(axis=0, dtype=np.float64)
    counts = tuple(counted[code] for code in languages)
    return Means(
        languages=tuple(languages),
        counts=counts,
        vectors=(sums / np.array(counts, dtype=np.float64).reshape(-1, 1)).astype(np.float32),
        overall=(overall / len(matrix)).astype(np.float32),
        total=len(matrix),
    )


def center(vectors: np.ndarray, codes: Sequence[str], means: Means) -> np.ndarray:
    """`vectors` less the mean of each row's language (`codes`), renormalised: float32, one row per
    vector. A code the means do not know (or "") takes the overall mean."""
    matrix = np.asarray(vectors, dtype=np.float32)
    if matrix.ndim != 2 or len(codes) != len(matrix):
        raise ValueError(f"{len(matrix)} vectors but {len(codes)} language codes")
    if matrix.shape[1] != means.dimension:
        raise ValueError(f"vectors of dimension {matrix.shape[1]}, language means of {means.dimension}")
    stacked = means.matrix()  # the overall mean in row 0: group -1 + 1
    rows = _groups(codes, means.languages) + 1
    out = np.empty_like(matrix)
    for start in range(0, len(matrix), CHUNK):
        end = start + CHUNK
        out[start:end] = normalise(matrix[start:end] - stacked[rows[start:end]])
    return out


def _groups(codes: Sequence[str], languages: Sequence[str]) -> np.ndarray:
    """Each code's position in `languages`, -1 where it has none."""
    position = {code: at for at, code in enumerate(languages)}
    return np.fromiter((position.get(code, -1) for code in codes), dtype=np.int64, count=len(codes))


def stale(
    means: Means, codes: Sequence[str], drift: float, *, min_articles: int = MIN_ARTICLES
) -> str | None:
    """Why an incremental build should estimate the means again for a catalog of `codes`, after
    `drift` (the share of articles added, changed or removed since they were estimated); None to
    keep them. A language that now has enough articles for a mean of its own, and lacks one, is a
    reason: its articles would otherwise keep the overall mean until the drift reached the bound."""
    if drift > REFRESH_SHARE:
        return f"{drift:.0%} of the articles changed since the language means were estimated"
    grown = sorted(c for c, n in Counter(codes).items() if c and n >= min_articles and not means.has(c))
    if grown:
        return f"languages without a mean of their own now have {min_articles}+ articles: {', '.join(grown)}"
    return None
