"""The `recsys` command line. Thin: parse options into Settings, call the library, print, exit.

Every option that is a Settings field also reads its RECSYS_* environment variable, through Settings
only (make_settings: a flag wins over the environment and .env); --help names the variable. Domain
errors print one line, `error: ...`, and exit 1. Shell completion: `recsys --install-completion`.
"""

from __future__ import annotations

import functools
import json
import logging
import re
import sys
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any, ParamSpec, TypeVar

import typer
from pydantic import ValidationError
from typer.core import TyperGroup, TyperOption

from recsys.catalog.sqlite import Catalog
from recsys.errors import ConfigError, InvalidInput, RecsysError
from recsys.settings import Settings


class _SettingsOption(TyperOption):
    """An option that is also a Settings field: --help shows its RECSYS_* variable, but click never
    reads it; Settings does (make_settings), so the environment has one reader and one parser."""

    def resolve_envvar_value(self, ctx: object) -> str | None:
        return None


class _Commands(TyperGroup):
    """The command group; gives every option named like a Settings field its variable in --help."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for command in self.commands.values():
            for param in command.params:
                if isinstance(param, TyperOption) and param.name in Settings.model_fields:
                    param.__class__ = _SettingsOption  # same fields, one method changed
                    param.envvar = settings_envvar(param.name)
                    param.show_envvar = True


def settings_envvar(field: str) -> str:
    return f"RECSYS_{field.upper()}"


app = typer.Typer(
    cls=_Commands,
    help="Related-stories recommender: build an index of articles and serve related stories.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
log = logging.getLogger("recsys")


def _version(value: bool) -> None:
    if value:
        from importlib import metadata

        typer.echo(f"recsys-news {metadata.version('recsys-news')}")
        raise typer.Exit()


@app.callback()
def _main(
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="print the version and exit"),
    ] = False,
) -> None:
    """Related-stories recommender: build an index of articles and serve related stories."""


P = ParamSpec("P")
R = TypeVar("R")

DataDir = Annotated[Path | None, typer.Option("--data-dir", help="folder holding the catalog and index")]
Model = Annotated[str | None, typer.Option("--model", help="model name or local folder")]
LogLevel = Annotated[str | None, typer.Option("--log-level", help="debug|info|warning|error")]


def make_settings(**overrides: Any) -> Settings:
    """Settings from the environment, with the flags that were given on top."""
    try:
        return Settings(**{k: v for k, v in overrides.items() if v is not None})
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or 'settings'}: {err['msg']}" for err in exc.errors()
        )
        raise ConfigError(f"invalid settings: {problems}") from exc


def configure_logging(level: str) -> None:
    logging.basicConfig(
        level=level.upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
        force=True,
    )


def cli_errors(func: Callable[P, R]) -> Callable[P, R]:
    """Turn domain errors into one line on stderr and a non-zero exit, never a traceback."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return func(*args, **kwargs)
        except RecsysError as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(1) from None
        except KeyboardInterrupt:
            typer.echo("interrupted", err=True)
            raise typer.Exit(130) from None

    return wrapper


def _encoder(settings: Settings):  # type: ignore[no-untyped-def]
    # Imported here: loading torch takes seconds, and commands like `ingest` never need it.
    from recsys.encoding.encoders import load_encoder

    return load_encoder(settings)


@app.command()
@cli_errors
def build(
    inputs: Annotated[
        list[Path] | None,
        typer.Option("--input", "-i", help="article file(s) to import first (.jsonl[.gz] or .csv[.gz])"),
    ] = None,
    strict: Annotated[bool, typer.Option(help="fail the import on the first bad record")] = False,
    data_dir: DataDir = None,
    model: Model = None,
    index_type: Annotated[str | None, typer.Option(help="auto|flat|hnsw|ivf")] = None,
    full: Annotated[
        bool, typer.Option("--full", help="recompute every vector lookup and neighbour list, reuse nothing")
    ] = False,
    batch_size: Annotated[int | None, typer.Option(help="embedding batch size")] = None,
    progress: Annotated[bool, typer.Option(help="show progress bars")] = True,
    embeddings_from: Annotated[
        list[Path] | None,
        typer.Option(
            help="a `recsys embed` output folder or a catalog file whose vectors to import first "
            "(same model, backend and recipe only; repeatable)"
        ),
    ] = None,
    log_level: LogLevel = None,
) -> None:
    """Import article files (if given), embed what changed, and publish a new index version.

    With no --input and an empty catalog, the built-in demo corpus is imported.

    --embeddings-from fills the embedding cache first (`recsys embed`): only what it lacks is embedded.
    """
    settings = make_settings(
        data_dir=data_dir, model=model, index_type=index_type, batch_size=batch_size, log_level=log_level
    )
    configure_logging(settings.log_level)
    from index.build import build_index

    encoder = _encoder(settings)  # first: a wrong model fails before any work is done
    catalog = Catalog(settings.catalog_file)
    if embeddings_from:
        from index.backfill import identity_of, import_vectors
        from recsys.encoding.recipe import TextRecipe

        identity = identity_of(encoder, TextRecipe(max_words=settings.recipe_max_words))
        for source in embeddings_from:
            typer.echo(import_vectors(catalog, source, identity).summary())
    _import_files(catalog, inputs or [], strict=strict, progress=progress)
    if not inputs and catalog.count() == 0:
        _import_demo(catalog, settings)
    result = build_index(settings, catalog, encoder, progress=progress, full=full)
    typer.echo(result.summary())


def _import_files(catalog: Catalog, paths: list[Path], *, strict: bool, progress: bool) -> None:
    from recsys.catalog.ingest import import_file

    for path in paths:
        report = import_file(catalog, path, strict=strict, progress=progress)
        typer.echo(report.summary())
        for line in report.errors:
            typer.echo(f"  skipped: {line}", err=True)


def _import_demo(catalog: Catalog, settings: Settings) -> None:
    from recsys.catalog.ingest import import_file
    from recsys.demo_corpus import write_jsonl
    from recsys.storage import writing

    path = settings.data_dir / "demo_articles.jsonl"
    with writing(path):
        path.parent.mkdir(parents=True, exist_ok=True)
        write_jsonl(path)
    report = import_file(catalog, path, strict=True)
    typer.echo(f"empty catalog: imported the built-in demo corpus ({report.summary()})")


@app.command()
@cli_errors
def embed(
    source: Annotated[
        Path,
        typer.Option(
            "--input", "-i", help="an article file, or a folder of them (shards): .jsonl[.gz] or .csv[.gz]"
        ),
    ],
    output: Annotated[Path, typer.Option("--output", "-o", help="the vector folder to write (or to resume)")],
    engine: Annotated[
        str | None, typer.Option(help="local|ray: where the encoding runs [env RECSYS_EMBED_ENGINE]")
    ] = None,
    batch_size: Annotated[
        int | None, typer.Option(help="embedding batch size [env RECSYS_BATCH_SIZE]")
    ] = None,
    ray_address: Annotated[
        str | None,
        typer.Option(
            help="Ray cluster to join, e.g. ray://head:10001 (default: Ray on this machine) "
            "[env RECSYS_RAY_ADDRESS]"
        ),
    ] = None,
    actors: Annotated[
        int | None,
        typer.Option(help="Ray actors, each with an encoder (0: one per CPU slot) [env RECSYS_RAY_ACTORS]"),
    ] = None,
    cpus_per_actor: Annotated[
        int | None, typer.Option(help="CPUs each Ray actor reserves [env RECSYS_RAY_CPUS_PER_ACTOR]")
    ] = None,
    strict: Annotated[bool, typer.Option(help="fail on the first bad record")] = False,
    model: Model = None,
    data_dir: DataDir = None,
    progress: Annotated[bool, typer.Option(help="show a progress bar")] = True,
    log_level: LogLevel = None,
) -> None:
    """Embed an archive into a vector folder; `recsys build --embeddings-from OUTPUT` imports it.

    Runs here, or as a Ray Data job (--engine ray) on this machine or on a cluster.

    A run that stops keeps the shards it finished: the same command again resumes it.
    """
    # The data folder holds no catalog here, only what the encoder keeps there (an exported model).
    settings = make_settings(
        data_dir=data_dir,
        model=model,
        batch_size=batch_size,
        embed_engine=engine,
        ray_address=ray_address,
        ray_actors=actors,
        ray_cpus_per_actor=cpus_per_actor,
        log_level=log_level,
    )
    configure_logging(settings.log_level)
    from index.backfill import Engine, LocalEngine, embed_files, identity_of, input_shards
    from recsys.encoding.recipe import TextRecipe

    input_shards(source)  # a missing input fails before the model loads
    encoder = _encoder(settings)
    recipe = TextRecipe(max_words=settings.recipe_max_words)
    identity = identity_of(encoder, recipe)
    runner: Engine
    if settings.embed_engine == "ray":
        from index.ray_embed import RayEngine

        # Actors run in other folders: an absolute data folder lets them find the model the driver
        # just loaded (an exported backend keeps it there) instead of exporting it again.
        # Each actor's encoder uses the CPUs Ray reserved for it, not every core of its machine.
        absolute = settings.model_copy(
            update={
                "data_dir": settings.data_dir.resolve(),
                "encoder_threads": settings.encoder_threads or settings.ray_cpus_per_actor,
            }
        )
        runner = RayEngine(
            functools.partial(_encoder, absolute),
            identity,
            address=settings.ray_address,
            actors=settings.ray_actors,
            cpus_per_actor=settings.ray_cpus_per_actor,
            batch_size=settings.batch_size,
        )
    else:
        runner = LocalEngine(encoder, settings.batch_size)
    report = embed_files(
        source,
        output,
        identity,
        recipe,
        runner,
        engine_name=settings.embed_engine,
        strict=strict,
        progress=progress,
        say=lambda line: typer.echo(line, err=True),
    )
    typer.echo(report.summary())


@app.command()
@cli_errors
def ingest(
    inputs: Annotated[list[Path], typer.Argument(help="article file(s): .jsonl[.gz] or .csv[.gz]")],
    strict: Annotated[bool, typer.Option(help="fail the import on the first bad record")] = False,
    data_dir: DataDir = None,
    progress: Annotated[bool, typer.Option(help="show progress bars")] = True,
) -> None:
    """Upsert articles into the catalog (no embedding; run `recsys build` to index them)."""
    settings = make_settings(data_dir=data_dir)
    configure_logging(settings.log_level)
    _import_files(Catalog(settings.catalog_file), inputs, strict=strict, progress=progress)


@app.command()
@cli_errors
def retract(
    article_id: Annotated[str, typer.Argument(help="id of the article to retract")],
    data_dir: DataDir = None,
) -> None:
    """Mark an article retracted: it leaves every related list at once, before the next build."""
    settings = make_settings(data_dir=data_dir)
    changed = Catalog(settings.catalog_file).set_status(article_id, "retracted")
    typer.echo(f"{article_id}: {'retracted' if changed else 'already retracted'}")


@app.command()
@cli_errors
def backup(
    dest: Annotated[Path, typer.Argument(help="file to write the copy of the catalog to")],
    force: Annotated[bool, typer.Option(help="replace DEST if it exists")] = False,
    data_dir: DataDir = None,
) -> None:
    """Copy the catalog (articles, pins, blocks, embedding cache) to DEST, consistently, while it is in use.

    To restore: with the service and writers stopped, put the copy in place of the data folder's
    catalog.sqlite3; `recsys build` then publishes an index of it, reusing its cached embeddings.
    """
    settings = make_settings(data_dir=data_dir)
    source = settings.catalog_file
    if not source.is_file():
        raise ConfigError(f"no catalog at {source}; nothing to back up")
    if dest.is_dir():
        raise InvalidInput(f"{dest} is a folder; give the backup a file name")
    if dest.exists() and dest.resolve() == source.resolve():
        raise InvalidInput(f"{dest} is the catalog itself; give the backup another name")
    if dest.exists() and not force:
        raise InvalidInput(f"{dest} exists; pass --force to replace it")
    articles = Catalog(source).backup(dest)
    typer.echo(f"backed up {source} to {dest} ({articles} articles)")


# -- index lifecycle: deleting articles, listing versions, rolling back -------------------------------


@app.command()
@cli_errors
def delete(
    article_id: Annotated[str, typer.Argument(help="id of the article to delete")],
    data_dir: DataDir = None,
) -> None:
    """Delete an article from the catalog: it leaves every list at once; the next build drops its vector."""
    settings = make_settings(data_dir=data_dir)
    Catalog(settings.catalog_file).delete(article_id)
    typer.echo(f"{article_id}: deleted")


@app.command()
@cli_errors
def versions(data_dir: DataDir = None) -> None:
    """List the index versions kept on disk, oldest first; `*` marks the current one."""
    from recsys.version.store import IndexStore

    settings = make_settings(data_dir=data_dir)
    infos = IndexStore(settings.index_root).describe()
    if not infos:
        typer.echo(f"no index versions in {settings.index_root}; run `recsys build`")
        return
    typer.echo(f"   {'version':<28}  {'articles':>8}  {'type':<5}  {'built_at':<20}  model")
    for info in infos:
        mark = "*" if info.current else " "
        manifest = info.manifest
        if manifest is None:
            typer.echo(f"{mark}  {info.version:<28}  unreadable: {info.problem}")
            continue
        kind = str(manifest.index_spec.get("type", "flat"))
        typer.echo(
            f"{mark}  {info.version:<28}  {manifest.count:>8}  {kind:<5}  {manifest.built_at:<20}  "
            f"{manifest.model}"
        )


@app.command()
@cli_errors
def rollback(
    version: Annotated[
        str | None, typer.Argument(help="version to serve (default: the one before the current)")
    ] = None,
    data_dir: DataDir = None,
    model: Model = None,
) -> None:
    """Make an older index version current again, after checking it loads (checksums, model, recipe).

    A running service picks the change up like a new build (watcher or POST /admin/reload).
    """
    from recsys.encoding.encoders import encoder_identity
    from recsys.encoding.recipe import TextRecipe
    from recsys.version.store import IndexStore

    settings = make_settings(data_dir=data_dir, model=model)
    configure_logging("warning")
    before, after = IndexStore(settings.index_root).rollback(
        version,
        expect_model=encoder_identity(settings),
        expect_recipe=TextRecipe(max_words=settings.recipe_max_words).id,
    )
    typer.echo(f"current index version: {after} (was {before})")


def _timestamp_option(flag: str, value: str | None) -> datetime | None:
    """An ISO-8601 option (no zone = UTC), or a one-line error naming the flag."""
    from recsys.articles import parse_timestamp
    from recsys.errors import InvalidTimestamp

    if value is None:
        return None
    try:
        return parse_timestamp(value)
    except InvalidTimestamp as exc:
        raise InvalidInput(f"{flag}: {exc}") from exc


@app.command()
@cli_errors
def related(
    article_id: Annotated[str, typer.Argument(help="id of the article")],
    limit: Annotated[
        int | None, typer.Option(min=1, max=100, help="how many items (default: RECSYS_DEFAULT_LIMIT, 10)")
    ] = None,
    section: Annotated[list[str] | None, typer.Option(help="only this section (repeatable)")] = None,
    exclude_section: Annotated[list[str] | None, typer.Option(help="never this section (repeatable)")] = None,
    author: Annotated[list[str] | None, typer.Option(help="only items by this author (repeatable)")] = None,
    exclude_author: Annotated[
        list[str] | None, typer.Option(help="never items by this author (repeatable)")
    ] = None,
    tag: Annotated[list[str] | None, typer.Option(help="only items with this tag (repeatable)")] = None,
    exclude_tag: Annotated[
        list[str] | None, typer.Option(help="never items with this tag (repeatable)")
    ] = None,
    exclude: Annotated[
        list[str] | None, typer.Option(help="id or URL the page already shows (repeatable)")
    ] = None,
    since: Annotated[str | None, typer.Option(help="published at or after (ISO-8601)")] = None,
    until: Annotated[str | None, typer.Option(help="published at or before (ISO-8601)")] = None,
    max_age_days: Annotated[
        float | None, typer.Option(help="at most this many days older than the article")
    ] = None,
    background: Annotated[bool, typer.Option(help="only stories published before the article")] = False,
    freshness: Annotated[
        bool | None, typer.Option("--freshness/--no-freshness", help="blend recency into the score")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print JSON instead of a table")] = False,
    data_dir: DataDir = None,
    model: Model = None,
) -> None:
    """Print the related stories of an article, from the current index, without a server.

    The filters are the HTTP API's (docs/api.md); the list goes through the same pipeline.
    """
    settings = make_settings(data_dir=data_dir, model=model, log_level="warning")
    configure_logging(settings.log_level)
    from recsys.serving.query import RelatedQuery
    from recsys.serving.queryside import QuerySide

    # Validated before the model loads: nonsense fails in a fraction of a second.
    query = RelatedQuery(
        limit=settings.default_limit if limit is None else limit,
        exclude=tuple(exclude or ()),
        sections=tuple(section or ()),
        exclude_sections=tuple(exclude_section or ()),
        tags=tuple(tag or ()),
        exclude_tags=tuple(exclude_tag or ()),
        authors=tuple(author or ()),
        exclude_authors=tuple(exclude_author or ()),
        since=_timestamp_option("--since", since),
        until=_timestamp_option("--until", until),
        max_age_days=max_age_days,
        background=background,
        freshness=freshness,
    )
    catalog = Catalog(settings.catalog_file)
    catalog.get(article_id)  # an unknown id fails before the model loads
    recommender = QuerySide.open(settings, _encoder(settings), catalog).load()
    ranked = recommender.related_list(article_id, query)
    items = ranked.items
    if as_json:
        from service.render import dumps, related_body

        # The API's renderer and serialiser: the same JSON as GET /articles/{id}/related.
        typer.echo(dumps(related_body(article_id, recommender.index.version, ranked), indent=True))
        return
    for rank, item in enumerate(items, start=1):
        title = (item.article.title or (item.article.body or "")[:70]).replace("\n", " ")
        byline = f"  ({item.article.author})" if item.article.author else ""
        typer.echo(
            f"{rank:>3}  {item.score:.3f}  {item.article.id:<24}  {item.article.section or '-':<12}  "
            f"{title}{byline}"
        )


@app.command()
@cli_errors
def serve(
    host: Annotated[str | None, typer.Option(help="bind address")] = None,
    port: Annotated[int | None, typer.Option(help="port")] = None,
    data_dir: DataDir = None,
    model: Model = None,
    log_level: LogLevel = None,
    workers: Annotated[
        int | None,
        typer.Option(help="worker processes, each with its own model and index [env RECSYS_WORKERS]"),
    ] = None,
    log_format: Annotated[
        str | None, typer.Option(help="text|json: the format of log lines [env RECSYS_LOG_FORMAT]")
    ] = None,
) -> None:
    """Serve the HTTP API with uvicorn (docs at /docs); with --workers N, in N processes."""
    flags = {
        "data_dir": data_dir,
        "model": model,
        "host": host,
        "port": port,
        "log_level": log_level,
        "workers": workers,
        "log_format": log_format,
    }
    settings = make_settings(**flags)
    from recsys.version.store import IndexStore
    from service.logs import configure as configure_service_logging
    from service.run import serve as run_service

    configure_service_logging(settings)  # the service's format from the first line on

    store = IndexStore(settings.index_root)
    if store.current_version() is None:
        raise ConfigError(f"no index in {settings.index_root}; run `recsys build` first")
    # Load the model first, so a wrong model is a one-line error rather than a failed startup (in
    # every worker). One process serves with it; several workers each load their own, so the check
    # runs in a short-lived process: this one only supervises, and would keep PyTorch and the
    # model in memory (about half a gigabyte) for nothing.
    encoder = _encoder(settings) if settings.workers == 1 else None
    if encoder is None:
        _check_model(settings)

    def single_process(settings: Settings):  # type: ignore[no-untyped-def]
        from service.app import create_app

        return create_app(settings, encoder=encoder)

    workers_note = f", {settings.workers} workers" if settings.workers > 1 else ""
    # A log line, not an echo: with RECSYS_LOG_FORMAT=json every line the service writes is JSON.
    address = f"http://{settings.host}:{settings.port}"
    log.info("serving on %s%s  (docs: /docs, health: /health)", address, workers_note)
    run_service(settings, flags, single_process)


def _check_model(settings: Settings) -> None:
    """Load the configured model in a fresh process; its error (ModelLoadError) is raised here."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    from service.logs import quiet_progress_bars

    spawn = multiprocessing.get_context("spawn")
    # no progress bar of the loader between the service's log lines (JSON ones, say)
    with ProcessPoolExecutor(1, mp_context=spawn, initializer=quiet_progress_bars) as pool:
        pool.submit(_model_name, settings.model, settings.device).result()


def _model_name(model: str, device: str) -> str:
    from recsys.encoding.encoders import SentenceTransformerEncoder

    return SentenceTransformerEncoder(model, device).name


@app.command("demo-corpus")
@cli_errors
def demo_corpus(
    output: Annotated[Path, typer.Option("--output", "-o", help="file to write (.jsonl or .jsonl.gz)")],
    seed: Annotated[int, typer.Option(help="generator seed")] = 2026,
) -> None:
    """Write the built-in fictional demo corpus as JSON Lines."""
    from recsys.demo_corpus import write_jsonl

    count = write_jsonl(output, seed=seed)
    typer.echo(f"wrote {count} articles to {output}")


# -- editorial overrides: pins and blocks (issue 3) ---------------------------------------------------
# They are read from the catalog at query time, so each command acts on the next request, no rebuild.


def _overrides(data_dir: Path | None):  # type: ignore[no-untyped-def]
    from recsys.catalog.overrides import Overrides

    return Overrides(Catalog(make_settings(data_dir=data_dir).catalog_file))


@app.command()
@cli_errors
def pin(
    article_id: Annotated[str, typer.Argument(help="the article the picks are shown under")],
    targets: Annotated[list[str], typer.Argument(help="ids to pin, in the order to show them")],
    replace: Annotated[bool, typer.Option(help="replace the article's pins instead of appending")] = False,
    data_dir: DataDir = None,
) -> None:
    """Pin articles under an article: shown first, in order; automatic results fill the rest."""
    overrides = _overrides(data_dir)
    pins = overrides.set_pins(article_id, targets) if replace else overrides.add_pins(article_id, targets)
    typer.echo(f"{article_id}: pinned {', '.join(pins)}")


@app.command()
@cli_errors
def unpin(
    article_id: Annotated[str, typer.Argument(help="the article the pins are shown under")],
    targets: Annotated[list[str] | None, typer.Argument(help="pins to remove (default: all)")] = None,
    data_dir: DataDir = None,
) -> None:
    """Remove pins from an article."""
    removed = _overrides(data_dir).unpin(article_id, targets or None)
    typer.echo(f"{article_id}: removed {removed} pin(s)")


def _expiry(expires: str | None, days: float | None):  # type: ignore[no-untyped-def]
    from datetime import UTC, datetime, timedelta

    if expires is not None and days is not None:
        raise InvalidInput("give --expires or --days, not both")
    if days is not None:
        if days <= 0:
            raise InvalidInput(f"--days must be positive, got {days}")
        return datetime.now(UTC) + timedelta(days=days)
    return _timestamp_option("--expires", expires)


@app.command()
@cli_errors
def block(
    target: Annotated[str, typer.Argument(help="id of the article never to show")],
    under: Annotated[
        str | None, typer.Option("--under", help="only under this article (default: everywhere)")
    ] = None,
    expires: Annotated[str | None, typer.Option(help="ISO-8601 time the block ends")] = None,
    days: Annotated[float | None, typer.Option(help="the block ends after this many days")] = None,
    data_dir: DataDir = None,
) -> None:
    """Never show an article, everywhere or under one article, optionally until a time."""
    made = _overrides(data_dir).block(target, under=under, expires_at=_expiry(expires, days))
    where = f"under {under}" if under else "everywhere"
    until = f" until {made.expires_at}" if made.expires_at else ""
    typer.echo(f"{target}: blocked {where}{until}")


@app.command()
@cli_errors
def unblock(
    target: Annotated[str, typer.Argument(help="id of the blocked article")],
    under: Annotated[str | None, typer.Option("--under", help="the article it is blocked under")] = None,
    data_dir: DataDir = None,
) -> None:
    """Remove a block (the global one, or the one under --under)."""
    if not _overrides(data_dir).unblock(target, under=under):
        raise InvalidInput(f"{target} is not blocked {'under ' + under if under else 'globally'}")
    typer.echo(f"{target}: unblocked")


@app.command()
@cli_errors
def overrides(
    article_id: Annotated[str | None, typer.Argument(help="only what applies under this article")] = None,
    data_dir: DataDir = None,
) -> None:
    """List pins and blocks (expired blocks are marked)."""
    from datetime import UTC, datetime

    store = _overrides(data_dir)
    now = datetime.now(UTC)
    for p in store.all_pins(article_id):
        typer.echo(f"pin     {p.article_id}  #{p.position + 1}  {p.target_id}")
    for b in store.blocks(article_id):
        where = f"under {b.article_id}" if b.article_id else "everywhere"
        until = f"  until {b.expires_at}" if b.expires_at else ""
        state = "" if b.active(now) else "  (expired)"
        typer.echo(f"block   {b.target_id}  {where}{until}{state}")


# -- evaluation (issue 5) ---------------------------------------------------------------------------


def _parse_ks(text: str) -> list[int]:
    try:
        ks = sorted({int(part) for part in text.split(",") if part.strip()})
    except ValueError as exc:
        raise InvalidInput(f"--k expects comma-separated integers, got {text!r}") from exc
    if not ks or ks[0] < 1 or ks[-1] > 100:
        raise InvalidInput(f"--k values must be between 1 and 100, got {text!r}")
    return ks


@app.command()
@cli_errors
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
            help="auto|related|section|tags|story: what counts as relevant (auto: curated links; story: "
            "the same `story` field of the input records, e.g. wcep2025)"
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
    output: Annotated[Path | None, typer.Option("--output", "-o", help="write the results as JSON")] = None,
    data_dir: DataDir = None,
    model: Model = None,
    progress: Annotated[bool, typer.Option(help="show progress bars")] = False,
) -> None:
    """Judge the related lists of the system and of baselines against curated links or a proxy.

    Imports the files into the data folder, builds an index unless the current one already covers
    the catalog, prints a table of means, their 95% bootstrap intervals and whether `system` differs
    significantly from each baseline (paired randomisation test, Holm-corrected), and optionally
    writes all of it, per-query values included, as JSON.
    """
    from index.evaluation import evaluate_prepared, find_pairs, prepare
    from recsys.evaluation.baselines import parse_method_names
    from recsys.evaluation.evaluate import format_table

    settings = make_settings(data_dir=data_dir, model=model, log_level="warning")
    configure_logging(settings.log_level)
    methods = parse_method_names(baselines)
    ks = _parse_ks(k)
    for path in [*inputs, *(haystack or []), *(embeddings_from or [])]:
        if not path.is_file():
            raise InvalidInput(f"{path}: no such file")
    pairs = pairs or find_pairs(inputs)
    prepared = prepare(
        settings,
        _encoder(settings),
        inputs,
        haystack=haystack or [],
        embeddings_from=embeddings_from or [],
        progress=progress,
        say=lambda line: typer.echo(line, err=True),
    )
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


def main() -> None:
    # The name completion scripts and usage lines use, also under `python -m cli.commands`.
    app(prog_name="recsys")


if __name__ == "__main__":
    main()
