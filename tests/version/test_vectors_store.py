from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from recsys.errors import BuildLocked, IndexCorrupt, IndexMismatch, IndexMissing
from recsys.version import neighbours
from recsys.version.neighbours import NEIGHBOURS_FILE, SCORES_FILE
from recsys.version.snapshot import Snapshot
from recsys.version.store import IndexStore, new_version_id
from recsys.version.vectors import IndexSpec, VectorIndex


def _clustered(n_clusters: int = 4, per: int = 10, dim: int = 32, seed: int = 0) -> np.ndarray:
    """Points around orthogonal centres: each point's neighbours are its own cluster."""
    rng = np.random.default_rng(seed)
    centres = np.eye(dim, dtype=np.float32)[:n_clusters] * 5
    points = np.vstack([c + rng.normal(0, 0.3, (per, dim)) for c in centres]).astype(np.float32)
    return points / np.linalg.norm(points, axis=1, keepdims=True)


@pytest.mark.parametrize(
    "spec", [IndexSpec("flat"), IndexSpec("hnsw", {"m": 8}), IndexSpec("ivf", {"nlist": 4, "nprobe": 4})]
)
def test_every_index_type_finds_the_known_neighbours(spec: IndexSpec, tmp_path: Path) -> None:
    vectors = _clustered()
    keys = np.arange(100, 140, dtype=np.int64)  # keys need not be positions
    index = VectorIndex.build(keys, np.array([f"a{k}" for k in keys]), vectors, spec)
    found, scores = index.search(vectors[:1], 10)
    assert set(found[0].tolist()) == set(range(100, 110))
    assert scores[0][0] == pytest.approx(1.0, abs=1e-4)
    np.testing.assert_allclose(index.vector(115), vectors[15], atol=1e-6)
    assert index.vector(999) is None and index.article_id(105) == "a105"

    index.save(tmp_path)
    again = VectorIndex.load(tmp_path)
    found_again, _ = again.search(vectors[:1], 10)
    assert set(found_again[0].tolist()) == set(found[0].tolist())


def _publish(store: IndexStore, model: str = "m", dim: int = 32) -> str:
    vectors = _clustered(dim=dim)
    keys = np.arange(len(vectors), dtype=np.int64)
    version = new_version_id()
    staging = store.staging_dir(version)
    index = VectorIndex.build(keys, np.array([str(k) for k in keys]), vectors)
    rows = [{"key": int(k), "id": str(k), "url": None, "title": None, "section": None, "tags": "[]",
             "published_at": None, "image_url": None, "author": None, "language": None}
            for k in keys]  # fmt: skip
    nkeys, nscores = neighbours.compute(index, vectors, keys, 8)
    extra = {NEIGHBOURS_FILE: nkeys, SCORES_FILE: nscores, **Snapshot.from_rows(rows, 0).arrays()}
    store.write_version(
        staging,
        index,
        {"version": version, "model": model, "recipe": "r", "built_at": "now", "index": {}},
        extra_arrays=extra,
    )
    store.publish(staging, version)
    return version


def test_publish_switches_current_and_load_checks_manifest(tmp_path: Path) -> None:
    store = IndexStore(tmp_path)
    with pytest.raises(IndexMissing, match="recsys build"):
        store.load()
    first = _publish(store)
    second = _publish(store)
    assert store.current_version() == second and store.list_versions() == sorted([first, second])
    loaded = store.load(expect_model="m", expect_dimension=32, expect_recipe="r")
    assert loaded.version == second and len(loaded.vectors) == 40
    manifest = json.loads((tmp_path / "versions" / second / "manifest.json").read_text())
    assert manifest["normalised"] is True and manifest["count"] == 40
    assert {"index.faiss", "keys.npy", "article_ids.npy", "neighbours.npy"} <= set(manifest["files"])
    assert "faiss-cpu" in manifest["libraries"]


def test_load_refuses_other_model_dimension_or_recipe(tmp_path: Path) -> None:
    store = IndexStore(tmp_path)
    _publish(store)
    with pytest.raises(IndexMismatch, match="built with model 'm'"):
        store.load(expect_model="other")
    with pytest.raises(IndexMismatch, match="dimension 32"):
        store.load(expect_dimension=384)
    with pytest.raises(IndexMismatch, match="text recipe"):
        store.load(expect_recipe="other")


def test_load_refuses_corrupt_or_missing_files(tmp_path: Path) -> None:
    store = IndexStore(tmp_path)
    version = _publish(store)
    directory = tmp_path / "versions" / version
    original = (directory / "index.faiss").read_bytes()
    data = bytearray(original)
    data[-10] ^= 0xFF
    (directory / "index.faiss").write_bytes(bytes(data))
    with pytest.raises(IndexCorrupt, match="index.faiss fails its checksum"):
        store.load()
    (directory / "index.faiss").write_bytes(original)
    (directory / "keys.npy").unlink()
    with pytest.raises(IndexCorrupt, match="keys.npy is missing"):
        store.load()
    (directory / "manifest.json").write_text("{ truncated")
    with pytest.raises(IndexCorrupt, match="manifest.json is unreadable"):
        store.load()


def test_load_refuses_another_format_version(tmp_path: Path) -> None:
    store = IndexStore(tmp_path)
    version = _publish(store)
    path = tmp_path / "versions" / version / "manifest.json"
    manifest = json.loads(path.read_text())
    manifest["format_version"] = 99
    path.write_text(json.dumps(manifest))
    with pytest.raises(IndexMismatch, match="format 99"):
        store.load()


def test_second_build_lock_is_refused(tmp_path: Path) -> None:
    store = IndexStore(tmp_path)
    with store.build_lock(), pytest.raises(BuildLocked, match="another build"), store.build_lock():
        pass
    with store.build_lock():  # released after the first block
        pass


def test_prune_keeps_the_newest_and_the_current(tmp_path: Path) -> None:
    store = IndexStore(tmp_path)
    versions = [_publish(store) for _ in range(4)]
    store.set_current(versions[0])
    removed = store.prune(keep=2)
    assert removed == [versions[1]]
    assert store.list_versions() == [versions[0], versions[2], versions[3]]


def test_staging_leftovers_are_never_listed_and_are_cleaned(tmp_path: Path) -> None:
    store = IndexStore(tmp_path)
    version = _publish(store)
    leftover = tmp_path / "versions" / ".tmp-killed"
    leftover.mkdir()
    assert store.list_versions() == [version]
    store.staging_dir("next")
    assert not leftover.exists()


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"dimension": "abc"}, "dimension is not a positive integer"),
        ({"dimension": 0}, "dimension is not a positive integer"),
        ({"dimension": True}, "dimension is not a positive integer"),
        ({"count": -1}, "count is not a non-negative integer"),
        ({"count": 1.5}, "count is not a non-negative integer"),
        ({"format_version": "1"}, "format_version is not an integer"),
        ({"model": 7}, "model is not a non-empty string"),
        ({"recipe": None}, "recipe is not a non-empty string"),
        ({"version": "another"}, "version does not name its own folder"),
        ({"files": {}}, "files is not a non-empty object"),
        ({"files": ["index.faiss"]}, "files is not a non-empty object"),
        ({"files": {"../x": "0" * 64}}, "not a plain file name"),
        ({"files": {"/etc/passwd": "0" * 64}}, "not a plain file name"),
        ({"files": {".hidden": "0" * 64}}, "not a plain file name"),
        ({"files": {"index.faiss": "abc"}}, "not 64 lowercase hex digits"),
        ({"files": {"index.faiss": "0" * 64}}, "does not list keys.npy, article_ids.npy"),
        ({"index": "flat"}, "index is not an object"),
        ({"index": {"type": "hnsw", "params": {"ef_search": "many"}}}, "integer params"),
    ],
)
def test_a_manifest_of_the_wrong_type_or_shape_is_corrupt(
    tmp_path: Path, change: dict[str, object], reason: str
) -> None:
    store = IndexStore(tmp_path)
    version = _publish(store)
    path = tmp_path / "versions" / version / "manifest.json"
    manifest = {**json.loads(path.read_text()), **change}
    path.write_text(json.dumps(manifest))
    with pytest.raises(IndexCorrupt, match="manifest.json: ") as caught:
        store.load()
    assert reason in str(caught.value) and "\n" not in str(caught.value)


@pytest.mark.parametrize("content", [b"[" * 100_000, b'{"version": "\xff"}', b"[1, 2]"])
def test_an_unreadable_manifest_is_corrupt(tmp_path: Path, content: bytes) -> None:
    store = IndexStore(tmp_path)
    version = _publish(store)
    (tmp_path / "versions" / version / "manifest.json").write_bytes(content)
    with pytest.raises(IndexCorrupt, match="manifest.json"):
        store.load()
