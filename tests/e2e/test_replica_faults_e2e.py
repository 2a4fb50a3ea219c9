"""Faults and rollback with two replicas on one PostgreSQL catalog and one version folder: real uvicorn
processes with the fake encoder (`python -m tests.serve_fake`), each with a data folder of its own
(tests/replicas.py).

- A rollback is refused while a build runs, and once made reaches both replicas.
- A replica killed (SIGKILL) while lists are read from both and writes are made through it loses no
  write it acknowledged: each is in the catalog and in the other replica's lists, which answered
  every request meanwhile; restarted, it serves the same lists as the other. Run twice: replicas on
  this host's loopback, and each replica in a network namespace of its own, reaching the catalog
  over TCP through a veth pair (tests/netns.py; skipped, with the reason, where namespaces cannot be
  made).
- A build killed mid-way leaves the lock released, CURRENT and the served version as they were.

Every wait is bounded (tests/replicas.py WAIT) and none is an expectation of speed.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import httpx
import pytest
from typer.testing import CliRunner, Result

from cli import app as cli
from index.build import BuildReport, build_index
from recsys.catalog.overrides import Overrides
from recsys.catalog.store import Catalog
from recsys.errors import BuildLocked
from recsys.version.store import TMP_PREFIX, IndexStore
from tests.fakes import FakeEncoder
from tests.helpers import one_line_error
from tests.netns import Namespace, namespace, unavailable
from tests.postgres import PostgresServer, start_or_skip
from tests.replicas import (
    KEY,
    WAIT,
    Deployment,
    Replica,
    build_finished,
    lists,
    related,
    served_version,
    wait_for,
    wait_for_version,
)
from tests.servers import SERVE_FAKE, running
from tests.slow_build import start, wait_for_stage

NEW_ARTICLE = {
    "title": "Harbour ferry dock tide",  # close to harbour-0: in its list once built
    "body": "harbour ferry dock tide pier",
    "section": "harbour",
}


@pytest.fixture
def deployment(own_postgres: PostgresServer, tmp_path: Path, corpus_file: Path) -> Deployment:
    return Deployment.deploy(own_postgres, tmp_path, corpus_file)


@pytest.fixture
def cli_model(monkeypatch: pytest.MonkeyPatch) -> None:
    # `recsys rollback` checks the target's model against the configured one without loading it
    monkeypatch.setattr("recsys.encoding.encoders.encoder_identity", lambda settings: "fake-bag-of-words")


def _rollback(deployment: Deployment) -> Result:
    """`recsys rollback` on the builder host (in this process: the fake model's identity)."""
    return CliRunner().invoke(cli.app, ["rollback"], env=deployment.variables("builder"))


@pytest.mark.usefixtures("cli_model")
def test_a_rollback_waits_for_any_build_and_reaches_both_replicas(
    deployment: Deployment, tmp_path: Path
) -> None:
    store = IndexStore(deployment.versions)
    older = store.current_version()
    hold = tmp_path / "hold"
    with (
        running([*SERVE_FAKE, "--hold-file", str(hold)], deployment.variables("replica-a")) as (_, first),
        running(SERVE_FAKE, deployment.variables("replica-b")) as (_, second),
    ):
        created = httpx.put(f"{first}/admin/articles/harbour-new", headers=KEY, json=NEW_ARTICLE, timeout=30)
        assert created.status_code == 201, created.text
        hold.touch()
        try:
            started = httpx.post(f"{first}/admin/builds", headers=KEY, timeout=30)
            assert started.status_code == 202, started.text
            one_line_error(_rollback(deployment), "another build is running")  # held mid-way on A
            assert store.current_version() == older
        finally:
            hold.unlink()
        newer = build_finished(first, started.headers["Location"])["version"]
        for base in (first, second):
            wait_for_version(base, newer)
            assert "harbour-new" in related(base, "harbour-0")

        rolled = _rollback(deployment)
        assert rolled.exit_code == 0, rolled.output
        assert rolled.stdout.strip() == f"current index version: {older} (was {newer})"
        for base in (first, second):
            wait_for_version(base, older)
            assert "harbour-new" not in related(base, "harbour-0")  # the older version's lists
        assert lists(first) == lists(second)


# Writes through replica A, none undoing another (each subject pinned once), and the subjects whose
# lists they change: every retracted and blocked article is in election-0's or football-0's list.
RETRACTED = tuple(f"election-{i}" for i in range(1, 6))
BLOCKED = tuple(f"football-{i}" for i in range(1, 6))
PINNED = tuple((f"harbour-{i}", f"theatre-{i}") for i in range(6))
SUBJECTS = ("election-0", "football-0", *(subject for subject, _ in PINNED))
KILL_AFTER = 6  # acknowledged writes; the rest are sent while and after A dies


@dataclass(frozen=True)
class Write:
    """A retraction or a block of `article`, or a pin of `target` under `article`."""

    kind: Literal["retract", "block", "pin"]
    article: str
    target: str = ""

    def request(self) -> tuple[str, str, dict[str, object] | None]:
        if self.kind == "retract":
            return "POST", f"/admin/articles/{self.article}/retract", None
        if self.kind == "block":
            return "POST", "/admin/blocks", {"target": self.article}
        return "PUT", f"/admin/pins/{self.article}", {"pins": [self.target]}

    def shown(self, served: dict[str, list[str]]) -> bool:
        """Whether lists of SUBJECTS show this write."""
        if self.kind == "pin":
            return served[self.article][:1] == [self.target]
        return all(self.article not in items for items in served.values())

    def in_catalog(self, catalog: Catalog) -> bool:
        overrides = Overrides(catalog)
        if self.kind == "retract":
            return catalog.get(self.article).status == "retracted"
        if self.kind == "block":
            return self.article in {block.target_id for block in overrides.blocks()}
        return overrides.pins(self.article) == [self.target]


Placed = tuple[Deployment, Replica, Replica]


def _writes() -> list[Write]:
    writes = []
    for i, (subject, target) in enumerate(PINNED):
        writes.append(Write("pin", subject, target))
        if i < len(RETRACTED):
            writes += [Write("retract", RETRACTED[i]), Write("block", BLOCKED[i])]
    return writes


class Traffic:
    """Threads that read lists from each replica and write through A until told to stop or the
    replica is gone, keeping every answer: a status code, or the name of the transport error."""

    def __init__(self, first: str, second: str) -> None:
        self.answers: dict[str, list[int | str]] = {first: [], second: []}
        self.acknowledged: list[Write] = []
        self.refused: list[tuple[Write, int, str]] = []
        self.enough = threading.Event()  # KILL_AFTER writes acknowledged, or the writer stopped
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._read, args=(base,)) for base in (first, second)]
        self._threads.append(threading.Thread(target=self._write, args=(first,)))

    def __enter__(self) -> Traffic:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(WAIT)

    def _read(self, base: str) -> None:
        with httpx.Client(timeout=30) as client:
            while not self._stop.is_set():
                for subject in SUBJECTS:
                    try:
                        answer = client.get(f"{base}/articles/{subject}/related", params={"limit": 5})
                        self.answers[base].append(answer.status_code)
                    except httpx.TransportError as exc:  # the replica is gone: nothing more to read
                        self.answers[base].append(type(exc).__name__)
                        return

    def _write(self, base: str) -> None:
        try:
            with httpx.Client(timeout=30, headers=KEY) as client:
                for write in _writes():
                    method, path, body = write.request()
                    try:
                        answer = client.request(method, f"{base}{path}", json=body)
                    except httpx.TransportError:
                        return  # A is gone: this write and the rest were never acknowledged
                    if answer.is_success:
                        self.acknowledged.append(write)
                        if len(self.acknowledged) == KILL_AFTER:
                            self.enough.set()
                    else:
                        self.refused.append((write, answer.status_code, answer.text))
        finally:
            self.enough.set()


@pytest.fixture(params=["loopback", "netns"])
def placed(request: pytest.FixtureRequest, tmp_path: Path, corpus_file: Path) -> Iterator[Placed]:
    """A deploy and its two replicas: on the loopback, or each in a network namespace of its own."""
    with ExitStack() as stack:
        spaces: list[Namespace] = []
        if request.param == "netns":
            if why := unavailable():
                pytest.skip(why)
            spaces = [stack.enter_context(namespace()) for _ in range(2)]
        server = start_or_skip(
            durable=True, listen=[s.gateway for s in spaces], trust=[s.network for s in spaces]
        )
        stack.callback(server.stop)
        deployment = Deployment.deploy(server, tmp_path, corpus_file)
        if spaces:
            one, two = (Replica(f"replica-{s.name}", server.tcp_url(s.gateway), s) for s in spaces)
        else:
            one, two = Replica("replica-a", server.url()), Replica("replica-b", server.url())
        yield deployment, one, two


def test_a_replica_killed_mid_traffic_loses_no_acknowledged_write(placed: Placed) -> None:
    deployment, replica_a, replica_b = placed
    with replica_b.running(deployment) as (_, second):
        with replica_a.running(deployment) as (process_a, first):
            before = lists(second, SUBJECTS)
            assert before == lists(first, SUBJECTS)
            spaces = [r.namespace.address for r in (replica_a, replica_b) if r.namespace is not None]
            assert set(spaces) <= _catalog_clients(deployment)  # each replica's own network path
            assert set(RETRACTED) <= set(before["election-0"]) and set(BLOCKED) <= set(before["football-0"])
            with Traffic(first, second) as traffic:
                assert traffic.enough.wait(WAIT), "no write was acknowledged"
                process_a.send_signal(signal.SIGKILL)
                process_a.wait(timeout=WAIT)

                acknowledged = list(traffic.acknowledged)
                assert len(acknowledged) >= KILL_AFTER and not traffic.refused, traffic.refused
                wait_for(
                    "replica B's lists show every write A acknowledged",
                    lambda: all(write.shown(lists(second, SUBJECTS)) for write in acknowledged),
                )
                with replica_a.running(deployment) as (_, restarted):
                    assert lists(restarted, SUBJECTS) == lists(second, SUBJECTS)
        served_by_b = traffic.answers[second]
        assert served_by_b and set(served_by_b) == {200}, sorted(set(map(str, served_by_b)))
        assert {answer for answer in traffic.answers[first] if isinstance(answer, int)} <= {200}

    catalog = Catalog(deployment.url)
    try:
        assert [write for write in acknowledged if not write.in_catalog(catalog)] == []
    finally:
        catalog.dispose()


def test_a_build_killed_mid_way_leaves_the_lock_released_and_the_replicas_on_their_version(
    deployment: Deployment,
) -> None:
    store = IndexStore(deployment.versions)
    before = store.current_version()
    with (
        running(SERVE_FAKE, deployment.variables("replica-a")) as (_, first),
        running(SERVE_FAKE, deployment.variables("replica-b")) as (_, second),
    ):
        served = lists(first)
        assert served == lists(second)
        # Every file of the new version written, not yet published: then SIGKILL.
        build = start(
            deployment.folder / "builder-2",
            "--stop-at",
            "fsync manifest.json",
            variables=deployment.variables("builder-2"),
        )
        wait_for_stage(build, "stage fsync manifest.json")
        build.send_signal(signal.SIGKILL)
        build.wait(timeout=WAIT)

        assert store.current_version() == before
        assert [p for p in store.versions_dir.iterdir() if p.name.startswith(TMP_PREFIX)]  # its remains
        for base in (first, second):
            assert served_version(base) == before and lists(base) == served

        catalog = Catalog(deployment.url)
        try:
            report = wait_for(
                "the killed build's locks are released (the server ends its session)",
                lambda: _build_or_none(deployment, catalog),
            )
        finally:
            catalog.dispose()
        newer = report.version
        for base in (first, second):
            wait_for_version(base, newer)
        assert not [p for p in store.versions_dir.iterdir() if p.name.startswith(TMP_PREFIX)]


def _catalog_clients(deployment: Deployment) -> set[str]:
    """The addresses the catalog's TCP connections come from."""
    import psycopg

    with psycopg.connect(deployment.url) as conn:
        rows = conn.execute("SELECT host(client_addr) FROM pg_stat_activity WHERE client_addr IS NOT NULL")
        return {str(row[0]) for row in rows}


def _build_or_none(deployment: Deployment, catalog: Catalog) -> BuildReport | None:
    try:
        return build_index(deployment.settings("builder"), catalog, FakeEncoder())
    except BuildLocked:
        return None
