"""The ``html`` kind: a website of HTML statement pages, read with the seed's CSS selectors.

Discovery walks listing pages, reads sitemaps and feeds (:mod:`crawler.walk`, as each of the
seed's ``[listing]``, ``[sitemap]`` and ``[feed]`` turns it on); a statement page becomes a
document by :func:`crawler.parse.parse_many` (bodies converted in batches). A page may name a
stable id for its statement (a WordPress post id in ``<link rel="shortlink" href="/?p=N">``):
``[selectors.article] stable_id`` and ``stable_id_pattern`` say where (none by default).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from bs4 import BeautifulSoup, Tag

from crawler.fetch import Response
from crawler.kinds.base import Extracted, Fetched, Kind, Method, Parsed, register
from crawler.pagecut import PageTree, Unsupported
from crawler.parse import Page, parse_many
from crawler.source import Source
from crawler.tomlconfig import Context
from crawler.walk import read_feeds, read_sitemaps, walk_listing
from storage.document import Statement

ACCEPT = ""  # no Accept header: pages, sitemaps and feeds are asked for as they always were


def extract(items: Sequence[Fetched], source: Source) -> list[Extracted]:
    """Statement pages, parsed at the URL that answered, bodies converted together."""
    pages = [Page(i.response.html, i.response.url, i.published) for i in items]
    results: list[Extracted] = []
    for item, result in zip(items, parse_many(pages, source), strict=True):
        if isinstance(result, Statement):
            results.append(Parsed(result, stable_id(item.response.content, source)))
        else:
            results.append(result)
    return results


def stable_id(html: bytes, source: Source) -> str | None:
    """The page's stable id, where the seed says: the element's ``href``, ``content`` or text,
    through ``stable_id_pattern`` (its first group, else the whole match) when given."""
    selectors = source.selectors.article if source.selectors else None
    if selectors is None or not selectors.stable_id:
        return None
    tag = _first(html, selectors.stable_id)
    if tag is None:
        return None
    value = tag.get("href") or tag.get("content") or tag.get_text()
    text = value.strip() if isinstance(value, str) else ""
    if selectors.stable_id_pattern:
        match = re.search(selectors.stable_id_pattern, text)
        if match is None:
            return None
        text = match.group(1) if match.groups() else match.group()
    return text or None


def _first(html: bytes, selector: str) -> Tag | None:
    """The first element ``selector`` matches, found by lxml (:mod:`crawler.pagecut`), else in a
    whole BeautifulSoup tree."""
    try:
        element = PageTree(html).select_one(selector)
        return None if element is None else PageTree.soup(element)
    except Unsupported:
        tag = BeautifulSoup(html, "lxml").select_one(selector)
        return tag if isinstance(tag, Tag) else None


def refuse(response: Response) -> str | None:
    """An HTML page, or a reply that does not say what it is, is read; anything else is not."""
    if response.is_html:
        return None
    return f"not an HTML page ({response.headers.get('content-type')})"


def check(source: Source, ctx: Context) -> None:
    if source.selectors is None:
        raise ctx.fail("selectors.article", "selectors for statement pages (an html source)")
    if source.listing is not None and source.selectors.listing is None:
        raise ctx.fail("selectors.listing", "selectors for listing items, since listing is on")
    pattern = source.selectors.article.stable_id_pattern
    try:
        re.compile(pattern)
    except re.error as exc:
        raise ctx.fail(
            "selectors.article.stable_id_pattern", f"a regular expression ({exc})", pattern
        ) from None


HTML = register(
    Kind(
        name="html",
        extract=extract,
        discovery=(
            Method(
                "listing",
                lambda fetcher, source, result, walk: walk_listing(
                    fetcher, source, result, walk.known, walk.full, walk.since
                ),
                lambda source: source.listing is not None,
            ),
            Method(
                "sitemap",
                lambda fetcher, source, result, walk: read_sitemaps(
                    fetcher, source, result, walk.seen
                ),
                lambda source: source.sitemap is not None,
            ),
            Method(
                "feed",
                lambda fetcher, source, result, walk: read_feeds(fetcher, source, result),
                lambda source: source.feed is not None,
            ),
        ),
        refuse=refuse,
        accept=ACCEPT,
        rate=1.0,
        check=check,
        description="a website of HTML pages, read with CSS selectors",
    )
)
