"""Final lists: every article's default related list, ranked at build time and stored with the version.

The build ranks each article's default list (the default limit, no filter, no cursor) with the
request path's own pipeline (recsys/serving/recommend.py, `Recommender.final_lists`) against the
version alone: no pin, no block, nothing retracted since. A request for that list then takes it from
here instead of ranking again, as long as nothing the list was made from has changed
(`Recommender._stored_related` decides; otherwise it ranks as before).

On disk, as compressed sparse rows, checksummed in the manifest like every other file:
- `lists_offsets.npy`  int64, one more than the articles: article i's list is
  `keys[offsets[i]:offsets[i+1]]` (empty for an article with no stored list);
- `lists_keys.npy`     int32 article keys, in list order;
- `lists_scores.npy`   float64 scores, as served;
- `lists_collapsed.npy` int32 per article: the near-duplicates the list left out (-1: no stored list);
- `lists_not_before.npy` float64 per article: the latest publication time among the rows the list
  was ranked from; before it, some of them are still scheduled, and the list is ranked per request.
The manifest's `lists` entry names the default limit and the digest of the settings the lists were
ranked under: a server with other list-shaping settings does not use them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from recsys.version.snapshot import Snapshot

OFFSETS_FILE = "lists_offsets.npy"
KEYS_FILE = "lists_keys.npy"
SCORES_FILE = "lists_scores.npy"
COLLAPSED_FILE = "lists_collapsed.npy"
NOT_BEFORE_FILE = "lists_not_before.npy"
FILES = (OFFSETS_FILE, KEYS_FILE, SCORES_FILE, COLLAPSED_FILE, NOT_BEFORE_FILE)

# One article's list: its keys, their scores, the near-duplicates left out, and from when it holds.
Entry = tuple[list[int], list[float], int, float]


@dataclass(frozen=True)
class FinalLists:
    """Every article's stored default list; `rows` are the keys as rows of the loaded version."""

    limit: int
    settings_digest: str
    offsets: np.ndarray
    keys: np.ndarray
    scores: np.ndarray
    collapsed: np.ndarray
    not_before: np.ndarray
    rows: np.ndarray | None = None  # filled at load

    @property
    def stored(self) -> int:
        return int((self.collapsed >= 0).sum())

    def meta(self) -> dict[str, Any]:
        """The manifest's `lists` entry."""
        return {"limit": self.limit, "settings_digest": self.settings_digest, "stored": self.stored}

    def arrays(self) -> dict[str, np.ndarray]:
        return {
            OFFSETS_FILE: self.offsets,
            KEYS_FILE: self.keys,
            SCORES_FILE: self.scores,
            COLLAPSED_FILE: self.collapsed,
            NOT_BEFORE_FILE: self.not_before,
        }

    @classmethod
    def from_lists(
        cls,
        limit: int,
        settings_digest: str,
        lists: Iterable[Entry | None],
    ) -> FinalLists:
        """From one entry per article, in row order: (keys, scores, collapsed, not before), or None
        for an article whose list is always ranked per request."""
        offsets, keys, scores, collapsed, not_before = [0], [], [], [], []
        for entry in lists:
            if entry is None:
                collapsed.append(-1)
                not_before.append(np.inf)
            else:
                keys.extend(entry[0])
                scores.extend(entry[1])
                collapsed.append(entry[2])
                not_before.append(entry[3])
            offsets.append(len(keys))
        return cls(
            limit=limit,
            settings_digest=settings_digest,
            offsets=np.array(offsets, dtype=np.int64),
            keys=np.array(keys, dtype=np.int32),
            scores=np.array(scores, dtype=np.float64),
            collapsed=np.array(collapsed, dtype=np.int32),
            not_before=np.array(not_before, dtype=np.float64),
        )

    @classmethod
    def joined(cls, parts: list[FinalLists]) -> FinalLists:
        """Consecutive slices of one version's lists (`from_lists` over row ranges), as one."""
        first = parts[0]
        starts = np.cumsum([0] + [len(p.keys) for p in parts[:-1]])
        shifted = [p.offsets[1:] + start for p, start in zip(parts, starts, strict=True)]
        return cls(
            limit=first.limit,
            settings_digest=first.settings_digest,
            offsets=np.concatenate([first.offsets[:1], *shifted]),
            keys=np.concatenate([p.keys for p in parts]),
            scores=np.concatenate([p.scores for p in parts]),
            collapsed=np.concatenate([p.collapsed for p in parts]),
            not_before=np.concatenate([p.not_before for p in parts]),
        )

    def entry(self, row: int) -> Entry | None:
        """Article `row`'s stored list as `from_lists` takes it (None: it has none)."""
        collapsed = int(self.collapsed[row])
        if collapsed < 0:
            return None
        start, end = int(self.offsets[row]), int(self.offsets[row + 1])
        keys, scores = self.keys[start:end].tolist(), self.scores[start:end].tolist()
        return keys, scores, collapsed, float(self.not_before[row])

    @classmethod
    def load(cls, directory: Path, meta: dict[str, Any], snapshot: Snapshot) -> FinalLists:
        return cls.read(directory, meta).with_rows(snapshot)

    @classmethod
    def read(cls, directory: Path, meta: dict[str, Any]) -> FinalLists:
        """The arrays alone, keys not yet turned into rows (a build reusing them needs no snapshot)."""
        arrays = {name: np.load(directory / name, allow_pickle=False) for name in FILES}
        return cls(
            limit=int(meta["limit"]),
            settings_digest=str(meta["settings_digest"]),
            offsets=arrays[OFFSETS_FILE],
            keys=arrays[KEYS_FILE],
            scores=arrays[SCORES_FILE],
            collapsed=arrays[COLLAPSED_FILE],
            not_before=arrays[NOT_BEFORE_FILE],
        )

    def with_rows(self, snapshot: Snapshot) -> FinalLists:
        n = len(snapshot)
        if (
            len(self.offsets) != n + 1
            or len(self.collapsed) != n
            or len(self.not_before) != n
            or len(self.keys) != len(self.scores)
            or int(self.offsets[-1]) != len(self.keys)
        ):
            raise ValueError("final lists do not match the version's articles")
        rows = snapshot.rows_of_keys(self.keys.astype(np.int64)).astype(np.int32)
        if (rows < 0).any():
            raise ValueError("final lists name articles the version does not hold")
        return FinalLists(
            self.limit,
            self.settings_digest,
            self.offsets,
            self.keys,
            self.scores,
            self.collapsed,
            self.not_before,
            rows,
        )
