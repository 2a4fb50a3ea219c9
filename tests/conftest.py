"""Shared fixtures: settings, the fake encoder, a built index, the app, the CLI, the real model.

Settings in a temporary folder, the fake encoder and synthetic corpus, a built
index, the app under a TestClient, the CLI with the fake encoder, a PostgreSQL server, an S3 server
and the real model (session-scoped, started or loaded once)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from index.build import build_index
from recsys.catalog.ingest import import_file
from recsys.catalog.store import Catalog
from recsys.encoding.encoders import SentenceTransformerEncoder, load_encoder
from recsys.encoding.protocol import Encoder
from recsys.root import Root
from recsys.settings import Settings
from tests.fakes import FakeEncoder, synthetic_records, use_fake_model, write_jsonl
from tests.helpers import ClientFactory
from tests.objectstore import CREDENTIALS as S3_CREDENTIALS
from tests.objectstore import S3Server
from tests.objectstore import start_or_skip as start_or_skip_s3
from tests.postgres import PostgresServer, start_or_skip

# What the tests run instead of the default `auto` (the default before it).
PINNED_BACKEND = "openvino"


@pytest.fixture(scope="session", autouse=True)
def _pinned_backend() -> Iterator[None]:
    """The pin below for session- and module-scoped fixtures too (set up before `_isolated_env`)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("RECSYS_ENCODER_BACKEND", PINNED_BACKEND)
        yield


@pytest.fixture(autouse=True)
def _isolated_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    # Settings read RECSYS_* variables and a .env file: neither may leak into tests.
    import os

    for name in list(os.environ):
        if name.startswith("RECSYS_"):
            monkeypatch.delenv(name)
    # The default backend, `auto`, measures every candidate in each fresh data folder (26-47 s here):
    # pinned for the tests (and the processes they start with this environment); the tests of the
    # automatic choice unset it (tests/encoding/test_choice.py, tests/encoding/test_follow.py).
    monkeypatch.setenv("RECSYS_ENCODER_BACKEND", PINNED_BACKEND)
    monkeypatch.chdir(tmp_path)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path / "data")


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """One PostgreSQL server for the session, from the machine's binaries (tests/postgres.py)."""
    server = start_or_skip()
    yield server
    server.stop()


@pytest.fixture
def own_postgres() -> Iterator[PostgresServer]:
    """A PostgreSQL server of the test's own, which it may kill and resume; commits durable."""
    server = start_or_skip(durable=True)
    yield server
    server.stop()


@pytest.fixture(scope="session")
def s3_server() -> Iterator[S3Server]:
    """One S3 API (moto's server) for the session (tests/objectstore.py)."""
    server = start_or_skip_s3()
    yield server
    server.stop()


@pytest.fixture
def versions_url(s3_server: S3Server, monkeypatch: pytest.MonkeyPatch) -> str:
    """A bucket of the test's own on the session's S3 server, and the AWS_* credentials to reach it."""
    for name, value in S3_CREDENTIALS.items():
        monkeypatch.setenv(name, value)
    return s3_server.bucket()


@pytest.fixture
def encoder() -> FakeEncoder:
    return FakeEncoder()


@pytest.fixture
def corpus_file(tmp_path: Path) -> Path:
    return write_jsonl(tmp_path / "articles.jsonl", synthetic_records())


@pytest.fixture
def catalog(settings: Settings) -> Iterator[Catalog]:
    root = Root(settings)
    yield root.catalog
    root.close()


@pytest.fixture
def built(settings: Settings, catalog: Catalog, encoder: FakeEncoder, corpus_file: Path) -> Catalog:
    """The synthetic corpus imported and indexed with the fake encoder."""
    import_file(catalog, corpus_file, strict=True)
    build_index(settings, catalog, encoder)
    return catalog


@pytest.fixture
def make_client(settings: Settings, encoder: FakeEncoder) -> Iterator[ClientFactory]:
    """`make_client(**overrides)`: the app on the test's data folder with the fake encoder, as a
    started TestClient; closed at teardown."""
    factory = ClientFactory(settings.data_dir, encoder)
    yield factory
    factory.close()


@pytest.fixture
def client(built: Catalog, make_client: ClientFactory) -> TestClient:
    """The app with default settings over the built synthetic corpus."""
    return make_client()


@pytest.fixture
def fake_model(monkeypatch: pytest.MonkeyPatch) -> None:
    """CLI commands that would load the real model get the fake encoder instead."""
    use_fake_model(monkeypatch)


@pytest.fixture(scope="session")
def real_encoder() -> SentenceTransformerEncoder:
    return SentenceTransformerEncoder()


@pytest.fixture(scope="session")
def auto_encoder(tmp_path_factory: pytest.TempPathFactory) -> tuple[Settings, Encoder]:
    """The automatic backend choice measured for real, once a session (26-47 s: every candidate is
    exported, quantised and timed): its data folder's settings and the encoder it chose."""
    settings = Settings(data_dir=tmp_path_factory.mktemp("auto") / "data", encoder_backend="auto")
    return settings, load_encoder(settings)
