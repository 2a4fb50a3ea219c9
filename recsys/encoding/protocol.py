"""What the rest of the code needs of an encoder: the Encoder protocol, encoder slots, normalisation.

The slots bound the encoder calls running at once. The request path imports this module, never the
encoders themselves."""

from __future__ import annotations

import threading
from typing import Protocol, runtime_checkable

import numpy as np

from recsys.errors import EncoderBusy


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
