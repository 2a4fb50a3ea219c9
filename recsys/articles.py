"""The Article record and reading it from files.

Input files are JSON Lines (optionally gzip-compressed) or CSV with the same columns:
id, url, title, body, section, tags, published_at, related, and optionally status
("published" or "retracted"), image_url (an http(s) URL of the story's picture), author (the
byline) and language (a BCP 47 tag such as "en" or "pt-BR"; recsys/language.py). In CSV, `tags` and
`related` are a JSON list or a `|`-separated string.
Each bad record becomes an InvalidArticle naming the file, line and field; the caller decides whether
to skip it or stop.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, Literal

from recsys.errors import InvalidArticle, InvalidInput, InvalidTimestamp
from recsys.language import normalise_tag

Status = Literal["published", "retracted"]
# What a listed item shows of an article:
# (id, url, title, section, published_at, image_url, author, language).
ListedFields = tuple[str, str | None, str | None, str | None, str | None, str | None, str | None, str | None]
STATUSES: tuple[Status, ...] = ("published", "retracted")
MAX_ID_LENGTH = 512
MAX_TEXT_LENGTH = 1_000_000
# A picture's URL and a byline are shown in every list that holds the story: bounded like a headline.
MAX_IMAGE_URL_LENGTH = 2_000
MAX_AUTHOR_LENGTH = 200
MAX_LANGUAGE_LENGTH = 200  # longer is refused as such; a tag is checked against BCP 47's own limit
# Publication dates outside these years are refused where they come in. Archives digitised from print
# reach back into the 19th century, and nothing is published two centuries ahead: outside the range a
# date is a typo or a placeholder ("0001-01-01", "9999-12-31"). The margin to datetime's own limits
# (years 1 and 9999) also keeps offsets and date arithmetic (max_age_days is at most 100 years) from
# overflowing.
MIN_YEAR = 1800
MAX_YEAR = 2200


@dataclass(frozen=True)
class Article:
    id: str
    url: str | None = None
    title: str | None = None
    body: str | None = None
    section: str | None = None
    tags: tuple[str, ...] = ()
    published_at: str | None = None  # ISO-8601 UTC, "YYYY-MM-DDTHH:MM:SSZ"
    related: tuple[str, ...] = ()
    # None means "not said in the input": an upsert keeps the status the catalog already has,
    # so re-importing a feed does not undo a retraction.
    status: Status | None = None
    image_url: str | None = None  # http(s) URL of the story's picture
    author: str | None = None  # the byline, as the newsroom writes it
    # BCP 47, normalised ("pt-BR"); from the input, else detected on import (recsys/language.py); None:
    # unknown. Not in content_hash: the language names the text, it does not change its embedding.
    language: str | None = None
    extra: dict[str, Any] = field(default_factory=dict, compare=False)

    @property
    def content_hash(self) -> str:
        """Hash of the fields that the text recipe reads: equal hash, equal embedding."""
        text = f"{self.title or ''}\x1f{self.body or ''}"
        return hashlib.sha256(text.encode("utf-8")).hexdigest()

    def to_record(self) -> dict[str, Any]:
        """The file-format dict (what read_articles accepts); status only when it is known."""
        record: dict[str, Any] = {
            "id": self.id,
            "url": self.url,
            "title": self.title,
            "body": self.body,
            "section": self.section,
            "tags": list(self.tags),
            "published_at": self.published_at,
            "related": list(self.related),
        }
        if self.status is not None:
            record["status"] = self.status
        # Optional fields: files without them stay as they were.
        for name in ("image_url", "author", "language"):
            if getattr(self, name) is not None:
                record[name] = getattr(self, name)
        return record

    def listed(self) -> ListedFields:
        """What a listed item shows of this article."""
        return (
            self.id, self.url, self.title, self.section, self.published_at, self.image_url, self.author,
            self.language,
        )  # fmt: skip

    def published_datetime(self) -> datetime | None:
        return parse_timestamp(self.published_at) if self.published_at else None


def parse_timestamp(value: str) -> datetime:
    """Parse ISO-8601 (date-only, naive = UTC, or with offset) into an aware UTC datetime.

    Any time a datetime can hold is accepted, so values stored before MIN_YEAR..MAX_YEAR was enforced
    still read; anything else raises InvalidTimestamp (a ValueError), never OverflowError.
    """
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    try:
        if len(text) == 10:
            parsed = datetime.combine(date.fromisoformat(text), datetime.min.time())
        else:
            parsed = datetime.fromisoformat(text)
    except ValueError as exc:
        raise InvalidTimestamp(f"not an ISO-8601 date or time: {value!r}") from exc
    return to_utc(parsed)


def to_utc(moment: datetime) -> datetime:
    """`moment` as an aware UTC datetime (naive = UTC). Near year 1 or 9999 an offset can carry the
    time past what a datetime holds: that is an InvalidTimestamp, not an OverflowError."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    try:
        return moment.astimezone(UTC)
    except OverflowError as exc:
        raise InvalidTimestamp("out of range once converted to UTC (too close to year 1 or 9999)") from exc


def plausible_timestamp(moment: datetime) -> datetime:
    """`moment` in UTC if it can be a publication or expiry time (MIN_YEAR..MAX_YEAR), else
    InvalidTimestamp. Applied where times come in: files, drafts, date windows, block expiries."""
    utc = to_utc(moment)
    if not MIN_YEAR <= utc.year <= MAX_YEAR:
        raise InvalidTimestamp(f"year {utc.year} is outside {MIN_YEAR}..{MAX_YEAR}; is the date right?")
    return utc


def format_timestamp(moment: datetime) -> str:
    """ "YYYY-MM-DDTHH:MM:SSZ" in UTC, always with four year digits: strftime's %Y writes year 999 as
    "999", which parse_timestamp would then refuse."""
    return to_utc(moment).replace(microsecond=0, tzinfo=None).isoformat() + "Z"


def encodable(text: str) -> bool:
    """Whether `text` can be written as UTF-8 (to SQLite, into a JSON answer). A JSON escape such as
    "\\ud800" decodes to a lone surrogate, which cannot: it must be refused where it comes in."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


UNENCODABLE = "not valid Unicode text (it holds a lone surrogate such as \\ud800)"


def _optional_text(
    record: dict[str, Any], name: str, source: str, line: int, limit: int = MAX_TEXT_LENGTH
) -> str | None:
    value = record.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidArticle(source, line, name, f"expected a string or null, got {type(value).__name__}")
    if len(value) > limit:
        raise InvalidArticle(source, line, name, f"longer than {limit} characters")
    if not encodable(value):
        raise InvalidArticle(source, line, name, UNENCODABLE)
    value = value.strip()
    return value or None


def _string_list(record: dict[str, Any], name: str, source: str, line: int) -> tuple[str, ...]:
    value = record.get(name)
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise InvalidArticle(source, line, name, "expected a list of strings")
    if not all(encodable(item) for item in value):
        raise InvalidArticle(source, line, name, UNENCODABLE)
    # Keep order, drop blanks and repeats.
    return tuple(dict.fromkeys(item.strip() for item in value if item.strip()))


def _csv_list(cell: str | None, name: str, source: str, line: int) -> object:
    """A CSV cell holding a list: a JSON list, or values separated by `|`."""
    text = (cell or "").strip()
    if not text:
        return None
    if text.startswith("["):
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            raise InvalidArticle(source, line, name, f"invalid JSON list: {exc.msg}") from exc
    return [part.strip() for part in text.split("|")]


def validate_record(record: Any, source: str, line: int) -> Article:
    """Turn one decoded record into an Article, or raise InvalidArticle."""
    if not isinstance(record, dict):
        raise InvalidArticle(source, line, "<record>", f"expected an object, got {type(record).__name__}")
    raw_id = record.get("id")
    if isinstance(raw_id, int) and not isinstance(raw_id, bool):
        raw_id = str(raw_id)
    if not isinstance(raw_id, str) or not raw_id.strip():
        raise InvalidArticle(source, line, "id", "required: a non-empty string")
    article_id = raw_id.strip()
    if len(article_id) > MAX_ID_LENGTH:
        raise InvalidArticle(source, line, "id", f"longer than {MAX_ID_LENGTH} characters")
    if not encodable(article_id):
        raise InvalidArticle(source, line, "id", UNENCODABLE)

    url = _optional_text(record, "url", source, line)
    if url is not None and not url.startswith(("http://", "https://", "/")):
        raise InvalidArticle(source, line, "url", f"not an http(s) URL or absolute path: {url[:80]!r}")
    image_url = _optional_text(record, "image_url", source, line, MAX_IMAGE_URL_LENGTH)
    if image_url is not None and (
        not image_url.lower().startswith(("http://", "https://")) or any(c.isspace() for c in image_url)
    ):
        raise InvalidArticle(source, line, "image_url", f"not an http(s) URL: {image_url[:80]!r}")
    title = _optional_text(record, "title", source, line)
    body = _optional_text(record, "body", source, line)
    if title is None and body is None:
        raise InvalidArticle(source, line, "title", "an article needs a title or a body")

    published = record.get("published_at")
    published_at: str | None = None
    if published is not None and published != "":
        if not isinstance(published, str):
            raise InvalidArticle(source, line, "published_at", "expected an ISO-8601 string or null")
        try:
            published_at = format_timestamp(plausible_timestamp(parse_timestamp(published)))
        except InvalidTimestamp as exc:
            raise InvalidArticle(source, line, "published_at", str(exc)) from exc

    status = record.get("status")
    if status in (None, ""):
        status = None
    elif status not in STATUSES:
        raise InvalidArticle(source, line, "status", f"expected one of {', '.join(STATUSES)}, got {status!r}")

    related = tuple(r for r in _string_list(record, "related", source, line) if r != article_id)
    language = _optional_text(record, "language", source, line, MAX_LANGUAGE_LENGTH)
    if language is not None:
        try:
            language = normalise_tag(language)
        except ValueError as exc:
            raise InvalidArticle(source, line, "language", str(exc)) from exc
    known = {
        "id", "url", "title", "body", "section", "tags", "published_at", "related", "status",
        "image_url", "author", "language",
    }  # fmt: skip
    return Article(
        id=article_id,
        url=url,
        title=title,
        body=body,
        section=_optional_text(record, "section", source, line),
        tags=_string_list(record, "tags", source, line),
        published_at=published_at,
        related=related,
        status=status,
        image_url=image_url,
        author=_optional_text(record, "author", source, line, MAX_AUTHOR_LENGTH),
        language=language,
        extra={k: v for k, v in record.items() if k not in known},
    )


def refuse_unknown_fields(article: Article, source: str, line: int) -> Article:
    """`article`, or InvalidArticle naming a field the record format does not have. For the HTTP API,
    where a misspelt field ("tittle") would otherwise be dropped in silence; files keep their other
    columns (feeds carry many) in `extra`."""
    if article.extra:
        name = sorted(article.extra)[0]
        raise InvalidArticle(source, line, name[:80], "unknown field")
    return article


# (line number, the article or why it was rejected)
RecordResult = tuple[int, Article | InvalidArticle]


def _open_text(path: Path) -> io.TextIOBase:
    if path.suffix == ".gz":
        return io.TextIOWrapper(gzip.open(path, "rb"), encoding="utf-8", newline="")
    return open(path, encoding="utf-8", newline="")  # noqa: SIM115 - caller closes


def _format_of(path: Path) -> str:
    suffixes = [s.lower() for s in path.suffixes if s.lower() != ".gz"]
    kind = suffixes[-1] if suffixes else ""
    if kind in (".jsonl", ".ndjson", ".json"):
        return "jsonl"
    if kind == ".csv":
        return "csv"
    raise InvalidInput(f"{path}: unknown file type (expected .jsonl, .ndjson, .csv, optionally .gz)")


def read_articles(path: Path) -> Iterator[RecordResult]:
    """Yield (line, Article or InvalidArticle) for each record of the file, in order.

    A missing file or unknown type raises InvalidInput at once; a file that turns out unreadable
    (not gzip, not UTF-8) raises InvalidInput while iterating.
    """
    if not path.is_file():
        raise InvalidInput(f"{path}: no such file")
    return _records(path, _format_of(path))


def _records(path: Path, kind: str) -> Iterator[RecordResult]:
    source = str(path)
    try:
        with _open_text(path) as handle:
            if kind == "jsonl":
                yield from jsonl_records(handle, source)
            else:
                yield from _read_csv(handle, source)
    except (OSError, EOFError, UnicodeDecodeError) as exc:
        raise InvalidInput(f"{path}: cannot read file: {exc}") from exc


def decode_json(text: str, source: str, line: int) -> Any:
    """One JSON value, or InvalidArticle on field '<json>'. Deep nesting (RecursionError) and integers
    past Python's digit limit (a plain ValueError) are bad input like any syntax error, never a crash."""
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise InvalidArticle(
            source, line, "<json>", f"invalid JSON: {exc.msg} at column {exc.colno}"
        ) from exc
    except (ValueError, RecursionError) as exc:
        reason = "nested too deeply" if isinstance(exc, RecursionError) else str(exc)
        raise InvalidArticle(source, line, "<json>", f"invalid JSON: {reason}") from exc


def jsonl_records(
    lines: Iterable[str], source: str, *, unknown_fields: bool = True
) -> Iterator[RecordResult]:
    """(line, Article or InvalidArticle) for each non-blank line of JSON Lines text, numbered from 1:
    what `recsys ingest` reads from a file and `POST /admin/articles` from a request body (which
    refuses unknown fields: `unknown_fields=False`)."""
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            article = validate_record(decode_json(line, source, number), source, number)
            yield number, article if unknown_fields else refuse_unknown_fields(article, source, number)
        except InvalidArticle as error:
            yield number, error


def _read_csv(handle: io.TextIOBase, source: str) -> Iterator[RecordResult]:
    reader = csv.DictReader(handle)
    if reader.fieldnames is None or "id" not in reader.fieldnames:
        raise InvalidInput(f"{source}: CSV needs a header row with at least an 'id' column")
    for row in reader:
        # line_num is the reader's physical line, which stays right for quoted multi-line cells.
        number = reader.line_num
        if None in row:
            yield number, InvalidArticle(source, number, "<row>", "more cells than header columns")
            continue
        record: dict[str, Any] = {k: (v if v != "" else None) for k, v in row.items()}
        try:
            for name in ("tags", "related"):
                record[name] = _csv_list(record.get(name), name, source, number)
            yield number, validate_record(record, source, number)
        except InvalidArticle as error:
            yield number, error
