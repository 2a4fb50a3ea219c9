"""Test-only entry point: the real app under uvicorn with the fake encoder, so process-level tests
(hot reload under load, the CMS across processes) need no model. Settings come from RECSYS_* variables
as in production.

    RECSYS_DATA_DIR=... RECSYS_PORT=... python -m tests.serve_fake [--hold-file PATH]

With --hold-file, every encoder call waits while PATH exists: a test holds a build in the middle (the
build lock taken, the status running) for as long as it needs, with no timing involved.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import uvicorn

from recsys.settings import Settings
from service.app import create_app
from tests.fakes import FakeEncoder


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
    settings = Settings()
    encoder = HeldEncoder(args.hold_file) if args.hold_file else FakeEncoder()
    app = create_app(settings, encoder=encoder)
    uvicorn.run(app, host=settings.host, port=settings.port, log_level=settings.log_level)


if __name__ == "__main__":
    main()
