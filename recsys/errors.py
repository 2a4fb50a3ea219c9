"""Every error the project raises on purpose, in one hierarchy.

    RecsysError                    base: a one-line message a person can act on
    ├── InvalidInput               a request or parameter makes no sense (HTTP 422)
    │   ├── InvalidArticle         one input record fails validation; names file, line and field
    │   └── InvalidTimestamp       not a time, or not a plausible one (also a ValueError)
    ├── ArticleNotFound            no article with that id or URL (HTTP 404)
    ├── ConfigError                settings that cannot work (bad path, unknown index type)
    ├── ModelLoadError             the embedding model cannot be loaded from the configured name or path
    ├── IndexError_                base of index problems (HTTP 503 in the service)
    │   ├── IndexMissing           no index version has been published yet
    │   ├── IndexCorrupt           a file is missing, unreadable or fails its checksum
    │   └── IndexMismatch          the index was built with another model, dimension or format
    ├── BuildLocked                another build holds the lock
    ├── CatalogBusy                the catalog stayed locked by another writer past the busy timeout
    │                              (HTTP 503 with Retry-After)
    ├── EncoderBusy                every encoder slot is taken (RECSYS_MAX_CONCURRENT_ENCODES): a draft
    │                              or an unindexed article must wait its turn (HTTP 429 with Retry-After)
    ├── StorageError               the disk refused a write: full, read-only, no permission; the
    │                              message names the path and what to do (HTTP 503, path not shown)
    └── ObjectStoreError           the object store of index versions (RECSYS_VERSIONS_URL) cannot be
                                   reached or refused a request (never on a request's path)

The CLI turns any of these into `error: <message>` and a non-zero exit; the service maps them to an
HTTP status in one exception handler (service/errors.py). Anything else is a bug: the CLI keeps its
traceback, the service logs it and answers a JSON 500.
"""

from __future__ import annotations


class RecsysError(Exception):
    """Base of all deliberate errors; str(error) is the user-facing message."""


class InvalidInput(RecsysError):
    pass


class InvalidArticle(InvalidInput):
    def __init__(self, source: str, line: int, field: str, message: str) -> None:
        self.source = source
        self.line = line
        self.field = field
        self.message = message
        super().__init__(f"{source}:{line}: field '{field}': {message}")


class InvalidTimestamp(InvalidInput, ValueError):
    """Also a ValueError: pydantic validators turn it into a 422 like any other field error, and callers
    that caught the ValueError parse_timestamp used to raise keep working."""


class ArticleNotFound(RecsysError):
    def __init__(self, article_id: str) -> None:
        self.article_id = article_id
        super().__init__(f"no article with id {article_id!r}")


class ConfigError(RecsysError):
    pass


class ModelLoadError(RecsysError):
    pass


class IndexError_(RecsysError):  # noqa: N801 - trailing underscore: don't shadow the builtin IndexError
    pass


class IndexMissing(IndexError_):
    pass


class IndexCorrupt(IndexError_):
    pass


class IndexMismatch(IndexError_):
    pass


class BuildLocked(RecsysError):
    pass


class CatalogBusy(RecsysError):
    pass


class EncoderBusy(RecsysError):
    pass


class StorageError(RecsysError):
    pass


class ObjectStoreError(RecsysError):
    pass
