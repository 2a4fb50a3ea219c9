"""A small deterministic encoder and a synthetic catalogue whose neighbours are known by construction.

Fast tests use them where the real model is beside the point (storage, filtering, HTTP, errors).
"""

from __future__ import annotations

import hashlib
import json
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from recsys.encoding.protocol import Encoder, normalise
from recsys.root import Root

if TYPE_CHECKING:
    import pytest

    from recsys.catalog.store import Catalog
    from recsys.serving.recommend import Recommender
    from recsys.settings import Settings

_TOKEN = re.compile(r"[a-z0-9]+")


class FakeEncoder:
    """Hashed bag of words: texts that share words are close, texts that share none are orthogonal-ish."""

    def __init__(self, dimension: int = 256, name: str = "fake-bag-of-words") -> None:
        self._dimension = dimension
        self._name = name
        self.calls = 0
        self.texts_encoded = 0

    @property
    def name(self) -> str:
        return self._name

    @property
    def dimension(self) -> int:
        return self._dimension

    def encode(self, texts: list[str], *, batch_size: int = 64, progress: bool = False) -> np.ndarray:
        self.calls += 1
        self.texts_encoded += len(texts)
        out = np.zeros((len(texts), self._dimension), dtype=np.float32)
        for row, text in enumerate(texts):
            for token in _TOKEN.findall(text.lower()):
                digest = hashlib.md5(token.encode()).digest()
                slot = int.from_bytes(digest[:4], "little") % self._dimension
                out[row, slot] += 1.0 if digest[4] & 1 else -1.0
        return normalise(out)


TOPICS: dict[str, list[str]] = {
    "harbour": ["harbour", "ferry", "dock", "tide", "pier", "crane", "cargo", "quay"],
    "election": ["ballot", "mayor", "campaign", "voters", "poll", "council", "candidate", "turnout"],
    "football": ["goal", "striker", "league", "keeper", "penalty", "stadium", "coach", "derby"],
    "vaccine": ["vaccine", "trial", "dose", "clinic", "virus", "nurses", "immunity", "booster"],
    "theatre": ["theatre", "actors", "stage", "premiere", "playwright", "audience", "curtain", "drama"],
}
PER_TOPIC = 6


def synthetic_records() -> list[dict[str, object]]:
    """30 articles, 6 per topic; each shares most of its words with its own topic only."""
    records: list[dict[str, object]] = []
    for t, (topic, words) in enumerate(TOPICS.items()):
        for i in range(PER_TOPIC):
            picked = [words[(i + j) % len(words)] for j in range(6)]
            records.append(
                {
                    "id": f"{topic}-{i}",
                    "url": f"https://news.example/{topic}/{i}",
                    "title": " ".join(picked[:3]).title(),
                    "body": " ".join(picked) + f" unique{t}x{i}",
                    "section": topic,
                    "tags": [topic],
                    "published_at": f"2026-03-{i + 1:02d}T0{t}:00:00Z",
                    "related": [f"{topic}-{(i + 1) % PER_TOPIC}"],
                }
            )
    return records


def write_jsonl(path: Path, records: list[dict[str, object]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


def topic_of(article_id: str) -> str:
    return article_id.rsplit("-", 1)[0]


def stable_hash(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


LATER = datetime(2026, 6, 1, tzinfo=UTC)  # after every article of the synthetic corpus


def make_recommender(
    settings: Settings, catalog: Catalog, encoder: Encoder, *, now: datetime | None = LATER
) -> Recommender:
    """A Recommender over the current index version, wired by the root as the service wires it (same
    checks, ranking policy and bounds); its clock stands still at `now` (None: the real clock)."""
    query_side = Root(settings, encoder=encoder, catalog=catalog).query_side
    if now is None:
        return query_side.load()
    fixed = now
    return query_side.load(clock=lambda: fixed)


def use_fake_model(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every model this test loads through a root (the command line's, say) is a FakeEncoder."""
    monkeypatch.setattr("recsys.encoding.encoders.load_encoder", lambda settings, *_: FakeEncoder())
