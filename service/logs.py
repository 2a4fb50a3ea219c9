"""How the service logs: text or JSON lines, uvicorn's included, stamped with pid and request id.

One handler on stderr for our loggers and uvicorn's alike, in the format of
RECSYS_LOG_FORMAT (text: one readable line; json: one JSON object per line), each record stamped with
the worker's pid and the id of the request it was emitted for (service/request_id.py).

`log_config(settings)` is a `logging.config.dictConfig` dictionary: `recsys serve` hands it to
uvicorn (which applies it in the parent and in every worker), and the app factory applies it too, so
`uvicorn --factory` and gunicorn workers log the same way.
"""

from __future__ import annotations

import contextlib
import logging
import logging.config
import sys
from datetime import UTC, datetime
from typing import Any

import orjson

from recsys.settings import Settings
from service import request_id

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(process)d %(request_id)s] %(message)s"
# uvicorn's access line is `'%s - "%s %s HTTP/%s" %d'` with these arguments: in JSON they become
# fields of their own, so a log pipeline needs no regular expression to count statuses.
_ACCESS_FIELDS = ("client", "method", "path", "http_version", "status")


class RequestIdFilter(logging.Filter):
    """Stamps each record with the current request's id ("-" outside any request). On the handler,
    not on a logger: a logger's filters do not see records propagated from its children."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id.current.get() or "-"
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        request = getattr(record, "request_id", "-")
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
            "pid": record.process,
            "request_id": None if request == "-" else request,
        }
        if record.name == "uvicorn.access" and isinstance(record.args, tuple) and len(record.args) == 5:
            entry.update(zip(_ACCESS_FIELDS, record.args, strict=True))
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        elif record.exc_text:
            entry["exception"] = record.exc_text
        # default=str: a message argument that is not JSON (a Path, an exception) is written as text
        return orjson.dumps(entry, default=str).decode()


def log_config(settings: Settings) -> dict[str, Any]:
    level = settings.log_level.upper()
    formatter: dict[str, Any] = (
        {"()": f"{__name__}.JsonFormatter"} if settings.log_format == "json" else {"format": TEXT_FORMAT}
    )
    # uvicorn's loggers lose their own handlers and propagate to ours: one format, one stream.
    through_root = {"handlers": [], "propagate": True, "level": level}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"request_id": {"()": f"{__name__}.RequestIdFilter"}},
        "formatters": {"recsys": formatter},
        "handlers": {
            "stderr": {
                "class": "logging.StreamHandler",
                "stream": "ext://sys.stderr",
                "formatter": "recsys",
                "filters": ["request_id"],
            }
        },
        "root": {"handlers": ["stderr"], "level": level},
        "loggers": {name: through_root for name in ("uvicorn", "uvicorn.error", "uvicorn.access")},
    }


def configure(settings: Settings) -> None:
    logging.config.dictConfig(log_config(settings))
    quiet_progress_bars()


def quiet_progress_bars() -> None:
    """A server's output is log lines: the model loader's progress bars ("Loading weights: 100%|...")
    would be lines of another format in the middle of them. huggingface_hub's switch also holds for
    transformers when it is imported later; if it already was, its own switch is flipped too."""
    with contextlib.suppress(ImportError):
        from huggingface_hub.utils import disable_progress_bars

        disable_progress_bars()
    if "transformers" in sys.modules:
        from transformers.utils import logging as transformers_logging

        transformers_logging.disable_progress_bar()
