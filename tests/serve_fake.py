"""Test-only entry point: the real app under uvicorn with the fake encoder.

So process-level tests
(hot reload under load, the CMS across processes, several workers) need no model. Settings come from
RECSYS_* variables as in production, and it runs through the same code as `recsys serve`
(service/run.py): one process, or with RECSYS_WORKERS > 1 uvicorn workers that each build the app with
`app_from_env` below.

    RECSYS_DATA_DIR=... RECSYS_PORT=... [RECSYS_WORKERS=2] python -m tests.serve_fake [--hold-file PATH]

With --hold-file (one process), every encoder call waits while PATH exists: a test holds a build in the
middle (the build lock taken, the status running) for as long as it needs, with no timing involved.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
from fastapi import FastAPI

from recsys.settings import Settings
from service import app as service_app
from service.run import serve
from tests.fakes import FakeEncoder

FACTORY = "tests.serve_fake:app_from_env"


def app_from_env() -> FastAPI:
    """service.app:app_from_env with the fake encoder: what each worker builds."""
    return service_app.app_from_env(encoder=FakeEncoder())


class HeldEncoder(FakeEncoder):
    def __init__(self, hold: Path) -> None:
        super().__init__()
        self.hold = hold

    def encode(self, texts: list[str], *, batch_size: int = 64, progress: bool = False) -> np.ndarray:
        while self.hold.exists():
            time.sleep(0.05)
        return super().encode(texts, batch_size=batch_size, progress=progress)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--hold-file", type=Path)
    args = parser.parse_args()
    encoder = HeldEncoder(args.hold_file) if args.hold_file else FakeEncoder()
    serve(Settings(), {}, lambda settings: service_app.create_app(settings, encoder=encoder), FACTORY)


if __name__ == "__main__":
    main()
