from __future__ import annotations

import dataclasses
import gzip

import httpx
import pytest

from crawler.discover import Found
from crawler.errors import DiscoveryError
from crawler.fetch import Fetcher, make_client
from crawler.source import Feed, Listing, Sitemap, Source, load_source
from crawler.walk import discover, merge
from tests.conftest import PROJECT, SHARED, need

LISTING = SHARED / "pages" / "whitehouse.gov-2025" / "listing"
ORIGIN = "https://www.whitehouse.gov"


def sitemap_index(children: dict[str, str]) -> bytes:
    rows = "".join(
        f"<sitemap><loc>{ORIGIN}{path}</loc><lastmod>{mod}</lastmod></sitemap>"
        for path, mod in children.items()
    )
    return (
        '<?xml version="1.0"?><sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
        f"{rows}</sitemapindex>"
    ).encode()


def urlset(*slugs: str) -> bytes:
    rows = "".join(
        f"<url><loc>{ORIGIN}/articles/2025/03/{s}/</loc><lastmod>2025-03-14T21:14:05+00:00</lastmod></url>"
        for s in slugs
    )
    return f'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{rows}</urlset>'.encode()


def site(routes: dict[str, bytes]) -> tuple[Fetcher, list[str]]:
    paths: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        paths.append(request.url.path)
        body = routes.get(request.url.path)
        return httpx.Response(404) if body is None else httpx.Response(200, content=body)

    base = load_source(PROJECT / "seeds" / "whitehouse.toml")
    polite = dataclasses.replace(base.politeness, rate=0.0)
    source = dataclasses.replace(base, politeness=polite)
    return Fetcher(make_client(transport=httpx.MockTransport(handler)), source), paths


def only(source: Source, **methods: object) -> Source:
    methods = {"listing": None, "sitemap": None, "feed": None, **methods}
    return dataclasses.replace(source, **methods)  # type: ignore[arg-type]


def test_listing_walk_follows_next_and_stops_past_known_items() -> None:
    page1 = need(LISTING / "briefings-statements_page1_2026-03-12.html").read_bytes()
    page2 = need(LISTING / "briefings-statements_page2_2025-06-23.html").read_bytes()
    fetcher, paths = site({"/briefings-statements/": page1, "/briefings-statements/page/2/": page2})
    source = only(fetcher.source, listing=Listing(("/briefings-statements/",), overlap=3))
    fetcher.source = source
    full = discover(fetcher, source, full=True)
    assert len(full.found) == 20 and full.counts == {"listing": 20}
    assert [p for p in paths if p != "/robots.txt"] == [
        "/briefings-statements/", "/briefings-statements/page/2/", "/briefings-statements/page/3/",
    ]  # fmt: skip
    first_page = set(list(full.found)[:10])
    paths.clear()
    again = discover(fetcher, source, known=first_page.__contains__)
    assert len(again.found) == 10
    assert [p for p in paths if p != "/robots.txt"] == ["/briefings-statements/"]


def test_sitemap_children_are_fetched_only_when_their_lastmod_moved() -> None:
    routes = {
        "/sitemap_index.xml": sitemap_index(
            {"/post-sitemap.xml": "2025-03-14", "/post-sitemap2.xml": "2025-03-15"}
        ),
        "/post-sitemap.xml": urlset("a", "b"),
        "/post-sitemap2.xml": gzip.compress(urlset("c")),
    }
    fetcher, paths = site(routes)
    source = only(fetcher.source, sitemap=Sitemap(("/sitemap_index.xml", "/wp-sitemap.xml")))
    first = discover(fetcher, source)
    assert len(first.found) == 3 and all(f.lastmod is not None for f in first.found.values())
    paths.clear()
    routes["/sitemap_index.xml"] = sitemap_index(
        {"/post-sitemap.xml": "2025-03-14", "/post-sitemap2.xml": "2025-03-16"}
    )
    second = discover(fetcher, source, sitemaps_seen=first.sitemaps)
    assert [p for p in paths if p != "/robots.txt"] == ["/sitemap_index.xml", "/post-sitemap2.xml"]
    assert list(second.found) == [f"{ORIGIN}/articles/2025/03/c/"]


def test_a_sitemap_index_loop_is_bounded() -> None:
    loop = sitemap_index({"/post-sitemap.xml": "2025-01-01"})
    fetcher, paths = site(
        {
            "/sitemap_index.xml": loop,
            "/post-sitemap.xml": sitemap_index({"/sitemap_index.xml": "2025-01-02"}),
        }
    )
    source = only(fetcher.source, sitemap=Sitemap(("/sitemap_index.xml",), include=""))
    discover(fetcher, source)
    assert len(paths) <= 4


def test_nothing_found_where_items_were_found_before_is_an_error() -> None:
    fetcher, _ = site({"/feed/": b"<rss><channel></channel></rss>"})
    source = only(fetcher.source, feed=Feed(("/feed/",)))
    assert not discover(fetcher, source).found
    with pytest.raises(DiscoveryError, match="markup changed"):
        discover(fetcher, source, expect_items=True)


def test_merge_keeps_every_field() -> None:
    listed = Found("u", title="T", published=None, category="c", via="listing")
    mapped = Found("u", lastmod=None, via="sitemap")
    merged = merge(mapped, listed)
    assert (merged.title, merged.category, merged.via) == ("T", "c", "listing+sitemap")


BROKEN_CHILDREN = {
    "unparsable XML": b"<urlset><url><loc>",
    "an HTML page": b"<!DOCTYPE html><html><body>Service unavailable</body></html>",
    "a gzip bomb": gzip.compress(b"<" + b" " * 21_000_000),
    "a missing child (404)": None,
}


@pytest.mark.parametrize("case", sorted(BROKEN_CHILDREN))
def test_one_broken_child_is_named_and_the_others_and_the_feed_are_read(case: str) -> None:
    index = {"/post-sitemap.xml": "2025-03-14", "/post-sitemap2.xml": "2025-03-15"}
    index["/post-sitemap3.xml"] = "2025-03-16"
    routes = {
        "/sitemap_index.xml": sitemap_index(index),
        "/post-sitemap.xml": urlset("a"),
        "/post-sitemap3.xml": urlset("c"),
        "/feed/": b"<rss><channel></channel></rss>",
    }
    if BROKEN_CHILDREN[case] is not None:
        routes["/post-sitemap2.xml"] = BROKEN_CHILDREN[case]  # type: ignore[assignment]
    fetcher, paths = site(routes)
    sitemap = Sitemap(("/sitemap_index.xml",), include="")
    source = only(fetcher.source, sitemap=sitemap, feed=Feed(("/feed/",)))
    found = discover(fetcher, source, expect_items=True)
    assert sorted(found.found) == [f"{ORIGIN}/articles/2025/03/{s}/" for s in "ac"]
    (failure,) = found.failures
    assert failure.startswith(f"sitemap child failed (read again next time): {ORIGIN}/post-sit")
    assert found.stale == {f"{ORIGIN}/post-sitemap2.xml"} and "/feed/" in paths
    assert f"{ORIGIN}/post-sitemap2.xml" not in found.sitemaps_read


def test_a_sitemap_gives_at_most_max_urls() -> None:
    slugs = [f"s{i}" for i in range(30)]
    fetcher, _ = site({"/sitemap_index.xml": urlset(*slugs)})
    sitemap = Sitemap(("/sitemap_index.xml",), max_urls=12)
    found = discover(fetcher, only(fetcher.source, sitemap=sitemap))
    assert len(found.found) == 12 and not found.sitemaps_read  # not read whole
    assert found.warnings == [
        f"sitemap {ORIGIN}/sitemap_index.xml: took its first 12 URLs (sitemap.max_urls), "
        "dropped 18 more"
    ]
