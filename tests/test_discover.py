"""Discovery's parsers on the real whitehouse.gov listing pages, congressional feeds, and small
sitemaps and feeds built here (WordPress core, Yoast, gzip, hostile input)."""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import gzip
import re
import zlib
from pathlib import Path
from typing import NamedTuple
from unittest import mock

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crawler.discover import (
    Found,
    ListingPage,
    parse_feed,
    parse_listing,
    parse_sitemap,
    unwrap_wayback,
)
from crawler.errors import DiscoveryError
from crawler.source import Sitemap, Source, load_source
from tests.conftest import PROJECT, SHARED, need
from tests.fixture_site import FixtureSite, corpus_texts, usable_texts
from tests.fixture_site.content import CORPUS

PAGES = SHARED / "pages" / "whitehouse.gov-2025"
CONGRESS = SHARED / "pages" / "congress"
WH = "https://www.whitehouse.gov"
ET = dt.timezone(dt.timedelta(hours=-5))
EDT = dt.timezone(dt.timedelta(hours=-4))


@pytest.fixture(scope="module")
def source() -> Source:
    return load_source(PROJECT / "seeds" / "whitehouse.toml")


# -- listing pages ----------------------------------------------------------------------------


class Item(NamedTuple):
    title: str
    path: str
    published: dt.datetime
    category: str


class Expected(NamedTuple):
    url: str  # where the page was fetched from
    n_items: int
    page: int
    pages: int
    next_path: str | None
    first: Item
    last: Item


W_NOV, W_FEB, W_OCT = (
    f"https://web.archive.org/web/{ts}/"
    for ts in ("20251106172716", "20250201000445", "20251010113941")
)
LISTINGS = {
    "listing/briefings-statements_page1_2026-03-12.html": Expected(
        f"{WH}/briefings-statements/", 10, 1, 32, "/briefings-statements/page/2/",
        Item("America 250: Presidential Message Celebrating the Life of Harriet Tubman",
             "/briefings-statements/2026/03/america-250-presidential-message-celebrating-the-life-of-harriet-tubman/",
             dt.datetime(2026, 3, 10, 13, 41, 22, tzinfo=EDT), "briefings-statements"),
        Item("65th Anniversary of the Peace Corps",
             "/briefings-statements/2026/03/65th-anniversary-of-the-peace-corps/",
             dt.datetime(2026, 3, 1, 20, 25, tzinfo=ET), "briefings-statements"),
    ),
    "listing/briefings-statements_page2_2025-06-23.html": Expected(
        f"{WH}/briefings-statements/page/2/", 10, 2, 12, "/briefings-statements/page/3/",
        Item("First Lady Melania Trump\u2019s Message to Federal Trade Commission Underscores "
             "Commitment to Child Protection Online",
             "/briefings-statements/2025/06/first-lady-melania-trumps-message-to-federal-trade-commission-underscores-commitment-to-child-protection-online/",
             dt.datetime(2025, 6, 4, 17, 50, tzinfo=EDT), "briefings-statements"),
        Item("President Trump Announces Presidential Delegation to the Republic of Ecuador to "
             "Attend the Inauguration of His Excellency Daniel Noboa",
             "/briefings-statements/2025/05/president-trump-announces-presidential-delegation-to-the-republic-of-ecuador-to-attend-the-inauguration-of-his-excellency-daniel-noboa/",
             dt.datetime(2025, 5, 20, 16, 33, 3, tzinfo=EDT), "briefings-statements"),
    ),
    "listing/news_page1_2025-03-15_PRETTIFIED.html": Expected(
        f"{WH}/news/", 10, 1, 34, "/news/page/2/",
        Item("WEEK EIGHT WINS: A Testament to American Greatness Under President Trump",
             "/articles/2025/03/week-eight-wins-a-testament-to-american-greatness-under-president-trump/",
             dt.datetime(2025, 3, 14, 17, 14, 4, tzinfo=EDT), "articles"),
        Item("SUNDAY SHOWS: The Golden Age of America Is Here",
             "/articles/2025/03/sunday-shows-the-golden-age-of-america-is-here/",
             dt.datetime(2025, 3, 9, 15, 57, 41, tzinfo=EDT), "articles"),
    ),
    "listing/news_page2_2025-03-15_PRETTIFIED.html": Expected(
        f"{WH}/news/page/2/", 10, 2, 34, "/news/page/3/",
        Item("Press Gaggle by President Trump", "/remarks/2025/03/press-gaggle-by-president-trump/",
             dt.datetime(2025, 3, 9, 14, 20, 1, tzinfo=EDT), "remarks"),
        Item("First Lady Melania Trump Announces 2025 Spring Garden Tours",
             "/briefings-statements/2025/03/first-lady-melania-trump-announces-2025-spring-garden-tours/",
             dt.datetime(2025, 3, 7, 10, 50, 34, tzinfo=ET), "briefings-statements"),
    ),
    "listing-wayback/news_page128_of128_wayback_20251106.html": Expected(
        f"{W_NOV}{WH}/news/page/128/", 3, 128, 128, None,
        Item("President Trump Announces Sub-Cabinet Appointments",
             "/presidential-actions/2025/01/sub-cabinet-appointments/",
             dt.datetime(2025, 1, 20, 14, 35, tzinfo=ET), "presidential-actions"),
        Item("President Trump\u2019s America First Priorities",
             "/briefings-statements/2025/01/president-trumps-america-first-priorities/",
             dt.datetime(2025, 1, 20, 14, 0, 12, tzinfo=ET), "briefings-statements"),
    ),
    "listing-wayback/news_page1_wayback_20250201.html": Expected(
        f"{W_FEB}{WH}/news/", 10, 1, 13, "/news/page/2/",
        Item("Limiting Lame-Duck Collective Bargaining Agreements That Improperly Attempt to "
             "Constrain the New President",
             "/uncategorized/2025/01/limiting-lame-duck-collective-bargaining-agreements-that-improperly-attempt-to-constrain-the-new-president/",
             dt.datetime(2025, 1, 31, 18, 44, 47, tzinfo=ET), "uncategorized"),
        Item("Celebrating America\u2019s 250th Birthday",
             "/presidential-actions/2025/01/celebrating-americas-250th-birthday/",
             dt.datetime(2025, 1, 29, 17, 34, 10, tzinfo=ET), "presidential-actions"),
    ),
    "listing-wayback/news_page1_wayback_latest.html": Expected(
        f"{W_OCT}{WH}/news/", 10, 1, 120, "/news/page/2/",
        Item("Fact Sheet: President Donald J. Trump Authorizes Construction of Arctic Security "
             "Cutters",
             "/fact-sheets/2025/10/fact-sheet-president-donald-j-trump-authorizes-construction-of-arctic-security-cutters/",
             dt.datetime(2025, 10, 9, 16, 37, 2, tzinfo=EDT), "fact-sheets"),
        Item("National Manufacturing Day, 2025",  # listed as Presidential Actions, Proclamations
             "/presidential-actions/2025/10/national-manufacturing-day-2025/",
             dt.datetime(2025, 10, 7, 14, 8, 37, tzinfo=EDT), "presidential-actions"),
    ),
}  # fmt: skip


def _check_item(found: Found, want: Item) -> None:
    assert (found.title, found.url, found.category) == (want.title, WH + want.path, want.category)
    assert found.published == want.published
    assert found.published is not None and found.published.utcoffset() == want.published.utcoffset()
    assert (found.lastmod, found.via) == (None, "listing")


@pytest.mark.parametrize("name", sorted(LISTINGS))
def test_real_listing_pages(source: Source, name: str) -> None:
    want = LISTINGS[name]
    page = parse_listing(need(PAGES / name).read_bytes(), want.url, source)
    assert len(page.items) == want.n_items
    assert (page.page, page.pages) == (want.page, want.pages)
    assert page.next_url == (WH + want.next_path if want.next_path else None)
    assert page.rejected == ()
    _check_item(page.items[0], want.first)
    _check_item(page.items[-1], want.last)
    for item in page.items:
        assert item.title and item.category and item.published is not None
        assert source.statement_match(item.url) and item.url.startswith(WH + "/")
        assert "web.archive.org" not in item.url


def test_every_real_listing_page_is_checked() -> None:
    files = {f"{p.parent.name}/{p.name}" for p in need(PAGES).glob("listing*/*.html")}
    assert files == set(LISTINGS)


def test_a_page_given_as_text_parses_like_bytes(source: Source) -> None:
    name = "listing/news_page2_2025-03-15_PRETTIFIED.html"
    path = need(PAGES / name)
    url = LISTINGS[name].url
    as_text = parse_listing(path.read_text(encoding="utf-8"), url, source)
    assert as_text == parse_listing(path.read_bytes(), url, source)


def _listing(items: str, head: str = "", nav: str = "") -> str:
    return f"<html><head><title>News</title>{head}</head><body><ul>{items}</ul>{nav}</body></html>"


def _li(href: str, *, cls: str = "category-remarks", cat: str = "/remarks/", when: str = "") -> str:
    category = (
        f'<div class="taxonomy-category"><a rel="tag" href="{cat}">X</a></div>' if cat else ""
    )
    time = f'<div class="wp-block-post-date"><time datetime="{when}">d</time></div>' if when else ""
    title = f'<h2 class="wp-block-post-title"><a href="{href}">T</a></h2>'
    return f'<li class="wp-block-post {cls}">{title}{category}{time}</li>'


STATEMENT = "/remarks/2025/03/press-gaggle-by-president-trump/"


def test_listing_keeps_only_statement_urls_of_the_source(source: Source) -> None:
    bad = [
        "https://evil.example/remarks/2025/03/x/",
        "file:///remarks/2025/03/x/",
        "http://127.0.0.1/remarks/2025/03/x/",
        "http://10.0.0.8/remarks/2025/03/x/",
        "http://[::1]/remarks/2025/03/x/",
        "javascript:alert(1)//remarks/2025/03/x/",
        "https://www.whitehouse.gov@evil.example/remarks/2025/03/x/",
        "https://web.archive.org/web/20250101000000/https://evil.example/remarks/2025/03/x/",
        "https://www.whitehouse.gov/news/page/2/",  # on the host, not a statement
        "ftp://www.whitehouse.gov/remarks/2025/03/x/",
    ]
    good = [
        STATEMENT + "#top",  # relative, with a fragment
        f"http://whitehouse.gov{STATEMENT}",  # the bare host, http: the origin is recorded
        f"https://web.archive.org/web/20250309000000id_/{WH}{STATEMENT}",
        f"{WH}/articles/2025/03/second/?lang=en",
    ]
    html = _listing("".join(_li(href) for href in bad + good))
    page = parse_listing(html, f"{WH}/news/", source)
    assert [f.url for f in page.items] == [WH + STATEMENT, f"{WH}/articles/2025/03/second/?lang=en"]
    assert len(page.rejected) == len(bad)
    assert "https://evil.example/remarks/2025/03/x/" in page.rejected
    assert "file:///remarks/2025/03/x/" in page.rejected


def test_listing_category_falls_back_to_the_item_class(source: Source) -> None:
    html = _listing(
        _li(f"{WH}/remarks/2025/03/a/", cat="", cls="post category-uncategorized")
        + _li(f"{WH}/remarks/2025/03/b/", cat="https://evil.example/other/", cls="")
        + _li(f"{WH}/remarks/2025/03/c/", cat="", cls="post")
    )
    page = parse_listing(html, f"{WH}/news/", source)
    assert [f.category for f in page.items] == ["uncategorized", None, None]


def test_listing_dates_naive_bad_and_missing(source: Source) -> None:
    html = _listing(
        _li(f"{WH}/remarks/2025/03/a/", when="2025-03-09T14:20:01")
        + _li(f"{WH}/remarks/2025/03/b/", when="March 9, 2025")
        + _li(f"{WH}/remarks/2025/03/c/", when="2025-03-09T18:20:01Z")
        + _li(f"{WH}/remarks/2025/03/d/")
    )
    published = [f.published for f in parse_listing(html, f"{WH}/news/", source).items]
    assert published[0] == dt.datetime(2025, 3, 9, 14, 20, 1, tzinfo=source.tz)
    assert published[0] is not None and published[0].utcoffset() == dt.timedelta(hours=-4)
    assert published[1:] == [None, dt.datetime(2025, 3, 9, 18, 20, 1, tzinfo=dt.UTC), None]


def test_listing_next_page_from_the_pagination_nav(source: Source) -> None:
    nav = (
        '<nav class="wp-block-query-pagination"><a href="/news/">1</a>'
        '<span aria-current="page" class="current">2</span><a href="/news/page/3/">3</a>'
        '<a href="/news/page/9/">9</a><span>\u00b2</span><span>1,024</span></nav>'
    )
    page = parse_listing(_listing(_li(STATEMENT), nav=nav), f"{WH}/news/page/2/", source)
    assert (page.next_url, page.page, page.pages) == (f"{WH}/news/page/3/", 2, 1024)


def test_listing_next_page_off_the_source_is_refused(source: Source) -> None:
    head = '<link rel="next" href="https://evil.example/news/page/2/">'
    page = parse_listing(_listing(_li(STATEMENT), head=head), f"{WH}/news/", source)
    assert page.next_url is None
    assert page.rejected == ("https://evil.example/news/page/2/",)
    assert (page.page, page.pages) == (None, None)


@pytest.mark.parametrize(
    "markup",
    [
        b"",
        "",
        "not html at all",
        "https://www.whitehouse.gov/news/",  # looks like a URL: bs4 would warn
        "index.html",  # looks like a file name
        b"\x00\xff\xfe\x1f\x8b garbage \x00",
        b'<?xml version="1.0"?><urlset><url><loc>x</loc></url></urlset>',
        "<html><body><ul><li class='wp-block-post'>no link</li></ul></body></html>",
    ],
)
def test_broken_listing_input_gives_an_empty_page(source: Source, markup: str | bytes) -> None:
    page = parse_listing(markup, f"{WH}/news/", source)
    assert page == ListingPage(items=(), next_url=None, page=None, pages=None)


@pytest.mark.parametrize("name", ["bill_nelson_press.html", "drupal_press.html"])
def test_other_sites_listing_pages_give_no_items(source: Source, name: str) -> None:
    page = parse_listing(need(CONGRESS / name).read_bytes(), "http://example.house.gov/", source)
    assert page.items == ()


# -- Wayback ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("wrapped", "original"),
    [
        (f"https://web.archive.org/web/20251106172716/{WH}/news/", f"{WH}/news/"),
        (f"http://web.archive.org/web/20250201000445/{WH}/a/?x=1#y", f"{WH}/a/?x=1#y"),
        (f"https://web.archive.org/web/20251106172716im_/{WH}/i.png", f"{WH}/i.png"),
        (f"https://web.archive.org/web/2025id_/{WH}/a/", f"{WH}/a/"),
        ("https://web.archive.org/web/20250101000000/https:/www.whitehouse.gov/a/", f"{WH}/a/"),
        ("https://web.archive.org/web/20250101000000/www.whitehouse.gov/a/",
         "http://www.whitehouse.gov/a/"),
        ("HTTPS://WEB.ARCHIVE.ORG/web/20250101000000/HTTPS://www.whitehouse.gov/a/", f"{WH}/a/"),
        (f"{WH}/news/", f"{WH}/news/"),
        ("https://web.archive.org/about/", "https://web.archive.org/about/"),
        ("https://evil.example/web/20250101000000/https://x.example/", None),
        ("/web/20250101000000/https://x.example/", None),
    ],
)  # fmt: skip
def test_unwrap_wayback(wrapped: str, original: str | None) -> None:
    assert unwrap_wayback(wrapped) == (original or wrapped)


@given(st.from_regex(r"/[a-z0-9/._-]{0,30}(\?[a-z=&]{1,10})?", fullmatch=True))
@settings(max_examples=60)
def test_unwrap_wayback_round_trips(path: str) -> None:
    for scheme in ("http", "https"):
        original = f"{scheme}://www.whitehouse.gov{path}"
        assert unwrap_wayback(f"https://web.archive.org/web/20250101000000/{original}") == original


# -- sitemaps ---------------------------------------------------------------------------------

NS = 'xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"'
STYLE = '<?xml version="1.0" encoding="UTF-8"?><?xml-stylesheet type="text/xsl" href="/s.xsl"?>'


def _index(*children: tuple[str, str]) -> bytes:
    parts = "".join(
        f"<sitemap><loc>{loc}</loc>{f'<lastmod>{mod}</lastmod>' if mod else ''}</sitemap>"
        for loc, mod in children
    )
    return f"{STYLE}\n<sitemapindex {NS}>{parts}</sitemapindex>".encode()


def _urlset(*entries: tuple[str, str], extra_ns: str = "", extra: str = "") -> bytes:
    parts = "".join(
        f"<url>\n <loc> {loc} </loc>{f'<lastmod>{mod}</lastmod>' if mod else ''}{extra}</url>"
        for loc, mod in entries
    )
    return f"{STYLE}\n<urlset {NS} {extra_ns}>{parts}</urlset>".encode()


def test_wordpress_core_sitemap_index(source: Source) -> None:
    data = _index(
        (f"{WH}/wp-sitemap-posts-post-1.xml", ""),
        (f"{WH}/wp-sitemap-posts-post-2.xml", "2025-03-14T21:14:04+00:00"),
        (f"{WH}/wp-sitemap-posts-page-1.xml", ""),
        (f"{WH}/wp-sitemap-taxonomies-category-1.xml", ""),
        (f"{WH}/wp-sitemap-users-1.xml", ""),
        ("https://evil.example/wp-sitemap-posts-post-1.xml", ""),
        ("file:///etc/wp-sitemap-posts-post-1.xml", ""),
        ("http://127.0.0.1/wp-sitemap-posts-post-1.xml", ""),
    )
    doc = parse_sitemap(data, f"{WH}/wp-sitemap.xml", source)
    assert doc.sitemaps == (
        (f"{WH}/wp-sitemap-posts-post-1.xml", None),
        (f"{WH}/wp-sitemap-posts-post-2.xml", dt.datetime(2025, 3, 14, 21, 14, 4, tzinfo=dt.UTC)),
    )
    assert doc.urls == ()
    assert len(doc.rejected) == 6
    assert "https://evil.example/wp-sitemap-posts-post-1.xml" in doc.rejected
    assert "file:///etc/wp-sitemap-posts-post-1.xml" in doc.rejected


def test_sitemap_index_without_include_keeps_every_child_on_the_hosts(source: Source) -> None:
    everything = dataclasses.replace(source, sitemap=Sitemap(urls=("/wp-sitemap.xml",)))
    data = _index(("/wp-sitemap-posts-page-1.xml", ""), ("https://evil.example/s.xml", ""))
    doc = parse_sitemap(data, f"{WH}/wp-sitemap.xml", everything)
    assert doc.sitemaps == ((f"{WH}/wp-sitemap-posts-page-1.xml", None),)
    assert doc.rejected == ("https://evil.example/s.xml",)


def test_wordpress_core_child_sitemap(source: Source) -> None:
    data = _urlset(
        (f"{WH}/briefings-statements/2025/06/a/", "2025-06-04T21:50:00+00:00"),
        (f"{WH}/remarks/2025/03/b/", "2025-03-09"),
        (f"{WH}/remarks/2025/03/c/", ""),
        (f"{WH}/remarks/2025/03/c/", "2025-03-10"),  # listed twice: kept once, the first
        (f"https://web.archive.org/web/20250101000000/{WH}/articles/2025/01/d/", "bad date"),
        (f"{WH}/about-the-white-house/", ""),
        ("https://evil.example/remarks/2025/03/x/", ""),
        ("file:///remarks/2025/03/x/", ""),
        ("http://127.0.0.1/remarks/2025/03/x/", ""),
        ("http://192.168.1.1/remarks/2025/03/x/", ""),
    )
    doc = parse_sitemap(data, f"{WH}/wp-sitemap-posts-post-1.xml", source)
    assert doc.sitemaps == ()
    assert doc.urls == (
        Found(
            f"{WH}/briefings-statements/2025/06/a/",
            lastmod=dt.datetime(2025, 6, 4, 21, 50, tzinfo=dt.UTC),
            via="sitemap",
        ),
        Found(f"{WH}/remarks/2025/03/b/", lastmod=dt.datetime(2025, 3, 9, tzinfo=dt.UTC),
              via="sitemap"),
        Found(f"{WH}/remarks/2025/03/c/", via="sitemap"),
        Found(f"{WH}/articles/2025/01/d/", via="sitemap"),
    )  # fmt: skip
    assert len(doc.rejected) == 5
    assert {"file:///remarks/2025/03/x/", "http://127.0.0.1/remarks/2025/03/x/"} <= set(
        doc.rejected
    )


YOAST_INDEX = _index(
    (f"{WH}/post-sitemap.xml", "2025-03-14T21:14:04+00:00"),
    (f"{WH}/post-sitemap2.xml", "2025-03-15T01:00:00+00:00"),
    (f"{WH}/page-sitemap.xml", "2025-03-01T00:00:00+00:00"),
    (f"{WH}/category-sitemap.xml", "2025-03-14T21:14:04+00:00"),
)
YOAST_POSTS = _urlset(
    (f"{WH}/articles/2025/03/week-eight-wins/", "2025-03-14T21:14:04+00:00"),
    (f"{WH}/fact-sheets/2025/03/fact-sheet-x/", "2025-03-07T20:33:37-05:00"),
    extra_ns='xmlns:image="http://www.google.com/schemas/sitemap-image/1.1"',
    extra=f"<image:image><image:loc>{WH}/wp-content/uploads/a.jpg</image:loc></image:image>",
)


def test_yoast_sitemap_index_and_child(source: Source) -> None:
    index = parse_sitemap(YOAST_INDEX, f"{WH}/sitemap_index.xml", source)
    assert [loc for loc, _ in index.sitemaps] == [
        f"{WH}/post-sitemap.xml",
        f"{WH}/post-sitemap2.xml",
    ]
    assert index.rejected == (f"{WH}/page-sitemap.xml", f"{WH}/category-sitemap.xml")
    posts = parse_sitemap(YOAST_POSTS, f"{WH}/post-sitemap.xml", source)
    assert [f.url for f in posts.urls] == [
        f"{WH}/articles/2025/03/week-eight-wins/",
        f"{WH}/fact-sheets/2025/03/fact-sheet-x/",
    ]
    assert posts.urls[1].lastmod == dt.datetime(2025, 3, 8, 1, 33, 37, tzinfo=dt.UTC)
    assert posts.rejected == ()


def test_gzipped_sitemap(source: Source) -> None:
    url = f"{WH}/post-sitemap.xml.gz"
    assert parse_sitemap(gzip.compress(YOAST_POSTS), url, source) == parse_sitemap(
        YOAST_POSTS, url, source
    )


def _gzip_of_zeros(size: int) -> bytes:
    packer = zlib.compressobj(9, zlib.DEFLATED, 31)
    chunk = bytes(1 << 20)
    parts = [packer.compress(chunk) for _ in range(size >> 20)]
    return b"".join([*parts, packer.flush()])


def test_gzip_bomb_is_refused(source: Source) -> None:
    bomb = _gzip_of_zeros(200 << 20)  # 200 MB of zeros in about 200 kB
    assert len(bomb) < 1 << 20
    url = f"{WH}/post-sitemap.xml.gz"
    with pytest.raises(DiscoveryError, match=re.escape(url)) as caught:
        parse_sitemap(bomb, url, source)
    assert "50,000,000 bytes" in str(caught.value)


def test_size_cap_applies_to_plain_and_gzipped_sitemaps(source: Source) -> None:
    url = f"{WH}/post-sitemap.xml"
    cap = len(YOAST_POSTS) - 1
    for data in (YOAST_POSTS, gzip.compress(YOAST_POSTS)):
        with pytest.raises(DiscoveryError, match="bytes of XML"):
            parse_sitemap(data, url, source, max_bytes=cap)
    assert parse_sitemap(YOAST_POSTS, url, source, max_bytes=cap + 1).urls


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"<urlset><url><loc>https://www.whitehouse.gov/a/</loc></url>",  # unclosed
        b"<!DOCTYPE html><html><body><p>Not found<br></body></html>",
        b"\x1f\x8b\x08\x00 not really gzip",
        b"\x1f\x8b",
        b'<?xml version="1.0"?><rss version="2.0"><channel/></rss>',  # XML, not a sitemap
        "<urlset>\u00e9</urlset>".encode("latin-1"),  # not UTF-8
    ],
)
def test_broken_sitemap_raises_discovery_error_naming_the_url(source: Source, data: bytes) -> None:
    url = f"{WH}/sitemap_index.xml"
    with pytest.raises(DiscoveryError) as caught:
        parse_sitemap(data, url, source)
    assert caught.value.where == url


def test_sitemap_entities_are_not_expanded(source: Source, tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("/remarks/2025/03/stolen/", encoding="utf-8")
    data = f"""<?xml version="1.0"?>
<!DOCTYPE urlset [
  <!ENTITY xxe SYSTEM "{secret.as_uri()}">
  <!ENTITY wh "https://www.whitehouse.gov/remarks/2025/03/internal/">
  <!ENTITY lol "lollollollollollollollollollol">
  <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
  <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
]>
<urlset {NS}>
  <url><loc>https://www.whitehouse.gov&xxe;</loc></url>
  <url><loc>&wh;</loc></url>
  <url><loc>&lol3;</loc></url>
  <url><loc>https://www.whitehouse.gov/remarks/2025/03/plain/</loc></url>
</urlset>""".encode()
    doc = parse_sitemap(data, f"{WH}/post-sitemap.xml", source)
    assert [f.url for f in doc.urls] == [f"{WH}/remarks/2025/03/plain/"]
    assert not any("stolen" in u or "internal" in u or "lol" in u for u in doc.rejected)


# -- feeds ------------------------------------------------------------------------------------

RSS = f"""<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/"
     xmlns:atom="http://www.w3.org/2005/Atom">
<channel>
  <title>The White House</title>
  <atom:link href="{WH}/feed/" rel="self" type="application/rss+xml"/>
  <link>{WH}/</link>
  <item>
    <title>National Manufacturing Day, 2025</title>
    <link>{WH}/presidential-actions/2025/10/national-manufacturing-day-2025/</link>
    <dc:creator><![CDATA[The White House]]></dc:creator>
    <pubDate>Tue, 07 Oct 2025 18:08:37 +0000</pubDate>
    <category><![CDATA[Presidential Actions]]></category>
    <category><![CDATA[Proclamations]]></category>
    <guid isPermaLink="false">{WH}/?p=26620</guid>
  </item>
  <item>
    <title>Briefings &amp; Statements &#8211; a &lt;b&gt;title&lt;/b&gt;</title>
    <link>  /briefings-statements/2025/10/relative/  </link>
    <pubDate>Thu, 02 May 2013 11:27:00 EST</pubDate>
    <category>Briefings &amp; Statements</category>
  </item>
  <item>
    <title>Only a guid</title>
    <guid>{WH}/remarks/2025/10/guid-only/</guid>
    <pubDate>not a date</pubDate>
  </item>
  <item><title>Elsewhere</title><link>https://evil.example/remarks/2025/10/x/</link></item>
  <item><title>Script</title><link>javascript:alert(1)</link></item>
  <item><title>Local</title><link>file:///remarks/2025/10/x/</link></item>
  <item><title>Not a statement</title><link>{WH}/news/</link></item>
  <item><title>No link</title></item>
</channel>
</rss>""".encode()


def test_rss_feed(source: Source) -> None:
    found = parse_feed(RSS, f"{WH}/feed/", source)
    assert found == (
        Found(
            f"{WH}/presidential-actions/2025/10/national-manufacturing-day-2025/",
            "National Manufacturing Day, 2025",
            dt.datetime(2025, 10, 7, 18, 8, 37, tzinfo=dt.UTC),
            "presidential-actions",
            via="feed",
        ),
        Found(
            f"{WH}/briefings-statements/2025/10/relative/",
            "Briefings & Statements \u2013 a <b>title</b>",
            dt.datetime(2013, 5, 2, 11, 27, tzinfo=ET),
            "briefings-statements",
            via="feed",
        ),
        Found(f"{WH}/remarks/2025/10/guid-only/", "Only a guid", via="feed"),
    )
    assert found[0].published is not None and found[0].published.tzinfo is not None


ATOM = f"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" xml:base="{WH}/">
  <title>The White House</title>
  <link rel="self" href="{WH}/feed/atom/"/>
  <updated>2025-10-09T20:37:02Z</updated>
  <entry>
    <title type="html">Fact Sheet: Arctic Security Cutters</title>
    <link rel="replies" href="{WH}/fact-sheets/2025/10/arctic/#comments"/>
    <link rel="alternate" type="text/html" href="fact-sheets/2025/10/arctic/"/>
    <id>{WH}/?p=26666</id>
    <published>2025-10-09T16:37:02-04:00</published>
    <updated>2025-10-10T09:00:00-04:00</updated>
    <category scheme="{WH}" term="Fact Sheets"/>
  </entry>
  <entry>
    <title type="xhtml"><div xmlns="http://www.w3.org/1999/xhtml">Leif <b>Erikson</b>
      Day</div></title>
    <link href="https://www.whitehouse.gov/presidential-actions/2025/10/leif-erikson-day-2025/"/>
    <updated>2025-10-09T12:38:14-04:00</updated>
    <category term="proclamations"/>
    <category term="presidential-actions"/>
  </entry>
  <entry>
    <title>Off site</title>
    <link href="https://web.archive.org/web/2025/https://evil.example/remarks/2025/10/x/"/>
  </entry>
</feed>""".encode()  # fmt: skip


def test_atom_feed(source: Source) -> None:
    found = parse_feed(ATOM, f"{WH}/feed/atom/", source)
    assert found == (
        Found(
            f"{WH}/fact-sheets/2025/10/arctic/",
            "Fact Sheet: Arctic Security Cutters",
            dt.datetime(2025, 10, 9, 16, 37, 2, tzinfo=EDT),
            "fact-sheets",
            via="feed",
        ),
        Found(
            f"{WH}/presidential-actions/2025/10/leif-erikson-day-2025/",
            "Leif Erikson Day",
            dt.datetime(2025, 10, 9, 12, 38, 14, tzinfo=EDT),
            "presidential-actions",  # the category the URL names wins over the first
            via="feed",
        ),
    )


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"<rss><channel><item><link>x</link></channel></rss>",
        b"<html><body>gone</body></html>",  # well-formed, not a feed
        YOAST_POSTS,
    ],
)
def test_broken_feed_raises_discovery_error(source: Source, data: bytes) -> None:
    with pytest.raises(DiscoveryError, match=re.escape(f"{WH}/feed/")):
        parse_feed(data, f"{WH}/feed/", source)


CONGRESS_FEEDS = {  # file: (fetched from, items, first item's URL, its published time)
    "culberson_rss.xml": (
        "http://culberson.house.gov/feed/", 10,
        "http://culberson.house.gov/culberson-statement-on-the-real-space-act/", None,
    ),
    "richard_burr.xml": (
        "http://www.burr.senate.gov/public/", 25,
        "http://www.burr.senate.gov/public/index.cfm?FuseAction=PressOffice.PressReleases"
        "&Type=Press Release&ContentRecord_id=65dbea38-d64c-6208-ef8f-2b000e899b3a",
        dt.datetime(2013, 5, 2, 11, 27, tzinfo=ET),  # "pubdate", lowercase, in "EST"
    ),
    "ruiz_rss.xml": (  # relative to its xml:base; "Monday, April 15, 2013 - 2:23pm" is no date
        "http://ruiz.house.gov/rss.xml", 10,
        "http://ruiz.house.gov/media-center/press-releases/dr-ruiz-highlights-first-100-days-in-congress",
        None,
    ),
}  # fmt: skip


def test_every_congress_feed_is_checked() -> None:
    assert {p.name for p in need(CONGRESS).glob("*.xml")} == set(CONGRESS_FEEDS)


@pytest.mark.parametrize("name", sorted(CONGRESS_FEEDS))
def test_real_congress_feeds(source: Source, name: str) -> None:
    url, count, first, published = CONGRESS_FEEDS[name]
    data = need(CONGRESS / name).read_bytes()
    assert parse_feed(data, url, source) == ()  # whitehouse: every item is on another host
    host = url.split("/")[2]
    theirs = dataclasses.replace(
        source, origin=f"http://{host}", allowed_hosts=(host,), statement_url="/.+"
    )
    found = parse_feed(data, url, theirs)
    assert len(found) == count
    assert (found[0].url, found[0].published, found[0].via) == (first, published, "feed")
    assert all(f.title for f in found)


@given(data=st.binary(max_size=300) | st.text(max_size=300).map(str.encode))
@settings(max_examples=80, deadline=None)
def test_garbage_never_crashes(source: Source, data: bytes) -> None:
    assert isinstance(parse_listing(data, f"{WH}/news/", source), ListingPage)
    for parse in (parse_sitemap, parse_feed):
        with contextlib.suppress(DiscoveryError):
            parse(data, f"{WH}/x.xml", source)


# -- the lxml cut reads a listing page as a whole BeautifulSoup tree does -----------------------


def _both_ways(html: str | bytes, url: str, source: Source) -> tuple[ListingPage, ListingPage]:
    cut = parse_listing(html, url, source)
    with mock.patch("crawler.discover.supported", lambda selector: False):
        whole = parse_listing(html, url, source)
    return cut, whole


def _listing_pages() -> list[Path]:
    pages = SHARED / "pages"
    return sorted(pages.glob("whitehouse.gov*/listing*/*.html")) + sorted(
        pages.glob("congress/*.html")
    )


def test_the_cut_reads_every_real_listing_page_as_the_whole_tree(source: Source) -> None:
    files = _listing_pages()
    if not files:
        pytest.skip(f"no listing pages in {SHARED / 'pages'} (../shared is absent)")
    items = 0
    for path in files:
        cut, whole = _both_ways(path.read_bytes(), "https://www.whitehouse.gov/news/", source)
        assert cut == whole, path
        items += len(cut.items)
    assert items > 50  # the real pages list statements: the comparison compared something


def test_the_cut_reads_the_fixture_sites_listing_pages_as_the_whole_tree(source: Source) -> None:
    site = FixtureSite(usable_texts(corpus_texts(need(CORPUS)), 60))
    for path in ("/news/", "/news/page/2/", "/news/page/3/", "/briefings-statements/"):
        answer = site.respond(path)
        cut, whole = _both_ways(answer.body, site.base_url + path, source)
        assert cut == whole and cut.items, path
        assert cut.page is not None and (cut.next_url or cut.page == cut.pages), path


@given(
    st.lists(
        st.sampled_from(
            [
                _li("/briefings-statements/2025/01/a/"),
                _li("/remarks/2025/02/b/", when="2025-02-03"),
                "<li class='wp-block-post category-x'><h2 class='wp-block-post-title'>x</h2></li>",
                "<!-- a comment -->",
                "<li class='wp-block-post'><div><div>",
                "</ul></div><p>x",
            ]
        ),
        max_size=8,
    )
)
@settings(max_examples=60, deadline=None)
def test_the_cut_reads_made_listings_as_the_whole_tree(source: Source, parts: list[str]) -> None:
    html = _listing(
        "".join(parts),
        nav='<nav class="wp-block-query-pagination"><a href="/news/page/2/">2</a></nav>',
    )
    cut, whole = _both_ways(html, "https://www.whitehouse.gov/news/", source)
    assert cut == whole


def test_the_selectors_of_an_items_parts_may_name_its_ancestors(source: Source) -> None:
    """As soupsieve matches them from an item: in the whole page, kept inside the item."""
    assert source.selectors is not None and source.selectors.listing is not None
    listing = dataclasses.replace(
        source.selectors.listing,
        link="body ul li.wp-block-post h2.wp-block-post-title a",
        published="ul .wp-block-post-date time[datetime]",
        category="ul li .taxonomy-category a[rel=tag]",
    )
    wider = dataclasses.replace(
        source, selectors=dataclasses.replace(source.selectors, listing=listing)
    )
    html = _listing(
        _li("/briefings-statements/2025/01/a/", when="2025-01-02")
        + _li("/remarks/2025/02/b/", cat="/briefings-statements/")
    )
    cut, whole = _both_ways(html, "https://www.whitehouse.gov/news/", wider)
    assert cut == whole
    assert [(f.url.split("/")[-2], f.category) for f in cut.items] == [
        ("a", "remarks"),
        ("b", "briefings-statements"),
    ]
    assert cut.items[0].published is not None
