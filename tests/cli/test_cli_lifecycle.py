"""The lifecycle commands: build's change report, delete, versions, rollback; with object storage too."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cli import app as cli
from recsys.version.remote import RemoteVersions
from tests.fakes import write_jsonl
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


def _version_lines(data: str) -> list[str]:
    result = _run("versions", "--data-dir", data)
    assert result.exit_code == 0, result.output
    return result.stdout.strip().splitlines()[1:]


def test_build_reports_changes_and_delete_versions_rollback_work(tmp_path: Path, corpus_file: Path) -> None:
    data = str(tmp_path / "d")
    assert "no index versions" in _run("versions", "--data-dir", data).stdout
    first = _run("build", "-i", str(corpus_file), "--data-dir", data, "--no-progress")
    assert first.exit_code == 0 and "first version" in first.stdout

    extra = write_jsonl(tmp_path / "more.jsonl", [{"id": "new-1", "title": "ferry dock tide harbour"}])
    assert _run("ingest", str(extra), "--data-dir", data, "--no-progress").exit_code == 0
    deleted = _run("delete", "harbour-3", "--data-dir", data)
    assert deleted.exit_code == 0 and deleted.stdout.strip() == "harbour-3: deleted"
    items = json.loads(_run("related", "harbour-0", "--json", "--data-dir", data).stdout)["items"]
    assert "harbour-3" not in [i["id"] for i in items]  # gone before the next build

    second = _run("build", "--data-dir", data, "--no-progress")
    assert second.exit_code == 0, second.output
    assert "30 articles (1 embedded, 29 from cache)" in second.stdout
    assert ": 1 added, 0 changed, 1 removed" in second.stdout

    lines = _version_lines(data)
    assert len(lines) == 2 and lines[1].startswith("*") and not lines[0].startswith("*")
    assert "30  flat" in lines[0] and "fake-bag-of-words" in lines[0]
    old, new = lines[0].split()[0], lines[1].split()[1]

    rolled = _run("rollback", "--data-dir", data)
    assert rolled.exit_code == 0 and rolled.stdout.strip() == f"current index version: {old} (was {new})"
    assert _version_lines(data)[0].startswith("*")
    again = _run("rollback", "--data-dir", data)
    assert again.exit_code == 1 and again.stderr.startswith("error: no version older than the current one")
    assert _run("rollback", new, "--data-dir", data).exit_code == 0

    (tmp_path / "d" / "index" / "versions" / old / "index.faiss").write_bytes(b"broken")
    refused = _run("rollback", old, "--data-dir", data)
    assert refused.exit_code == 1
    assert refused.stderr.strip() == f"error: index version {old}: file index.faiss fails its checksum"
    assert _version_lines(data)[1].startswith("*")

    missing = _run("delete", "harbour-3", "--data-dir", data)
    assert missing.exit_code == 1 and missing.stderr.strip() == "error: no article with id 'harbour-3'"


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

    listed = _run("versions", "--data-dir", str(tmp_path / "another-host")).stdout.strip().splitlines()
    assert listed == [
        f"no index versions in {tmp_path / 'another-host' / 'index'}; run `recsys build`",
        f"in {versions_url}: {first}, *{second}",
    ]
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
