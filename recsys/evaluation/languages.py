"""Same-story retrieval per language: per query language and per language pair.

A multilingual catalog can look good overall and fail a whole language, or every story told across
two languages. This module splits what an evaluation measured:

* **per query language**: the queries grouped by the language of the article (the primary subtag,
  lower case, "" for none: recsys/language.py), each query's values exactly as in the overall
  table;
* **per language pair**: a unit is a query and one language of its relevant items ("de" query, its
  "en" partners). The query's list is judged against the partners in that language only: recall@k
  is the share of them in the top k, nDCG uses their gains alone, and relevant items of the query's
  other languages earn nothing, as any other item. A pair is unordered ("de-en" holds de queries with
  en partners and en queries with de partners) and named as the pairs file names it
  (semeval's pairs.tsv lang1-lang2), else in alphabetical order. Two summary groups come first:
  `same-language` (the units whose partners share the query's language) and `cross-language`
  (the others).

A method with lists in the other languages (`FullSystem` with `elsewhere`: the list a page linking an
article's other editions asks for) is judged on that list for the query's cross-language units and
on its own list for the rest, as a page showing both blocks is read; a group `every unit` then comes
first, all units alike.

Each group with at least `MIN_GROUP_QUERIES` units gets the same paired analysis as the whole run
(recsys/evaluation/significance.py): bootstrap intervals and the reference method against each other
method, Holm-corrected within the group and metric; smaller groups get their means only. A query
with partners in two other languages is two units of `cross-language`: its units are resampled
independently there, which makes that group's intervals slightly narrow.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from recsys.catalog.store import StoredArticle
from recsys.evaluation.copies import Copies
from recsys.evaluation.corpus import EvalCorpus
from recsys.evaluation.metrics import ndcg
from recsys.evaluation.report import MethodResult, round_or_none
from recsys.evaluation.significance import Significance, analyse
from recsys.evaluation.truth import Truth
from recsys.language import primary

MIN_GROUP_QUERIES = 20
SAME_LANGUAGE = "same-language"
CROSS_LANGUAGE = "cross-language"
EVERY_UNIT = "every unit"
QUERY_LANGUAGE = "query language"
Table = dict[str, dict[str, np.ndarray]]  # method -> metric -> one value per unit
LANGUAGE_PAIR = "language pair"


def language_of(stored: StoredArticle) -> str:
    """The grouping code of an article: its primary language subtag, lower case; "" for none."""
    tag = stored.article.language
    return primary(tag).lower() if tag else ""


def pair_label(one: str, other: str, named: Mapping[frozenset[str], str] | None = None) -> str:
    """An unordered language pair's name: as `named` (a pairs file's lang1-lang2) has it, else sorted."""
    if named and (label := named.get(frozenset((one, other)))):
        return label
    first, second = sorted((one or "?", other or "?"))
    return f"{first}-{second}"


@dataclass
class LanguageGroup:
    """One group of queries (or query x partner-language units): each method's means, and the
    analysis when the group is large enough."""

    kind: str  # QUERY_LANGUAGE or LANGUAGE_PAIR
    name: str
    units: int
    means: dict[str, dict[str, float | None]]  # method -> metric -> mean
    significance: Significance | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "name": self.name,
            "units": self.units,
            "means": {m: {k: round_or_none(v) for k, v in row.items()} for m, row in self.means.items()},
            "significance": self.significance.as_dict() if self.significance else None,
        }

    def verdict(self, metric: str, method: str) -> str:
        """ "+" / "-" where the reference is significantly better / worse than `method`, else ""."""
        if self.significance is None:
            return ""
        for c in self.significance.comparisons:
            if c.metric == metric and c.baseline == method and c.significant:
                return "+" if c.difference.mean > 0 else "-"
        return ""


@dataclass
class LanguageReport:
    metrics: list[str]
    minimum: int
    reference: str | None
    groups: list[LanguageGroup]

    def as_dict(self) -> dict[str, Any]:
        return {
            "metrics": self.metrics,
            "minimum_units_for_significance": self.minimum,
            "reference": self.reference,
            "units": {
                QUERY_LANGUAGE: "queries, by the article's language",
                LANGUAGE_PAIR: "(query, language of its relevant items): judged on those items alone",
            },
            "groups": [g.as_dict() for g in self.groups],
        }

    def format_lines(self, methods: Sequence[str]) -> list[str]:
        """One table per kind of group and metric: each method's mean, marked + / - where the
        reference is significantly better / worse than that method in that group."""
        width = max(9, *(len(m) + 1 for m in methods))
        lines = [
            "",
            f"per language (units: queries by their language; language pairs: a query and the language "
            f"of its relevant items, judged on those alone); + / - = {self.reference} significantly "
            f"better / worse than that method (paired test, Holm across methods) in groups of at least "
            f"{self.minimum} units; groups below that: means only",
        ]
        for kind in (QUERY_LANGUAGE, LANGUAGE_PAIR):
            groups = [g for g in self.groups if g.kind == kind]
            if not groups:
                continue
            names = max(8, *(len(g.name) for g in groups))
            for metric in self.metrics:
                lines += [
                    "",
                    f"{metric + ' by ' + kind:<{names}} {'n':>5} "
                    + " ".join(f"{m:>{width}}" for m in methods),
                ]
                for g in groups:
                    cells = []
                    for m in methods:
                        value = g.means.get(m, {}).get(metric)
                        text = "-" if value is None else f"{value:.3f}{g.verdict(metric, m)}"
                        cells.append(f"{text:>{width}}")
                    lines.append(f"{g.name or '(none)':<{names}} {g.units:>5} " + " ".join(cells))
        return lines


def by_language(
    corpus: EvalCorpus,
    truth: Truth,
    results: Sequence[MethodResult],
    query_ids: Sequence[str],
    *,
    metrics: Sequence[str],
    copies: Copies,
    named_pairs: Mapping[frozenset[str], str] | None = None,
    reference: str = "system",
    resamples: int,
    permutations: int,
    seed: int,
    minimum: int = MIN_GROUP_QUERIES,
) -> LanguageReport | None:
    """The per-language groups of a run (None when its queries and their relevant items are all of
    one language: the overall table says it all)."""
    language = {a.id: language_of(a) for a in corpus.articles}
    query_language = [language[q] for q in query_ids]
    units: list[_Unit] = []
    own: list[str] = []  # the language of each unit's query
    for query_id, code in zip(query_ids, query_language, strict=True):
        judged = truth.gains(query_id)
        relevant: dict[str, int] = {}
        for c in judged:
            if c in language and truth.is_relevant(query_id, c):
                relevant[language[c]] = relevant.get(language[c], 0) + 1
        for other in sorted(relevant):
            ideal = sorted((g for c, g in judged.items() if language.get(c) == other), reverse=True)
            units.append(_Unit(query_id, other, relevant[other], tuple(ideal)))
            own.append(code)
    if len(set(query_language) | {u.language for u in units}) < 2:
        return None
    pair_rows = {
        r.name: _pair_rows(r, truth, units, language, metrics=metrics, copies=copies) for r in results
    }

    def group(kind: str, name: str, rows: Mapping[str, Mapping[str, np.ndarray]]) -> LanguageGroup:
        count = len(next(iter(next(iter(rows.values())).values()))) if rows else 0
        means = {
            method: {m: _mean(values[m]) for m in metrics if m in values} for method, values in rows.items()
        }
        significance = None
        if count >= minimum:
            significance = analyse(
                rows,
                metrics=metrics,
                compared=metrics,
                reference=reference,
                resamples=resamples,
                permutations=permutations,
                seed=seed,
            )
        return LanguageGroup(kind, name, count, means, significance)

    def select(
        table: Mapping[str, Mapping[str, np.ndarray]], keep: np.ndarray
    ) -> dict[str, dict[str, np.ndarray]]:
        return {
            method: {m: values[m][keep] for m in metrics if m in values} for method, values in table.items()
        }

    query_rows = {r.name: r.per_query for r in results}
    groups: list[LanguageGroup] = []
    codes = np.array(query_language, dtype=object)
    for code in sorted(set(query_language), key=lambda c: (-query_language.count(c), c)):
        groups.append(group(QUERY_LANGUAGE, code, select(query_rows, codes == code)))
    pairs = list(zip(own, units, strict=True))
    labels = np.array([pair_label(q, u.language, named_pairs) for q, u in pairs], dtype=object)
    same = np.array([q == u.language for q, u in pairs], dtype=bool)
    if any(r.elsewhere for r in results):
        groups.append(group(LANGUAGE_PAIR, EVERY_UNIT, select(pair_rows, np.ones(len(pairs), dtype=bool))))
    for name, keep in ((SAME_LANGUAGE, same), (CROSS_LANGUAGE, ~same)):
        if keep.any():
            groups.append(group(LANGUAGE_PAIR, name, select(pair_rows, keep)))
    ordered = sorted(set(labels.tolist()), key=lambda n: (-int((labels == n).sum()), n))
    for label in ordered:
        groups.append(group(LANGUAGE_PAIR, label, select(pair_rows, labels == label)))
    return LanguageReport(list(metrics), minimum, reference if reference in pair_rows else None, groups)


def _mean(values: np.ndarray) -> float | None:
    present = values[~np.isnan(values)]
    return float(present.mean()) if len(present) else None


@dataclass(frozen=True)
class _Unit:
    """A query and one language of its relevant items: how many there are, and the best gains
    possible from that language (nDCG's ideal)."""

    query_id: str
    language: str
    relevant: int
    ideal: tuple[float, ...]


def _pair_rows(
    result: MethodResult,
    truth: Truth,
    units: Sequence[_Unit],
    language: Mapping[str, str],
    *,
    metrics: Sequence[str],
    copies: Copies,
) -> dict[str, np.ndarray]:
    """Each metric of `result`'s lists, one value per unit."""
    rows: dict[str, list[float]] = {m: [] for m in metrics}
    for unit in units:

        def gain(candidate: str, unit: _Unit = unit) -> float:
            return truth.gain(unit.query_id, candidate) if language.get(candidate) == unit.language else 0.0

        listed = result.lists.get(unit.query_id, [])
        if unit.language != language.get(unit.query_id) and unit.query_id in result.elsewhere:
            listed = result.elsewhere[unit.query_id]  # the list a page asks for the other editions
        credited = copies.credited(listed, gain)
        gains = [0.0 if c is None else gain(c) for c in credited]
        hits = [
            c is not None and language.get(c) == unit.language and truth.is_relevant(unit.query_id, c)
            for c in credited
        ]
        for metric in metrics:
            kind, k = metric.split("@")
            cut = int(k)
            if kind == "R":
                rows[metric].append(sum(hits[:cut]) / unit.relevant)
            else:
                rows[metric].append(ndcg(gains[:cut], unit.ideal[:cut]))
    return {m: np.asarray(v, dtype=np.float64) for m, v in rows.items()}
