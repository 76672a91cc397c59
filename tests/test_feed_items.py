"""The ``feed_items`` kind (crawler/kinds/feed_items.py): statements read whole from feed items.

Its reading rules (the trailer, tags, the GUID's id, Atom), its seed checks, and the kind synced
through the real engine over a socket against the fixture WordPress site (tests/fixture_feed.py):
a first sync, a sync with nothing new (the feed and the sitemap asked for, no item fetched), an
edit, a slug move by GUID, a statement the feed missed found by the sitemap and read as a page,
a removal (out of the feed and the sitemap, the page 410), a killed sync rerun.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from bs4 import BeautifulSoup

import crawler
from crawler.errors import SourceError
from crawler.fetch import Response
from crawler.kinds import Fetched, Parsed, kind_of
from crawler.kinds.feed_items import drop_trailer, read_items
from crawler.source import Source, load_source
from storage.archive import Archive
from tests.conftest import PROJECT
from tests.fixture_feed import FEED_PATH, ORIGIN, SEED, FixtureFeed, post

POSTS = 14  # the feed shows the newest 10: four are only in the sitemap


def seed(tmp_path: Path, text: str = SEED) -> Path:
    folder = tmp_path / "seeds"
    folder.mkdir(exist_ok=True)
    (folder / "wpfeed.toml").write_text(text, encoding="utf-8")
    return folder


def source(tmp_path: Path, text: str = SEED) -> Source:
    return load_source(seed(tmp_path, text) / "wpfeed.toml")


def one(feed: bytes, url: str, src: Source) -> Any:
    reply = Response(url, 200, {"content-type": "application/rss+xml"}, feed)
    result = kind_of(src).extract([Fetched(url, reply)], src)[0]
    return result


# -- reading ----------------------------------------------------------------------------------


def _feed(*items: str) -> bytes:
    fixture = FixtureFeed()
    return fixture._feed().replace(b"</channel>", "".join(items).encode() + b"</channel>")


def _item(body: str, *, guid: str = f"{ORIGIN}/?p=77", extra: str = "") -> str:
    return (
        "<item><title>A &#8220;Title&#8221;</title>"
        f"<link>{ORIGIN}/a-title/</link><guid isPermaLink='false'>{guid}</guid>"
        f"<pubDate>Thu, 24 Mar 2022 23:03:21 +0000</pubDate>{extra}"
        f"<content:encoded><![CDATA[{body}]]></content:encoded></item>"
    )


def test_wordpress_trailer_is_dropped_only_as_the_last_paragraph(tmp_path: Path) -> None:
    src = source(tmp_path)
    trailer = (
        f'<p>The post <a href="{ORIGIN}/a-title/">A Title</a> appeared first on '
        f'<a href="{ORIGIN}">Example</a>.</p>'
    )
    quoted = "<p>The post X appeared first on Y, he said, and more.</p><p>End.</p>"
    result = one(_feed(_item(f"<p>Words.</p>\n{trailer}\n")), f"{ORIGIN}/a-title/", src)
    assert isinstance(result, Parsed) and result.statement.body == "Words.\n"
    kept = one(_feed(_item(quoted)), f"{ORIGIN}/a-title/", src)
    assert "appeared first on Y" in kept.statement.body  # not last: the statement's own words
    root = BeautifulSoup(f"<div><p>A.</p>{trailer}</div>", "lxml").div
    assert drop_trailer(root) and not drop_trailer(root)  # once: "A." is no trailer
    keep = source(tmp_path, SEED.replace('tags = "press-releases"', "drop_trailer = false"))
    assert (
        "appeared first on" in one(_feed(_item(trailer)), f"{ORIGIN}/a-title/", keep).statement.body
    )


def test_front_matter_from_the_item_tags_fixed_or_from_a_field_never_the_url(
    tmp_path: Path,
) -> None:
    creator = "<dc:creator><![CDATA[Ned Price, Department Spokesperson]]></dc:creator>"
    feed = _feed(_item("<p>Words.</p>", extra=creator + "<category><![CDATA[]]></category>"))
    fixed = one(feed, f"{ORIGIN}/a-title/", source(tmp_path))
    meta = fixed.statement.meta
    assert meta["tags"] == "press-releases" and meta["title"] == "A \u201cTitle\u201d"
    assert meta["published_time"] == dt.datetime.fromisoformat("2022-03-24T19:03:21-04:00")
    assert meta["date"] == "2022-03-24" and "modified_time" not in meta
    assert fixed.stable_id == "77"
    text = SEED.replace('tags = "press-releases"', 'tags = "x"\ntags_field = "dc:creator"')
    by_field = one(feed, f"{ORIGIN}/a-title/", source(tmp_path, text))
    assert by_field.statement.meta["tags"] == "ned-price-department-spokesperson"
    text = SEED.replace('tags = "press-releases"', 'tags = "x"\ntags_field = "category"')
    empty = one(feed, f"{ORIGIN}/a-title/", source(tmp_path, text))
    assert empty.statement.meta["tags"] == "x"  # the field is empty: the fixed value


def test_the_stable_id_is_the_guid_post_or_page_id(tmp_path: Path) -> None:
    src = source(tmp_path)
    for guid, expected in ((f"{ORIGIN}/?page_id=320953", "320953"), (f"{ORIGIN}/?p=5", "5")):
        assert (
            one(_feed(_item("<p>W.</p>", guid=guid)), f"{ORIGIN}/a-title/", src).stable_id
            == expected
        )
    assert (
        one(_feed(_item("<p>W.</p>", guid="tag:x,2022:1")), f"{ORIGIN}/a-title/", src).stable_id
        is None
    )


def test_an_atom_entry_and_a_feed_of_summaries(tmp_path: Path) -> None:
    src = source(tmp_path)
    atom = (
        '<feed xmlns="http://www.w3.org/2005/Atom"><entry><title>Atom Item</title>'
        f'<link rel="alternate" href="{ORIGIN}/atom-item/"/><id>{ORIGIN}/?p=9</id>'
        "<published>2022-03-24T23:03:21Z</published>"
        '<content type="html">&lt;p&gt;Atom words.&lt;/p&gt;</content></entry></feed>'
    ).encode()
    result = one(atom, f"{ORIGIN}/atom-item/", src)
    assert result.statement.body == "Atom words.\n" and result.stable_id == "9"
    summary = _feed(_item("x").replace("content:encoded", "description"))
    refused = one(summary, f"{ORIGIN}/a-title/", src)
    assert isinstance(refused, crawler.NotAStatement) and "full content" in refused.message
    items = read_items(_feed(_item("<p>W.</p>").replace("/a-title/", "/a/b/c")), FEED_PATH, src)
    assert isinstance(items[0], crawler.NotAStatement)  # not a statement URL of the seed


def test_seed_checks(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match=r"feed_items\.urls"):
        source(tmp_path, SEED.replace('urls = ["/rss-feed/press-releases/feed/"]', "urls = []"))
    with pytest.raises(SourceError, match=r"no \[feed\] table"):
        source(tmp_path, SEED + '\n[feed]\nurls = ["/feed/"]\n')
    with pytest.raises(SourceError, match=r"selectors\.article"):
        source(tmp_path, SEED.split("[selectors.article]")[0])
    no_pages = SEED.split("[sitemap]")[0]  # feed only: no selectors needed
    assert source(tmp_path, no_pages).discovery == ("feed-items",)
    assert source(tmp_path).discovery == ("feed-items", "sitemap")


# -- synced over a socket ---------------------------------------------------------------------


@pytest.fixture
def site() -> Iterator[FixtureFeed]:
    with FixtureFeed(posts=POSTS) as fixture:
        yield fixture


def sync(archive: Path, seeds: Path, site: FixtureFeed, **options: Any) -> crawler.SyncReport:
    site.reset_counts()
    result = crawler.sync(
        archive, ["wpfeed"], seeds=[seeds], base_url=site.base_url, rate=0, **options
    )
    assert len(result.reports) == 1, result
    return result.reports[0]


@pytest.fixture
def synced(tmp_path: Path, site: FixtureFeed) -> tuple[Path, Path]:
    archive, seeds = tmp_path / "archive", seed(tmp_path)
    first = sync(archive, seeds, site, full=True)
    assert first.counts["new"] == POSTS and not first.failures, first
    # robots.txt, the feed, the sitemap; the 4 posts the feed no longer shows read as pages
    assert site.counts() == (1, 1, 1, POSTS - 10)
    return archive, seeds


def _row(archive: Path, number: int) -> Any:
    with Archive(archive) as opened:
        return opened.index.by_stable_id("wpfeed", str(1000 + number))


def test_a_first_sync_reads_the_feed_items_and_the_pages_the_feed_missed_alike(
    synced: tuple[Path, Path],
) -> None:
    archive, _ = synced
    with Archive(archive) as opened:
        assert len(opened.statements()) == POSTS
        texts = {}
        for n in (0, POSTS - 1):  # the oldest, from its page; the newest, from the feed
            row = opened.index.by_stable_id("wpfeed", str(1000 + n))
            assert row is not None and row.url == f"{ORIGIN}/statement-number-{n}/"
            texts[n] = opened.file(row.path).read_text(encoding="utf-8")
    for n, text in texts.items():
        assert f"Statement {n} says this." in text and "tags: press-releases" in text
        assert "modified_time" not in text and "data-filter" not in text
    bodies = [t.split("---\n", 2)[2].replace(str(n), "N") for n, t in texts.items()]
    assert bodies[0] == bodies[1]  # the page and the feed item give the same body
    keys = [
        [line.split(":")[0] for line in t.split("---\n")[1].splitlines()] for t in texts.values()
    ]
    assert keys[0] == keys[1]


def test_nothing_new_costs_the_feed_and_the_sitemap_only(
    synced: tuple[Path, Path], site: FixtureFeed
) -> None:
    quiet = sync(*synced, site)
    assert site.counts() == (1, 1, 1, 0) and quiet.events == [] and not quiet.failures
    assert site.not_modified == 1 and quiet.planned == 0  # the feed: conditional GET, 304
    site.etags = False  # a feed without validators: read again, its items compared, none read
    again = sync(*synced, site)
    assert site.counts() == (1, 1, 1, 0) and again.events == [] and not again.failures
    assert again.counts["not_modified"] == 10 and again.counts["unchanged"] == 0
    full = sync(*synced, site, full=True)  # --full: the feed unconditionally, every page
    assert site.counts() == (1, 1, 1, POSTS - 10) and full.events == []


def test_an_edited_item_is_updated_without_a_request(
    synced: tuple[Path, Path], site: FixtureFeed
) -> None:
    site.edit(
        1000 + POSTS - 3, body="<p>Office of the Spokesperson</p>\n<p>Statement corrected.</p>"
    )
    edited = sync(*synced, site)
    assert [r.kinds for r in edited.events] == [("updated",)] and site.counts() == (1, 1, 1, 0)
    row = _row(synced[0], POSTS - 3)
    assert row.head == 2
    assert sync(*synced, site).events == []
    site.edit(1000 + POSTS - 4, body="<p>Corrected again.</p>")
    full = sync(*synced, site, full=True)  # the feed shows the edit: not a silent one
    assert [r.kinds for r in full.events] == [("updated",)]


def test_a_new_slug_with_the_same_guid_is_a_move(
    synced: tuple[Path, Path], site: FixtureFeed
) -> None:
    before = _row(synced[0], POSTS - 2)
    site.move(1000 + POSTS - 2, "statement-number-renamed")
    moved = sync(*synced, site)
    assert [r.kinds for r in moved.events] == [("moved",)] and not moved.failures, moved
    after = _row(synced[0], POSTS - 2)
    assert after.id == before.id and after.url == f"{ORIGIN}/statement-number-renamed/"
    with Archive(synced[0]) as opened:
        assert len(opened.statements()) == POSTS
        assert opened.resolve(before.url).id == before.id


def test_a_post_the_feed_missed_is_found_by_the_sitemap_and_read_as_a_page(
    synced: tuple[Path, Path], site: FixtureFeed
) -> None:
    late = post(3)  # published long ago: far below the feed's newest ten
    late.number, late.slug, late.title = 2000, "a-late-statement", "A Late Statement"
    site.add(late)
    found = sync(*synced, site)
    assert [r.kinds for r in found.events] == [("new",)] and site.counts() == (1, 1, 1, 1)
    row = _row(synced[0], 1000)
    assert row is not None and row.url == f"{ORIGIN}/a-late-statement/"


def test_a_post_gone_from_feed_sitemap_and_site_is_removed(
    synced: tuple[Path, Path], site: FixtureFeed
) -> None:
    site.hidden.add(1000 + POSTS - 1)
    site.unlisted.add(1000 + POSTS - 1)
    site.remove(1000 + POSTS - 1, 410)
    removed = sync(*synced, site)
    assert [r.kinds for r in removed.events] == [("removed",)], removed
    assert site.counts() == (1, 1, 1, 1)  # its page re-checked once
    assert _row(synced[0], POSTS - 1).status == "removed"


def test_an_item_leaving_the_feed_is_not_a_removal(
    synced: tuple[Path, Path], site: FixtureFeed
) -> None:
    for n in range(POSTS, POSTS + 3):  # three newer posts push three out of the feed
        site.add(post(n))
    pushed = sync(*synced, site)
    assert [r.kinds for r in pushed.events] == [("new",)] * 3 and not pushed.failures
    assert site.counts() == (1, 1, 1, 0)


@pytest.mark.slow
def test_a_sync_killed_halfway_then_rerun_equals_an_uninterrupted_one(tmp_path: Path) -> None:
    import os
    import signal
    import subprocess
    import sys
    import time

    from tests.test_sync import snapshot

    seeds = seed(tmp_path)
    with FixtureFeed(posts=150, feed_size=150) as site:

        def command(archive: Path) -> list[str]:
            return [
                *(sys.executable, "-m", "crawler.cli", "sync", "wpfeed", "--archive", str(archive)),
                *("--seeds", str(seeds), "--base-url", site.base_url, "--rate", "0", "--full"),
            ]

        env = {**os.environ, "PYTHONPATH": str(PROJECT)}
        whole, killed = tmp_path / "whole", tmp_path / "killed"
        subprocess.run(command(whole), check=True, capture_output=True, cwd=PROJECT, env=env)
        process = subprocess.Popen(
            command(killed),
            cwd=PROJECT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 60
        while not any(killed.rglob("*.md")) and time.monotonic() < deadline:
            time.sleep(0.01)
        process.send_signal(signal.SIGKILL)
        process.wait()
        half = snapshot(killed)
        assert 0 < len(half[0]) < 150  # it did stop halfway
        subprocess.run(command(killed), check=True, capture_output=True, cwd=PROJECT, env=env)
        assert snapshot(killed) == snapshot(whole)
        assert not list(killed.rglob("*.part"))


# -- the engine's "delivered" path (crawler.syncer), pure --------------------------------------


def test_delivered_statements_are_planned_and_answered_without_a_request() -> None:
    from crawler.bounds import sitemaps_to_save
    from crawler.discover import Found
    from crawler.syncer import delivered_reply, plan
    from crawler.walk import Discovered
    from storage.index import FetchState

    feed, url, other = f"{ORIGIN}{FEED_PATH}", f"{ORIGIN}/a/", f"{ORIGIN}/b/"
    known = FetchState(statement_id=1, url=url, status="active", head=1, etag='"feed-item-1"')
    found = {u: Found(u, via="feed-items") for u in (url, other)}
    assert [t.url for t in plan(found, {url: known, other: None})] == [other]  # not delivered
    tasks = plan(found, {url: known, other: None}, delivered={url, other})
    assert [(t.url, t.reason, t.etag) for t in tasks] == [
        (url, "delivered", '"feed-item-1"'),
        (other, "new", None),
    ]
    item = Response(url, 200, {"etag": '"feed-item-1"'}, b"<rss/>")
    assert delivered_reply(item, tasks[0]).status == 304  # the digest recorded: not changed
    assert delivered_reply(item, tasks[1]) is item
    result = Discovered()
    result.sitemaps[feed] = 'etag "f1"'
    result.sitemaps_read.add(feed)
    result.delivered[url] = item
    result.parent[url] = feed
    assert sitemaps_to_save(result, []) == {feed: 'etag "f1"'}
    assert sitemaps_to_save(result, [url]) == {}  # an item not settled: the feed read again


def test_archive_hosts_map_the_statement_url_only_and_tags_values_the_field(
    tmp_path: Path,
) -> None:
    from crawler.kinds.feed_items import fetch_url

    hosts = 'allowed_hosts = ["www.example.gov", "arch.example.org"]'
    text = (
        SEED.split("[sitemap]")[0]
        .replace('allowed_hosts = ["www.example.gov"]', hosts)
        .replace('tags = "press-releases"', 'tags_field = "category"')
        + '[feed_items.archive_hosts]\n"www.example.gov" = "arch.example.org"\n'
        + '[feed_items.tags_values]\n"Press Briefings" = "press-briefings"\n'
    )
    src = source(tmp_path, text)
    feed = _feed(_item("<p>W.</p>", extra="<category><![CDATA[Press Briefings]]></category>"))
    result = one(feed, "https://arch.example.org/a-title/", src)
    assert result.statement.source_url == "https://arch.example.org/a-title/"
    assert result.statement.meta["tags"] == "press-briefings"
    assert fetch_url(src, "https://arch.example.org/a-title/") == f"{ORIGIN}/a-title/"
    with pytest.raises(SourceError, match="no \\[sitemap\\] with archive_hosts"):
        source(tmp_path, text + '[sitemap]\nurls = ["/sitemap.xml"]\n')
