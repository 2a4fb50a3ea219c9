"""One renderer of list bodies, for every list endpoint and `recsys related --json` (orjson).

Bodies are plain dicts serialised with orjson (the response models in
service/schemas.py document the same shapes in OpenAPI): at page-view rates, building and validating
pydantic models for every item costs more than the ranking."""

from __future__ import annotations

from typing import Any

import orjson
from fastapi import Response

from recsys.serving.recommend import Blocks
from recsys.serving.types import RankedList, Recommendation


def item(rec: Recommendation) -> dict[str, Any]:
    """One listed story as the API shows it; under interleaving, with the arm that contributed it."""
    article_id, url, title, section, published_at, image_url, author, language = rec.fields()
    shown = {
        "id": article_id,
        "url": url,
        "title": title,
        "section": section,
        "published_at": published_at,
        "image_url": image_url,
        "author": author,
        "language": language,
        "score": round(rec.score, 6),
        "reason": rec.reason,
    }
    if rec.arm is not None:
        shown["arm"] = rec.arm
    return shown


def related_body(article_id: str, index_version: str, ranked: RankedList) -> dict[str, Any]:
    return {
        "article_id": article_id,
        "index_version": index_version,
        "arm": ranked.arm,
        "experiment": ranked.experiment,
        "items": [item(i) for i in ranked.items],
        "collapsed": ranked.collapsed,
        "next_cursor": ranked.next_cursor,
    }


def _block(ranked: RankedList) -> dict[str, Any]:
    return {"items": [item(i) for i in ranked.items], "collapsed": ranked.collapsed}


def blocks_body(article_id: str | None, index_version: str, blocks: Blocks) -> dict[str, Any]:
    return {
        "article_id": article_id,
        "index_version": index_version,
        "arm": blocks.arm,
        "experiment": blocks.experiment,
        "related": _block(blocks.related),
        "more_in_section": _block(blocks.more_in_section),
        "next_cursor": blocks.next_cursor,
    }


def dumps(body: dict[str, Any], *, indent: bool = False) -> bytes:
    """The bytes of a body: the API sends them compact; `recsys related --json` indents the same."""
    return orjson.dumps(body, option=orjson.OPT_INDENT_2 if indent else 0)


def json_response(body: dict[str, Any], headers: dict[str, str] | None = None) -> Response:
    return Response(dumps(body), media_type="application/json", headers=headers)
