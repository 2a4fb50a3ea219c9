"""Two checkouts of this repo under wrk in one run, interleaved ABBA, each measured by its own wrk_load.

Compares a "before" and an "after" tree (a `git worktree` at an older commit and the current tree,
say) on one endpoint, at each data folder given. Each call is one `benchmarks.wrk_load` run of one
tree on one folder (`--sizes real`, our server and the trivial app, at `--connections` and at 1
connection, `--duration` seconds each: about 4 x duration plus half a minute of startups). Round 1
runs before then after, round 2 after then before, and so on, so that a drift in the machine's load
falls on both trees alike.

Each tree is measured by its own harness, from its own root, with PYTHONPATH=<tree>, on its own fresh
copy of every data folder (a newer catalog schema written by one tree then never reaches the other),
copied into `--work-dir` and removed at the end. The servers see no RECSYS_* or OMP_* of the caller,
and RECSYS_ENCODER_BACKEND is `--backend` (torch: the backend is part of the model identity the server
checks, so it must be the one the folders were built with). Writes r<round>-<name>-<tree>.json (the
tree's wrk_load JSON) per call, then summary.json (machine, trees, commits, per-round figures, means,
after/before) and summary.md, and prints the summary table.

    python -m benchmarks.compare_trees --before /work/wt/before --after . \\
        --data bbc=/work/benchdata/bbc --data 100k=/work/benchdata/load/100000 \\
        --output-dir benchmarks/results/compare_trees/NAME

Why each call runs through this file's `--in-tree` mode rather than `python -m benchmarks.wrk_load`:
the shared venv has an editable install of one checkout that maps cli, index, recsys and service to
it. PYTHONPATH wins for packages the tree has, but a package the tree lacks (cli, in trees older than
the house plan) silently comes from that checkout. So before anything is measured, the in-tree mode
checks that every module that matters, and every server process wrk_load starts, comes from the tree.
This module imports only the standard library at its top: in that mode it runs by its path (`python
-P`, so that its own folder is not on sys.path) with the other tree's packages first on the path.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import json
import os
import re
import shlex
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

TREES = ("before", "after")
DEFAULT_ENDPOINT = "/articles/{id}/related?limit=10"
IN_TREE = "--in-tree"
# Newest first: the module that serves moved (index.cli, then cli.commands); a tree's wrk_load that
# names one its tree lacks is pointed at the one it has rather than at another checkout's.
SERVE_MODULES = ("cli.app", "cli.commands", "index.cli")
CHECKED_MODULES = ("recsys", "recsys.settings", "service", "service.app", "benchmarks.wrk_load")
# What the caller's environment may not pass on to the servers: settings, thread counts, and another
# interpreter's or checkout's paths.
CLEARED_PREFIXES = ("RECSYS_", "OMP_", "MKL_")
CLEARED_NAMES = ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV")
QUIET_LOAD = 1.0  # a 1-minute load average above this at the start is warned about
NAME = re.compile(r"[A-Za-z0-9_.]+")

# (title, key in figures()): the rows of the summary table, per data folder
METRICS = (
    ("req/s @64", "rps"),
    ("trivial req/s @64 (noise check)", "trivial_rps"),
    ("ours / trivial @64", "ours_over_trivial"),
    ("p99 ms @64", "p99_ms_many"),
    ("p50 ms @1", "p50_ms_1"),
    ("p99 ms @1", "p99_ms_1"),
    ("errors (ours, all runs)", "errors"),
)
HEADER = (
    "| size | metric | before (per round) | after (per round) | before mean | after mean | after/before |\n"
    "| --- | --- | --- | --- | ---: | ---: | ---: |"
)


@dataclass(frozen=True)
class Call:
    """One wrk_load run: one tree on one data folder in one round."""

    round: int
    size: str
    tree: str

    @property
    def file_name(self) -> str:
        return f"r{self.round}-{self.size}-{self.tree}.json"


def schedule(rounds: int, sizes: Sequence[str]) -> list[Call]:
    """ABBA: odd rounds run before then after, even rounds after then before, on every folder."""
    calls = []
    for number in range(1, rounds + 1):
        order = TREES if number % 2 else TREES[::-1]
        calls += [Call(number, size, tree) for size in sizes for tree in order]
    return calls


def data_folder(text: str) -> tuple[str, Path]:
    name, sep, path = text.partition("=")
    if not sep or not path or not NAME.fullmatch(name):
        raise argparse.ArgumentTypeError(f"{text!r}: expected NAME=PATH, NAME of letters, digits, _ and .")
    return name, Path(path)


def positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value}: must be at least 1")
    return value


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--before", type=Path, required=True, help="the tree measured as before")
    parser.add_argument("--after", type=Path, required=True, help="the tree measured as after")
    parser.add_argument(
        "--data",
        type=data_folder,
        action="append",
        required=True,
        metavar="NAME=PATH",
        help="a built data folder, named in the files and the table; repeatable",
    )
    parser.add_argument("--duration", type=positive, default=10, help="seconds per wrk run (10)")
    parser.add_argument("--rounds", type=positive, default=2, help="rounds of both trees, ABBA (2)")
    parser.add_argument("--connections", type=positive, default=64, help="wrk connections (64), and 1")
    parser.add_argument(
        "--endpoint", default=DEFAULT_ENDPOINT, help=f"path template with {{id}} ({DEFAULT_ENDPOINT})"
    )
    parser.add_argument(
        "--backend",
        default="torch",
        help="RECSYS_ENCODER_BACKEND of the servers: the one the data folders were built with (torch)",
    )
    parser.add_argument(
        "--work-dir", type=Path, help="where the per-tree copies of the data folders go (default: a temp dir)"
    )
    parser.add_argument(
        "--output-dir",
        type=Path,
        help="the JSON files and summary.md (default: benchmarks/results/compare_trees/<date-time>)",
    )
    args = parser.parse_args(argv)
    names = [name for name, _ in args.data]
    if len(set(names)) != len(names):
        parser.error(f"--data names must differ: {', '.join(names)}")
    if "{id}" not in args.endpoint:
        parser.error("--endpoint needs {id}")
    if args.output_dir is None:
        args.output_dir = Path("benchmarks/results/compare_trees") / time.strftime("%Y%m%d-%H%M%S")
    return args


def tree_env(environ: Mapping[str, str], tree: Path, backend: str) -> dict[str, str]:
    """The environment of a call in `tree`, which wrk_load passes on to the servers it starts."""
    env = {
        key: value
        for key, value in environ.items()
        if not key.startswith(CLEARED_PREFIXES) and key not in CLEARED_NAMES
    }
    return env | {
        "PYTHONPATH": str(tree),
        "RECSYS_ENCODER_BACKEND": backend,
        "HF_HUB_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1",
    }


def wrk_load_args(data_dir: Path, args: argparse.Namespace, output: Path) -> list[str]:
    return [
        *("--data-dir", str(data_dir), "--sizes", "real", "--endpoint", args.endpoint),
        *("--duration", str(args.duration), "--connections", str(args.connections)),
        *("--trivial", "floor", "--response-cache", "0", "--output", str(output)),
    ]


def figures(report: Mapping[str, Any]) -> dict[str, Any]:
    """The figures the summary compares, from one wrk_load JSON (one size, one endpoint)."""
    (run,) = report["runs"]
    (template,) = run["ours"]["endpoints"]
    ours = {r["connections"]: r for r in run["ours"]["endpoints"][template]}
    trivial = {r["connections"]: r for r in run["trivial"]["endpoints"][template]}
    many = max(ours)

    def errors(r: Mapping[str, Any]) -> int:
        return int(r["timeouts"] + r["status_503"] + r["other_errors"])

    return {
        "endpoint": template,
        "articles": run["articles"],
        "connections": many,
        "rps": ours[many]["rps"],
        "trivial_rps": trivial[many]["rps"],
        "ours_over_trivial": run["ratios"][template][0]["rps_ours_over_trivial"],
        "p99_ms_many": ours[many]["p99_ms"],
        "p50_ms_1": ours[1]["p50_ms"] if 1 in ours else None,
        "p99_ms_1": ours[1]["p99_ms"] if 1 in ours else None,
        "errors": sum(errors(r) for r in ours.values()),
        "trivial_errors": sum(errors(r) for r in trivial.values()),
        "startup_s": run["ours"]["startup_s"],
        "rss_mib": run["ours"]["rss_mib_after_start"],
    }


def mean(values: Sequence[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return round(statistics.fmean(present), 2) if present else None


def summarise(found: Mapping[str, Mapping[str, Mapping[int, Mapping[str, Any]]]]) -> dict[str, Any]:
    """Per size (smallest catalog first): each metric per round for both trees, their means and
    after/before of the means; and after/before of req/s within each round, the figure least exposed
    to a drift in the machine's load. `found`: size -> tree -> round -> figures()."""

    def articles(size: str) -> int:
        return min(f["articles"] for runs in found[size].values() for f in runs.values())

    summary: dict[str, Any] = {}
    for size in sorted(found, key=articles):
        before, after = found[size].get("before", {}), found[size].get("after", {})
        any_run = next(iter((before or after).values()))
        metrics: dict[str, Any] = {}
        for _, key in METRICS:
            b = [before[r][key] for r in sorted(before)]
            a = [after[r][key] for r in sorted(after)]
            mb, ma = mean(b), mean(a)
            metrics[key] = {
                "before": b,
                "after": a,
                "before_mean": mb,
                "after_mean": ma,
                "after_over_before": round(ma / mb, 3) if mb and ma is not None else None,
            }
        summary[size] = {
            "articles": any_run["articles"],
            "endpoint": any_run["endpoint"],
            "metrics": metrics,
            "rps_after_over_before_per_round": [
                round(after[r]["rps"] / before[r]["rps"], 3)
                for r in sorted(before)
                if r in after and before[r]["rps"]
            ],
        }
    return summary


def fmt(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:,.0f}" if abs(value) >= 100 else f"{value:.2f}"
    return str(value)


def markdown(summary: Mapping[str, Any]) -> str:
    """The summary as a Markdown table: one row per size and metric, then the per-round req/s ratios."""
    lines = [HEADER]
    for size, entry in summary.items():
        label = f"{size} ({entry['articles']:,})"
        for title, key in METRICS:
            m = entry["metrics"][key]
            before = " / ".join(fmt(v) for v in m["before"])
            after = " / ".join(fmt(v) for v in m["after"])
            lines.append(
                f"| {label} | {title} | {before} | {after} | {fmt(m['before_mean'])} "
                f"| {fmt(m['after_mean'])} | {fmt(m['after_over_before'])} |"
            )
        pairs = " / ".join(map(str, entry["rps_after_over_before_per_round"]))
        lines.append(f"| {label} | req/s after/before, per round | | | | | {pairs} |")
    return "\n".join(lines)


def _git(tree: Path, *command: str) -> str | None:
    done = subprocess.run(["git", "-C", str(tree), *command], capture_output=True, text=True)
    return done.stdout.strip() if done.returncode == 0 else None


def describe_tree(tree: Path) -> dict[str, Any]:
    modified = _git(tree, "status", "--porcelain", "--untracked-files=no")
    return {
        "path": str(tree),
        "commit": _git(tree, "rev-parse", "HEAD"),
        "branch": _git(tree, "rev-parse", "--abbrev-ref", "HEAD"),
        "modified_tracked_files": None if modified is None else len(modified.splitlines()),
    }


def load_average() -> list[float]:
    return [float(v) for v in Path("/proc/loadavg").read_text().split()[:3]]


def check(trees: Mapping[str, Path], data: Mapping[str, Path]) -> None:
    """Refuses a run that could not finish or would measure something else, before any copy is made."""
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed: `apt-get install -y wrk`")
    if trees["before"] == trees["after"]:
        raise SystemExit(f"--before and --after are the same tree: {trees['before']}")
    for name, tree in trees.items():
        if not (tree / "benchmarks" / "wrk_load.py").is_file():
            raise SystemExit(f"{tree} has no benchmarks/wrk_load.py")
        if (tree / ".env").exists():
            print(f"WARNING: {tree}/.env exists: its RECSYS_* settings apply to {name} only")
    for name, folder in data.items():
        if not (folder / "catalog.sqlite3").is_file():
            raise SystemExit(f"--data {name}={folder}: no catalog.sqlite3 there (not a built data folder)")


def run_call(call: Call, tree: Path, data_dir: Path, output: Path, args: argparse.Namespace) -> None:
    load = " ".join(map(str, load_average()))
    print(f"=== round {call.round}, {call.size}, {call.tree} ({tree}), load {load}, {time.strftime('%T')}")
    command = [sys.executable, "-P", str(Path(__file__).resolve()), IN_TREE, str(tree), "--"]
    command += wrk_load_args(data_dir, args, output)
    sys.stdout.flush()
    done = subprocess.run(command, cwd=tree, env=tree_env(os.environ, tree, args.backend))
    if done.returncode != 0:
        raise SystemExit(f"round {call.round}, {call.size}, {call.tree}: exited with {done.returncode}")


def main(argv: Sequence[str] | None = None) -> None:
    # Imported here, not at the top: the in-tree mode runs this file with another tree first on the
    # path, where benchmarks.report is that tree's (or missing).
    from benchmarks.report import machine

    args = parse_args(argv)
    trees = {"before": args.before.resolve(), "after": args.after.resolve()}
    data = {name: path.resolve() for name, path in args.data}
    check(trees, data)
    output_dir = args.output_dir.resolve()
    output_dir.mkdir(parents=True, exist_ok=True)

    load_start = load_average()
    if load_start[0] > QUIET_LOAD:
        print(f"WARNING: load average {load_start[0]} > {QUIET_LOAD}: the machine is not quiet")
    wrk = subprocess.run(["wrk", "--version"], capture_output=True, text=True).stdout.splitlines()
    run: dict[str, Any] = {
        "date": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "host": socket.gethostname(),
        "wrk": wrk[0] if wrk else None,
        "python": sys.executable,
        "duration_s": args.duration,
        "rounds": args.rounds,
        "connections": args.connections,
        "endpoint": args.endpoint,
        "backend": args.backend,
        "trees": {name: describe_tree(tree) for name, tree in trees.items()},
        "data": {name: str(path) for name, path in data.items()},
        "load_average_start": load_start,
    }
    print(json.dumps(run, indent=2))

    calls = schedule(args.rounds, list(data))
    started = time.perf_counter()
    if args.work_dir is not None:
        args.work_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="compare-trees-", dir=args.work_dir) as work:
        print(f"fresh copies of the data folders under {work} ...", flush=True)
        copies = {}
        for tree in TREES:
            for name, source in data.items():
                copies[tree, name] = Path(work) / tree / name
                shutil.copytree(source, copies[tree, name], symlinks=True)
        for call in calls:
            output = output_dir / call.file_name
            run_call(call, trees[call.tree], copies[call.tree, call.size], output, args)

    found: dict[str, dict[str, dict[int, dict[str, Any]]]] = {}
    for call in calls:
        report = json.loads((output_dir / call.file_name).read_text())
        found.setdefault(call.size, {}).setdefault(call.tree, {})[call.round] = figures(report)
    summary = summarise(found)
    text = markdown(summary)
    run |= {"load_average_end": load_average(), "wall_s": round(time.perf_counter() - started)}
    command = [Path(sys.executable).name, "-m", "benchmarks.compare_trees", *(argv or sys.argv[1:])]
    report = {
        "benchmark": "compare_trees",
        "machine": machine(),
        "command": shlex.join(command),
        "run": run,
        "calls": [call.file_name for call in calls],
        "sizes": summary,
    }
    (output_dir / "summary.json").write_text(json.dumps(report, indent=2) + "\n")
    (output_dir / "summary.md").write_text(text + "\n")
    print()
    print(text)
    print(f"\nresults in {output_dir}")


# ---- the in-tree mode: runs in a child process, by path, with the measured tree first on sys.path


def origin(module: str) -> Path | None:
    """The file `module` would be imported from (its parent packages are imported to find it)."""
    try:
        spec = importlib.util.find_spec(module)
    except (ImportError, ValueError):
        return None
    if spec is None or spec.origin is None:
        return None
    return Path(spec.origin).resolve()


def inside(path: Path | None, root: Path) -> bool:
    return path is not None and path.is_relative_to(root)


def run_in_tree(root: Path, wrk_args: list[str]) -> None:
    """Runs `root`'s own benchmarks.wrk_load with `wrk_args`, once every module that matters, and then
    every server it starts, is shown to come from `root`."""
    if Path.cwd().resolve() != root:
        raise SystemExit(f"run from the tree's root {root}, not {Path.cwd()}")
    if os.environ.get("PYTHONPATH", "").split(os.pathsep)[0] != str(root):
        raise SystemExit(f"PYTHONPATH must start with {root} (the servers inherit it)")
    for module in CHECKED_MODULES:
        found = origin(module)
        if not inside(found, root):
            raise SystemExit(f"{module} resolves to {found}, not under {root}")
    serve_modules = [m for m in SERVE_MODULES if inside(origin(m), root)]
    if not serve_modules:
        raise SystemExit(f"none of {', '.join(SERVE_MODULES)} is in {root}")

    wrk_load = importlib.import_module("benchmarks.wrk_load")
    original_running = wrk_load.running

    def running(command: list[str], env: dict[str, str], port: int, **kw: Any) -> Any:
        if command[1:2] == ["-m"] and not inside(origin(command[2]), root):
            if command[2] == "benchmarks.trivial_app" or "serve" not in command:
                raise SystemExit(f"{command[2]} is not in {root}")
            print(f"  WARNING: wrk_load starts -m {command[2]}, not in {root}; using -m {serve_modules[0]}")
            command = [command[0], "-m", serve_modules[0], *command[3:]]
        if command[1:2] == ["-m"]:
            print(f"  server: -m {command[2]} (from {origin(command[2])})", flush=True)
        return checked(original_running(command, env, port, **kw), root)

    # wrk_load looks `running` up in its own module at each call
    wrk_load.running = running  # type: ignore[attr-defined]
    sys.argv = [str(root / "benchmarks" / "wrk_load.py"), *wrk_args]
    wrk_load.main()


@contextmanager
def checked(context: AbstractContextManager[Any], root: Path) -> Iterator[Any]:
    """The server `context` starts, once its working folder and import path are shown to be `root`'s
    (what its -m resolves against)."""
    with context as server:
        pid = server.process.pid
        cwd = Path(os.readlink(f"/proc/{pid}/cwd")).resolve()
        environ = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
        path = next((e.split(b"=", 1)[1].decode() for e in environ if e.startswith(b"PYTHONPATH=")), "")
        if cwd != root or path.split(os.pathsep)[0] != str(root):
            raise SystemExit(f"server {pid} runs in {cwd} with PYTHONPATH={path!r}, not {root}")
        yield server


if __name__ == "__main__":
    if sys.argv[1:2] == [IN_TREE]:
        rest = sys.argv[3:]
        run_in_tree(Path(sys.argv[2]).resolve(), rest[1:] if rest[:1] == ["--"] else rest)
    else:
        main()
