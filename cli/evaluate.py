"""`recsys evaluate`: the system's and the baselines' lists judged against links or a proxy.

The lists are judged against curated links or
a proxy (the workflow is index/evaluation.py's, shared with the notebook)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Annotated

import typer

from cli.common import DataDir, Model, configure_logging, make_settings
from recsys.errors import InvalidInput
from recsys.root import Root


def _parse_ks(text: str) -> list[int]:
    try:
        ks = sorted({int(part) for part in text.split(",") if part.strip()})
    except ValueError as exc:
        raise InvalidInput(f"--k expects comma-separated integers, got {text!r}") from exc
    if not ks or ks[0] < 1 or ks[-1] > 100:
        raise InvalidInput(f"--k values must be between 1 and 100, got {text!r}")
    return ks


def evaluate(
    inputs: Annotated[
        list[Path], typer.Option("--input", "-i", help="article file(s) whose articles are judged")
    ],
    haystack: Annotated[
        list[Path] | None,
        typer.Option(help="more article files, only added as candidates (a haystack to search in)"),
    ] = None,
    baselines: Annotated[
        str, typer.Option(help="comma-separated methods: random,recent,bm25,dense,hybrid,system")
    ] = "random,recent,bm25,dense,hybrid,system",
    k: Annotated[str, typer.Option("--k", help="cut-offs, comma-separated")] = "1,3,5,10",
    relevance: Annotated[
        str,
        typer.Option(
            help="auto|related|section|tags|story|long-story: what counts as relevant (auto: curated "
            "links; story: the same `story` field of the input records, e.g. wcep2025; long-story: the "
            "same story more than 60 days away, in stories spanning more than 120 days)"
        ),
    ] = "auto",
    tag_prefix: Annotated[str, typer.Option(help="with --relevance tags: only tags with this prefix")] = "",
    pairs: Annotated[
        Path | None, typer.Option(help="graded pairs TSV (default: pairs.tsv beside the input, if any)")
    ] = None,
    sample: Annotated[int, typer.Option(min=1, help="judge at most this many articles (seeded)")] = 1000,
    seed: Annotated[
        int, typer.Option(help="seed for the sample, the random baseline and the significance tests")
    ] = 0,
    resamples: Annotated[
        int,
        typer.Option(min=100, max=100_000, help="bootstrap resamples of the queries for the 95% intervals"),
    ] = 2000,
    permutations: Annotated[
        int,
        typer.Option(min=100, max=1_000_000, help="sign flips of the paired randomisation test (p-values)"),
    ] = 10_000,
    dup_threshold: Annotated[
        float, typer.Option(min=0.0, max=1.0, help="cosine at or above which two items are near-duplicates")
    ] = 0.9,
    copies_as_distinct: Annotated[
        bool,
        typer.Option(
            "--copies-as-distinct",
            help="score identical copies (same title and body under other ids) as distinct articles",
        ),
    ] = False,
    embeddings_from: Annotated[
        list[Path] | None,
        typer.Option(help="catalog file(s) whose embedding cache to reuse (read-only)"),
    ] = None,
    also_model: Annotated[
        list[str] | None,
        typer.Option(
            "--also-model",
            help="another model (name or local folder; repeatable) indexed in DATA_DIR/also/<name> from "
            "the same files and settings; its lists join the run as dense[NAME] and system[NAME]",
        ),
    ] = None,
    cross_language: Annotated[
        bool,
        typer.Option(
            "--cross-language",
            help="judge system's lists with cross_language=true (every language; default: the article's own)",
        ),
    ] = False,
    other_languages: Annotated[
        bool,
        typer.Option(
            "--other-languages",
            help="also ask system for each article's list in the catalog's other languages (language= each; "
            "a page linking its other editions) and judge cross-language units on it",
        ),
    ] = False,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="write the results as JSON")] = None,
    data_dir: DataDir = None,
    model: Model = None,
    progress: Annotated[bool, typer.Option(help="show progress bars")] = False,
) -> None:
    """Judge the related lists of the system and of baselines against curated links or a proxy.

    Imports the files into the data folder, builds an index unless the current one already covers
    the catalog, prints a table of means, their 95% bootstrap intervals and whether `system` differs
    significantly from each baseline (paired randomisation test, Holm-corrected), the same per query
    language and language pair, each method's correlation with rated pairs (pairs.tsv), and optionally
    writes all of it, per-query values included, as JSON.
    """
    from index.evaluation import evaluate_prepared, find_pairs, prepare, prepare_also
    from recsys.evaluation.baselines import parse_method_names
    from recsys.evaluation.report import format_table

    settings = make_settings(data_dir=data_dir, model=model, log_level="warning")
    configure_logging(settings.log_level)
    methods = parse_method_names(baselines)
    ks = _parse_ks(k)
    for path in [*inputs, *(haystack or []), *(embeddings_from or [])]:
        if not path.is_file():
            raise InvalidInput(f"{path}: no such file")
    pairs = pairs or find_pairs(inputs)

    def say(line: str) -> None:
        typer.echo(line, err=True)

    prepared = prepare(
        Root(settings),
        inputs,
        haystack=haystack or [],
        embeddings_from=embeddings_from or [],
        progress=progress,
        say=say,
    )
    also = {
        name: prepare_also(prepared, name, inputs, haystack=haystack or [], progress=progress, say=say)
        for name in dict.fromkeys(also_model or [])
    }
    result = evaluate_prepared(
        prepared,
        methods=methods,
        relevance=relevance,
        tag_prefix=tag_prefix,
        pairs=pairs,
        ks=ks,
        sample=sample,
        seed=seed,
        dup_threshold=dup_threshold,
        copies_as_distinct=copies_as_distinct,
        resamples=resamples,
        permutations=permutations,
        also=also,
        cross_language=cross_language,
        other_languages=other_languages,
    )
    typer.echo(format_table(result))
    if output:
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(_numbers_inline(json.dumps(result.as_dict(), indent=2)) + "\n")
        typer.echo(f"wrote {output}")


_NUMBER_LIST = re.compile(r"\[\s*((?:-?[0-9.eE+-]+|null)(?:,\s*(?:-?[0-9.eE+-]+|null))*)\s*\]")


def _numbers_inline(text: str) -> str:
    """Indented JSON with each list of numbers on one line: the per-query values of a 1,000-query
    run stay a readable file instead of one line per number."""
    return _NUMBER_LIST.sub(lambda m: "[" + ", ".join(v.strip() for v in m.group(1).split(",")) + "]", text)
