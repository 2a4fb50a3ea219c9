"""The evaluation workflow shared by `recsys evaluate` and the notebook.

Import the files into a data
folder, build an index version unless the current one already covers the catalog, then judge every
method on the articles of the input files (haystack files only add candidates).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from index.build import build_index, centering_wanted
from recsys.articles import Article, read_articles
from recsys.catalog.ingest import import_file
from recsys.catalog.store import Catalog
from recsys.errors import IndexError_, InvalidInput
from recsys.evaluation.baselines import METHOD_NAMES, FullSystem, make_methods
from recsys.evaluation.corpus import EvalCorpus
from recsys.evaluation.report import Evaluation
from recsys.evaluation.runner import DEFAULT_KS, Method, run
from recsys.evaluation.significance import DEFAULT_PERMUTATIONS, DEFAULT_RESAMPLES
from recsys.evaluation.truth import choose_queries, make_truth, read_pairs
from recsys.root import Root
from recsys.serving.query import RelatedQuery
from recsys.serving.recommend import Recommender
from recsys.settings import Settings
from recsys.version.store import LoadedIndex

log = logging.getLogger(__name__)

PAIRS_FILE = "pairs.tsv"


@dataclass
class Prepared:
    root: Root
    catalog: Catalog
    index: LoadedIndex
    recommender: Recommender
    corpus: EvalCorpus
    query_ids: set[str]
    messages: list[str] = field(default_factory=list)
    # The `story` field of the records of every file read (inputs and haystack), by article id: the
    # labels of `--relevance story`. Empty when no record has one.
    stories: dict[str, str] = field(default_factory=dict)


def _ids_in(path: Path) -> set[str]:
    return {result.id for _, result in read_articles(path) if isinstance(result, Article)}


def _stories_in(paths: Sequence[Path]) -> dict[str, str]:
    stories: dict[str, str] = {}
    for path in paths:
        for _, result in read_articles(path):
            if isinstance(result, Article) and isinstance(result.extra.get("story"), str):
                stories[result.id] = result.extra["story"]
    return stories


def find_pairs(inputs: Sequence[Path]) -> Path | None:
    """A graded-pairs file beside an input file (as semeval2022_pairs_train ships one), if any."""
    for path in inputs:
        candidate = path.parent / PAIRS_FILE
        if candidate.is_file():
            return candidate
    return None


def prepare(
    root: Root,
    inputs: Sequence[Path],
    *,
    haystack: Sequence[Path] = (),
    embeddings_from: Sequence[Path] = (),
    progress: bool = False,
    say: Callable[[str], None] = log.info,
) -> Prepared:
    """The root's data folder with the files imported and an index version of them (the current one
    when it already covers them, with this model, recipe and lexical settings)."""
    settings, catalog, encoder = root.settings, root.catalog, root.encoder
    for source in embeddings_from:
        say(f"{source}: {catalog.import_embeddings(source)} cached embeddings imported")
    changed = False
    for path in [*inputs, *haystack]:
        report = import_file(catalog, path, progress=progress)
        changed |= bool(report.counts.inserted or report.counts.updated)
        say(report.summary())
    query_side = root.query_side
    recipe, store = query_side.recipe, query_side.store
    current = store.current_version()
    try:
        manifest = store.read_manifest(current) if current else None
    except IndexError_:  # an older format or a damaged version: build a fresh one
        manifest = None
    stale = (
        changed
        or manifest is None
        or manifest.model != encoder.name
        or manifest.recipe != recipe.id
        or manifest.count != catalog.count("published")
        or _lexical_shape(manifest.data) != _lexical_wanted(settings)
        # vectors centered per language, or not, as RECSYS_LANGUAGE_CENTERING now asks
        or ("centering" in manifest.data) != centering_wanted(settings, encoder.name)
    )
    if stale:
        say(build_index(settings, catalog, encoder, progress=progress).summary())
    recommender = query_side.load()
    loaded = recommender.index
    query_ids: set[str] = set()
    for path in inputs:
        query_ids |= _ids_in(path)
    return Prepared(
        root=root,
        catalog=catalog,
        index=loaded,
        recommender=recommender,
        corpus=EvalCorpus.from_index(catalog, loaded.vectors),
        query_ids=query_ids,
        stories=_stories_in([*inputs, *haystack]),
    )


def _lexical_shape(manifest: dict[str, object]) -> tuple[int, int]:
    """(lists' length, query terms) a version's lexical lists were made with ((0, 0): none)."""
    lexical = manifest.get("lexical")
    if not isinstance(lexical, dict) or not lexical.get("k"):
        return 0, 0
    return int(lexical["k"]), int(lexical.get("query_terms", 0))


def _lexical_wanted(settings: Settings) -> tuple[int, int]:
    k = settings.lexical_neighbours
    return (k, settings.lexical_query_terms) if k else (0, 0)


def with_queries_from(prepared: Prepared, paths: Sequence[Path]) -> Prepared:
    """The same catalog and index, judged on the articles of `paths` instead (e.g. a dated haystack
    corpus with its own curated links, for the time-prior sweep)."""
    judged: set[str] = set()
    for path in paths:
        judged |= _ids_in(path)
    return replace(prepared, query_ids=judged, messages=[])


def evaluate_prepared(
    prepared: Prepared,
    *,
    methods: Sequence[str] = METHOD_NAMES,
    relevance: str = "auto",
    tag_prefix: str = "",
    pairs: Path | None = None,
    ks: Sequence[int] = DEFAULT_KS,
    sample: int | None = 1000,
    seed: int = 0,
    dup_threshold: float = 0.9,
    copies_as_distinct: bool = False,
    variants: Sequence[Method] = (),
    reference: str = "system",
    resamples: int = DEFAULT_RESAMPLES,
    permutations: int = DEFAULT_PERMUTATIONS,
) -> Evaluation:
    """Judge `methods` (names, see recsys/evaluation/baselines.py) and any `variants` (methods built by the
    caller, e.g. `system_variant`) on the same queries, with intervals and the significance of
    `reference` (a method's name: in a knob sweep, the variant with the default setting) against
    each other method."""
    graded = read_pairs(pairs) if pairs else None
    truth = make_truth(
        prepared.corpus, relevance, tag_prefix=tag_prefix, graded=graded, stories=prepared.stories
    )
    queries = choose_queries(truth, prepared.query_ids, sample=sample, seed=seed)
    chosen = make_methods(methods, prepared.corpus, prepared.recommender, seed=seed) if methods else []
    evaluation = run(
        prepared.corpus,
        [*chosen, *variants],
        truth,
        queries,
        ks=ks,
        dup_threshold=dup_threshold,
        copies_as_distinct=copies_as_distinct,
        graded=graded,
        reference=reference,
        resamples=resamples,
        permutations=permutations,
        seed=seed,
    )
    evaluation.notes.update(
        {
            "index_version": prepared.index.version,
            "model": prepared.index.manifest.model,
            "recipe": prepared.index.manifest.recipe,
            "pairs_file": str(pairs) if pairs else None,
            "sample": sample,
            "seed": seed,
        }
    )
    return evaluation


def system_variant(
    prepared: Prepared,
    name: str,
    settings: Settings,
    *,
    query: RelatedQuery | None = None,
    **overrides: Any,
) -> Method:
    """The full system with other ranking settings (`overrides` of Settings fields, e.g.
    `mmr_lambda=0.5`, `dup_cosine=0.95`) and/or other request parameters (`query`, e.g.
    `RelatedQuery(freshness=True, half_life_days=30)`), over the same catalog and index version: one
    run of a knob sweep, built through the same composition root as the service."""
    unknown = sorted(set(overrides) - set(Settings.model_fields))
    if unknown:
        raise InvalidInput(f"no setting named {', '.join(unknown)}")
    # Built anew (not model_copy) so that an override is validated like a RECSYS_* value would be.
    changed = Settings(**{**settings.model_dump(), **overrides})
    recommender = prepared.root.with_settings(changed).query_side.recommender(prepared.index)
    return FullSystem(recommender, query=query, name=name)
