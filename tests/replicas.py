"""Replicas on one PostgreSQL catalog and one version folder, for the end-to-end tests.

tests/e2e/test_replicas_e2e.py and tests/e2e/test_replica_faults_e2e.py use it: the deploy they
start from, each host's settings, and what the tests read from a replica's lists.

Each host (a replica, a builder) has a data folder of its own and shares the catalog
(RECSYS_CATALOG_URL) and the index versions (RECSYS_INDEX_DIR), as on separate machines. A replica
may run in a network namespace of its own (tests/netns.py), reaching the catalog over TCP.
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from recsys.settings import Settings
from tests.helpers import deploy, replica_variables, until
from tests.netns import Namespace
from tests.postgres import PostgresServer
from tests.servers import SERVE_FAKE, running

KEY = {"X-API-Key": "s3cret"}
WAIT = 60.0  # seconds: a bound on each wait of these tests, never an expectation of speed
SUBJECTS = ("harbour-0", "harbour-3", "harbour-5")


def wait_for(what: str, check: Callable[[], Any]) -> Any:
    return until(what, check, WAIT)


def related(base: str, article_id: str) -> list[str]:
    response = httpx.get(f"{base}/articles/{article_id}/related", params={"limit": 5}, timeout=30)
    assert response.status_code == 200, response.text
    return [item["id"] for item in response.json()["items"]]


def lists(base: str, subjects: tuple[str, ...] = SUBJECTS) -> dict[str, list[str]]:
    return {subject: related(base, subject) for subject in subjects}


def served_version(base: str) -> str | None:
    version: str | None = httpx.get(f"{base}/health", timeout=30).json()["index_version"]
    return version


def build_finished(base: str, location: str) -> dict[str, Any]:
    """The status of the build at `location` (POST /admin/builds' Location) once it ended, which it
    must have done successfully."""
    done: dict[str, Any] = wait_for(
        "the build ends",
        lambda: (
            (s := httpx.get(f"{base}{location}", headers=KEY).json())["state"] not in ("queued", "running")
            and s
        ),
    )
    assert done["state"] == "succeeded", done
    return done


def wait_for_version(base: str, version: str | None) -> None:
    wait_for(f"{base} serves index version {version}", lambda: served_version(base) == version)


@dataclass(frozen=True)
class Deployment:
    """`url`: the catalog; `versions`: the version folder every host reads; `folder`: where each
    host's data folder is made."""

    url: str
    versions: Path
    folder: Path

    @classmethod
    def deploy(cls, server: PostgresServer, folder: Path, corpus: Path) -> Deployment:
        """The catalog migrated, `corpus` imported and built once from a builder host, as a deploy
        would do before the replicas start."""
        deployment = cls(server.url(), folder / "shared-versions", folder)
        deploy(deployment.url, corpus, folder / "builder", deployment.versions)
        return deployment

    def settings(self, host: str) -> Settings:
        return Settings(data_dir=self.folder / host, index_dir=self.versions, catalog_url=self.url)

    def variables(self, host: str, catalog_url: str | None = None) -> dict[str, str]:
        """A replica's environment (for tests.servers.running), or a build process's; `catalog_url`
        where the host reaches the catalog otherwise than at `url`."""
        return replica_variables(
            self.folder / host,
            index_dir=self.versions,
            catalog_url=catalog_url or self.url,
            api_key=KEY["X-API-Key"],
            reload_interval="0.2",
        )


@dataclass(frozen=True)
class Replica:
    """A replica host: its name (its data folder's), where it reaches the catalog, and the network
    namespace it runs in (None: this one, on the loopback)."""

    host: str
    catalog_url: str
    namespace: Namespace | None = None

    @contextmanager
    def running(self, deployment: Deployment) -> Iterator[tuple[subprocess.Popen[str], str]]:
        """The replica serving (tests.servers.running): its process and base URL."""
        command, address = SERVE_FAKE, "127.0.0.1"
        if self.namespace is not None:
            command, address = self.namespace.command(SERVE_FAKE), self.namespace.address
        variables = deployment.variables(self.host, self.catalog_url)
        with running(command, variables, address=address) as (process, base):
            yield process, base
