"""A fake www.whitehouse.gov on 127.0.0.1, for testing the crawler end to end over a real socket.

The pages are the real site's markup, cut into templates at run time from the saved pages in
``../shared/pages/whitehouse.gov-2025``, around statements of the public archive. Links in
listings, sitemaps and feeds point at the real origin (https://www.whitehouse.gov) as the real
site's do; the crawler maps them onto the fixture with ``--base-url``.

    with FixtureSite(texts) as site:             # texts: archive file texts
        httpx.get(site.base_url + "/news/")
        site.edit(url, other_text)                # the site changes under the crawler
        site.fail("/news/page/2/", "status", status=503, retry_after=2)
        site.plant("/post-sitemap-bad.xml", gzip_bomb(), child=True)   # a hostile child sitemap
        site.endless = "repeat"                   # /news/ never ends

By hand, from the project root (prints the base URL, serves until Ctrl-C)::

    python -m tests.fixture_site --port 8000 --count 500

The package, one concern a module (tests import from here only):

- ``content``: the seed imitated, the archive texts it can serve, their bodies as HTML;
- ``templates``: the saved real pages cut into templates with named holes;
- ``formatting``: dates, escapes and excerpts as the real site writes them;
- ``answers``: what a GET gets (articles, listings, feed, sitemaps, 404s, ETags and 304s);
- ``faults``: errors, stalls, resets and truncations, queued or at random;
- ``wpapi``: the WordPress REST API (``/wp-json/wp/v2/posts``) over the same posts, with
  switches that disable it or make it stop tracking the pages;
- ``hostile``: planted answers (gzip bombs, HTML pages answered 200, huge sitemaps of dead URLs)
  and endless listings;
- ``site``: :class:`FixtureSite`, its state and the methods tests drive it with;
- ``server``: the threading HTTP server; ``cli``: the command line (``__main__`` runs it).
"""

from __future__ import annotations

from tests.fixture_site.answers import Response
from tests.fixture_site.cli import main
from tests.fixture_site.content import (
    ARTICLE_PAGE,
    DASH,
    DEFAULT_ROBOTS,
    LISTING_PAGE,
    ORIGIN,
    PAGES,
    READERS,
    SEED,
    SITE_NAME,
    _aware,
    _lastmod,
    category_label,
    corpus_texts,
    render_bodies,
    seed,
    usable_texts,
)
from tests.fixture_site.faults import FAULT_KINDS
from tests.fixture_site.hostile import broken_xml, dead_urlset, gzip_bomb, html_page
from tests.fixture_site.site import FixtureSite

__all__ = [
    "ARTICLE_PAGE",
    "DASH",
    "DEFAULT_ROBOTS",
    "FAULT_KINDS",
    "LISTING_PAGE",
    "ORIGIN",
    "PAGES",
    "READERS",
    "SEED",
    "SITE_NAME",
    "FixtureSite",
    "Response",
    "_aware",
    "_lastmod",
    "broken_xml",
    "category_label",
    "corpus_texts",
    "dead_urlset",
    "gzip_bomb",
    "html_page",
    "main",
    "render_bodies",
    "seed",
    "usable_texts",
]
