"""`auto`, the default backend, end to end with fake encoders: `recsys build` with no setting measures
once and says what it chose, and a service follows the backend its index version was built with
instead of measuring (recsys/encoding/encoders.py `load_encoder`, recsys/root.py). The real
measurement has its own test (tests/encoding/test_choice.py, marked `model`)."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from cli import app as cli
from index.build import build_index
from recsys.catalog.ingest import import_file
from recsys.encoding import choice as chooser
from recsys.encoding import encoders
from recsys.encoding.encoders import model_identity
from recsys.encoding.protocol import Encoder
from recsys.errors import IndexMismatch, ModelLoadError
from recsys.root import Root
from recsys.settings import DEFAULT_MODEL, EncoderBackend, Settings
from recsys.version.store import IndexStore
from service.app import create_app
from tests.fakes import FakeEncoder


def _fake(backend: EncoderBackend) -> FakeEncoder:
    """What the backend would load, named as it would be (the vectors are the fake's)."""
    return FakeEncoder(name=model_identity(DEFAULT_MODEL, backend))


@pytest.fixture
def loads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """No setting (the default, `auto`); every backend loads a fake; returns the backends loaded."""
    monkeypatch.delenv("RECSYS_ENCODER_BACKEND")
    loaded: list[str] = []

    def load(settings: Settings, backend: EncoderBackend) -> Encoder:
        loaded.append(backend)
        return _fake(backend)

    monkeypatch.setattr(encoders, "_load", load)
    return loaded


@pytest.fixture
def measured(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Measuring picks `openvino-f32` at once (no timing); returns the folders it measured for."""
    calls: list[str] = []

    def measure(*_: object, **__: object) -> tuple[chooser.Choice, Encoder]:
        calls.append("measured")
        return chooser.Choice("openvino-f32", chooser.cpu_features()), _fake("openvino-f32")

    monkeypatch.setattr(chooser, "measure", measure)
    return calls


def _built(data: Path, corpus_file: Path, backend: EncoderBackend) -> Settings:
    """A data folder whose current version was built with `backend` (a fake under its name)."""
    settings = Settings(data_dir=data)
    root = Root(settings)
    import_file(root.catalog, corpus_file, strict=True)
    build_index(settings, root.catalog, _fake(backend))
    root.close()
    return settings


def test_the_default_backend_is_the_automatic_choice(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("RECSYS_ENCODER_BACKEND")
    assert Settings().encoder_backend == "auto"


def test_recsys_build_with_no_setting_measures_once_and_says_what_it_chose(
    tmp_path: Path, corpus_file: Path, loads: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    data = tmp_path / "d"
    runner = CliRunner()
    result = runner.invoke(
        cli.app, ["build", "-i", str(corpus_file), "--data-dir", str(data), "--no-progress"]
    )
    assert result.exit_code == 0, result.output
    line = result.stdout.strip().splitlines()[-1]
    chosen = chooser.cached_choice(Settings(data_dir=data), DEFAULT_MODEL, chooser.cpu_features())
    assert chosen is not None and chosen.backend in chooser.CANDIDATES
    assert line.startswith(f"encoder: {chosen.backend} on ") and "(measured" in line
    assert set(loads) >= set(chooser.candidates_for(chooser.cpu_features()))  # every candidate tried
    store = IndexStore(data / "index")
    version = store.current_version()
    assert version is not None and store.read_manifest(version).model == model_identity(
        DEFAULT_MODEL, chosen.backend
    )
    recorded = json.loads((data / "models" / chooser.CHOICE_FILE).read_text())
    assert [entry["backend"] for entry in recorded.values()] == [chosen.backend]

    def no_second_measurement(*_: object, **__: object) -> None:
        raise AssertionError("measured again")

    monkeypatch.setattr(chooser, "measure", no_second_measurement)
    again = runner.invoke(cli.app, ["build", "--data-dir", str(data), "--no-progress"])
    assert again.exit_code == 0, again.output
    assert again.stdout.strip().splitlines()[-1].startswith(f"encoder: {chosen.backend} on ")


def test_a_service_follows_the_backend_its_version_was_built_with(
    tmp_path: Path, corpus_file: Path, loads: list[str], measured: list[str]
) -> None:
    settings = _built(tmp_path / "d", corpus_file, "openvino-int8")
    # what this folder would choose now, if it asked: another backend
    chooser.store_choice(settings, DEFAULT_MODEL, chooser.Choice("torch", chooser.cpu_features()))
    with TestClient(create_app(settings)) as client:
        health = client.get("/health").json()
        assert health["status"] == "ok" and health["model"] == f"{DEFAULT_MODEL}+openvino-int8"
        assert client.get("/articles/vaccine-1/related").status_code == 200
    assert loads == ["openvino-int8"] and not measured
    # `recsys serve` loads its encoder the same way before the service starts
    assert Root(settings, follows_index=True).encoder.name == f"{DEFAULT_MODEL}+openvino-int8"
    # the build side keeps the folder's own choice
    assert Root(settings).encoder.name == DEFAULT_MODEL


def test_a_recorded_backend_that_cannot_run_here_is_said_then_measured(
    tmp_path: Path,
    corpus_file: Path,
    loads: list[str],
    measured: list[str],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    settings = _built(tmp_path / "d", corpus_file, "onnx-int8")

    def load(settings: Settings, backend: EncoderBackend) -> Encoder:
        if backend == "onnx-int8":
            raise ModelLoadError("encoder backend 'onnx-int8' needs the onnxruntime package")
        return _fake(backend)

    monkeypatch.setattr(encoders, "_load", load)
    root = Root.for_service(settings)
    with caplog.at_level(logging.WARNING, logger="recsys.encoding.encoders"):
        assert root.encoder.name == f"{DEFAULT_MODEL}+openvino-f32"
    (warning,) = [r.getMessage() for r in caplog.records if r.name == "recsys.encoding.encoders"]
    assert "built with encoder backend onnx-int8, which cannot run on this CPU" in warning
    assert "needs the onnxruntime package" in warning and measured == ["measured"]
    with pytest.raises(IndexMismatch, match=r"\+onnx-int8"):
        root.query_side.load()


def test_a_bf16_version_on_a_cpu_without_bf16_is_not_followed(
    tmp_path: Path,
    corpus_file: Path,
    loads: list[str],
    measured: list[str],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    settings = _built(tmp_path / "d", corpus_file, "openvino")  # bf16 on the build's CPU
    monkeypatch.setattr(chooser, "cpu_features", lambda: ["avx2"])
    with caplog.at_level(logging.WARNING, logger="recsys.encoding.encoders"):
        assert Root.for_service(settings).encoder.name == f"{DEFAULT_MODEL}+openvino-f32"
    assert "needs a CPU with bf16 units" in caplog.text and measured == ["measured"]
    assert "openvino" not in loads  # not loaded as fp32 under the bf16 name


def test_a_service_measures_only_without_a_version_and_a_setting_still_wins(
    tmp_path: Path, corpus_file: Path, loads: list[str], measured: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    empty = Settings(data_dir=tmp_path / "empty")
    assert Root.for_service(empty).encoder.name == f"{DEFAULT_MODEL}+openvino-f32"
    assert measured == ["measured"]
    settings = _built(tmp_path / "d", corpus_file, "openvino-int8")
    monkeypatch.setenv("RECSYS_ENCODER_BACKEND", "torch")
    assert Root.for_service(Settings(data_dir=settings.data_dir)).encoder.name == DEFAULT_MODEL
    assert loads[-1] == "torch" and measured == ["measured"]


def test_a_running_service_follows_a_version_built_with_another_backend(
    tmp_path: Path,
    corpus_file: Path,
    loads: list[str],
    measured: list[str],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The first `auto` build of a folder served with `openvino` chose int8: the running service
    swaps in the new version with its own backend instead of refusing it; a backend that cannot run
    here leaves the version refused and the old one served, without measuring."""
    settings = _built(tmp_path / "d", corpus_file, "openvino")
    with TestClient(create_app(settings)) as client:
        state = client.app.state.recsys  # type: ignore[attr-defined]
        first = state.served_version()
        root = Root(settings)
        build_index(settings, root.catalog, _fake("openvino-int8"))
        outcome = state.reload()
        assert outcome.reloaded and outcome.served_version != first and outcome.error is None
        health = client.get("/health").json()
        assert health["model"] == f"{DEFAULT_MODEL}+openvino-int8" and health["status"] == "ok"
        assert client.get("/articles/vaccine-1/related").status_code == 200
        assert loads == ["openvino", "openvino-int8"] and not measured

        def load(settings: Settings, backend: EncoderBackend) -> Encoder:
            raise ModelLoadError(f"encoder backend {backend!r} needs the onnxruntime package")

        monkeypatch.setattr(encoders, "_load", load)
        build_index(settings, root.catalog, _fake("onnx-int8"))
        root.close()
        with caplog.at_level(logging.WARNING):
            refused = state.reload()
        assert refused.served_version == outcome.served_version and "+onnx-int8" in (refused.error or "")
        assert "built with encoder backend onnx-int8, which cannot run on this CPU" in caplog.text
        assert client.get("/health").json()["model"] == f"{DEFAULT_MODEL}+openvino-int8" and not measured


def test_a_pinned_service_still_refuses_another_backend(
    tmp_path: Path, corpus_file: Path, loads: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RECSYS_ENCODER_BACKEND", "openvino")
    settings = _built(tmp_path / "d", corpus_file, "openvino")
    with TestClient(create_app(settings)) as client:
        state = client.app.state.recsys  # type: ignore[attr-defined]
        root = Root(settings)
        build_index(settings, root.catalog, _fake("openvino-int8"))
        root.close()
        refused = state.reload()
        assert not refused.reloaded and "+openvino-int8" in (refused.error or "")
        assert loads == ["openvino"]
