"""Both blocks of a page as an HTML fragment (GET /articles/{id}/blocks.html), for a CMS or an edge
that includes HTML rather than running a script.

The markup is the widget's (service/static/widget.js renders the same elements, classes and
attributes in the same order from the same JSON body), so a page looks the same either way and one
stylesheet (GET /widget.css) themes both. It is rendered from the JSON body of the blocks endpoint
(service/render.py), so the two can never list different items. Every value is HTML-escaped, and a
link is only ever an http(s) URL or a site path.
"""

from __future__ import annotations

import re
from html import escape
from typing import Any

RELATED_HEADING = "Related Stories"
SECTION_HEADING = "More in {section}"
SECTION_HEADING_NONE = "More stories"
_SAFE_HREF = re.compile(r"^(https?://|/(?!/))", re.IGNORECASE)


def _attr(value: str) -> str:
    return escape(value, quote=True)


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def safe_href(url: Any) -> str | None:
    """`url` when it may be a link or an image source: http(s) or a path on the site."""
    return url if isinstance(url, str) and _SAFE_HREF.match(url) else None


def _item(item: dict[str, Any]) -> str:
    parts = [f'<li class="recsys-item" data-recsys-id="{_attr(str(item["id"]))}">']
    image = safe_href(item.get("image_url"))
    if image:
        src = _attr(image)
        parts.append(f'<img class="recsys-image" src="{src}" alt="" loading="lazy" decoding="async">')
    label = escape(_text(item.get("title")) or _text(item.get("url")) or str(item["id"]), quote=False)
    href = safe_href(item.get("url"))
    if href:
        parts.append(f'<a class="recsys-link" href="{_attr(href)}">{label}</a>')
    else:
        parts.append(f'<span class="recsys-link">{label}</span>')
    author, published = _text(item.get("author")), _text(item.get("published_at"))
    if author or published:
        parts.append('<span class="recsys-meta">')
        if author:
            parts.append(f'<span class="recsys-author">{escape(author, quote=False)}</span>')
        if published:
            day = escape(published[:10], quote=False)
            parts.append(f'<time class="recsys-date" datetime="{_attr(published)}">{day}</time>')
        parts.append("</span>")
    parts.append("</li>")
    return "".join(parts)


def _block(kind: str, heading: str, items: list[dict[str, Any]]) -> str:
    return (
        f'<section class="recsys-block recsys-block--{kind}" aria-label="{_attr(heading)}">'
        f'<h2 class="recsys-heading">{escape(heading, quote=False)}</h2>'
        f'<ul class="recsys-list">{"".join(_item(i) for i in items)}</ul></section>'
    )


def section_heading(items: list[dict[str, Any]]) -> str:
    """ "More in <section>": every item of that block is from the article's section."""
    section = _text(items[0].get("section")) if items else None
    return SECTION_HEADING.format(section=section) if section else SECTION_HEADING_NONE


def blocks_html(body: dict[str, Any]) -> str:
    """The fragment for a blocks body (render.blocks_body); a block without items is left out."""
    related = body["related"]["items"]
    in_section = body["more_in_section"]["items"]
    blocks = []
    if related:
        blocks.append(_block("related", RELATED_HEADING, related))
    if in_section:
        blocks.append(_block("section", section_heading(in_section), in_section))
    article = body.get("article_id")
    named = f' data-recsys-article="{_attr(article)}"' if article else ""
    return f'<div class="recsys-blocks" data-recsys-state="loaded"{named}>{"".join(blocks)}</div>\n'
