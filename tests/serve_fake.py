"""Test-only entry point: the real app under uvicorn with the fake encoder, so process-level tests
(hot reload under load, several workers) need no model. Settings come from RECSYS_* variables as in
production, and it runs through the same code as `recsys serve` (service/run.py): one process, or
with RECSYS_WORKERS > 1 uvicorn workers that each build the app with `app_from_env` below.

    RECSYS_DATA_DIR=... RECSYS_PORT=... [RECSYS_WORKERS=2] python -m tests.serve_fake
"""

from __future__ import annotations

from fastapi import FastAPI

from recsys.settings import Settings
from service import app as service_app
from service.run import serve
from tests.fakes import FakeEncoder

FACTORY = "tests.serve_fake:app_from_env"


def app_from_env() -> FastAPI:
    """service.app:app_from_env with the fake encoder: what each worker builds."""
    return service_app.app_from_env(encoder=FakeEncoder())


def main() -> None:
    serve(Settings(), {}, lambda settings: service_app.create_app(settings, encoder=FakeEncoder()), FACTORY)


if __name__ == "__main__":
    main()
