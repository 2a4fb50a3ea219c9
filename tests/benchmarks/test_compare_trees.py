"""benchmarks/compare_trees.py without running anything: its arguments, the ABBA order, the servers'
environment and the summary's arithmetic from wrk_load JSON of the real shape."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from benchmarks.compare_trees import (
    DEFAULT_ENDPOINT,
    Call,
    figures,
    markdown,
    parse_args,
    schedule,
    summarise,
    tree_env,
)
from benchmarks.report import cpu_features


def test_arguments_and_their_defaults() -> None:
    args = parse_args(
        ["--before", "old", "--after", "new", "--data", "bbc=/d/bbc", "--data", "100k=/d/100000"]
    )
    assert args.before == Path("old") and args.after == Path("new")
    assert args.data == [("bbc", Path("/d/bbc")), ("100k", Path("/d/100000"))]
    assert (args.duration, args.rounds, args.connections) == (10, 2, 64)
    assert args.endpoint == DEFAULT_ENDPOINT and args.backend == "torch" and args.work_dir is None
    assert args.output_dir.parent == Path("benchmarks/results/compare_trees")

    args = parse_args(
        ["--before", "a", "--after", "b", "--data", "x=/x", "--duration", "2", "--rounds", "1"]
        + ["--endpoint", "/articles/{id}/blocks", "--backend", "openvino", "--output-dir", "out"]
    )
    assert (args.duration, args.rounds, args.endpoint) == (2, 1, "/articles/{id}/blocks")
    assert (args.backend, args.output_dir) == ("openvino", Path("out"))


@pytest.mark.parametrize(
    "extra",
    [
        [],  # no --data
        ["--data", "bbc"],  # no path
        ["--data", "a-b=/x"],  # a name that would blur the file names
        ["--data", "bbc=/x", "--data", "bbc=/y"],
        ["--data", "bbc=/x", "--rounds", "0"],
        ["--data", "bbc=/x", "--endpoint", "/articles/related"],
    ],
)
def test_arguments_refused(extra: list[str]) -> None:
    with pytest.raises(SystemExit):
        parse_args(["--before", "a", "--after", "b", *extra])


def test_rounds_alternate_the_trees_abba() -> None:
    calls = schedule(3, ["bbc", "100k"])
    assert [(c.round, c.size, c.tree) for c in calls] == [
        (1, "bbc", "before"),
        (1, "bbc", "after"),
        (1, "100k", "before"),
        (1, "100k", "after"),
        (2, "bbc", "after"),
        (2, "bbc", "before"),
        (2, "100k", "after"),
        (2, "100k", "before"),
        (3, "bbc", "before"),
        (3, "bbc", "after"),
        (3, "100k", "before"),
        (3, "100k", "after"),
    ]
    assert Call(2, "100k", "after").file_name == "r2-100k-after.json"


def test_servers_see_none_of_the_callers_settings() -> None:
    caller = {
        "PATH": "/bin",
        "HOME": "/h",
        "RECSYS_DATA_DIR": "/elsewhere",
        "RECSYS_ENCODER_BACKEND": "openvino",
        "OMP_NUM_THREADS": "8",
        "MKL_NUM_THREADS": "8",
        "PYTHONPATH": "/work/main",
        "VIRTUAL_ENV": "/v",
    }
    env = tree_env(caller, Path("/t/before"), "torch")
    assert env == {
        "PATH": "/bin",
        "HOME": "/h",
        "PYTHONPATH": "/t/before",
        "RECSYS_ENCODER_BACKEND": "torch",
        "HF_HUB_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1",
    }


def _run(connections: int, rps: float, p50: float, p99: float, errors: int = 0) -> dict[str, Any]:
    return {
        "connections": connections,
        "rps": rps,
        "p50_ms": p50,
        "p99_ms": p99,
        "timeouts": errors,
        "status_503": 0,
        "other_errors": 0,
    }


def fake_report(articles: int, rps: float, trivial_rps: float, p99: float, p50_1: float) -> dict[str, Any]:
    """A wrk_load JSON of the shape a `--sizes real` run with one endpoint writes, cut to what is read."""
    ours = [_run(64, rps, 70.0, p99), _run(1, 800.0, p50_1, 2 * p50_1)]
    trivial = [_run(64, trivial_rps, 11.0, 12.0), _run(1, 5000.0, 0.2, 0.4)]
    return {
        "benchmark": "wrk_load",
        "runs": [
            {
                "size": "real",
                "articles": articles,
                "ours": {"startup_s": 5.0, "rss_mib_after_start": 500, "endpoints": {DEFAULT_ENDPOINT: ours}},
                "trivial": {
                    "startup_s": 0.8,
                    "rss_mib_after_start": 90,
                    "endpoints": {DEFAULT_ENDPOINT: trivial},
                },
                "ratios": {
                    DEFAULT_ENDPOINT: [
                        {"connections": 64, "rps_ours_over_trivial": round(rps / trivial_rps, 3)},
                        {"connections": 1, "rps_ours_over_trivial": round(800.0 / 5000.0, 3)},
                    ]
                },
            }
        ],
    }


def test_summary_of_two_rounds(tmp_path: Path) -> None:
    reports = {
        Call(1, "big", "before"): fake_report(100_000, 800.0, 5000.0, 250.0, 1.2),
        Call(1, "big", "after"): fake_report(100_000, 840.0, 5000.0, 240.0, 1.1),
        Call(2, "big", "after"): fake_report(100_000, 880.0, 5200.0, 230.0, 1.1),
        Call(2, "big", "before"): fake_report(100_000, 800.0, 4800.0, 260.0, 1.3),
        Call(1, "small", "before"): fake_report(2_225, 900.0, 5500.0, 200.0, 1.0),
        Call(1, "small", "after"): fake_report(2_225, 450.0, 5500.0, 400.0, 2.0),
    }
    found: dict[str, dict[str, dict[int, dict[str, Any]]]] = {}
    for call, report in reports.items():  # through a file, as the benchmark reads them back
        (tmp_path / call.file_name).write_text(json.dumps(report))
        read = json.loads((tmp_path / call.file_name).read_text())
        found.setdefault(call.size, {}).setdefault(call.tree, {})[call.round] = figures(read)

    summary = summarise(found)
    assert list(summary) == ["small", "big"]  # the smaller catalog first
    big = summary["big"]
    assert big["articles"] == 100_000 and big["endpoint"] == DEFAULT_ENDPOINT
    assert big["metrics"]["rps"] == {
        "before": [800.0, 800.0],
        "after": [840.0, 880.0],
        "before_mean": 800.0,
        "after_mean": 860.0,
        "after_over_before": 1.075,
    }
    assert big["metrics"]["p99_ms_many"]["before_mean"] == 255.0
    assert big["metrics"]["p50_ms_1"]["after_over_before"] == round(1.1 / 1.25, 3)
    assert big["metrics"]["p99_ms_1"]["before"] == [2.4, 2.6]
    assert big["rps_after_over_before_per_round"] == [1.05, 1.1]
    assert summary["small"]["rps_after_over_before_per_round"] == [0.5]
    assert summary["small"]["metrics"]["errors"]["after_over_before"] is None  # 0 errors before

    lines = markdown(summary).splitlines()
    assert lines[0].startswith("| size | metric | before (per round) | after (per round) |")
    assert len(lines) == 2 + 2 * 8
    assert lines[2] == "| small (2,225) | req/s @64 | 900 | 450 | 900 | 450 | 0.50 |"
    assert "| big (100,000) | req/s @64 | 800 / 800 | 840 / 880 | 800 | 860 | 1.07 |" in lines
    assert "| big (100,000) | p50 ms @1 | 1.20 / 1.30 | 1.10 / 1.10 | 1.25 | 1.10 | 0.88 |" in lines
    assert "| big (100,000) | errors (ours, all runs) | 0 / 0 | 0 / 0 | 0.00 | 0.00 | - |" in lines
    assert lines[-1] == "| big (100,000) | req/s after/before, per round | | | | | 1.05 / 1.1 |"


def test_cpu_features_name_avx512_bf16_vnni_and_amx() -> None:
    line = "fpu sse2 avx2 avx512f avx512_bf16 avx512_vnni avx_vnni amx_tile amx_bf16 avx512f"
    flags = line.split()  # as /proc/cpuinfo gives them, one repeated
    assert cpu_features(flags) == [
        "amx_bf16",
        "amx_tile",
        "avx512_bf16",
        "avx512_vnni",
        "avx512f",
        "avx_vnni",
    ]
    assert cpu_features(["fp", "asimd", "bf16", "i8mm"]) == ["bf16"]  # Arm's Features line
