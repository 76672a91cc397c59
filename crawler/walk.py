"""Discovery over HTTP: walk a source's listings, sitemaps and feeds, merge what they find.

Which methods a source has is its kind's (:mod:`crawler.kinds`): :func:`discover` runs those
its seed turns on, in the kind's order; the html kind's are the three of this module.

The parsing is pure and lives in :mod:`crawler.discover`; this module only decides what to
request next. Listing pages are walked newest first and, unless ``full``, stop once ``overlap``
items in a row are already archived or older than ``since``. A sitemap index's children are
fetched only when their ``lastmod`` moved since the last walk. Every method is optional; results
merge per URL.

A failure shared by several methods (the host is unreachable, robots.txt cannot be had) is
reported once, naming the methods; an unreachable host is reported as the plain sentence it is.
A run asked to stop ends its walk where it is, as no failure.

Bounded, and robust to one bad document. Each child sitemap is parsed as it arrives; one that
fails (an error status after retries, an HTML page answered 200, broken XML, a gzip bomb) is a
failure named by its URL, kept in ``stale`` so that its previous ``lastmod`` stays saved and it
is read again next time, and the walk goes on with the other children, the listings and the feed.
A sitemap document gives at most ``max_urls`` URLs (the rest dropped, with a warning, and the
document not counted as read whole); a listing walk stops at ``max_pages`` or at a page that adds
no URL the walk has not seen, with a warning: a cut is not a failure (what was found is synced),
but it is said in the sync's summary, its JSON and the log.

A kind whose discovery documents hold the statements themselves (a feed's items, whole) hands
them over in :attr:`Discovered.delivered`; the sync records them without fetching them.

Because discovery is incremental, what it did *not* list means something only where it looked:
:class:`Discovered` says which sitemap documents were read this time and how far back each
listing was walked, and where each statement was listed, so that sync can tell a statement that
left a place read again from one that merely was not looked for.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from crawler.discover import Found, SitemapDoc, parse_feed, parse_listing, parse_sitemap
from crawler.errors import DiscoveryError, FetchError, Stopped, Unreachable
from crawler.fetch import Fetcher, Response
from crawler.kinds.base import Walk, kind_of
from crawler.source import Source
from storage.errors import StatementSyncError

log = logging.getLogger(__name__)

Known = Callable[[str], bool]


@dataclass
class Discovered:
    """What one discovery run found."""

    found: dict[str, Found] = field(default_factory=dict)
    sitemaps: dict[str, str] = field(default_factory=dict)  # child sitemap URL -> lastmod seen
    counts: dict[str, int] = field(default_factory=dict)  # items found per method
    rejected: list[str] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)  # methods that failed, with the reason
    sitemap_of: dict[str, str] = field(default_factory=dict)  # statement URL -> sitemap document
    sitemaps_read: set[str] = field(default_factory=set)  # sitemap documents read whole
    listing_of: dict[str, str] = field(default_factory=dict)  # statement URL -> listing start
    # listing start -> the oldest publication time its walk reached; None: it reached the end.
    listings_read: dict[str, dt.datetime | None] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)  # cut short: not failures, but said
    stale: set[str] = field(default_factory=set)  # child sitemaps that failed: read again
    # child sitemap -> the index listing it; a delivered statement -> the feed it came in
    parent: dict[str, str] = field(default_factory=dict)
    # Statement URL -> its content, come with discovery (a feed item's): recorded without a
    # request (crawler.syncer, "Delivered"). Filled only by a kind that reads statements whole
    # from what it discovers with (crawler/kinds/feed_items.py); the etag header is a digest.
    delivered: dict[str, Response] = field(default_factory=dict)
    progress: Callable[[int], None] = field(default=lambda found: None, repr=False)

    def fail(self, methods: list[str], exc: StatementSyncError) -> None:
        if isinstance(exc, Unreachable):
            self.failures.append(str(exc))
        else:
            self.failures.append(f"{', '.join(methods)} discovery failed: {exc}")

    def warn(self, message: str) -> None:
        log.warning("%s", message)
        self.warnings.append(message)

    def add(self, item: Found) -> None:
        before = self.found.get(item.url)
        self.found[item.url] = item if before is None else merge(before, item)
        self.counts[item.via] = self.counts.get(item.via, 0) + 1
        if before is None:
            self.progress(len(self.found))


def merge(a: Found, b: Found) -> Found:
    """One URL found twice: keep every field either gave, the listing's values first."""
    first, second = (a, b) if a.via == "listing" or b.via != "listing" else (b, a)
    values = {
        f.name: getattr(first, f.name)
        if getattr(first, f.name) is not None
        else getattr(second, f.name)
        for f in dataclasses.fields(Found)
    }
    values["lastmod"] = a.lastmod or b.lastmod
    values["via"] = "+".join(sorted(set(a.via.split("+")) | set(b.via.split("+"))))
    return Found(**values)


def discover(
    fetcher: Fetcher,
    source: Source,
    *,
    known: Known = lambda url: False,
    sitemaps_seen: Mapping[str, str] | None = None,
    full: bool = False,
    since: dt.datetime | None = None,
    expect_items: bool = False,
    progress: Callable[[int], None] | None = None,
    lastmod: Callable[[str], str | None] = lambda url: None,
) -> Discovered:
    """Run every discovery method the source's kind has and its seed turns on
    (:mod:`crawler.kinds`); ``expect_items`` when it found some before; ``progress`` is told
    the number of URLs found so far, as it grows."""
    result = Discovered() if progress is None else Discovered(progress=progress)
    seen = {} if full else dict(sitemaps_seen or {})
    walk = Walk(known=known, seen=seen, full=full, since=since, lastmod=lastmod)
    methods = [
        (m.name, functools.partial(m.run, fetcher, source, result, walk))
        for m in kind_of(source.kind).methods(source)
    ]
    failed: dict[str, tuple[list[str], StatementSyncError]] = {}  # one per distinct failure
    stopped = False
    for name, run in methods:
        try:
            run()
        except Stopped:
            stopped = True  # asked to stop: what was found, and no verdict on the source
            break
        except (FetchError, DiscoveryError) as exc:  # this method failed; the others go on
            log.info("%s discovery of %s failed: %s", name, source.name, exc)
            failed.setdefault(str(exc), ([], exc))[0].append(name)
    for names, error in failed.values():
        result.fail(names, error)
    unchanged = result.sitemaps.keys() - result.stale  # children listed, not failing
    if expect_items and not stopped and not result.found and not unchanged:
        raise DiscoveryError(
            "discovery found no statement where it found some before",
            where=source.name,
            hint="the markup changed? check the seed's selectors; "
            + ("; ".join(result.failures) or "every method answered with nothing"),
        )
    return result


def walk_listing(
    fetcher: Fetcher,
    source: Source,
    result: Discovered,
    known: Known,
    full: bool,
    since: dt.datetime | None,
) -> None:
    listing = source.listing
    assert listing is not None
    for start in listing.start_urls:
        _walk_one(fetcher, source, result, source.absolute(start), known, full, since)


def _walk_one(
    fetcher: Fetcher,
    source: Source,
    result: Discovered,
    first: str,
    known: Known,
    full: bool,
    since: dt.datetime | None,
) -> None:
    """One listing from its first page back, to its end, to ``max_pages`` or to a page that adds
    no URL this walk has not seen (an endless listing: cut, with a warning)."""
    listing = source.listing
    assert listing is not None
    url: str | None = first
    pages, streak, visited, listed = 0, 0, set[str](), set[str]()
    oldest: dt.datetime | None = None
    cut = ""
    while url is not None:
        if url in visited or pages >= listing.max_pages:
            cut = "a page links back" if url in visited else f"listing.max_pages is {pages}"
            break
        visited.add(url)
        response = fetcher.get(url)
        if response.status == 404 and pages > 0:
            url = None  # ran past the last page
            break
        if response.status >= 400:
            raise FetchError(
                f"listing page answered HTTP {response.status}", url=url, status=response.status
            )
        page = parse_listing(response.content, response.url, source)
        result.rejected.extend(page.rejected)
        pages += 1
        old, before = 0, len(listed)
        for item in page.items:
            result.add(item)
            result.listing_of.setdefault(item.url, first)
            listed.add(item.url)
            if item.published is not None and (oldest is None or item.published < oldest):
                oldest = item.published
            streak = streak + 1 if known(item.url) else 0
            old += since is not None and item.published is not None and item.published < since
        done = streak >= listing.overlap or (page.items and old == len(page.items))
        if done and not full:
            break
        if page.next_url is not None and len(listed) == before:
            cut = f"page {url} adds no new URL"
            break
        url = page.next_url
    if url is None or oldest is not None:  # how far back it looked, when it can be told
        result.listings_read[first] = None if url is None else oldest
    if cut:
        result.warn(f"listing {first} cut after {pages} pages ({cut}); what it listed is synced")
    log.info("listing %s: %d pages", first, pages)


def read_sitemaps(
    fetcher: Fetcher, source: Source, result: Discovered, seen: Mapping[str, str]
) -> None:
    sitemap = source.sitemap
    assert sitemap is not None
    for index_url in sitemap.urls:
        url = source.absolute(index_url)
        content = _content(fetcher, url)
        if content is not None:
            _read_tree(fetcher, source, result, seen, url, content)
            return  # the first index that answers is the source's


def _read_tree(
    fetcher: Fetcher,
    source: Source,
    result: Discovered,
    seen: Mapping[str, str],
    index: str,
    content: bytes,
) -> None:
    """The index, then each child whose ``lastmod`` moved, parsed as it arrives. A child that
    fails is named and left ``stale``; the index failing is the method's failure."""
    sitemap = source.sitemap
    assert sitemap is not None
    queue: list[tuple[str, bytes | None]] = [(index, content)]
    visited, skipped = {index}, 0
    while queue:
        where, body = queue.pop(0)
        try:
            doc = _sitemap_doc(fetcher, source, where, body)
        except Stopped:
            raise
        except (FetchError, DiscoveryError) as exc:
            if where == index:
                raise
            log.info("sitemap %s failed: %s", where, exc)
            result.stale.add(where)
            result.failures.append(f"sitemap child failed (read again next time): {exc}")
            continue
        _take_sitemap(result, where, doc, sitemap.max_urls)
        for child, lastmod in doc.sitemaps:
            stamp = lastmod.isoformat() if lastmod else ""
            result.sitemaps[child] = stamp
            result.parent.setdefault(child, where)
            if child in visited or (stamp and seen.get(child) == stamp):
                continue  # a loop, or unchanged since the last walk
            if len(visited) > sitemap.max_sitemaps:
                skipped += 1
                continue
            visited.add(child)
            queue.append((child, None))
    if skipped:
        result.warn(
            f"sitemap {index}: read {sitemap.max_sitemaps} child sitemaps (sitemap.max_sitemaps),"
            f" left {skipped} for the next syncs"
        )


def _sitemap_doc(fetcher: Fetcher, source: Source, url: str, body: bytes | None) -> SitemapDoc:
    if body is None:
        response = fetcher.get(url)
        if response.status >= 400:
            raise FetchError(f"answered HTTP {response.status}", url=url, status=response.status)
        body = response.content
    assert source.sitemap is not None
    limit = source.sitemap.max_urls
    return parse_sitemap(body, url, source, max_bytes=fetcher.max_bytes, max_urls=limit)


def _take_sitemap(result: Discovered, where: str, doc: SitemapDoc, max_urls: int) -> None:
    result.rejected.extend(doc.rejected)
    if doc.dropped:  # not read whole: what it no longer lists means nothing
        result.warn(
            f"sitemap {where}: took its first {max_urls:,} URLs (sitemap.max_urls), "
            f"dropped {doc.dropped:,} more"
        )
    else:
        result.sitemaps_read.add(where)
    for item in doc.urls:
        result.add(item)
        result.sitemap_of.setdefault(item.url, where)


def read_feeds(fetcher: Fetcher, source: Source, result: Discovered) -> None:
    feed = source.feed
    assert feed is not None
    for feed_url in feed.urls:
        url = source.absolute(feed_url)
        content = _content(fetcher, url)
        for item in parse_feed(content, url, source) if content is not None else ():
            result.add(item)


def _content(fetcher: Fetcher, url: str) -> bytes | None:
    """A discovery document's body; ``None`` (logged) when the source has none there."""
    response = fetcher.get(url)
    if response.status >= 400:
        log.info("nothing at %s (HTTP %d)", url, response.status)
        return None
    return response.content
