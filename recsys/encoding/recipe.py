"""The text recipe: what text an article is embedded from. Its id is recorded in every manifest and
in the embedding cache key, because changing it changes every vector."""

from __future__ import annotations

import re
from dataclasses import dataclass

_WORD = re.compile(r"\S+")


@dataclass(frozen=True)
class TextRecipe:
    """Title, then the lead of the body, cut to `max_words` words.

    News puts the story in the headline and first paragraphs, and MiniLM reads at most 256 word
    pieces (about 200 words), so the lead carries nearly all the signal and later text would be
    truncated anyway. When the title is missing (some feeds keep it in the body), the body alone is used.
    """

    max_words: int = 200
    version: int = 1

    @property
    def id(self) -> str:
        return f"title+lead:v{self.version}:words={self.max_words}"

    def text(self, title: str | None, body: str | None) -> str:
        title = (title or "").strip()
        words = _WORD.findall(body or "")[: self.max_words]
        lead = " ".join(words)
        if title and lead:
            return f"{title}.\n{lead}" if title[-1] not in ".!?" else f"{title}\n{lead}"
        return title or lead
