"""The evaluation workflow shared by `recsys evaluate` and the notebook.

Import the files into a data
folder, build an index version unless the current one already covers the catalog, then judge every
method on the articles of the input files (haystack files only add candidates).

Another model joins the same run (`recsys evaluate --also-model NAME`) through a data folder of its
own under the first one's (`also/<name>`: same files, same settings but the model), whose `dense`
and `system` are judged as `dense[NAME]` and `system[NAME]` on the same queries, so that their
comparisons with every other method are paired.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from index.build import build_index, centering_wanted
from recsys.articles import Article, read_articles
from recsys.catalog.ingest import import_file
from recsys.catalog.store import Catalog
from recsys.errors import IndexError_, InvalidInput
from recsys.evaluation.baselines import METHOD_NAMES, DenseNeighbours, FullSystem, make_methods
from recsys.evaluation.corpus import EvalCorpus
from recsys.evaluation.languages import language_of
from recsys.evaluation.ratings import read_rated_pairs
from recsys.evaluation.report import Evaluation
from recsys.evaluation.runner import DEFAULT_KS, Method, run
from recsys.evaluation.significance import DEFAULT_PERMUTATIONS, DEFAULT_RESAMPLES
from recsys.evaluation.truth import choose_queries, make_truth
from recsys.root import Root
from recsys.serving.query import RelatedQuery
from recsys.serving.recommend import Recommender
from recsys.settings import Settings
from recsys.version.entities import EXTRACTION
from recsys.version.store import LoadedIndex

log = logging.getLogger(__name__)

PAIRS_FILE = "pairs.tsv"
ALSO_FOLDER = "also"


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
        # built before the names of recsys/version/entities.py, or with another extraction of them
        or (manifest.data.get("entities") or {}).get("extraction") != EXTRACTION
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


def also_folder(data_dir: Path, model: str) -> Path:
    """Where `--also-model model` keeps its catalog and index: a sub-folder of the data folder named
    after the model (a local folder: its last part)."""
    name = re.sub(r"[^A-Za-z0-9._-]+", "-", Path(model.rstrip("/\\")).name or model).strip("-.")
    return data_dir / ALSO_FOLDER / (name or "model")


def prepare_also(
    prepared: Prepared,
    model: str,
    inputs: Sequence[Path],
    *,
    haystack: Sequence[Path] = (),
    progress: bool = False,
    say: Callable[[str], None] = log.info,
) -> Prepared:
    """The same files in a data folder of their own (`also_folder`), indexed with `model` and
    otherwise the settings of `prepared`: a second model for the same evaluation."""
    settings = prepared.root.settings
    folder = also_folder(settings.data_dir, model)
    # Its own SQLite catalog and version folder under `folder` whatever the first one uses (a shared
    # PostgreSQL catalog or object store would mix the two models' articles and versions).
    fields = {**settings.model_dump(), "data_dir": folder, "model": model}
    fields |= {"catalog_url": "", "catalog_path": None, "index_dir": None, "versions_url": ""}
    also = prepare(Root(Settings(**fields)), inputs, haystack=haystack, progress=progress, say=say)
    missing = [q for q in sorted(prepared.query_ids) if q not in also.corpus.row_of]
    if missing:
        raise InvalidInput(
            f"--also-model {model}: {len(missing)} judged article(s) are not in its index ({missing[0]}, ...)"
        )
    return also


def also_methods(
    also: Mapping[str, Prepared], system_query: RelatedQuery | None = None, elsewhere: Sequence[str] = ()
) -> list[Method]:
    """`dense[NAME]` and `system[NAME]` of each other model's index (`system_query`, `elsewhere`: as
    for `system`)."""
    methods: list[Method] = []
    for model, prepared in also.items():
        methods.append(DenseNeighbours(prepared.corpus, prepared.index.vectors, name=f"dense[{model}]"))
        methods.append(
            FullSystem(prepared.recommender, query=system_query, name=f"system[{model}]", elsewhere=elsewhere)
        )
    return methods


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
    also: Mapping[str, Prepared] | None = None,
    cross_language: bool = False,
    other_languages: bool = False,
) -> Evaluation:
    """Judge `methods` (names, see recsys/evaluation/baselines.py), the `dense` and `system` of each
    other model in `also` (model name -> `prepare_also`) and any `variants` (methods built by the
    caller, e.g. `system_variant`) on the same queries, with intervals and the significance of
    `reference` (a method's name: in a knob sweep, the variant with the default setting) against
    each other method, overall, per language and on the rated pairs. `cross_language`: `system` lists
    hold every language, as a page asking `cross_language=true` gets (by default, the article's own
    language only). `other_languages`: `system` is also asked for each article's list in the other
    languages of the catalog (a page linking its other editions), and the per-language report judges
    cross-language units on that list (recsys/evaluation/languages.py)."""
    rated = read_rated_pairs(pairs) if pairs else []
    graded = {(p.id1, p.id2): 4.0 - p.rating for p in rated} or None
    truth = make_truth(
        prepared.corpus, relevance, tag_prefix=tag_prefix, graded=graded, stories=prepared.stories
    )
    queries = choose_queries(truth, prepared.query_ids, sample=sample, seed=seed)
    system_query = RelatedQuery(cross_language=True) if cross_language else None
    elsewhere = sorted({language_of(a) for a in prepared.corpus.articles} - {""}) if other_languages else []
    chosen = (
        make_methods(
            methods,
            prepared.corpus,
            prepared.recommender,
            seed=seed,
            system_query=system_query,
            elsewhere=elsewhere,
        )
        if methods
        else []
    )
    evaluation = run(
        prepared.corpus,
        [*chosen, *also_methods(also or {}, system_query, elsewhere), *variants],
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
        rated=rated,
    )
    evaluation.notes.update(
        {
            "index_version": prepared.index.version,
            "model": prepared.index.manifest.model,
            "recipe": prepared.index.manifest.recipe,
            "pairs_file": str(pairs) if pairs else None,
            "sample": sample,
            "seed": seed,
            "system_languages": "every language (cross_language)" if cross_language else "the article's own",
            "system_elsewhere": (
                "cross-language units judged on each article's list in the other languages"
                if elsewhere
                else None
            ),
        }
    )
    if also:
        evaluation.notes["also_models"] = {
            model: {"data_dir": str(p.root.settings.data_dir), "index_version": p.index.version}
            for model, p in also.items()
        }
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
