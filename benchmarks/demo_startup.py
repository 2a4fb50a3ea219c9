"""`make demo` from an empty data folder to the first answered request, per encoder backend.

What `make demo` runs once its venv exists: `recsys build --data-dir <empty>` (the built-in demo corpus,
export of the model included for an exported backend) then `recsys serve`; the clock stops when
GET /articles/demo-0018/related answers 200. Backends alternate round by round, so a neighbour's burst on
a shared machine is spread over both.

    python -m benchmarks.demo_startup --backend torch --backend openvino --rounds 2 \\
        --output benchmarks/results/demo_startup.json
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

import httpx

from benchmarks.report import machine, table, write_json
from benchmarks.serving import recsys_command
from tests.servers import free_port, stop

QUERY = "/articles/demo-0018/related?limit=5"


def one_start(backend: str, folder: Path) -> dict[str, float]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RECSYS_")}
    env["RECSYS_ENCODER_BACKEND"] = backend
    data = folder / backend
    started = time.perf_counter()
    subprocess.run(
        recsys_command("build", "--data-dir", str(data), "--no-progress"),
        env=env,
        check=True,
        capture_output=True,
    )
    built = time.perf_counter()
    port = free_port()
    proc = subprocess.Popen(
        recsys_command("serve", "--data-dir", str(data), "--port", str(port), "--log-level", "warning"),
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}{QUERY}", timeout=5).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if proc.poll() is not None:
                raise RuntimeError(f"recsys serve exited with {proc.returncode}")
            time.sleep(0.1)
        answered = time.perf_counter()
    finally:
        stop(proc)
    return {
        "build_s": round(built - started, 1),
        "serve_s": round(answered - built, 1),
        "total_s": round(answered - started, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", action="append", required=True)
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--output", type=Path)
    args = parser.parse_args()

    runs: dict[str, list[dict[str, float]]] = {backend: [] for backend in args.backend}
    for _ in range(args.rounds):
        for backend in args.backend:
            with tempfile.TemporaryDirectory(prefix="recsys-demo-") as folder:
                runs[backend].append(one_start(backend, Path(folder)))
                print(backend, runs[backend][-1], flush=True)
    rows = [
        [
            backend,
            *(
                round(statistics.median(r[key] for r in found), 1)
                for key in ("build_s", "serve_s", "total_s")
            ),
        ]
        for backend, found in runs.items()
    ]
    print(table(["backend", "build s", "serve s", "first answer s (median)"], rows))
    write_json(
        args.output,
        {
            "benchmark": "demo_startup",
            "machine": machine(),
            "note": "shared 2-core box with other jobs running; empty data folder each run (export included)",
            "query": QUERY,
            "runs": runs,
        },
    )


if __name__ == "__main__":
    main()
