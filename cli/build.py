"""The build group: `recsys build`, `embed`, `versions`, `rollback`."""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Annotated

import typer

from cli.catalog import import_files
from cli.common import DataDir, LogLevel, Model, configure_logging, make_settings
from recsys.catalog.store import Catalog
from recsys.root import Root
from recsys.settings import Settings


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
    demo_languages: Annotated[
        bool,
        typer.Option(
            "--demo-languages",
            help="when the demo corpus is imported: with its editions in Arabic, Chinese, German and Spanish",
        ),
    ] = False,
    log_level: LogLevel = None,
) -> None:
    """Import article files (if given), embed what changed, and publish a new index version.

    With no --input and an empty catalog, the built-in demo corpus is imported (--demo-languages: with
    its editions in other languages).

    --embeddings-from fills the embedding cache first (`recsys embed`): only what it lacks is embedded.
    """
    settings = make_settings(
        data_dir=data_dir, model=model, index_type=index_type, batch_size=batch_size, log_level=log_level
    )
    configure_logging(settings.log_level)
    from index.build import build_index

    root = Root(settings)
    encoder = root.encoder  # first: a wrong model fails before any work is done
    catalog = root.catalog
    if embeddings_from:
        from index.backfill import identity_of, import_vectors

        identity = identity_of(encoder, root.recipe)
        for source in embeddings_from:
            typer.echo(import_vectors(catalog, source, identity).summary())
    import_files(
        catalog, inputs or [], strict=strict, progress=progress, detect_language=settings.detect_language
    )
    if not inputs and catalog.count() == 0:
        _import_demo(catalog, settings, languages=demo_languages)
    elif demo_languages:
        # Never the demo into a catalog that holds something: it may be a newsroom's.
        typer.echo("--demo-languages: ignored, the catalog is not empty (use a new --data-dir)", err=True)
    result = build_index(settings, catalog, encoder, progress=progress, full=full)
    typer.echo(result.summary())


def _import_demo(catalog: Catalog, settings: Settings, *, languages: bool) -> None:
    from recsys.catalog.ingest import import_file
    from recsys.demo_corpus import write_jsonl
    from recsys.storage import writing

    path = settings.data_dir / "demo_articles.jsonl"
    with writing(path):
        path.parent.mkdir(parents=True, exist_ok=True)
        write_jsonl(path, languages=languages)
    report = import_file(catalog, path, strict=True)
    typer.echo(f"empty catalog: imported the built-in demo corpus ({report.summary()})")


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

    input_shards(source)  # a missing input fails before the model loads
    root = Root(settings)
    encoder = root.encoder
    identity = identity_of(encoder, root.recipe)
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
            Root(absolute).encoder_loader(),
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
        root.recipe,
        runner,
        engine_name=settings.embed_engine,
        strict=strict,
        progress=progress,
        say=lambda line: typer.echo(line, err=True),
    )
    typer.echo(report.summary())


def versions(data_dir: DataDir = None) -> None:
    """List the index versions kept on disk, oldest first; `*` marks the current one.

    With RECSYS_VERSIONS_URL, then the complete versions in the object store, `*` on its current one.
    """
    settings = make_settings(data_dir=data_dir)
    root = Root(settings)
    _local_versions(root)
    remote = root.remote
    if remote is not None:
        current = remote.current()
        names = [f"*{name}" if name == current else name for name in remote.list_versions()]
        typer.echo(f"in {remote.url}: {', '.join(names) or 'none yet'}")


def _local_versions(root: Root) -> None:
    infos = root.store.describe()
    if not infos:
        typer.echo(f"no index versions in {root.settings.index_root}; run `recsys build`")
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


def rollback(
    version: Annotated[
        str | None, typer.Argument(help="version to serve (default: the one before the current)")
    ] = None,
    data_dir: DataDir = None,
    model: Model = None,
) -> None:
    """Make an older index version current again, after checking it loads (checksums, model, recipe).

    Refused while a build runs, on this host or on any host that shares the catalog. A running
    service picks the change up like a new build (watcher or POST /admin/reload). With
    RECSYS_VERSIONS_URL, the object store's CURRENT moves, and every replica follows it.
    """
    settings = make_settings(data_dir=data_dir, model=model)
    configure_logging("warning")
    root = Root(settings)
    checks = {"expect_model": root.model_identity(), "expect_recipe": root.recipe.id}
    remote = root.remote
    # CURRENT, here or in the object store, is every replica's: a build on any host that shares the
    # catalog (its build lock) must not publish over a rollback, nor a rollback over it. This
    # host's own builds are kept out by the flock IndexStore.rollback holds.
    try:
        with root.catalog.build_lock() if settings.catalog_is_postgres else contextlib.nullcontext():
            if remote is None:
                before, after = root.store.rollback(version, **checks)
            else:
                before, after = remote.rollback(root.store, version, **checks)
    finally:
        root.close()
    where = "" if remote is None else f" in {remote.url}"
    typer.echo(f"current index version{where}: {after} (was {before})")
