"""`recsys embed` with the real model, on this machine and as a Ray Data job on a local Ray: the vectors
equal the in-process encoder's, and a build after importing them embeds nothing."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from cli import app as cli
from recsys.articles import Article, read_articles
from recsys.demo_corpus import write_jsonl as write_demo
from recsys.encoding.encoders import load_encoder
from recsys.encoding.protocol import Encoder
from recsys.encoding.recipe import TextRecipe
from recsys.settings import Settings
from recsys.version.vectorfiles import VectorFolder

pytestmark = pytest.mark.model
runner = CliRunner()
ARTICLES = 48  # small: the real model embeds ~15-25 long articles/s on the 2-core CI machine


@pytest.fixture(scope="session")
def archive(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A slice of the demo corpus in two shards (gzip and plain JSON Lines)."""
    import gzip

    folder = tmp_path_factory.mktemp("archive")
    demo = folder.parent / "demo.jsonl"
    write_demo(demo)
    lines = demo.read_text(encoding="utf-8").splitlines(keepends=True)[:ARTICLES]
    with gzip.open(folder / "2019.jsonl.gz", "wt", encoding="utf-8") as handle:
        handle.writelines(lines[: ARTICLES // 2])
    (folder / "2020.jsonl").write_text("".join(lines[ARTICLES // 2 :]), encoding="utf-8")
    return folder


@pytest.fixture(scope="session")
def models_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data folder whose models/ holds the default backend's export, shared by the CLI runs."""
    return tmp_path_factory.mktemp("models-home")


@pytest.fixture(scope="session")
def default_encoder(models_home: Path) -> Encoder:
    """The in-process encoder of the default settings (the backend `recsys embed` runs by default)."""
    return load_encoder(Settings(data_dir=models_home))


@pytest.fixture(scope="session")
def ray_session() -> Iterator[None]:
    """One local Ray for the session (it takes seconds to start); the CLI joins it instead of starting
    its own."""
    ray = pytest.importorskip("ray", reason="the distributed extra is not installed")
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield
    ray.shutdown()


def _expected(archive: Path, encoder: Encoder) -> dict[str, np.ndarray]:
    recipe = TextRecipe()
    articles = {}
    for path in sorted(archive.iterdir()):
        for _, article in read_articles(path):
            assert isinstance(article, Article)
            articles[article.content_hash] = recipe.text(article.title, article.body)
    vectors = encoder.encode(list(articles.values()))
    return dict(zip(articles, vectors, strict=True))


def _vectors(folder: Path) -> dict[str, np.ndarray]:
    vector_folder = VectorFolder(folder)
    found: dict[str, np.ndarray] = {}
    for _, hashes, vectors in vector_folder.shards(vector_folder.read()):
        found.update(zip(hashes, vectors, strict=True))
    return found


def _check_same_vectors(folder: Path, expected: dict[str, np.ndarray]) -> None:
    got = _vectors(folder)
    assert sorted(got) == sorted(expected)
    # The same model and runtime; batches of other sizes pad to other lengths, and the exported
    # runtime may compute in bf16 where the CPU has it, so equal means equal up to that rounding.
    for content_hash, vector in expected.items():
        assert float(got[content_hash] @ vector) > 0.9999, content_hash
        assert np.allclose(got[content_hash], vector, atol=2e-3), content_hash


def test_local_embed_equals_the_encoder_and_a_build_after_import_embeds_nothing(
    archive: Path, tmp_path: Path, models_home: Path, default_encoder: Encoder
) -> None:
    output = tmp_path / "vectors"
    made = runner.invoke(
        cli.app,
        ["embed", "-i", str(archive), "-o", str(output), "--data-dir", str(models_home), "--no-progress"],
    )
    assert made.exit_code == 0, made.output
    manifest = json.loads((output / "manifest.json").read_text())
    assert manifest["model"] == default_encoder.name
    assert manifest["dimension"] == default_encoder.dimension
    assert list(manifest["shards"]) == ["2019", "2020"] and manifest["engine"] == "local"
    expected = _expected(archive, default_encoder)
    _check_same_vectors(output, expected)

    data = str(tmp_path / "data")
    args = ["build", "--data-dir", data, "--embeddings-from", str(output), "--no-progress"]
    built = runner.invoke(
        cli.app, [*args, "-i", str(archive / "2019.jsonl.gz"), "-i", str(archive / "2020.jsonl")]
    )
    assert built.exit_code == 0, built.output
    assert f"{len(expected)} new to the embedding cache" in built.stdout
    assert f"{ARTICLES} articles (0 embedded, {ARTICLES} from cache)" in built.stdout


def test_ray_embed_equals_the_encoder(
    ray_session: None, archive: Path, tmp_path: Path, models_home: Path, default_encoder: Encoder
) -> None:
    output = tmp_path / "vectors"
    args = [
        "embed",
        "-i",
        str(archive),
        "-o",
        str(output),
        "--engine",
        "ray",
        "--actors",
        "2",
        "--batch-size",
        "8",
        "--data-dir",
        str(models_home),
    ]
    made = runner.invoke(cli.app, [*args, "--no-progress"])
    assert made.exit_code == 0, made.output
    assert "engine ray" in made.stdout
    manifest = json.loads((output / "manifest.json").read_text())
    assert manifest["engine"] == "ray" and manifest["complete"] is True
    _check_same_vectors(output, _expected(archive, default_encoder))

    # the same folder again: every shard is already done
    again = runner.invoke(cli.app, [*args, "--no-progress"])
    assert again.exit_code == 0 and "(2 already done, skipped)" in again.stdout, again.output
