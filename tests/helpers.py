"""Small helpers that several test modules share (no test module imports another).

What they share: where the repository and the shared corpora are,
the one way to build the app under a TestClient, the check of a CLI one-line error, requests held
inside the encoder, a tiny evaluation corpus with known answers, a small bilingual one with rated
pairs, and docs/deployment.md's multi-host recipe up to its replicas (the deploy, each replica's
variables). Fixtures live in conftest.py, fakes of the product's parts in fakes.py and real servers
in servers.py; no test module imports another."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient
from typer.testing import Result

from index.build import build_index
from recsys.articles import Article
from recsys.catalog.ingest import import_file
from recsys.catalog.store import Catalog, StoredArticle
from recsys.encoding.protocol import Encoder
from recsys.evaluation.corpus import EvalCorpus
from recsys.settings import Settings
from service.app import create_app
from tests.fakes import FakeEncoder, write_jsonl

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"
DRAFT = {"title": "harbour ferry dock", "body": "cargo crane at the quay"}
WAIT = 10.0  # seconds: only a broken test waits this long


def shared_corpus(name: str) -> Path:
    """Path of a shared corpus, or skip the test with the reason."""
    path = SHARED_DATA / name / "articles.jsonl.gz"
    if not path.is_file():
        pytest.skip(f"shared corpus {name} not found at {path} (only present beside the repo, e.g. in CI)")
    return path


class ClientFactory:
    """Builds the app on one data folder and returns its TestClient, started (lifespan run); every
    client it made is closed by `close()` (the `make_client` fixture calls it at teardown)."""

    def __init__(self, data_dir: Path, encoder: Encoder) -> None:
        self.data_dir = data_dir
        self.encoder = encoder
        self._clients = ExitStack()

    def __call__(
        self, settings: Settings | None = None, *, encoder: Encoder | None = None, **overrides: object
    ) -> TestClient:
        """The app on `settings`, or else on the data folder with `overrides`; with the factory's
        encoder (the fake one the `built` fixture indexed with) unless `encoder` is given."""
        if settings is not None and overrides:
            raise TypeError("pass settings or overrides, not both")
        if settings is None:
            settings = Settings(data_dir=self.data_dir, **overrides)  # type: ignore[arg-type]
        app = create_app(settings, encoder=self.encoder if encoder is None else encoder)
        return self._clients.enter_context(TestClient(app))

    def close(self) -> None:
        self._clients.close()


def deploy(catalog_url: str, corpus: Path, builder_dir: Path, versions: Path) -> None:
    """docs/deployment.md's multi-host recipe before its replicas start: `recsys migrate`, then `recsys
    ingest` and `recsys build` on the builder (a data folder of its own, versions published into the
    shared folder `versions`), through the functions those commands call, with the fake encoder."""
    Catalog.migrate(catalog_url)
    catalog = Catalog(catalog_url)
    try:
        import_file(catalog, corpus, strict=True)
        builder = Settings(data_dir=builder_dir, index_dir=versions, catalog_url=catalog_url)
        build_index(builder, catalog, FakeEncoder())
    finally:
        catalog.dispose()


def replica_variables(
    data_dir: Path, *, index_dir: Path, catalog_url: str, api_key: str, **settings: str
) -> dict[str, str]:
    """A replica's variables in that recipe: a data folder of its own, the shared version folder and
    catalog, the admin key; plus `settings` (`cache_max_age="3"`: RECSYS_CACHE_MAX_AGE)."""
    return {
        "RECSYS_DATA_DIR": str(data_dir),
        "RECSYS_INDEX_DIR": str(index_dir),
        "RECSYS_CATALOG_URL": catalog_url,
        "RECSYS_API_KEY": api_key,
        "RECSYS_LOG_LEVEL": "warning",
    } | {f"RECSYS_{name.upper()}": value for name, value in settings.items()}


def one_line_error(result: Result, fragment: str) -> None:
    """A CLI command failed as the CLI promises: exit 1, one `error: ` line naming `fragment`, and
    no traceback."""
    assert result.exit_code == 1, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and fragment in lines[0], result.stderr
    assert "Traceback" not in result.output


class HeldEncoder(FakeEncoder):
    """The fake encoder, except that once `hold` is set each call waits for `release`, counting in."""

    def __init__(self) -> None:
        super().__init__()
        self.hold = False
        self.inside = threading.Semaphore(0)
        self.release = threading.Event()

    def encode(self, texts: list[str], *, batch_size: int = 64, progress: bool = False) -> np.ndarray:
        if self.hold:
            self.inside.release()
            if not self.release.wait(WAIT):
                raise TimeoutError("the test never released the encoder")
        return super().encode(texts, batch_size=batch_size, progress=progress)


@contextmanager
def held_drafts(client: TestClient, encoder: HeldEncoder, n: int) -> Iterator[list[Future[Any]]]:
    """`n` drafts held inside the encoder; released (and answered) when the block ends."""
    encoder.hold = True
    with ThreadPoolExecutor(n) as pool:
        try:
            held = [pool.submit(client.post, "/related", json=DRAFT) for _ in range(n)]
            for _ in range(n):
                assert encoder.inside.acquire(timeout=WAIT), "a held draft never reached the encoder"
            yield held
        finally:
            encoder.release.set()
    encoder.hold = False


def _stored(key: int, article_id: str, **fields: object) -> StoredArticle:
    article = Article(id=article_id, title=article_id, **fields)  # type: ignore[arg-type]
    return StoredArticle(
        key=key, article=article, status="published", content_hash=article.content_hash, updated_at="x"
    )


def tiny_corpus() -> EvalCorpus:
    """Five articles; a and b are near-duplicates (same vector), d is orthogonal to everything."""
    vectors = np.array(
        [[1, 0, 0], [1, 0, 0], [0.8, 0.6, 0], [0, 0, 1], [0, 1, 0]],
        dtype=np.float32,
    )
    articles = [
        _stored(1, "a", section="x", tags=("t1",), published_at="2026-01-10T00:00:00Z", related=("c",)),
        _stored(2, "b", section="x", tags=("t2",), published_at="2026-01-08T00:00:00Z"),
        _stored(3, "c", section="y", tags=("t1",), published_at="2026-01-12T00:00:00Z"),
        _stored(4, "d", section="y", published_at="2026-01-01T00:00:00Z"),
        _stored(5, "e", section="x", tags=("t1", "t2")),
    ]
    return EvalCorpus(articles, vectors)


class Fixed:
    """An evaluation method with known answers: the lists it is given."""

    def __init__(self, name: str, lists: dict[str, list[str]]) -> None:
        self.name = name
        self._lists = lists

    def recommend(self, query: StoredArticle, k: int) -> list[str]:
        return self._lists.get(query.id, [])[:k]


def until(what: str, check: Callable[[], Any], seconds: float = 60.0) -> Any:
    """Poll `check` until it returns something true, and return that; fail the test, naming `what`,
    if `seconds` pass first. A bound on a wait, never an expectation of speed."""
    deadline = time.monotonic() + seconds
    while not (found := check()):
        if time.monotonic() > deadline:
            pytest.fail(f"not within {seconds:.0f} s: {what}")
        time.sleep(0.05)
    return found


BILINGUAL_WORDS = {
    "harbour": "harbour ferry dock tide pier crane cargo quay",
    "ballot": "ballot mayor campaign voters poll council candidate turnout",
    "goal": "goal striker league keeper penalty stadium coach derby",
}


def bilingual_corpus(folder: Path) -> Path:
    """`articles.jsonl` and `pairs.tsv` in `folder`: per topic, two English and two German articles
    on the same words (a fake encoder knows no languages), each linked to the other three; and rated
    pairs across and within the languages."""
    records: list[dict[str, object]] = []
    for topic, words in BILINGUAL_WORDS.items():
        ids = [f"{topic}-{language}{i}" for language in ("en", "de") for i in range(2)]
        for at, article_id in enumerate(ids):
            records.append(
                {
                    "id": article_id,
                    "title": f"{words.split()[at]} {topic}",
                    "body": f"{words} {article_id}",
                    "language": article_id.split("-")[1][:2],
                    "related": [i for i in ids if i != article_id],
                }
            )
    rows = ["id1\tid2\tlang1\tlang2\toverall"]
    for topic in BILINGUAL_WORDS:
        rows += [f"{topic}-en0\t{topic}-de0\ten\tde\t1.0", f"{topic}-en1\t{topic}-en0\ten\ten\t1.5"]
    rows += ["harbour-en0\tballot-de1\ten\tde\t4.0", "goal-en1\tballot-en0\ten\ten\t4.0"]
    (folder / "pairs.tsv").write_text("\n".join(rows) + "\n")
    return write_jsonl(folder / "articles.jsonl", records)
