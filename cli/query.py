"""`recsys related`: the related stories of one article from the current index, without a server.

Its filter options are made from the API's own parameter table (`PARAMS` in recsys/serving/query.py,
the rows marked `cli`), and what is given goes through the same parser into the same RelatedQuery as
a query string: a parameter added to the table is an option here too, with the same checks.
"""

from __future__ import annotations

import dataclasses
import inspect
from collections.abc import Callable, Iterator
from typing import Annotated, Any, TypeVar

import typer

from cli.common import DataDir, Model, configure_logging, make_settings
from recsys.root import Root
from recsys.serving.query import PARAMS, Param, RelatedQuery, parse_query

F = TypeVar("F", bound=Callable[..., Any])

OPTIONS = tuple(param for param in PARAMS if param.cli)
_TYPES: dict[str, type] = {"integer": int, "number": float, "boolean": bool, "string": str, "date-time": str}
_DEFAULTS = {field.name: field.default for field in dataclasses.fields(RelatedQuery)}


def flag(name: str) -> str:
    """The option of a parameter, as an error names it: `max_age_days` -> `--max-age-days`."""
    return "--" + name.replace("_", "-")


def _option(param: Param) -> inspect.Parameter:
    kind = _TYPES[param.kind]
    # A flag that RelatedQuery defaults to False shows as off; any other option is "not given".
    default = _DEFAULTS[param.query_field] if param.kind == "boolean" else None
    annotation: Any
    if param.many:
        annotation = list[kind] | None  # type: ignore[valid-type]  # a type made at run time
    elif default is None:
        annotation = kind | None
    else:
        annotation = kind
    bounds: dict[str, Any] = {}
    # Click's ranges have no open end: a parameter with one is left to the table's check alone, so
    # that all its errors read the same (one line, exit status 1).
    if param.minimum is not None and param.maximum is not None and not param.exclusive_minimum:
        bounds = {"min": kind(param.minimum), "max": kind(param.maximum)}
    help_text = param.description + (" (repeatable)" if param.many else "")
    option = typer.Option(help=help_text, **bounds)
    return inspect.Parameter(
        param.name, inspect.Parameter.KEYWORD_ONLY, default=default, annotation=Annotated[annotation, option]
    )


def with_filter_options(command: F) -> F:
    """Typer reads a command's options from its signature: put one option per row of the table in
    place of the command's `**filters`, right after its arguments."""
    signature = inspect.signature(command, eval_str=True)
    own = [p for p in signature.parameters.values() if p.kind is not inspect.Parameter.VAR_KEYWORD]
    arguments = [p for p in own if p.default is inspect.Parameter.empty]
    rest = [p.replace(kind=inspect.Parameter.KEYWORD_ONLY) for p in own if p not in arguments]
    options = [_option(param) for param in OPTIONS]
    command.__signature__ = signature.replace(parameters=[*arguments, *options, *rest])  # type: ignore[attr-defined]
    return command


def _given(filters: dict[str, Any]) -> Iterator[tuple[str, str]]:
    """The options given, as the (name, text) pairs of a query string."""
    for param in OPTIONS:
        value = filters.get(param.name)
        if value is None:
            continue
        for one in value if param.many else [value]:
            yield param.name, _text(one)


def _text(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


@with_filter_options
def related(
    article_id: Annotated[str, typer.Argument(help="id of the article")],
    as_json: Annotated[bool, typer.Option("--json", help="print JSON instead of a table")] = False,
    data_dir: DataDir = None,
    model: Model = None,
    **filters: Any,
) -> None:
    """Print the related stories of an article, from the current index, without a server.

    The filters are the HTTP API's (docs/api.md); the list goes through the same pipeline.
    """
    settings = make_settings(data_dir=data_dir, model=model, log_level="warning")
    configure_logging(settings.log_level)
    # Validated before the model loads: nonsense fails in a fraction of a second.
    query = parse_query(_given(filters), settings.default_limit, settings.default_section_limit, label=flag)
    root = Root(settings)
    root.catalog.get(article_id)  # an unknown id fails before the model loads
    recommender = root.query_side.load()
    ranked = recommender.related_list(article_id, query)
    if as_json:
        from service.render import dumps, related_body

        # The API's renderer and serialiser: the same JSON as GET /articles/{id}/related.
        typer.echo(dumps(related_body(article_id, recommender.index.version, ranked), indent=True))
        return
    for rank, item in enumerate(ranked.items, start=1):
        title = (item.article.title or (item.article.body or "")[:70]).replace("\n", " ")
        byline = f"  ({item.article.author})" if item.article.author else ""
        typer.echo(
            f"{rank:>3}  {item.score:.3f}  {item.article.id:<24}  {item.article.section or '-':<12}  "
            f"{title}{byline}"
        )
