"""The `--engine ray` of `recsys embed`: the encoding as a Ray Data job.

The driver (this process) reads and validates the input shards exactly as the local engine does and
puts each shard's new texts into Ray's object store as one Arrow block of (shard, row, text). A
`map_batches` over an actor pool embeds them: each actor builds the encoder once and checks that it
has the identity the driver expects (a node with another model or backend would otherwise write
vectors under the wrong key). Vectors stream back to the driver, which writes each shard as soon as
all its rows have arrived, in the same format as the local engine.

Ray is an optional extra (`pip install 'recsys-news[distributed]'`); nothing imports it unless this
engine runs. Without an address Ray starts on this machine with one CPU slot per core and no
dashboard; with one it joins that cluster, whose nodes need recsys-news and the model installed and
must be able to read nothing else: the texts travel through the object store.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
from tqdm import tqdm

from index.backfill import PreparedShard, ShardDone
from recsys.encoding.protocol import Encoder
from recsys.errors import ConfigError, RecsysError
from recsys.version.vectorfiles import Identity

log = logging.getLogger(__name__)

MISSING = "the Ray engine needs the distributed extra: pip install 'recsys-news[distributed]'"
EncoderFactory = Callable[[], Encoder]


def _import_ray() -> Any:
    try:
        import ray
        import ray.data
    except ImportError as exc:
        raise ConfigError(MISSING) from exc
    return ray


class EmbedActor:
    """One actor of the pool: the encoder, built once per actor, maps (shard, row, text) batches to
    (shard, row, vector) batches."""

    def __init__(self, factory: EncoderFactory, identity: Identity, batch_size: int) -> None:
        self.encoder = factory()
        made = Identity(self.encoder.name, identity.recipe, self.encoder.dimension)
        if made != identity:
            raise ConfigError(
                f"a Ray worker made an encoder of {made.describe()}, the driver expects "
                f"{identity.describe()}: install the same recsys-news, model and settings on every node"
            )
        self.batch_size = batch_size

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        texts = [str(text) for text in batch["text"]]
        vectors = self.encoder.encode(texts, batch_size=self.batch_size)
        return {"shard": batch["shard"], "row": batch["row"], "vector": vectors}


def _first_line(exc: BaseException) -> str:
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    # Ray wraps a worker's exception in a traceback; its last line is the exception itself.
    return lines[-1] if lines else type(exc).__name__


class RayEngine:
    """See the module docstring. `actors` 0: as many as the cluster has CPUs / `cpus_per_actor`."""

    actor: type[EmbedActor] = EmbedActor  # benchmarks/backfill.py swaps in one that clocks its batches

    def __init__(
        self,
        factory: EncoderFactory,
        identity: Identity,
        *,
        address: str = "",
        actors: int = 0,
        cpus_per_actor: int = 1,
        batch_size: int = 64,
    ) -> None:
        self.ray = _import_ray()  # first: a missing extra fails before any file is read
        self.factory = factory
        self.identity = identity
        self.address = address
        self.actors = actors
        self.cpus_per_actor = cpus_per_actor
        self.batch_size = batch_size

    def _start(self) -> bool:
        """Start or join Ray unless this process already has it (a test session); returns whether
        this call started it, so that only then it is shut down."""
        ray = self.ray
        if ray.is_initialized():
            return False
        options: dict[str, Any] = {
            "include_dashboard": False,
            "log_to_driver": False,
            "logging_level": logging.WARNING,
        }
        # Ray and Ray Data log each job's plan at INFO; the bar and the summary say what matters.
        logging.getLogger("ray").setLevel(logging.WARNING)
        # ... and Ray Data warns that its own bars are off, which they are on purpose.
        logging.getLogger("ray.data").setLevel(logging.ERROR)
        try:
            if self.address:
                ray.init(address=self.address, **options)
            else:
                ray.init(num_cpus=os.cpu_count() or 1, **options)
        except (ConnectionError, RuntimeError, ValueError) as exc:
            where = f"the Ray cluster at {self.address}" if self.address else "a local Ray"
            raise ConfigError(f"cannot start {where}: {_first_line(exc)}") from exc
        return True

    def pool_size(self) -> int:
        if self.actors:
            return self.actors
        cpus = float(self.ray.cluster_resources().get("CPU", 1))
        return max(1, int(cpus // self.cpus_per_actor))

    def run(self, shards: Iterator[PreparedShard], done: ShardDone, bar: tqdm) -> None:
        import pyarrow as pa

        ray = self.ray
        started = self._start()
        try:
            context = ray.data.DataContext.get_current()
            context.enable_progress_bars = False  # ours counts articles
            size = self.pool_size()
            pending: dict[int, PreparedShard] = {}
            blocks = []
            for number, prepared in enumerate(shards):
                if not prepared.texts:
                    done(prepared, np.zeros((0, self.identity.dimension), dtype=np.float32))
                    continue
                pending[number] = prepared
                rows = len(prepared.texts)
                # A block is one call of an actor (the encoder batches inside it): enough blocks that
                # every actor has work even on a small shard, few enough that scheduling stays cheap
                # on a large one.
                step = min(-(-rows // (2 * size)), self.batch_size * 16)
                for start in range(0, rows, step):
                    stop = min(start + step, rows)
                    table = pa.table(
                        {
                            "shard": np.full(stop - start, number, dtype=np.int32),
                            "row": np.arange(start, stop, dtype=np.int64),
                            "text": prepared.texts[start:stop],
                        }
                    )
                    blocks.append(ray.put(table))
                prepared.texts = []  # in the object store now; the driver keeps only the hashes
            if not blocks:
                return
            log.info("embedding %d shard(s) with %d Ray actor(s)", len(pending), size)
            dataset = ray.data.from_arrow_refs(blocks).map_batches(
                self.actor,
                fn_constructor_args=(self.factory, self.identity, self.batch_size),
                compute=ray.data.ActorPoolStrategy(size=size),
                num_cpus=self.cpus_per_actor,
                batch_size=None,  # one block per call: Ray would otherwise merge small blocks
                batch_format="numpy",
            )
            self._collect(dataset, pending, done, bar)
        except RecsysError:
            raise
        except ray.exceptions.RayError as exc:
            raise ConfigError(f"the Ray job failed: {_first_line(exc)}") from exc
        finally:
            if started:
                ray.shutdown()

    def _collect(self, dataset: Any, pending: dict[int, PreparedShard], done: ShardDone, bar: tqdm) -> None:
        """Scatter the vectors that come back into their shards; write a shard once it is full."""
        vectors: dict[int, np.ndarray] = {}
        filled: dict[int, int] = {}
        for batch in dataset.iter_batches(batch_format="numpy", batch_size=None):
            for number in np.unique(batch["shard"]).tolist():
                mine = batch["shard"] == number
                prepared = pending[number]
                if number not in vectors:
                    rows = len(prepared.hashes)
                    vectors[number] = np.empty((rows, self.identity.dimension), dtype=np.float32)
                    filled[number] = 0
                vectors[number][batch["row"][mine]] = batch["vector"][mine]
                filled[number] += int(mine.sum())
                bar.update(int(mine.sum()))
                if filled[number] == len(prepared.hashes):
                    done(prepared, vectors.pop(number))
                    del pending[number]
        if pending:
            raise ConfigError(f"the Ray job returned no vectors for {len(pending)} shard(s); run it again")
