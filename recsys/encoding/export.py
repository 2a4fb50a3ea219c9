"""The exported backends: the model as ONNX (fp32, int8) or OpenVINO int8, run without torch.

The graph is cached in the data folder and run by ONNX Runtime or OpenVINO (docs/encoders.md).

The graph is exported from the packaged model folder on first use, with no network, and cached under
`<data_dir>/models/onnx/<model>-<fingerprint>/` (the fp32 graph, which OpenVINO runs as it is) and
`<data_dir>/models/onnx-int8/...` (its dynamic int8 copy) and `<data_dir>/models/openvino-int8-c<N>/...`
(its statically quantised OpenVINO copy, calibrated on fixed texts: the same vectors on every machine
with the same kernels, whatever the folder holds). An export is written into a temporary folder and
renamed into place, so a killed export leaves no half model and two processes exporting at once both end
with one complete copy. The text recipe, tokenizer, pooling and normalisation stay those of the
sentence-transformers model, so only the arithmetic of the transformer changes.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import json
import logging
import os
import re
import shutil
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from recsys.errors import ModelLoadError

log = logging.getLogger(__name__)

EXPORTED_BACKENDS = ("onnx-int8", "openvino", "openvino-f32", "openvino-int8")
MODEL_FILE = "model.onnx"
IR_FILE = "model.xml"  # OpenVINO's own format (with model.bin): what NNCF's quantised graph is saved as
_INPUTS = ("input_ids", "attention_mask", "token_type_ids")
# Bumped when the export itself changes (opset, graph outputs), so old caches are not reused.
_EXPORT_FORMAT = 2
_OPSET = 17
# Bumped when the static quantisation changes (calibration texts, NNCF options): part of the folder name.
_INT8_CALIBRATION = 1
# The exported graph's names for a BERT layer's feed-forward output MatMul (not attention/output/dense).
_FFN_DOWN_PROJECTION = r".*/layer\.\d+/output/dense/MatMul"

Runner = Callable[[dict[str, np.ndarray]], np.ndarray]
Feeds = dict[str, np.ndarray]


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


# What to install when a module is missing: onnxruntime is the `onnx` extra; openvino and onnx (which
# the export writes the graph with) are core dependencies, so only a trimmed install lacks them.
_INSTALL = {"onnxruntime": "pip install 'recsys-news[onnx]'"}


def _missing(module: str, backend: str) -> ModelLoadError:
    install = _INSTALL.get(module, f"pip install {module}")
    return ModelLoadError(
        f"encoder backend {backend!r} needs the {module} package: {install} "
        f"(or set RECSYS_ENCODER_BACKEND=torch)"
    )


def _require(module: str, backend: str) -> Any:
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise _missing(module, backend) from exc


def _check_installed(module: str, backend: str) -> None:
    """Without importing it: onnx is needed only to export, and imports take seconds on a busy box."""
    try:
        found = importlib.util.find_spec(module) is not None
    except ValueError:  # a module set to None in sys.modules (how tests hide one)
        found = False
    if not found:
        raise _missing(module, backend)


def check_available(backend: str) -> None:
    """Fail with the install command before any work when a backend's runtime is missing."""
    _check_installed("onnxruntime" if backend == "onnx-int8" else "openvino", backend)
    if backend == "openvino-int8":
        _check_installed("nncf", backend)


def _is_openvino(backend: str) -> bool:
    return backend.startswith("openvino")


def _fingerprint(source: Path) -> str:
    """What the export depends on: the model's files (by name, size and config contents) and the export
    format. Weights are not hashed: 90 MB read at every start would cost more than it protects."""
    digest = hashlib.sha256(f"format={_EXPORT_FORMAT};opset={_OPSET}".encode())
    for path in sorted(source.rglob("*")):
        if path.is_file():
            digest.update(f"{path.relative_to(source)}:{path.stat().st_size};".encode())
            if path.suffix == ".json":
                digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def export_dir(models_dir: Path, backend: str, name: str, source: Path) -> Path:
    """Where `backend`'s copy of the model at `source` is cached. OpenVINO runs the fp32 ONNX graph, so it
    shares the onnx copy; its int8 copy is its own."""
    if backend == "openvino-int8":
        stored_as = f"openvino-int8-c{_INT8_CALIBRATION}"
    else:
        stored_as = "onnx" if _is_openvino(backend) else backend
    slug = re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("_")[-80:]
    return models_dir / stored_as / f"{slug}-{_fingerprint(source)}"


def _export_fp32(source: Path, target: Path) -> None:
    import torch
    from transformers import AutoModel, AutoTokenizer

    class _TokenEmbeddings(torch.nn.Module):
        """The transformer with one output: the per-token vectors that mean pooling averages."""

        def __init__(self, model: torch.nn.Module) -> None:
            super().__init__()
            self.model = model

        def forward(
            self, input_ids: torch.Tensor, attention_mask: torch.Tensor, token_type_ids: torch.Tensor
        ) -> torch.Tensor:
            out = self.model(
                input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
            )
            return out.last_hidden_state  # type: ignore[no-any-return]

    tokenizer = AutoTokenizer.from_pretrained(str(source))
    # eager attention traces to plain ops that every runtime (and the int8 quantiser) understands
    model = AutoModel.from_pretrained(str(source), attn_implementation="eager").eval()
    # Two texts of different lengths, so the traced graph keeps the padding mask general.
    sample = tokenizer(["a short text", "a somewhat longer text with more words in it"], padding=True)
    args = tuple(torch.tensor(sample[key]) for key in _INPUTS)
    axes = {key: {0: "batch", 1: "tokens"} for key in (*_INPUTS, "token_embeddings")}
    with torch.no_grad():
        torch.onnx.export(
            _TokenEmbeddings(model),
            args,
            str(target / MODEL_FILE),
            input_names=list(_INPUTS),
            output_names=["token_embeddings"],
            dynamic_axes=axes,
            opset_version=_OPSET,
            dynamo=False,  # the TorchScript exporter needs no extra package (onnxscript)
        )


def _quantise_int8(fp32_model: Path, target: Path) -> None:
    from onnxruntime.quantization import QuantType, quantize_dynamic

    # Dynamic quantisation: int8 weights, activations quantised per batch at run time, no calibration
    # data. Per-channel scales keep the vectors at cosine ~0.995 to fp32 on news leads, where one scale
    # per tensor gave ~0.95; the MatMuls are where a MiniLM spends its time (docs/encoders.md).
    quantize_dynamic(
        str(fp32_model),
        str(target / MODEL_FILE),
        weight_type=QuantType.QInt8,
        per_channel=True,
        op_types_to_quantize=["MatMul"],
    )


def _quantise_static(fp32_model: Path, target: Path, calibration: list[Feeds]) -> None:
    import nncf
    import openvino as ov

    # Static int8: activation scales fixed from calibration batches, so no per-batch quantisation at
    # run time (what keeps dynamic int8 slow). TRANSFORMER keeps LayerNorm, Softmax and the residual
    # Adds in fp32. The feed-forward down-projections stay fp32 too: their inputs (after GELU) have
    # the outliers one int8 scale cannot hold; quantised, bbc leads fell to cosine 0.986 and
    # overlap@10 0.93 of fp32, kept, 0.993 and 0.96 (docs/encoders.md, "Static int8").
    quantised = nncf.quantize(
        ov.Core().read_model(str(fp32_model)),
        nncf.Dataset(calibration),
        model_type=nncf.ModelType.TRANSFORMER,
        subset_size=len(calibration),
        ignored_scope=nncf.IgnoredScope(patterns=[_FFN_DOWN_PROJECTION], validate=False),
    )
    ov.save_model(quantised, str(target / IR_FILE))


def _cached(
    final: Path, make: Callable[[Path], None], name: str, backend: str, file: str = MODEL_FILE
) -> Path:
    """`final`/`file`, made by `make(folder)` in a temporary folder renamed into place if missing."""
    if (final / file).is_file():
        return final / file
    _check_installed("onnx", backend)  # the exporter and the int8 quantiser write the graph with it
    final.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{final.name}.", dir=final.parent))
    try:
        log.info("exporting %s for encoder backend %s into %s (once)", name, backend, final)
        make(work)
        (work / "export.json").write_text(
            json.dumps({"model": name, "backend": backend, "format": _EXPORT_FORMAT})
        )
        try:
            os.replace(work, final)
        except OSError:
            if not (final / file).is_file():
                raise
            # another process finished the same export first: keep its copy
    except Exception as exc:  # torch/onnx raise many kinds; the user needs one line and a way out
        raise ModelLoadError(
            f"cannot export model {name!r} for encoder backend {backend!r}: {_first_line(exc)} "
            f"(RECSYS_ENCODER_BACKEND=torch needs no export)"
        ) from exc
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return final / file


def ensure_exported(
    models_dir: Path,
    backend: str,
    name: str,
    source: Path,
    calibration: Callable[[], list[Feeds]] | None = None,
) -> Path:
    """The cached model file for `backend`, exported first if missing: the fp32 graph (which OpenVINO
    runs as it is) and, for the int8 backends, its quantised copy (openvino-int8 calibrated on the
    tokenised batches `calibration` returns)."""
    fp32 = _cached(
        export_dir(models_dir, "openvino", name, source),
        lambda work: _export_fp32(source, work),
        name,
        backend,
    )
    if backend == "openvino-int8":
        if calibration is None:
            raise ModelLoadError("openvino-int8 needs calibration batches to quantise the model")
        batches = calibration
        return _cached(
            export_dir(models_dir, backend, name, source),
            lambda work: _quantise_static(fp32, work, batches()),
            name,
            backend,
            IR_FILE,
        )
    if backend != "onnx-int8":
        return fp32
    return _cached(
        export_dir(models_dir, backend, name, source), lambda work: _quantise_int8(fp32, work), name, backend
    )


def _onnxruntime_runner(model_file: Path, threads: int, backend: str) -> Runner:
    ort = _require("onnxruntime", backend)
    options = ort.SessionOptions()
    if threads:
        options.intra_op_num_threads = threads
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    session = ort.InferenceSession(str(model_file), options, providers=["CPUExecutionProvider"])

    def run(feeds: dict[str, np.ndarray]) -> np.ndarray:
        return np.asarray(session.run(None, feeds)[0])  # InferenceSession.run is thread-safe

    return run


def _openvino_runner(model_file: Path, threads: int, backend: str) -> Runner:
    ov = _require("openvino", backend)
    config: dict[str, Any] = {"INFERENCE_NUM_THREADS": threads} if threads else {}
    if backend in ("openvino-f32", "openvino-int8"):
        # OpenVINO runs the matrix products in bf16 where the CPU has it; this keeps them in fp32
        # (what a CPU without bf16 runs, and the reference the automatic choice compares with). For
        # int8 it keeps the unquantised ops in fp32: measured faster than bf16 around the int8
        # products on the bf16 box, and closer to fp32 (docs/encoders.md).
        config["INFERENCE_PRECISION_HINT"] = "f32"
    core = ov.Core()
    # OpenVINO keeps the compiled model beside the export: the next start loads it instead of
    # compiling the graph again (seconds, on a busy 2-core machine).
    core.set_property({"CACHE_DIR": str(model_file.parent / "openvino-cache")})
    compiled = core.compile_model(str(model_file), "CPU", config)
    lock = threading.Lock()  # one compiled model's implicit infer request is not thread-safe

    def run(feeds: dict[str, np.ndarray]) -> np.ndarray:
        with lock:
            return np.asarray(compiled(feeds)[0])

    return run


def load_runner(backend: str, model_file: Path, threads: int = 0) -> Runner:
    """A function from tokenised inputs to per-token vectors, on `backend`'s runtime."""
    try:
        if _is_openvino(backend):
            return _openvino_runner(model_file, threads, backend)
        return _onnxruntime_runner(model_file, threads, backend)
    except ModelLoadError:
        raise
    except Exception as exc:
        raise ModelLoadError(
            f"cannot load the exported model {model_file} on {backend!r}: {_first_line(exc)} "
            f"(delete {model_file.parent} to export it again)"
        ) from exc
