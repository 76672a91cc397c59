"""The fixture site: a fake www.whitehouse.gov on a real socket, checked against real pages."""

from __future__ import annotations

import datetime as dt
import email.utils
import fnmatch
import gzip
import math
import signal
import subprocess
import sys
import threading
import time
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from bs4 import BeautifulSoup, Tag

from crawler.parse import converter_of
from storage.document import Statement, dumps, loads
from tests.conftest import CORPUS, PROJECT, need
from tests.fixture_site import (
    ARTICLE_PAGE,
    LISTING_PAGE,
    ORIGIN,
    PAGES,
    FixtureSite,
    render_bodies,
    seed,
    usable_texts,
)

pytestmark = pytest.mark.corpus

WEEK_EIGHT_PATH = (
    "/articles/2025/03/week-eight-wins-a-testament-to-american-greatness-under-president-trump/"
)
WEEK_EIGHT = ORIGIN + WEEK_EIGHT_PATH
DASH = " \u2013 "  # what &#8211; reads as
SUFFIX = f"{DASH}The White House"
NS = {"s": "http://www.sitemaps.org/schemas/sitemap/0.9"}
LISTING = seed().selectors.listing
ARTICLE = seed().selectors.article
assert LISTING is not None


@pytest.fixture(scope="module")
def usable(corpus: tuple[tuple[str, str], ...]) -> list[str]:
    need(ARTICLE_PAGE)
    need(LISTING_PAGE)
    return usable_texts(text for _, text in corpus)


@pytest.fixture(scope="module")
def texts(usable: list[str]) -> list[str]:
    """The 30 newest statements, week eight's (the saved page) and one never modified."""
    chosen = usable[:30] + [t for t in usable if WEEK_EIGHT in t]
    if all(loads(t).modified_time for t in chosen):
        chosen.append(next(t for t in usable if loads(t).modified_time is None))
    return chosen


@pytest.fixture(scope="module")
def statements(texts: list[str]) -> dict[str, Statement]:
    return {s.source_url: s for s in map(loads, texts)}


@pytest.fixture
def site(texts: list[str]) -> Iterator[FixtureSite]:
    with FixtureSite(texts, sitemap_size=10) as running:
        yield running


@pytest.fixture
def client(site: FixtureSite) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=site.base_url, timeout=5) as c:
        yield c


def page(client: httpx.Client, path: str) -> BeautifulSoup:
    response = client.get(path)
    assert response.status_code == 200, path
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert int(response.headers["content-length"]) == len(response.content)
    return BeautifulSoup(response.text, "lxml")


def attr(doc: BeautifulSoup | Tag, selector: str, name: str) -> str | None:
    found = doc.select_one(selector)
    return None if found is None else str(found[name])


def text(doc: BeautifulSoup | Tag, selector: str) -> str | None:
    found = doc.select_one(selector)
    return None if found is None else " ".join(found.get_text().split())


def article_fields(doc: BeautifulSoup) -> dict[str, Any]:
    """What a crawler reads from an article page, with the seed's selectors."""
    return {
        "title": text(doc, "title"),
        "headline": text(doc, ARTICLE.title),
        "published": attr(doc, ARTICLE.published, "datetime"),
        "published_meta": attr(doc, f'meta[property="{ARTICLE.published_meta}"]', "content"),
        "modified_meta": attr(doc, f'meta[property="{ARTICLE.modified_meta}"]', "content"),
        "og_url": attr(doc, ARTICLE.canonical, "content"),
        "canonical": attr(doc, 'link[rel="canonical"]', "href"),
        "category_url": attr(doc, ".wp-block-whitehouse-topper__eyebrow a", "href"),
        "category": text(doc, ".wp-block-whitehouse-topper__eyebrow a"),
        "description": attr(doc, 'meta[name="description"]', "content"),
        "blocks": len(doc.select("main > div.entry-content > *")),
    }


def body_markdown(doc: BeautifulSoup) -> str:
    """The article body as the archive writes it: the seed's cleaning, then pandoc."""
    main = doc.select_one(ARTICLE.body)
    assert main is not None
    for selector in ARTICLE.remove:
        for node in main.select(selector):
            node.decompose()
    for node in [main, *main.find_all(True)]:
        for name in list(node.attrs):
            if any(fnmatch.fnmatch(name, p) for p in ARTICLE.strip_attributes):
                del node[name]
    return converter_of(seed()).convert(str(main))


def sitemap(client: httpx.Client, site: FixtureSite, url: str) -> dict[str, dt.datetime | None]:
    """loc -> lastmod of a sitemap index or urlset."""
    response = client.get(site.url_path(url))
    assert response.status_code == 200
    root = ET.fromstring(response.content)
    found = {}
    for row in root.findall("s:sitemap", NS) + root.findall("s:url", NS):
        lastmod = row.findtext("s:lastmod", namespaces=NS)
        found[row.findtext("s:loc", namespaces=NS) or ""] = (
            dt.datetime.fromisoformat(lastmod) if lastmod else None
        )
    return found


def sitemap_urls(client: httpx.Client, site: FixtureSite) -> dict[str, dt.datetime | None]:
    """Every URL of the Yoast sitemaps, through the index."""
    found: dict[str, dt.datetime | None] = {}
    for loc in sitemap(client, site, "/sitemap_index.xml"):
        found |= sitemap(client, site, loc)
    return found


def lastmod(statement: Statement) -> dt.datetime:
    value = statement.modified_time or statement.published_time
    assert value is not None
    return value


# -- pages -------------------------------------------------------------------------------------


def test_news_listing_walks_every_statement_newest_first(
    site: FixtureSite, client: httpx.Client, statements: dict[str, Statement]
) -> None:
    assert LISTING is not None
    total = len(statements)
    pages = math.ceil(total / 10)
    assert site.urls() == sorted(statements, key=lambda u: statements[u].published_time or 0)[::-1]
    seen: list[str] = []
    path = "/news/"
    for number in range(1, pages + 1):
        doc = page(client, path)
        numbering = f"{DASH}Page {number} of {pages}" if number > 1 else ""
        assert text(doc, "title") == f"News{numbering}{SUFFIX}"
        assert text(doc, "main h1.wp-block-whitehouse-topper__headline") == "News"
        items = doc.select(LISTING.item)
        assert len(items) == (10 if number < pages else total - 10 * (pages - 1))
        for item in items:
            url = attr(item, LISTING.link, "href")
            assert url in statements
            statement = statements[url]
            assert text(item, LISTING.link) == " ".join(statement.title.split())
            assert f"category-{statement.tags}" in item["class"]
            assert attr(item, LISTING.category, "href") == f"{ORIGIN}/{statement.tags}/"
            published = attr(item, LISTING.published, "datetime")
            assert statement.published_time is not None
            assert published == statement.published_time.isoformat()
            seen.append(url)
        assert doc.select_one(LISTING.pagination) is not None
        previous = attr(doc, "link[rel=prev]", "href")
        assert previous == (
            None
            if number == 1
            else f"{ORIGIN}/news/" + (f"page/{number - 1}/" if number > 2 else "")
        )
        following = attr(doc, LISTING.next, "href")
        if number < pages:
            assert following == f"{ORIGIN}/news/page/{number + 1}/"
            assert attr(doc, "a.wp-block-query-pagination-next", "href") == following
            path = site.url_path(following)
        else:
            assert following is None
    assert seen == site.urls()
    assert client.get(f"/news/page/{pages + 1}/").status_code == 404
    assert client.get("/news/page/1/").headers["location"] == f"{ORIGIN}/news/"


def test_section_listings_hold_their_category(
    site: FixtureSite, client: httpx.Client, statements: dict[str, Statement]
) -> None:
    assert LISTING is not None
    for category in {s.tags for s in statements.values()}:
        doc = page(client, f"/{category}/")
        expected = [u for u in site.urls() if statements[u].tags == category][:10]
        assert [attr(i, LISTING.link, "href") for i in doc.select(LISTING.item)] == expected
        assert attr(doc, 'link[rel="canonical"]', "href") == f"{ORIGIN}/{category}/"
    doc = page(client, "/briefings-statements/")
    assert text(doc, "title") == f"Briefings & Statements{SUFFIX}"
    assert doc.body is not None and "category-briefings-statements" in doc.body["class"]
    assert client.get("/no-such-section/").status_code == 404


def test_article_page_reads_like_the_saved_real_page(client: httpx.Client) -> None:
    real = BeautifulSoup(ARTICLE_PAGE.read_text(encoding="utf-8"), "lxml")
    served = page(client, WEEK_EIGHT_PATH)
    assert article_fields(served) == article_fields(real)
    title = text(real, ARTICLE.title)
    assert attr(served, 'meta[property="og:title"]', "content") == f"{title}{SUFFIX}"
    # The body converts back to exactly what the public archive wrote from the real page.
    expected = next((PAGES / "expected").glob("*week-eight-wins*.md"))
    assert body_markdown(served) == loads(expected.read_text(encoding="utf-8")).body


def test_every_article_page_carries_its_statement(
    client: httpx.Client, statements: dict[str, Statement]
) -> None:
    for url, statement in statements.items():
        response = client.get(url.removeprefix(ORIGIN))
        doc = BeautifulSoup(response.text, "lxml")
        fields = article_fields(doc)
        published, modified = statement.published_time, statement.modified_time
        assert published is not None
        assert fields["headline"] == " ".join(statement.title.split())
        assert fields["og_url"] == fields["canonical"] == url
        assert fields["published"] == published.isoformat()
        assert fields["published_meta"] == published.astimezone(dt.UTC).isoformat()
        utc = modified and modified.astimezone(dt.UTC).isoformat()
        assert fields["modified_meta"] == utc  # absent when the statement has none
        assert fields["category_url"] == f"{ORIGIN}/{statement.tags}/"
        last = email.utils.parsedate_to_datetime(response.headers["last-modified"])
        assert last == lastmod(statement)
    assert any(s.modified_time is None for s in statements.values())


# -- sitemaps, feed, robots -------------------------------------------------------------------


def test_sitemap_indexes_lead_to_every_statement_with_its_lastmod(
    site: FixtureSite, client: httpx.Client, statements: dict[str, Statement]
) -> None:
    index = sitemap(client, site, "/sitemap_index.xml")
    posts = {loc: mod for loc, mod in index.items() if "post-sitemap" in loc}
    assert len(posts) == math.ceil(len(statements) / 10)
    assert f"{ORIGIN}/post-sitemap.xml" in posts and f"{ORIGIN}/category-sitemap.xml" in index
    found: dict[str, dt.datetime | None] = {}
    for loc, child_lastmod in posts.items():
        urls = sitemap(client, site, loc)
        assert 0 < len(urls) <= 10
        assert child_lastmod == max(m for m in urls.values() if m)
        found |= urls
    assert found == {url: lastmod(s) for url, s in statements.items()}
    core = sitemap(client, site, "/wp-sitemap.xml")
    assert all(mod is None for mod in core.values())
    assert f"{ORIGIN}/wp-sitemap-taxonomies-category-1.xml" in core
    core_urls: dict[str, dt.datetime | None] = {}
    for loc in (loc for loc in core if "posts-post" in loc):
        core_urls |= sitemap(client, site, loc)
    assert core_urls == found
    packed = client.get("/post-sitemap.xml.gz")
    assert packed.headers["content-type"] == "application/x-gzip"
    assert gzip.decompress(packed.content) == client.get("/post-sitemap.xml").content


def test_feed_has_the_newest_ten(
    site: FixtureSite, client: httpx.Client, statements: dict[str, Statement]
) -> None:
    response = client.get("/feed/")
    assert response.headers["content-type"].startswith("application/rss+xml")
    items = ET.fromstring(response.content).findall("channel/item")
    assert [i.findtext("link") for i in items] == site.urls()[:10]
    for item in items:
        statement = statements[item.findtext("link") or ""]
        assert item.findtext("title") == statement.title
        pub = email.utils.parsedate_to_datetime(item.findtext("pubDate") or "")
        assert pub == statement.published_time
        assert item.findtext("category") and item.find("guid") is not None


def test_robots_and_unknown_paths(site: FixtureSite, client: httpx.Client) -> None:
    assert client.get("/robots.txt").text == "User-agent: *\nAllow: /\n"
    site.robots = "User-agent: *\nDisallow: /news/\nCrawl-delay: 2\n"
    response = client.get("/robots.txt")
    assert response.text == site.robots and response.headers["content-type"].startswith(
        "text/plain"
    )
    for path in ("/no/such/page/", "/articles/2099/01/nothing-here/", "/post-sitemap99.xml"):
        assert client.get(path).status_code == 404, path


# -- changes ---------------------------------------------------------------------------------


def real_revision(revisions: tuple[dict[str, Any], ...], *, modified: bool) -> tuple[str, str]:
    """(old, new) texts of a real edit of a current-site statement whose words changed."""
    for revision in revisions:
        old, new = loads(str(revision["old"])), loads(str(revision["new"]))
        if (
            usable_texts([str(revision["old"])])
            and len(old.body.split()) > 50
            and old.body.split() != new.body.split()
            and new.source_url == old.source_url
            and ("modified_time" in revision["changed_keys"]) == modified
        ):
            return str(revision["old"]), str(revision["new"])
    raise AssertionError("no such revision")


def test_edit_moves_the_lastmod(texts: list[str], revisions: tuple[dict[str, Any], ...]) -> None:
    old_text, new_text = real_revision(revisions, modified=True)
    old, new = loads(old_text), loads(new_text)
    with FixtureSite([*texts[:5], old_text]) as site, httpx.Client(base_url=site.base_url) as c:
        path = site.url_path(old.source_url)
        before = c.get(path)
        site.edit(old.source_url, new_text)
        after = c.get(path)
        assert after.headers["etag"] != before.headers["etag"]
        assert render_bodies([new.body])[0] in after.text
        edited = site.lastmod(old.source_url)  # edited now: later than anything before
        assert edited > lastmod(old) and edited > dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)
        doc = BeautifulSoup(after.text, "lxml")
        assert article_fields(doc)["modified_meta"] == edited.astimezone(dt.UTC).isoformat()
        assert sitemap(c, site, "/post-sitemap.xml")[old.source_url] == edited
        # Edited again: the lastmod moves on, even within the same second.
        site.edit(old.source_url, old_text)
        assert site.lastmod(old.source_url) > edited


def test_silent_edit_keeps_the_lastmod(
    texts: list[str], revisions: tuple[dict[str, Any], ...]
) -> None:
    old_text, new_text = real_revision(revisions, modified=False)
    old, new = loads(old_text), loads(new_text)
    with FixtureSite([*texts[:5], old_text]) as site, httpx.Client(base_url=site.base_url) as c:
        path = site.url_path(old.source_url)
        before = c.get(path)
        site.edit(old.source_url, new_text, bump_lastmod=False)
        after = c.get(path)
        assert after.headers["etag"] != before.headers["etag"]
        assert after.headers["last-modified"] == before.headers["last-modified"]
        assert render_bodies([new.body])[0] in after.text
        assert render_bodies([old.body])[0] not in after.text
        fields = article_fields(BeautifulSoup(after.text, "lxml"))
        assert (
            fields["modified_meta"]
            == article_fields(BeautifulSoup(before.text, "lxml"))["modified_meta"]
        )
        assert sitemap(c, site, "/post-sitemap.xml")[old.source_url] == lastmod(old)


def test_edit_retitles_the_listing_entry(
    site: FixtureSite, client: httpx.Client, statements: dict[str, Statement]
) -> None:
    assert LISTING is not None
    url = site.urls()[0]
    site.edit(url, dumps(statements[url].replace(title="A Corrected Title")))
    first = page(client, "/news/").select_one(LISTING.item)
    assert first is not None and text(first, LISTING.link) == "A Corrected Title"
    assert text(page(client, site.url_path(url)), ARTICLE.title) == "A Corrected Title"


def test_move_redirects_and_relists(site: FixtureSite, client: httpx.Client) -> None:
    old = site.urls()[3]
    new = old.rstrip("/") + "-corrected/"
    site.move(old, new)
    response = client.get(site.url_path(old))
    assert response.status_code == 301 and response.headers["location"] == new
    doc = page(client, site.url_path(new))
    assert article_fields(doc)["og_url"] == new
    assert site.urls()[3] == new and old not in site.urls()
    listed = {attr(i, "h2 a", "href") for i in page(client, "/news/").select("li.wp-block-post")}
    assert new in listed and old not in listed
    in_sitemaps = sitemap_urls(client, site)
    assert new in in_sitemaps and old not in in_sitemaps
    # A relative Location, another status; then a move off the site.
    other = site.urls()[4]
    site.move(other, other.rstrip("/") + "-2/", 308, relative=True)
    moved = client.get(site.url_path(other))
    assert moved.status_code == 308
    assert moved.headers["location"] == site.url_path(other).rstrip("/") + "-2/"
    away, archive = site.urls()[5], "https://bidenwhitehouse.archives.gov/briefing-room/x/"
    site.move(away, archive)
    assert client.get(site.url_path(away)).headers["location"] == archive
    assert away not in site.urls() and away not in sitemap_urls(client, site)
    with pytest.raises(ValueError):
        site.move(site.urls()[0], f"{ORIGIN}/not-a-statement/")


def test_remove_and_restore(site: FixtureSite, client: httpx.Client) -> None:
    url = site.urls()[0]
    path = site.url_path(url)
    site.remove(url)
    assert client.get(path).status_code == 410
    assert url not in site.urls()
    assert url not in client.get("/news/").text and url not in client.get("/feed/").text
    assert url not in sitemap_urls(client, site)
    site.remove(url, status=404)
    assert client.get(path).status_code == 404
    site.restore(url)
    assert client.get(path).status_code == 200 and site.urls()[0] == url
    assert url in sitemap_urls(client, site)


def test_add_publishes_a_statement(
    site: FixtureSite, client: httpx.Client, usable: list[str], texts: list[str]
) -> None:
    extra = next(t for t in usable if t not in texts)
    url = site.add(extra)
    assert url in site.urls() and client.get(site.url_path(url)).status_code == 200
    with pytest.raises(ValueError):
        site.add(extra)


# -- faults, counters, conditional requests -------------------------------------------------------


def test_fail_with_a_status_and_retry_after(site: FixtureSite, client: httpx.Client) -> None:
    path = site.url_path(site.urls()[0])
    site.fail(path, "status", status=429, retry_after=7, times=2)
    site.fail("/news/", "status", status=503)
    for _ in range(2):
        response = client.get(path)
        assert response.status_code == 429 and response.headers["retry-after"] == "7"
    assert client.get(path).status_code == 200
    assert client.get("/news/").status_code == 503
    assert "retry-after" not in client.get("/news/").headers


def test_fail_reset_truncate_and_stall(site: FixtureSite, client: httpx.Client) -> None:
    path = site.url_path(site.urls()[1])
    site.fail(path, "reset")
    with pytest.raises(httpx.TransportError) as reset:
        client.get(path)
    assert not isinstance(reset.value, httpx.TimeoutException)
    site.fail(path, "truncate")
    with pytest.raises(httpx.RemoteProtocolError):
        client.get(path)
    site.stall_seconds = 0.5
    site.fail(f"{ORIGIN}/feed/", "stall")
    with pytest.raises(httpx.ReadTimeout):
        client.get("/feed/", timeout=0.1)
    assert client.get(path).status_code == 200
    assert client.get("/feed/").status_code == 200
    with pytest.raises(ValueError):
        site.fail(path, "explode")


def test_stop_ends_a_stall(texts: list[str]) -> None:
    """A stalled answer ends when the site stops, not when the stall would have (no timing is
    asserted: the stall and the client's timeout are far longer than the join's bound)."""
    site = FixtureSite(texts[:3], stall_seconds=3600).start()
    site.fail("/feed/", "stall")
    outcome: list[BaseException] = []

    def fetch() -> None:
        try:
            httpx.get(site.base_url + "/feed/", timeout=3600)
        except httpx.HTTPError as exc:
            outcome.append(exc)

    worker = threading.Thread(target=fetch, daemon=True)
    worker.start()
    for _ in range(3000):  # until the server holds the request
        if site.count("/feed/") or not worker.is_alive():
            break
        time.sleep(0.01)
    assert site.count("/feed/") == 1 and worker.is_alive(), outcome
    site.stop()
    worker.join(60)
    assert not worker.is_alive()
    assert outcome and isinstance(outcome[0], httpx.TransportError)


def test_random_faults_hit_statement_pages_reproducibly(
    site: FixtureSite, client: httpx.Client
) -> None:
    paths = [site.url_path(u) for u in site.urls()[:12]]
    site.fault_kinds = ("status",)
    site.fault_rate = 1.0
    replies = [client.get(p) for p in paths]
    assert {r.status_code for r in replies} <= {429, 500, 503}
    assert all(r.headers.get("retry-after") == "1" for r in replies if r.status_code == 429)
    assert sum(site.injected.values()) == len(paths)
    assert client.get("/news/").status_code == 200
    site.fault_rate = 0.5
    runs = []
    for _ in range(2):
        site.fault_seed = 7
        runs.append([client.get(p).status_code for p in paths])
    assert runs[0] == runs[1] and 200 in runs[0] and set(runs[0]) != {200}


def test_request_log_and_counters(site: FixtureSite, client: httpx.Client) -> None:
    client.get("/news/")
    site.reset_counts()
    assert site.count() == 0
    statement = site.url_path(site.urls()[0])
    client.get("/news/", headers={"User-Agent": "statement-sync-test"})
    client.get("/news/page/2/")
    client.get(statement)
    client.head(statement)
    client.get("/articles/2099/01/nothing-here/")
    client.get("/sitemap_index.xml")
    assert site.count() == 6 and site.count("/news/") == 2 and site.statement_requests() == 3
    first = site.requests[0]
    assert first[1:3] == ("GET", "/news/") and first[3]["user-agent"] == "statement-sync-test"
    assert [r[1] for r in site.requests].count("HEAD") == 1
    assert [r[0] for r in site.requests] == sorted(r[0] for r in site.requests)
    site.reset_counts()
    assert site.count() == 0 and site.requests == []


def test_conditional_get(site: FixtureSite, client: httpx.Client) -> None:
    path = site.url_path(site.urls()[0])
    first = client.get(path)
    etag, modified = first.headers["etag"], first.headers["last-modified"]
    again = client.get(path, headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b"" and again.headers["etag"] == etag
    assert client.get(path, headers={"If-None-Match": f'"x", W/{etag}'}).status_code == 304
    assert client.get(path, headers={"If-None-Match": '"other"'}).status_code == 200
    assert client.get(path, headers={"If-Modified-Since": modified}).status_code == 304
    earlier = email.utils.format_datetime(
        email.utils.parsedate_to_datetime(modified) - dt.timedelta(seconds=1), usegmt=True
    )
    assert client.get(path, headers={"If-Modified-Since": earlier}).status_code == 200
    both = {"If-None-Match": '"other"', "If-Modified-Since": modified}
    assert client.get(path, headers=both).status_code == 200  # If-None-Match wins
    head = client.head(path)
    assert head.content == b"" and head.headers["content-length"] == str(len(first.content))


# -- by hand ------------------------------------------------------------------------------------


@pytest.mark.slow
def test_started_by_hand() -> None:
    for path in (CORPUS, ARTICLE_PAGE, LISTING_PAGE):
        need(path)
    command = [sys.executable, "-m", "tests.fixture_site", "--port", "0", "--count", "12"]
    with subprocess.Popen(
        [*command, "--quiet"],
        cwd=PROJECT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    ) as process:
        try:
            assert process.stdout is not None
            base_url = process.stdout.readline().strip()
            assert base_url.startswith("http://127.0.0.1:")
            doc = BeautifulSoup(httpx.get(base_url + "/news/").text, "lxml")
            assert len(doc.select("li.wp-block-post")) == 10
        finally:
            process.send_signal(signal.SIGINT)
            assert process.wait(10) == 0
