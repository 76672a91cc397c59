"""What the site answers a GET: articles, listings, the feed, sitemaps, 404s; ETags and 304s."""

from __future__ import annotations

import contextlib
import datetime as dt
import email.utils
import gzip
import hashlib
import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from xml.sax.saxutils import escape as xml_escape

from tests.fixture_site.content import DASH, ORIGIN, SITE_NAME, _Entry, category_label
from tests.fixture_site.formatting import (
    _attr,
    _cdata,
    _date_text,
    _http_date,
    _iso,
    _json,
    _shorten,
    _text,
    _utc,
)
from tests.fixture_site.templates import _pagination_links, _Templates

_LISTING_PATH = re.compile(r"/(?P<section>[a-z0-9-]+)/(?:page/(?P<page>\d+)/)?")


@dataclass
class Response:
    status: int
    body: bytes = b""
    content_type: str = "text/html; charset=utf-8"
    headers: dict[str, str] = field(default_factory=dict)
    last_modified: dt.datetime | None = None


class _Answers:
    """The answering side of :class:`~tests.fixture_site.site.FixtureSite`."""

    _lock: threading.RLock
    _entries: dict[str, _Entry]
    _redirects: dict[str, tuple[int, str]]
    _templates: _Templates
    robots: str
    page_size: int
    sitemap_size: int
    feed_size: int
    endless: str
    _planted_children: dict[str, dt.datetime]

    def _newest(self, section: str) -> list[_Entry]:
        raise NotImplementedError  # the site's

    def _planted_answer(self, path: str) -> Response | None:
        raise NotImplementedError  # hostile's

    def _endless_entries(self, page: int, last: list[_Entry], size: int) -> list[_Entry]:
        raise NotImplementedError  # hostile's

    def respond(self, path: str, headers: dict[str, str] | None = None) -> Response:
        """What the site answers a GET for a path (conditional headers honoured)."""
        with self._lock:
            response = self._route(path)
        if response.status == 200:
            response = _conditional(response, headers or {})
        return response

    def _route(self, path: str) -> Response:
        if path == "/robots.txt":
            return Response(200, self.robots.encode(), "text/plain; charset=utf-8")
        planted = self._planted_answer(path)
        if planted is not None:
            return planted
        if path in self._redirects:
            status, location = self._redirects[path]
            return Response(status, headers={"Location": location})
        entry = self._entries.get(path)
        if entry is not None:
            return _page(entry.gone, "Gone") if entry.gone else self._article(entry)
        if path == "/feed/":
            return Response(200, self._feed(), "application/rss+xml; charset=UTF-8")
        name = path.lstrip("/")
        sitemap = self._sitemap(name.removesuffix(".gz")) if ".xml" in name else None
        if sitemap is not None and name.endswith(".gz"):
            return Response(200, gzip.compress(sitemap.body, mtime=0), "application/x-gzip")
        if sitemap is not None:
            return sitemap
        listing = _LISTING_PATH.fullmatch(path)
        if listing:
            page = int(listing["page"] or 1)
            if listing["page"] and page == 1:
                return Response(301, headers={"Location": f"{ORIGIN}/{listing['section']}/"})
            found = self._listing(listing["section"], page)
            if found is not None:
                return found
        return _page(404, "Page not found")

    def _article(self, entry: _Entry) -> Response:
        if entry.page is None:
            label = category_label(entry.category)
            title = entry.title
            values = {
                "title": _text(title) + DASH + SITE_NAME,
                "og_title": _attr(title) + DASH + SITE_NAME,
                "url": _attr(entry.url),
                "json_url": _json(entry.url),
                "json_title": _json(_text(title)),
                "description": _attr(_shorten(entry.excerpt, 155)),
                "published_utc": _utc(entry.published),
                "lastmod_utc": _utc(entry.lastmod),
                "modified_meta": (
                    f'<meta property="article:modified_time" content="{_utc(entry.modified)}" />'
                    if entry.modified
                    else ""
                ),
                "post_id": str(entry.post_id),
                "date": entry.published.date().isoformat(),
                "js_label": _json(label).replace("'", "\\'"),
                "category_url": _attr(f"{ORIGIN}/{entry.category}/"),
                "category_label": _text(label),
                "heading": _text(title),
                "published_local": _iso(entry.published),
                "date_text": _date_text(entry.published),
                "body": entry.body_html,
            }
            entry.page = self._templates.article.render(**values).encode("utf-8")
        return Response(200, entry.page, last_modified=entry.lastmod)

    def _listing(self, section: str, page: int) -> Response | None:
        if section != "news" and all(e.category != section for e in self._entries.values()):
            return None
        entries = self._newest(section)
        pages = max(1, -(-len(entries) // self.page_size))
        endless = bool(self.endless) and section == "news"
        if page > pages and not endless:
            return None
        base = f"{ORIGIN}/{section}/"

        def url(n: int) -> str:
            return base if n == 1 else f"{base}page/{n}/"

        name = "News" if section == "news" else category_label(section)
        numbering = f"{DASH}Page {page} of {pages}" if page > 1 else ""
        head = [f'<link rel="prev" href="{url(page - 1)}" />'] if page > 1 else []
        head += [f'<link rel="next" href="{url(page + 1)}" />'] if page < pages or endless else []
        kind = "blog" if section == "news" else f"archive category category-{section}"
        paged = (" paged", f" paged-{page}") if page > 1 else ("", "")
        chunk = entries[(page - 1) * self.page_size : page * self.page_size]
        if page > pages:
            last = entries[(pages - 1) * self.page_size :]
            chunk = self._endless_entries(page, last, self.page_size)
            pages = page + 1
        markup = self._templates.listing.render(
            title=_text(name) + numbering + DASH + SITE_NAME,
            page_url=url(page),
            og_title=_attr(name if section == "news" else f"{name} Archives"),
            head_links="\n\t".join(head),
            body_class=f"{kind}{paged[0]} wp-embed-responsive{paged[1]} has-topper",
            json_url=_json(url(page)),
            json_label=_json(_text(name)),
            heading=_text(name),
            section_url=base,
            items="".join(self._item(e) for e in chunk),
            pagination=self._templates.pagination.render(links=_pagination_links(page, pages, url)),
        )
        return Response(200, markup.encode("utf-8"))

    def _item(self, entry: _Entry) -> str:
        return self._templates.item.render(
            post_id=str(entry.post_id),
            category=entry.category,
            url=_attr(entry.url),
            title=_text(entry.title),
            category_url=_attr(f"{ORIGIN}/{entry.category}/"),
            category_label=_text(category_label(entry.category)),
            published_local=_iso(entry.published),
            date_text=_date_text(entry.published),
        )

    def _feed(self) -> bytes:
        newest = self._newest("news")[: self.feed_size]
        built = max((e.lastmod for e in newest), default=dt.datetime(2025, 1, 20, tzinfo=dt.UTC))
        items = "".join(
            "\n\t<item>"
            f"\n\t\t<title>{xml_escape(e.title)}</title>"
            f"\n\t\t<link>{xml_escape(e.url)}</link>"
            f"\n\t\t<dc:creator>{_cdata(SITE_NAME)}</dc:creator>"
            f"\n\t\t<pubDate>{email.utils.format_datetime(e.published.astimezone(dt.UTC))}</pubDate>"
            f"\n\t\t<category>{_cdata(category_label(e.category))}</category>"
            f'\n\t\t<guid isPermaLink="false">{ORIGIN}/?p={e.post_id}</guid>'
            f"\n\t\t<description>{_cdata(_shorten(e.excerpt, 300) + ' [&#8230;]')}</description>"
            "\n\t</item>"
            for e in newest
        )
        return (
            '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"\n'
            '\txmlns:content="http://purl.org/rss/1.0/modules/content/"\n'
            '\txmlns:dc="http://purl.org/dc/elements/1.1/"\n'
            '\txmlns:atom="http://www.w3.org/2005/Atom"\n>\n\n<channel>'
            f"\n\t<title>{SITE_NAME}</title>"
            f'\n\t<atom:link href="{ORIGIN}/feed/" rel="self" type="application/rss+xml" />'
            f"\n\t<link>{ORIGIN}/</link>\n\t<description></description>"
            f"\n\t<lastBuildDate>{email.utils.format_datetime(built.astimezone(dt.UTC))}"
            f"</lastBuildDate>\n\t<language>en-US</language>{items}\n</channel>\n</rss>\n"
        ).encode()

    def _sitemap(self, name: str) -> Response | None:
        """Yoast's sitemaps (index, post-sitemapN.xml by modified time) and WordPress core's."""
        shown = [e for e in self._entries.values() if e.gone is None]
        size = max(1, self.sitemap_size)
        by_modified = sorted(shown, key=lambda e: (e.lastmod, e.post_id))
        by_id = sorted(shown, key=lambda e: e.post_id)
        yoast = {
            ("post-sitemap.xml" if i == 0 else f"post-sitemap{i // size + 1}.xml"): by_modified[
                i : i + size
            ]
            for i in range(0, len(by_modified), size)
        }
        core = {
            f"wp-sitemap-posts-post-{i // size + 1}.xml": by_id[i : i + size]
            for i in range(0, len(by_id), size)
        }
        sections: dict[str, dt.datetime] = {}
        for e in shown:
            sections[e.category] = max(e.lastmod, sections.get(e.category, e.lastmod))
        categories = [(f"{ORIGIN}/{c}/", sections[c]) for c in sorted(sections)]
        if name == "sitemap_index.xml":
            children = [(n, max(e.lastmod for e in group)) for n, group in yoast.items()]
            if categories:
                children.append(("category-sitemap.xml", max(m for _, m in categories)))
            children += self._planted_children.items()
            return _xml(_sitemap_index(children, yoast=True), yoast=True)
        if name == "wp-sitemap.xml":
            names = [*core, "wp-sitemap-taxonomies-category-1.xml"] if categories else [*core]
            return _xml(_sitemap_index([(n, None) for n in names], yoast=False), yoast=False)
        if name in yoast or name in core:
            group = yoast.get(name) or core[name]
            return _xml(
                _urlset([(e.url, e.lastmod) for e in group], yoast=name in yoast), name in yoast
            )
        if name in ("category-sitemap.xml", "wp-sitemap-taxonomies-category-1.xml") and categories:
            yoast_style = name.startswith("category")
            return _xml(_urlset(categories, yoast=yoast_style), yoast_style)
        return None


_YOAST_XSL = f'<?xml-stylesheet type="text/xsl" href="//{ORIGIN[8:]}/main-sitemap.xsl"?>'
_CORE_XSL = f'\n<?xml-stylesheet type="text/xsl" href="{ORIGIN}/wp-sitemap-index.xsl" ?>\n'
_XML = '<?xml version="1.0" encoding="UTF-8"?>'
_SITEMAP_NS = 'xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"'


def _sitemap_index(children: Sequence[tuple[str, dt.datetime | None]], *, yoast: bool) -> str:
    rows = "".join(
        f"\n\t<sitemap>\n\t\t<loc>{ORIGIN}/{name}</loc>"
        + (f"\n\t\t<lastmod>{_utc(lastmod)}</lastmod>" if lastmod else "")
        + "\n\t</sitemap>"
        for name, lastmod in children
    )
    head = _YOAST_XSL if yoast else _CORE_XSL
    return f"{_XML}{head}\n<sitemapindex {_SITEMAP_NS}>{rows}\n</sitemapindex>"


def _urlset(urls: list[tuple[str, dt.datetime]], *, yoast: bool) -> str:
    rows = "".join(
        f"\n\t<url>\n\t\t<loc>{xml_escape(url)}</loc>\n\t\t<lastmod>{_utc(lastmod)}</lastmod>\n\t</url>"
        for url, lastmod in urls
    )
    head = _YOAST_XSL if yoast else _CORE_XSL
    return f"{_XML}{head}\n<urlset {_SITEMAP_NS}>{rows}\n</urlset>"


def _xml(text: str, yoast: bool) -> Response:
    if yoast:
        text += "\n<!-- XML Sitemap generated by Yoast SEO -->"
    kind = "text/xml" if yoast else "application/xml"
    return Response(200, text.encode("utf-8"), f"{kind}; charset=UTF-8")


def _page(status: int, message: str) -> Response:
    markup = (
        f'<!DOCTYPE html>\n<html lang="en-US">\n<head>\n<meta charset="UTF-8" />\n'
        f"<title>{message}{DASH}{SITE_NAME}</title>\n</head>\n<body>\n<main>\n"
        f"<h1>{message}</h1>\n</main>\n</body>\n</html>\n"
    )
    return Response(status, markup.encode("utf-8"))


def _conditional(response: Response, headers: dict[str, str]) -> Response:
    """An ETag (and Last-Modified) on a 200; 304 when the request's validators match."""
    etag = '"' + hashlib.sha1(response.body).hexdigest()[:20] + '"'
    response.headers["ETag"] = etag
    validators = {"ETag": etag}
    modified = response.last_modified
    if modified is not None:
        response.headers["Last-Modified"] = validators["Last-Modified"] = _http_date(modified)
    not_modified = Response(304, headers=validators)
    if "if-none-match" in headers:  # takes precedence over If-Modified-Since (RFC 9110)
        tags = {t.strip().removeprefix("W/") for t in headers["if-none-match"].split(",")}
        return not_modified if "*" in tags or etag in tags else response
    since = headers.get("if-modified-since")
    if since and modified is not None:
        with contextlib.suppress(TypeError, ValueError):
            if modified.replace(microsecond=0) <= email.utils.parsedate_to_datetime(since):
                return not_modified
    return response
