"""Importing article files into the catalog, all-or-nothing per file.

Default: bad records are skipped and counted (the first few are reported with file, line and field).
Strict: the first bad record fails the import and nothing from the file is written.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

from tqdm import tqdm

from recsys.articles import read_articles
from recsys.catalog import Catalog, UpsertCounts
from recsys.errors import InvalidArticle, InvalidInput

log = logging.getLogger(__name__)

MAX_REPORTED_ERRORS = 20


@dataclass
class ImportReport:
    source: str
    read: int = 0
    skipped: int = 0
    counts: UpsertCounts = field(default_factory=UpsertCounts)
    errors: list[str] = field(default_factory=list)

    def summary(self) -> str:
        return (
            f"{self.source}: {self.read} records, {self.counts.inserted} new, {self.counts.updated} changed, "
            f"{self.counts.unchanged} unchanged, {self.skipped} skipped"
        )


def import_file(
    catalog: Catalog, path: Path, *, strict: bool = False, progress: bool = False
) -> ImportReport:
    report = ImportReport(source=str(path))
    with catalog.transaction() as conn:
        records = tqdm(read_articles(path), desc=f"import {path.name}", unit=" rec", disable=not progress)
        for line, result in records:
            report.read += 1
            if isinstance(result, InvalidArticle):
                _reject(report, result, strict)
                continue
            try:
                catalog.upsert(conn, result, report.counts)
            except InvalidInput as exc:
                _reject(report, InvalidArticle(str(path), line, "url", str(exc)), strict)
    if report.skipped:
        log.warning("%s: skipped %d bad records; first: %s", path, report.skipped, report.errors[0])
    if report.read == 0:
        raise InvalidInput(f"{path}: no records found")
    return report


def _reject(report: ImportReport, error: InvalidArticle, strict: bool) -> None:
    if strict:
        # Raised inside the transaction, so nothing from this file is kept.
        raise error
    report.skipped += 1
    if len(report.errors) < MAX_REPORTED_ERRORS:
        report.errors.append(str(error))
