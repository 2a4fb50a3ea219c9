"""What the ranking rules need about every article of an index version, as arrays held in memory.

A snapshot is written by the build beside the index files (checksummed like them) and loaded with the
version, so that a request reads no article rows: row `r` of every array describes the article whose
key is `keys[r]` (keys ascending, the FAISS ids). It holds, per row: id, url, title, publication
text and image URL (compact UTF-8 columns), the section, author, tags and language (integer codes),
the publication time (epoch seconds, NaN when undated), and lookups from id and URL to row (sorted
64-bit hashes). It also keeps the rows of each section, author and tag, and every dated row in time order, so
that a filter can be answered from the rows it can match rather than by scanning.

Versions built before image URLs and authors existed have no such files: they load with none; so
do versions built before languages (every row: no language).

The snapshot is what the catalog said when the version was built; recsys/serving/live.py lays what changed
since on top of it.
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from recsys.articles import Article, ListedFields, parse_timestamp

log = logging.getLogger(__name__)

PREFIX = "snap_"
NO_CODE = -1
# Rows whose listed fields a snapshot keeps (Snapshot.fields): up to about 8 MiB, more than a day's popular
# stories.
LISTED_CACHE = 16_384


def epoch_of(value: str | None) -> float:
    """Seconds since 1970 of a stored timestamp; NaN when undated or unparseable (logged): a stored
    value that cannot be read makes the article undated, never a failed request."""
    if not value:
        return math.nan
    try:
        return parse_timestamp(value).timestamp()
    except (ValueError, OverflowError):
        log.warning("unreadable published_at %r: the article is treated as undated", value)
        return math.nan


def text_hash(text: str) -> int:
    """A stable signed 64-bit hash (the same in every process, unlike hash())."""
    return int.from_bytes(
        hashlib.blake2b(text.encode("utf-8"), digest_size=8).digest(), "little", signed=True
    )


class StringColumn:
    """Strings as one UTF-8 buffer and offsets: about a tenth of the memory of a list of str at a
    million rows, and decoded only for the few rows a response shows."""

    def __init__(self, data: np.ndarray, offsets: np.ndarray) -> None:
        self.data = data
        self.offsets = offsets
        self._bytes = data.tobytes()

    @classmethod
    def of(cls, values: Iterable[str | None]) -> StringColumn:
        encoded = [(v or "").encode("utf-8") for v in values]
        offsets = np.zeros(len(encoded) + 1, dtype=np.int64)
        np.cumsum([len(e) for e in encoded], out=offsets[1:])
        return cls(np.frombuffer(b"".join(encoded), dtype=np.uint8).copy(), offsets)

    def __len__(self) -> int:
        return len(self.offsets) - 1

    def __getitem__(self, row: int) -> str:
        return self._bytes[self.offsets[row] : self.offsets[row + 1]].decode("utf-8")

    def get(self, row: int) -> str | None:
        return self[row] or None

    def arrays(self, name: str) -> dict[str, np.ndarray]:
        return {f"{PREFIX}{name}_data.npy": self.data, f"{PREFIX}{name}_offsets.npy": self.offsets}

    @classmethod
    def from_arrays(cls, arrays: dict[str, np.ndarray], name: str) -> StringColumn:
        return cls(arrays[f"{PREFIX}{name}_data.npy"], arrays[f"{PREFIX}{name}_offsets.npy"])


def stored_languages(directory: Path, names: Iterable[str], count: int) -> list[str | None]:
    """Each row's language tag as a version's snapshot stored it (None: none), read without the rest of
    the snapshot: what an incremental build compares the catalog's languages with."""
    listed = set(names)
    column = f"{PREFIX}languages.npy"
    if column not in listed:  # built before languages: none known
        return [None] * count
    codes = np.load(directory / column, allow_pickle=False)
    arrays = {
        name: np.load(directory / name, allow_pickle=False)
        for name in StringColumn.of([]).arrays("language_names")
    }
    tags = StringColumn.from_arrays(arrays, "language_names")
    return [tags[int(code)] if code != NO_CODE else None for code in codes.tolist()]


class HashLookup:
    """Exact string -> row lookup over a StringColumn through sorted 64-bit hashes (16 bytes a row,
    where a dict of a million strings takes over 100 MB)."""

    def __init__(self, hashes: np.ndarray, order: np.ndarray, column: StringColumn) -> None:
        self.hashes = hashes  # sorted
        self.order = order  # row of each sorted hash
        self.column = column

    @classmethod
    def of(cls, column: StringColumn, present: np.ndarray | None = None) -> HashLookup:
        rows = np.arange(len(column)) if present is None else np.flatnonzero(present)
        hashes = np.array([text_hash(column[int(r)]) for r in rows], dtype=np.int64)
        order = np.argsort(hashes, kind="stable")
        return cls(hashes[order], rows[order].astype(np.int64), column)

    def row(self, text: str) -> int | None:
        h = text_hash(text)
        at = int(np.searchsorted(self.hashes, h))
        while at < len(self.hashes) and self.hashes[at] == h:
            row = int(self.order[at])
            if self.column[row] == text:
                return row
            at += 1
        return None


class KeyRows:
    """Row of each key, for keys in ascending order (as every version stores them): a dense table
    (4 bytes a key up to the largest) when keys are dense enough, as catalog keys are, else a binary
    search. A build maps tens of millions of neighbour keys at once: the table makes that a gather."""

    def __init__(self, keys: np.ndarray) -> None:
        self.keys = np.asarray(keys, dtype=np.int64)
        top = int(self.keys[-1]) if len(self.keys) else -1
        self.table: np.ndarray | None = None
        if top < 4 * len(self.keys) + 1_000_000:
            self.table = np.full(top + 1, -1, dtype=np.int32)
            self.table[self.keys] = np.arange(len(self.keys), dtype=np.int32)

    def rows(self, keys: np.ndarray) -> np.ndarray:
        """Rows of `keys` (any shape, any integer type), -1 where a key is not held."""
        keys = np.asarray(keys)
        if self.table is not None:
            if not len(self.table):
                return np.full(keys.shape, -1, dtype=np.int32)
            # Out-of-range keys (and -1 padding) look up a clipped slot, then are set to -1.
            found = self.table[np.clip(keys, 0, len(self.table) - 1)]
            found[(keys < 0) | (keys >= len(self.table))] = -1
            return found
        keys = keys.astype(np.int64)
        if not len(self.keys):
            return np.full(keys.shape, -1, dtype=np.int32)
        at = np.minimum(np.searchsorted(self.keys, keys), len(self.keys) - 1)
        return np.where(self.keys[at] == keys, at, -1).astype(np.int32)


def _grouped(codes: np.ndarray, rows: np.ndarray, count: int) -> tuple[np.ndarray, np.ndarray]:
    """CSR of rows per code: rows of code c are members[ptr[c]:ptr[c+1]], in the order given."""
    order = np.argsort(codes, kind="stable")
    ptr = np.zeros(count + 1, dtype=np.int64)
    np.cumsum(np.bincount(codes, minlength=count), out=ptr[1:])
    return ptr, rows[order].astype(np.int32)


def _vocabulary(values: Iterable[str]) -> list[str]:
    return sorted(set(values))


@dataclass
class Snapshot:
    keys: np.ndarray  # int64, ascending
    ids: StringColumn
    urls: StringColumn
    titles: StringColumn
    published_text: StringColumn
    published: np.ndarray  # float64 epoch seconds, NaN undated
    sections: np.ndarray  # int32 code, NO_CODE when none
    section_names: list[str]
    tag_ptr: np.ndarray  # int64, tags of row r: tag_codes[tag_ptr[r]:tag_ptr[r+1]]
    tag_codes: np.ndarray  # int32
    tag_names: list[str]
    catalog_generation: int
    image_urls: StringColumn
    authors: np.ndarray  # int32 code, NO_CODE when none
    author_names: list[str]
    languages: np.ndarray  # int32 code of the BCP 47 tag, NO_CODE when none
    language_names: list[str]

    def __post_init__(self) -> None:
        self.section_code = {name: code for code, name in enumerate(self.section_names)}
        self.tag_code = {name: code for code, name in enumerate(self.tag_names)}
        self.author_code = {name: code for code, name in enumerate(self.author_names)}
        self.language_code = {name: code for code, name in enumerate(self.language_names)}
        # What listed rows show, kept once read: a list's body reads ten rows' eight fields each,
        # from string columns, and popular rows are listed on many pages (see `fields`).
        self._listed: dict[int, ListedFields] = {}

    def prepare(self) -> Snapshot:
        """Build the lookups a server needs (seconds at a million rows): called by the loader, in its
        thread, so no request pays for them; a build never needs them."""
        for name in (
            "by_id",
            "by_url",
            "time_sorted",
            "section_times",
            "tag_rows",
            "_all_sections",
            "_all_authors",
            "_key_rows",
        ):
            getattr(self, name)
        return self

    @functools.cached_property
    def by_id(self) -> HashLookup:
        return HashLookup.of(self.ids)

    @functools.cached_property
    def by_url(self) -> HashLookup:
        return HashLookup.of(self.urls, np.diff(self.urls.offsets) > 0)

    @functools.cached_property
    def time_order(self) -> np.ndarray:
        """Every dated row by (time, key): keys ascend with rows, so a stable sort on time is enough."""
        dated = np.flatnonzero(~np.isnan(self.published))
        return dated[np.argsort(self.published[dated], kind="stable")].astype(np.int32)

    @functools.cached_property
    def time_sorted(self) -> np.ndarray:
        return self.published[self.time_order]

    @functools.cached_property
    def _sections(self) -> tuple[np.ndarray, np.ndarray]:
        """Dated rows of each section in (time, key) order, as CSR (pointers, rows)."""
        by_time = self.time_order[self.sections[self.time_order] != NO_CODE]
        return _grouped(self.sections[by_time], by_time, len(self.section_names))

    @functools.cached_property
    def _all_sections(self) -> tuple[np.ndarray, np.ndarray]:
        """Every row of each section, dated or not, in row order, as CSR (pointers, rows)."""
        rows = np.flatnonzero(self.sections != NO_CODE).astype(np.int32)
        return _grouped(self.sections[rows], rows, len(self.section_names))

    def section_all(self, code: int) -> np.ndarray:
        """Every row of a section (what a section filter can match), dated or not; none for a
        section first seen since the build (the live view holds those rows)."""
        if code >= len(self.section_names):
            return np.zeros(0, dtype=np.int32)
        ptr, rows = self._all_sections
        return rows[ptr[code] : ptr[code + 1]]

    @functools.cached_property
    def _all_authors(self) -> tuple[np.ndarray, np.ndarray]:
        rows = np.flatnonzero(self.authors != NO_CODE).astype(np.int32)
        return _grouped(self.authors[rows], rows, len(self.author_names))

    def author_all(self, code: int) -> np.ndarray:
        """Every row of an author (what an author filter can match); none for an author first seen
        since the build."""
        if code >= len(self.author_names):
            return np.zeros(0, dtype=np.int32)
        ptr, rows = self._all_authors
        return rows[ptr[code] : ptr[code + 1]]

    @property
    def section_ptr(self) -> np.ndarray:
        return self._sections[0]

    @property
    def section_rows(self) -> np.ndarray:
        return self._sections[1]

    @functools.cached_property
    def section_times(self) -> np.ndarray:
        return self.published[self.section_rows]

    @functools.cached_property
    def _tags(self) -> tuple[np.ndarray, np.ndarray]:
        """Rows of each tag, as CSR (pointers, rows)."""
        tag_rows = np.repeat(np.arange(len(self.keys), dtype=np.int32), np.diff(self.tag_ptr))
        return _grouped(self.tag_codes, tag_rows, len(self.tag_names))

    @property
    def tag_row_ptr(self) -> np.ndarray:
        return self._tags[0]

    @property
    def tag_rows(self) -> np.ndarray:
        return self._tags[1]

    def __len__(self) -> int:
        return len(self.keys)

    # -- lookups --------------------------------------------------------------------------------

    @functools.cached_property
    def _key_rows(self) -> KeyRows:
        return KeyRows(self.keys)

    def rows_of_keys(self, keys: np.ndarray) -> np.ndarray:
        """Row of each key, -1 for keys this version does not hold."""
        return self._key_rows.rows(keys)

    def row_of_key(self, key: int) -> int | None:
        row = int(self.rows_of_keys(np.array([key]))[0])
        return None if row < 0 else row

    def section_members(self, code: int) -> tuple[np.ndarray, np.ndarray]:
        """Dated rows of a section in (time, key) order, and their times."""
        lo, hi = self.section_ptr[code], self.section_ptr[code + 1]
        return self.section_rows[lo:hi], self.section_times[lo:hi]

    def tag_members(self, code: int) -> np.ndarray:
        if code >= len(self.tag_names):  # a tag first seen since the build
            return np.zeros(0, dtype=np.int32)
        return self.tag_rows[self.tag_row_ptr[code] : self.tag_row_ptr[code + 1]]

    def tags_of(self, row: int) -> tuple[str, ...]:
        codes = self.tag_codes[self.tag_ptr[row] : self.tag_ptr[row + 1]]
        return tuple(self.tag_names[int(c)] for c in codes)

    def section_of(self, row: int) -> str | None:
        code = int(self.sections[row])
        return self.section_names[code] if code != NO_CODE else None

    def author_of(self, row: int) -> str | None:
        code = int(self.authors[row])
        return self.author_names[code] if code != NO_CODE else None

    def language_of(self, row: int) -> str | None:
        code = int(self.languages[row])
        return self.language_names[code] if code != NO_CODE else None

    def fields(self, row: int) -> ListedFields:
        """What a listed item shows of a row (articles.ListedFields). A version never changes, so the
        answer is kept, for up to LISTED_CACHE rows (emptied when full: no order to keep, and a dict's
        get and set need no lock between the event loop and the thread pool)."""
        known = self._listed.get(row)
        if known is None:
            known = (
                self.ids[row],
                self.urls.get(row),
                self.titles.get(row),
                self.section_of(row),
                self.published_text.get(row),
                self.image_urls.get(row),
                self.author_of(row),
                self.language_of(row),
            )
            if len(self._listed) >= LISTED_CACHE:
                self._listed.clear()
            self._listed[row] = known
        return known

    def article(self, row: int) -> Article:
        """The listed fields of a row as an Article (no body: responses do not show it)."""
        return Article(
            id=self.ids[row],
            url=self.urls.get(row),
            title=self.titles.get(row),
            section=self.section_of(row),
            tags=self.tags_of(row),
            published_at=self.published_text.get(row),
            status="published",
            image_url=self.image_urls.get(row),
            author=self.author_of(row),
            language=self.language_of(row),
        )

    # -- building, saving, loading ----------------------------------------------------------------

    @classmethod
    def from_rows(cls, rows: Sequence[Any], catalog_generation: int) -> Snapshot:
        """From the catalog's lean rows (LEAN_COLUMNS of recsys/catalog/store.py: sqlite3.Row or dicts),
        by key."""
        tags = [tuple(json.loads(r["tags"])) for r in rows]
        section_names = _vocabulary(r["section"] for r in rows if r["section"])
        tag_names = _vocabulary(t for ts in tags for t in ts)
        author_names = _vocabulary(r["author"] for r in rows if r["author"])
        language_names = _vocabulary(r["language"] for r in rows if r["language"])
        language_code = {name: code for code, name in enumerate(language_names)}
        section_code = {name: code for code, name in enumerate(section_names)}
        tag_code = {name: code for code, name in enumerate(tag_names)}
        author_code = {name: code for code, name in enumerate(author_names)}
        tag_ptr = np.zeros(len(rows) + 1, dtype=np.int64)
        np.cumsum([len(t) for t in tags], out=tag_ptr[1:])
        return cls(
            keys=np.array([r["key"] for r in rows], dtype=np.int64),
            ids=StringColumn.of(r["id"] for r in rows),
            urls=StringColumn.of(r["url"] for r in rows),
            titles=StringColumn.of(r["title"] for r in rows),
            published_text=StringColumn.of(r["published_at"] for r in rows),
            published=np.array([epoch_of(r["published_at"]) for r in rows], dtype=np.float64),
            sections=np.array(
                [section_code[r["section"]] if r["section"] else NO_CODE for r in rows], dtype=np.int32
            ),
            section_names=section_names,
            tag_ptr=tag_ptr,
            tag_codes=np.array([tag_code[t] for ts in tags for t in ts], dtype=np.int32),
            tag_names=tag_names,
            catalog_generation=catalog_generation,
            image_urls=StringColumn.of(r["image_url"] for r in rows),
            authors=np.array(
                [author_code[r["author"]] if r["author"] else NO_CODE for r in rows], dtype=np.int32
            ),
            author_names=author_names,
            languages=np.array(
                [language_code[r["language"]] if r["language"] else NO_CODE for r in rows], dtype=np.int32
            ),
            language_names=language_names,
        )

    def arrays(self) -> dict[str, np.ndarray]:
        """The files of a snapshot (names -> arrays), written and checksummed with the version."""
        out: dict[str, np.ndarray] = {}
        for name in ("ids", "urls", "titles", "published_text", "image_urls"):
            out.update(getattr(self, name).arrays(name))
        out.update(StringColumn.of(self.section_names).arrays("section_names"))
        out.update(StringColumn.of(self.tag_names).arrays("tag_names"))
        out.update(StringColumn.of(self.author_names).arrays("author_names"))
        out[f"{PREFIX}authors.npy"] = self.authors
        out.update(StringColumn.of(self.language_names).arrays("language_names"))
        out[f"{PREFIX}languages.npy"] = self.languages
        out[f"{PREFIX}published.npy"] = self.published
        out[f"{PREFIX}sections.npy"] = self.sections
        out[f"{PREFIX}tag_ptr.npy"] = self.tag_ptr
        out[f"{PREFIX}tag_codes.npy"] = self.tag_codes
        return out

    @classmethod
    def load(
        cls, directory: Path, names: Iterable[str], keys: np.ndarray, catalog_generation: int
    ) -> Snapshot:
        arrays = {
            name: np.load(directory / name, allow_pickle=False) for name in names if name.startswith(PREFIX)
        }
        section_names = StringColumn.from_arrays(arrays, "section_names")
        tag_names = StringColumn.from_arrays(arrays, "tag_names")
        count = len(keys)
        if f"{PREFIX}authors.npy" not in arrays:  # built before image URLs and authors: none shown
            arrays.update(StringColumn.of([None] * count).arrays("image_urls"))
            arrays.update(StringColumn.of([]).arrays("author_names"))
            arrays[f"{PREFIX}authors.npy"] = np.full(count, NO_CODE, dtype=np.int32)
        author_names = StringColumn.from_arrays(arrays, "author_names")
        if f"{PREFIX}languages.npy" not in arrays:  # built before languages: none known
            arrays.update(StringColumn.of([]).arrays("language_names"))
            arrays[f"{PREFIX}languages.npy"] = np.full(count, NO_CODE, dtype=np.int32)
        language_names = StringColumn.from_arrays(arrays, "language_names")
        return cls(
            keys=np.asarray(keys, dtype=np.int64),
            ids=StringColumn.from_arrays(arrays, "ids"),
            urls=StringColumn.from_arrays(arrays, "urls"),
            titles=StringColumn.from_arrays(arrays, "titles"),
            published_text=StringColumn.from_arrays(arrays, "published_text"),
            published=arrays[f"{PREFIX}published.npy"],
            sections=arrays[f"{PREFIX}sections.npy"],
            section_names=[section_names[i] for i in range(len(section_names))],
            tag_ptr=arrays[f"{PREFIX}tag_ptr.npy"],
            tag_codes=arrays[f"{PREFIX}tag_codes.npy"],
            tag_names=[tag_names[i] for i in range(len(tag_names))],
            catalog_generation=catalog_generation,
            image_urls=StringColumn.from_arrays(arrays, "image_urls"),
            authors=arrays[f"{PREFIX}authors.npy"],
            author_names=[author_names[i] for i in range(len(author_names))],
            languages=arrays[f"{PREFIX}languages.npy"],
            language_names=[language_names[i] for i in range(len(language_names))],
        )
