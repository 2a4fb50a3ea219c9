"""Running the service under uvicorn or granian, as `recsys serve` does: one process or N workers.

One process (the app built here, with
the model the command line already loaded), or N worker processes sharing one listening socket.

Workers are started by uvicorn with `spawn`: each imports the app factory (service.app:app_from_env)
and builds its own Settings from the environment. So the flags given on the command line are handed
to them as the RECSYS_* variables they stand for, and each worker builds the same settings as the
parent. Each worker then loads its own model and index and runs its own CURRENT watcher.

Metrics of several workers need prometheus-client's multiprocess mode: a folder, emptied before the
workers start (RECSYS_METRICS_DIR, or a temporary one removed at the end), exported as
PROMETHEUS_MULTIPROC_DIR, the variable the library itself reads when a worker imports it.

granian (RECSYS_HTTP_SERVER=granian) always serves from worker processes, one or N, started with
`spawn` like uvicorn's: the same factory, the same hand-off, the same metrics folder; this process
only supervises. Its ASGI interface runs the app's lifespan (startup, the CURRENT watcher, shutdown)
in each worker, and it stops its workers gracefully on SIGTERM and SIGINT.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib.util
import logging
import multiprocessing
import os
import socket
import tempfile
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import uvicorn
from fastapi import FastAPI
from uvicorn.protocols.http.auto import AutoHTTPProtocol
from uvicorn.protocols.http.h11_impl import H11Protocol

from recsys.errors import ConfigError
from recsys.settings import Settings
from service.logs import log_config
from service.metrics import multiprocess_mode

FACTORY = "service.app:app_from_env"
MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"

log = logging.getLogger(__name__)


def set_nodelay(transport: asyncio.BaseTransport) -> None:
    """Send small writes at once (TCP_NODELAY) on a connection's socket."""
    sock = transport.get_extra_info("socket")
    if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


class NoDelayHTTP(AutoHTTPProtocol):  # type: ignore[misc, valid-type]
    """uvicorn's HTTP protocol (httptools when installed, else h11), with TCP_NODELAY on every
    connection. With several workers uvicorn binds the listening socket itself, without naming the
    protocol (proto 0), and asyncio then skips TCP_NODELAY on the connections it accepts: a response
    written in two pieces (headers, body) waits for the client's delayed ACK, about 40 ms on Linux,
    on every request of a kept-alive connection (measured: 44 ms instead of 1.7 ms per sequential
    request)."""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        set_nodelay(transport)
        super().connection_made(transport)


class NoDelayH11(H11Protocol):  # type: ignore[misc]
    """The pure-Python h11 protocol (RECSYS_HTTP_PARSER=h11), with TCP_NODELAY as above."""

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        set_nodelay(transport)
        super().connection_made(transport)


def http_protocol(settings: Settings) -> type[asyncio.Protocol]:
    """The HTTP protocol class of RECSYS_HTTP_PARSER: httptools (auto, when installed) or h11."""
    if settings.http_parser == "h11":
        return NoDelayH11
    if settings.http_parser == "httptools" and AutoHTTPProtocol is H11Protocol:
        raise ConfigError(
            "RECSYS_HTTP_PARSER=httptools, but httptools is not installed (pip install httptools)"
        )
    return NoDelayHTTP


def event_loop(settings: Settings) -> str:
    """uvicorn's loop setting for RECSYS_HTTP_LOOP: asyncio, or uvloop when asked for and installed."""
    if settings.http_loop == "uvloop" and importlib.util.find_spec("uvloop") is None:
        raise ConfigError("RECSYS_HTTP_LOOP=uvloop, but uvloop is not installed (pip install uvloop)")
    return settings.http_loop


def worker_environment(flags: Mapping[str, object]) -> dict[str, str]:
    """The RECSYS_* variables standing for the flags that were given (None: not given)."""
    return {f"RECSYS_{name.upper()}": str(value) for name, value in flags.items() if value is not None}


@contextlib.contextmanager
def metrics_folder(settings: Settings) -> Iterator[Path | None]:
    """The folder for multiprocess metrics, ready for a new run: the configured one, emptied, or with
    several workers and none configured a temporary one, removed at the end. None for one process
    without one."""
    if settings.metrics_dir is None:
        if settings.workers == 1:
            yield None
            return
        with tempfile.TemporaryDirectory(prefix="recsys-metrics-") as folder:
            yield Path(folder)
        return
    empty_metrics_folder(settings.metrics_dir)
    yield settings.metrics_dir


def empty_metrics_folder(folder: Path) -> None:
    """Create `folder` if missing and remove the files an earlier run left there: otherwise a
    restarted service would add its counts to the old ones."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        # Only the library's own files: the folder is the operator's, and may hold anything else.
        for stale in folder.glob("*.db"):
            stale.unlink()
    except OSError as exc:
        raise ConfigError(f"metrics folder {folder}: {exc.strerror or exc}") from exc


def serves_in_process(settings: Settings) -> bool:
    """Whether the app runs in this process (uvicorn, one worker), so that a model loaded here is used;
    otherwise every worker builds its own and this process only supervises."""
    return settings.http_server == "uvicorn" and settings.workers == 1


def check_server(settings: Settings) -> None:
    """A ConfigError when the HTTP server asked for is granian, an optional dependency, and it is
    missing: before anything is loaded."""
    if settings.http_server == "granian" and importlib.util.find_spec("granian") is None:
        raise ConfigError(
            "RECSYS_HTTP_SERVER=granian, but granian is not installed (pip install 'recsys-news[granian]')"
        )


def granian_log_config(settings: Settings) -> dict[str, Any]:
    """Our log config with granian's loggers (its own lines and its access log, which stays off)
    sent through our handler, as uvicorn's are."""
    config = log_config(settings)
    level = settings.log_level.upper()
    through_root = {"handlers": [], "propagate": True, "level": level}
    config["loggers"] |= {"_granian": through_root, "granian.access": through_root}
    return config


def run_granian(settings: Settings, factory: str) -> None:
    """granian serving `factory` in settings.workers processes, until SIGTERM or SIGINT."""
    from granian.constants import Interfaces, Loops
    from granian.log import LogLevels
    from granian.server import Server

    # Forked workers would inherit prometheus-client as this process imported it (before the metrics
    # folder was exported: no multiprocess mode) and a loaded model's threads; spawned ones start
    # clean and import the factory, as uvicorn's do. granian uses the process-wide start method.
    multiprocessing.set_start_method("spawn", force=True)
    loop = event_loop(settings)
    server = Server(
        factory,
        address=settings.host,
        port=settings.port,
        interface=Interfaces.ASGI,  # ASGI with lifespan: each worker runs the app's startup and shutdown
        workers=settings.workers,
        loop=Loops.uvloop if loop == "uvloop" else Loops.asyncio,
        websockets=False,
        factory=True,
        # as uvicorn does, a worker that dies is started again; one that dies at startup stops the
        # server (granian's crash-loop check) rather than restarting forever
        respawn_failed_workers=True,
        log_level=LogLevels(settings.log_level),
        log_dictconfig=granian_log_config(settings),
    )
    server.serve()


def serve(
    settings: Settings,
    flags: Mapping[str, object],
    make_app: Callable[[Settings], FastAPI],
    factory: str = FACTORY,
) -> None:
    """Serve until interrupted. `flags`: the settings given on the command line (handed to the
    workers); `make_app`: the app of a single process; `factory`: the import string workers build
    theirs from (tests give one with a fake encoder)."""
    check_server(settings)
    in_process = serves_in_process(settings)
    if in_process and settings.metrics_dir is not None and not multiprocess_mode():
        # One process is the whole truth in its own registry, and this process imported
        # prometheus-client before the folder could be exported: it would refuse the folder.
        log.info("one worker: metrics are kept in memory, %s is not used", settings.metrics_dir)
        settings = settings.model_copy(update={"metrics_dir": None})
    with metrics_folder(settings) as folder:
        environment = worker_environment(flags)
        if folder is not None:
            environment[MULTIPROC_ENV] = str(folder)
            settings = settings.model_copy(update={"metrics_dir": folder})
        # Spawned workers inherit the environment as it is when they start.
        os.environ.update(environment)
        if settings.http_server == "granian":
            run_granian(settings, factory)
            return
        # One worker runs the app built here (with the model already loaded); several build theirs.
        uvicorn.run(
            make_app(settings) if in_process else factory,
            factory=not in_process,
            workers=settings.workers,
            http=http_protocol(settings),
            loop=event_loop(settings),
            host=settings.host,
            port=settings.port,
            log_level=settings.log_level,
            log_config=log_config(settings),
        )
