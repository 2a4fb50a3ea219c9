"""How many page views A/B and team-draft interleaving need to tell two rankings apart (issue 20).

Simulated readers (recsys/evaluation/simulate.py: a position-biased cascade over the story labels of
a judged corpus) read related lists and click; the counters are tested at 100, 200, 400, ... page
views, and the first checkpoint at which the test finds the known-better arm at 95% is kept. The
median over seeds is reported for `system` against `bm25` and `bm25` against `random`.

    python -m benchmarks.click_simulator --corpus ../shared/data/wcep2025_dev/articles.jsonl.gz \
        --data-dir var/wcep --seeds 5 --max-views 51200 --http \
        --output benchmarks/results/click_simulator_wcep.json

--http drives the real thing end to end: a `recsys serve` on the data folder, lists from GET
/articles/{id}/related with `arm=` (A/B) or `bucket=` (interleaving), events to POST /events, the
counters read back from the catalog with read_counts after each flush. Without it the same readers
run in-process (lists from the evaluation's methods, events added up in memory): the same numbers
up to the service's own interleaving draws, in a fraction of the time. --demo uses the built-in demo
corpus (its storylines as the labels) instead of --corpus.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from benchmarks.report import machine, write_json
from benchmarks.serving import free_port, recsys_command
from index.evaluation import Prepared, prepare
from recsys.demo_corpus import generate, write_jsonl
from recsys.evaluation import clicks, simulate
from recsys.evaluation.truth import ProxyTruth
from recsys.root import Root
from recsys.settings import Settings

PAIRS: tuple[tuple[str, str], ...] = (("system", "bm25"), ("bm25", "random"))
DESIGNS: tuple[clicks.Design, ...] = ("ab", "interleave")
API_KEY = "click-simulator"
FLUSH_SECONDS = 0.5


def _truth(prepared: Prepared, demo: bool) -> ProxyTruth:
    stories = {a.id: a.story for a in generate() if a.story} if demo else prepared.stories
    return ProxyTruth(prepared.corpus, "story", stories=stories)


Run = Callable[[tuple[str, str], clicks.Design, int], list[simulate.Checkpoint]]


def in_process(prepared: Prepared, truth: ProxyTruth, args: argparse.Namespace) -> Run:
    def run(pair: tuple[str, str], design: clicks.Design, seed: int) -> list[simulate.Checkpoint]:
        rankers = simulate.method_rankers(list(pair), prepared.corpus, prepared.recommender, seed=seed)
        sink = simulate.MemorySink()
        return simulate.simulate(
            truth,
            simulate.MethodLists(rankers, experiment="sim"),
            sink,
            sink.rows,
            arms=pair,
            design=design,
            max_views=args.max_views,
            experiment="sim",
            model=simulate.ClickModel(eta=args.eta, eps=args.eps, ceiling=args.ceiling),
            seed=seed,
            first_checkpoint=args.first_checkpoint,
            stop_when=None if args.full else pair[0],
        )

    return run


def over_http(http: Any, prepared: Prepared, truth: ProxyTruth, args: argparse.Namespace) -> Run:
    """Each (pair, design, seed) is its own experiment, so counts of one run never mix with another's."""

    def run(pair: tuple[str, str], design: clicks.Design, seed: int) -> list[simulate.Checkpoint]:
        return simulate.over_http(
            http,
            prepared.catalog,
            truth,
            arms=pair,
            design=design,
            name=f"sim-{pair[0]}-{pair[1]}-{design}-{seed}",
            api_key=API_KEY,
            flush_seconds=FLUSH_SECONDS,
            max_views=args.max_views,
            model=simulate.ClickModel(eta=args.eta, eps=args.eps, ceiling=args.ceiling),
            seed=seed,
            first_checkpoint=args.first_checkpoint,
            stop_when=None if args.full else pair[0],
        )

    return run


def measure(run: Run, seeds: int, max_views: int, say: Callable[[str], None] = print) -> list[dict[str, Any]]:
    results = []
    for pair in PAIRS:
        for design in DESIGNS:
            needed: list[int | None] = []
            finals: list[dict[str, object]] = []
            for seed in range(seeds):
                found = run(pair, design, seed)
                needed.append(simulate.views_needed(found, pair[0]))
                finals.append({"views": found[-1].views, **found[-1].result.as_dict()})
            median = simulate.median_views(needed, max_views)
            say(f"{pair[0]:>7} > {pair[1]:<7} {design:<10} median {median}  per seed {needed}")
            results.append(
                {
                    "better": pair[0],
                    "worse": pair[1],
                    "design": design,
                    "views_needed": needed,
                    "median_views": median,
                    "last_checkpoint": finals,
                }
            )
    return results


def _serve(data_dir: Path, port: int) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RECSYS_")} | {
        "RECSYS_DATA_DIR": str(data_dir),
        "RECSYS_API_KEY": API_KEY,
        "RECSYS_EVENTS_FLUSH_SECONDS": str(FLUSH_SECONDS),
        # one simulated client sends every page view's events: no per-client flood limit here
        "RECSYS_EVENTS_RATE": "0",
        "RECSYS_LOG_LEVEL": "warning",
    }
    return subprocess.Popen(recsys_command("serve", "--port", str(port)), env=env, stdout=subprocess.DEVNULL)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--corpus", type=Path, help="a judged corpus with `story` labels (wcep2025_dev)")
    source.add_argument("--demo", action="store_true", help="the built-in demo corpus")
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--max-views", type=int, default=51_200)
    parser.add_argument(
        "--first-checkpoint", type=int, default=100, help="the first of the doubling checkpoints"
    )
    parser.add_argument("--eta", type=float, default=1.0, help="examination (k + 1) ** -eta")
    parser.add_argument("--eps", type=float, default=0.02, help="click chance of an examined unrelated item")
    parser.add_argument(
        "--ceiling", type=float, default=0.3, help="click chance of an examined same-story item"
    )
    parser.add_argument("--http", action="store_true", help="through a real server and POST /events")
    parser.add_argument(
        "--full",
        action="store_true",
        help="run every seed to --max-views (default: stop once the better arm is found)",
    )
    parser.add_argument(
        "--embeddings-from",
        type=Path,
        action="append",
        default=[],
        help="catalog(s) whose cached vectors to reuse",
    )
    parser.add_argument("--output", type=Path)
    args = parser.parse_args(argv)

    corpus = args.corpus
    if args.demo:
        corpus = args.data_dir / "demo.jsonl"
        args.data_dir.mkdir(parents=True, exist_ok=True)
        write_jsonl(corpus)
    prepared = prepare(Root(Settings(data_dir=args.data_dir)), [corpus], embeddings_from=args.embeddings_from)
    truth = _truth(prepared, args.demo)
    print(f"{len(truth.queries())} query articles with a story label; {len(prepared.corpus)} indexed")
    started = time.perf_counter()
    if args.http:
        import httpx

        port = free_port()
        server = _serve(args.data_dir, port)
        try:
            with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as http:
                for _ in range(600):
                    try:
                        if http.get("/health").status_code == 200:
                            break
                    except httpx.TransportError:
                        pass
                    time.sleep(0.2)
                else:
                    raise SystemExit("server did not start")
                results = measure(over_http(http, prepared, truth, args), args.seeds, args.max_views)
                http.delete("/admin/experiment", headers={"X-API-Key": API_KEY})
        finally:
            server.terminate()
            server.wait(timeout=30)
    else:
        results = measure(in_process(prepared, truth, args), args.seeds, args.max_views)
    write_json(
        args.output,
        {
            "when": datetime.now(UTC).isoformat(timespec="seconds"),
            "machine": machine(),
            "command": [
                "python",
                "-m",
                "benchmarks.click_simulator",
                *(argv if argv is not None else sys.argv[1:]),
            ],
            "corpus": "demo" if args.demo else str(args.corpus),
            "path": "http" if args.http else "in-process",
            "seeds": args.seeds,
            "max_views": args.max_views,
            "checkpoints": simulate.checkpoints(args.max_views, args.first_checkpoint),
            "click_model": {"eta": args.eta, "eps": args.eps, "ceiling": args.ceiling},
            "seconds": round(time.perf_counter() - started, 1),
            "results": results,
        },
    )


if __name__ == "__main__":
    main()
