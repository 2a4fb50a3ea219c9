"""Starting a server process for a benchmark: a free 127.0.0.1 port, wait until it answers, stop it.

Used by the load benchmarks for `recsys serve` and for the trivial comparison app alike, so both are
started, probed and stopped the same way.
"""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from benchmarks.report import rss_kib


def recsys_command(*args: str) -> list[str]:
    """`recsys ARGS` as this interpreter runs it (`python -m cli`): the checkout's own code, not
    whatever `recsys` script is first on PATH."""
    return [sys.executable, "-m", "cli", *args]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass(frozen=True)
class Server:
    process: subprocess.Popen[bytes]
    base: str  # http://127.0.0.1:PORT
    startup_s: float

    def rss_mib(self) -> dict[str, int]:
        """Resident memory now (rss) and at its peak so far (hwm), MiB: the server and the processes
        it started (worker processes), added up."""
        found = [rss_kib(pid) for pid in process_tree(self.process.pid)]
        return {
            "rss": round(sum(f.get("VmRSS", 0) for f in found) / 1024),
            "hwm": round(sum(f.get("VmHWM", 0) for f in found) / 1024),
        }


def process_tree(pid: int) -> list[int]:
    """`pid` and its descendants (Linux: /proc/PID/task/*/children)."""
    pids, todo = [], [pid]
    while todo:
        current = todo.pop()
        pids.append(current)
        for children in Path(f"/proc/{current}/task").glob("*/children"):
            try:
                todo.extend(int(child) for child in children.read_text().split())
            except OSError:  # the process ended meanwhile
                continue
    return pids


REFUSAL_GRACE_S = 60.0  # how long a server may answer "index unavailable" with a reason


def _refusal(answer: httpx.Response) -> str | None:
    """The reason a health answer gives for serving no index, other than still loading one."""
    try:
        body = answer.json()
    except ValueError:
        return None
    detail = body.get("detail") if isinstance(body, dict) else None
    return detail if isinstance(detail, str) and detail != "no index loaded" else None


@contextmanager
def running(
    command: list[str], env: dict[str, str], port: int, *, ready: str = "/health", timeout_s: float = 1800
) -> Iterator[Server]:
    """Run `command` (a server listening on `port`) until the block ends; yields once `ready` answers
    200. The server's stderr goes to a file whose tail is shown if it exits early."""
    with tempfile.TemporaryFile() as stderr:
        process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=stderr, env=env)
        base = f"http://127.0.0.1:{port}"
        try:
            started = time.perf_counter()
            with httpx.Client(base_url=base, timeout=10) as client:
                while True:
                    if process.poll() is not None:
                        stderr.seek(0)
                        tail = stderr.read().decode(errors="replace").strip().splitlines()[-5:]
                        raise SystemExit(
                            f"{Path(command[0]).name} {' '.join(command[1:4])} ... exited with "
                            f"{process.returncode}: " + " | ".join(tail)
                        )
                    if time.perf_counter() - started > timeout_s:
                        raise SystemExit(f"{base}{ready} did not answer 200 within {timeout_s:.0f} s")
                    try:
                        answer = client.get(ready)
                        if answer.status_code == 200:
                            break
                        # A server up but refusing its index (wrong model, corrupt version) says
                        # why and will not recover by itself: stop waiting once it has said it
                        # for a while, rather than for the whole timeout.
                        why = _refusal(answer)
                        if why and time.perf_counter() - started > REFUSAL_GRACE_S:
                            raise SystemExit(f"{base}{ready} answers {answer.status_code}: {why}")
                    except httpx.TransportError:
                        pass
                    time.sleep(0.25)
            yield Server(process, base, time.perf_counter() - started)
        finally:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
