"""A real S3 API for the object-store tests: moto's server on a free port, spoken to over HTTP.

ThreadedMotoServer in this process, reached by the product's own client (obstore) as a replica
reaches MinIO or S3.

Each test gets a bucket of its own (`S3Server.bucket`). Without moto (the `dev` extra) the tests skip,
or with RECSYS_TEST_REQUIRE_S3=1 fail.
"""

from __future__ import annotations

import logging
import os
import secrets
import urllib.request
from dataclasses import dataclass, field
from typing import Any

import pytest

from tests.servers import free_port

REQUIRE = "RECSYS_TEST_REQUIRE_S3"
# Read once, at import: every test's environment is cleared of RECSYS_* variables (tests/conftest.py).
_REQUIRED = os.environ.get(REQUIRE, "") == "1"
# moto checks no signature, but the client must have credentials to sign with, or it asks the cloud
# instance metadata service for some (and waits for it).
CREDENTIALS = {"AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test", "AWS_REGION": "us-east-1"}


@dataclass
class S3Server:
    port: int = field(default_factory=free_port)
    _server: Any = None

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> S3Server:
        from moto.server import ThreadedMotoServer

        logging.getLogger("werkzeug").setLevel(logging.WARNING)  # a line per request otherwise
        self._server = ThreadedMotoServer(ip_address="127.0.0.1", port=self.port, verbose=False)
        self._server.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop()
            self._server = None

    def bucket(self) -> str:
        """A new empty bucket; its s3:// URL, with a prefix (as a deployment would use)."""
        name = f"versions-{secrets.token_hex(4)}"
        self._request("PUT", f"/{name}")
        return f"s3://{name}/recsys"

    def put(self, url: str, key: str, data: bytes) -> None:
        """Write one object under `url` behind the product's back (a corruption)."""
        import obstore

        obstore.put(self._client(url), f"{_prefix(url)}{key}", data)

    def delete(self, url: str, key: str) -> None:
        """Delete one object under `url` (an object lost, an upload killed before its last object)."""
        import obstore

        obstore.delete(self._client(url), f"{_prefix(url)}{key}")

    def keys(self, url: str) -> list[str]:
        """Every object's key in the bucket of `url`, prefix included."""
        import obstore

        return sorted(meta["path"] for meta in obstore.list(self._client(url)).collect())

    def _client(self, url: str) -> Any:
        from obstore.store import S3Store

        bucket = _path(url).split("/")[0]
        return S3Store(bucket, endpoint=self.endpoint, client_options={"allow_http": True}, **_config())

    def _request(self, method: str, path: str, data: bytes | None = None) -> None:
        request = urllib.request.Request(f"{self.endpoint}{path}", data=data, method=method)
        with urllib.request.urlopen(request, timeout=10) as answer:
            assert answer.status == 200, answer.status


def _prefix(url: str) -> str:
    parts = _path(url).split("/", 1)
    return f"{parts[1]}/" if len(parts) == 2 else ""


def _path(url: str) -> str:
    return url.removeprefix("s3://").strip("/")


def _config() -> dict[str, str]:
    return {
        "access_key_id": CREDENTIALS["AWS_ACCESS_KEY_ID"],
        "secret_access_key": CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
        "region": CREDENTIALS["AWS_REGION"],
    }


def start_or_skip() -> S3Server:
    """A started server; skip, or with RECSYS_TEST_REQUIRE_S3=1 fail, without moto or obstore."""
    try:
        import moto.server  # noqa: F401
        import obstore  # noqa: F401
    except ImportError as exc:
        why = f"moto[server] and obstore are needed for the object-store tests (the dev extra): {exc}"
        if _REQUIRED:
            pytest.fail(f"{REQUIRE}=1 but {why}")
        pytest.skip(why)
    return S3Server().start()
