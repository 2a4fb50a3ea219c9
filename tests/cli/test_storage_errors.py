"""A disk that refuses writes (full, read-only, no permission): `recsys ingest` and `recsys build` print
one line saying what happened and what to do, exit 1, and leave the data as it was.

The refusals are real where this process may mount a small tmpfs (root, as in CI containers that
allow it); elsewhere those tests skip, and the ones that raise the real errno from FAISS and numpy
still run. chmod cannot stand in for "no permission": tests run as root, which it does not stop.
"""

from __future__ import annotations

import errno
import os
import sqlite3
import subprocess
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from cli import app as cli
from recsys.storage import os_refusal
from recsys.version import vectors
from tests.fakes import synthetic_records, use_fake_model, write_jsonl
from tests.helpers import one_line_error

runner = CliRunner()


@pytest.fixture(autouse=True)
def _fake_model(monkeypatch: pytest.MonkeyPatch) -> None:
    use_fake_model(monkeypatch)


def _recsys(*args: str):  # type: ignore[no-untyped-def]
    return runner.invoke(cli.app, [*args, "--log-level", "warning"] if args[0] == "build" else list(args))


def _mount(*args: str) -> None:
    done = subprocess.run(["mount", *args], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        pytest.skip(
            f"cannot mount here ({done.stderr.strip() or done.returncode}); needs root and mount rights"
        )


def _unmount(path: Path) -> None:
    subprocess.run(["umount", "-l", str(path)], capture_output=True, check=False)


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 2 MB file system, filled up by the test."""
    path = tmp_path / "disk"
    path.mkdir()
    _mount("-t", "tmpfs", "-o", "size=2m", "tmpfs", str(path))
    try:
        yield path
    finally:
        _unmount(path)


def _fill(disk: Path) -> Path:
    filler = disk / "filler"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT)
    try:
        while True:
            os.write(fd, b"\0" * 4096)
    except OSError as exc:
        assert exc.errno == errno.ENOSPC
    finally:
        os.close(fd)
    return filler


def _built(data: Path, tmp_path: Path) -> str:
    corpus = write_jsonl(tmp_path / "articles.jsonl", synthetic_records())
    assert _recsys("build", "-i", str(corpus), "--data-dir", str(data), "--no-progress").exit_code == 0
    return (data / "index" / "CURRENT").read_text().strip()


def _intact(data: Path, current: str, articles: int = 30) -> None:
    """The import rolled back, the catalog is sound, the served version untouched, no staging left."""
    with sqlite3.connect(data / "catalog.sqlite3") as check:
        assert check.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        assert check.execute("SELECT COUNT(*) FROM articles").fetchone() == (articles,)
    assert (data / "index" / "CURRENT").read_text().strip() == current
    assert os.listdir(data / "index" / "versions") == [current]


def test_a_full_disk_is_one_line_and_the_data_survives(small_disk: Path, tmp_path: Path) -> None:
    data = small_disk / "data"
    current = _built(data, tmp_path)
    filler = _fill(small_disk)
    big = [{"id": f"new-{i}", "title": "harbour " * 100, "body": f"ferry {i} " * 500} for i in range(50)]
    more = write_jsonl(tmp_path / "more.jsonl", big)

    ingest = _recsys("ingest", str(more), "--data-dir", str(data), "--no-progress")
    one_line_error(ingest, "error: no space left on device while writing")
    assert "free some space and run the command again" in ingest.stderr
    _intact(data, current)

    build = _recsys("build", "--data-dir", str(data), "--no-progress")  # nothing to embed: straight to FAISS
    one_line_error(build, "no space left on device while writing")
    _intact(data, current)

    filler.unlink()  # space freed: the next ingest and build work
    assert _recsys("ingest", str(more), "--data-dir", str(data), "--no-progress").exit_code == 0
    assert _recsys("build", "--data-dir", str(data), "--no-progress").exit_code == 0
    assert (data / "index" / "CURRENT").read_text().strip() != current


def test_a_read_only_data_folder_is_one_line(tmp_path: Path) -> None:
    data = tmp_path / "data"
    current = _built(data, tmp_path)
    read_only = tmp_path / "read-only"
    read_only.mkdir()
    _mount("--bind", str(data), str(read_only))
    try:
        _mount("-o", "remount,ro,bind", str(read_only))
        more = write_jsonl(tmp_path / "more.jsonl", [{"id": "new-1", "title": "harbour ferry"}])
        ingest = _recsys("ingest", str(more), "--data-dir", str(read_only), "--no-progress")
        one_line_error(ingest, "read-only file system")
        one_line_error(
            _recsys("build", "--data-dir", str(read_only), "--no-progress"), "read-only file system"
        )
        fresh = _recsys("build", "--data-dir", str(read_only / "new"), "--no-progress")
        one_line_error(fresh, "read-only file system while writing")
    finally:
        _unmount(read_only)
    _intact(data, current)


@pytest.mark.parametrize(
    ("failure", "message"),
    [
        # What faiss.write_index raises on a full disk and in a folder it may not write to.
        (
            RuntimeError(
                "Error in faiss::write_index: write error in x: 4051 != 307200 (No space left on device)"
            ),
            "no space left on device while writing",
        ),
        (
            RuntimeError("Error in FileIOWriter: could not open x for writing: Permission denied"),
            "permission denied while writing",
        ),
        (RuntimeError("could not open x for writing: Read-only file system"), "read-only file system"),
    ],
)
def test_faiss_refusals_are_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, failure: RuntimeError, message: str
) -> None:
    data = tmp_path / "data"
    current = _built(data, tmp_path)

    def refuse(*args: object) -> None:
        raise failure

    monkeypatch.setattr(vectors.faiss, "write_index", refuse)
    one_line_error(_recsys("build", "--data-dir", str(data), "--no-progress"), message)
    _intact(data, current)


def test_numpy_permission_error_is_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    data = tmp_path / "data"
    current = _built(data, tmp_path)

    def refuse(*args: object, **kwargs: object) -> None:
        raise PermissionError(errno.EACCES, os.strerror(errno.EACCES))

    monkeypatch.setattr(np, "save", refuse)
    build = _recsys("build", "--data-dir", str(data), "--no-progress")
    one_line_error(build, "permission denied while writing")
    assert "give this user write access to the data folder" in build.stderr
    _intact(data, current)


def test_only_refusals_a_person_can_act_on_are_translated() -> None:
    assert os_refusal(OSError(errno.ENOSPC, "No space left on device"), "/x") is not None
    assert os_refusal(OSError(errno.EROFS, "Read-only file system"), "/x") is not None
    assert os_refusal(OSError(errno.ENOENT, "No such file"), "/x") is None
    assert os_refusal(RuntimeError("Error in faiss: 'ntotal > 0' failed"), "/x") is None
    assert os_refusal(ValueError("No space left on device"), "/x") is None
