"""RelatedQuery, the validated parameters of a related-stories request, and the paging cursor.

The parameters are validated once for every caller (HTTP, CLI, library).

A cursor carries the keys of every item already returned; the next page treats them as already on
the page (never listed again, and their near-duplicates neither), so paging never repeats an item even
when the index or the overrides change between two pages.

Cursor format, version 1: unpadded URL-safe base64 of the compact JSON `{"v":1,"seen":[K,K,...]}`,
each K the catalog key of an item already returned, an integer 0 <= K < 2**31 written without leading
zeros. A cursor is matched against exactly that shape (and bounded in length) before any number is
read, so a crafted one (deep nesting, huge numbers, megabytes) costs nothing and is an InvalidInput.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from recsys.articles import plausible_timestamp
from recsys.errors import InvalidInput, InvalidTimestamp

MAX_LIMIT = 100
MAX_EXCLUDE = 200
MAX_FILTER_VALUES = 50
MAX_CURSOR_ITEMS = 1000
CURSOR_VERSION = 1
# Catalog keys count up from 1 (SQLite AUTOINCREMENT): no catalogue comes near 2**31 articles, and the
# bound keeps crafted keys (2**63, 2**64) away from SQLite's and FAISS's 64-bit integers.
MAX_KEY = 2**31
_KEY = rb"(?:0|[1-9][0-9]{0,9})"
_CURSOR_SHAPE = re.compile(rb'\{"v":%d,"seen":\[(%s(?:,%s)*)?\]\}' % (CURSOR_VERSION, _KEY, _KEY))


@dataclass(frozen=True)
class RelatedQuery:
    """What a page asks for. `freshness=None` means each block's default (off for related, on for
    more_in_section); `half_life_days=None` means the configured half-life."""

    limit: int = 10
    section_limit: int = 5
    cursor: str | None = None
    exclude: tuple[str, ...] = ()
    sections: tuple[str, ...] = ()
    exclude_sections: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    exclude_tags: tuple[str, ...] = ()
    authors: tuple[str, ...] = ()
    exclude_authors: tuple[str, ...] = ()
    since: datetime | None = None
    until: datetime | None = None
    max_age_days: float | None = None
    background: bool = False
    freshness: bool | None = None
    half_life_days: float | None = None
    # Off only to measure what the rules change (benchmarks/ranking_rules.py); never on the API.
    dedup: bool = True
    diversity: bool = True

    def __post_init__(self) -> None:
        for name in ("limit", "section_limit"):
            value = getattr(self, name)
            if not isinstance(value, int) or not 0 <= value <= MAX_LIMIT or (name == "limit" and value == 0):
                raise InvalidInput(
                    f"{name} must be between {int(name == 'limit')} and {MAX_LIMIT}, got {value}"
                )
        if len(self.exclude) > MAX_EXCLUDE:
            raise InvalidInput(f"exclude takes at most {MAX_EXCLUDE} ids or URLs, got {len(self.exclude)}")
        for name in ("sections", "exclude_sections", "tags", "exclude_tags", "authors", "exclude_authors"):
            values = getattr(self, name)
            if len(values) > MAX_FILTER_VALUES:
                raise InvalidInput(f"{name} takes at most {MAX_FILTER_VALUES} values")
            if any(not v.strip() for v in values):
                raise InvalidInput(f"{name} values must not be empty")
        for included, excluded, label in (
            (self.sections, self.exclude_sections, "section"),
            (self.tags, self.exclude_tags, "tag"),
            (self.authors, self.exclude_authors, "author"),
        ):
            if overlap := set(included) & set(excluded):
                raise InvalidInput(f"{label}(s) both included and excluded: {', '.join(sorted(overlap))}")
        for name in ("since", "until"):
            value = getattr(self, name)
            if value is not None and value.tzinfo is None:
                raise InvalidInput(f"{name} must carry a time zone (e.g. a trailing Z)")
            if value is not None:
                try:
                    plausible_timestamp(value)
                except InvalidTimestamp as exc:
                    raise InvalidInput(f"{name}: {exc}") from exc
        if self.since is not None and self.until is not None and self.since > self.until:
            raise InvalidInput("since must not be after until")
        if self.max_age_days is not None and not 0 < self.max_age_days <= 36_500:
            raise InvalidInput(f"max_age_days must be in (0, 36500], got {self.max_age_days}")
        if self.half_life_days is not None and not 0 < self.half_life_days <= 36_500:
            raise InvalidInput(f"half_life_days must be in (0, 36500], got {self.half_life_days}")
        self.seen_keys()  # a bad cursor fails here, before any work

    @property
    def max_age(self) -> timedelta | None:
        return timedelta(days=self.max_age_days) if self.max_age_days is not None else None

    def seen_keys(self) -> tuple[int, ...]:
        return decode_cursor(self.cursor) if self.cursor else ()


def encode_cursor(keys: list[int] | tuple[int, ...]) -> str:
    payload = json.dumps({"v": CURSOR_VERSION, "seen": list(keys)}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(payload).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[int, ...]:
    if len(cursor) > MAX_CURSOR_LENGTH:
        raise InvalidInput(f"cursor is longer than {MAX_CURSOR_LENGTH} characters; start again")
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        payload = base64.urlsafe_b64decode(padded.encode("ascii"))
    except (ValueError, binascii.Error) as exc:
        raise InvalidInput("cursor is not one this service returned") from exc
    match = _CURSOR_SHAPE.fullmatch(payload)
    if match is None:
        raise InvalidInput("cursor is not one this service returned")
    keys = tuple(int(key) for key in match.group(1).split(b",")) if match.group(1) else ()
    if any(key >= MAX_KEY for key in keys):
        raise InvalidInput("cursor is not one this service returned")
    if len(keys) > MAX_CURSOR_ITEMS:
        raise InvalidInput(f"cursor pages past the last {MAX_CURSOR_ITEMS} items; start again")
    return keys


# The longest cursor worth reading: a full one plus the two largest pages that went into it (a longer
# one only earns the "start again" answer above).
MAX_CURSOR_LENGTH = len(encode_cursor([MAX_KEY - 1] * (MAX_CURSOR_ITEMS + 2 * MAX_LIMIT)))
