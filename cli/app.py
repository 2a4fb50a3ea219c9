"""The `recsys` command line: the Typer app, its commands in the order --help lists them, and main.

Thin: each command parses its options into Settings, works through the root (recsys/root.py), prints,
and exits; a domain error is one line, `error: ...`, and exit status 1 (cli/common.py). The commands
live in their groups: cli/build.py (build, embed, versions, rollback), cli/catalog.py (ingest,
retract, backup, migrate, delete, pins and blocks), cli/query.py (related), cli/serve.py (serve,
demo-corpus), cli/evaluate.py, cli/report.py, cli/experiment.py (experiment set, show, stop). Shell
completion: `recsys --install-completion`.
"""

from __future__ import annotations

from typing import Annotated, Any

import typer
from typer.core import TyperGroup, TyperOption

from cli import build, catalog, evaluate, experiment, query, report, serve
from cli.common import cli_errors
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


for _command in (
    build.build,
    build.embed,
    catalog.ingest,
    catalog.retract,
    catalog.backup,
    catalog.migrate,
    catalog.delete,
    build.versions,
    build.rollback,
    query.related,
    serve.serve,
    serve.demo_corpus,
    catalog.pin,
    catalog.unpin,
    catalog.block,
    catalog.unblock,
    catalog.overrides,
    evaluate.evaluate,
    report.report,
):
    app.command()(cli_errors(_command))
app.add_typer(experiment.app, name="experiment")


def main() -> None:
    # The name completion scripts and usage lines use, also under `python -m cli`.
    app(prog_name="recsys")
