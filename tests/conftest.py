"""Shared fixtures: settings in a temporary folder, the fake encoder and synthetic corpus, a built
index, and the real model (session-scoped, loaded once)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from index.build import build_index
from recsys.catalog.ingest import import_file
from recsys.catalog.sqlite import Catalog
from recsys.encoding.encoders import SentenceTransformerEncoder
from recsys.root import Root
from recsys.settings import Settings
from tests.fakes import FakeEncoder, synthetic_records, write_jsonl

REPO = Path(__file__).resolve().parent.parent
SHARED_DATA = REPO.parent / "shared" / "data"


def shared_corpus(name: str) -> Path:
    """Path of a shared corpus, or skip the test with the reason."""
    path = SHARED_DATA / name / "articles.jsonl.gz"
    if not path.is_file():
        pytest.skip(f"shared corpus {name} not found at {path} (only present beside the repo, e.g. in CI)")
    return path


@pytest.fixture(autouse=True)
def _isolated_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    # Settings read RECSYS_* variables and a .env file: neither may leak into tests.
    import os

    for name in list(os.environ):
        if name.startswith("RECSYS_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path / "data")


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


@pytest.fixture(scope="session")
def real_encoder() -> SentenceTransformerEncoder:
    return SentenceTransformerEncoder()
