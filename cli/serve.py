"""The serving group: `recsys serve` and `recsys demo-corpus`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from cli.common import DataDir, LogLevel, Model, log, make_settings
from recsys.errors import ConfigError
from recsys.root import Root
from recsys.settings import Settings


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
    http_server: Annotated[
        str | None, typer.Option("--server", help="uvicorn|granian: the HTTP server (docs/deployment.md)")
    ] = None,
) -> None:
    """Serve the HTTP API with uvicorn or granian (docs at /docs); with --workers N, in N processes."""
    flags = {
        "data_dir": data_dir,
        "model": model,
        "host": host,
        "port": port,
        "log_level": log_level,
        "workers": workers,
        "log_format": log_format,
        "http_server": http_server,
    }
    settings = make_settings(**flags)
    from service.logs import configure as configure_service_logging
    from service.run import check_server, serves_in_process
    from service.run import serve as run_service

    configure_service_logging(settings)  # the service's format from the first line on

    check_server(settings)
    # With `auto`, the encoder of the version served, not the one measured here (recsys/root.py).
    root = Root(settings, follows_index=True)
    if root.store.current_version() is None:
        raise ConfigError(f"no index in {settings.index_root}; run `recsys build` first")
    # Load the model first, so a wrong model is a one-line error rather than a failed startup (in
    # every worker). One uvicorn process serves with it; workers (several, or granian's) each load
    # their own, so the check runs in a short-lived process: this one only supervises, and would
    # keep PyTorch and the model in memory (about half a gigabyte) for nothing.
    encoder = root.encoder if serves_in_process(settings) else None
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


def demo_corpus(
    output: Annotated[Path, typer.Option("--output", "-o", help="file to write (.jsonl or .jsonl.gz)")],
    seed: Annotated[int, typer.Option(help="generator seed")] = 2026,
    languages: Annotated[
        bool, typer.Option("--languages", help="add editions in Arabic, Chinese, German and Spanish")
    ] = False,
) -> None:
    """Write the built-in fictional demo corpus as JSON Lines."""
    from recsys.demo_corpus import write_jsonl

    count = write_jsonl(output, seed=seed, languages=languages)
    typer.echo(f"wrote {count} articles to {output}")
