"""A fake www.whitehouse.gov on 127.0.0.1, for testing the crawler end to end over a real socket.

The pages are the real site's markup, cut into templates at run time from the saved pages in
``../shared/pages/whitehouse.gov-2025``, around statements of the public archive. Links in
listings, sitemaps and feeds point at the real origin (https://www.whitehouse.gov) as the real
site's do; the crawler maps them onto the fixture with ``--base-url``.

    with FixtureSite(texts) as site:             # texts: archive file texts
        httpx.get(site.base_url + "/news/")
        site.edit(url, other_text)                # the site changes under the crawler
        site.fail("/news/page/2/", "status", status=503, retry_after=2)

By hand, from the project root (prints the base URL, serves until Ctrl-C)::

    python -m tests.fixture_site --port 8000 --count 500
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import email.utils
import gzip
import hashlib
import html
import json
import os
import random
import re
import socket
import struct
import sys
import tarfile
import threading
import time
import traceback
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from functools import cache
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from xml.sax.saxutils import escape as xml_escape

from bs4 import BeautifulSoup, Tag
from bs4.element import NavigableString

from crawler.convert import convert_many
from crawler.source import Source, load_source
from storage.document import Statement, loads
from storage.errors import DocumentError
from tests.conftest import CORPUS, PROJECT, SHARED

ORIGIN = "https://www.whitehouse.gov"
SEED = PROJECT / "seeds" / "whitehouse.toml"
PAGES = SHARED / "pages" / "whitehouse.gov-2025"
ARTICLE_PAGE = PAGES / "article" / "articles_2025-03-14_week-eight-wins_PRETTIFIED.html"
LISTING_PAGE = PAGES / "listing" / "briefings-statements_page1_2026-03-12.html"
DEFAULT_ROBOTS = "User-agent: *\nAllow: /\n"
FAULT_KINDS = ("status", "stall", "reset", "truncate")
SITE_NAME = "The White House"
DASH = " &#8211; "  # WordPress writes the title separator as an entity
_LABELS = {"briefings-statements": "Briefings & Statements"}
_LISTING_PATH = re.compile(r"/(?P<section>[a-z0-9-]+)/(?:page/(?P<page>\d+)/)?")


def category_label(category: str) -> str:
    """The name the site shows for a category slug ("fact-sheets" -> "Fact Sheets")."""
    return _LABELS.get(category, category.replace("-", " ").title())


@cache
def seed() -> Source:
    return load_source(SEED)


# -- statements --------------------------------------------------------------------------------


def _usable(text: str) -> tuple[Statement, str] | None:
    """The statement and its category, when the text is a statement of the current site."""
    if ORIGIN + "/" not in text:  # fast path: most of the corpus is from elsewhere
        return None
    try:
        statement = loads(text)
        url = statement.source_url
    except DocumentError:
        return None
    match = seed().statement_match(url) if url.startswith(ORIGIN + "/") else None
    if match is None or statement.published_time is None:
        return None
    return statement, match["tags"]


def _latest(texts: Iterable[str]) -> list[tuple[Statement, str, str]]:
    """(statement, category, text) of the usable texts, one per URL (the latest), oldest first."""
    latest: dict[str, tuple[Statement, str, str]] = {}
    for text in texts:
        if hit := _usable(text):
            known = latest.get(hit[0].source_url)
            if known is None or _lastmod(hit[0]) >= _lastmod(known[0]):
                latest[hit[0].source_url] = (*hit, text)
    return sorted(latest.values(), key=lambda found: _aware(found[0].published_time))


def usable_texts(texts: Iterable[str], count: int | None = None) -> list[str]:
    """The texts the site can serve (current whitehouse.gov statements), newest first."""
    return [text for _, _, text in _latest(texts)[::-1][:count]]


def corpus_texts(path: Path = CORPUS) -> list[str]:
    """Every statement file text of the public archive (``../shared/corpus``)."""
    with tarfile.open(path) as tar:
        return [
            tar.extractfile(m).read().decode("utf-8")  # type: ignore[union-attr]
            for m in tar
            if m.isfile() and m.name.endswith(".md")
        ]


_BODY_HTML: dict[tuple[str, str], str] = {}
_BODY_LOCK = threading.Lock()
#: How the site reads an archive body. ``commonmark`` is truer to the pages the public archive
#: was written from where pandoc's strict reader is not: a wrapped line starting "2030." stays
#: text (not a list item numbered 1), ``utm_source`` keeps its underscore.
READERS = ("markdown_strict", "commonmark")


def render_bodies(bodies: list[str], reader: str = "markdown_strict") -> list[str]:
    """Markdown bodies as HTML, converted once per process (batched pandoc runs)."""
    with _BODY_LOCK:
        missing = list(dict.fromkeys(b for b in bodies if (reader, b) not in _BODY_HTML))
    if missing:
        jobs = max(2, os.cpu_count() or 2)
        done = convert_many(missing, reader=reader, writer="html", jobs=jobs)
        with _BODY_LOCK:
            _BODY_HTML.update(((reader, b), h) for b, h in zip(missing, done, strict=True))
    with _BODY_LOCK:
        return [_BODY_HTML[reader, b] for b in bodies]


@dataclass
class _Entry:
    """One statement as the site serves it."""

    post_id: int
    url: str
    category: str
    title: str
    body_html: str
    published: dt.datetime
    modified: dt.datetime | None
    gone: int | None = None  # the status answered while removed
    page: bytes | None = None  # rendered article page, dropped on every change
    excerpt: str = ""

    @property
    def lastmod(self) -> dt.datetime:
        return self.modified or self.published

    def set_content(self, title: str, body_html: str) -> None:
        self.title, self.body_html, self.page = title, body_html, None
        self.excerpt = " ".join(html.unescape(re.sub(r"<[^>]+>", " ", body_html)).split())


# -- templates: the saved real pages with named holes --------------------------------------------

_HOLE = re.compile(r"@@(\w+)@@")


def _hole(name: str) -> str:
    return f"@@{name}@@"


class _Template:
    """Markup with named holes, split once so that rendering is a single join."""

    def __init__(self, markup: str) -> None:
        self._parts = _HOLE.split(markup)

    def render(self, **values: str) -> str:
        parts = list(self._parts)
        parts[1::2] = [values[name] for name in self._parts[1::2]]
        return "".join(parts)


@dataclass(frozen=True)
class _Templates:
    article: _Template
    listing: _Template
    item: _Template
    pagination: _Template


@cache
def _templates() -> _Templates:
    return _Templates(_article_template(), *_listing_templates())


def _soup(path: Path) -> BeautifulSoup:
    return BeautifulSoup(path.read_text(encoding="utf-8"), "html.parser")


def _one(node: Tag, selector: str) -> Tag:
    found = node.select_one(selector)
    if found is None:
        raise ValueError(f"the saved page has no {selector!r}: the template needs updating")
    return found


def _swap_in_scripts(soup: BeautifulSoup, swaps: dict[str, str]) -> None:
    for script in soup.find_all("script"):
        text = script.string
        if text and any(old in text for old in swaps):
            for old, new in swaps.items():
                text = text.replace(old, new)
            script.string = text


def _article_template() -> _Template:
    soup = _soup(ARTICLE_PAGE)
    topper = _one(soup, "main > div.entry-content > div.wp-block-whitehouse-topper")
    eyebrow = _one(topper, ".wp-block-whitehouse-topper__eyebrow a")
    body = _one(soup, "body")
    post_id = re.search(r"postid-(\d+)", " ".join(body["class"]))
    assert post_id is not None
    label = eyebrow.get_text(strip=True)
    date = str(_one(topper, "time[datetime]")["datetime"])[:10]
    # The page's own values, in its JSON-LD graph and its analytics data:
    _swap_in_scripts(
        soup,
        {
            str(_one(soup, 'meta[property="og:url"]')["content"]): _hole("json_url"),
            str(_one(soup, 'meta[property="og:title"]')["content"]): _hole("json_title"),
            str(_one(soup, 'meta[property="article:published_time"]')["content"]): _hole(
                "published_utc"
            ),
            str(_one(soup, 'meta[property="article:modified_time"]')["content"]): _hole(
                "lastmod_utc"
            ),
            f"'{post_id[1]}'": f"'{_hole('post_id')}'",
            f"'{date}'": f"'{_hole('date')}'",
            f"'Categories: {label}'": f"'Categories: {_hole('js_label')}'",
        },
    )
    _one(soup, "title").string = _hole("title")
    for selector, attribute, name in (
        ('link[rel="canonical"]', "href", "url"),
        ('meta[property="og:url"]', "content", "url"),
        ('meta[property="og:title"]', "content", "og_title"),
        ('meta[name="description"]', "content", "description"),
        ('meta[property="og:description"]', "content", "description"),
        ('meta[property="article:published_time"]', "content", "published_utc"),
    ):
        _one(soup, selector)[attribute] = _hole(name)
    _one(soup, 'meta[property="article:modified_time"]').replace_with(_hole("modified_meta"))
    body["class"] = " ".join(body["class"]).replace(post_id[0], "postid-" + _hole("post_id"))
    # The topper: category link, headline, date; then the body blocks.
    eyebrow["href"] = _hole("category_url")
    first = eyebrow.contents[0]
    assert isinstance(first, NavigableString)
    first.replace_with(_hole("category_label"))
    _one(topper, "h1.wp-block-whitehouse-topper__headline").string = _hole("heading")
    when = _one(topper, "time[datetime]")
    when["datetime"], when.string = _hole("published_local"), _hole("date_text")
    for node in list(topper.next_siblings):
        node.extract()
    topper.insert_after("\n\n" + _hole("body") + "\n")
    return _Template(str(soup))


def _listing_templates() -> tuple[_Template, _Template, _Template]:
    soup = _soup(LISTING_PAGE)
    heading = _one(soup, "main h1.wp-block-whitehouse-topper__headline")
    _swap_in_scripts(
        soup,
        {
            str(_one(soup, 'link[rel="canonical"]')["href"]): _hole("json_url"),
            html.escape(heading.get_text(strip=True), quote=False): _hole("json_label"),
        },
    )
    heading.string = _hole("heading")
    _one(soup, "title").string = _hole("title")
    _one(soup, 'link[rel="canonical"]')["href"] = _hole("page_url")
    _one(soup, 'meta[property="og:url"]')["content"] = _hole("page_url")
    _one(soup, 'meta[property="og:title"]')["content"] = _hole("og_title")
    _one(soup, 'link[rel="next"]').replace_with(_hole("head_links"))
    _one(soup, "body")["class"] = _hole("body_class")
    for form in soup.select("main form[role=search]"):
        form["action"] = _hole("section_url")
    posts = _one(soup, "main ul.wp-block-post-template")
    item = _item_template(_one(posts, "li.wp-block-post"))
    posts.clear()
    posts.append(_hole("items"))
    nav = _one(soup, "main nav.wp-block-query-pagination")
    nav.clear()
    nav.append(_hole("links"))
    pagination = _Template(str(nav))
    nav.replace_with(_hole("pagination"))
    return _Template(str(soup)), item, pagination


def _item_template(item: Tag) -> _Template:
    item["data-wp-key"] = "post-template-item-" + _hole("post_id")
    classes = " ".join(item["class"])
    classes = re.sub(r"\bpost-\d+\b", "post-" + _hole("post_id"), classes)
    item["class"] = re.sub(r"\bcategory-[a-z0-9-]+", "category-" + _hole("category"), classes)
    link = _one(item, "h2.wp-block-post-title a")
    link["href"], link.string = _hole("url"), _hole("title")
    tag = _one(item, ".taxonomy-category a[rel=tag]")
    tag["href"], tag.string = _hole("category_url"), _hole("category_label")
    when = _one(item, ".wp-block-post-date time[datetime]")
    when["datetime"], when.string = _hole("published_local"), _hole("date_text")
    return _Template(str(item))


def _pagination_links(page: int, pages: int, url: Callable[[int], str]) -> str:
    """WordPress's paginate_links (end_size 1, mid_size 2) in the block theme's markup."""
    action = 'data-wp-on--click="core/query::actions.navigate"'
    links: list[str] = []
    if page > 1:
        links.append(
            f'<a data-wp-key="query-pagination-previous" {action} href="{url(page - 1)}" '
            'class="wp-block-query-pagination-previous">Prev</a>'
        )
    numbers: list[str] = []
    dots = False
    for n in range(1, pages + 1):
        key = f'data-wp-key="index-{len(numbers)}"'
        if n == page:
            numbers.append(
                f'<span {key} aria-current="page" class="page-numbers current">{n}</span>'
            )
            dots = True
        elif n <= 1 or n > pages - 1 or abs(n - page) <= 2:
            numbers.append(f'<a {key} {action} class="page-numbers" href="{url(n)}">{n}</a>')
            dots = True
        elif dots:
            numbers.append(f'<span {key} class="page-numbers dots">&hellip;</span>')
            dots = False
    links.append('<div class="wp-block-query-pagination-numbers">' + "\n".join(numbers) + "</div>")
    if page < pages:
        links.append(
            f'<a data-wp-key="query-pagination-next" {action} href="{url(page + 1)}" '
            'class="wp-block-query-pagination-next">Next</a>'
        )
    return "\n\n" + "\n\n".join(links) + "\n"


# -- formatting -----------------------------------------------------------------------------------


def _aware(value: dt.datetime | None) -> dt.datetime:
    """A statement time, in the site's zone when the file gave none."""
    assert value is not None
    return value if value.utcoffset() is not None else value.replace(tzinfo=seed().tz)


def _lastmod(statement: Statement) -> dt.datetime:
    return _aware(statement.modified_time or statement.published_time)


def _iso(value: dt.datetime) -> str:
    return value.isoformat(timespec="seconds")


def _utc(value: dt.datetime) -> str:
    return _iso(value.astimezone(dt.UTC))


def _http_date(value: dt.datetime) -> str:
    return email.utils.format_datetime(value.astimezone(dt.UTC), usegmt=True)


def _date_text(value: dt.datetime) -> str:
    return f"{value:%B} {value.day}, {value.year}"


def _attr(text: str) -> str:
    return html.escape(text, quote=True)


def _text(text: str) -> str:
    return html.escape(text, quote=False)


def _json(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)[1:-1].replace("</", "<\\/")


def _cdata(text: str) -> str:
    return "<![CDATA[" + text.replace("]]>", "]]]]><![CDATA[>") + "]]>"


def _shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit].rsplit(" ", 1)[0]


# -- the site --------------------------------------------------------------------------------------


@dataclass
class Response:
    status: int
    body: bytes = b""
    content_type: str = "text/html; charset=utf-8"
    headers: dict[str, str] = field(default_factory=dict)
    last_modified: dt.datetime | None = None


@dataclass
class _Fault:
    kind: str
    times: int
    status: int = 500
    retry_after: int | None = None


class FixtureSite:
    """The current whitehouse.gov, imitated; every method is safe to call while it serves."""

    def __init__(
        self,
        statements: Iterable[str],
        *,
        page_size: int = 10,
        sitemap_size: int = 1000,
        robots: str = DEFAULT_ROBOTS,
        feed_size: int = 10,
        stall_seconds: float = 5.0,
        fault_rate: float = 0.0,
        fault_seed: int = 0,
        reader: str = "markdown_strict",
    ) -> None:
        if reader not in READERS:
            raise ValueError(f"unknown reader {reader!r}; one of {', '.join(READERS)}")
        self.reader = reader  # how archive bodies become the pages' HTML
        self.page_size, self.sitemap_size, self.feed_size = page_size, sitemap_size, feed_size
        self.robots = robots
        self.stall_seconds = stall_seconds  # how long a "stall" fault holds its answer
        self.fault_rate = fault_rate  # chance of a random fault on a statement page
        self.fault_kinds: tuple[str, ...] = FAULT_KINDS
        self.verbose = False  # log each request on stderr
        self.base_url = ""
        self.requests: list[tuple[float, str, str, dict[str, str]]] = []
        self._lock = threading.RLock()
        self._stopping = threading.Event()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._templates = _templates()
        self._statement_path = re.compile(seed().statement_url)
        self._entries: dict[str, _Entry] = {}  # served path -> statement
        self._redirects: dict[str, tuple[int, str]] = {}  # old path -> (status, Location)
        self._faults: dict[str, list[_Fault]] = {}
        self.injected: Counter[str] = Counter()  # random faults played, by class
        self._next_id = 1000  # WordPress post IDs, in order of publication
        self.fault_seed = fault_seed
        found = _latest(statements)
        bodies = render_bodies([statement.body for statement, _, _ in found], reader)
        for (statement, category, _), body in zip(found, bodies, strict=True):
            self._add(statement, category, body)

    # -- lifecycle

    def start(self, port: int = 0) -> FixtureSite:
        if self._server is not None:
            raise RuntimeError("the fixture site is already serving")
        self._stopping.clear()
        self._server = _Server(self, port)
        host, bound = self._server.server_address[:2]
        self.base_url = f"http://{host!s}:{bound}"
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        server, self._server = self._server, None
        if server is None:
            return
        self._stopping.set()  # ends stalls
        server.shutdown()
        server.drop_connections()
        server.server_close()
        if self._thread is not None:
            self._thread.join(5)

    def __enter__(self) -> FixtureSite:
        return self if self._server is not None else self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- content

    def sync_args(self, archive: Path, *extra: str) -> list[str]:
        """``statements sync`` arguments that crawl this site, politeness off."""
        return [
            "sync",
            "--archive",
            str(archive),
            "--base-url",
            self.base_url,
            "--rate",
            "0",
            *extra,
        ]

    def url_path(self, url: str) -> str:
        """The path the site serves a real URL at."""
        return urlsplit(url).path or "/"

    def urls(self) -> list[str]:
        """The statements' URLs, newest published first (removed ones left out)."""
        with self._lock:
            return [entry.url for entry in self._newest("news")]

    def lastmod(self, url: str) -> dt.datetime:
        """The statement's modified (else published) time: sitemap lastmod and Last-Modified."""
        with self._lock:
            return self._entry(url).lastmod

    def add(self, text: str) -> str:
        """Publish another statement (an archive file text); returns its URL."""
        hit = _usable(text)
        if hit is None:
            raise ValueError("not a statement of the current whitehouse.gov")
        body = render_bodies([hit[0].body], self.reader)[0]
        with self._lock:
            if self.url_path(hit[0].source_url) in self._entries:
                raise ValueError(f"{hit[0].source_url} is already on the site")
            return self._add(hit[0], hit[1], body).url

    def edit(
        self,
        url: str,
        new_text: str,
        *,
        bump_lastmod: bool = True,
        modified: dt.datetime | None = None,
    ) -> None:
        """Replace a statement's title and body with those of another archive text.

        With ``bump_lastmod`` the published time follows the new text and the modified time moves
        to ``modified`` (a replayed edit's own time), by default to now; without it the edit is
        silent: the page changes, its article:modified_time, Last-Modified and sitemap lastmod
        do not.
        """
        new = loads(new_text)
        body = render_bodies([new.body], self.reader)[0]
        with self._lock:
            entry = self._entry(url)
            entry.set_content(new.title, body)
            if bump_lastmod:
                entry.published = _aware(new.published_time or entry.published)
                # Edited now, as a site does: the newest lastmod (so the edit shows in the last
                # sitemap child's lastmod, as Yoast orders its children by modification).
                if modified is not None:
                    entry.modified = _aware(modified)
                    return
                now = dt.datetime.now(seed().tz).replace(microsecond=0)
                old = entry.lastmod
                entry.modified = max(now, old + dt.timedelta(seconds=1))

    def move(
        self, old_url: str, new_url: str, status: int = 301, *, relative: bool = False
    ) -> None:
        """Serve a statement at a new URL; the old path redirects there.

        Location is the new real URL, or with ``relative`` its path. A new URL off the site
        (another host) takes the statement off the site: the old path only redirects.
        """
        if status not in (301, 302, 303, 307, 308):
            raise ValueError(f"{status} is not a redirect status")
        on_site = new_url.startswith(ORIGIN + "/")
        match = seed().statement_match(new_url) if on_site else None
        if on_site and match is None:
            raise ValueError(f"{new_url} is not a statement URL of the site")
        with self._lock:
            entry = self._entry(old_url)
            old_path, new_path = self.url_path(old_url), self.url_path(new_url)
            if match and new_path in self._entries:
                raise ValueError(f"{new_url} already serves a statement")
            del self._entries[old_path]
            location = new_url
            if match:
                entry.url, entry.category, entry.page = ORIGIN + new_path, match["tags"], None
                self._entries[new_path] = entry
                self._redirects.pop(new_path, None)
                location = new_path if relative else entry.url
            self._redirects[old_path] = (status, location)

    def remove(self, url: str, status: int = 410) -> None:
        """Take a statement down: its page answers ``status``; listings and sitemaps drop it."""
        with self._lock:
            self._entry(url).gone = status

    def restore(self, url: str) -> None:
        with self._lock:
            self._entry(url).gone = None

    # -- faults and counters

    def fail(
        self,
        path: str,
        kind: str,
        *,
        times: int = 1,
        retry_after: int | None = None,
        status: int = 500,
    ) -> None:
        """Make the next ``times`` requests for a path (or URL) fail.

        "status": answer ``status`` (with Retry-After when given); "stall": hold the answer for
        ``stall_seconds``; "reset": close the connection without answering; "truncate": declare
        a longer Content-Length than the body sent, then close.
        """
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {kind!r}; one of {', '.join(FAULT_KINDS)}")
        if times < 1:
            raise ValueError("times must be at least 1")
        with self._lock:
            queue = self._faults.setdefault(self.url_path(path), [])
            queue.append(_Fault(kind, times, status, retry_after))

    @property
    def fault_seed(self) -> int:
        return self._fault_seed

    @fault_seed.setter
    def fault_seed(self, value: int) -> None:
        with self._lock:
            self._fault_seed, self._random = value, random.Random(value)

    def count(self, path_prefix: str = "") -> int:
        with self._lock:
            return sum(1 for _, _, path, _ in self.requests if path.startswith(path_prefix))

    def statement_requests(self) -> int:
        """Requests for statement pages (whatever the answer), not listings, sitemaps or feeds."""
        with self._lock:
            return sum(1 for r in self.requests if self._is_statement(r[2]))

    def reset_counts(self) -> None:
        with self._lock:
            self.requests.clear()

    # -- internals: state

    def _add(self, statement: Statement, category: str, body: str) -> _Entry:
        published = _aware(statement.published_time)
        modified = statement.modified_time and _aware(statement.modified_time)
        self._next_id += 1
        entry = _Entry(self._next_id, statement.source_url, category, "", "", published, modified)
        entry.set_content(statement.title, body)
        self._entries[self.url_path(entry.url)] = entry
        return entry

    def _entry(self, url: str) -> _Entry:
        entry = self._entries.get(self.url_path(url))
        if entry is None:
            raise KeyError(f"no statement is served at {url}")
        return entry

    def _newest(self, section: str) -> list[_Entry]:
        shown = [
            e for e in self._entries.values() if e.gone is None and section in ("news", e.category)
        ]
        return sorted(shown, key=lambda e: (e.published, e.post_id), reverse=True)

    def _is_statement(self, path: str) -> bool:
        return self._statement_path.fullmatch(urlsplit(path).path) is not None

    def _arrive(self, method: str, target: str, headers: dict[str, str]) -> _Fault | None:
        """Record a request; the fault to play on it, if any."""
        path = self.url_path(target)
        with self._lock:
            self.requests.append((time.monotonic(), method, target, headers))
            queue = self._faults.get(path)
            if queue:
                fault = queue[0]
                fault.times -= 1
                if fault.times <= 0:
                    queue.pop(0)
                return fault
            chance = self.fault_rate if path in self._entries and self.fault_kinds else 0.0
            if chance > 0 and self._random.random() < chance:
                kind = self._random.choice(self.fault_kinds)
                status = self._random.choice((500, 503, 429))
                fault = _Fault(kind, 1, status, 1 if status == 429 else None)
                self.injected[f"HTTP {status}" if kind == "status" else kind] += 1
                return fault
        return None

    # -- internals: answers

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
        if page > pages:
            return None
        base = f"{ORIGIN}/{section}/"

        def url(n: int) -> str:
            return base if n == 1 else f"{base}page/{n}/"

        name = "News" if section == "news" else category_label(section)
        numbering = f"{DASH}Page {page} of {pages}" if page > 1 else ""
        head = [f'<link rel="prev" href="{url(page - 1)}" />'] if page > 1 else []
        head += [f'<link rel="next" href="{url(page + 1)}" />'] if page < pages else []
        kind = "blog" if section == "news" else f"archive category category-{section}"
        paged = (" paged", f" paged-{page}") if page > 1 else ("", "")
        chunk = entries[(page - 1) * self.page_size : page * self.page_size]
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


# -- HTTP ------------------------------------------------------------------------------------------


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, site: FixtureSite, port: int) -> None:
        self.site = site
        self.connections: set[socket.socket] = set()
        self.connections_lock = threading.Lock()
        super().__init__(("127.0.0.1", port), _Handler)

    def drop_connections(self) -> None:
        with self.connections_lock:
            for connection in self.connections:
                with contextlib.suppress(OSError):
                    connection.shutdown(socket.SHUT_RDWR)

    def handle_error(self, request: Any, client_address: Any) -> None:
        if not isinstance(sys.exc_info()[1], OSError):  # a client gone away is no error here
            super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"
    timeout = 30  # idle keep-alive connections

    def setup(self) -> None:
        super().setup()
        # Headers and body go out in separate writes: without this, Nagle's algorithm and the
        # client's delayed ACK hold every small answer on a kept-alive connection for 40 ms.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        with self.server.connections_lock:
            self.server.connections.add(self.connection)

    def finish(self) -> None:
        with self.server.connections_lock:
            self.server.connections.discard(self.connection)
        super().finish()

    def do_GET(self) -> None:
        self._serve(head=False)

    def do_HEAD(self) -> None:
        self._serve(head=True)

    def log_message(self, format: str, *args: Any) -> None:
        if self.server.site.verbose:
            super().log_message(format, *args)

    def _serve(self, *, head: bool) -> None:
        site = self.server.site
        headers = {name.lower(): value for name, value in self.headers.items()}
        fault = site._arrive(self.command, self.path, headers)
        kind = fault.kind if fault else ""
        if kind == "reset":
            return self._reset()
        if kind == "stall" and site._stopping.wait(site.stall_seconds):
            self.close_connection = True
            return None
        if fault and kind == "status":
            response = _page(fault.status, "Error")
            if fault.retry_after is not None:
                response.headers["Retry-After"] = str(fault.retry_after)
        else:
            try:
                response = site.respond(site.url_path(self.path), headers)
            except Exception:
                response = Response(500, traceback.format_exc().encode(), "text/plain")
        return self._send(response, head=head, truncate=kind == "truncate")

    def _send(self, response: Response, *, head: bool, truncate: bool) -> None:
        self.send_response(response.status)
        for name, value in response.headers.items():
            self.send_header(name, value)
        body = response.body
        if response.status != 304:
            self.send_header("Content-Type", response.content_type)
            self.send_header("Content-Length", str(len(body) + (1024 if truncate else 0)))
        self.end_headers()
        if truncate:
            body, self.close_connection = body[: len(body) // 2], True
        if not head and response.status != 304:
            self.wfile.write(body)

    def _reset(self) -> None:
        """Close the connection with a TCP reset, answering nothing."""
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.rfile.close()
        self.connection.close()


# -- by hand --------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tests.fixture_site", description="Serve a fake www.whitehouse.gov."
    )
    parser.add_argument("--port", type=int, default=8000, help="0 picks a free port")
    parser.add_argument("--count", type=int, default=500, help="the newest N statements")
    parser.add_argument("--page-size", type=int, default=10)
    parser.add_argument("--sitemap-size", type=int, default=1000)
    parser.add_argument("--fault-rate", type=float, default=0.0)
    parser.add_argument("--quiet", action="store_true", help="do not log requests")
    args = parser.parse_args(argv)
    for path in (CORPUS, ARTICLE_PAGE, LISTING_PAGE):
        if not path.exists():
            print(f"error: {path} is absent (the real data in ../shared)", file=sys.stderr)
            return 2
    started = time.monotonic()
    texts = usable_texts(corpus_texts(), args.count)
    site = FixtureSite(
        texts,
        page_size=args.page_size,
        sitemap_size=args.sitemap_size,
        fault_rate=args.fault_rate,
    )
    site.verbose = not args.quiet
    site.start(args.port)
    print(site.base_url, flush=True)
    print(
        f"{len(site.urls())} statements, ready in {time.monotonic() - started:.1f} s: "
        f"{site.base_url}/news/ {site.base_url}/sitemap_index.xml {site.base_url}/feed/\n"
        f"crawl it with --base-url {site.base_url} (links name {ORIGIN}); Ctrl-C stops",
        file=sys.stderr,
        flush=True,
    )
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        site.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
