"""`recsys build` and `recsys rollback` with RECSYS_VERSIONS_URL, against moto's S3 server: the build
publishes to the object store, a rollback from a host that never built moves its CURRENT, and an
unreachable object store is one line and exit 1."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from cli import app as cli
from recsys.version.remote import RemoteVersions
from tests.helpers import one_line_error
from tests.objectstore import S3Server
from tests.servers import free_port

runner = CliRunner()


@pytest.fixture(autouse=True)
def fake_model(fake_model: None, monkeypatch: pytest.MonkeyPatch) -> None:
    # rollback checks the target's model against the configured one without loading it
    monkeypatch.setattr("recsys.encoding.encoders.encoder_identity", lambda settings: "fake-bag-of-words")


def _run(*args: str):  # type: ignore[no-untyped-def]
    return runner.invoke(cli.app, list(args))


def test_build_publishes_to_the_object_store_and_rollback_moves_its_current(
    tmp_path: Path,
    corpus_file: Path,
    versions_url: str,
    s3_server: S3Server,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("RECSYS_VERSIONS_URL", versions_url)
    monkeypatch.setenv("RECSYS_VERSIONS_ENDPOINT", s3_server.endpoint)
    data = str(tmp_path / "builder")
    assert _run("build", "-i", str(corpus_file), "--data-dir", data, "--no-progress").exit_code == 0
    assert _run("build", "--full", "--data-dir", data, "--no-progress").exit_code == 0
    remote = RemoteVersions(versions_url, s3_server.endpoint)
    first, second = remote.list_versions()
    assert remote.current() == second

    rolled = _run("rollback", "--data-dir", str(tmp_path / "another-host"))
    assert rolled.exit_code == 0, rolled.output
    assert rolled.stdout.strip() == f"current index version in {versions_url}: {first} (was {second})"
    assert remote.current() == first

    monkeypatch.setenv("RECSYS_VERSIONS_ENDPOINT", f"http://127.0.0.1:{free_port()}")
    one_line_error(_run("rollback", second, "--data-dir", data), f"object store {versions_url}: cannot")
    failed = _run("build", "--data-dir", data, "--no-progress")  # its log lines come first
    assert failed.exit_code == 1 and "Traceback" not in failed.output
    error = failed.stderr.strip().splitlines()[-1]
    assert error.startswith("error: index version") and f"only: object store {versions_url}" in error
    assert remote.current() == first
