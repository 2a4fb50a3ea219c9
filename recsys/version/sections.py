"""Section blocks: every article's default "More in <section>" block, ranked at build time too.

An article page's second block lists the subject's section around its publication time, ranked
against the subject (its vector, its time) on the page its related list made: it depends on the
article, not on the section alone. The build ranks it for each article whose related list is stored
(recsys/version/lists.py), with the request path's own pipeline (`Recommender.final_sections`), on
that stored list's page, under the version as built.

Only three things can change it before the next build, and a request checks each
(`Recommender._stored_section`), else ranks it now:
- a row of the section window, the section's stories the block was ranked from, edited, retracted,
  deleted or blocked, or a row moved into the window (a new section or time);
- the clock before the window's latest publication time (a scheduled story not out yet);
- the related list itself (its page): the block is only used beside the stored related list.
Articles imported since the build are never section candidates until the next build (the live view
holds no row for them), so they do not move the block.

On disk, beside the final lists and checksummed like them: the same compressed-sparse-row arrays
(`sections_lists_*.npy`, see recsys/version/lists.py) and `sections_window.npy`, float64 (articles, 2):
the first and last publication time of the window (-inf / inf where it reached the section's end).
The manifest's `sections` entry names the section limit and the settings digest.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from recsys.version.lists import FILES as LIST_FILES
from recsys.version.lists import Entry, FinalLists
from recsys.version.snapshot import Snapshot

PREFIX = "sections_"
WINDOW_FILE = "sections_window.npy"
FILES = (*(PREFIX + name for name in LIST_FILES), WINDOW_FILE)

# One article's block (as a final list's entry) and its window's first and last publication time.
SectionEntry = tuple[Entry, float, float]


@dataclass(frozen=True)
class SectionBlocks:
    """Every article's stored default section block; `blocks.collapsed` is -1 where none is stored."""

    section_limit: int
    blocks: FinalLists
    window: np.ndarray

    def meta(self) -> dict[str, Any]:
        """The manifest's `sections` entry."""
        return {**self.blocks.meta(), "section_limit": self.section_limit}

    def arrays(self) -> dict[str, np.ndarray]:
        return {**{PREFIX + n: a for n, a in self.blocks.arrays().items()}, WINDOW_FILE: self.window}

    @classmethod
    def joined(cls, parts: list[SectionBlocks]) -> SectionBlocks:
        """Consecutive slices of one version's blocks (`final_sections` over row ranges), as one."""
        blocks = FinalLists.joined([p.blocks for p in parts])
        return cls(parts[0].section_limit, blocks, np.concatenate([p.window for p in parts]))

    @classmethod
    def from_blocks(
        cls, limit: int, section_limit: int, settings_digest: str, entries: Iterable[SectionEntry | None]
    ) -> SectionBlocks:
        windows: list[tuple[float, float]] = []

        def entry(found: SectionEntry | None) -> Entry | None:
            windows.append((found[1], found[2]) if found is not None else (np.inf, -np.inf))
            return found[0] if found is not None else None

        blocks = FinalLists.from_lists(limit, settings_digest, map(entry, entries))
        return cls(section_limit, blocks, np.array(windows, dtype=np.float64).reshape(-1, 2))

    @classmethod
    def load(cls, directory: Path, meta: dict[str, Any], snapshot: Snapshot) -> SectionBlocks:
        arrays = {name: np.load(directory / (PREFIX + name), allow_pickle=False) for name in LIST_FILES}
        blocks = FinalLists(
            int(meta["limit"]),
            str(meta["settings_digest"]),
            *(arrays[name] for name in LIST_FILES),
        ).with_rows(snapshot)
        window = np.load(directory / WINDOW_FILE, allow_pickle=False)
        if window.shape != (len(snapshot), 2):
            raise ValueError("section windows do not match the version's articles")
        return cls(int(meta["section_limit"]), blocks, window)
