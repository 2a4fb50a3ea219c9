"""The catalog commands: ingest, retract, delete, backup, migrate, and the editorial overrides.

`recsys ingest`, `retract`, `delete`, `backup`, `migrate`, and the overrides
(`pin`, `unpin`, `block`, `unblock`, `overrides`).

Overrides are read from the catalog at query time, so each of these commands acts on the next
request, with no rebuild.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated

import typer

from cli.common import DataDir, configure_logging, make_settings
from recsys.catalog.overrides import Overrides
from recsys.catalog.store import Catalog
from recsys.errors import ConfigError, InvalidInput, InvalidTimestamp
from recsys.root import Root


def import_files(
    catalog: Catalog, paths: list[Path], *, strict: bool, progress: bool, detect_language: bool
) -> None:
    from recsys.catalog.ingest import import_file

    for path in paths:
        report = import_file(catalog, path, strict=strict, progress=progress, detect_language=detect_language)
        typer.echo(report.summary())
        for line in report.errors:
            typer.echo(f"  skipped: {line}", err=True)


def ingest(
    inputs: Annotated[list[Path], typer.Argument(help="article file(s): .jsonl[.gz] or .csv[.gz]")],
    strict: Annotated[bool, typer.Option(help="fail the import on the first bad record")] = False,
    data_dir: DataDir = None,
    progress: Annotated[bool, typer.Option(help="show progress bars")] = True,
) -> None:
    """Upsert articles into the catalog (no embedding; run `recsys build` to index them)."""
    settings = make_settings(data_dir=data_dir)
    configure_logging(settings.log_level)
    import_files(
        Root(settings).catalog,
        inputs,
        strict=strict,
        progress=progress,
        detect_language=settings.detect_language,
    )


def retract(
    article_id: Annotated[str, typer.Argument(help="id of the article to retract")],
    data_dir: DataDir = None,
) -> None:
    """Mark an article retracted: it leaves every related list at once, before the next build."""
    changed = Root(make_settings(data_dir=data_dir)).catalog.set_status(article_id, "retracted")
    typer.echo(f"{article_id}: {'retracted' if changed else 'already retracted'}")


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
    if settings.catalog_is_postgres:
        raise ConfigError(
            "the catalog is a PostgreSQL database (RECSYS_CATALOG_URL): back it up with pg_dump, "
            'e.g. pg_dump --format=custom "$RECSYS_CATALOG_URL" > catalog.dump (docs/deployment.md)'
        )
    source = settings.catalog_file
    if not source.is_file():
        raise ConfigError(f"no catalog at {source}; nothing to back up")
    if dest.is_dir():
        raise InvalidInput(f"{dest} is a folder; give the backup a file name")
    if dest.exists() and dest.resolve() == source.resolve():
        raise InvalidInput(f"{dest} is the catalog itself; give the backup another name")
    if dest.exists() and not force:
        raise InvalidInput(f"{dest} exists; pass --force to replace it")
    articles = Root(settings).catalog.backup(dest)
    typer.echo(f"backed up {source} to {dest} ({articles} articles)")


def migrate(data_dir: DataDir = None) -> None:
    """Create the catalog's tables, or bring them to this release's schema (a PostgreSQL catalog needs it
    once per release, before the replicas start; a SQLite one is also migrated when opened)."""
    from recsys.catalog.postgres import redacted
    from recsys.catalog.schema import SCHEMA_VERSION

    settings = make_settings(data_dir=data_dir)
    before, after = Catalog.migrate(settings.catalog_location)
    location = settings.catalog_location
    where = redacted(location) if isinstance(location, str) else str(location)
    if before is None:
        typer.echo(f"{where}: catalog created at schema {after}")
    elif before == after:
        typer.echo(f"{where}: catalog already at schema {SCHEMA_VERSION}")
    else:
        typer.echo(f"{where}: catalog migrated from schema {before} to {after}")


def delete(
    article_id: Annotated[str, typer.Argument(help="id of the article to delete")],
    data_dir: DataDir = None,
) -> None:
    """Delete an article from the catalog: it leaves every list at once; the next build drops its vector."""
    Root(make_settings(data_dir=data_dir)).catalog.delete(article_id)
    typer.echo(f"{article_id}: deleted")


# -- editorial overrides: pins and blocks (issue 3) ---------------------------------------------------


def _overrides(data_dir: Path | None) -> Overrides:
    return Root(make_settings(data_dir=data_dir)).overrides


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


def unpin(
    article_id: Annotated[str, typer.Argument(help="the article the pins are shown under")],
    targets: Annotated[list[str] | None, typer.Argument(help="pins to remove (default: all)")] = None,
    data_dir: DataDir = None,
) -> None:
    """Remove pins from an article."""
    removed = _overrides(data_dir).unpin(article_id, targets or None)
    typer.echo(f"{article_id}: removed {removed} pin(s)")


def _expiry(expires: str | None, days: float | None) -> datetime | None:
    from recsys.articles import parse_timestamp

    if expires is not None and days is not None:
        raise InvalidInput("give --expires or --days, not both")
    if days is not None:
        if days <= 0:
            raise InvalidInput(f"--days must be positive, got {days}")
        return datetime.now(UTC) + timedelta(days=days)
    if expires is None:
        return None
    try:
        return parse_timestamp(expires)  # no zone = UTC
    except InvalidTimestamp as exc:
        raise InvalidInput(f"--expires: {exc}") from exc


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


def unblock(
    target: Annotated[str, typer.Argument(help="id of the blocked article")],
    under: Annotated[str | None, typer.Option("--under", help="the article it is blocked under")] = None,
    data_dir: DataDir = None,
) -> None:
    """Remove a block (the global one, or the one under --under)."""
    if not _overrides(data_dir).unblock(target, under=under):
        raise InvalidInput(f"{target} is not blocked {'under ' + under if under else 'globally'}")
    typer.echo(f"{target}: unblocked")


def overrides(
    article_id: Annotated[str | None, typer.Argument(help="only what applies under this article")] = None,
    data_dir: DataDir = None,
) -> None:
    """List pins and blocks (expired blocks are marked)."""
    store = _overrides(data_dir)
    now = datetime.now(UTC)
    for p in store.all_pins(article_id):
        typer.echo(f"pin     {p.article_id}  #{p.position + 1}  {p.target_id}")
    for b in store.blocks(article_id):
        where = f"under {b.article_id}" if b.article_id else "everywhere"
        until = f"  until {b.expires_at}" if b.expires_at else ""
        state = "" if b.active(now) else "  (expired)"
        typer.echo(f"block   {b.target_id}  {where}{until}{state}")
