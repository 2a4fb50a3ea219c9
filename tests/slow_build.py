"""Test-only entry point: a real build process, slow on purpose, that says where it is.

So a test can SIGKILL it at a chosen moment or start a second build beside it.

    python -m tests.slow_build DATA_DIR [--tag TAG] [--delay SECONDS] [--stop-at STAGE]

With --tag, first imports a few articles whose text carries the tag, so the build has something to
embed. Then runs build_index with a FakeEncoder that sleeps `--delay` per batch, and prints
`stage embed` before each batch and `stage fsync NAME` before each fsync of the publish (the index
files, the manifest, the staging folder, the versions folder after the move, and the index folder
after CURRENT is replaced), each followed by the same delay. With --stop-at (a stage line without
`stage `, e.g. `fsync manifest.json`), it waits at that stage until it is killed: a test kills it
there with no timing involved. Domain errors print `error: ...`, exit 1.

Tests start it with `start` and follow it with `wait_for_stage`.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pytest

import recsys.storage
import recsys.version.store
from index.build import build_index
from recsys.catalog.ingest import import_file
from recsys.errors import RecsysError
from recsys.root import Root
from recsys.settings import Settings
from tests.fakes import FakeEncoder, write_jsonl
from tests.helpers import REPO


def start(data_dir: Path, *args: str, variables: Mapping[str, str] | None = None) -> subprocess.Popen[str]:
    """This module as a build process of its own, with this environment and `variables`."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])}
    return subprocess.Popen(
        [sys.executable, "-m", "tests.slow_build", str(data_dir), *args],
        cwd=REPO,
        env={**env, **(variables or {})},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def wait_for_stage(process: subprocess.Popen[str], line: str) -> None:
    """Read the build's stage lines until `line`; the build ends on its own, so this is bounded."""
    assert process.stdout is not None
    seen = []
    for got in process.stdout:
        seen.append(got.strip())
        if got.strip() == line:
            return
    process.wait(timeout=60)
    pytest.fail(f"the build never reached {line!r}; it printed {seen}, stderr: {process.stderr.read()}")  # type: ignore[union-attr]


class Stages:
    def __init__(self, delay: float, stop_at: str | None) -> None:
        self.delay = delay
        self.stop_at = stop_at

    def __call__(self, name: str) -> None:
        print(f"stage {name}", flush=True)
        while name == self.stop_at:
            time.sleep(60)
        time.sleep(self.delay)


class SlowEncoder(FakeEncoder):
    def __init__(self, stage: Stages) -> None:
        super().__init__()
        self.stage = stage

    def encode(self, texts: list[str], *, batch_size: int = 64, progress: bool = False) -> np.ndarray:
        self.stage("embed")
        return super().encode(texts, batch_size=batch_size, progress=progress)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("data_dir", type=Path)
    parser.add_argument("--tag")
    parser.add_argument("--delay", type=float, default=0.2)
    parser.add_argument("--stop-at")
    args = parser.parse_args()
    stage = Stages(args.delay, args.stop_at)

    real_fsync = recsys.version.store.fsync_path

    def slow_fsync(path: Path) -> None:
        stage(f"fsync {path.name}")
        real_fsync(path)

    # Both names: the store's own fsyncs, and the one of CURRENT's folder in storage.replace_text.
    recsys.version.store.fsync_path = slow_fsync
    recsys.storage.fsync_path = slow_fsync
    settings = Settings(data_dir=args.data_dir)
    catalog = Root(settings).catalog
    try:
        if args.tag:
            records = [
                {
                    "id": f"{args.tag}-{i}",
                    "title": f"{args.tag} harbour ferry",
                    "body": f"{args.tag} {i} tide",
                }
                for i in range(3)
            ]
            import_file(catalog, write_jsonl(args.data_dir / f"{args.tag}.jsonl", records))
        report = build_index(settings, catalog, SlowEncoder(stage))
    except RecsysError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"published {report.version}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
