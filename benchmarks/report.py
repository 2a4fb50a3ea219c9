"""What every benchmark prints and writes: the machine, a fixed-width table, and a JSON file."""

from __future__ import annotations

import json
import os
import platform
import statistics
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

# The instruction sets that decide what encoding and FAISS cost: a figure measured where the CPU has
# AVX-512, bf16 or VNNI does not compare with one measured where it has not, whatever its model name.
CPU_FEATURES = ("avx512", "bf16", "vnni", "amx")


def cpu_features(flags: Iterable[str]) -> list[str]:
    """The flags of /proc/cpuinfo that name an AVX-512, bf16, VNNI or AMX feature, sorted."""
    return sorted({flag for flag in flags if any(feature in flag for feature in CPU_FEATURES)})


def machine() -> dict[str, Any]:
    info: dict[str, Any] = {
        "machine": platform.machine(),
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "system": platform.system(),
    }
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                info["memory_gib"] = round(int(line.split()[1]) / 2**20, 1)
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            name, _, value = line.partition(":")
            if name.strip() == "model name":
                info.setdefault("cpu", value.strip())
            elif name.strip() in ("flags", "Features"):  # x86, Arm
                info.setdefault("cpu_features", cpu_features(value.split()))
            if "cpu" in info and "cpu_features" in info:
                break
    except OSError:
        pass
    return info


def percentiles(values: Sequence[float]) -> dict[str, float]:
    """p50, p90, p99, max and mean of `values` (at least two), rounded to 0.1."""
    cuts = statistics.quantiles(values, n=100, method="inclusive")
    return {
        "p50": round(statistics.median(values), 1),
        "p90": round(cuts[89], 1),
        "p99": round(cuts[98], 1),
        "max": round(max(values), 1),
        "mean": round(statistics.fmean(values), 1),
    }


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    cells = [[str(h) for h in headers], *[[str(c) for c in row] for row in rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    lines = [
        "  ".join(
            c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(row, widths, strict=True))
        )
        for row in cells
    ]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def write_json(path: Path | None, report: dict[str, Any]) -> None:
    if path is None:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report, indent=2) + "\n")
    print(f"wrote {path}")


def rss_kib(pid: int) -> dict[str, int]:
    """Resident memory now (VmRSS) and at its peak (VmHWM) of a process, in KiB (Linux)."""
    found: dict[str, int] = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            found[name] = int(value.split()[0])
    return found
