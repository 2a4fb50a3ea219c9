"""gunicorn settings for the service, from the same Settings as `recsys serve`:

    PROMETHEUS_MULTIPROC_DIR=/run/recsys-metrics RECSYS_WORKERS=2 \\
        gunicorn -c python:service.gunicorn_conf 'service.app:app_from_env()'

Bind address and worker count come from RECSYS_HOST / RECSYS_PORT / RECSYS_WORKERS (gunicorn's own
flags, given after `-c`, still win), workers are uvicorn workers (the `uvicorn-worker` package), and
two hooks do what `recsys serve` does for its workers: the metrics folder is emptied before any worker
starts, and a worker that exits, even killed, has its live gauges dropped.

The metrics folder must be in the environment as PROMETHEUS_MULTIPROC_DIR before gunicorn starts:
prometheus-client chooses multiprocess mode when it is first imported, and gunicorn's workers are
forked from a master that has imported it by the time this file is read.
"""

from __future__ import annotations

import logging
from typing import Any

from prometheus_client import multiprocess

from recsys.errors import ConfigError
from recsys.settings import Settings
from service.metrics import multiprocess_mode
from service.run import empty_metrics_folder

_settings = Settings()
_log = logging.getLogger("gunicorn.error")

bind = f"{_settings.host}:{_settings.port}"
workers = _settings.workers
worker_class = "uvicorn_worker.UvicornWorker"
# A worker loads the model and the index in its lifespan before it first answers gunicorn's
# heartbeat: gunicorn's default 30 s would kill it while it loads a large index.
timeout = 120


def on_starting(server: Any) -> None:
    if _settings.metrics_dir is not None:
        if not multiprocess_mode():
            raise ConfigError("RECSYS_METRICS_DIR needs PROMETHEUS_MULTIPROC_DIR set to the same folder")
        empty_metrics_folder(_settings.metrics_dir)
    elif server.cfg.workers > 1:
        _log.warning("PROMETHEUS_MULTIPROC_DIR is not set: /metrics will show one worker's counts only")


def child_exit(server: Any, worker: Any) -> None:
    if _settings.metrics_dir is not None:
        multiprocess.mark_process_dead(worker.pid, str(_settings.metrics_dir))
