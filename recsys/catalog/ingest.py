"""Importing article files into the catalog.

Default: bad records are skipped and counted (the first few are reported with file, line and field),
and the import commits every BATCH_RECORDS records, so that the service's writes (pins, blocks) wait
for one batch, not for a whole file. An import stopped half-way (a full disk, a file unreadable past
some line) keeps the batches before it: run it again once the cause is fixed (upserts are idempotent).
Strict: the first bad record fails the import and nothing from the file is written. A URL clash is only
found while writing, so strict keeps one transaction for the whole file, and holds the write lock
for as long.
`detect_language`: an article whose record has no `language` gets the one detected from its text
(recsys/language.py); the CLI and the CMS API pass the setting of that name.
"""

from __future__ import annotations

import functools
import itertools
import logging
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Literal

from tqdm import tqdm

from recsys.articles import Article, RecordResult, read_articles
from recsys.catalog.bulk import BatchUpsert
from recsys.catalog.connection import Connection
from recsys.catalog.postgres import PgConnection
from recsys.catalog.store import Catalog, UpsertCounts
from recsys.errors import InvalidArticle, InvalidInput
from recsys.language import detect_language as detect

log = logging.getLogger(__name__)

MAX_REPORTED_ERRORS = 20
BATCH_RECORDS = 1000


@dataclass
class ImportReport:
    source: str
    read: int = 0
    skipped: int = 0
    counts: UpsertCounts = field(default_factory=UpsertCounts)
    # The first MAX_REPORTED_ERRORS rejections in full, and the line of every one.
    problems: list[InvalidArticle] = field(default_factory=list)
    rejected_lines: list[int] = field(default_factory=list)

    @property
    def errors(self) -> list[str]:
        return [str(problem) for problem in self.problems]

    def summary(self) -> str:
        return (
            f"{self.source}: {self.read} records, {self.counts.inserted} new, {self.counts.updated} changed, "
            f"{self.counts.unchanged} unchanged, {self.skipped} skipped"
        )


def import_file(
    catalog: Catalog,
    path: Path,
    *,
    strict: bool = False,
    progress: bool = False,
    detect_language: bool = False,
) -> ImportReport:
    records = tqdm(read_articles(path), desc=f"import {path.name}", unit=" rec", disable=not progress)
    return import_records(catalog, records, str(path), strict=strict, detect_language=detect_language)


def import_records(
    catalog: Catalog,
    records: Iterable[RecordResult],
    source: str,
    *,
    strict: bool = False,
    detect_language: bool = False,
) -> ImportReport:
    """Upsert validated records (recsys/articles.py), from a file or a request body, with the
    skip-or-fail rule above; `source` names them in every error."""
    report = ImportReport(source=source)
    todo = iter(records)
    if detect_language:
        todo = (
            (line, with_language(result) if isinstance(result, Article) else result) for line, result in todo
        )
    more = True
    while more:
        with catalog.transaction() as conn:
            more = _write(catalog, conn, todo, report, strict=strict)
    if report.skipped:
        log.warning("%s: skipped %d bad records; first: %s", source, report.skipped, report.errors[0])
    if report.read == 0:
        raise InvalidInput(f"{source}: no records found")
    return report


Change = Literal["created", "updated", "unchanged"]


def with_language(article: Article) -> Article:
    """`article` with the language detected from its text where the record gave none."""
    if article.language is not None:
        return article
    return replace(article, language=detect(article.title, article.body))


def upsert_article(catalog: Catalog, article: Article, *, detect_language: bool = False) -> Change:
    """Write one validated article in its own transaction (a URL that another article holds is an
    InvalidInput); says whether it was new, changed or already as given."""
    if detect_language:
        article = with_language(article)
    counts = UpsertCounts()
    with catalog.transaction() as conn:
        catalog.upsert(conn, article, counts)
    return "created" if counts.inserted else "updated" if counts.updated else "unchanged"


def _write(
    catalog: Catalog,
    conn: Connection,
    records: Iterator[RecordResult],
    report: ImportReport,
    *,
    strict: bool,
) -> bool:
    """Upsert the next batch of records (strict: all of them); returns whether any may remain.
    A PostgreSQL catalog takes a batch in a few round trips (recsys/catalog/bulk.py)."""
    limit = None if strict else BATCH_RECORDS
    batch = itertools.islice(records, limit)
    if strict or not isinstance(conn, PgConnection):
        return _each(batch, report, functools.partial(catalog.upsert, conn), strict) == limit
    taken = list(batch)
    bulk = BatchUpsert(conn, [result for _, result in taken if isinstance(result, Article)])
    _each(iter(taken), report, bulk.upsert, strict)
    bulk.flush()
    return len(taken) == limit


def _each(
    records: Iterator[RecordResult],
    report: ImportReport,
    upsert: Callable[[Article, UpsertCounts], None],
    strict: bool,
) -> int:
    """Upsert each record in order, rejecting the bad ones by the skip-or-fail rule; returns how many
    records were read."""
    taken = 0
    for line, result in records:
        taken += 1
        report.read += 1
        if isinstance(result, InvalidArticle):
            _reject(report, result, strict)
            continue
        try:
            upsert(result, report.counts)
        except InvalidInput as exc:
            _reject(report, InvalidArticle(report.source, line, "url", str(exc)), strict)
    return taken


def _reject(report: ImportReport, error: InvalidArticle, strict: bool) -> None:
    if strict:
        # Raised inside the transaction, so nothing from this file is kept.
        raise error
    report.skipped += 1
    report.rejected_lines.append(error.line)
    if len(report.problems) < MAX_REPORTED_ERRORS:
        report.problems.append(error)
