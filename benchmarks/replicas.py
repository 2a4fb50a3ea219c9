"""Two replicas on one PostgreSQL catalog: a retraction's propagation under load, and the faults.

How fast a retraction made through one replica reaches the other under load, and what the faults of
issue 18 (item 4) cost.

Setup, for every mode: a PostgreSQL server (its own, started from the machine's binaries as the tests
start theirs, with commits flushed as in production; or `--catalog-url`), migrated; a data set in it
and built into one shared version folder (default: the built-in demo corpus, by `recsys build` as
`make demo` does; `--data-dir`: a built SQLite data folder whose articles and embedding cache are
copied into PostgreSQL and built from the cached vectors only); then two replicas, `recsys serve` in
separate processes with separate data folders (RECSYS_DATA_DIR), sharing RECSYS_CATALOG_URL and
RECSYS_INDEX_DIR, each with the same admin API key. The model settings (RECSYS_ENCODER_BACKEND, ...)
come from the environment and must give the model identity the index was built with
(RECSYS_ENCODER_BACKEND=torch for a folder built with torch).

Load: one wrk per replica (`--connections` in total, half on each), random article ids over the
catalog (benchmarks/wrk_load.py's script), for the whole measurement: started before it, stopped
with SIGINT after it (wrk then reports what it did). Requests, non-2xx answers, socket errors and
timeouts are reported per replica.

`--mode propagation`: `--retractions` times, takes a random article's related list from replica A,
retracts its first item through A's admin API (POST /admin/articles/{id}/retract), then asks B for
the same list (a new connection each time) until the item is gone. The figure is the time from A's
2xx to B's first answer without it (p50, p90, p99, max), measured under the load above. One more
answer from B, and one from A, must not show it either (counted). Every retracted article is
published again at the end.

`--mode faults` runs each of `--faults` on fresh replicas, each under the same load, with a writer
that keeps retracting (every `--write-interval` seconds, through A and B in turn, the first item of a
list it has just read from that replica) and a prober that reads both replicas' /health:

- `postgres`: the PostgreSQL server's processes SIGKILLed (the postmaster and its backends, as a
  host crash would) for `--outage` seconds, then started again (it recovers from its WAL). Counted:
  list requests and their errors (expected 0), writes answered during the outage by status (expected
  503 with Retry-After), /health answers saying `stale`; after the restart, the seconds until each
  replica's /health says `ok`, and the catch-up: a retraction committed straight into the catalog
  right after the restart, and the seconds until neither replica lists it.
- `replica`: replica A's processes SIGKILLed (its wrk stopped with it); B's requests and errors
  (expected 0); then A started again on its data folder.
- `build`: a full `recsys build` run to the end from a third data folder (same catalog and version
  folder) for the length of its work (from taking the lock to publishing), then another one
  SIGKILLed `--kill-at` (half) of the way through it (if it published first, again, twice as early,
  up to four tries): the version both replicas serve must not move, CURRENT must not change (a
  half-written `versions/.tmp-*` left behind is listed: the next build removes it), and the next
  build must succeed (the locks, file and PostgreSQL advisory, were released).

In every fault run, every write acknowledged (2xx) is verified at the end: retracted in the catalog,
and absent from the list it was taken from on both replicas. All are published again at the end. The
writer stops once half the catalog is retracted, so that lists do not run dry (said in the output).

    python -m benchmarks.replicas --mode propagation --retractions 200 \\
        --output benchmarks/results/replicas.json
    python -m benchmarks.replicas --mode faults --output benchmarks/results/replicas-faults.json
"""

from __future__ import annotations

import argparse
import os
import random
import secrets
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx

from benchmarks.report import machine, percentiles, table, write_json
from benchmarks.serving import Server, free_port, process_tree, recsys_command, running
from benchmarks.wrk_load import write_script, wrk_command, wrk_result
from recsys.catalog.store import Catalog
from recsys.settings import Settings
from recsys.version.store import IndexStore
from tests.postgres import PostgresServer, missing_binaries

LIST = "/articles/{id}/related?limit=10"
# The environment a replica or a build gets from the benchmark, whatever the caller's says.
OWN_VARIABLES = (
    "RECSYS_DATA_DIR",
    "RECSYS_CATALOG_PATH",
    "RECSYS_CATALOG_URL",
    "RECSYS_INDEX_DIR",
    "RECSYS_API_KEY",
    "RECSYS_PORT",
    "RECSYS_WORKERS",
    "RECSYS_LOG_LEVEL",
    "PROMETHEUS_MULTIPROC_DIR",
)
# What index/build.py logs once it holds the build lock, and once it has published.
BUILD_STARTED = "building an index of"
BUILD_PUBLISHED = "published index version"


# -- setup ----------------------------------------------------------------------------------------


@dataclass
class Bench:
    """What every mode shares: the catalog, the version folder, the work folder, the key."""

    url: str
    work: Path
    versions: Path
    env: dict[str, str]  # the caller's environment without OWN_VARIABLES
    key: str
    workers: int
    postgres: PostgresServer | None
    ids: list[str] = field(default_factory=list)  # published when the benchmark started
    build_nice: int = 0  # niceness of the builds a fault run starts (0: as the replicas)

    @property
    def headers(self) -> dict[str, str]:
        return {"X-API-Key": self.key}

    def folder_env(self, name: str, log_level: str = "warning") -> dict[str, str]:
        return self.env | {
            "RECSYS_DATA_DIR": str(self.work / name),
            "RECSYS_CATALOG_URL": self.url,
            "RECSYS_INDEX_DIR": str(self.versions),
            "RECSYS_API_KEY": self.key,
            "RECSYS_WORKERS": str(self.workers),
            "RECSYS_LOG_LEVEL": log_level,
        }

    def catalog(self) -> Catalog:
        return Catalog(self.url)


def load_data(bench: Bench, data_dir: Path | None) -> str:
    """Fill the catalog and publish a first version; says what was loaded."""
    Catalog.migrate(bench.url)
    if data_dir is None:
        print("building the demo corpus into the catalog ...", flush=True)
        done = subprocess.run(
            recsys_command("build", "--no-progress"),
            env=bench.folder_env("builder"),
            capture_output=True,
            text=True,
        )
        if done.returncode != 0:
            raise SystemExit(f"recsys build failed: {done.stderr.strip()[-2000:]}")
        return "demo corpus, built by `recsys build`"
    copy_folder(bench, data_dir)
    return str(data_dir)


def copy_folder(bench: Bench, data_dir: Path) -> None:
    """The folder's articles (every status) and embedding cache into the catalog, then a build from the
    cached vectors only: the folder's index version says which model and recipe they were made with.
    The folder is read from a copy of its catalog: opening one may write to it, and it may be a master."""
    from benchmarks.synthetic import CachedVectorsOnly, copy_catalog
    from index.build import build_index
    from recsys.catalog.ingest import import_records
    from recsys.root import Root

    store = IndexStore(data_dir / "index")
    version = store.current_version()
    if version is None:
        raise SystemExit(f"{data_dir} has no index: run `recsys build --data-dir {data_dir}` first")
    manifest = store.read_manifest(version)
    copy = bench.work / "source" / "catalog.sqlite3"
    copy.parent.mkdir(parents=True, exist_ok=True)
    copy_catalog(data_dir / "catalog.sqlite3", copy)
    source = Catalog(copy)
    root = Root(Settings(data_dir=bench.work / "builder", index_dir=bench.versions, catalog_url=bench.url))
    if root.recipe.id != manifest.recipe:
        raise SystemExit(
            f"{data_dir} was built with recipe {manifest.recipe!r}, the settings give {root.recipe.id!r}"
        )
    try:
        print(f"copying {data_dir}'s articles into the catalog ...", flush=True)
        records = ((n, stored.article) for n, stored in enumerate(source.iter_all(), 1))
        report = import_records(root.catalog, records, str(copy))
        print(f"  {report.summary()}", flush=True)
        if report.skipped:
            raise SystemExit(f"{report.skipped} articles refused: {report.errors[:3]}")
        added = root.catalog.import_embeddings(copy)
        print(f"  {added:,} cached vectors; building from them ...", flush=True)
        encoder = CachedVectorsOnly(manifest.model, manifest.dimension)
        print(f"  {build_index(root.settings, root.catalog, encoder).summary()}", flush=True)
    finally:
        root.close()
        source.dispose()


def in_step(bench: Bench) -> None:
    """Build if the served version no longer holds every published article: a fault run's builds
    happen while its writer has articles retracted, published again at its end. Lists of articles
    missing from the version are no longer made from memory alone (they read the catalog), so the
    next run would not measure what the others did."""
    store = IndexStore(bench.versions)
    version = store.current_version()
    held = store.read_manifest(version).count if version else -1
    if held == len(bench.ids) == len(published_ids(bench)):
        return
    print(f"the served version holds {held:,} articles, not {len(bench.ids):,}: building ...", flush=True)
    _build(bench, kill_after=None, full=False)


def published_ids(bench: Bench) -> list[str]:
    catalog = bench.catalog()
    try:
        return [row["id"] for row in catalog.lean_rows("WHERE status = 'published'")]
    finally:
        catalog.dispose()


@contextmanager
def replica(bench: Bench, name: str, port: int | None = None) -> Iterator[Server]:
    port = port or free_port()
    with running(recsys_command("serve", "--port", str(port)), bench.folder_env(name), port) as server:
        yield server


def kill_tree(pid: int) -> int:
    """SIGKILL `pid` and every process under it, all listed first (a child outliving its parent
    would leave the tree); returns how many."""
    pids = process_tree(pid)
    for each in pids:
        with suppress(ProcessLookupError):
            os.kill(each, signal.SIGKILL)
    return len(pids)


def _gone(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return True
    return state in ("Z", "X")


def kill_postgres(server: PostgresServer) -> int:
    """What kill -9 of the database host's processes does: no shutdown, no checkpoint."""
    pid = int((server.data / "postmaster.pid").read_text().split()[0])
    killed = kill_tree(pid)
    deadline = time.monotonic() + 30
    while not _gone(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    return killed


# -- load -----------------------------------------------------------------------------------------


class Load:
    """One wrk per replica, from `start` until `stop`: SIGINT ends wrk early and it reports what it
    did. `max_seconds` is only the bound that keeps a forgotten wrk from running for ever."""

    def __init__(self, script: Path, threads: int, timeout: str, max_seconds: int) -> None:
        self.script, self.threads, self.timeout, self.max_seconds = script, threads, timeout, max_seconds
        self.running: dict[str, tuple[subprocess.Popen[str], int]] = {}
        self.results: dict[str, dict[str, Any]] = {}

    def start(self, name: str, base: str, connections: int) -> None:
        command = wrk_command(base, self.script, connections, self.threads, self.max_seconds, self.timeout)
        process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.running[name] = (process, connections)

    def stop(self, name: str) -> dict[str, Any]:
        process, connections = self.running.pop(name)
        ended_early = process.poll() is not None
        if not ended_early:
            process.send_signal(signal.SIGINT)
        stdout, stderr = process.communicate(timeout=120)
        result = wrk_result(connections, process.returncode, stdout, stderr)
        self.results[name] = summarise_wrk(result) | {
            "seconds": result["seconds"],
            "ended_before_the_measurement": ended_early,
        }
        if ended_early:
            print(f"WARNING: wrk on {name} ended before the measurement did: raise --max-seconds")
        return self.results[name]

    def stop_all(self) -> dict[str, dict[str, Any]]:
        for name in list(self.running):
            self.stop(name)
        return self.results


def summarise_wrk(result: dict[str, Any]) -> dict[str, Any]:
    statuses = {int(k): v for k, v in result["statuses"].items()}
    errors = result["errors"]
    return {
        "connections": result["connections"],
        "requests": result["requests"],
        "rps": result["rps"],
        "non_2xx": sum(n for status, n in statuses.items() if not 200 <= status < 300),
        "socket_errors": errors["connect"] + errors["read"] + errors["write"],
        "timeouts": errors["timeout"],
        "statuses": result["statuses"],
        "p50_ms": result["p50_ms"],
        "p99_ms": result["p99_ms"],
    }


@contextmanager
def under_load(bench: Bench, args: argparse.Namespace, bases: dict[str, str]) -> Iterator[Load]:
    """wrk on every replica of `bases`, `args.connections` spread over them, until the block ends."""
    rng = random.Random(args.seed)
    ids = rng.sample(bench.ids, min(args.ids, len(bench.ids)))
    script = bench.work / "list.lua"
    write_script(script, LIST, ids, args.seed)
    load = Load(script, args.wrk_threads, args.wrk_timeout, args.max_seconds)
    share, extra = divmod(args.connections, len(bases))
    try:
        for number, (name, base) in enumerate(bases.items()):
            load.start(name, base, share + (1 if number < extra else 0))
        time.sleep(args.warmup)
        yield load
    finally:
        load.stop_all()


# -- requests -------------------------------------------------------------------------------------


def listed(base: str, subject: str) -> list[str]:
    """The related list of `subject`, on a connection of its own."""
    response = httpx.get(f"{base}{LIST.format(id=quote(subject, safe=''))}", timeout=30)
    response.raise_for_status()
    return [item["id"] for item in response.json()["items"]]


def retract(bench: Bench, base: str, target: str) -> httpx.Response:
    return httpx.post(
        f"{base}/admin/articles/{quote(target, safe='')}/retract", headers=bench.headers, timeout=60
    )


def republish(bench: Bench, ids: set[str]) -> None:
    if not ids:
        return
    catalog = bench.catalog()
    try:
        for article_id in sorted(ids):
            catalog.set_status(article_id, "published")
    finally:
        catalog.dispose()
    print(f"published again the {len(ids)} articles retracted", flush=True)


def pick(rng: random.Random, base: str, subjects: list[str], retracted: set[str]) -> tuple[str, str]:
    """A subject and the first item of its list on `base` that this run has not retracted yet."""
    for _ in range(1000):
        subject = rng.choice(subjects)
        fresh = [item for item in listed(base, subject) if item not in retracted]
        if fresh:
            return subject, fresh[0]
    raise SystemExit("no list with an item left to retract: use a larger data set")


# -- propagation ----------------------------------------------------------------------------------


def propagation(bench: Bench, args: argparse.Namespace) -> dict[str, Any]:
    rng = random.Random(args.seed)
    rows: list[dict[str, Any]] = []
    retracted: set[str] = set()
    wrk: dict[str, dict[str, Any]] = {}
    try:
        with replica(bench, "replica-a") as a, replica(bench, "replica-b") as b:
            print(f"replicas up ({a.startup_s:.1f} s, {b.startup_s:.1f} s); wrk and retractions ...")
            with under_load(bench, args, {"a": a.base, "b": b.base}) as load:
                while len(rows) < args.retractions:
                    time.sleep(rng.uniform(0, args.pause))
                    subject, target = pick(rng, a.base, bench.ids, retracted)
                    rows.append(_propagate(bench, a.base, b.base, subject, target, args.give_up))
                    retracted.add(target)
                    row = rows[-1]
                    print(
                        f"{len(rows):>4}  {target:<24} {row['status']}  gone from B after "
                        f"{row['propagation_ms'] if row['propagation_ms'] is not None else '-'} ms",
                        flush=True,
                    )
                wrk = load.stop_all()
    finally:
        republish(bench, retracted)
    measured = [row["propagation_ms"] for row in rows if row["propagation_ms"] is not None]
    return {
        "retractions": len(rows),
        "acknowledged": sum(1 for row in rows if 200 <= row["status"] < 300),
        "not_propagated": sum(1 for row in rows if row["propagation_ms"] is None),
        # the first answer from B already without it: the figure is then one request's latency
        "gone_at_first_poll": sum(1 for row in rows if row["polls"] == 1 and row["propagation_ms"]),
        "shown_again_on_b": sum(1 for row in rows if row["shown_again_on_b"]),
        "shown_on_a_after": sum(1 for row in rows if row["shown_on_a_after"]),
        "propagation_ms": percentiles(measured) if len(measured) > 1 else None,
        "wrk": wrk,
        "rows": rows,
    }


def _propagate(bench: Bench, a: str, b: str, subject: str, target: str, give_up: float) -> dict[str, Any]:
    answer = retract(bench, a, target)
    acked = time.perf_counter()
    row: dict[str, Any] = {
        "subject": subject,
        "retracted": target,
        "status": answer.status_code,
        "propagation_ms": None,
        "polls": 0,
        "shown_again_on_b": False,
        "shown_on_a_after": False,
    }
    if not 200 <= answer.status_code < 300:
        return row
    while time.perf_counter() - acked < give_up:
        shown = target in listed(b, subject)
        answered = time.perf_counter()
        row["polls"] += 1
        if not shown:
            row["propagation_ms"] = round((answered - acked) * 1000, 2)
            break
    row["shown_again_on_b"] = target in listed(b, subject)
    row["shown_on_a_after"] = target in listed(a, subject)
    return row


# -- faults ---------------------------------------------------------------------------------------


@dataclass
class Write:
    replica: str
    subject: str
    target: str
    sent: float  # seconds since the fault run started
    answered: float
    status: int | None  # None: no answer (connection refused, reset, timeout)
    retry_after: str | None
    error: str | None


class Writer(threading.Thread):
    """Retracts, every `interval` seconds, the first item of a list it has just read, through each
    replica of `bases` in turn (one that is down is skipped once known dead)."""

    def __init__(self, bench: Bench, bases: dict[str, str], interval: float, seed: int, t0: float) -> None:
        super().__init__(daemon=True)
        self.bench, self.bases, self.interval, self.t0 = bench, dict(bases), interval, t0
        self.rng = random.Random(seed)
        self.writes: list[Write] = []
        self.retracted: set[str] = set()  # acknowledged, so to be verified and published again
        self.capped = False
        self.halt = threading.Event()

    def drop(self, name: str) -> None:
        self.bases.pop(name, None)

    def run(self) -> None:
        turn = 0
        while not self.halt.wait(self.interval):
            names = list(self.bases)
            if not names:
                continue
            name = names[turn % len(names)]
            turn += 1
            base = self.bases.get(name)
            if base is None:
                continue
            if len(self.retracted) >= len(self.bench.ids) // 2:
                self.capped = True  # lists would thin out: the rest of the run makes no writes
                continue
            try:
                subject, target = pick(self.rng, base, self.bench.ids, self.retracted)
            except (httpx.HTTPError, SystemExit):
                continue  # the replica is going away: its list errors are counted by wrk
            sent = time.perf_counter() - self.t0
            status = retry_after = error = None
            try:
                answer = retract(self.bench, base, target)
                status, retry_after = answer.status_code, answer.headers.get("Retry-After")
                if 200 <= status < 300:
                    self.retracted.add(target)
            except httpx.HTTPError as exc:
                error = type(exc).__name__
            answered = time.perf_counter() - self.t0
            self.writes.append(Write(name, subject, target, sent, answered, status, retry_after, error))


class Prober(threading.Thread):
    """Reads every replica's /health every `interval` seconds: (seconds, replica, status, version)."""

    def __init__(self, bases: dict[str, str], interval: float, t0: float) -> None:
        super().__init__(daemon=True)
        self.bases, self.interval, self.t0 = dict(bases), interval, t0
        self.seen: list[tuple[float, str, str, str | None]] = []
        self.halt = threading.Event()

    def drop(self, name: str) -> None:
        self.bases.pop(name, None)

    def run(self) -> None:
        while not self.halt.wait(self.interval):
            for name, base in list(self.bases.items()):
                try:
                    body = httpx.get(f"{base}/health", timeout=10).json()
                    status, version = body.get("status", "?"), body.get("index_version")
                except (httpx.HTTPError, ValueError):
                    status, version = "no answer", None
                self.seen.append((time.perf_counter() - self.t0, name, status, version))


@dataclass
class Traffic:
    """What runs through a fault: the load, the writer and the prober, on one clock."""

    load: Load
    writer: Writer
    prober: Prober
    t0: float

    def now(self) -> float:
        return time.perf_counter() - self.t0

    def stop(self) -> dict[str, dict[str, Any]]:
        """The writer and the prober first (their last requests still meet the load), then wrk."""
        for thread in (self.writer, self.prober):
            thread.halt.set()
        for thread in (self.writer, self.prober):
            if thread.is_alive():
                thread.join(timeout=120)
        return self.load.stop_all()


@contextmanager
def traffic(bench: Bench, args: argparse.Namespace, bases: dict[str, str]) -> Iterator[Traffic]:
    """Load, writes and health probes on `bases` until the block ends; then every article the
    writer retracted is published again."""
    t0 = time.perf_counter()
    writer = Writer(bench, bases, args.write_interval, args.seed, t0)
    prober = Prober(bases, 0.2, t0)
    try:
        with under_load(bench, args, bases) as load:
            run = Traffic(load, writer, prober, t0)
            writer.start()
            prober.start()
            try:
                yield run
            finally:
                run.stop()
    finally:
        republish(bench, writer.retracted)


def verify(bench: Bench, writes: list[Write], bases: dict[str, str]) -> dict[str, Any]:
    """Every acknowledged write: retracted in the catalog and absent from its list on every replica."""
    acked = [w for w in writes if w.status is not None and 200 <= w.status < 300]
    catalog = bench.catalog()
    try:
        in_catalog = sum(1 for w in acked if catalog.get(w.target).status == "retracted")
    finally:
        catalog.dispose()
    visible = {
        name: sum(1 for w in acked if w.target not in listed(base, w.subject)) for name, base in bases.items()
    }
    return {"acknowledged": len(acked), "in_catalog": in_catalog, "applied_on": visible}


def writes_between(writes: list[Write], start: float, end: float) -> dict[str, Any]:
    """The writes sent after `start` and answered before `end`, by answer."""
    inside = [w for w in writes if w.sent >= start and w.answered <= end]
    statuses: dict[str, int] = {}
    for w in inside:
        key = str(w.status) if w.status is not None else w.error or "no answer"
        statuses[key] = statuses.get(key, 0) + 1
    return {
        "attempted": len(inside),
        "by_answer": statuses,
        "503_with_retry_after": sum(1 for w in inside if w.status == 503 and w.retry_after),
        "acknowledged": sum(1 for w in inside if w.status is not None and 200 <= w.status < 300),
        "slowest_answer_s": round(max((w.answered - w.sent for w in inside), default=0.0), 2),
    }


def _until(check: Any, limit: float) -> float | None:
    """Seconds until check() is true, or None after `limit` seconds."""
    started = time.perf_counter()
    while time.perf_counter() - started < limit:
        if check():
            return round(time.perf_counter() - started, 2)
        time.sleep(0.05)
    return None


def _health(base: str) -> dict[str, Any]:
    try:
        body: dict[str, Any] = httpx.get(f"{base}/health", timeout=10).json()
        return body
    except (httpx.HTTPError, ValueError):
        return {}


def fault_postgres(bench: Bench, args: argparse.Namespace) -> dict[str, Any]:
    server = bench.postgres
    assert server is not None  # checked when the arguments were read
    with replica(bench, "replica-a") as a, replica(bench, "replica-b") as b:
        bases = {"a": a.base, "b": b.base}
        with traffic(bench, args, bases) as run:
            time.sleep(args.before)
            killed = run.now()
            processes = kill_postgres(server)
            print(f"PostgreSQL killed ({processes} processes); {args.outage} s ...", flush=True)
            time.sleep(args.outage)
            server.resume()
            restarted = run.now()
            print("PostgreSQL started again", flush=True)
            recovery = _recovery(bench, bases, run.writer, args.give_up)
            time.sleep(args.after)
            wrk = run.stop()
            checked = verify(bench, run.writer.writes, bases)
    writes, seen = run.writer.writes, run.prober.seen
    return {
        "outage_s": round(restarted - killed, 2),
        "wrk": wrk,
        "list_errors": list_errors(wrk),
        "writes_before_kill": writes_between(writes, 0, killed),
        "writes_during_outage": writes_between(writes, killed, restarted),
        "writes_after_restart": writes_between(writes, restarted, float("inf")),
        "health_stale_answers": {name: sum(1 for s in seen if s[1:3] == (name, "stale")) for name in bases},
        "recovery": recovery,
        "writes_stopped_at_half_the_catalog": run.writer.capped,
        "verified": checked,
    }


def _recovery(bench: Bench, bases: dict[str, str], writer: Writer, limit: float) -> dict[str, Any]:
    """Right after the restart, a retraction committed straight into the catalog (no replica wrote
    it; none may be listening yet). Seconds from the restart until each replica's /health says `ok`
    again, and until its list no longer shows that article (the catch-up)."""
    restarted = time.perf_counter()
    subject, target = pick(random.Random(), bases["b"], bench.ids, set(writer.retracted))
    catalog = bench.catalog()
    try:
        catalog.set_status(target, "retracted")
    finally:
        catalog.dispose()
    writer.retracted.add(target)
    healthy: dict[str, float | None] = dict.fromkeys(bases)
    caught_up: dict[str, float | None] = dict.fromkeys(bases)
    while time.perf_counter() - restarted < limit:
        for name, base in bases.items():
            if healthy[name] is None and _health(base).get("status") == "ok":
                healthy[name] = round(time.perf_counter() - restarted, 2)
            if caught_up[name] is None and target not in listed(base, subject):
                caught_up[name] = round(time.perf_counter() - restarted, 2)
        if None not in healthy.values() and None not in caught_up.values():
            break
        time.sleep(0.05)
    return {"subject": subject, "retracted": target, "health_ok_s": healthy, "caught_up_s": caught_up}


def fault_replica(bench: Bench, args: argparse.Namespace) -> dict[str, Any]:
    port = free_port()
    with replica(bench, "replica-b") as b, ExitStack() as first_a:
        a = first_a.enter_context(replica(bench, "replica-a", port))
        bases = {"a": a.base, "b": b.base}
        with traffic(bench, args, bases) as run:
            time.sleep(args.before)
            run.writer.drop("a")
            run.prober.drop("a")
            killed = run.now()
            processes = kill_tree(a.process.pid)
            wrk_a = run.load.stop("a")  # its connections fail from here on, as they must
            print(f"replica A killed ({processes} processes); {args.after} s ...", flush=True)
            time.sleep(args.after)
            wrk = {"a": wrk_a, **run.stop()}
            first_a.close()  # reaps what was killed
            with replica(bench, "replica-a", port) as again:  # on the data folder it was killed with
                restart_s = again.startup_s
                checked = verify(bench, run.writer.writes, {"a": again.base, "b": b.base})
    return {
        "wrk": wrk,
        "list_errors_on_b": list_errors({"b": wrk["b"]}),
        "writes_before_kill": writes_between(run.writer.writes, 0, killed),
        "writes_after_kill": writes_between(run.writer.writes, killed, float("inf")),
        "a_restart_s": round(restart_s, 1),
        "writes_stopped_at_half_the_catalog": run.writer.capped,
        "verified": checked,
    }


def fault_build(bench: Bench, args: argparse.Namespace) -> dict[str, Any]:
    with replica(bench, "replica-a") as a, replica(bench, "replica-b") as b:
        bases = {"a": a.base, "b": b.base}
        with traffic(bench, args, bases) as run:
            reference = _build(bench, kill_after=None)
            # A build that ends before its kill publishes a version: try again, earlier.
            attempts: list[dict[str, Any]] = []
            share = args.kill_at
            while not attempts or not attempts[-1]["killed"] and len(attempts) < 4:
                served = attempts[-1]["version"] if attempts else reference["version"]
                _serving(bases, served, args.give_up)
                start = run.now()
                attempts.append(_build(bench, kill_after=reference["work_s"] * share))
                share /= 2
            leftovers = sorted(p.name for p in (bench.versions / "versions").glob(".tmp-*"))
            current_after_kill = (bench.versions / "CURRENT").read_text().strip()
            time.sleep(args.after)  # the replicas' reload watchers have had their look
            end = run.now()
            following = _build(bench, kill_after=None)
            _serving(bases, following["version"], args.give_up)
            wrk = run.stop()
            checked = verify(bench, run.writer.writes, bases)
    during = [s for s in run.prober.seen if start <= s[0] <= end]
    return {
        "wrk": wrk,
        "list_errors": list_errors(wrk),
        "reference_build": reference,
        "kill_attempts": attempts,
        "killed": attempts[-1]["killed"],
        "served_version": served,
        "health_answers_after_the_kill": len(during),
        "health_no_answer": sum(1 for s in during if s[3] is None),
        "served_version_moved": sum(1 for s in during if s[3] is not None and s[3] != served),
        "current_after_kill": current_after_kill,
        "current_unchanged": current_after_kill == served,
        "tmp_versions_left": leftovers,
        "next_build": following,
        "next_build_succeeded": following["returncode"] == 0,
        "writes": writes_between(run.writer.writes, 0, float("inf")),
        "writes_stopped_at_half_the_catalog": run.writer.capped,
        "verified": checked,
    }


def _build(bench: Bench, kill_after: float | None, *, full: bool = True) -> dict[str, Any]:
    """`recsys build [--full]` from a third data folder; with `kill_after`, SIGKILLed that many seconds
    after it took the lock and started its work. `work_s`: from then until it published."""
    command = recsys_command("build", *(["--full"] if full else []), "--no-progress")
    if bench.build_nice:  # a builder on the replicas' box, run `nice`d as docs/deployment.md advises
        command = ["nice", "-n", str(bench.build_nice), *command]
    env = bench.folder_env("builder-2", log_level="info")
    started = time.perf_counter()
    process = subprocess.Popen(command, env=env, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True)
    assert process.stderr is not None
    lines: list[str] = []
    working = published = None
    for line in process.stderr:
        lines.append(line)
        if BUILD_STARTED in line:
            working = time.perf_counter()
            if kill_after is not None:
                break
        elif BUILD_PUBLISHED in line:
            published = time.perf_counter()
    record: dict[str, Any] = {} if kill_after is None else {"killed": False}
    if kill_after is not None and working is not None:
        time.sleep(max(0.0, kill_after - (time.perf_counter() - working)))
        record["killed"] = process.poll() is None
        record["killed_after_s"] = round(time.perf_counter() - working, 2)
        kill_tree(process.pid)
    lines.extend(process.stderr)
    process.wait()
    if kill_after is None and (process.returncode != 0 or working is None or published is None):
        raise SystemExit(f"recsys build failed ({process.returncode}): {''.join(lines[-5:])}")
    return record | {
        "returncode": process.returncode,
        "seconds": round(time.perf_counter() - started, 2),
        "work_s": round(published - working, 2) if working and published else None,
        "version": (bench.versions / "CURRENT").read_text().strip(),
    }


def _serving(bases: dict[str, str], version: str, limit: float) -> None:
    for name, base in bases.items():
        if _until(lambda base=base: _health(base).get("index_version") == version, limit) is None:
            raise SystemExit(f"replica {name} does not serve {version} after {limit:.0f} s")


def list_errors(wrk: dict[str, dict[str, Any]]) -> int:
    return sum(run["non_2xx"] + run["socket_errors"] + run["timeouts"] for run in wrk.values())


FAULTS = {"postgres": fault_postgres, "replica": fault_replica, "build": fault_build}


# -- report ---------------------------------------------------------------------------------------


def print_propagation(result: dict[str, Any]) -> None:
    stats = result["propagation_ms"] or dict.fromkeys(("p50", "p90", "p99", "max"), "-")
    print(
        table(
            ["retractions", "acked", "not propagated", "at 1st poll", "p50 ms", "p90 ms", "p99 ms", "max ms"],
            [
                [
                    result["retractions"],
                    result["acknowledged"],
                    result["not_propagated"],
                    result["gone_at_first_poll"],
                    stats["p50"],
                    stats["p90"],
                    stats["p99"],
                    stats["max"],
                ]
            ],
        )
    )
    print()
    print_wrk(result["wrk"])


def print_wrk(wrk: dict[str, dict[str, Any]], label: str = "") -> None:
    rows = [
        [
            f"{label}{name}",
            run["connections"],
            run["requests"],
            run["rps"],
            run["non_2xx"],
            run["socket_errors"],
            run["timeouts"],
            "-" if run["p99_ms"] is None else run["p99_ms"],
        ]
        for name, run in wrk.items()
    ]
    headers = ["replica", "conns", "requests", "req/s", "non-2xx", "socket err", "timeouts", "p99 ms"]
    print(table(headers, rows))


def print_faults(results: dict[str, dict[str, Any]]) -> None:
    rows = []
    for name, result in results.items():
        verified = result["verified"]
        applied = "/".join(str(n) for n in verified["applied_on"].values())
        during = result.get("writes_during_outage", {})
        rows.append(
            [
                name,
                sum(run["requests"] for run in result["wrk"].values()),
                result.get("list_errors", result.get("list_errors_on_b")),
                verified["acknowledged"],
                verified["in_catalog"],
                applied,
                during.get("attempted", "-"),
                during.get("503_with_retry_after", "-"),
            ]
        )
    headers = ["fault", "list requests", "list errors", "writes acked", "in catalog", "on A/B"]
    print(table([*headers, "outage writes", "503+Retry-After"], rows))
    for name, result in results.items():
        print()
        print_wrk(result["wrk"], f"{name}: ")
    if "postgres" in results:
        result = results["postgres"]
        print()
        recovery = result["recovery"]
        print(f"postgres: after the restart, /health ok on each replica after {recovery['health_ok_s']} s;")
        print(f"  a write committed right after it left their lists after {recovery['caught_up_s']} s")
    if "build" in results:
        result = results["build"]
        last = result["kill_attempts"][-1]
        print(
            f"build: {'killed' if last['killed'] else 'NOT killed (it ended first)'} after "
            f"{last.get('killed_after_s')} s of a {result['reference_build']['work_s']} s build "
            f"(attempt {len(result['kill_attempts'])}); served version moved "
            f"{result['served_version_moved']} times; CURRENT unchanged: {result['current_unchanged']}; "
            f".tmp versions left: {len(result['tmp_versions_left'])}; next build "
            f"{'succeeded' if result['next_build_succeeded'] else 'FAILED'}"
        )


# -- main -----------------------------------------------------------------------------------------


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mode", choices=["propagation", "faults"], required=True)
    parser.add_argument(
        "--data-dir", type=Path, help="a built SQLite data folder to copy in (default: the demo corpus)"
    )
    parser.add_argument(
        "--catalog-url", help="a PostgreSQL database to use (default: a server of its own, started now)"
    )
    parser.add_argument(
        "--work-dir",
        type=Path,
        help="the replicas' and builds' folders (default: a temporary one)",
    )
    parser.add_argument("--connections", type=int, default=64, help="wrk connections, over both replicas")
    parser.add_argument("--wrk-threads", type=int, default=1, help="threads of each wrk")
    parser.add_argument("--wrk-timeout", default="2s", help="wrk's request timeout")
    parser.add_argument("--ids", type=int, default=100_000, help="article ids drawn for wrk")
    parser.add_argument("--warmup", type=float, default=2.0, help="seconds of load before measuring")
    parser.add_argument("--max-seconds", type=int, default=3600, help="bound on each wrk's run")
    parser.add_argument("--workers", type=int, default=1, help="RECSYS_WORKERS of each replica")
    parser.add_argument("--retractions", type=int, default=200)
    parser.add_argument("--pause", type=float, default=0.2, help="at most this random pause between them")
    parser.add_argument(
        "--give-up", type=float, default=60.0, help="seconds after which a change counts as not propagated"
    )
    parser.add_argument("--faults", default="postgres,replica,build", help="which, comma-separated")
    parser.add_argument("--outage", type=float, default=10.0, help="seconds PostgreSQL stays down")
    parser.add_argument("--before", type=float, default=5.0, help="seconds of writes before a kill")
    parser.add_argument("--after", type=float, default=5.0, help="seconds of writes after a recovery")
    parser.add_argument("--write-interval", type=float, default=0.2, help="seconds between two writes")
    parser.add_argument(
        "--kill-at", type=float, default=0.5, help="a killed build dies at this share of a full build's work"
    )
    parser.add_argument(
        "--build-nice", type=int, default=0, help="run the fault's builds under `nice -n N` (0: not)"
    )
    parser.add_argument("--seed", type=int, default=18)
    parser.add_argument("--output", type=Path)
    return parser


def main() -> None:
    parser = _parser()
    args = parser.parse_args()
    faults = [name.strip() for name in args.faults.split(",") if name.strip()]
    if unknown := [name for name in faults if name not in FAULTS]:
        parser.error(f"unknown faults {unknown}: choose from {', '.join(FAULTS)}")
    if args.mode == "faults" and "postgres" in faults and args.catalog_url:
        parser.error("the postgres fault kills the benchmark's own server: leave out --catalog-url")
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed: `apt-get install -y wrk` (Debian/Ubuntu)")
    if args.catalog_url is None and (why := missing_binaries()):
        raise SystemExit(why)

    env = {k: v for k, v in os.environ.items() if k not in OWN_VARIABLES}
    with ExitStack() as stack:
        work = args.work_dir or Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="replicas-")))
        postgres = None
        url = args.catalog_url
        if url is None:
            postgres = PostgresServer(durable=True).start()
            stack.callback(postgres.stop)
            url = postgres.url()
        bench = Bench(url, work, work / "versions", env, secrets.token_urlsafe(16), args.workers, postgres)
        bench.build_nice = args.build_nice
        data = load_data(bench, args.data_dir)
        bench.ids = published_ids(bench)
        print(f"{len(bench.ids):,} published articles in the catalog", flush=True)
        report: dict[str, Any] = {
            "benchmark": "replicas",
            "mode": args.mode,
            "machine": machine(),
            "command": shlex.join([Path(sys.executable).name, "-m", "benchmarks.replicas", *sys.argv[1:]]),
            "data": data,
            "articles": len(bench.ids),
            "catalog": "PostgreSQL server of its own" if postgres else "--catalog-url",
            "postgres": _postgres_version(),
            "connections": args.connections,
            "workers_per_replica": args.workers,
            "encoder_backend": Settings().encoder_backend,
        }
        if args.mode == "propagation":
            in_step(bench)
            result = propagation(bench, args)
            print()
            print_propagation(result)
            report["propagation"] = result
        else:
            results = {}
            for name in faults:
                in_step(bench)
                print(f"fault: {name} ...", flush=True)
                results[name] = FAULTS[name](bench, args)
            print()
            print_faults(results)
            report["faults"] = results
            report["settings"] = {
                k: getattr(args, k) for k in ("outage", "before", "after", "write_interval", "kill_at")
            }
    write_json(args.output, report)


def _postgres_version() -> str | None:
    binary = shutil.which("postgres")
    if binary is None:
        return None
    return subprocess.run([binary, "--version"], capture_output=True, text=True).stdout.strip() or None


if __name__ == "__main__":
    main()
