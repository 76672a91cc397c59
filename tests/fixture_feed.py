"""A fixture WordPress site for the ``feed_items`` kind, over real HTTP on 127.0.0.1 (port 0).

It serves ``/robots.txt``, the press-release feed (RSS 2.0 as WordPress writes it: ``guid``
``?page_id=N``, ``dc:creator``, an empty ``category``, the full body in ``content:encoded``) of
its newest ``feed_size`` posts, a plain sitemap (``/sitemap.xml``, a ``urlset`` of every post)
and each post's page (``h1``, ``article:published_time``, ``div.entry-content``, the shortlink).
On demand it edits a post, moves it to a new slug (the old URL then 404s), removes it (404/410)
or leaves it out of the sitemap. Or it serves given feed bytes as they are (``raw``: the real
captures of ../shared, read in place). The feed has an ETag and answers 304 to a matching
``If-None-Match`` (as WordPress does), unless ``etags`` is off. Every request is counted.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import html
import threading
from dataclasses import dataclass, field
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

ORIGIN = "https://www.example.gov"
FEED_PATH = "/rss-feed/press-releases/feed/"
T0 = dt.datetime(2026, 11, 2, 14, 0, tzinfo=dt.UTC)

#: A seed of the feed_items kind for this fixture (written to a folder by the tests).
SEED = """\
name = "wpfeed"
title = "A WordPress site read from its feed"
kind = "feed_items"
origin = "https://www.example.gov"
allowed_hosts = ["www.example.gov"]
timezone = "America/New_York"
statement_url = '/[a-z0-9][a-z0-9-]*/'

[feed_items]
urls = ["/rss-feed/press-releases/feed/"]
tags = "press-releases"

[sitemap]
urls = ["/sitemap.xml"]

[selectors.article]
title = "h1.headline"
body = "div.entry-content"
published_meta = "article:published_time"
modified_meta = ""
remove = ["script", "input[type=hidden]"]
stable_id = 'link[rel="shortlink"]'
stable_id_pattern = '[?&](?:p|page_id)=(\\d+)'

[archive]
key_order = "alphabetical"
"""


@dataclass
class Post:
    number: int
    slug: str
    title: str
    body: str  # HTML
    published: dt.datetime

    @property
    def path(self) -> str:
        return f"/{self.slug}/"


def post(n: int) -> Post:
    """Made-up post number ``n`` (newer as ``n`` grows)."""
    return Post(
        number=1000 + n,
        slug=f"statement-number-{n}",
        title=f"Statement Number {n}",
        body=f"<p>Office of the Spokesperson</p>\n<p>Statement {n} says this.</p>\n"
        '<p><input type="hidden" data-filter="111000000001" /></p>',
        published=T0 + dt.timedelta(hours=n),
    )


@dataclass
class FixtureFeed:
    posts: int = 0  # made-up posts
    feed_size: int = 10
    raw: bytes | None = None  # feed bytes served as they are (a real capture)
    trailer: bool = False  # WordPress's "The post ... appeared first on ..." in each item
    items: dict[int, Post] = field(default_factory=dict)  # number -> post
    gone: dict[str, int] = field(default_factory=dict)  # path -> 404/410
    unlisted: set[int] = field(default_factory=set)  # posts left out of the sitemap
    hidden: set[int] = field(default_factory=set)  # posts left out of the feed
    requests: list[str] = field(default_factory=list)
    feed_path: str = FEED_PATH
    etags: bool = True  # the feed answers with an ETag, and 304 to If-None-Match (as WordPress)
    not_modified: int = 0  # feed requests answered 304

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        for n in range(self.posts):
            self.add(post(n))

    def start(self) -> FixtureFeed:
        self._server = _Server(self)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def __enter__(self) -> FixtureFeed:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        assert self._server is not None, "not started"
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    # -- controls -------------------------------------------------------------------------------

    def add(self, item: Post) -> None:
        with self._lock:
            self.items[item.number] = item

    def edit(self, number: int, *, body: str | None = None, title: str | None = None) -> None:
        with self._lock:
            item = self.items[number]
            item.body = body if body is not None else item.body
            item.title = title if title is not None else item.title

    def move(self, number: int, slug: str) -> None:
        with self._lock:
            item = self.items[number]
            self.gone[item.path] = 404
            item.slug = slug

    def remove(self, number: int, status: int = 410) -> None:
        with self._lock:
            item = self.items.pop(number)
            self.gone[item.path] = status

    def count(self, prefix: str = "") -> int:
        with self._lock:
            return sum(path.startswith(prefix) for path in self.requests)

    def counts(self) -> tuple[int, int, int, int]:
        """(robots.txt, feed, sitemap, pages) asked for since the counts were reset."""
        with self._lock:
            paths = list(self.requests)
        robots = paths.count("/robots.txt")
        feed = paths.count(self.feed_path)
        sitemap = paths.count("/sitemap.xml")
        return robots, feed, sitemap, len(paths) - robots - feed - sitemap

    def reset_counts(self) -> None:
        with self._lock:
            self.requests.clear()

    # -- answers --------------------------------------------------------------------------------

    def answer(self, target: str, headers: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
        status, kind, body = self._answer(urlsplit(target).path, headers)
        extra = {"Content-Type": kind}
        if urlsplit(target).path == self.feed_path and status in (200, 304):
            extra["ETag"] = _etag(body) if status == 200 else headers["if-none-match"]
        return status, extra, b"" if status == 304 else body

    def _answer(self, path: str, headers: dict[str, str]) -> tuple[int, str, bytes]:
        with self._lock:
            self.requests.append(path)
            if path == "/robots.txt":
                return 200, "text/plain", b"User-agent: *\nDisallow: /wp-admin/\n"
            if path == self.feed_path:
                body = self.raw if self.raw is not None else self._feed()
                if self.etags and headers.get("if-none-match") == _etag(body):
                    self.not_modified += 1
                    return 304, "application/rss+xml; charset=UTF-8", body
                return 200, "application/rss+xml; charset=UTF-8", body
            if path == "/sitemap.xml" and self.raw is None:
                return 200, "application/xml", self._sitemap()
            if path in self.gone:
                return self.gone[path], "text/html", b"<html><title>Gone</title></html>"
            item = next((i for i in self.items.values() if i.path == path), None)
            if item is None:
                return 404, "text/html", b"<html><title>Not found</title></html>"
            return 200, "text/html; charset=UTF-8", _page(item).encode()

    def _newest(self) -> list[Post]:
        return sorted(self.items.values(), key=lambda i: i.published, reverse=True)

    def _feed(self) -> bytes:
        shown = [i for i in self._newest() if i.number not in self.hidden][: self.feed_size]
        items = "".join(_item(i, self.trailer) for i in shown)
        return (
            '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"\n'
            '\txmlns:content="http://purl.org/rss/1.0/modules/content/"\n'
            '\txmlns:dc="http://purl.org/dc/elements/1.1/"\n\t>\n<channel>\n'
            "\t<title>Press Releases &#8211; Example</title>\n"
            f"\t<link>{ORIGIN}</link>\n{items}</channel>\n</rss>\n"
        ).encode()

    def _sitemap(self) -> bytes:
        urls = "".join(
            f"<url><loc>{ORIGIN}{i.path}</loc><lastmod>{i.published.isoformat()}</lastmod></url>"
            for i in self._newest()
            if i.number not in self.unlisted
        )
        return (
            '<?xml version="1.0" encoding="UTF-8"?>'
            f'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{urls}</urlset>'
        ).encode()


def _etag(body: bytes) -> str:
    return '"' + hashlib.sha256(body).hexdigest()[:16] + '"'


def _item(item: Post, trailer: bool) -> str:
    body = item.body
    if trailer:
        body += (
            f'\n<p>The post <a href="{ORIGIN}{item.path}">{html.escape(item.title)}</a> '
            f'appeared first on <a href="{ORIGIN}">Example</a>.</p>'
        )
    return (
        "\t<item>\n"
        f"\t\t<title>{html.escape(item.title)}</title>\n"
        f"\t\t<link>{ORIGIN}{item.path}</link>\n"
        "\t\t<dc:creator><![CDATA[Office of the Spokesperson]]></dc:creator>\n"
        f"\t\t<pubDate>{format_datetime(item.published)}</pubDate>\n"
        "\t\t<category><![CDATA[]]></category>\n"
        f'\t\t<guid isPermaLink="false">{ORIGIN}/?page_id={item.number}</guid>\n'
        f"\t\t<description><![CDATA[{body}]]></description>\n"
        f"\t\t<content:encoded><![CDATA[{body}]]></content:encoded>\n"
        "\t</item>\n"
    )


def _page(item: Post) -> str:
    return (
        "<!doctype html><html><head>"
        f"<title>{html.escape(item.title)} - Example</title>"
        f'<meta property="article:published_time" content="{item.published.isoformat()}">'
        f'<link rel="shortlink" href="{ORIGIN}/?page_id={item.number}">'
        "</head><body>"
        f'<h1 class="headline">{html.escape(item.title)}</h1>'
        f'<div class="entry-content">{item.body}</div>'
        "</body></html>"
    )


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, fixture: FixtureFeed) -> None:
        self.fixture = fixture
        super().__init__(("127.0.0.1", 0), _Handler)


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        headers = {name.lower(): value for name, value in self.headers.items()}
        status, extra, body = self.server.fixture.answer(self.path, headers)
        self.send_response(status)
        for name, value in extra.items():
            self.send_header(name, value)
        if status != 304:
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if status != 304:
            self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass
