"""Encoder backends (docs/encoders.md): the model identity that keeps vectors of different backends and
token budgets apart, what a switch does to builds and to a served index, the export cached in the data
folder, and the exported model's vectors against torch's (real model, marked `model`)."""

from __future__ import annotations

import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient

from index.build import build_index
from recsys.catalog.store import Catalog
from recsys.encoding import export as backends
from recsys.encoding.encoders import (
    ExportedEncoder,
    SentenceTransformerEncoder,
    encoder_identity,
    load_encoder,
    model_identity,
)
from recsys.errors import ConfigError, IndexMismatch, ModelLoadError
from recsys.root import Root
from recsys.settings import DEFAULT_MODEL, Settings
from service.app import create_app
from tests.fakes import FakeEncoder

TEXTS = [
    "Floods close the coastal highway after days of heavy rain",
    "Heavy rainfall leaves the coast road under water",
    "The central bank raises interest rates by a quarter point",
    # about 300 word pieces: the first 128 are all budget, the rest football
    "Parliament passes the budget after a night of debate. " * 14
    + "The home side wins the cup final with a late goal. " * 14,
    "",
]


def test_identity_names_backend_and_token_budget_but_torch_keeps_the_bare_name() -> None:
    assert model_identity(DEFAULT_MODEL) == DEFAULT_MODEL
    assert model_identity("all-MiniLM-L6-v2", "torch", 256) == DEFAULT_MODEL  # the model's own budget
    assert model_identity(DEFAULT_MODEL, "onnx-int8") == f"{DEFAULT_MODEL}+onnx-int8"
    assert model_identity(DEFAULT_MODEL, "torch", 128) == f"{DEFAULT_MODEL}+len128"
    assert model_identity(DEFAULT_MODEL, "openvino", 128) == f"{DEFAULT_MODEL}+openvino+len128"
    settings = Settings(encoder_backend="openvino", max_seq_length=128)
    with_bf16 = ["avx2", "avx512_bf16"]
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("recsys.encoding.choice.cpu_features", lambda: with_bf16)
        assert encoder_identity(settings) == f"{DEFAULT_MODEL}+openvino+len128"
        # without bf16 OpenVINO runs fp32, and the identity says so
        patch.setattr("recsys.encoding.choice.cpu_features", lambda: ["avx2"])
        assert encoder_identity(settings) == f"{DEFAULT_MODEL}+openvino-f32+len128"


def test_settings_refuse_an_unknown_backend() -> None:
    with pytest.raises(ValueError, match="encoder_backend"):
        Settings(encoder_backend="onnx")  # type: ignore[arg-type]  # measured, dropped: docs/encoders.md


def test_a_backend_switch_re_embeds_everything_and_never_mixes_cached_vectors(
    settings: Settings, built: Catalog, encoder: FakeEncoder
) -> None:
    before = build_index(settings, built, encoder)
    assert before.embedded == 0  # the `built` fixture embedded everything already
    switched = FakeEncoder(name=f"{encoder.name}+onnx-int8")
    report = build_index(settings, built, switched)
    assert report.embedded == report.articles == 30 and switched.texts_encoded == 30
    assert report.reused == 0  # nothing taken from the other backend's cache or version
    # switching back finds the first backend's vectors still cached under their own name
    again = FakeEncoder()
    assert build_index(settings, built, again).embedded == 0 and again.texts_encoded == 0


def test_an_index_of_another_backend_is_refused_with_what_to_run(settings: Settings, built: Catalog) -> None:
    other = FakeEncoder(name="fake-bag-of-words+onnx-int8")
    with pytest.raises(IndexMismatch, match=r"run `recsys build`.*RECSYS_ENCODER_BACKEND"):
        Root(settings, encoder=other, catalog=built).query_side.load_index()
    with TestClient(create_app(settings, encoder=other)) as client:
        health = client.get("/health")
        assert health.status_code == 503
        body = health.json()
        assert body["error"] == "index_unavailable"
        assert "recsys build" in body["detail"] and "RECSYS_ENCODER_BACKEND" in body["detail"]
        related = client.get("/articles/harbour-0/related")
        assert related.status_code == 503 and related.json()["error"] == "index_unavailable"


def test_a_gpu_device_needs_the_torch_backend(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="RECSYS_DEVICE=cuda needs RECSYS_ENCODER_BACKEND=torch"):
        load_encoder(Settings(data_dir=tmp_path, device="cuda", encoder_backend="openvino"))


def test_a_missing_runtime_names_the_extra_to_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "onnxruntime", None)  # import onnxruntime now raises ImportError
    settings = Settings(data_dir=tmp_path, encoder_backend="onnx-int8")
    with pytest.raises(ModelLoadError, match=r"pip install 'recsys-news\[onnx\]'"):
        load_encoder(settings)
    assert not (tmp_path / "models").exists()  # failed before any export work


def test_a_failed_export_is_one_line_and_leaves_nothing_behind(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def half_then_fail(source: Path, target: Path) -> None:
        (target / backends.MODEL_FILE).write_bytes(b"half a graph")
        raise RuntimeError("exporter crashed\nwith a long trace")

    monkeypatch.setattr(backends, "_export_fp32", half_then_fail)
    with pytest.raises(
        ModelLoadError, match=r"^cannot export model .* 'openvino': exporter crashed \("
    ) as info:
        ExportedEncoder(DEFAULT_MODEL, "openvino", tmp_path / "models")
    assert "\n" not in str(info.value)
    assert [p for p in (tmp_path / "models").rglob("*") if p.is_file()] == []


def test_static_int8_without_nncf_names_the_package(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "nncf", None)
    settings = Settings(data_dir=tmp_path, encoder_backend="openvino-int8")
    with pytest.raises(ModelLoadError, match="needs the nncf package: pip install nncf"):
        load_encoder(settings)
    assert not (tmp_path / "models").exists()


def test_static_int8_is_cached_apart_and_needs_calibration(tmp_path: Path) -> None:
    source = tmp_path / "model"
    source.mkdir()
    (source / "config.json").write_text("{}")
    int8 = backends.export_dir(tmp_path, "openvino-int8", DEFAULT_MODEL, source)
    assert int8.parent.name.startswith("openvino-int8-c")
    assert int8 != backends.export_dir(tmp_path, "openvino", DEFAULT_MODEL, source)
    fp32 = backends.export_dir(tmp_path, "openvino", DEFAULT_MODEL, source)
    fp32.mkdir(parents=True)
    (fp32 / backends.MODEL_FILE).write_bytes(b"graph")  # as if exported: only the int8 step runs
    with pytest.raises(ModelLoadError, match="calibration"):
        backends.ensure_exported(tmp_path, "openvino-int8", DEFAULT_MODEL, source)


def test_exported_backends_need_a_local_model_folder(tmp_path: Path) -> None:
    with pytest.raises(ModelLoadError, match="not a local model folder|is not one"):
        ExportedEncoder("some-org/some-model", "openvino", tmp_path)


# -- the real model ------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def models_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One export per test session (fp32 and int8), shared by the tests below."""
    folder = tmp_path_factory.mktemp("data") / "models"
    ExportedEncoder(DEFAULT_MODEL, "onnx-int8", folder)
    return folder


@pytest.mark.model
def test_export_is_cached_in_the_data_folder_and_reused(
    models_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    exported = sorted(p.relative_to(models_dir).parts[0] for p in models_dir.glob("*/*/model.onnx"))
    assert exported == ["onnx", "onnx-int8"]
    assert not [p for p in models_dir.rglob(".*")]  # no temporary folder left

    def no_export(*_: object) -> None:
        raise AssertionError("exported again")

    monkeypatch.setattr(backends, "_export_fp32", no_export)
    monkeypatch.setattr(backends, "_quantise_int8", no_export)
    settings = Settings(data_dir=models_dir.parent, encoder_backend="onnx-int8")
    assert load_encoder(settings).name == f"{DEFAULT_MODEL}+onnx-int8"
    # OpenVINO runs the fp32 graph as exported: the same cached file
    assert ExportedEncoder(DEFAULT_MODEL, "openvino", models_dir).name == f"{DEFAULT_MODEL}+openvino"


@pytest.mark.model
@pytest.mark.parametrize(
    ("backend", "floor"), [("openvino", 0.999), ("onnx-int8", 0.97), ("openvino-int8", 0.97)]
)
def test_exported_vectors_are_close_to_torch(
    models_dir: Path, real_encoder: SentenceTransformerEncoder, backend: str, floor: float
) -> None:
    reference = real_encoder.encode(TEXTS)
    encoder = ExportedEncoder(DEFAULT_MODEL, backend, models_dir)  # type: ignore[arg-type]
    vectors = encoder.encode(TEXTS, batch_size=2)  # batches mix lengths: padding must not leak in
    assert vectors.shape == reference.shape and vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    cosines = np.sum(reference * vectors, axis=1)
    assert cosines.min() >= floor, cosines
    assert vectors[0] @ vectors[1] > vectors[0] @ vectors[2] + 0.2


@pytest.mark.model
def test_token_budget_is_applied_and_named(
    models_dir: Path, real_encoder: SentenceTransformerEncoder
) -> None:
    short = ExportedEncoder(DEFAULT_MODEL, "openvino", models_dir, max_seq_length=128)
    assert short.name == f"{DEFAULT_MODEL}+openvino+len128"
    full, cut = real_encoder.encode(TEXTS[3:4]), short.encode(TEXTS[3:4])
    assert float(full[0] @ cut[0]) < 0.98  # the long text lost its football tail ...
    assert (
        float(short.encode(TEXTS[:1])[0] @ real_encoder.encode(TEXTS[:1])[0]) > 0.999
    )  # a short one did not


@pytest.mark.model
def test_exported_encoder_is_safe_to_call_from_several_threads(models_dir: Path) -> None:
    encoder = ExportedEncoder(DEFAULT_MODEL, "openvino", models_dir)
    expected = encoder.encode(TEXTS)
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(lambda _: encoder.encode(TEXTS), range(8)))
    for vectors in results:
        np.testing.assert_allclose(vectors, expected, atol=1e-5)
