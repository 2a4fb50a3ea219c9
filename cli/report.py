"""`recsys report`: impressions, clicks and click-through from the page's counters, arms compared.

Reads the counters the events endpoint keeps (recsys/catalog/feedback.py) and prints the report of
recsys/evaluation/click_report.py: tables, or JSON with --json; --plot DIR writes the PNG plots."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from cli.common import DataDir, configure_logging, make_settings
from recsys.root import Root


def report(
    since: Annotated[str | None, typer.Option(help="first day counted, YYYY-MM-DD (UTC)")] = None,
    until: Annotated[str | None, typer.Option(help="last day counted, YYYY-MM-DD (UTC), inclusive")] = None,
    experiment: Annotated[
        str | None, typer.Option(help='only this experiment\'s counts ("" for traffic outside experiments)')
    ] = None,
    design: Annotated[
        str | None,
        typer.Option(
            help="ab|interleave: how the experiment's arms were served (default: the running "
            "experiment's design; ab for one no longer running)"
        ),
    ] = None,
    bootstrap: Annotated[
        int,
        typer.Option(
            min=0, max=100_000, help="A/B: also a bootstrap interval from this many resamples (0: none)"
        ),
    ] = 0,
    seed: Annotated[int, typer.Option(help="seed of the bootstrap")] = 0,
    as_json: Annotated[bool, typer.Option("--json", help="print JSON instead of tables")] = False,
    plot: Annotated[Path | None, typer.Option("--plot", help="write PNG plots into this folder")] = None,
    data_dir: DataDir = None,
) -> None:
    """Report impressions, clicks and CTR by block, position, section, day and arm, with 95%
    intervals, position bias, and each experiment's arms compared (A/B: two-proportion z-test;
    interleaving: sign test on the clicks credited to each arm)."""
    from recsys.catalog.feedback import read_counts
    from recsys.evaluation import click_report

    settings = make_settings(data_dir=data_dir, log_level="warning")
    configure_logging(settings.log_level)
    first, last = click_report.parse_day(since, "--since"), click_report.parse_day(until, "--until")
    click_report.check_range(first, last)
    root = Root(settings)
    try:
        designs = click_report.designs_for(root.catalog, experiment, design)
        rows = read_counts(root.catalog, since=first, until=last, experiment=experiment)
    finally:
        root.close()
    summary = click_report.build(
        rows, since=first, until=last, experiment=experiment, designs=designs, bootstrap=bootstrap, seed=seed
    )
    if as_json:
        typer.echo(json.dumps(summary, indent=2))
    else:
        typer.echo(click_report.format_text(summary))
    if plot is not None:
        for path in click_report.write_plots(summary, plot):
            typer.echo(f"wrote {path}", err=as_json)
