"""The paging cursor (recsys/serving/query.py): what encode_cursor writes reads back; anything else, however
crafted, is an InvalidInput and never a RecursionError or an overflow further down."""

from __future__ import annotations

import base64
import json
import time

import pytest

from recsys.errors import InvalidInput
from recsys.serving.query import (
    MAX_CURSOR_ITEMS,
    MAX_CURSOR_LENGTH,
    MAX_KEY,
    RelatedQuery,
    decode_cursor,
    encode_cursor,
)


def _b64(payload: bytes) -> str:
    return base64.urlsafe_b64encode(payload).decode().rstrip("=")


def test_what_encode_writes_decodes() -> None:
    for keys in ([], [0], [1, 2, 3], [MAX_KEY - 1] * MAX_CURSOR_ITEMS):
        assert decode_cursor(encode_cursor(keys)) == tuple(keys)


@pytest.mark.parametrize(
    "payload",
    [
        b'{"v":1,"seen":[' + str(2**64).encode() + b"]}",
        b'{"v":1,"seen":[' + str(2**63).encode() + b"]}",
        b'{"v":1,"seen":[' + str(MAX_KEY).encode() + b"]}",
        b'{"v":1,"seen":[-1]}',
        b'{"v":1,"seen":[007]}',
        b'{"v":1,"seen":[1.5]}',
        b'{"v":1,"seen":[true]}',
        b'{"v":2,"seen":[1]}',
        b'{"v":1, "seen":[1]}',
        b'{"seen":[1],"v":1}',
        b'{"v":1,"seen":[1],"x":0}',
        b"[" * 1500 + b"]" * 1500,
        b'{"v":1,"seen":' + b"[" * 1500 + b"]" * 1500 + b"}",
        b"\xff\xfe",
        b"",
    ],
)
def test_crafted_cursors_are_refused(payload: bytes) -> None:
    with pytest.raises(InvalidInput, match="not one this service returned"):
        decode_cursor(_b64(payload))


@pytest.mark.parametrize("cursor", ["garbage!", "é", "a" * 5, "=" * 8])
def test_cursors_that_are_not_base64_are_refused(cursor: str) -> None:
    with pytest.raises(InvalidInput):
        decode_cursor(cursor)


def test_size_is_bounded_before_decoding() -> None:
    started = time.perf_counter()
    with pytest.raises(InvalidInput, match="longer than"):
        decode_cursor("A" * 10_000_000)
    assert time.perf_counter() - started < 0.5
    past = encode_cursor(list(range(MAX_CURSOR_ITEMS + 1)))
    assert len(past) <= MAX_CURSOR_LENGTH
    with pytest.raises(InvalidInput, match="start again"):
        RelatedQuery(cursor=past)


def test_the_documented_shape_is_what_encode_writes() -> None:
    raw = base64.urlsafe_b64decode(encode_cursor([5, 7]) + "==")
    assert json.loads(raw) == {"v": 1, "seen": [5, 7]} and raw == b'{"v":1,"seen":[5,7]}'
