"""Hostile and broken discovery documents: planted answers, endless listings, and their bodies.

    site.plant("/post-sitemap-bad.xml", gzip_bomb(), child=True)   # listed in sitemap_index.xml
    site.plant("/post-sitemap-big.xml", lambda: dead_urlset(200_000), child=True)
    site.endless = "repeat"   # /news/ never ends: past its last page, that page again
    site.endless = "new"      # ... or pages of new statement URLs that all answer 404

A planted answer is a :class:`Response` or a function giving one (built when asked: a
200,000-URL sitemap is made in memory per request, never stored). Planted paths answer before
anything else; ``child=True`` also lists the path in the Yoast sitemap index, with ``lastmod``.
"""

from __future__ import annotations

import datetime as dt
import functools
import gzip
import threading
from collections.abc import Callable

from tests.fixture_site.answers import Response, _page
from tests.fixture_site.content import ORIGIN, _Entry

Answer = Response | Callable[[], Response]
ENDLESS = ("", "repeat", "new")
_SITEMAP_NS = 'xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"'


@functools.cache
def _bomb(size: int) -> bytes:
    return gzip.compress(b"<" + b" " * size, compresslevel=9, mtime=0)


def gzip_bomb(size: int = 25_000_000) -> Response:
    """A small gzip body (about 25 KB) that inflates past the crawler's 20 MB cap."""
    return Response(200, _bomb(size), "application/x-gzip")


def html_page(message: str = "Service temporarily unavailable") -> Response:
    """An HTML error page answered with 200, as a CDN gives in place of a sitemap."""
    return _page(200, message)


def broken_xml() -> Response:
    return Response(200, b'<?xml version="1.0"?><urlset><url><loc>', "application/xml")


def dead_urlset(count: int, *, prefix: str = "dead") -> Response:
    """A urlset of ``count`` statement URLs that the site does not serve (they answer 404);
    about 70 bytes a URL: 200,000 of them are 14 MB, under the crawler's 20 MB cap."""
    rows = "".join(
        f"<url><loc>{ORIGIN}/articles/2020/01/{prefix}-{i}/</loc></url>\n" for i in range(count)
    )
    text = f'<?xml version="1.0" encoding="UTF-8"?>\n<urlset {_SITEMAP_NS}>\n{rows}</urlset>'
    return Response(200, text.encode(), "application/xml; charset=UTF-8")


class _Hostile:
    """The hostile side of :class:`~tests.fixture_site.site.FixtureSite`."""

    _lock: threading.RLock
    _planted: dict[str, Answer]
    _planted_children: dict[str, dt.datetime]
    endless: str  # "" | "repeat" | "new": what /news/ gives past its last page

    def url_path(self, url: str) -> str:
        raise NotImplementedError  # the site's

    def plant(
        self, path: str, answer: Answer, *, child: bool = False, lastmod: dt.datetime | None = None
    ) -> None:
        """Answer ``answer`` at ``path``; with ``child``, list it in the Yoast sitemap index."""
        with self._lock:
            where = self.url_path(path)
            self._planted[where] = answer
            if child:
                when = lastmod or dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
                self._planted_children[where.lstrip("/")] = when

    def unplant(self, path: str) -> None:
        """Serve ``path`` as the site would again; it leaves the sitemap index."""
        with self._lock:
            where = self.url_path(path)
            self._planted.pop(where, None)
            self._planted_children.pop(where.lstrip("/"), None)

    def _planted_answer(self, path: str) -> Response | None:
        answer = self._planted.get(path)
        return answer() if callable(answer) else answer

    def _endless_entries(self, page: int, last: list[_Entry], size: int) -> list[_Entry]:
        """Listing items of a page past the end: the last page's again, or new dead URLs."""
        if self.endless == "repeat":
            return last
        when = dt.datetime(2020, 1, 1, tzinfo=dt.UTC) - dt.timedelta(days=page)
        urls = (f"{ORIGIN}/articles/2020/01/endless-{page}-{i}/" for i in range(size))
        return [_Entry(0, url, "articles", "Endless", "", when, None) for url in urls]
