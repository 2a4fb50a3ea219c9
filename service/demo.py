"""The demo pages at /demo (RECSYS_DEMO_PAGES, off by default; `make demo` turns it on).

Two pages: an index of the catalog's
articles at GET /demo and an article page at GET /demo/articles/{id} showing the article's text and
both blocks through the widget, as a reader of a publisher's site would see them.

They read the catalog directly and are meant for a demo corpus, not for production traffic. An
article page takes `api` (where the widget calls; default: this service), which lets a test point the
widget at a service that is down while the page itself is served.
"""

from __future__ import annotations

import re
from html import escape
from itertools import islice
from typing import Annotated

from fastapi import APIRouter, Path, Query
from fastapi.responses import HTMLResponse

from recsys.errors import ArticleNotFound, InvalidInput
from service.deps import State
from service.fragment import direction, language_of
from service.widget import STATIC, versioned_path

router = APIRouter(prefix="/demo", include_in_schema=False)

INDEX_SIZE = 60
_API = re.compile(r"^https?://[A-Za-z0-9.\-\[\]:]+$")

_STYLE = (STATIC / "demo.css").read_text(encoding="utf-8")


def _spoken(language: str | None) -> str:
    """The `lang` and `dir` of text in `language`, as the blocks' titles carry them."""
    known = language_of(language)
    return (f' lang="{escape(known)}"' if known else "") + f' dir="{direction(known)}"'


def _page(title: str, content: str) -> HTMLResponse:
    return HTMLResponse(
        "<!doctype html>\n"
        f'<html lang="en"><head><meta charset="utf-8"><title>{escape(title)}</title>'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<style>{_STYLE}</style></head><body>"
        '<header class="site"><a href="/demo">The Example Gazette</a> '
        '<span style="opacity:.7;font-weight:400">(recsys demo)</span></header>'
        f"<main>{content}</main></body></html>\n"
    )


@router.get("", response_class=HTMLResponse)
def demo_index(state: State) -> HTMLResponse:
    catalog = state.query_side.catalog
    newest = sorted(catalog.iter_all("published"), key=lambda s: s.article.published_at or "", reverse=True)
    rows = "".join(
        f'<li><a href="/demo/articles/{escape(s.id)}"{_spoken(s.article.language)}>'
        f"{escape(s.article.title or s.id)}</a> "
        f'<span class="section">{escape(s.article.section or "")} '
        f"{escape((s.article.published_at or '')[:10])}</span></li>"
        for s in islice(newest, INDEX_SIZE)
    )
    return _page("recsys demo", f'<h1>Latest stories</h1><ol class="index">{rows}</ol>')


@router.get("/articles/{article_id:path}", response_class=HTMLResponse)
def demo_article(
    state: State,
    article_id: Annotated[str, Path(max_length=512)],
    api: Annotated[str | None, Query(max_length=200, description="where the widget calls")] = None,
) -> HTMLResponse:
    if api is not None and not _API.match(api):
        raise InvalidInput("query.api: expected an http(s) origin such as http://127.0.0.1:8000")
    stored = state.query_side.catalog.get(article_id)
    if stored.status != "published":
        raise ArticleNotFound(article_id)
    article = stored.article
    paragraphs = "".join(f"<p>{escape(p.strip())}</p>" for p in (article.body or "").split("\n") if p.strip())
    byline = " · ".join(escape(part) for part in (article.author, (article.published_at or "")[:10]) if part)
    api_attr = f' data-recsys-api="{escape(api)}"' if api else ""
    spoken = _spoken(article.language)
    content = (
        f'<article><div class="kicker">{escape(article.section or "")}</div>'
        f"<h1{spoken}>{escape(article.title or article.id)}</h1>"
        f'<div class="byline">{byline}</div><div class="text"{spoken}>{paragraphs}</div></article>'
        # The reserved height fits both blocks at these limits: nothing below moves when they arrive.
        f'<aside><div class="recsys-blocks" data-recsys-article="{escape(article.id)}"'
        f' data-recsys-limit="5" data-recsys-section-limit="5"{api_attr}'
        ' style="min-height: 44rem"></div></aside>'
        f'<script src="{versioned_path("widget.js", state)}" async></script>'
    )
    return _page(article.title or article.id, content)
