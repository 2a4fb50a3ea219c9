"""Near-duplicate detection: syndicated copies, updates and corrections of one story.

Two articles are near-duplicates when their vectors are almost the same (cosine >= `cosine`), or when
they are close (cosine >= `cosine_with_title`) and their headlines are near-identical once version
markers ("UPDATE:", "CORRECTION:", a trailing "- wire", "(Reuters)") are stripped.

Why two thresholds (measured with all-MiniLM-L6-v2 on the demo corpus, seed 2026; see docs/ranking.md): copies
score >= 0.991 against their original, corrections 0.956-0.972 and updates as low as 0.926 (an update
appends a paragraph), while distinct articles of one storyline reach 0.937. No single cosine separates
updates from siblings; the headline does: every variant has the same headline as its original after
stripping markers (similarity 1.0), while siblings above 0.85 cosine have headline similarity <= 0.81.
"""

from __future__ import annotations

import difflib
import functools
import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

_MARKER_PREFIX = re.compile(
    r"^\s*(?:(?:update[sd]?|correct(?:ion|ed)|exclusive|breaking|refile|rpt|repeat|wrapup(?: \d+)?)"
    r"\s*\d*\s*[:\-|]\s*)+",
    re.IGNORECASE,
)
_MARKER_SUFFIX = re.compile(
    r"\s*(?:[-\u2013|]\s*wire|\((?:wire|reuters|ap|afp|updated?|corrected)\))\s*$", re.I
)
_WORD = re.compile(r"[a-z0-9]+")


@functools.lru_cache(maxsize=1 << 16)
def normalise_title(title: str | None) -> str:
    text = _MARKER_SUFFIX.sub("", _MARKER_PREFIX.sub("", title or ""))
    return " ".join(_WORD.findall(text.lower()))


@functools.lru_cache(maxsize=1 << 16)
def title_similarity(a: str | None, b: str | None) -> float:
    """0..1, 1 for headlines equal after normalising; 0 when either is missing."""
    left, right = normalise_title(a), normalise_title(b)
    if not left or not right:
        return 0.0
    if left == right:
        return 1.0
    return difflib.SequenceMatcher(None, left, right, autojunk=False).ratio()


@dataclass(frozen=True)
class DuplicateRule:
    cosine: float = 0.97
    cosine_with_title: float = 0.90
    title: float = 0.90

    def is_duplicate(self, cosine: float, title_a: str | None, title_b: str | None) -> bool:
        if cosine >= self.cosine:
            return True
        return cosine >= self.cosine_with_title and title_similarity(title_a, title_b) >= self.title

    def first_duplicate(
        self, cosines: np.ndarray, titles: Sequence[str | None], title: str | None
    ) -> int | None:
        """The first i for which (cosines[i], titles[i]) duplicates `title`'s article, or None.
        Headlines are compared only where the vectors are already close: rarely, and never in a loop
        over every pair."""
        close = np.flatnonzero(np.asarray(cosines, dtype=np.float64) >= self.cosine_with_title)
        for i in close.tolist():
            if self.is_duplicate(float(cosines[i]), titles[i], title):
                return int(i)
        return None
