"""The HTML fragment of both blocks of a page: the widget's markup, every value escaped.

Served at GET /articles/{id}/blocks.html, for a CMS or an edge that includes HTML rather than
running a script.

The markup is the widget's (service/static/widget.js renders the same elements, classes and
attributes in the same order from the same JSON body), so a page looks the same either way and one
stylesheet (GET /widget.css) themes both. It is rendered from the JSON body of the blocks endpoint
(service/render.py), so the two can never list different items. Every value is HTML-escaped, and a
link is only ever an http(s) URL or a site path.

Each title carries its item's `language` as `lang` (fonts, hyphenation, screen readers) and a `dir`:
"rtl" for a language written right to left, else "auto" (the browser takes the direction from the
first strong letter, so a Chinese or an unlabelled Hebrew title still reads right). The blocks keep
the page's own direction: only the titles turn. The widget has the same rule (RTL_LANGUAGES and
RTL_SCRIPTS reach it through service/widget.py).

The data attributes are what GET /events.js (service/static/events.js) reports impressions and clicks
with: the container's article, index version, experiment and arm, each block's name and each item's
position (and arm, under interleaving).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from html import escape
from typing import Any

RELATED_HEADING = "Related Stories"
SECTION_HEADING = "More in {section}"  # {section}: the name of the article's section
MAX_HEADING_LENGTH = 200
_SAFE_HREF = re.compile(r"^(https?://|/(?!/))", re.IGNORECASE)


# Languages written right to left (ISO 639 codes) and right-to-left scripts (ISO 15924): a tag's
# script subtag decides when it has one ("az-Arab" is right to left, "ur-Latn" is not), else its
# language. Only a known language turns a title: a tag this list lacks gets "auto", which reads the
# text itself.
RTL_LANGUAGES = frozenset(
    {"ar", "arc", "azb", "ckb", "dv", "fa", "he", "iw", "ji", "ks", "lrc", "mzn", "nqo", "pnb", "ps", "sd"}
    | {"syr", "ug", "ur", "yi"}
)
RTL_SCRIPTS = frozenset({"Adlm", "Arab", "Hebr", "Mand", "Nkoo", "Rohg", "Samr", "Syrc", "Thaa", "Yezi"})
_LANGUAGE = re.compile(r"[A-Za-z0-9]{1,8}(-[A-Za-z0-9]{1,8})*")
_SCRIPT = re.compile(r"[A-Za-z]{4}")


def language_of(value: Any) -> str | None:
    """`value` when it may be a `lang` attribute: a BCP 47 tag's shape (the API's are normalised)."""
    return value if isinstance(value, str) and _LANGUAGE.fullmatch(value) else None


def direction(language: str | None) -> str:
    """The `dir` of a title in `language`: "rtl" when it is written right to left, else "auto"."""
    if language is None:
        return "auto"
    subtags = language.split("-")
    for subtag in subtags[1:]:
        if len(subtag) == 1:  # an extension or private use: no script beyond it
            break
        if _SCRIPT.fullmatch(subtag):
            return "rtl" if subtag.title() in RTL_SCRIPTS else "auto"
    return "rtl" if subtags[0].lower() in RTL_LANGUAGES else "auto"


def _attr(value: str) -> str:
    return escape(value, quote=True)


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def safe_href(url: Any) -> str | None:
    """`url` when it may be a link or an image source: http(s) or a path on the site."""
    return url if isinstance(url, str) and _SAFE_HREF.match(url) else None


def _item(item: dict[str, Any], position: int) -> str:
    arm = _text(item.get("arm"))
    armed = f' data-recsys-arm="{_attr(arm)}"' if arm else ""
    parts = [
        f'<li class="recsys-item" data-recsys-id="{_attr(str(item["id"]))}"'
        f' data-recsys-position="{position}"{armed}>'
    ]
    image = safe_href(item.get("image_url"))
    if image:
        src = _attr(image)
        parts.append(f'<img class="recsys-image" src="{src}" alt="" loading="lazy" decoding="async">')
    title = _text(item.get("title"))
    label = escape(title or _text(item.get("url")) or str(item["id"]), quote=False)
    # The language names the title: a URL or an id shown in its place has none.
    language = language_of(item.get("language")) if title else None
    spoken = f' lang="{_attr(language)}"' if language else ""
    text = f'{spoken} dir="{direction(language)}">{label}'
    href = safe_href(item.get("url"))
    if href:
        parts.append(f'<a class="recsys-link" href="{_attr(href)}"{text}</a>')
    else:
        parts.append(f'<span class="recsys-link"{text}</span>')
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
        f'<section class="recsys-block recsys-block--{kind}" aria-label="{_attr(heading)}"'
        f' data-recsys-block="{kind}"><h2 class="recsys-heading">{escape(heading, quote=False)}</h2>'
        f'<ul class="recsys-list">{"".join(_item(item, n) for n, item in enumerate(items))}</ul></section>'
    )


@dataclass(frozen=True)
class Headings:
    """The blocks' headings, in the page's language (`heading_related`, `heading_section`)."""

    related: str = RELATED_HEADING
    section: str = SECTION_HEADING

    def for_section(self, items: list[dict[str, Any]]) -> str:
        # Every item of that block is from the article's section. A plain replace, not str.format:
        # the template comes from the request, and a stray brace must not fail it.
        return self.section.replace("{section}", _text(items[0].get("section")) or "").strip()


def blocks_html(body: dict[str, Any], headings: Headings = Headings()) -> str:
    """The fragment for a blocks body (render.blocks_body); a block without items is left out."""
    related = body["related"]["items"]
    in_section = body["more_in_section"]["items"]
    blocks = []
    if related:
        blocks.append(_block("related", headings.related, related))
    if in_section:
        blocks.append(_block("section", headings.for_section(in_section), in_section))
    article = body.get("article_id")
    named = f' data-recsys-article="{_attr(article)}"' if article else ""
    # As the widget marks the container it rendered: what events.js reports with.
    served = (
        f' data-recsys-version="{_attr(str(body["index_version"]))}"'
        f' data-recsys-experiment="{_attr(_text(body.get("experiment")) or "")}"'
        f' data-recsys-arm="{_attr(_text(body.get("arm")) or "default")}"'
    )
    return f'<div class="recsys-blocks" data-recsys-state="loaded"{named}{served}>{"".join(blocks)}</div>\n'
