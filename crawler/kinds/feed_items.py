"""The ``feed_items`` kind: statements read from the items of RSS 2.0 / Atom feeds themselves.

Some publishers (WordPress sites: state.gov) put each statement whole in their feed: the item's
full content (RSS ``content:encoded``, Atom ``content``) is the statement's body. A source of this
kind reads its statements from the feed, not from pages:

- :func:`read_items` reads a feed document into :class:`FeedItem`s (or the refusal of an item):
  the title, the link (the statement URL, the archive's ``source_url``), the publication time
  (RSS ``pubDate``, Atom ``published``/``updated``, ``dc:date``) in the source's time zone, the
  body HTML made ready for the converter (:func:`prepare_body`: the seed's ``[selectors.article]
  remove`` and ``strip_attributes``, else :data:`REMOVE`/:data:`STRIP_ATTRIBUTES`; WordPress's
  "The post ... appeared first on ..." trailer dropped, :func:`drop_trailer`), the ``tags`` (a
  feed field named by the seed, ``category`` or ``dc:creator``, as a slug, else the seed's fixed
  ``tags``: never the URL), and the stable id from the GUID (:data:`WORDPRESS_ID`: ``?p=N`` or
  ``?page_id=N``), so that a slug change is a move, not a new statement.
- Discovery (:func:`read_feed_items`, the ``feed-items`` method) reads each feed of the seed and
  hands every item over whole (``Discovered.delivered``, see :mod:`crawler.syncer`): nothing is
  fetched per item. Each item carries a digest of what was read of it (:attr:`FeedItem.digest`),
  its validator: a sync converts and records only the items whose digest moved since their last
  check. There is no ``modified_time`` (feeds give none): an edit is a changed item, compared
  with what was recorded (the usual change kinds decide what changed).
- A feed shows only its newest items. With ``[sitemap]`` the ``sitemap`` method (the html kind's)
  pairs it with the site's sitemap: a statement the feed missed is still found, and fetched as a
  page, read with the seed's ``[selectors.article]`` as an html source's (its stable id from
  ``stable_id``/``stable_id_pattern``, its ``tags`` the seed's, not the URL's). A statement no
  longer in the sitemap is re-checked and, answering 404/410, removed; leaving the feed means
  nothing (the feed is not a place a statement is listed in for removals).
- :func:`extract`, the extractor: a reply is a feed (an item delivered by discovery, or a whole
  feed document: the item whose link is the statement URL is read) or a page; feed bodies are
  converted together.

Its options are the seed's ``[feed_items]`` table (:class:`FeedItemsOptions`); the kind is not
named ``feed``, which is the html kind's discovery table.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urljoin, urlsplit, urlunsplit

from bs4 import BeautifulSoup
from lxml import etree

from crawler.discover import Found
from crawler.errors import DiscoveryError, FetchError, NotAStatement
from crawler.fetch import Fetcher, Response
from crawler.kinds.base import (
    Extracted,
    Fetched,
    Kind,
    Method,
    Parsed,
    Walk,
    register,
    template_fetch_url,
)
from crawler.kinds.html import check as check_html
from crawler.kinds.html import stable_id as page_stable_id
from crawler.parse import Page, clean_body, convert_read, converter_of, document, one_line
from crawler.parse import parse_many as parse_pages
from crawler.source import Source
from crawler.tomlconfig import Context
from crawler.walk import Discovered, read_sitemaps
from storage.document import KeyOrder, Statement

#: A WordPress post or page id in a GUID (``https://www.state.gov/?page_id=320953``).
WORDPRESS_ID = r"[?&](?:p|page_id)=(\d+)"
#: What is removed from an item's body when the seed has no ``[selectors.article]``.
REMOVE: tuple[str, ...] = ("script", "style", "noscript")
STRIP_ATTRIBUTES: tuple[str, ...] = ("class", "data-*", "rel", "target")
#: WordPress's (and Yoast's) line at the end of a feed item's content, not the statement's.
TRAILER = re.compile(r"The post .+ appeared first on .+", re.DOTALL)
CONTENT_NS = "http://purl.org/rss/1.0/modules/content/"
_FEED_ROOTS = ("rss", "feed", "RDF")
_ITEMS = ("item", "entry")
_DATES = ("pubdate", "published", "date", "issued", "updated")


@dataclass(frozen=True)
class FeedItemsOptions:
    """The seed's ``[feed_items]`` table."""

    urls: tuple[str, ...] = ()  # the feeds, on the source's origin
    tags: str = ""  # the archive's tags: fixed (the feed's subject), or when tags_field is empty
    tags_field: str = ""  # an item field giving the tags (category, dc:creator), as a slug
    stable_id_pattern: str = WORDPRESS_ID  # a regex on the GUID: its first group is the id
    drop_trailer: bool = True  # WordPress's "The post ... appeared first on ..." line
    # A tags_field value (as written) -> the tags it gives (else its slug).
    tags_values: Mapping[str, str] = field(default_factory=dict)
    # The host of an item's link -> the host its source_url is written with (an archive's).
    archive_hosts: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class FeedItem:
    """A statement read from a feed item, before its body is converted."""

    url: str  # the statement URL: the item's link, canonical
    title: str
    tags: str
    published: dt.datetime  # in the source's time zone, to the second
    body_html: str
    guid: str
    stable_id: str | None

    @property
    def digest(self) -> str:
        """What was read of the item, hashed: the validator a sync compares (an ETag)."""
        parts = (self.url, self.title, self.tags, self.published.isoformat(), self.guid)
        text = "\x00".join((*parts, self.body_html))
        return '"feed-item-' + hashlib.sha256(text.encode()).hexdigest()[:24] + '"'


def _options(source: Source) -> FeedItemsOptions:
    options = source.kind_options
    return options if isinstance(options, FeedItemsOptions) else FeedItemsOptions()


# -- reading items ------------------------------------------------------------------------------


def read_items(data: bytes, url: str, source: Source) -> list[FeedItem | NotAStatement]:
    """Every item of a feed document (or a lone ``<item>``/``<entry>``), in the feed's order; an
    item that is not a statement of the source is its refusal. Raises :class:`DiscoveryError`
    when the document is not a feed."""
    root = _xml(data, url)
    entries = [root] if _local(root) in _ITEMS else list(root.iter("{*}item", "{*}entry"))
    results: list[FeedItem | NotAStatement] = []
    for entry in entries:
        try:
            results.append(read_item(entry, url, source))
        except NotAStatement as exc:
            results.append(exc)
    return results


def read_item(entry: Any, base: str, source: Source) -> FeedItem:
    """One ``<item>`` or ``<entry>`` element."""
    options = _options(source)
    fields = _fields(entry)
    link = _link(fields)
    resolved = urljoin(entry.base or base, link) if link else ""
    if not resolved or not source.statement_match(resolved):
        raise NotAStatement("not a statement URL of this source", url=resolved or base)
    url = archive_url(source.canonical(resolved), options)
    title = one_line("".join(fields["title"][0].itertext())) if "title" in fields else ""
    if not title:
        raise NotAStatement("a feed item without a title", url=url)
    published = _published(fields, url, source)
    guid = _text(fields, "guid") or _text(fields, "id") or ""
    return FeedItem(
        url=url,
        title=title,
        tags=_tags(fields, options),
        published=published,
        body_html=prepare_body(_content(fields, url), source, url),
        guid=guid,
        stable_id=_stable_id(guid, options.stable_id_pattern),
    )


def archive_url(url: str, options: FeedItemsOptions) -> str:
    """The statement URL the archive records for an item's link: on its archive host when the
    seed maps the link's host to one (``archive_hosts``), else the link."""
    parts = urlsplit(url)
    host = options.archive_hosts.get(parts.hostname or "")
    return url if host is None else urlunsplit(parts._replace(netloc=host))


def fetch_url(source: Source, url: str) -> str:
    """Where a statement URL is fetched: on the origin host again when it is on an archive host
    (``archive_hosts``), through the seed's ``fetch_url`` template if any."""
    parts = urlsplit(url)
    origins = {archive: origin for origin, archive in _options(source).archive_hosts.items()}
    host = origins.get(parts.hostname or "")
    real = url if host is None else urlunsplit(parts._replace(netloc=host))
    return template_fetch_url(source, real)


def prepare_body(html: str, source: Source, url: str) -> str:
    """An item's content made ready for the converter, as a page's body is: the seed's
    ``[selectors.article]`` removals and stripped attributes (else :data:`REMOVE` and
    :data:`STRIP_ATTRIBUTES`), and the WordPress trailer dropped unless the seed keeps it."""
    root = BeautifulSoup(f"<div>{html}</div>", "lxml").div
    assert root is not None
    selectors = source.selectors.article if source.selectors else None
    remove = selectors.remove if selectors else REMOVE
    strip = selectors.strip_attributes if selectors else STRIP_ATTRIBUTES
    if _options(source).drop_trailer:
        drop_trailer(root)
    return clean_body(root, remove, strip, url)


def drop_trailer(root: Any) -> bool:
    """Drop WordPress's trailer: the body's last element, when it is a paragraph reading
    "The post <title> appeared first on <site>." (RSS footer of WordPress plugins such as
    Yoast). Only that last paragraph, and only whole: a statement quoting the sentence keeps
    it. Whether one was dropped."""
    last = next(
        (c for c in reversed(root.contents) if getattr(c, "name", None) or str(c).strip()), None
    )
    if last is None or getattr(last, "name", None) != "p":
        return False
    if not TRAILER.fullmatch(" ".join(last.get_text().split())):
        return False
    last.decompose()
    return True


def build_statement(item: FeedItem, markdown: str, source: Source) -> Statement:
    """The archive document of an item whose body was converted: no ``modified_time``."""
    order: KeyOrder = "alphabetical" if source.archive.key_order == "alphabetical" else "reference"
    return document(item.title, item.url, item.tags, item.published, None, markdown, order=order)


# -- the parts of an item -----------------------------------------------------------------------


def _xml(data: bytes, url: str) -> Any:
    """The root element of a feed; entities are never expanded (XXE, bombs)."""
    parser = etree.XMLParser(
        resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False
    )
    try:
        root = etree.fromstring(data, parser, base_url=url)
    except (etree.XMLSyntaxError, ValueError) as exc:
        raise DiscoveryError(f"not a feed: not valid XML ({exc})", where=url) from None
    if _local(root) not in (*_FEED_ROOTS, *_ITEMS):
        raise DiscoveryError(
            f"not a feed: the root element is <{_local(root)}>",
            where=url,
            hint="expected <rss> or <feed>; the server may answer with an HTML page",
        )
    return root


def _local(element: Any) -> str:
    return str(etree.QName(element).localname) if isinstance(element.tag, str) else ""


def _fields(entry: Any) -> dict[str, list[Any]]:
    """An item's children by local name, lowercased; ``content:encoded`` as ``encoded``."""
    fields: dict[str, list[Any]] = {}
    for child in entry.iterchildren():
        fields.setdefault(_local(child).lower(), []).append(child)
    return fields


def _text(fields: dict[str, list[Any]], name: str) -> str | None:
    for element in fields.get(name, ()):
        text = "".join(element.itertext()).strip()
        if text:
            return text
    return None


def _link(fields: dict[str, list[Any]]) -> str | None:
    """RSS ``<link>text</link>``, Atom ``<link rel="alternate" href>``, else a permalink GUID."""
    for link in fields.get("link", ()):
        href = link.get("href") or link.text
        if link.get("rel", "alternate") == "alternate" and href and href.strip():
            return str(href).strip()
    for guid in fields.get("guid", ()):
        if guid.get("isPermaLink", "true") != "false" and guid.text:
            return str(guid.text).strip()
    return None


def _published(fields: dict[str, list[Any]], url: str, source: Source) -> dt.datetime:
    for name in _DATES:
        text = _text(fields, name)
        if text is None:
            continue
        moment = _date(text)
        if moment is None:
            raise NotAStatement(f"{name} {text!r} is not a valid date and time", url=url)
        return moment.astimezone(source.tz).replace(microsecond=0)
    raise NotAStatement("a feed item without a publication time (pubDate)", url=url)


def _date(text: str) -> dt.datetime | None:
    """An RFC 822 (RSS) or ISO 8601 (Atom) time; one without an offset is UTC."""
    try:
        moment = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        try:
            moment = parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError, OverflowError):
            return None
    return moment if moment.utcoffset() is not None else moment.replace(tzinfo=dt.UTC)


def _content(fields: dict[str, list[Any]], url: str) -> str:
    """The full content: RSS ``content:encoded``, else Atom ``content`` (HTML text, or XHTML)."""
    for element in fields.get("encoded", ()):
        if etree.QName(element).namespace == CONTENT_NS:
            return element.text or ""
    for element in fields.get("content", ()):
        if element.get("type") == "xhtml":
            inner = [etree.tostring(c, encoding="unicode") for c in element]
            return re.sub(r' xmlns(:\w+)?="[^"]*"', "", "".join(inner))
        return element.text or ""
    raise NotAStatement(
        "a feed item without its full content (content:encoded, Atom content)",
        url=url,
        hint="a feed of summaries: use the html kind, with [feed] for discovery",
    )


def _tags(fields: dict[str, list[Any]], options: FeedItemsOptions) -> str:
    """The seed's ``tags_field`` value as a slug (its first non-empty one), else ``tags``."""
    name = options.tags_field.rpartition(":")[2].lower()
    for element in fields.get(name, ()) if name else ():
        value = " ".join((element.get("term") or "".join(element.itertext())).split())
        if value:
            return options.tags_values.get(value) or _slug(value) or options.tags or "uncategorized"
    return options.tags or "uncategorized"


def _slug(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")


def _stable_id(guid: str, pattern: str) -> str | None:
    if not guid or not pattern:
        return None
    match = re.search(pattern, guid)
    if match is None:
        return None
    return (match.group(1) if match.groups() else match.group()) or None


# -- the kind -----------------------------------------------------------------------------------


def is_feed(response: Response) -> bool:
    """Whether a reply is a feed (an item delivered by discovery, or a feed document), by its
    content type, else by its first bytes."""
    kind = response.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind:
        return kind.endswith("xml")
    head = response.content[:200].lstrip()
    return head.startswith((b"<?xml", b"<rss", b"<feed", b"<item", b"<entry"))


def extract(items: Sequence[Fetched], source: Source) -> list[Extracted]:
    """Feed replies read as items (the one whose link is the statement URL), bodies converted
    together; pages (found by the sitemap) read with the seed's selectors."""
    feeds = [n for n, i in enumerate(items) if is_feed(i.response)]
    pages = [n for n, i in enumerate(items) if n not in set(feeds)]
    results: dict[int, Extracted] = {}
    results.update(zip(feeds, _extract_items([items[n] for n in feeds], source), strict=True))
    results.update(zip(pages, _extract_pages([items[n] for n in pages], source), strict=True))
    return [results[n] for n in range(len(items))]


def _extract_items(items: Sequence[Fetched], source: Source) -> list[Extracted]:
    read: dict[int, list[FeedItem | NotAStatement]] = {}  # each document parsed once
    found: list[FeedItem | NotAStatement] = []
    for item in items:
        key = id(item.response.content)
        try:
            if key not in read:
                read[key] = read_items(item.response.content, item.response.url, source)
        except DiscoveryError as exc:
            found.append(NotAStatement(exc.message, url=item.url))
            continue
        mine = [i for i in read[key] if _url(i) == item.url]  # the item, or its refusal
        found.append(mine[0] if mine else NotAStatement("not in the feed", url=item.url))
    results: list[Extracted] = []
    for done in convert_read(found, converter_of(source)):
        if isinstance(done, tuple):
            entry, body = done
            results.append(Parsed(build_statement(entry, body, source), entry.stable_id))
        else:
            results.append(done)  # a refusal, or a body the converter failed on
    return results


def _url(item: FeedItem | NotAStatement) -> str:
    return item.url


def _extract_pages(items: Sequence[Fetched], source: Source) -> list[Extracted]:
    """Pages, as the html kind reads them, but ``tags`` the seed's (never the URL's)."""
    if items and source.selectors is None:
        return [
            NotAStatement("a page, and no [selectors.article] to read it", url=i.url) for i in items
        ]
    pages = [Page(i.response.html, i.response.url, i.published) for i in items]
    tags = _options(source).tags or "uncategorized"
    results: list[Extracted] = []
    for item, result in zip(items, parse_pages(pages, source), strict=True):
        if isinstance(result, Statement):
            statement = Statement({**result.meta, "tags": tags}, result.body)
            results.append(Parsed(statement, page_stable_id(item.response.content, source)))
        else:
            results.append(result)
    return results


def read_feed_items(fetcher: Fetcher, source: Source, result: Discovered, walk: Walk) -> None:
    """Read each feed of the seed; every item that is a statement is found, and handed over
    whole (``result.delivered``, with its digest as ``etag``): the sync fetches none of them.

    A feed is asked for with conditional GET: its ``ETag``/``Last-Modified`` are kept as a child
    sitemap's ``lastmod`` is (``result.sitemaps``, saved by the sync only when every item it
    delivered settled: :func:`crawler.bounds.sitemaps_to_save`); a 304 finds nothing, as there
    is nothing new. ``--full`` asks without validators."""
    for feed in _options(source).urls:
        url = source.absolute(feed)
        etag, modified = _read_validator(walk.seen.get(url, ""))
        response = fetcher.get(url, etag=etag, last_modified=modified)
        if response.not_modified:
            result.sitemaps[url] = walk.seen.get(url, "")
            result.sitemaps_read.add(url)
            continue
        if response.status >= 400:
            raise FetchError(
                f"the feed answered HTTP {response.status}", url=url, status=response.status
            )
        kind = response.headers.get("content-type", "") or "application/rss+xml"
        for item in read_items(response.content, url, source):
            if isinstance(item, NotAStatement):
                result.rejected.append(f"{item.url}: {item.message}")
                continue
            result.add(Found(item.url, item.title, item.published, via="feed-items"))
            headers = {"content-type": kind, "etag": item.digest}
            reply = Response(item.url, 200, headers, response.content)
            result.delivered.setdefault(item.url, reply)
            result.parent.setdefault(item.url, url)
        validator = _validator(response)
        if validator:
            result.sitemaps[url] = validator
            result.sitemaps_read.add(url)


def _validator(response: Response) -> str:
    """A feed reply's validators, as kept between syncs: ``etag <value>`` or
    ``last-modified <value>`` (empty when it sent neither)."""
    etag, modified = response.headers.get("etag"), response.headers.get("last-modified")
    return f"etag {etag}" if etag else f"last-modified {modified}" if modified else ""


def _read_validator(kept: str) -> tuple[str | None, str | None]:
    kind, _, value = kept.partition(" ")
    if not value:
        return None, None
    return (value, None) if kind == "etag" else (None, value)


def refuse(response: Response) -> str | None:
    """A feed (XML) or an HTML page is read; anything else is not."""
    if is_feed(response) or response.is_html:
        return None
    return f"neither a feed nor an HTML page ({response.headers.get('content-type')})"


def check(source: Source, ctx: Context) -> None:
    options = _options(source)
    if not options.urls:
        raise ctx.fail("feed_items.urls", "at least one feed URL", [])
    if source.feed is not None:
        raise ctx.fail("feed", "no [feed] table (the html kind's): the feeds are [feed_items] urls")
    if source.listing is not None:
        raise ctx.fail("listing", "no [listing]: a feed_items source is found by its feeds")
    try:
        re.compile(options.stable_id_pattern)
    except re.error as exc:
        pattern = options.stable_id_pattern
        raise ctx.fail(
            "feed_items.stable_id_pattern", f"a regular expression ({exc})", pattern
        ) from None
    for origin, archive in options.archive_hosts.items():
        if archive not in source.allowed_hosts or origin not in source.allowed_hosts:
            hosts = f"{origin} and {archive}"
            raise ctx.fail("allowed_hosts", f"a list holding {hosts} (archive_hosts)", origin)
    if options.archive_hosts and source.sitemap is not None:
        raise ctx.fail("sitemap", "no [sitemap] with archive_hosts (its URLs are the origin's)")
    if source.sitemap is not None and source.selectors is None:
        raise ctx.fail("selectors.article", "selectors for the pages the sitemap finds")
    if source.selectors is not None:
        check_html(dataclasses.replace(source, listing=None), ctx)


FEED_ITEMS = register(
    Kind(
        name="feed_items",
        extract=extract,
        discovery=(
            Method("feed-items", read_feed_items, lambda source: True),
            Method(
                "sitemap",
                lambda fetcher, source, result, walk: read_sitemaps(
                    fetcher, source, result, walk.seen
                ),
                lambda source: source.sitemap is not None,
            ),
        ),
        fetch_url=fetch_url,
        refuse=refuse,
        check=check,
        rate=1.0,
        options=FeedItemsOptions,
        keeps=("modified_time",),  # a feed gives none: an adopted file's stays
        same_hosts=lambda source: _options(source).archive_hosts,
        description="statements read whole from RSS/Atom feed items (paired with a sitemap)",
    )
)
