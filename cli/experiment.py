"""`recsys experiment set FILE | show | stop`: the running experiment, as the catalog holds it.

The experiment lives in the catalog (recsys/serving/experiments.py): every running worker and
replica follows a change made here through the change feed, within RECSYS_CHANGE_POLL_SECONDS.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from cli.common import DataDir, cli_errors, make_settings
from recsys.root import Root
from recsys.serving.experiments import experiment_from_file, store_experiment, stored_experiment

app = typer.Typer(
    help="The running experiment: set it from a file, show it, stop it (docs/experiments.md).",
    no_args_is_help=True,
)


@app.command("set")
@cli_errors
def set_(
    file: Annotated[Path, typer.Argument(help="the experiment's config (JSON, docs/experiments.md)")],
    data_dir: DataDir = None,
) -> None:
    """Start the experiment FILE describes, replacing the running one (`null` in FILE: stop it)."""
    experiment = experiment_from_file(file)  # checked before the catalog is opened
    changed = store_experiment(Root(make_settings(data_dir=data_dir)).catalog, experiment)
    name = experiment.name if experiment is not None else "none"
    typer.echo(f"experiment: {name}{'' if changed else ' (unchanged)'}")


@app.command()
@cli_errors
def show(data_dir: DataDir = None) -> None:
    """Print the running experiment's config (JSON), or `null` when none runs."""
    experiment = stored_experiment(Root(make_settings(data_dir=data_dir)).catalog)
    typer.echo(json.dumps(experiment.to_dict() if experiment is not None else None, indent=2))


@app.command()
@cli_errors
def stop(data_dir: DataDir = None) -> None:
    """Stop the running experiment: every list is the default ranking again."""
    changed = store_experiment(Root(make_settings(data_dir=data_dir)).catalog, None)
    typer.echo("experiment stopped" if changed else "no experiment was running")
