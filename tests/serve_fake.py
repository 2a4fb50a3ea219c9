"""Test-only entry point: the real app under uvicorn with the fake encoder, so process-level tests
(hot reload under load) need no model. Settings come from RECSYS_* variables as in production.

    RECSYS_DATA_DIR=... RECSYS_PORT=... python -m tests.serve_fake
"""

from __future__ import annotations

import uvicorn

from recsys.settings import Settings
from service.app import create_app
from tests.fakes import FakeEncoder


def main() -> None:
    settings = Settings()
    app = create_app(settings, encoder=FakeEncoder())
    uvicorn.run(app, host=settings.host, port=settings.port, log_level=settings.log_level)


if __name__ == "__main__":
    main()
