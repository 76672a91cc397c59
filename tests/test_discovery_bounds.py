"""Discovery that survives broken and hostile sitemaps and listings, over a socket (issue 10).

A bad child sitemap (a gzip bomb, an HTML page answered 200, one that keeps answering 503) is
named and skipped, the rest is synced, and the child is read again next time; a huge child of
dead URLs is capped and stopped by the 404 streak; an endless listing is cut and said; at most
``max_new`` new statements a sync, the rest by the next syncs.
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from crawler.cli import main
from crawler.fetch import Fetcher, RetryPolicy, make_client
from crawler.source import Source, load_source
from crawler.syncer import CONVERT_BATCH, CONVERTERS, Syncer, SyncOptions, SyncReport
from storage.archive import Archive
from storage.document import loads
from tests.conftest import PROJECT
from tests.fixture_site import FixtureSite, dead_urlset, gzip_bomb, html_page, usable_texts
from tests.test_sync import NOW

pytestmark = [pytest.mark.corpus]
ORIGIN = "https://www.whitehouse.gov"
BAD = "/post-sitemap-bad.xml"


@pytest.fixture(scope="module")
def texts(corpus: tuple[tuple[str, str], ...]) -> list[str]:
    """The 30 newest statements: three Yoast children of 10 (post-sitemap.xml, 2, 3)."""
    usable = usable_texts(t for _, t in corpus)
    return sorted(usable, key=lambda t: str(loads(t).meta.get("published_time")))[-30:]


@pytest.fixture
def site(texts: list[str]) -> Iterator[FixtureSite]:
    with FixtureSite(texts, sitemap_size=10) as running:
        yield running


def whitehouse(**changes: dict[str, Any]) -> Source:
    """The seed, politeness off, with tables changed: ``sync={"max_new": 10}``."""
    source = load_source(PROJECT / "seeds" / "whitehouse.toml")
    changes.setdefault("politeness", {"rate": 0.0})
    tables = {
        name: None if values is None else dataclasses.replace(getattr(source, name), **values)
        for name, values in changes.items()
    }
    return dataclasses.replace(source, **tables)


def sync(root: Path, site: FixtureSite, source: Source, **options: Any) -> SyncReport:
    retry = RetryPolicy(attempts=3, initial=0.01, maximum=0.05)
    with make_client(timeout=5.0) as client, Archive(root, clock=lambda: NOW) as archive:
        fetcher = Fetcher(client, source, base_url=site.base_url, retry=retry)
        return Syncer(archive, source, fetcher, SyncOptions(**options), clock=lambda: NOW).run()


def saved_sitemaps(root: Path) -> dict[str, str]:
    with Archive(root) as archive:
        return archive.index.settings_with_prefix("sitemap:whitehouse:")


def run_json(
    site: FixtureSite, root: Path, capsys: pytest.CaptureFixture[str], *extra: str
) -> tuple[int, dict[str, Any], str]:
    code = main(site.sync_args(root, "--json", *extra))
    out, err = capsys.readouterr()
    return code, json.loads(out), err


BAD_CHILDREN: dict[str, Callable[[], Any]] = {
    "gzip bomb": gzip_bomb,
    "HTML page answered 200": html_page,
}


@pytest.mark.parametrize("kind", sorted(BAD_CHILDREN))
def test_a_bad_sitemap_child_is_named_and_the_rest_is_synced(
    site: FixtureSite, tmp_path: Path, capsys: pytest.CaptureFixture[str], kind: str
) -> None:
    site.plant(BAD, BAD_CHILDREN[kind](), child=True)
    root = tmp_path / "a"
    code, out, _ = run_json(site, root, capsys, "--full")
    assert code == 1 and out["exit"] == 1 and not out["broken"]  # some failed, not broken
    assert out["saved"] == 30 and len(list(root.rglob("*.md"))) == 30
    (failure,) = out["sources"][0]["failures"]
    assert failure["url"] == "discovery" and ORIGIN + BAD in failure["reason"]
    saved = saved_sitemaps(root)  # the healthy children's lastmods, not the bad one's
    assert {ORIGIN + "/post-sitemap2.xml", ORIGIN + "/post-sitemap3.xml"} <= saved.keys()
    assert ORIGIN + BAD not in saved
    site.reset_counts()
    assert main(site.sync_args(root)) == 1  # read again, said by name on stderr
    assert f"sitemap child failed (read again next time): {ORIGIN}{BAD}" in capsys.readouterr().err
    assert site.count(BAD) == 1 and site.count("/post-sitemap2.xml") == 0
    with FixtureSite([]) as empty:  # nothing found at all, where statements were: broken
        empty.plant(BAD, BAD_CHILDREN[kind](), child=True)
        code, out, _ = run_json(empty, root, capsys)
    assert code == 3 and "found no statement where it found some before" in out["broken"][0]


def test_a_child_that_keeps_failing_hides_no_healthy_child(
    site: FixtureSite, tmp_path: Path
) -> None:
    source = whitehouse(listing=None, feed=None)  # the sitemap alone finds them
    site.fail("/post-sitemap2.xml", "status", status=503, times=3)  # every attempt of a sync
    root = tmp_path / "a"
    report = sync(root, site, source, full=True)
    assert report.counts["new"] == 20 and report.counts["failed"] == 1
    (failure,) = report.failures
    assert failure[0] == "discovery" and "post-sitemap2.xml" in failure[1] and "503" in failure[1]
    assert ORIGIN + "/post-sitemap2.xml" not in saved_sitemaps(root)
    assert ORIGIN + "/post-sitemap3.xml" in saved_sitemaps(root)
    site.reset_counts()
    again = sync(root, site, source)
    assert again.counts["new"] == 10 and not again.failures  # read again: its 10 statements
    assert site.count("/post-sitemap2.xml") == 1 and site.count("/post-sitemap3.xml") == 0
    assert ORIGIN + "/post-sitemap2.xml" in saved_sitemaps(root)


def test_a_huge_child_of_dead_urls_is_capped_and_stopped_by_the_404_streak(
    site: FixtureSite, tmp_path: Path
) -> None:
    site.plant("/post-sitemap-dead.xml", lambda: dead_urlset(2_000), child=True)
    caps = {"gone_streak": 20, "max_new": 100}
    source = whitehouse(sitemap={"max_urls": 500}, sync=caps)
    report = sync(tmp_path / "a", site, source, full=True)
    assert report.counts["new"] == 30  # the real statements first (dated: newest), all synced
    assert not any("left for the next syncs" in n for n in report.notes)  # they look dead
    with Archive(tmp_path / "a") as archive:  # no walk of everything next time for dead ones
        assert archive.index.setting("backlog:whitehouse") is None
    assert any("post-sitemap-dead.xml: took its first 500 URLs" in w for w in report.warnings)
    assert any("dropped 1,500 more" in w for w in report.warnings)
    (stopped,) = [w for w in report.warnings if "stopped fetching new URLs" in w]
    assert stopped.startswith(
        "20 new URLs in a row answered HTTP 404/410: stopped fetching new URLs for this sync"
        " ([sync] gone_streak), "
    )
    # 430 over max_new (100 of 530), and those of the 100 not yet sent when the streak tripped
    # (fetches in flight, at most one window of 50, still finish).
    left = int(re.search(r"(\d+) left not fetched", stopped)[1])  # type: ignore[index]
    assert 430 < left <= 480
    dead = site.statement_requests() - 30
    assert 20 <= dead <= 20 + 50  # the streak, at most one chunk past it; not 500
    assert report.requests < 30 + 70 + 20


@pytest.mark.slow
def test_a_200000_url_child_of_404s_costs_a_bounded_number_of_requests(
    site: FixtureSite, tmp_path: Path
) -> None:
    site.plant("/post-sitemap-dead.xml", lambda: dead_urlset(200_000), child=True)
    report = sync(tmp_path / "a", site, whitehouse(), full=True)  # the seed's own caps
    assert report.counts["new"] == 30
    assert any("took its first 50,000 URLs" in w and "150,000" in w for w in report.warnings)
    assert any("stopped fetching new URLs" in w for w in report.warnings)
    # The 30 statements, the streak of 50 dead URLs that stops new fetches, and what the
    # overlapped pipeline already had under way when it stopped: a window of fetches in flight
    # and, behind them, at most a window and the converters' batches held (crawler/pipeline.py).
    under_way = 50 + (50 + CONVERTERS * CONVERT_BATCH)
    assert site.statement_requests() <= 30 + 50 + under_way
    assert report.requests < 250  # of the 200,000 URLs listed


def test_at_most_max_new_a_sync_and_the_rest_by_the_next_syncs(
    site: FixtureSite, tmp_path: Path
) -> None:
    source = whitehouse(sync={"max_new": 12})
    root = tmp_path / "a"
    first = sync(root, site, source, full=True)
    assert first.counts["new"] == 12
    assert any("18 new statements left for the next syncs" in n for n in first.notes)
    with Archive(root) as archive:
        archived = {archive.index.by_url(u) is not None for u in site.urls()[:12]}
        assert archive.index.setting("backlog:whitehouse") == "18"
    assert archived == {True}  # the newest first
    fetched = []
    for expected in (12, 6, 0):
        site.reset_counts()
        report = sync(root, site, source)  # plain syncs finish the backfill
        assert report.counts["new"] == expected and not report.failures
        fetched.append(site.statement_requests())
    assert fetched == [12, 6, 0]  # nothing fetched twice
    assert len(list(root.rglob("*.md"))) == 30
    with Archive(root) as archive:
        assert archive.index.setting("backlog:whitehouse") == "0"


def test_an_endless_listing_is_cut_and_said(
    site: FixtureSite, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    site.endless = "repeat"  # past its last page, /news/ gives that page again, forever
    code, out, _ = run_json(site, tmp_path / "a", capsys, "--full")
    (warning,) = out["sources"][0]["warnings"]
    assert code == 0 and out["saved"] == 30  # a warning, not a failure
    assert "listing https://www.whitehouse.gov/news/ cut after 4 pages" in warning
    assert "adds no new URL" in warning and site.count("/news/") == 4
    assert main(site.sync_args(tmp_path / "a", "--full")) == 0
    assert "whitehouse: warning: listing" in capsys.readouterr().out
    site.endless = "new"  # ... or new statement URLs on every page, all dead
    source = whitehouse(listing={"max_pages": 8}, sitemap=None, feed=None)
    site.reset_counts()
    report = sync(tmp_path / "b", site, source, full=True)
    assert site.count("/news/") == 8 and report.counts["new"] == 30
    assert any("cut after 8 pages (listing.max_pages is 8)" in w for w in report.warnings)


def test_the_caps_are_validated_at_load(tmp_path: Path) -> None:
    text = (PROJECT / "seeds" / "whitehouse.toml").read_text(encoding="utf-8")
    bad = tmp_path / "whitehouse.toml"
    bad.write_text(text.replace("max_new = 5000", "max_new = 0"), encoding="utf-8")
    with pytest.raises(Exception, match=r"line \d+.*sync.max_new: expected a whole number"):
        load_source(bad)
    source = load_source(PROJECT / "seeds" / "whitehouse.toml")
    assert (source.sync.max_new, source.sync.gone_streak) == (5_000, 50)
    assert source.sitemap is not None and source.sitemap.max_urls == 50_000
