"""The vector index (FAISS): build, search, add and remove, save, load.

FAISS over L2-normalised vectors (inner product = cosine), keyed by the catalog's
integer article keys, with the article ids alongside so that a saved index describes itself.

Arrays in, arrays out: search takes an (n, d) float32 matrix and returns (keys, scores) matrices,
with -1 keys where fewer than k vectors exist.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import faiss
import numpy as np

from recsys.errors import ConfigError, IndexCorrupt, InvalidInput
from recsys.storage import writing

INDEX_FILE = "index.faiss"
KEYS_FILE = "keys.npy"
IDS_FILE = "article_ids.npy"


@dataclass(frozen=True)
class IndexSpec:
    """Which FAISS structure to build, and its parameters (recorded in the manifest)."""

    kind: str = "flat"
    params: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {"type": self.kind, "params": dict(self.params)}


def ivf_lists(count: int, asked: int = 0) -> int:
    """IVF's number of lists: `asked`, or 4 * sqrt(count) when 0 (FAISS's usual rule of thumb), and
    never more lists than vectors (training needs at least one vector per list)."""
    return max(1, min(asked or int(4 * np.sqrt(count)), count))


def _make_faiss_index(spec: IndexSpec, dim: int, vectors: np.ndarray) -> faiss.Index:
    if spec.kind == "flat":
        return faiss.IndexFlatIP(dim)
    if spec.kind == "hnsw":
        hnsw = faiss.IndexHNSWFlat(dim, int(spec.params.get("m", 32)), faiss.METRIC_INNER_PRODUCT)
        hnsw.hnsw.efConstruction = int(spec.params.get("ef_construction", 80))
        hnsw.hnsw.efSearch = int(spec.params.get("ef_search", 64))
        return hnsw
    if spec.kind == "ivf":
        nlist = ivf_lists(len(vectors), int(spec.params.get("nlist", 0)))
        quantizer = faiss.IndexFlatIP(dim)
        ivf = faiss.IndexIVFFlat(quantizer, dim, nlist, faiss.METRIC_INNER_PRODUCT)
        ivf.train(vectors)
        ivf.nprobe = int(spec.params.get("nprobe", 16))
        return ivf
    raise ConfigError(f"unknown index type {spec.kind!r} (expected flat, hnsw or ivf)")


def _inner(index: faiss.Index) -> faiss.Index:
    """The structure inside the id map (flat, HNSW or IVF)."""
    wrapped = faiss.downcast_index(index)
    if isinstance(wrapped, faiss.IndexIDMap2):
        return faiss.downcast_index(wrapped.index)
    return wrapped


class VectorIndex:
    def __init__(self, index: faiss.Index, keys: np.ndarray, article_ids: np.ndarray) -> None:
        if index.ntotal != len(keys) or len(keys) != len(article_ids):
            raise IndexCorrupt(
                f"index holds {index.ntotal} vectors but {len(keys)} keys and {len(article_ids)} ids"
            )
        self._index = index
        self.keys = keys
        self.article_ids = article_ids
        # Keys are written in ascending order (the build reads the catalog by key): lookups are a
        # binary search, where a dict of a million keys would take over 100 MB.
        self._sorted = bool(np.all(keys[1:] > keys[:-1])) if len(keys) > 1 else True
        self._order = None if self._sorted else np.argsort(keys, kind="stable")

    @classmethod
    def build(
        cls, keys: np.ndarray, article_ids: np.ndarray, vectors: np.ndarray, spec: IndexSpec | None = None
    ) -> VectorIndex:
        spec = spec or IndexSpec()
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        if vectors.ndim != 2 or len(vectors) != len(keys):
            raise InvalidInput(f"expected {len(keys)} vectors, got an array of shape {vectors.shape}")
        inner = _make_faiss_index(spec, vectors.shape[1], vectors)
        index: faiss.Index
        if isinstance(inner, faiss.IndexIVF):
            # IVF keeps ids itself: no id map around it. A hash-table direct map gives reconstruct(key)
            # for query vectors and lets an incremental build remove ids.
            inner.set_direct_map_type(faiss.DirectMap.Hashtable)  # type: ignore[attr-defined]
            index = inner
        else:
            index = faiss.IndexIDMap2(inner)
        index.add_with_ids(vectors, np.ascontiguousarray(keys, dtype=np.int64))
        return cls(index, np.asarray(keys, dtype=np.int64), np.asarray(article_ids, dtype=np.str_))

    @property
    def dimension(self) -> int:
        return int(self._index.d)

    def __len__(self) -> int:
        return int(self._index.ntotal)

    def _position(self, key: int) -> int | None:
        keys = self.keys if self._order is None else self.keys[self._order]
        at = int(np.searchsorted(keys, int(key)))
        if at >= len(keys) or keys[at] != int(key):
            return None
        return at if self._order is None else int(self._order[at])

    def article_id(self, key: int) -> str | None:
        at = self._position(key)
        return None if at is None else str(self.article_ids[at])

    def contains(self, key: int) -> bool:
        return self._position(key) is not None

    def vector(self, key: int) -> np.ndarray | None:
        if self._position(key) is None:
            return None
        return np.asarray(self._index.reconstruct(int(key)), dtype=np.float32)

    def vectors_of(self, keys: np.ndarray) -> np.ndarray:
        """The stored vectors of `keys` (all held by the index), one row each, in one FAISS call."""
        keys = np.ascontiguousarray(keys, dtype=np.int64)
        if len(keys) == 0:
            return np.zeros((0, self.dimension), dtype=np.float32)
        return np.asarray(self._index.reconstruct_batch(keys), dtype=np.float32)

    @property
    def kind(self) -> str:
        inner = _inner(self._index)
        if isinstance(inner, faiss.IndexHNSW):
            return "hnsw"
        if isinstance(inner, faiss.IndexIVF):
            return "ivf"
        return "flat"

    def replaced(
        self,
        remove: np.ndarray,
        add_keys: np.ndarray,
        add_vectors: np.ndarray,
        keys: np.ndarray,
        article_ids: np.ndarray,
    ) -> VectorIndex:
        """This IVF index, trained lists kept, with `remove` taken out and the given vectors added:
        an incremental build pays for what changed, not for training and assigning every vector."""
        index = self._index
        if len(remove):
            doomed = np.ascontiguousarray(remove, dtype=np.int64)
            index.remove_ids(faiss.IDSelectorArray(len(doomed), faiss.swig_ptr(doomed)))
        if len(add_keys):
            index.add_with_ids(
                np.ascontiguousarray(add_vectors, dtype=np.float32), np.ascontiguousarray(add_keys, np.int64)
            )
        return VectorIndex(index, np.asarray(keys, dtype=np.int64), np.asarray(article_ids, dtype=np.str_))

    def search(
        self, queries: np.ndarray, k: int, allowed: np.ndarray | None = None, breadth: float = 1.0
    ) -> tuple[np.ndarray, np.ndarray]:
        """The k nearest (keys, scores) of each query; with `allowed` (a bitmap over keys, as
        `key_bitmap` makes), only among those keys, with the structure's search breadth (IVF lists
        probed, HNSW ef) multiplied by `breadth`: a filter that keeps one article in five needs about
        five times the lists to find as many."""
        if k < 1:
            raise InvalidInput("k must be at least 1")
        queries = np.ascontiguousarray(np.atleast_2d(queries), dtype=np.float32)
        if queries.shape[1] != self.dimension:
            raise InvalidInput(f"query dimension {queries.shape[1]} != index dimension {self.dimension}")
        k = min(k, max(1, len(self)))
        if allowed is None:
            scores, keys = self._index.search(queries, k)
            return keys, scores
        selector = faiss.IDSelectorBitmap(len(allowed) * 8, faiss.swig_ptr(allowed))
        inner = _inner(self._index)
        params: Any
        if isinstance(inner, faiss.IndexIVF):
            nprobe = min(inner.nlist, max(1, round(inner.nprobe * breadth)))
            params = faiss.SearchParametersIVF(sel=selector, nprobe=nprobe)  # type: ignore[call-arg]
        elif isinstance(inner, faiss.IndexHNSW):
            hnsw = faiss.SearchParametersHNSW  # type: ignore[attr-defined]
            params = hnsw(sel=selector, efSearch=max(1, round(inner.hnsw.efSearch * breadth)))
        else:
            params = faiss.SearchParameters(sel=selector)  # type: ignore[call-arg]
        scores, keys = self._index.search(queries, k, params=params)
        return keys, scores

    def key_bitmap(self, keys: np.ndarray) -> np.ndarray:
        """A bitmap with the bits of `keys` set, for `search(..., allowed=...)`."""
        bits = np.zeros(int(self.keys.max()) + 1 if len(self.keys) else 1, dtype=bool)
        bits[np.asarray(keys, dtype=np.int64)] = True
        return np.packbits(bits, bitorder="little")

    def set_search_params(self, params: dict[str, int]) -> None:
        inner = _inner(self._index)
        if isinstance(inner, faiss.IndexHNSW) and "ef_search" in params:
            inner.hnsw.efSearch = int(params["ef_search"])
        if isinstance(inner, faiss.IndexIVF) and "nprobe" in params:
            inner.nprobe = int(params["nprobe"])

    def save(self, directory: Path) -> list[str]:
        """Write the index files into `directory`; returns their names. A full disk or a missing
        permission is a StorageError (faiss says so only in the text of a RuntimeError)."""
        with writing(directory / INDEX_FILE):
            faiss.write_index(self._index, str(directory / INDEX_FILE))
        with writing(directory):
            np.save(directory / KEYS_FILE, self.keys, allow_pickle=False)
            np.save(directory / IDS_FILE, self.article_ids, allow_pickle=False)
        return [INDEX_FILE, KEYS_FILE, IDS_FILE]

    @classmethod
    def load(cls, directory: Path) -> VectorIndex:
        try:
            index = faiss.read_index(str(directory / INDEX_FILE))
            keys = np.load(directory / KEYS_FILE, allow_pickle=False)
            article_ids = np.load(directory / IDS_FILE, allow_pickle=False)
        except (OSError, RuntimeError, ValueError) as exc:
            raise IndexCorrupt(f"{directory}: cannot read index files: {exc}") from exc
        return cls(index, keys, article_ids)
