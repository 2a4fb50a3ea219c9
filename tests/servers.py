"""Real servers for process-level tests: a free port to start one on, and waiting until it answers."""

from __future__ import annotations

import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families


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
    command: list[str], env: dict[str, str], port: int, output: Path, how: signal.Signals = signal.SIGINT
) -> Iterator[tuple[subprocess.Popen[str], str]]:
    """Run a server (`command`, listening on `port`, its output into the file `output`) until the
    block ends, then stop it with `how`; yields it and its base URL once /health answers 200."""
    with output.open("w") as out:
        process = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT, text=True)
        base = f"http://127.0.0.1:{port}"
        try:
            try:
                wait_until_healthy(process, base, 120)
            except pytest.fail.Exception:
                pytest.fail(f"server did not start: {output.read_text()[-3000:]}")
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
