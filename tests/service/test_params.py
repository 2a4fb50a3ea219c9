"""The list parameters: parsed from the query string by one table (service/params.py) that also
writes their OpenAPI description."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from recsys.errors import InvalidInput
from service.params import PARAMS, openapi_parameters, parse_query


def _parse(*items: tuple[str, str]):  # type: ignore[no-untyped-def]
    return parse_query(list(items), 10, 5)


def test_values_are_typed_defaulted_and_repeated_names_collect() -> None:
    query = _parse(
        ("limit", "7"), ("section", "world"), ("section", "sport"), ("background", "TRUE"),
        ("freshness", "0"), ("since", "2026-01-02"), ("max_age_days", "2.5"), ("unknown", "x"),
    )  # fmt: skip
    assert (query.limit, query.section_limit) == (7, 5)
    assert query.sections == ("world", "sport") and query.background is True and query.freshness is False
    assert query.since == datetime(2026, 1, 2, tzinfo=UTC) and query.max_age_days == 2.5
    assert _parse(("limit", "3"), ("limit", "4")).limit == 4  # the last one wins, as in FastAPI


@pytest.mark.parametrize(
    ("items", "message"),
    [
        ((("limit", "0"),), "query.limit"),
        ((("limit", "ten"),), "query.limit: not an integer"),
        ((("limit", "101"),), "query.limit"),
        ((("max_age_days", "0"),), "query.max_age_days"),
        ((("max_age_days", "nan"),), "not a finite number"),
        ((("background", "maybe"),), "query.background: not a boolean"),
        ((("since", "yesterday"),), "query.since: not an ISO-8601"),
        ((("since", "0999-06-01"),), "year 999"),
        ((("exclude", "x"),) * 201, "query.exclude: at most 200"),
        ((("cursor", "a" * 30_000),), "query.cursor: longer than"),
    ],
)
def test_bad_values_are_refused_by_name_without_echo(
    items: tuple[tuple[str, str], ...], message: str
) -> None:
    with pytest.raises(InvalidInput, match=message) as error:
        _parse(*items)
    assert "ten" not in str(error.value) and "yesterday" not in str(error.value)


def test_the_openapi_parameters_are_the_parsed_ones() -> None:
    documented = openapi_parameters()["parameters"]
    assert [p["name"] for p in documented] == [p.name for p in PARAMS]
    limit = next(p for p in documented if p["name"] == "limit")
    assert limit["schema"] == {"type": "integer", "minimum": 1, "maximum": 100}
    exclude = next(p for p in documented if p["name"] == "exclude")
    assert exclude["schema"]["type"] == "array" and exclude["schema"]["maxItems"] == 200
