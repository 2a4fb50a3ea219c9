"""Reader events under load: POST /events at 64 connections alongside list traffic, in one run.

Starts `recsys serve` on a built data folder (RECSYS_EVENTS_RATE=0: every connection comes from
127.0.0.1, one address, which the per-client limit would otherwise throttle as one client) and runs,
`--duration` seconds each and never overlapping:

1. lists alone: wrk on the list endpoint at `--list-connections`;
2. lists with events: the same wrk run, and at the same time a second wrk POSTing event batches at
   `--connections` (each batch: impressions of the first `--events-per-batch` items of a random
   article's related list, with a page-view id of its own, as the widget sends them);
3. lists alone again, so drift over the run (a warming cache, a busy neighbour) shows.

Then it stops the server cleanly (its last flush) and compares the impressions stored in the catalog
(recsys/catalog/feedback.py) with the events the server accepted (its `recsys_events_total`; wrk's
204 count misses the batches answered after its duration ended). `--event-delay-ms` paces each
events connection (wrk's `delay`), for a realistic share of events instead of a flood. The report:
list req/s alone and with events and their ratio, events per second, errors and statuses of every
run, the events dropped by reason (/metrics), and stored vs accepted.

    python -m benchmarks.events_load --data-dir var/bbc --duration 15 \\
        --output benchmarks/results/events_load.json
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shlex
import shutil
import subprocess
import sys
import tempfile
import threading
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
from prometheus_client.parser import text_string_to_metric_families

from benchmarks.report import machine, table, write_json
from benchmarks.serving import Server, free_port, recsys_command, running
from benchmarks.wrk_load import (
    LUA,
    MARK,
    _published_ids,
    lua_string,
    run_wrk,
    write_script,
    wrk_command,
    wrk_result,
)
from recsys.catalog.feedback import read_counts
from recsys.catalog.store import Catalog

LIST_ENDPOINT = "/articles/{id}/related?limit=10"
BROWSER = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36"
PV = "@PV@"  # replaced in Lua by a page-view id unique to each request
AGENT = "@AGENT@"

# wrk_load's script, with a request that POSTs a batch (one template per line of `ids`) instead.
_GET = """function request()
  return wrk.format("GET", prefix .. ids[math.random(#ids)] .. suffix)
end"""
# In LUA's format syntax: {seed} is filled in with the rest, braces are doubled. wrk also calls
# `request` once in its main Lua state, where `init` never ran, to check the request (and an error
# there silently turns `delay` off): that call gets a batch-less request.
_POST = """sent = 0
local headers = {{["Content-Type"] = "text/plain;charset=UTF-8", ["User-Agent"] = "@AGENT@"}}
function request()
  if ids == nil then return wrk.format("POST", prefix, headers, "") end
  sent = sent + 1
  local pv = string.format("pv-{seed}-%d-%d", thread_number, sent)
  local body = (ids[math.random(#ids)]:gsub("@PV@", pv, 1))
  return wrk.format("POST", prefix, headers, body)
end

function delay()
  return @DELAY@
end"""


def events_script(path: Path, batches: list[str], seed: int, delay_ms: int = 0) -> None:
    """wrk's script for the events: a random batch template per request, with a fresh page-view id,
    each connection waiting `delay_ms` between its batches (0: flat out)."""
    template = LUA.replace(_GET, _POST.replace(AGENT, BROWSER).replace("@DELAY@", str(int(delay_ms))))
    if template == LUA:
        raise SystemExit("benchmarks/wrk_load.py's Lua request function changed: update events_load.py")
    path.write_text(
        template.format(
            ids=lua_string("\n".join(batches)),
            prefix=lua_string("/events"),
            suffix=lua_string(""),
            seed=seed,
            mark=MARK,
        )
    )


def batches(server: Server, ids: list[str], per_batch: int, want: int, seed: int) -> list[str]:
    """Batch templates for up to `want` articles with at least `per_batch` related items."""
    rng = random.Random(seed)
    found: list[str] = []
    with httpx.Client(base_url=server.base, timeout=60) as client:
        for article in rng.sample(ids, min(len(ids), want * 3)):
            body = client.get(LIST_ENDPOINT.format(id=quote(article, safe=""))).json()
            items = body.get("items", [])[:per_batch]
            if len(items) < per_batch:
                continue
            events = [
                {"type": "impression", "block": "related", "position": n, "item": i["id"]}
                for n, i in enumerate(items)
            ]
            batch = {
                "v": 1,
                "pv": PV,
                "article": body["article_id"],
                "version": body["index_version"],
                "experiment": body.get("experiment", ""),
                "arm": body.get("arm", "default"),
                "events": events,
            }
            found.append(json.dumps(batch, separators=(",", ":")))
            if len(found) == want:
                break
    if not found:
        raise SystemExit(f"no article has {per_batch} related items")
    return found


def _both(
    base: str, lists: Path, events: Path, args: argparse.Namespace
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The list run and the events run at the same time."""
    commands = {
        "lists": wrk_command(base, lists, args.list_connections, args.threads, args.duration, args.timeout),
        "events": wrk_command(base, events, args.connections, args.threads, args.duration, args.timeout),
    }
    done: dict[str, subprocess.CompletedProcess[str]] = {}

    def run(name: str) -> None:
        done[name] = subprocess.run(commands[name], capture_output=True, text=True)

    threads = [threading.Thread(target=run, args=(name,)) for name in commands]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    lists_run = wrk_result(
        args.list_connections, done["lists"].returncode, done["lists"].stdout, done["lists"].stderr
    )
    events_run = wrk_result(
        args.connections, done["events"].returncode, done["events"].stdout, done["events"].stderr
    )
    return lists_run, events_run


def _samples(base: str, name: str, label: str) -> dict[str, float]:
    text = httpx.get(base + "/metrics", timeout=30).text
    return {
        sample.labels[label]: sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == name
    }


def _stored_impressions(catalog_file: Path) -> int:
    catalog = Catalog(catalog_file)
    try:
        return sum(count.impressions for count in read_counts(catalog))
    finally:
        catalog.dispose()


def _errors(run: dict[str, Any]) -> int:
    return int(run["timeouts"] + run["status_503"] + run["other_errors"])


def measure(args: argparse.Namespace, work: Path) -> dict[str, Any]:
    catalog_file = args.data_dir / "catalog.sqlite3"
    ids = _published_ids(args.data_dir)
    rng = random.Random(args.seed)
    sample = rng.sample(ids, min(args.ids, len(ids)))
    lists = work / "lists.lua"
    write_script(lists, LIST_ENDPOINT, sample, args.seed)
    stored_before = _stored_impressions(catalog_file)
    env = dict(os.environ) | {
        "RECSYS_RELOAD_INTERVAL": "0",
        "RECSYS_LOG_LEVEL": "warning",
        "RECSYS_RESPONSE_CACHE_SIZE": str(args.response_cache),
        "RECSYS_WORKERS": str(args.workers),
        "RECSYS_EVENTS": "true",
        "RECSYS_EVENTS_RATE": "0",
        "RECSYS_EVENTS_FLUSH_SECONDS": str(args.flush_seconds),
    }
    port = free_port()
    command = recsys_command("serve", "--data-dir", str(args.data_dir), "--port", str(port))
    if args.pin:
        # The worker on CPU 0, this script and both wrk processes on CPU 1: what the worker can do,
        # without the load tools taking turns on its core.
        command = ["taskset", "--cpu-list", "0", *command]
        os.sched_setaffinity(0, {1})
    with running(command, env, port) as server:
        print(f"  recsys serve up in {server.startup_s:.1f} s; wrk ...", flush=True)
        events = work / "events.lua"
        templates = batches(server, sample, args.events_per_batch, args.batches, args.seed)

        def run() -> dict[str, Any]:
            return run_wrk(
                server.base, lists, args.list_connections, args.threads, args.duration, args.timeout
            )

        run()  # warm-up, not reported
        # Alone, mixed, alone, mixed, ..., alone: each mixed run is compared with the mean of the
        # runs on either side of it, since list throughput drifts over a run (docs/benchmarks.md).
        alones = [run()]
        mixed: list[tuple[dict[str, Any], dict[str, Any]]] = []
        for n in range(args.rounds):
            # Page-view ids unique across rounds: a repeated one would be dropped as a duplicate.
            events_script(events, templates, args.seed * 1000 + n, args.event_delay_ms)
            mixed.append(_both(server.base, lists, events, args))
            alones.append(run())
        # What a batch costs the worker against a list: /events alone, unpaced, same connections.
        flood = work / "flood.lua"
        events_script(flood, templates, args.seed * 1000 + args.rounds, 0)
        events_alone = run_wrk(
            server.base, flood, args.connections, args.threads, args.duration, args.timeout
        )
        dropped = _samples(server.base, "recsys_events_dropped_total", "reason")
        accepted = int(_samples(server.base, "recsys_events_total", "type").get("impression", 0))
    stored = _stored_impressions(catalog_file) - stored_before
    # wrk counts the answers that came within its duration; the server also answered the batches in
    # flight when wrk stopped: its own count of accepted events is what the store must equal.
    rounds = []
    for n, (with_lists, with_events) in enumerate(mixed):
        around = (alones[n]["rps"] + alones[n + 1]["rps"]) / 2
        answered = int(with_events["statuses"].get("204", 0)) * args.events_per_batch
        rounds.append(
            {
                "lists_alone_before": alones[n],
                "lists_with_events": with_lists,
                "events": with_events,
                "lists_alone_after": alones[n + 1],
                "list_rps_ratio": round(with_lists["rps"] / around, 3) if around else None,
                "event_batches_per_s": round(with_events["rps"], 1),
                "events_per_s": round(answered / with_events["seconds"], 1)
                if with_events["seconds"]
                else 0.0,
            }
        )
    ratios = sorted(r["list_rps_ratio"] for r in rounds if r["list_rps_ratio"] is not None)
    return {
        "data_dir": str(args.data_dir),
        "articles": len(ids),
        "rounds": rounds,
        "list_rps_ratio_median": ratios[len(ratios) // 2] if ratios else None,
        "events_alone_unpaced": events_alone,
        # Requests per second of each alone, unpaced: how many lists one event batch costs.
        "batch_cost_in_lists": round((sum(a["rps"] for a in alones) / len(alones)) / events_alone["rps"], 3)
        if events_alone["rps"]
        else None,
        "list_rps_ratios": ratios,
        "dropped": dropped,
        "events_answered_204_in_time": answered,
        "events_accepted": accepted,
        "events_stored": stored,
        "stored_equals_accepted": stored == accepted,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, required=True, help="a built data folder (SQLite catalog)")
    parser.add_argument("--connections", type=int, default=64, help="wrk connections POSTing events")
    parser.add_argument("--list-connections", type=int, default=64, help="wrk connections asking for lists")
    parser.add_argument("--duration", type=int, default=15, help="seconds per wrk run")
    parser.add_argument("--threads", type=int, default=2, help="wrk threads per wrk process")
    parser.add_argument("--timeout", default="2s", help="wrk's request timeout")
    parser.add_argument(
        "--event-delay-ms",
        type=int,
        default=0,
        help="each events connection waits this long between batches (0: as fast as answered)",
    )
    parser.add_argument("--events-per-batch", type=int, default=5, help="impressions per batch")
    parser.add_argument("--batches", type=int, default=200, help="articles whose lists the batches report")
    parser.add_argument("--ids", type=int, default=100_000, help="ids drawn from the catalog for the lists")
    parser.add_argument("--flush-seconds", type=float, default=5.0, help="RECSYS_EVENTS_FLUSH_SECONDS")
    parser.add_argument("--workers", type=int, default=1, help="RECSYS_WORKERS")
    parser.add_argument("--response-cache", type=int, default=0, help="RECSYS_RESPONSE_CACHE_SIZE (0: off)")
    parser.add_argument(
        "--rounds", type=int, default=3, help="mixed runs, each between two runs of the lists alone"
    )
    parser.add_argument(
        "--pin", action="store_true", help="one worker on CPU 0, the load tools on CPU 1 (needs --workers 1)"
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--output", type=Path)
    args = parser.parse_args()
    if args.pin and (args.workers != 1 or len(os.sched_getaffinity(0)) < 2):
        raise SystemExit("--pin needs --workers 1 and two CPUs")
    if shutil.which("wrk") is None:
        raise SystemExit(
            "wrk is not installed: `apt-get install -y wrk` (Debian/Ubuntu) or build it from wg/wrk"
        )
    print(f"measuring {args.data_dir} ...", flush=True)
    with tempfile.TemporaryDirectory(prefix="events-load-") as work:
        result = measure(args, Path(work))
    rows = []
    for n, round_ in enumerate(result["rounds"], 1):
        names = ("lists alone", "lists, with events", "events", "lists alone, after")
        keys = ("lists_alone_before", "lists_with_events", "events", "lists_alone_after")
        for name, key in zip(names, keys, strict=True):
            run = round_[key]
            rows.append(
                [
                    n,
                    name,
                    run["connections"],
                    run["rps"],
                    run["p50_ms"],
                    run["p99_ms"],
                    _errors(run),
                    run["statuses"],
                ]
            )
        rows.append([n, "ratio to the alone runs' mean", "", round_["list_rps_ratio"], "", "", "", ""])
    alone = result["events_alone_unpaced"]
    rows.append(
        [
            "",
            "events alone, unpaced",
            alone["connections"],
            alone["rps"],
            alone["p50_ms"],
            alone["p99_ms"],
            _errors(alone),
            alone["statuses"],
        ]
    )
    print(table(["round", "run", "conns", "req/s", "p50 ms", "p99 ms", "errors", "statuses"], rows))
    print(
        f"list req/s with events / alone: median {result['list_rps_ratio_median']} "
        f"of {result['list_rps_ratios']}; a batch costs {result['batch_cost_in_lists']} of a list; "
        f"events accepted {result['events_accepted']}, stored {result['events_stored']}; "
        f"dropped {result['dropped']}"
    )
    write_json(
        args.output,
        {
            "benchmark": "events_load",
            "machine": machine(),
            "command": shlex.join([Path(sys.executable).name, "-m", "benchmarks.events_load", *sys.argv[1:]]),
            "connections": args.connections,
            "list_connections": args.list_connections,
            "duration_s": args.duration,
            "events_per_batch": args.events_per_batch,
            "event_delay_ms": args.event_delay_ms,
            "flush_seconds": args.flush_seconds,
            "workers": args.workers,
            "pinned": args.pin,
            **result,
        },
    )


if __name__ == "__main__":
    main()
