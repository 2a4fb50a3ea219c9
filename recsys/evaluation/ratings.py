"""Rated pairs: does a method's score for two articles follow the annotators' rating?

semeval's pairs.tsv rates pairs of articles 1 (same story) .. 4 (unrelated). Every method that can
score a pair (a `PairScorer`: `dense` by the cosine of the two vectors, `bm25` by its normalised
lexical score, `system` by the relevance its ranking starts from; recsys/evaluation/baselines.py says
how each is computed) is correlated with the negated rating, so a higher score for a closer pair
counts as positive:

* Pearson and Spearman (ties get averaged ranks) over every pair whose two articles are indexed, and
  per language pair (the file's lang1-lang2 columns, else the articles' languages) with at least
  `MIN_RATED_PAIRS` pairs, plus the `same-language` and `cross-language` pairs as groups;
* a 95% percentile bootstrap interval of each correlation: the pairs are drawn with replacement
  `resamples` times, one set of draws for every method of a group, so the intervals are paired;
* a paired bootstrap test of the reference method against each other one: on the same draws, the
  difference of their correlations; p = twice the share of draws on the far side of 0 (with the
  usual +1 so it is never 0), Holm-corrected across the other methods per group and statistic.

Every method is scored on the same pairs: those whose articles every method can score.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np
from scipy.stats import rankdata

from recsys.errors import InvalidInput
from recsys.evaluation.significance import CONFIDENCE, Comparison, Interval, holm

MIN_RATED_PAIRS = 20
STATISTICS: tuple[str, ...] = ("pearson", "spearman")
_LANGUAGE_COLUMNS = ("lang1", "lang2")


@dataclass(frozen=True)
class RatedPair:
    """Two articles and their rating, 1 = same story .. 4 = unrelated; the languages when the file
    names them (primary subtags, lower case)."""

    id1: str
    id2: str
    rating: float
    lang1: str | None = None
    lang2: str | None = None


def read_rated_pairs(path: Path) -> list[RatedPair]:
    """A TSV of rated pairs with a header: id1, id2, then either the rating (semeval2022_pairs_train)
    or lang1, lang2 and the rating (`overall`, semeval2022_multilingual_train). The rating is the
    column named `overall*` or `rating*`, else the third."""
    if not path.is_file():
        raise InvalidInput(f"{path}: no such pairs file")
    pairs: list[RatedPair] = []
    with open(path, encoding="utf-8", newline="") as handle:
        rows = csv.reader(handle, delimiter="\t")
        header = [h.strip().lower() for h in next(rows, [])]
        rated = next((i for i, h in enumerate(header) if h.startswith(("overall", "rating"))), 2)
        languages = (
            tuple(header.index(c) for c in _LANGUAGE_COLUMNS)
            if all(c in header for c in _LANGUAGE_COLUMNS)
            else None
        )
        for number, row in enumerate(rows, start=2):
            if not row or not "".join(row).strip():
                continue
            try:
                rating = float(row[rated])
            except (IndexError, ValueError) as exc:
                raise InvalidInput(f"{path}:{number}: expected id1, id2 and a numeric rating") from exc
            if not 1.0 <= rating <= 4.0:
                raise InvalidInput(f"{path}:{number}: rating {rating} is outside 1..4")
            lang1, lang2 = (_code(row[languages[0]]), _code(row[languages[1]])) if languages else (None, None)
            pairs.append(RatedPair(row[0].strip(), row[1].strip(), rating, lang1, lang2))
    return pairs


def _code(text: str) -> str:
    return text.strip().split("-", 1)[0].lower()


def named_pairs(pairs: Sequence[RatedPair]) -> dict[frozenset[str], str]:
    """How the file names each language pair (lang1-lang2 of its first pair of those languages)."""
    named: dict[frozenset[str], str] = {}
    for p in pairs:
        if p.lang1 is not None and p.lang2 is not None:
            named.setdefault(frozenset((p.lang1, p.lang2)), f"{p.lang1}-{p.lang2}")
    return named


@runtime_checkable
class PairScorer(Protocol):
    """A method that scores two articles (higher = more related), by article id; NaN where it cannot."""

    @property
    def name(self) -> str: ...

    @property
    def pair_score(self) -> str:
        """What the score is, in a few words (for the report)."""
        ...

    def score(self, first: str, second: str) -> float: ...


@dataclass
class RatingGroup:
    name: str
    pairs: int
    correlations: dict[str, dict[str, Interval]]  # method -> statistic -> interval
    # The reference against each other method (Comparison's metric: the statistic).
    comparisons: list[Comparison] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "pairs": self.pairs,
            "methods": {
                m: {s: i.as_dict() for s, i in by_statistic.items()}
                for m, by_statistic in self.correlations.items()
            },
            "comparisons": [c.as_dict() for c in self.comparisons],
        }


@dataclass
class RatingReport:
    """The correlations of every scoring method, overall and per language pair."""

    methods: list[str]
    pairs_in_file: int
    groups: list[RatingGroup]
    reference: str | None
    resamples: int
    seed: int
    minimum: int = MIN_RATED_PAIRS
    scores: dict[str, str] = field(default_factory=dict)  # method -> what its pair score is
    confidence: float = CONFIDENCE

    def group(self, name: str) -> RatingGroup:
        for g in self.groups:
            if g.name == name:
                return g
        raise InvalidInput(f"no rated-pair group {name!r}")

    def as_dict(self) -> dict[str, Any]:
        return {
            "method": (
                f"Pearson and Spearman of each method's pair score against the negated rating; "
                f"{self.confidence:.0%} percentile bootstrap intervals ({self.resamples} resamples of the "
                f"pairs, seed {self.seed}); paired bootstrap test of {self.reference} against each other "
                f"method, Holm-corrected per group and statistic; language pairs with at least "
                f"{self.minimum} pairs"
            ),
            "pairs_in_file": self.pairs_in_file,
            "reference": self.reference,
            "scores": self.scores,
            "groups": {g.name: g.as_dict() for g in self.groups},
        }

    def format_lines(self, methods: Sequence[str] = ()) -> list[str]:
        """The table: both correlations of each method (`methods` is the report's order; the
        methods that score no pair are not in it)."""
        shown = [m for m in methods if m in self.methods] or self.methods
        width = max(16, *(len(m) + 1 for m in shown))
        names = max(14, *(len(g.name) for g in self.groups))
        lines = [
            "",
            f"score vs human rating (Pearson / Spearman against the negated rating, 1 = same story .. "
            f"4 = unrelated; {self.confidence:.0%} bootstrap intervals in the JSON) over "
            f"{self.groups[0].pairs} of the {self.pairs_in_file} rated pairs; language pairs with at "
            f"least {self.minimum}; + / - = {self.reference} significantly higher / lower than that "
            f"method (paired bootstrap, Holm)",
            f"{'pairs':<{names}} {'n':>5} " + " ".join(f"{m:>{width}}" for m in shown),
        ]
        for g in self.groups:
            cells = []
            for m in shown:
                parts = []
                for statistic in STATISTICS:
                    value = g.correlations[m][statistic].mean
                    mark = ""
                    for c in g.comparisons:
                        if c.baseline == m and c.metric == statistic and c.significant:
                            mark = "+" if c.difference.mean > 0 else "-"
                    parts.append("-" if math.isnan(value) else f"{value:.3f}{mark}")
                cells.append(f"{' / '.join(parts):>{width}}")
            lines.append(f"{g.name:<{names}} {g.pairs:>5} " + " ".join(cells))
        for method, text in self.scores.items():
            lines.append(f"  {method}: {text}")
        return lines


def pearson_rows(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Pearson of each row of `x` with the same row of `y` (NaN where either is constant)."""
    xc = x - x.mean(axis=-1, keepdims=True)
    yc = y - y.mean(axis=-1, keepdims=True)
    numerator = (xc * yc).sum(axis=-1)
    denominator = np.sqrt((xc * xc).sum(axis=-1) * (yc * yc).sum(axis=-1))
    # A constant row has a denominator of (nearly) 0: no correlation is defined there.
    defined = denominator > 1e-12 * np.maximum(1.0, np.abs(numerator))
    return np.divide(numerator, denominator, out=np.full(numerator.shape, np.nan), where=defined)


def spearman_rows(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Spearman of each row pair: Pearson of their ranks, ties averaged."""
    return pearson_rows(rankdata(x, axis=-1), rankdata(y, axis=-1))


_STATISTIC = {"pearson": pearson_rows, "spearman": spearman_rows}


def correlate(
    scorers: Sequence[PairScorer],
    pairs: Sequence[RatedPair],
    languages: Mapping[str, str],
    *,
    reference: str = "system",
    resamples: int = 2000,
    seed: int = 0,
    minimum: int = MIN_RATED_PAIRS,
    scores: Mapping[str, str] | None = None,
) -> RatingReport | None:
    """The correlations of every scorer over `pairs` (those every scorer can score), overall and per
    language pair; `languages`: article id -> language code, for pairs whose file has no languages.
    None when no pair can be scored."""
    if not scorers:
        return None
    table = np.array([[s.score(p.id1, p.id2) for s in scorers] for p in pairs], dtype=np.float64)
    table = table.reshape(len(pairs), len(scorers))
    usable = np.logical_not(np.isnan(table).any(axis=1))
    kept = [p for p, ok in zip(pairs, usable.tolist(), strict=True) if ok]
    if not kept:
        return None
    values = table[usable]
    human = -np.array([p.rating for p in kept], dtype=np.float64)
    named = named_pairs(pairs)
    labels, same = [], []
    for p in kept:
        one = p.lang1 if p.lang1 is not None else languages.get(p.id1, "")
        other = p.lang2 if p.lang2 is not None else languages.get(p.id2, "")
        labels.append(named.get(frozenset((one, other))) or "-".join(sorted((one or "?", other or "?"))))
        same.append(one == other)
    label_array = np.array(labels, dtype=object)
    same_array = np.array(same, dtype=bool)
    selections: list[tuple[str, np.ndarray]] = [("all", np.ones(len(kept), dtype=bool))]
    if len(set(labels)) > 1:
        selections += [("same-language", same_array), ("cross-language", ~same_array)]
        counted = sorted(set(labels), key=lambda n: (-int((label_array == n).sum()), n))
        selections += [(n, label_array == n) for n in counted]
    names = [s.name for s in scorers]
    groups = [
        _group(name, values[keep], human[keep], names, reference, resamples, seed, number)
        for number, (name, keep) in enumerate(selections)
        if int(keep.sum()) >= (2 if name == "all" else minimum)
    ]
    return RatingReport(
        methods=names,
        pairs_in_file=len(pairs),
        groups=groups,
        reference=reference if reference in names else None,
        resamples=resamples,
        seed=seed,
        minimum=minimum,
        scores=dict(scores or {}),
    )


def _group(
    name: str,
    values: np.ndarray,
    human: np.ndarray,
    methods: Sequence[str],
    reference: str,
    resamples: int,
    seed: int,
    number: int,
) -> RatingGroup:
    """One group's correlations with intervals, and the reference against each other method."""
    count = len(human)
    draws = np.random.default_rng([seed % 2**32, number]).integers(0, count, size=(resamples, count))
    resampled_human = human[draws]
    tail = (1.0 - CONFIDENCE) / 2.0 * 100.0
    observed: dict[str, dict[str, float]] = {}
    boot: dict[str, dict[str, np.ndarray]] = {}
    correlations: dict[str, dict[str, Interval]] = {}
    for column, method in enumerate(methods):
        observed[method], boot[method], correlations[method] = {}, {}, {}
        for statistic, function in _STATISTIC.items():
            point = float(function(values[:, column], human))
            spread = function(values[:, column][draws], resampled_human)
            observed[method][statistic], boot[method][statistic] = point, spread
            correlations[method][statistic] = _interval(point, spread, tail)
    comparisons: list[Comparison] = []
    others = [m for m in methods if m != reference]
    if reference in methods and others:
        for statistic in STATISTICS:
            best = max(
                others, key=lambda m: -np.inf if np.isnan(observed[m][statistic]) else observed[m][statistic]
            )
            rows = []
            for other in others:
                point = observed[reference][statistic] - observed[other][statistic]
                spread = boot[reference][statistic] - boot[other][statistic]
                rows.append((other, _interval(point, spread, tail), _bootstrap_p(spread)))
            adjusted = holm([p for _, _, p in rows])
            comparisons += [
                Comparison(statistic, other, interval, p, p_adj, other == best)
                for (other, interval, p), p_adj in zip(rows, adjusted, strict=True)
            ]
    return RatingGroup(name, count, correlations, comparisons)


def _interval(point: float, spread: np.ndarray, tail: float) -> Interval:
    present = spread[~np.isnan(spread)]
    if math.isnan(point) or not len(present):
        return Interval(point, float("nan"), float("nan"))
    low, high = np.percentile(present, [tail, 100.0 - tail])
    return Interval(point, float(low), float(high))


def _bootstrap_p(differences: np.ndarray) -> float:
    """Two-sided p of a paired bootstrap test of a difference of 0: twice the smaller share of draws
    at or beyond 0 on either side, (1 + count) / (1 + draws) so it is never 0."""
    present = differences[~np.isnan(differences)]
    if not len(present):
        return 1.0
    beyond = min(int((present <= 0).sum()), int((present >= 0).sum()))
    return min(1.0, 2.0 * (1 + beyond) / (1 + len(present)))
