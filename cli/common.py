"""What every command shares: common options, settings from flags, logging, one-line errors.

The common options, settings from the flags, logging, and turning a
domain error into one line and an exit code.

Every option that is a Settings field also reads its RECSYS_* environment variable, through Settings
only (make_settings: a flag wins over the environment and .env); --help names the variable
(cli/app.py). Domain errors print one line, `error: ...`, and exit 1.
"""

from __future__ import annotations

import functools
import logging
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, ParamSpec, TypeVar

import typer
from pydantic import ValidationError

from recsys.errors import ConfigError, RecsysError
from recsys.settings import Settings

log = logging.getLogger("recsys")

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
