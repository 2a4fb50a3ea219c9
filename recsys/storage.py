"""What the disk and SQLite say when they refuse, turned into domain errors at the place they arise:
StorageError (a full disk, a read-only file system, no permission) names the path and what to do;
CatalogBusy is SQLite's lock outlasting the busy timeout.

Only refusals a person can act on are translated; any other failure keeps its own type (a bug).
"""

from __future__ import annotations

import errno
import os
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

from recsys.errors import CatalogBusy, StorageError

_SPACE = "free some space and run the command again"
_ACCESS = "give this user write access to the data folder, or choose another (--data-dir, RECSYS_DATA_DIR)"
_READ_ONLY = "the data folder must be on a writable file system (--data-dir, RECSYS_DATA_DIR)"
# errno -> (what happened, what to do)
_REFUSALS: dict[int, tuple[str, str]] = {
    errno.ENOSPC: ("no space left on device", _SPACE),
    errno.EDQUOT: ("disk quota exceeded", _SPACE),
    errno.EROFS: ("read-only file system", _READ_ONLY),
    errno.EACCES: ("permission denied", _ACCESS),
    errno.EPERM: ("operation not permitted", _ACCESS),
}


def fsync_path(path: Path) -> None:
    """Flush a file's or a folder's data to disk (a folder: the names in it, after a rename)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def replace_file(path: Path, write: Callable[[BinaryIO], object]) -> None:
    """Write `path` whole or not at all: `write` fills a temporary file beside it, which is flushed,
    renamed over it, and the rename flushed. A reader sees the old contents or the new, never part of
    them; a failed write leaves no temporary file behind."""
    partial = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with writing(path):
            with open(partial, "wb") as handle:
                write(handle)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(partial, path)
            fsync_path(path.parent)
    finally:
        partial.unlink(missing_ok=True)


def replace_text(path: Path, text: str) -> None:
    """replace_file for a UTF-8 text."""
    data = text.encode("utf-8")
    replace_file(path, lambda handle: handle.write(data))


def refusal(code: int, path: Path | str) -> StorageError:
    happened, advice = _REFUSALS[code]
    return StorageError(f"{happened} while writing {path}: {advice}")


def os_refusal(exc: BaseException, path: Path | str) -> StorageError | None:
    """The StorageError for a file-system refusal: an OSError with a known errno, or a RuntimeError from
    FAISS, whose message ends with the C library's text (e.g. "(No space left on device)")."""
    if isinstance(exc, OSError) and exc.errno in _REFUSALS:
        return refusal(exc.errno, path)
    if isinstance(exc, RuntimeError):
        for code in _REFUSALS:
            if os.strerror(code) in str(exc):
                return refusal(code, path)
    return None


@contextmanager
def writing(path: Path | str) -> Iterator[None]:
    """Turn the disk's refusals while writing `path` into a StorageError; other errors pass."""
    try:
        yield
    except (OSError, RuntimeError) as exc:
        if (error := os_refusal(exc, path)) is not None:
            raise error from exc
        raise


def sqlite_refusal(exc: sqlite3.Error, path: Path) -> CatalogBusy | StorageError | None:
    """The domain error for SQLite's lock or a refusal by the disk under the catalog, or None."""
    name = getattr(exc, "sqlite_errorname", "")
    if name.startswith(("SQLITE_BUSY", "SQLITE_LOCKED")):
        return CatalogBusy(
            "the catalog is busy: another process (an import or a build) holds its write lock; "
            "try again in a moment"
        )
    if name.startswith("SQLITE_FULL"):
        return refusal(errno.ENOSPC, path)
    if name.startswith("SQLITE_READONLY"):
        return StorageError(
            f"the catalog {path} cannot be written (read-only file system or no permission): use a "
            "data folder this user can write to (--data-dir, RECSYS_DATA_DIR)"
        )
    if name.startswith("SQLITE_CANTOPEN"):
        return StorageError(
            f"cannot open the catalog {path} (missing folder, read-only file system or no permission): "
            "use a data folder this user can write to (--data-dir, RECSYS_DATA_DIR)"
        )
    if name.startswith("SQLITE_IOERR"):
        return StorageError(f"disk I/O error on the catalog {path}: check the disk and its free space")
    return None
