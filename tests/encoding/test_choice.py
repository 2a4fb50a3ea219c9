"""The automatic encoder backend (recsys/encoding/choice.py): the fastest candidate within the quality
rule, cached per data folder, model and CPU, named in the model identity. Fake timings for the rule;
one test with the real model (marked `model`)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from recsys.encoding import choice as chooser
from recsys.encoding.encoders import encoder_identity, load_encoder, model_identity
from recsys.encoding.protocol import Encoder, normalise
from recsys.errors import ModelLoadError
from recsys.settings import DEFAULT_MODEL, EncoderBackend, Settings

TEXTS = chooser.sample_texts(24)


class _Shifted:
    """A fake encoder whose vectors are the reference's plus `noise` (0: the reference itself)."""

    def __init__(self, backend: str, noise: float) -> None:
        self.name = f"fake+{backend}"
        self.dimension = 16
        self.backend = backend
        self._noise = noise

    def encode(self, texts: list[str], *, batch_size: int = 64, progress: bool = False) -> np.ndarray:
        base = np.random.default_rng(1).normal(size=(len(texts), 16))
        jitter = np.random.default_rng(2).normal(size=(len(texts), 16))
        return normalise(base + self._noise * jitter)


def _measure(
    speeds: dict[str, float], noise: dict[str, float], broken: tuple[str, ...] = ()
) -> tuple[chooser.Choice, Encoder]:
    def load(backend: EncoderBackend) -> Encoder:
        if backend in broken:
            raise ModelLoadError(f"{backend} cannot run here")
        return _Shifted(backend, noise.get(backend, 0.0))

    def clock(encoder: Encoder, texts: list[str], batch_size: int) -> float:
        return len(texts) / speeds[encoder.backend]  # type: ignore[attr-defined]

    return chooser.measure(list(speeds), load, TEXTS, clock=clock, cpu=["avx2"])


def test_the_fastest_candidate_within_the_quality_rule_is_chosen() -> None:
    speeds = {"openvino": 70.0, "onnx-int8": 90.0, "openvino-f32": 40.0, "torch": 30.0}
    # int8 is fastest but its vectors move too far from fp32: it is measured and left out
    choice, encoder = _measure(speeds, {"onnx-int8": 0.5})
    assert choice.backend == "openvino" and encoder.name == "fake+openvino"
    int8 = next(m for m in choice.measured if m.backend == "onnx-int8")
    assert not int8.passes and int8.cosine_min < chooser.MIN_COSINE
    assert [m.backend for m in choice.measured] == list(speeds)
    line = choice.describe()
    assert line.startswith("openvino on avx2 (measured: openvino 70.0/s;")
    assert "onnx-int8 90.0/s (out of quality" in line


def test_a_close_enough_int8_wins_when_it_is_fastest() -> None:
    speeds = {"onnx-int8": 90.0, "openvino-f32": 40.0, "torch": 30.0}
    choice, _ = _measure(speeds, {"onnx-int8": 0.001})
    assert choice.backend == "onnx-int8"


def test_a_candidate_that_cannot_load_is_skipped_and_said() -> None:
    speeds = {"openvino": 70.0, "openvino-f32": 40.0, "torch": 30.0}
    choice, _ = _measure(speeds, {}, broken=("openvino",))
    assert choice.backend == "openvino-f32"
    assert "openvino 0.0/s (cannot run: openvino cannot run here)" in choice.describe()


def test_without_an_fp32_reference_nothing_is_chosen() -> None:
    with pytest.raises(ModelLoadError, match="no fp32 encoder"):
        _measure({"onnx-int8": 90.0, "torch": 1.0}, {}, broken=("torch",))


def test_openvino_default_precision_is_a_candidate_only_with_bf16() -> None:
    assert "openvino" not in chooser.candidates_for(["avx2", "avx512f", "avx512_vnni"])
    assert chooser.candidates_for(["avx2", "avx512_bf16"])[0] == "openvino"


def test_an_isa_limit_makes_another_cpu(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ONEDNN_MAX_CPU_ISA", "AVX2")
    limited = chooser.cpu_features()
    assert limited[-1] == "isa=avx2"
    assert not chooser.has_bf16(limited) and not any(flag.startswith("avx512") for flag in limited)


def test_an_avx512_vnni_limit_is_a_cpu_with_int8_units_and_no_bf16(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ONEDNN_MAX_CPU_ISA", "AVX512_CORE_VNNI")
    limited = chooser.cpu_features()
    assert limited[-1] == "isa=avx512_core_vnni" and not chooser.has_bf16(limited)
    assert not {"amx_bf16", "amx_int8"} & set(limited)


def test_the_choice_is_cached_per_model_and_cpu(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path)
    choice = chooser.Choice("openvino-f32", ["avx2"], [chooser.Measured("openvino-f32", 40.0, 1.0, 1.0)])
    chooser.store_choice(settings, DEFAULT_MODEL, choice)
    assert chooser.cached_choice(settings, DEFAULT_MODEL, ["avx2"]) == choice
    assert chooser.cached_choice(settings, DEFAULT_MODEL, ["avx2", "avx512_bf16"]) is None
    assert chooser.cached_choice(settings, f"{DEFAULT_MODEL}+len128", ["avx2"]) is None
    assert (
        chooser.cached_choice(Settings(data_dir=tmp_path, encoder_threads=1), DEFAULT_MODEL, ["avx2"]) is None
    )


def test_with_auto_the_identity_is_the_chosen_backend(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, encoder_backend="auto")
    chooser.store_choice(settings, DEFAULT_MODEL, chooser.Choice("onnx-int8", chooser.cpu_features()))
    assert encoder_identity(settings) == f"{DEFAULT_MODEL}+onnx-int8"
    assert model_identity(DEFAULT_MODEL, "openvino-f32") == f"{DEFAULT_MODEL}+openvino-f32"
    with pytest.raises(ValueError, match="chosen backend"):
        model_identity(DEFAULT_MODEL, "auto")


@pytest.mark.model
def test_the_real_choice_is_valid_recorded_and_not_measured_twice(
    auto_encoder: tuple[Settings, Encoder], monkeypatch: pytest.MonkeyPatch
) -> None:
    settings, encoder = auto_encoder  # measured on first load in a fresh data folder
    chosen = chooser.cached_choice(settings, DEFAULT_MODEL, chooser.cpu_features())
    assert chosen is not None and chosen.backend in chooser.CANDIDATES
    assert encoder.name == model_identity(DEFAULT_MODEL, chosen.backend) == encoder_identity(settings)
    assert getattr(encoder, "choice", "").startswith(f"{chosen.backend} on ")
    assert {m.backend for m in chosen.measured} == set(chooser.candidates_for(chosen.cpu))
    vectors = encoder.encode(TEXTS[:3])
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)

    def no_second_measurement(*_: object, **__: object) -> None:
        raise AssertionError("measured again")

    monkeypatch.setattr(chooser, "measure", no_second_measurement)
    assert load_encoder(settings).name == encoder.name


def test_a_static_int8_that_fails_the_rule_is_not_chosen_however_fast() -> None:
    speeds = {"openvino-int8": 200.0, "openvino-f32": 40.0, "torch": 30.0}
    choice, encoder = _measure(speeds, {"openvino-int8": 0.5})
    assert choice.backend == "openvino-f32" and encoder.name == "fake+openvino-f32"
    assert "openvino-int8 200.0/s (out of quality: cosine" in choice.describe()


def test_a_static_int8_within_the_rule_wins_and_names_itself(tmp_path: Path) -> None:
    speeds = {"openvino": 70.0, "openvino-int8": 90.0, "openvino-f32": 40.0, "torch": 30.0}
    choice, _ = _measure(speeds, {"openvino-int8": 0.001})
    assert choice.backend == "openvino-int8"
    settings = Settings(data_dir=tmp_path, encoder_backend="auto")
    chooser.store_choice(settings, DEFAULT_MODEL, chooser.Choice("openvino-int8", chooser.cpu_features()))
    # int8 vectors differ from fp32 ones: never one identity
    assert encoder_identity(settings) == f"{DEFAULT_MODEL}+openvino-int8"


def test_an_int8_that_only_ties_the_exact_backend_is_not_chosen() -> None:
    # the bf16 box: int8 within the rule, but not clearly faster than bf16 (vectors equal to fp32)
    speeds = {"openvino": 65.2, "openvino-int8": 68.5, "openvino-f32": 40.1, "torch": 31.1}
    choice, _ = _measure(speeds, {"openvino-int8": 0.001})
    assert choice.backend == "openvino"
    speeds["openvino-int8"] = 65.2 * chooser.MIN_LOSSY_GAIN + 0.1
    assert _measure(speeds, {"openvino-int8": 0.001})[0].backend == "openvino-int8"


def test_static_int8_is_a_candidate_on_every_cpu() -> None:
    assert "openvino-int8" in chooser.candidates_for(["avx2"])
    assert "openvino-int8" in chooser.candidates_for(["avx2", "avx512_bf16"])


def test_int8_is_calibrated_on_other_texts_than_the_rule_judges() -> None:
    calibration = chooser.calibration_texts()
    assert len(calibration) >= 100 and not set(calibration) & set(chooser.sample_texts())
    assert calibration == chooser.calibration_texts()  # fixed: one model, one set of int8 vectors


def test_the_measurement_cost_is_recorded_and_said(tmp_path: Path) -> None:
    measured = [chooser.Measured("openvino-f32", 40.0, 1.0, 1.0)]
    choice = chooser.Choice("openvino-f32", ["avx2"], measured, 42.0)
    assert choice.describe().startswith("openvino-f32 on avx2 (measured in 42 s: openvino-f32 40.0/s")
    settings = Settings(data_dir=tmp_path)
    chooser.store_choice(settings, DEFAULT_MODEL, choice)
    assert chooser.cached_choice(settings, DEFAULT_MODEL, ["avx2"]) == choice
