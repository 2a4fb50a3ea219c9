"""`recsys embed` and `recsys build --embeddings-from` with the fake encoder: the vector folder's
contents, resuming, identity checks on import, all-or-nothing imports, and one-line errors."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from cli import app as cli
from index.backfill import LocalEngine, embed_files, identity_of, import_vectors
from index.build import build_index
from recsys.articles import Article, read_articles
from recsys.catalog.ingest import import_file
from recsys.catalog.store import Catalog
from recsys.encoding.recipe import TextRecipe
from recsys.errors import ConfigError, InvalidInput
from recsys.root import Root
from recsys.settings import Settings
from recsys.version.vectorfiles import MANIFEST, SHARDS, VectorFolder
from tests.fakes import FakeEncoder, synthetic_records, write_jsonl
from tests.helpers import one_line_error

runner = CliRunner()
RECIPE = TextRecipe()


@pytest.fixture
def shards(tmp_path: Path) -> Path:
    """The synthetic corpus in two shards; the second repeats one article of the first under another
    id (a syndicated copy) and holds one bad record."""
    records = synthetic_records()
    folder = tmp_path / "archive"
    folder.mkdir()
    write_jsonl(folder / "part-a.jsonl", records[:15])
    copy = {**records[0], "id": "copy-of-first", "url": None}
    write_jsonl(folder / "part-b.jsonl", [*records[15:], copy, {"id": "no-text"}])
    (folder / "README.txt").write_text("not an article file")
    return folder


def _embed(source: Path, output: Path, encoder: FakeEncoder | None = None):  # type: ignore[no-untyped-def]
    encoder = encoder or FakeEncoder()
    engine = LocalEngine(encoder, batch_size=8)
    return embed_files(source, output, identity_of(encoder, RECIPE), RECIPE, engine, engine_name="local")


def _articles(folder: Path) -> list[Article]:
    found = []
    for path in sorted(folder.glob("*.jsonl")):
        found += [a for _, a in read_articles(path) if isinstance(a, Article)]
    return found


def test_embed_writes_one_shard_per_input_with_the_encoders_vectors(shards: Path, tmp_path: Path) -> None:
    report = _embed(shards, tmp_path / "vectors")
    assert (report.shards, report.records, report.skipped, report.duplicates) == (2, 32, 1, 1)
    assert report.embedded == 30

    folder = VectorFolder(tmp_path / "vectors")
    manifest = folder.read()
    assert manifest.complete and manifest.identity == identity_of(FakeEncoder(), RECIPE)
    assert list(manifest.shards) == ["part-a", "part-b"]
    assert manifest.data["counts"] == {
        "rows": 30,
        "records": 32,
        "articles": 31,
        "skipped": 1,
        "duplicates": 1,
    }

    expected = {a.content_hash: RECIPE.text(a.title, a.body) for a in _articles(shards)}
    got = {name: (hashes, vectors) for name, hashes, vectors in folder.shards(manifest)}
    hashes = got["part-a"][0] + got["part-b"][0]
    assert sorted(hashes) == sorted(expected) and len(set(hashes)) == len(hashes)
    vectors = np.vstack([got["part-a"][1], got["part-b"][1]])
    reference = FakeEncoder().encode([expected[h] for h in hashes])
    assert np.allclose(vectors, reference, atol=1e-6)


def test_a_second_run_skips_finished_shards_and_redoes_a_damaged_one(shards: Path, tmp_path: Path) -> None:
    output = tmp_path / "vectors"
    _embed(shards, output)
    again = _embed(shards, output)
    assert (again.resumed, again.embedded, again.records) == (2, 0, 0)

    damaged = output / SHARDS / "part-b.vectors.npy"
    damaged.write_bytes(damaged.read_bytes()[:-100])
    encoder = FakeEncoder()
    third = _embed(shards, output, encoder)
    assert third.resumed == 1 and third.embedded == 15 and encoder.texts_encoded == 15
    manifest = VectorFolder(output).read()
    assert manifest.complete and sum(1 for _ in VectorFolder(output).shards(manifest)) == 2


def test_import_then_build_embeds_nothing(shards: Path, tmp_path: Path, settings: Settings) -> None:
    _embed(shards, tmp_path / "vectors")
    catalog = Root(settings).catalog
    encoder = FakeEncoder()
    result = import_vectors(catalog, tmp_path / "vectors", identity_of(encoder, RECIPE))
    assert (result.rows, result.added) == (30, 30)
    for path in sorted(shards.glob("*.jsonl")):
        import_file(catalog, path)
    report = build_index(settings, catalog, encoder)
    assert (report.articles, report.embedded, report.reused) == (31, 0, 31)
    assert encoder.texts_encoded == 0
    # importing again adds nothing and changes nothing
    assert import_vectors(catalog, tmp_path / "vectors", identity_of(encoder, RECIPE)).added == 0


def test_build_embeddings_from_on_the_command_line(
    fake_model: None, shards: Path, tmp_path: Path, corpus_file: Path
) -> None:
    vectors, data = str(tmp_path / "vectors"), str(tmp_path / "data")
    made = runner.invoke(cli.app, ["embed", "-i", str(shards), "-o", vectors, "--no-progress"])
    assert made.exit_code == 0, made.output
    assert "embedded 30 texts (1 duplicates, 1 skipped)" in made.stdout
    assert "skipped: " in made.stderr and "part-b.jsonl:17" in made.stderr

    built = runner.invoke(
        cli.app,
        ["build", "-i", str(corpus_file), "--embeddings-from", vectors, "--data-dir", data, "--no-progress"],
    )
    assert built.exit_code == 0, built.output
    assert "30 vectors of this model and recipe, 30 new to the embedding cache" in built.stdout
    assert "(0 embedded, 30 from cache)" in built.stdout


@pytest.mark.parametrize(
    ("encoder", "recipe", "fragment"),
    [
        (FakeEncoder(name="another-model"), RECIPE, "model 'another-model'"),
        (FakeEncoder(dimension=128), RECIPE, "dimension 128"),
        (FakeEncoder(), TextRecipe(max_words=100), "words=100"),
    ],
)
def test_import_refuses_another_identity(
    shards: Path, tmp_path: Path, settings: Settings, encoder: FakeEncoder, recipe: TextRecipe, fragment: str
) -> None:
    _embed(shards, tmp_path / "vectors")
    catalog = Root(settings).catalog
    with pytest.raises(InvalidInput) as refused:
        import_vectors(catalog, tmp_path / "vectors", identity_of(encoder, recipe))
    message = str(refused.value)
    assert "\n" not in message and fragment in message
    assert f"recsys embed --input {shards.resolve()} --output NEW_FOLDER" in message
    assert catalog.cached_vectors(encoder.name, recipe.id, ["x"]) == {}


def test_a_corrupt_shard_imports_nothing(shards: Path, tmp_path: Path, settings: Settings) -> None:
    _embed(shards, tmp_path / "vectors")
    damaged = tmp_path / "vectors" / SHARDS / "part-b.vectors.npy"
    damaged.write_bytes(damaged.read_bytes()[:-1000])
    catalog = Root(settings).catalog
    identity = identity_of(FakeEncoder(), RECIPE)
    with pytest.raises(InvalidInput, match="part-b.vectors.npy: checksum mismatch"):
        import_vectors(catalog, tmp_path / "vectors", identity)
    first = [a.content_hash for a in _articles(shards)][:15]
    assert catalog.cached_vectors(identity.model, identity.recipe, first) == {}  # part-a rolled back too


def test_wrong_vectors_under_a_valid_checksum_are_refused(
    shards: Path, tmp_path: Path, settings: Settings
) -> None:
    """A hand-made folder whose checksums match but whose vectors are not normalised."""
    output = tmp_path / "vectors"
    _embed(shards, output)
    folder = VectorFolder(output)
    manifest = folder.read()
    name = "part-a"
    hashes = [h for n, h, _ in folder.shards(manifest) if n == name][0]
    entry = folder.write_shard(
        name,
        hashes,
        np.ones((len(hashes), 256), np.float32),
        source={},
        counts=manifest.shards[name]["counts"],
    )
    data = json.loads(folder.manifest_path.read_text())
    data["shards"][name]["files"] = entry.files
    folder.manifest_path.write_text(json.dumps(data))
    with pytest.raises(InvalidInput, match="not L2-normalised"):
        import_vectors(Root(settings).catalog, output, identity_of(FakeEncoder(), RECIPE))


def test_an_unfinished_run_is_refused(shards: Path, tmp_path: Path, settings: Settings) -> None:
    _embed(shards, tmp_path / "vectors")
    path = tmp_path / "vectors" / MANIFEST
    path.write_text(path.read_text().replace('"complete": true', '"complete": false'))
    with pytest.raises(InvalidInput, match="unfinished `recsys embed` run .* run it again"):
        import_vectors(Root(settings).catalog, tmp_path / "vectors", identity_of(FakeEncoder(), RECIPE))


def test_a_catalog_without_this_identity_is_refused(
    built: Catalog, settings: Settings, tmp_path: Path
) -> None:
    other = Catalog(tmp_path / "other.sqlite3")
    with pytest.raises(InvalidInput, match="holds no cached vectors of model 'another'.*fake-bag-of-words"):
        import_vectors(other, settings.catalog_file, identity_of(FakeEncoder(name="another"), RECIPE))
    added = import_vectors(other, settings.catalog_file, identity_of(FakeEncoder(), RECIPE)).added
    assert added == 30


def test_bad_inputs_are_one_line_errors(fake_model: None, shards: Path, tmp_path: Path) -> None:
    out = str(tmp_path / "out")
    one_line_error(runner.invoke(cli.app, ["embed", "-i", "nowhere", "-o", out]), "nowhere: no such file")
    empty = tmp_path / "empty"
    empty.mkdir()
    one_line_error(runner.invoke(cli.app, ["embed", "-i", str(empty), "-o", out]), "no article files")
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "x").write_text("x")
    one_line_error(
        runner.invoke(cli.app, ["embed", "-i", str(shards), "-o", str(tmp_path / "busy")]),
        "not empty and holds no vector folder",
    )
    one_line_error(
        runner.invoke(cli.app, ["embed", "-i", str(shards), "-o", out, "--engine", "spark"]), "embed_engine"
    )
    one_line_error(
        runner.invoke(cli.app, ["build", "--embeddings-from", str(tmp_path / "missing"), "--data-dir", out]),
        "missing: no such folder",
    )
    one_line_error(
        runner.invoke(cli.app, ["build", "--embeddings-from", str(empty), "--data-dir", out]),
        "not a vector folder",
    )


def test_resuming_into_a_folder_of_another_model_is_refused(shards: Path, tmp_path: Path) -> None:
    _embed(shards, tmp_path / "vectors")
    with pytest.raises(
        InvalidInput, match="holds vectors of model 'fake-bag-of-words'.*choose another --output"
    ):
        _embed(shards, tmp_path / "vectors", FakeEncoder(name="other"))


def test_the_ray_engine_without_ray_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "ray", None)  # `import ray` now raises ImportError
    from index.ray_embed import RayEngine

    with pytest.raises(ConfigError, match=r"pip install 'recsys-news\[distributed\]'"):
        RayEngine(FakeEncoder, identity_of(FakeEncoder(), RECIPE))


def test_inputs_that_would_share_a_shard_or_are_no_catalog_are_refused(
    shards: Path, tmp_path: Path, settings: Settings
) -> None:
    (shards / "part-a.csv").write_text("id,title\nx,Some title\n")
    with pytest.raises(InvalidInput, match="part-a.csv and part-a.jsonl would write the same shard"):
        _embed(shards, tmp_path / "vectors")
    not_a_catalog = tmp_path / "notes.sqlite3"
    not_a_catalog.write_text("hello")
    with pytest.raises(InvalidInput, match="not a catalog with an embedding cache"):
        import_vectors(Root(settings).catalog, not_a_catalog, identity_of(FakeEncoder(), RECIPE))


def test_strict_stops_at_the_first_bad_record_and_keeps_the_shards_before_it(
    fake_model: None, shards: Path, tmp_path: Path
) -> None:
    output = tmp_path / "vectors"
    result = runner.invoke(
        cli.app, ["embed", "-i", str(shards), "-o", str(output), "--strict", "--no-progress"]
    )
    one_line_error(result, "part-b.jsonl:17: field 'title': an article needs a title or a body")
    manifest = VectorFolder(output).read()
    assert not manifest.complete and list(manifest.shards) == ["part-a"]
