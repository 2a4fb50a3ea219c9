"""Real servers for process-level tests: started, awaited and stopped in one place (`running`).

`running` finds a free port, waits until the server answers and stops it; and what tests read from a server's
/health and /metrics."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.helpers import REPO

SERVE_FAKE = [sys.executable, "-m", "tests.serve_fake"]  # the real app with the fake encoder


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until_healthy(process: subprocess.Popen[Any], base: str, seconds: float) -> None:
    """Poll `base`/health until it answers 200; fail the test if the server exits or `seconds` pass."""
    deadline = time.monotonic() + seconds
    while True:
        if process.poll() is not None:
            output = process.stdout.read() if process.stdout else ""
            pytest.fail(f"server exited early: {output}")
        try:
            if httpx.get(f"{base}/health", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline:
            pytest.fail(f"server did not become healthy within {seconds:.0f} s")
        time.sleep(0.1)


def stop(process: subprocess.Popen[Any], how: signal.Signals = signal.SIGINT) -> None:
    """Stop a server as Ctrl-C would (or with `how`), and kill it if it does not exit in 20 s."""
    process.send_signal(how)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()


@contextmanager
def running(
    command: list[str],
    variables: Mapping[str, str] | None = None,
    *,
    port: int | None = None,
    output: Path | None = None,
    how: signal.Signals = signal.SIGINT,
    seconds: float = 120,
    address: str = "127.0.0.1",
) -> Iterator[tuple[subprocess.Popen[str], str]]:
    """Run a server on `port` (a free one if none is given) until the block ends, then stop it with
    `how`; yields the process and its base URL once /health answers 200 (within `seconds`, else the
    test fails with the server's output).

    The port reaches the server as the command's `{port}` placeholder (a flag) or, where it has
    none, as RECSYS_PORT, with `address` (where it listens and is reached: a network namespace's,
    tests/netns.py) as RECSYS_HOST. Its environment is this one's without RECSYS_* and PROMETHEUS_* (settings
    come from `variables` alone, as a process manager passes them) and with the repository on
    PYTHONPATH (for `tests.serve_fake`). Its output goes to the file `output`, or a temporary one."""
    port = port or free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RECSYS_", "PROMETHEUS_"))}
    env["PYTHONPATH"] = os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])
    if not any("{port}" in part for part in command):
        env["RECSYS_PORT"] = str(port)
        env["RECSYS_HOST"] = address
    env |= variables or {}
    command = [part.replace("{port}", str(port)) for part in command]
    with output.open("w+") if output else tempfile.TemporaryFile("w+") as out:
        process = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT, text=True)
        base = f"http://{address}:{port}"
        try:
            try:
                wait_until_healthy(process, base, seconds)
            except pytest.fail.Exception as failed:
                out.seek(0)
                pytest.fail(f"{str(failed).rstrip(': ')}; its output:\n{out.read()[-3000:]}")
            yield process, base
        finally:
            stop(process, how)


def worker_pids(base: str, tries: int = 400) -> tuple[set[int], int]:
    """Worker pids seen on /health, each request on a new connection (so the kernel hands it to
    any worker), until two are seen; and how many requests that took."""
    pids: set[int] = set()
    for sent in range(1, tries + 1):
        pids.add(httpx.get(f"{base}/health", timeout=10).json()["worker_pid"])
        if len(pids) == 2:
            return pids, sent
    return pids, tries


def metric_samples(base: str, name: str) -> list[tuple[dict[str, str], float]]:
    """The samples named `name` on /metrics: (labels, value) each."""
    text = httpx.get(f"{base}/metrics", timeout=10).text
    return [
        (sample.labels, sample.value)
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == name
    ]
