"""A throwaway PostgreSQL server for the tests, started from the machine's binaries (initdb, pg_ctl).

It listens on a Unix socket in its own temporary folder, and on TCP only at the addresses a test
names (`listen`: the host side of a network namespace's veth pair, tests/netns.py); it trusts local
connections and those from the networks the test names (`trust`), and is stopped at the end of the
session. PostgreSQL refuses to run as root, so under root (CI) the server runs as `nobody` through
runuser, in a folder that user owns. Each test gets a schema of its own (`PostgresServer.fresh_url`),
so tests share one server and never see each other's tables.

Binaries missing: the tests that need a server skip, with the reason, unless
RECSYS_TEST_REQUIRE_POSTGRES=1 (CI), where they fail.
"""

from __future__ import annotations

import itertools
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Sequence
from pathlib import Path
from urllib.parse import quote

import pytest

from recsys.settings import Settings

REQUIRE = "RECSYS_TEST_REQUIRE_POSTGRES"
BACKENDS = ("sqlite", "postgresql")
_BINARIES = ("initdb", "pg_ctl")


def missing_binaries() -> str | None:
    """Why no server can be started here, or None."""
    absent = [name for name in _BINARIES if shutil.which(name) is None]
    if absent:
        return (
            f"PostgreSQL's {' and '.join(absent)} not on PATH (Debian: apt-get install postgresql, "
            "then put /usr/lib/postgresql/<major>/bin on PATH)"
        )
    if os.geteuid() == 0 and shutil.which("runuser") is None:
        return "running as root, and no runuser to start PostgreSQL as an unprivileged user"
    return None


# Read once, at import: every test's environment is cleared of RECSYS_* variables (tests/conftest.py).
_REQUIRED = os.environ.get(REQUIRE, "") == "1"


def required() -> bool:
    return _REQUIRED


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class PostgresServer:
    """`durable`: commits are flushed as in production (synchronous_commit on), for the tests that kill
    the server and check that no acknowledged write was lost; otherwise they are not, for speed."""

    def __init__(
        self, *, durable: bool = False, listen: Sequence[str] = (), trust: Sequence[str] = ()
    ) -> None:
        self.durable = durable
        self.listen = tuple(listen)
        self.trust = tuple(trust)
        # Not under pytest's tmp_path: its folders are private to root, and `nobody` must reach this.
        self.folder = Path(tempfile.mkdtemp(prefix="recsys-pg-"))
        self.data = self.folder / "data"
        self.port = _free_port()
        self._as_user: list[str] = []
        if os.geteuid() == 0:
            self._as_user = ["runuser", "-u", "nobody", "--"]
            self.folder.chmod(0o755)
            shutil.chown(self.folder, "nobody")
        self._schemas = itertools.count(1)

    def _run(self, *command: str) -> None:
        done = subprocess.run([*self._as_user, *command], capture_output=True, text=True, timeout=120)
        if done.returncode != 0:
            raise RuntimeError(f"{' '.join(command)} failed: {done.stdout}{done.stderr}")

    def start(self) -> PostgresServer:
        initdb = shutil.which("initdb") or "initdb"
        self._run(initdb, "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync")
        with (self.data / "pg_hba.conf").open("a") as hba:  # initdb trusts loopback only
            hba.writelines(f"host all all {network} trust\n" for network in self.trust)
        return self.resume()

    def resume(self) -> PostgresServer:
        """Start the server on its existing data folder (after `kill`): it recovers from its WAL."""
        pg_ctl = shutil.which("pg_ctl") or "pg_ctl"
        speed = "" if self.durable else "-c fsync=off -c synchronous_commit=off -c full_page_writes=off "
        options = (
            f"-c listen_addresses='{','.join(self.listen)}' -c unix_socket_directories={self.folder} "
            f"-p {self.port} "
            f"{speed}-c max_connections=400"
        )
        self._run(pg_ctl, "-D", str(self.data), "-o", options, "-l", str(self.folder / "log"), "-w", "start")
        return self

    def kill(self) -> None:
        """Stop the server as a crash would (immediate: no checkpoint, connections dropped at once)."""
        pg_ctl = shutil.which("pg_ctl") or "pg_ctl"
        self._run(pg_ctl, "-D", str(self.data), "-m", "immediate", "-w", "stop")

    def stop(self) -> None:
        try:
            if (self.data / "postmaster.pid").exists():
                self.kill()
        finally:
            shutil.rmtree(self.folder, ignore_errors=True)

    def url(self, options: str = "") -> str:
        return f"postgresql://postgres@/postgres?host={quote(str(self.folder))}&port={self.port}{options}"

    def tcp_url(self, address: str) -> str:
        """The URL over TCP at `address`, one of `listen`."""
        return f"postgresql://postgres@{address}:{self.port}/postgres"

    def fresh_url(self) -> str:
        """The URL of a new, empty schema: a test's own catalog database."""
        import psycopg

        schema = f"t{next(self._schemas)}"
        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f"CREATE SCHEMA {schema}")
        return self.url(f"&options={quote(f'-csearch_path={schema}')}")


def start_or_skip(
    *, durable: bool = False, listen: Sequence[str] = (), trust: Sequence[str] = ()
) -> PostgresServer:
    """A started server (the session fixture `postgres_server`, the function one `own_postgres`); skip,
    or in CI fail, without one."""
    why = missing_binaries()
    if why is None:
        try:
            import psycopg  # noqa: F401
        except ImportError:
            why = "psycopg is not installed (pip install 'recsys-news[postgres]')"
    if why is not None:
        if required():
            pytest.fail(f"{REQUIRE}=1 but {why}")
        pytest.skip(why)
    return PostgresServer(durable=durable, listen=listen, trust=trust).start()


def settings_on(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> Settings:
    """A test's settings with its catalog on `backend`: the SQLite file of its data folder, or a
    migrated PostgreSQL schema of its own. Tests marked `sqlite_only` skip on PostgreSQL."""
    if backend == "postgresql":
        if request.node.get_closest_marker("sqlite_only"):
            pytest.skip("reads SQLite's own file, locks or pragmas")
        from recsys.catalog.store import Catalog

        server: PostgresServer = request.getfixturevalue("postgres_server")
        url = server.fresh_url()
        Catalog.migrate(url)
        # Every Settings the test makes (the app's, the command line's) opens this catalog.
        monkeypatch.setenv("RECSYS_CATALOG_URL", url)
    return Settings(data_dir=tmp_path / "data")
