"""Discovery's parsers: listing pages, sitemaps and feeds in, statement URLs out.

Everything here is pure (bytes or text in, frozen dataclasses out): fetching, politeness and
deciding what to do with an empty result belong to the caller. A URL is kept only if it is a
statement URL of the source once Wayback-unwrapped and made absolute; every other URL is dropped
and reported in ``rejected`` (other hosts, ``file://``, ``javascript:``, local addresses...).
"""

from __future__ import annotations

import logging
import re
import unicodedata
import warnings
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urljoin, urlsplit

from bs4 import BeautifulSoup, Tag, UnusualUsageWarning
from lxml import etree

from crawler.errors import DiscoveryError, SourceError
from crawler.pagecut import PageTree, Unsupported, supported
from crawler.source import ListingSelectors, Source

log = logging.getLogger(__name__)

_WAYBACK = re.compile(r"https?://web\.archive\.org/web/\d{1,14}(?:[a-z]{2}_)?/+(.+)", re.I)
_PAGE_OF = re.compile(r"\bPage\s+(\d+)\s+of\s+(\d+)\b", re.I)


@dataclass(frozen=True)
class Found:
    """One statement URL found by discovery."""

    url: str  # canonical, on source.origin, Wayback-unwrapped, without fragment
    title: str | None = None
    published: datetime | None = None  # aware
    category: str | None = None  # a category slug, e.g. "briefings-statements"
    lastmod: datetime | None = None  # aware; from sitemaps
    via: str = "listing"  # "listing" | "sitemap" | "feed"


@dataclass(frozen=True)
class ListingPage:
    items: tuple[Found, ...]
    next_url: str | None  # on the source's origin; None on the last page
    page: int | None  # N of "Page N of M"
    pages: int | None  # M
    rejected: tuple[str, ...] = ()


@dataclass(frozen=True)
class SitemapDoc:
    sitemaps: tuple[tuple[str, datetime | None], ...]  # child sitemaps of an index, with lastmod
    urls: tuple[Found, ...]  # url entries (via="sitemap")
    rejected: tuple[str, ...] = ()
    dropped: int = 0  # url entries past ``max_urls``, not read


def unwrap_wayback(url: str) -> str:
    """``https://web.archive.org/web/<timestamp>[xx_]/<original>`` -> ``<original>``."""
    match = _WAYBACK.fullmatch(url.strip())
    if match is None:
        return url
    original = match[1]
    scheme = re.match(r"(https?):/*", original, re.I)
    if scheme is None:  # Wayback also accepts a bare host: web/2025.../www.example.gov/x
        return f"http://{original}"
    return f"{scheme[1].lower()}://{original[scheme.end() :]}"


# -- URLs -------------------------------------------------------------------------------------


def _resolve(href: str, base: str) -> str | None:
    """An absolute, Wayback-unwrapped URL, or None if it cannot be parsed."""
    try:
        url = unwrap_wayback(urljoin(base, href.strip()))
        urlsplit(url)  # raises on a broken host such as "http://[::1"
    except ValueError:
        return None
    return url


def _statement(href: str, base: str, source: Source) -> tuple[str, re.Match[str]] | None:
    """(canonical URL, match) if ``href`` is a statement URL of the source."""
    url = _resolve(href, base)
    match = source.statement_match(url) if url is not None else None
    if url is None or match is None:
        return None
    return source.canonical(url), match


def _slug(text: str) -> str | None:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-") or None


def _pick_category(slugs: list[str], match: re.Match[str]) -> str | None:
    """The slug the URL itself names (the ``tags`` group) if present, else the first."""
    tags = match.groupdict().get("tags")
    if tags in slugs:
        return tags
    return slugs[0] if slugs else None


# -- dates ------------------------------------------------------------------------------------


def _date(text: str | None, default_tz: tzinfo) -> datetime | None:
    """An ISO 8601 or RFC 822 date, made aware with ``default_tz`` when it has no offset."""
    if not text or not text.strip():
        return None
    text = text.strip()
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        try:
            value = parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError, OverflowError):
            log.debug("unreadable date %r", text)
            return None
    return value if value.tzinfo is not None else value.replace(tzinfo=default_tz)


# -- listing pages ----------------------------------------------------------------------------


def _soup(html: str | bytes) -> BeautifulSoup:
    # Not-HTML input (a bare URL, an XML document) makes bs4 warn; it is handled as "no items".
    # (catch_warnings is process-wide: at worst another thread misses one such bs4 warning.)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UnusualUsageWarning)
        return BeautifulSoup(html, "lxml")


class _Listing:
    """A listing page as :func:`parse_listing` reads it: the BeautifulSoup trees of its items,
    its ``<title>`` and single parts (the next link, the pagination nav).

    lxml finds them (:class:`crawler.pagecut.PageTree`: a listing page is ~130 KB of which ten
    items are read) and bs4 gets only those parts. The selectors of an item's parts (link, date,
    category) are matched in the whole page, as soupsieve matches them from an item (a selector
    may name the item's ancestors), and their matches inside the item kept. A selector lxml
    cannot match as soupsieve does, or hostile nesting, makes it a whole BeautifulSoup tree.
    """

    def __init__(self, html: str | bytes, sel: ListingSelectors) -> None:
        self.tree: PageTree | None = None
        self.soup: BeautifulSoup | None = None
        wanted = [s for s in (sel.item, sel.next, sel.pagination, sel.link) if s]
        wanted += [s for s in (sel.published, sel.category) if s]
        self.matches: dict[str, list[Any]] = {}
        try:
            if not all(supported(s) for s in wanted):
                raise Unsupported("a listing selector lxml cannot match")
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", UnusualUsageWarning)
                self.tree = PageTree(html)
        except Unsupported:
            self.soup = _soup(html)

    def items(self, selector: str) -> list[Any]:
        """The items: lxml elements, or bs4 tags of a whole tree (read with :meth:`inner`)."""
        if self.tree is None:
            assert self.soup is not None
            return list(self.soup.select(selector))
        return self.tree.select(selector)

    def inner(self, item: Any, selector: str) -> list[Tag]:
        """The elements inside ``item`` that ``selector`` matches, in document order."""
        if not selector:
            return []
        if self.tree is None:
            return list(item.select(selector))
        if selector not in self.matches:
            self.matches[selector] = self.tree.select(selector)
        inside = (e for e in self.matches[selector] if item in e.iterancestors())
        return [PageTree.soup(element) for element in inside]

    def classes(self, item: Any) -> list[str]:
        if self.tree is None:
            return list(item.get_attribute_list("class"))
        return str(item.get("class") or "").split()

    def one(self, selector: str) -> Tag | None:
        if self.tree is None:
            assert self.soup is not None
            return self.soup.select_one(selector)
        element = self.tree.select_one(selector)
        return None if element is None else PageTree.soup(element)

    def title(self) -> str:
        if self.tree is None:
            assert self.soup is not None
            return self.soup.title.get_text() if self.soup.title is not None else ""
        root = self.tree.root
        element = next(root.iter("title"), None) if root is not None else None
        return "" if element is None else PageTree.soup(element).get_text()


def _attr(tag: Tag | None, name: str) -> str | None:
    value = tag.get(name) if tag is not None else None
    return value if isinstance(value, str) else None


def _text(tag: Tag | None) -> str | None:
    if tag is None:
        return None
    return " ".join(tag.get_text().split()) or None


def parse_listing(html: str | bytes, url: str, source: Source) -> ListingPage:
    """The statements of one listing page, its next page and its "Page N of M"."""
    sel = source.selectors.listing if source.selectors is not None else None
    if sel is None:
        raise SourceError("no [selectors.listing] to read listing pages with", where=source.path)
    page_parts = _Listing(html, sel)
    items: dict[str, Found] = {}  # by URL: a statement listed twice is kept once
    rejected: list[str] = []
    for node in page_parts.items(sel.item):
        link = _first(page_parts.inner(node, sel.link))
        href = _attr(link, "href")
        if href is None:
            log.warning("%s: a listing item without a link (%s)", url, sel.link)
            continue
        hit = _statement(href, url, source)
        if hit is None:
            rejected.append(_resolve(href, url) or href)
        elif hit[0] not in items:
            time = _first(page_parts.inner(node, sel.published))
            published = _date(_attr(time, "datetime"), source.tz)
            category = _listing_category(page_parts, node, sel, url, source, hit[1])
            items[hit[0]] = Found(hit[0], _text(link), published, category)
    page, pages = _page_numbers(page_parts, sel)
    next_url = _next_url(page_parts, sel, page, url, source, rejected)
    log.debug("%s: %d items, %d rejected, next %s", url, len(items), len(rejected), next_url)
    return ListingPage(tuple(items.values()), next_url, page, pages, tuple(rejected))


def _first(tags: list[Tag]) -> Tag | None:
    return tags[0] if tags else None


def _listing_category(
    page: _Listing,
    node: Any,
    sel: ListingSelectors,
    base: str,
    source: Source,
    match: re.Match[str],
) -> str | None:
    slugs: list[str] = []
    for link in page.inner(node, sel.category) if sel.category else ():
        href = _attr(link, "href")
        url = _resolve(href, base) if href is not None else None
        segments = [s for s in urlsplit(url).path.split("/") if s] if url else []
        if url and source.allows(url) and segments:
            slugs.append(segments[-1])
    if not slugs:
        classes = page.classes(node)
        slugs = [c.removeprefix("category-") for c in classes if c.startswith("category-")]
    return _pick_category([s for s in slugs if s], match)


def _pagination(page: _Listing, sel: ListingSelectors) -> Tag | None:
    return page.one(sel.pagination) if sel.pagination else None


def _page_numbers(page: _Listing, sel: ListingSelectors) -> tuple[int | None, int | None]:
    """From the <title> ("Page 2 of 12"), else from the pagination nav."""
    match = _PAGE_OF.search(page.title())
    if match:
        return int(match[1]), int(match[2])
    nav = _pagination(page, sel)
    if nav is None:
        return None, None
    current = _number(_text(nav.select_one('[aria-current="page"], .current')))
    numbers = [n for n in (_number(_text(el)) for el in nav.select("a, span")) if n is not None]
    return current, max(numbers, default=current)


def _number(text: str | None) -> int | None:
    digits = (text or "").replace(",", "")
    return int(digits) if re.fullmatch(r"[0-9]{1,9}", digits) else None


def _next_url(
    listing: _Listing,
    sel: ListingSelectors,
    page: int | None,
    base: str,
    source: Source,
    rejected: list[str],
) -> str | None:
    """``selectors.next``, else the pagination nav's link to page N+1."""
    href = _attr(listing.one(sel.next), "href") if sel.next else None
    nav = _pagination(listing, sel)
    if href is None and nav is not None and page is not None:
        links = (a for a in nav.select("a[href]") if _text(a) == str(page + 1))
        href = _attr(next(links, None), "href")
    if href is None:
        return None
    url = _resolve(href, base)
    if url is None or not source.allows(url):
        rejected.append(url or href)
        return None
    return source.canonical(url)


# -- XML: sitemaps and feeds ------------------------------------------------------------------


def _gunzip(data: bytes, url: str, max_bytes: int) -> bytes:
    too_big = DiscoveryError(
        f"more than {max_bytes:,} bytes of XML",
        where=url,
        hint="refused as a possible gzip bomb; raise max_bytes if the sitemap is genuine",
    )
    if data[:2] != b"\x1f\x8b":  # not gzip
        if len(data) > max_bytes:
            raise too_big
        return data
    inflater = zlib.decompressobj(wbits=31)
    try:
        out = inflater.decompress(data, max_bytes + 1)
    except zlib.error as exc:
        raise DiscoveryError(f"broken gzip data: {exc}", where=url) from None
    if len(out) > max_bytes:
        raise too_big
    if not inflater.eof:
        raise DiscoveryError("truncated gzip data", where=url, hint="an interrupted download?")
    return out


def _xml(data: bytes, url: str, what: str, roots: tuple[str, ...]) -> Any:
    """The root element, if it is one of ``roots``. Entities are never expanded (XXE, bombs)."""
    parser = etree.XMLParser(
        resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False
    )
    try:
        root = etree.fromstring(data, parser, base_url=url)
    except (etree.XMLSyntaxError, ValueError) as exc:
        problem = f"not valid XML ({exc})"
    else:
        if _local(root) in roots:
            return root
        problem = f"the root element is <{_local(root)}>"
    raise DiscoveryError(
        f"not a {what}: {problem}",
        where=url,
        hint=f"expected <{'> or <'.join(roots)}>; the server may answer with an HTML page",
    )


def _local(element: Any) -> str:
    return str(etree.QName(element).localname) if isinstance(element.tag, str) else ""


def _child_text(element: Any, name: str) -> str | None:
    child = element.find(f"{{*}}{name}")
    return str(child.text).strip() if child is not None and child.text else None


def parse_sitemap(
    data: bytes,
    url: str,
    source: Source,
    *,
    max_bytes: int = 50_000_000,
    max_urls: int = 50_000,
) -> SitemapDoc:
    """A sitemap index (its child sitemaps) or a urlset (its statement URLs); gzip allowed.
    Only the first ``max_urls`` url entries are read; the rest are counted in ``dropped``."""
    root = _xml(_gunzip(data, url, max_bytes), url, "sitemap", ("sitemapindex", "urlset"))
    kind = _local(root)
    sitemaps: list[tuple[str, datetime | None]] = []
    found: dict[str, Found] = {}
    rejected: list[str] = []
    entries = _entries(root, "sitemap" if kind == "sitemapindex" else "url", url)
    for taken, (loc, lastmod) in enumerate(entries):
        if kind == "urlset" and taken >= max_urls:
            dropped = 1 + sum(1 for _ in entries)  # this entry and the rest
            log.debug("%s: %d url entries past the first %d dropped", url, dropped, max_urls)
            return SitemapDoc((), tuple(found.values()), tuple(rejected), dropped)
        if kind == "sitemapindex":
            child = _child_sitemap(loc, url, source)
            if child is None:
                rejected.append(_resolve(loc, url) or loc)
            else:
                sitemaps.append((child, lastmod))
        elif (hit := _statement(loc, url, source)) is None:
            rejected.append(_resolve(loc, url) or loc)
        else:
            found.setdefault(hit[0], Found(hit[0], lastmod=lastmod, via="sitemap"))
    log.debug(
        "%s: %d sitemaps, %d urls, %d rejected", url, len(sitemaps), len(found), len(rejected)
    )
    return SitemapDoc(tuple(sitemaps), tuple(found.values()), tuple(rejected))


def _entries(root: Any, name: str, url: str) -> Iterator[tuple[str, datetime | None]]:
    for entry in root.iterchildren(f"{{*}}{name}"):
        loc = _child_text(entry, "loc")
        if loc is None:
            log.debug("%s: a <%s> without <loc>", url, name)
            continue
        yield loc, _date(_child_text(entry, "lastmod"), UTC)


def _child_sitemap(loc: str, base: str, source: Source) -> str | None:
    url = _resolve(loc, base)
    if url is None or not source.allows(url):
        return None
    include = source.sitemap.include if source.sitemap is not None else ""
    if include and not re.search(include, url):
        return None
    return source.canonical(url)


_FEED_DATES = ("pubdate", "published", "date", "issued", "updated")


def parse_feed(data: bytes, url: str, source: Source) -> tuple[Found, ...]:
    """The statement URLs of an RSS (0.9x, 1.0, 2.0) or Atom feed, newest as the feed orders."""
    root = _xml(data, url, "feed", ("rss", "feed", "RDF"))
    found: dict[str, Found] = {}
    for entry in root.iter("{*}item", "{*}entry"):
        item = _feed_entry(entry, url, source)
        if item is not None:
            found.setdefault(item.url, item)
    return tuple(found.values())


def _feed_entry(entry: Any, base: str, source: Source) -> Found | None:
    children: dict[str, list[Any]] = {}
    for child in entry.iterchildren():
        children.setdefault(_local(child).lower(), []).append(child)
    href = _feed_link(children)
    hit = _statement(href, entry.base or base, source) if href else None
    if hit is None:
        log.debug("%s: feed item rejected: %r", base, href)
        return None
    titles = children.get("title", [])
    title = " ".join("".join(titles[0].itertext()).split()) if titles else ""
    dates = (el.text for name in _FEED_DATES for el in children.get(name, ()))
    published = next((d for d in (_date(t, UTC) for t in dates) if d is not None), None)
    slugs = [_slug(el.get("term") or el.text or "") for el in children.get("category", ())]
    category = _pick_category([s for s in slugs if s], hit[1])
    return Found(hit[0], title or None, published, category, via="feed")


def _feed_link(children: dict[str, list[Any]]) -> str | None:
    """RSS <link>text</link>, Atom <link rel="alternate" href>, else a permalink <guid>."""
    for link in children.get("link", ()):
        href = link.get("href") or link.text
        if link.get("rel", "alternate") == "alternate" and href and href.strip():
            return str(href).strip()
    for guid in children.get("guid", ()):
        if guid.get("isPermaLink", "true") != "false" and guid.text:
            return str(guid.text).strip()
    return None
