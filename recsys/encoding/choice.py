"""The automatic encoder backend: the fastest candidate within the quality rule, measured on this CPU.

`RECSYS_ENCODER_BACKEND=auto` (the default) times each available backend and precision on a short
batch of news-like texts, keeps those whose vectors stay within the quality rule against the fp32
reference (cosine >= 0.99 on every text, neighbour overlap@10 >= 0.95 within the batch), and picks the
fastest. The choice is measured once per data folder, model and CPU, and cached in
`<data_dir>/models/encoder-choice.json` with the CPU features it was measured on: another CPU (or an
instruction-set limit such as ONEDNN_MAX_CPU_ISA) measures again. The chosen backend names itself in
the model identity, so vectors of two choices never mix in one index or cache (docs/encoders.md).
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import cast

import numpy as np

from recsys.encoding.protocol import Encoder
from recsys.errors import ModelLoadError
from recsys.settings import EncoderBackend, Settings

log = logging.getLogger(__name__)

CHOICE_FILE = "encoder-choice.json"
MIN_COSINE = 0.99
MIN_OVERLAP = 0.95
OVERLAP_K = 10
# int8 vectors are within the rule but not equal to fp32: such a candidate must beat the fastest exact
# one (fp32 or bf16, cosine 1.0000) by this much. On the bf16 box int8 and bf16 tie within the
# measurement's noise (68.5 vs 65.2 texts/s, and a full build 46.0 vs 48.2 articles/s).
LOSSY: frozenset[str] = frozenset({"openvino-int8", "onnx-int8"})
MIN_LOSSY_GAIN = 1.15
TIMED_RUNS = 3
# Fastest first when two tie: the order also breaks ties of equal speed.
CANDIDATES: tuple[EncoderBackend, ...] = ("openvino", "openvino-int8", "onnx-int8", "openvino-f32", "torch")
# Flags that change which kernels a runtime can use (and, for bf16, the vectors).
_FEATURES = ("avx2", "avx512f", "avx512_vnni", "avx512_bf16", "avx_vnni", "amx_bf16", "amx_int8")
_BF16 = ("avx512_bf16", "amx_bf16")
# The flags each oneDNN ISA limit leaves (the limits that emulate a common CPU without bf16).
_ALLOWED_UNDER = {
    "AVX2": {"avx2"},
    "AVX2_VNNI": {"avx2", "avx_vnni"},
    "AVX512_CORE": {"avx2", "avx512f"},
    "AVX512_CORE_VNNI": {"avx2", "avx512f", "avx512_vnni"},
}

# What the measurement embeds: news-like leads of the recipe's length (title + ~200 words), built
# from fixed sentences so every machine times and compares the same texts.
_SENTENCES = (
    "The city council voted on Tuesday to approve a new budget for public transport.",
    "Officials said the plan would add bus routes and extend tram services to the suburbs.",
    "Opposition members argued that the cost had been underestimated by several million.",
    "The central bank kept interest rates unchanged, citing persistent inflation in services.",
    "Analysts had expected a cut after three months of slowing growth and weaker hiring.",
    "Shares in the largest lenders fell sharply in early trading before recovering later.",
    "The striker scored twice in the second half as the home side came from behind to win.",
    "The coach praised the defence but warned that the title race was far from over.",
    "Heavy rain caused flooding in several northern towns, and roads were closed overnight.",
    "Emergency services rescued dozens of residents, and schools will stay shut on Monday.",
    "Researchers reported that the new vaccine reduced hospital admissions by half in trials.",
    "The health ministry said it would publish its recommendations before the winter.",
    "A court ruled that the company had breached competition law by favouring its own apps.",
    "The firm said it would appeal and that the fine was disproportionate to any harm.",
    "Thousands of people marched through the capital to demand higher wages for nurses.",
    "The union said further strikes were planned if the government did not reopen talks.",
    "The film festival opened with a drama about two sisters running a farm in the mountains.",
    "Critics said the director's latest work was her most personal and ambitious so far.",
    "Engineers found cracks in the bridge during a routine inspection last week.",
    "The regional government promised a full review of infrastructure maintenance spending.",
)
_TITLES = (
    "Council backs transport budget",
    "Rates held as inflation lingers",
    "Late double seals comeback win",
    "Floods close roads and schools",
    "Vaccine halves admissions in trial",
    "Court fines tech firm over apps",
    "Nurses march for higher pay",
    "Festival opens with mountain drama",
)


def sample_texts(count: int = 32, words: int = 200, seed: int = 23) -> list[str]:
    """`count` deterministic texts of a title and about `words` words, in varied sentence orders."""
    rng = np.random.default_rng(seed)
    texts = []
    for number in range(count):
        body: list[str] = []
        while sum(len(sentence.split()) for sentence in body) < words:
            body.append(_SENTENCES[int(rng.integers(len(_SENTENCES)))])
        # shorter and longer texts alike, as a real folder has
        kept = max(2, int(len(body) * (0.3 + 0.7 * (number % 4) / 3)))
        texts.append(_TITLES[number % len(_TITLES)] + "\n" + " ".join(body[:kept]))
    return texts


def calibration_texts() -> list[str]:
    """The texts openvino-int8 is calibrated on: drawn apart from the measurement's, so the quality
    rule is not judged on the texts the scales were fitted to."""
    return sample_texts(128, seed=2301)


def cpu_features() -> list[str]:
    """The CPU flags that matter to the encoder runtimes, after any ONEDNN_MAX_CPU_ISA limit.

    OpenVINO's matrix products (oneDNN's kernels) obey that limit, so a limited CPU is, for the
    choice, another CPU. Its release builds' own kernels (LayerNorm, some fp32 products in MLAS) do
    not: the emulation is close, not exact (docs/encoders.md, "How exact the emulation is").
    """
    flags: set[str] = set()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            name, _, value = line.partition(":")
            if name.strip() in ("flags", "Features"):
                flags = set(value.split())
                break
    except OSError:
        pass
    found = sorted(flag for flag in _FEATURES if flag in flags)
    limit = os.environ.get("ONEDNN_MAX_CPU_ISA", "").strip().upper()
    allowed = _ALLOWED_UNDER.get(limit)
    if allowed is not None:
        found = [flag for flag in found if flag in allowed]
        found.append(f"isa={limit.lower()}")
    return found


def has_bf16(features: Sequence[str]) -> bool:
    return any(flag in features for flag in _BF16)


@dataclass
class Measured:
    """One candidate's figures on the sample (or why it could not run)."""

    backend: str
    texts_per_s: float = 0.0
    cosine_min: float = 0.0
    overlap: float = 0.0
    problem: str = ""

    @property
    def passes(self) -> bool:
        return not self.problem and self.cosine_min >= MIN_COSINE and self.overlap >= MIN_OVERLAP


@dataclass
class Choice:
    """The backend chosen for one model on one CPU, and what it was chosen on."""

    backend: EncoderBackend
    cpu: list[str]
    measured: list[Measured] = field(default_factory=list)
    # what measuring cost (loading, exporting and quantising every candidate, then timing): once per
    # data folder and CPU
    seconds: float = 0.0

    def describe(self) -> str:
        """The line `recsys build` prints, e.g. `openvino-f32 on avx2 (measured: ...)`."""
        cpu = ",".join(self.cpu) or "unknown cpu"
        figures = "; ".join(
            f"{m.backend} {m.texts_per_s:.1f}/s"
            + (
                f" (cannot run: {m.problem})"
                if m.problem
                else ""
                if m.passes
                else f" (out of quality: cosine {m.cosine_min:.3f}, overlap {m.overlap:.2f})"
            )
            for m in self.measured
        )
        cost = f" in {self.seconds:.0f} s" if self.seconds >= 1 else ""
        return f"{self.backend} on {cpu}" + (f" (measured{cost}: {figures})" if figures else "")


def _overlap(reference: np.ndarray, vectors: np.ndarray, k: int = OVERLAP_K) -> float:
    """Mean share of each text's k nearest neighbours (within the batch) that both vector sets agree on."""
    k = min(k, len(reference) - 1)
    if k < 1:
        return 1.0

    def neighbours(matrix: np.ndarray) -> np.ndarray:
        scores = matrix @ matrix.T
        np.fill_diagonal(scores, -np.inf)
        return np.argsort(-scores, axis=1, kind="stable")[:, :k]

    ours, theirs = neighbours(reference), neighbours(vectors)
    return float(np.mean([len(set(a) & set(b)) / k for a, b in zip(ours, theirs, strict=True)]))


Loader = Callable[[EncoderBackend], Encoder]
Clock = Callable[[Encoder, list[str], int], float]


def _seconds(encoder: Encoder, texts: list[str], batch_size: int) -> float:
    """The best of a few timed runs (another job's burst on a shared machine slows one run, never
    speeds one up); the run that gave the vectors was the warm-up (runtimes prepare kernels on
    their first shapes)."""
    best = float("inf")
    for _ in range(TIMED_RUNS):
        started = time.perf_counter()
        encoder.encode(texts, batch_size=batch_size)
        best = min(best, time.perf_counter() - started)
    return best


def measure(
    candidates: Sequence[EncoderBackend],
    load: Loader,
    texts: list[str],
    *,
    batch_size: int = 16,
    clock: Clock = _seconds,
    cpu: list[str] | None = None,
) -> tuple[Choice, Encoder]:
    """Time every candidate on `texts`, compare its vectors with the fp32 reference (the first of
    openvino-f32 and torch that loads), and return the fastest that passes, loaded; an int8 one
    only when it is MIN_LOSSY_GAIN times as fast as the fastest exact one."""
    started = time.perf_counter()
    loaded: dict[str, Encoder] = {}
    results: list[Measured] = []
    for backend in candidates:
        try:
            loaded[backend] = load(backend)
        except ModelLoadError as exc:  # a runtime not installed, or not running on this CPU
            results.append(Measured(backend, problem=str(exc).splitlines()[0][:120]))
    reference_backend = next((b for b in ("openvino-f32", "torch") if b in loaded), None)
    if reference_backend is None:
        raise ModelLoadError(
            "no fp32 encoder (openvino-f32 or torch) could load to choose a backend: "
            + "; ".join(m.problem for m in results)
        )
    vectors_of = {name: encoder.encode(texts, batch_size=batch_size) for name, encoder in loaded.items()}
    reference = vectors_of[reference_backend]
    for name, encoder in loaded.items():
        vectors = vectors_of[name]
        seconds = clock(encoder, texts, batch_size)
        results.append(
            Measured(
                name,
                texts_per_s=len(texts) / seconds if seconds > 0 else float("inf"),
                cosine_min=float(np.min(np.sum(reference * vectors, axis=1))),
                overlap=_overlap(reference, vectors),
            )
        )
    order: dict[str, int] = {backend: rank for rank, backend in enumerate(candidates)}
    results.sort(key=lambda m: order.get(m.backend, len(order)))
    passing = [m for m in results if m.passes]
    best = max(passing, key=lambda m: m.texts_per_s) if passing else None
    exact = [m for m in passing if m.backend not in LOSSY]
    if best is not None and best.backend in LOSSY and exact:
        fastest_exact = max(exact, key=lambda m: m.texts_per_s)
        if best.texts_per_s < MIN_LOSSY_GAIN * fastest_exact.texts_per_s:
            best = fastest_exact
    chosen = cast(EncoderBackend, best.backend if best else reference_backend)
    choice = Choice(
        chosen, cpu if cpu is not None else cpu_features(), results, round(time.perf_counter() - started, 1)
    )
    return choice, loaded[chosen]


def candidates_for(features: Sequence[str]) -> list[EncoderBackend]:
    """Without bf16, OpenVINO's default precision is fp32: one candidate, named for what it runs."""
    return [b for b in CANDIDATES if b != "openvino" or has_bf16(features)]


def _key(base: str, features: Sequence[str], threads: int) -> str:
    return f"{base}|{','.join(features)}|threads={threads}"


def cached_choice(settings: Settings, base: str, features: Sequence[str]) -> Choice | None:
    """The choice measured earlier for this model and CPU in this data folder, if any."""
    try:
        entries = json.loads((settings.data_dir / "models" / CHOICE_FILE).read_text())
        entry = entries[_key(base, features, settings.encoder_threads)]
        return Choice(
            entry["backend"],
            list(entry["cpu"]),
            [Measured(**m) for m in entry.get("measured", [])],
            float(entry.get("seconds", 0.0)),
        )
    except (OSError, ValueError, KeyError, TypeError):
        return None


def store_choice(settings: Settings, base: str, choice: Choice) -> None:
    """Record the choice beside the exported models; written whole and renamed, like an export."""
    folder = settings.data_dir / "models"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / CHOICE_FILE
    try:
        entries = json.loads(path.read_text())
    except (OSError, ValueError):
        entries = {}
    entries[_key(base, choice.cpu, settings.encoder_threads)] = asdict(choice)
    fd, tmp = tempfile.mkstemp(prefix=f".{CHOICE_FILE}.", dir=folder)
    with os.fdopen(fd, "w") as out:
        json.dump(entries, out, indent=1)
    os.replace(tmp, path)
