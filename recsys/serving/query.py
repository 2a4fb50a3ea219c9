"""RelatedQuery, the one table of request parameters, and the paging cursor.

The parameters are validated once for every caller (HTTP, CLI, library).

A cursor carries the keys of every item already returned; the next page treats them as already on
the page (never listed again, and their near-duplicates neither), so paging never repeats an item even
when the index or the overrides change between two pages.

Cursor format, version 1: unpadded URL-safe base64 of the compact JSON `{"v":1,"seen":[K,K,...]}`,
each K the catalog key of an item already returned, an integer 0 <= K < 2**31 written without leading
zeros. A cursor is matched against exactly that shape (and bounded in length) before any number is
read, so a crafted one (deep nesting, huge numbers, megabytes) costs nothing and is an InvalidInput.

`PARAMS` describes every request parameter once: its name, type, bounds, help text and the
RelatedQuery field it fills. The HTTP API parses its query strings and writes its OpenAPI document
from it (service/params.py); `recsys related` makes its options from it (cli/query.py). A new filter
is a RelatedQuery field and a row of the table here, and its rule in recsys/serving/rules.py.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from recsys.articles import parse_timestamp, plausible_timestamp
from recsys.errors import InvalidInput, InvalidTimestamp
from recsys.language import normalise_tag

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


# The repeatable filters of a RelatedQuery (checked alike: bounded, no empty value).
FILTERS = ("sections", "exclude_sections", "tags", "exclude_tags", "authors", "exclude_authors", "languages")


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
    # BCP 47 language ranges (normalised on the way in); none: the subject's own language, unless
    # `cross_language` (recsys/serving/rules.py).
    languages: tuple[str, ...] = ()
    cross_language: bool = False
    since: datetime | None = None
    until: datetime | None = None
    max_age_days: float | None = None
    background: bool = False
    freshness: bool | None = None
    half_life_days: float | None = None
    # Off only to measure what the rules change (benchmarks/ranking_rules.py); never on the API.
    dedup: bool = True
    diversity: bool = True
    # Which arm of the running experiment ranks the list (recsys/serving/experiments.py): a bucket
    # 0..99, a string hashed into one, or an arm by name. At most one; none: the default ranking.
    bucket: int | None = None
    assign: str | None = None
    arm: str | None = None
    # Whether one of the three is given: the one check a list makes before it looks for an experiment.
    assigned: bool = field(default=False, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        for name in ("limit", "section_limit"):
            value = getattr(self, name)
            if not isinstance(value, int) or not 0 <= value <= MAX_LIMIT or (name == "limit" and value == 0):
                raise InvalidInput(
                    f"{name} must be between {int(name == 'limit')} and {MAX_LIMIT}, got {value}"
                )
        if len(self.exclude) > MAX_EXCLUDE:
            raise InvalidInput(f"exclude takes at most {MAX_EXCLUDE} ids or URLs, got {len(self.exclude)}")
        names = (
            "sections",
            "exclude_sections",
            "tags",
            "exclude_tags",
            "authors",
            "exclude_authors",
            "languages",
        )
        for name in names:
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
        try:
            object.__setattr__(
                self, "languages", tuple(dict.fromkeys(normalise_tag(v) for v in self.languages))
            )
        except ValueError as exc:
            raise InvalidInput(f"language: {exc}") from exc
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
        given = sum(value is not None for value in (self.bucket, self.assign, self.arm))
        if given > 1:
            raise InvalidInput("give at most one of bucket, assign and arm")
        object.__setattr__(self, "assigned", given == 1)
        self.seen_keys()  # a bad cursor fails here, before any work

    @property
    def max_age(self) -> timedelta | None:
        return timedelta(days=self.max_age_days) if self.max_age_days is not None else None

    def seen_keys(self) -> tuple[int, ...]:
        return decode_cursor(self.cursor) if self.cursor else ()

    def unassigned(self) -> RelatedQuery:
        """The same query without the arm's parameters: what each arm ranks."""
        return replace(self, bucket=None, assign=None, arm=None)


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


# -- the request parameters ------------------------------------------------------------------------

CURSOR_DESCRIPTION = (
    "next_cursor of the previous page, passed back unchanged. Format (version 1): unpadded URL-safe "
    'base64 of the compact JSON {"v":1,"seen":[K,...]}, each K the catalog key of an item already '
    f"returned (an integer, 0 <= K < 2^31, no leading zeros; at most {MAX_CURSOR_ITEMS} keys). Any other "
    "value is a 422."
)
MAX_VALUE_LENGTH = 4_000
_TRUE = {"true", "1", "yes", "on"}
_FALSE = {"false", "0", "no", "off"}


def query_label(name: str) -> str:
    """How an error names a parameter of the HTTP API (the CLI names its option instead)."""
    return f"query.{name}"


@dataclass(frozen=True)
class Param:
    """One request parameter. `field`: the RelatedQuery field it fills (default: its name); `many`: it
    repeats, and fills a tuple; `cli`: `recsys related` offers it as an option."""

    name: str
    kind: str  # integer | number | boolean | string | date-time
    description: str
    many: bool = False
    minimum: float | None = None
    maximum: float | None = None
    exclusive_minimum: bool = False
    max_items: int | None = None
    max_length: int = MAX_VALUE_LENGTH
    min_length: int = 0
    field: str = ""
    cli: bool = True

    @property
    def query_field(self) -> str:
        return self.field or self.name

    def openapi(self) -> dict[str, Any]:
        schema: dict[str, Any] = {"type": "string" if self.kind == "date-time" else self.kind}
        if self.kind == "date-time":
            schema["format"] = "date-time"
        if self.kind == "string":
            schema["maxLength"] = self.max_length
            if self.min_length:
                schema["minLength"] = self.min_length
        if self.minimum is not None:
            schema["exclusiveMinimum" if self.exclusive_minimum else "minimum"] = self.minimum
        if self.maximum is not None:
            schema["maximum"] = self.maximum
        if self.many:
            schema = {"type": "array", "items": schema}
            if self.max_items is not None:
                schema["maxItems"] = self.max_items
        return {
            "name": self.name,
            "in": "query",
            "required": False,
            "description": self.description,
            "schema": schema,
            **({"style": "form", "explode": True} if self.many else {}),
        }

    def parse(self, raw: str, label: str | None = None) -> Any:
        """One value from its text; an error names the parameter by `label` and never echoes the value."""
        where = label or query_label(self.name)
        if len(raw) > self.max_length:
            raise InvalidInput(f"{where}: longer than {self.max_length} characters")
        if len(raw) < self.min_length:
            raise InvalidInput(f"{where}: must not be empty")
        value = _PARSERS[self.kind](raw, where)
        if isinstance(value, int | float) and not isinstance(value, bool):
            low_ok = self.minimum is None or (
                value > self.minimum if self.exclusive_minimum else value >= self.minimum
            )
            if not low_ok or (self.maximum is not None and value > self.maximum):
                low = "above" if self.exclusive_minimum else "at least"
                raise InvalidInput(f"{where}: must be {low} {self.minimum} and at most {self.maximum}")
        return value


def _integer(raw: str, where: str) -> int:
    try:
        return int(raw.strip(), 10)
    except ValueError:
        raise InvalidInput(f"{where}: not an integer") from None


def _number(raw: str, where: str) -> float:
    try:
        value = float(raw.strip())
    except ValueError:
        raise InvalidInput(f"{where}: not a number") from None
    if not math.isfinite(value):
        raise InvalidInput(f"{where}: not a finite number")
    return value


def _boolean(raw: str, where: str) -> bool:
    text = raw.strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise InvalidInput(f"{where}: not a boolean (true or false)")


def _string(raw: str, where: str) -> str:
    return raw


def _moment(raw: str, where: str) -> datetime:
    try:
        return parse_timestamp(raw)  # aware: no zone means UTC
    except ValueError:
        raise InvalidInput(f"{where}: not an ISO-8601 date or time") from None


_PARSERS: dict[str, Callable[[str, str], Any]] = {
    "integer": _integer,
    "number": _number,
    "boolean": _boolean,
    "string": _string,
    "date-time": _moment,
}

PARAMS: tuple[Param, ...] = (
    Param("limit", "integer", "related items (default RECSYS_DEFAULT_LIMIT)", minimum=1, maximum=MAX_LIMIT),
    Param(
        "section_limit",
        "integer",
        "more_in_section items (default RECSYS_DEFAULT_SECTION_LIMIT)",
        minimum=0,
        maximum=MAX_LIMIT,
        cli=False,  # the command prints the related list only
    ),
    Param("cursor", "string", CURSOR_DESCRIPTION, max_length=MAX_CURSOR_LENGTH, cli=False),
    Param(
        "exclude",
        "string",
        "ids or URLs the page already shows",
        many=True,
        max_items=MAX_EXCLUDE,
        min_length=1,
    ),
    Param("section", "string", "only these sections", many=True, min_length=1, field="sections"),
    Param(
        "exclude_section", "string", "never these sections", many=True, min_length=1, field="exclude_sections"
    ),
    Param(
        "author",
        "string",
        "only items by these authors (the byline, exactly)",
        many=True,
        min_length=1,
        field="authors",
    ),
    Param(
        "exclude_author",
        "string",
        "never items by these authors",
        many=True,
        min_length=1,
        field="exclude_authors",
    ),
    Param(
        "language",
        "string",
        "only items in these languages (BCP 47; `pt` also matches `pt-BR`); default: the article's own "
        "language, and items with none",
        many=True,
        min_length=1,
        field="languages",
    ),
    Param(
        "cross_language",
        "boolean",
        "list items in every language (default: only the article's own, where it has one)",
    ),
    Param("tag", "string", "only items with one of these tags", many=True, min_length=1, field="tags"),
    Param(
        "exclude_tag", "string", "never items with these tags", many=True, min_length=1, field="exclude_tags"
    ),
    Param("since", "date-time", "published at or after (ISO-8601)"),
    Param("until", "date-time", "published at or before (ISO-8601)"),
    Param(
        "max_age_days",
        "number",
        "at most this many days older than the article",
        minimum=0,
        maximum=36_500,
        exclusive_minimum=True,
    ),
    Param("background", "boolean", "only stories published before the article"),
    Param(
        "freshness",
        "boolean",
        "blend recency into the score (default: off for related, on for more_in_section)",
    ),
    Param(
        "half_life_days",
        "number",
        "freshness half-life (default from settings)",
        minimum=0,
        maximum=36_500,
        exclusive_minimum=True,
        cli=False,
    ),
    # The experiment's arm (docs/experiments.md). Each value is another URL, so another ETag and
    # CDN cache key: `bucket` keeps an article's variants to 100.
    Param(
        "bucket",
        "integer",
        "experiment bucket 0..99 (the FNV-1a hash of a page-view id, mod 100): picks the running "
        "experiment's arm; at most one of bucket, assign and arm",
        minimum=0,
        maximum=99,
    ),
    Param(
        "assign",
        "string",
        "a page-view or first-party id, hashed into the experiment bucket by the server",
        max_length=128,
        min_length=1,
    ),
    Param(
        "arm",
        "string",
        "an arm of the running experiment, by name ('default': the default ranking)",
        max_length=32,
        min_length=1,
    ),
)
_BY_NAME = {param.name: param for param in PARAMS}


def parse_query(
    items: Iterable[tuple[str, str]],
    default_limit: int,
    default_section_limit: int,
    label: Callable[[str], str] = query_label,
) -> RelatedQuery:
    """A RelatedQuery from (name, text) pairs (a query string, or a command's options); unknown names
    are ignored, a repeated single value is the last one (as in FastAPI). `label` names a parameter
    in an error."""
    values: dict[str, Any] = {}
    lists: dict[str, list[Any]] = {}
    for name, raw in items:
        param = _BY_NAME.get(name)
        if param is None:
            continue
        if param.many:
            found = lists.setdefault(name, [])
            if param.max_items is not None and len(found) >= param.max_items:
                raise InvalidInput(f"{label(name)}: at most {param.max_items} values")
            found.append(param.parse(raw, label(name)))
        else:
            values[name] = param.parse(raw, label(name))
    fields: dict[str, Any] = {"limit": default_limit, "section_limit": default_section_limit}
    fields.update({_BY_NAME[name].query_field: value for name, value in values.items()})
    fields.update({_BY_NAME[name].query_field: tuple(found) for name, found in lists.items()})
    return RelatedQuery(**fields)
