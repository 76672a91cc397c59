"""Audits through a WordPress REST API (crawler/wpapi.py, crawler/wpaudit.py): against the fixture
site's /wp-json/wp/v2/posts over a socket, and the pure parts alone."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from crawler.cli import main
from crawler.fetch import Fetcher, RetryPolicy, make_client
from crawler.source import Source, load_source
from crawler.syncer import Syncer, SyncOptions, SyncReport
from crawler.wpapi import (
    ApiUnavailable,
    Post,
    Trust,
    agrees,
    compare,
    fingerprint,
    parse_page,
    tracks,
)
from crawler.wpaudit import rotation
from storage.archive import Archive
from storage.index import ApiPost, FetchState
from tests.conftest import PROJECT
from tests.fixture_site import FixtureSite, usable_texts

pytestmark = [pytest.mark.corpus]
NOW = dt.datetime(2026, 8, 22, 12, 0, tzinfo=dt.UTC)
COUNT = 30


def whitehouse() -> Source:
    source = load_source(PROJECT / "seeds" / "whitehouse.toml")
    return dataclasses.replace(source, politeness=dataclasses.replace(source.politeness, rate=0.0))


#: [wordpress] page_sweep: pages of statements the API lists that each API audit re-checks.
SWEEP = whitehouse().wordpress.page_sweep


def run_sync(archive_dir: Path, site: FixtureSite, hour: int = 0, **options: Any) -> SyncReport:
    source = whitehouse()
    now = NOW + dt.timedelta(hours=hour)
    retry = RetryPolicy(attempts=2, initial=0.01, maximum=0.05)
    with make_client(timeout=5) as client, Archive(archive_dir, clock=lambda: now) as archive:
        fetcher = Fetcher(client, source, base_url=site.base_url, retry=retry)
        return Syncer(archive, source, fetcher, SyncOptions(**options), clock=lambda: now).run()


@pytest.fixture(scope="module")
def texts(corpus: tuple[tuple[str, str], ...]) -> list[str]:
    """A few dozen statements: more than one API page at ``per_page`` 100 is the bench's."""
    return usable_texts(t for _, t in corpus)[:COUNT]


@pytest.fixture
def site(texts: list[str]) -> Iterator[FixtureSite]:
    with FixtureSite(texts) as running:
        yield running


@pytest.fixture(scope="module")
def archives(texts: list[str], tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Archives made once, copied by each test: ``cold`` synced whole; ``audited`` then audited
    once through the API (the baseline; the site is rebuilt the same: same post ids)."""
    root = tmp_path_factory.mktemp("wpapi")
    with FixtureSite(texts) as once:
        run_sync(root / "cold", once, full=True)
        shutil.copytree(root / "cold", root / "audited")
        once.reset_counts()
        first = run_sync(root / "audited", once, hour=1, audit=5)
        # An unedited archive's first audit: every post has its archived words, so no page is
        # fetched for its baseline; only the self-check's newest three and the page sweep.
        assert once.count("/wp-json/") == 1  # 30 posts: one page
        assert once.statement_requests() == 3 + SWEEP
        assert not first.events and not first.failures
        assert any("30 posts, 0 changed" in n and "not as archived" not in n for n in first.notes)
    return {"cold": root / "cold", "audited": root / "audited"}


def copy(archives: dict[str, Path], name: str, tmp_path: Path) -> Path:
    return Path(shutil.copytree(archives[name], tmp_path / "a"))


@pytest.fixture
def others(corpus: tuple[tuple[str, str], ...]) -> list[str]:
    """Texts to edit the site's statements with."""
    return usable_texts(t for _, t in corpus)[COUNT : COUNT + 10]


def trust(archive_dir: Path) -> Trust:
    with Archive(archive_dir) as archive:
        return Trust.load(archive.index.setting("wp_api:whitehouse"))


def test_an_api_audit_fetches_only_what_changed_and_finds_silent_edits(
    tmp_path: Path, site: FixtureSite, archives: dict[str, Path], others: list[str]
) -> None:
    archive_dir = copy(archives, "audited", tmp_path)
    assert trust(archive_dir).state == "trusted"
    urls = site.urls()
    site.edit(urls[3], others[0], bump_lastmod=False)  # silent: modified_gmt, lastmod unmoved
    site.edit(urls[20], others[1], bump_lastmod=False)
    site.reset_counts()
    report = run_sync(archive_dir, site, hour=2, audit=5)
    # One API page, the two changed pages and the page sweep's: no other statement page.
    assert site.count("/wp-json/") == 1 and site.statement_requests() == 2 + SWEEP
    assert sorted(e.url for e in report.events) == sorted([urls[3], urls[20]])
    assert all("silent" in e.kinds for e in report.events)
    assert any("2 changed (2 without a new modified time)" in n for n in report.notes)
    site.reset_counts()
    again = run_sync(archive_dir, site, hour=3, audit=5)
    assert site.statement_requests() == SWEEP and not again.events  # checked: as recorded now
    with Archive(archive_dir) as archive:  # the API's id is the statement's stable id
        row = archive.index.by_url(urls[3])
        assert row is not None and row.stable_id is not None
        assert archive.index.api_posts("whitehouse")[row.stable_id].statement_id == row.id


def test_a_changed_post_whose_page_failed_is_fetched_again_by_the_next_audit(
    tmp_path: Path, site: FixtureSite, archives: dict[str, Path], others: list[str]
) -> None:
    archive_dir = copy(archives, "audited", tmp_path)
    urls = site.urls()
    site.edit(urls[7], others[2], bump_lastmod=False)  # silent: only the API's content shows it
    site.fail(urls[7], "status", status=403)  # the page refuses this audit (403: no retry)
    failed = run_sync(archive_dir, site, hour=2, audit=5)
    assert [url for url, _ in failed.failures] == [urls[7]] and not failed.events
    site.reset_counts()
    again = run_sync(archive_dir, site, hour=3, audit=5)  # the post is not taken as checked
    assert site.statement_requests() == 1 + SWEEP, "the page that failed is fetched again"
    assert [(e.url, "silent" in e.kinds) for e in again.events] == [(urls[7], True)]


def test_a_statement_gone_from_sitemap_and_api_is_removed_by_the_next_audit(
    tmp_path: Path, site: FixtureSite, archives: dict[str, Path]
) -> None:
    archive_dir = copy(archives, "audited", tmp_path)
    gone = site.urls()[12]
    site.remove(gone, 410)
    site.reset_counts()
    report = run_sync(archive_dir, site, hour=2, audit=5)
    assert site.statement_requests() == 1 + SWEEP  # that one page, re-checked, and the sweep
    assert [(e.url, e.kinds) for e in report.events] == [(gone, ("removed",))]
    with Archive(archive_dir) as archive:
        assert len(archive.index.api_posts("whitehouse")) == COUNT - 1


def test_removals_from_the_api_keep_the_mass_removal_guard(
    tmp_path: Path, site: FixtureSite, archives: dict[str, Path]
) -> None:
    archive_dir = copy(archives, "audited", tmp_path)
    for url in site.urls()[:10]:  # a third of the site: more than max_removed_share
        site.remove(url, 404)
    report = run_sync(archive_dir, site, hour=2, audit=5)
    assert len(report.held) == 10 and not report.events


def test_a_disabled_api_falls_back_to_pages_and_says_so_once(
    tmp_path: Path, site: FixtureSite, archives: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    archive_dir = copy(archives, "cold", tmp_path)
    site.api_status = 401
    site.reset_counts()
    report = run_sync(archive_dir, site, hour=1, audit=5)
    assert site.count("/wp-json/") == 1 and site.statement_requests() == 5  # as before the API
    said = [n for n in report.notes if "WordPress API not used" in n]
    assert said == ["audit by pages: WordPress API not used (the API answers HTTP 401)"]
    again = run_sync(archive_dir, site, hour=2, audit=5)
    assert not [n for n in again.notes if "WordPress API" in n]  # once
    assert main(["status", "--archive", str(archive_dir)]) == 0
    assert "WordPress API not used (the API answers HTTP 401)" in capsys.readouterr().out
    assert main(["status", "--archive", str(archive_dir), "--json"]) == 0
    row = json.loads(capsys.readouterr().out)["sources"][0]
    assert row["audit"].startswith("audit by pages")
    site.api_status = None  # back: checked, then trusted
    back = run_sync(archive_dir, site, hour=3, audit=5)
    assert trust(archive_dir).state == "trusted"
    assert "audit by the WordPress API again: its self-check passed" in back.notes


def test_an_api_that_does_not_track_the_pages_is_not_trusted(
    tmp_path: Path, site: FixtureSite, archives: dict[str, Path], others: list[str]
) -> None:
    archive_dir = copy(archives, "cold", tmp_path)
    site.api_tracks = False  # the API serves the bodies as first published
    site.edit(site.urls()[0], others[0], bump_lastmod=False)  # the newest, edited since
    report = run_sync(archive_dir, site, hour=1, audit=5)
    assert trust(archive_dir).state == "fallback"
    assert any("does not match the page's body" in n for n in report.notes)
    with Archive(archive_dir) as archive:
        assert archive.index.api_posts("whitehouse") == {}  # nothing taken from it


def test_a_page_that_disagrees_with_its_fingerprint_withdraws_trust(
    tmp_path: Path, site: FixtureSite, archives: dict[str, Path], others: list[str]
) -> None:
    archive_dir = copy(archives, "audited", tmp_path)
    site.api_tracks = False
    edited = site.urls()[15]
    site.edit(edited, others[0])  # its lastmod moves: the sync fetches it; its API content not
    report = run_sync(archive_dir, site, hour=2, audit=5)
    assert [e.url for e in report.events] == [edited]
    assert trust(archive_dir).state == "unchecked"  # the next audit checks the API again
    assert any("disagreed for 1 statements" in n for n in report.notes)


def test_a_dry_run_keeps_no_baseline(
    tmp_path: Path, site: FixtureSite, archives: dict[str, Path]
) -> None:
    archive_dir = copy(archives, "cold", tmp_path)
    run_sync(archive_dir, site, hour=1, audit=5, dry_run=True)
    with Archive(archive_dir) as archive:
        assert archive.index.api_posts("whitehouse") == {}
    assert trust(archive_dir).state == "unchecked"


def test_a_first_audit_finds_a_page_edited_since_it_was_last_fetched(
    tmp_path: Path, site: FixtureSite, archives: dict[str, Path], others: list[str]
) -> None:
    archive_dir = copy(archives, "cold", tmp_path)  # no API baseline yet
    edited = site.urls()[10]  # not among the self-check's newest three
    site.edit(edited, others[0], bump_lastmod=False)  # silent: the API shows the edited words
    site.reset_counts()
    report = run_sync(archive_dir, site, hour=1, audit=5)
    assert [(e.url, "updated" in e.kinds) for e in report.events] == [(edited, True)]
    assert any(
        "0 changed (0 without a new modified time), 1 seen first not as archived" in n
        for n in report.notes
    )
    # The self-check's three pages, the edited one and the sweep's: no page per statement.
    assert site.statement_requests() == 3 + 1 + SWEEP
    site.reset_counts()
    again = run_sync(archive_dir, site, hour=2, audit=5)  # its baseline is the edited post
    assert not again.events and site.statement_requests() == SWEEP


def test_the_page_sweep_reaches_every_statement_the_api_lists(
    tmp_path: Path, site: FixtureSite, archives: dict[str, Path], others: list[str]
) -> None:
    archive_dir = copy(archives, "audited", tmp_path)
    site.api_tracks = False  # the API no longer follows the pages: only a page check sees edits
    edited = site.urls()[20]  # not among the self-check's newest three
    site.edit(edited, others[0], bump_lastmod=False)
    found = []
    for hour in range(2, 2 + COUNT // SWEEP):  # the whole archive at SWEEP pages an audit
        site.reset_counts()
        report = run_sync(archive_dir, site, hour=hour, audit=5)
        assert site.count("/wp-json/") == 1 and site.statement_requests() <= SWEEP + 3
        found += [(e.url, "updated" in e.kinds) for e in report.events]
        if report.events:  # the page moved, its post did not: the API is checked again
            assert any("disagreed for 1 statements" in n for n in report.notes)
            assert trust(archive_dir).state == "unchecked"
    assert found == [(edited, True)]
    with Archive(archive_dir) as archive:  # every page checked since the API audits began
        checked = [archive.index.fetch_state(url) for url in site.urls()]
    first = (NOW + dt.timedelta(hours=2)).isoformat()
    assert all(s is not None and (s.last_checked or "") >= first for s in checked)


# -- the pure parts ---------------------------------------------------------------------------


def post(post_id: int, body: str, modified: str = "2026-01-01T00:00:00") -> Post:
    url = f"https://www.whitehouse.gov/briefings-statements/2026/01/post-{post_id}/"
    return Post(str(post_id), url, f"Post {post_id}", modified, modified, f"<p>{body}</p>")


def test_compare_sorts_posts_against_the_last_check() -> None:
    same, edited, silent, new, old_news = (post(i, f"words {i}") for i in range(1, 6))
    edited = dataclasses.replace(edited, content="<p>other words</p>", modified="2026-02-01")
    silent = dataclasses.replace(silent, content="<p>quiet words</p>")
    rows = {
        p.post_id: ApiPost(
            p.post_id,
            int(p.post_id),
            fingerprint(f"<p>words {p.post_id}</p>"),
            p.title,
            "2026-01-01T00:00:00",
            "x",
        )
        for p in (same, edited, silent)
    }
    rows["9"] = ApiPost("9", 9, "f", "t", None, "x")  # gone from the API

    def state(url: str) -> FetchState | None:
        sid = int(url.rstrip("/").rsplit("-", 1)[1])
        checked = "2025-12-01T00:00:00+00:00" if sid == 4 else "2026-06-01T00:00:00+00:00"
        return FetchState(sid, url, "active", 1, last_checked=checked)

    unlike = post(6, "words 6")  # first seen, not modified since, not as archived

    def agree(p: Post, statement_id: int) -> bool:
        return statement_id != 6

    posts = [same, edited, silent, new, old_news, unlike]
    audit = compare(posts, rows, state, "now", agree)
    assert [(p.post_id, silent) for p, _, silent in audit.fetch] == [
        ("2", False),
        ("3", True),
        ("4", False),  # first seen, modified after its last check
        ("6", False),  # first seen, its words not those archived
    ]
    assert [r.post_id for r in audit.baseline] == ["5"] and [r.post_id for r in audit.missing] == [
        "9"
    ]
    assert audit.covered == {1, 2, 3, 4, 5, 6} and audit.unmoved == {1} and audit.unlike == {6}


def test_a_post_agrees_with_the_markdown_of_the_same_words() -> None:
    html = (
        '<h2>Fact <em>sheet</em></h2><p>The President&#8217;s <a href="https://x.gov/a">plan'
        "</a>, at $1.5 billion:</p><ol><li>one</li><li>two *starred*</li></ol>"
        "<blockquote><ul><li>quoted</li></ul></blockquote>"
        "<p><strong>I</strong>nvestment in 2025. Salt &amp; pepper</p>"
    )
    markdown = (
        "## Fact *sheet*\n\nThe President\u2019s [plan](https://x.gov/a), at \\$1.5\n"
        "billion:\n\n1.  one\n2.  two \\*starred\\*\n\n> - quoted\n\n"
        "**I**nvestment in\n2025. Salt &amp; pepper\n"
    )
    item = Post("1", "https://x.gov/p/", "A title", None, None, html)
    assert agrees(item, "A title", markdown)
    assert not agrees(item, "A title", markdown.replace("$1.5", "$1.6"))
    assert not agrees(item, "A title", markdown.replace("quoted", "quoted too"))
    assert not agrees(item, "A title", markdown.replace("2025.", "2026."))  # not a list number
    assert not agrees(item, "Another title", markdown)


def test_the_page_sweep_takes_a_few_listed_statements_in_their_turn() -> None:
    order = ["a", "b", "c", "d", "e", "f", "g"]  # least recently checked first
    listed = {"a", "b", "c", "e", "f"}
    assert rotation(order, listed, audit=1, sweep=2, planned={"a"}) == ["d", "b", "c"]
    assert rotation(order, listed, audit=5, sweep=1) == ["d", "g", "a"]
    assert rotation(order, set(), audit=2, sweep=3) == ["a", "b"]  # the API not used: pages
    assert rotation(order, listed, audit=None, sweep=0) == ["d", "g"]


def test_a_fingerprint_is_of_words_not_markup() -> None:
    assert fingerprint("<p>A  b</p><p>c</p>") == fingerprint("<div>A b\nc</div>")
    assert fingerprint("<p>A b c</p>") != fingerprint("<p>A b d</p>")


def test_replies_that_are_not_posts_are_refused() -> None:
    source = whitehouse()
    for reply in (b"<html>", b'{"code": "x"}', b'[{"id": "7"}]'):
        with pytest.raises(ApiUnavailable):
            parse_page(reply, source)
    other = [{"id": 1, "link": "https://www.whitehouse.gov/about/", "content": {"rendered": ""}}]
    assert parse_page(json.dumps(other).encode(), source) == []  # not a statement URL


def test_tracks_a_page_whose_body_is_the_content(corpus: tuple[tuple[str, str], ...]) -> None:
    with FixtureSite(usable_texts(t for _, t in corpus)[:2]) as site:
        url = site.urls()[0]
        page = site.respond(site.url_path(url)).body
        content = site._entries[site.url_path(url)].body_html
    source = whitehouse()
    assert tracks(Post("1", url, "", None, None, content), page, source)
    first = content.split("</p>", 1)[0] + "</p>"
    assert not tracks(Post("1", url, "", None, None, first), page, source)  # an excerpt


def test_the_fixture_site_serves_a_wordpress_posts_api(
    site: FixtureSite, others: list[str]
) -> None:
    api = site.base_url + "/wp-json/wp/v2/posts"
    first = httpx.get(api, params={"per_page": 20, "orderby": "id", "order": "asc"})
    assert first.status_code == 200
    assert (first.headers["x-wp-total"], first.headers["x-wp-totalpages"]) == (str(COUNT), "2")
    ids = [p["id"] for p in first.json()]
    assert ids == sorted(ids) and len(ids) == 20
    second = httpx.get(api, params={"per_page": 20, "page": 2, "orderby": "id", "order": "asc"})
    assert len(second.json()) == COUNT - 20
    assert httpx.get(api, params={"per_page": 20, "page": 3}).status_code == 400
    assert httpx.get(api, params={"per_page": 101}).status_code == 400
    newest = httpx.get(api, params={"per_page": 1, "_fields": "id,link,modified_gmt,content"})
    (post,) = newest.json()
    assert set(post) == {"id", "link", "modified_gmt", "content"}
    url = post["link"]
    page = site.respond(site.url_path(url)).body.decode()
    assert post["content"]["rendered"] in page  # the same body as the page
    site.edit(url, others[0], bump_lastmod=False)  # silent: the content moves, modified_gmt not
    (after,) = httpx.get(api, params={"per_page": 1, "_fields": "id,modified_gmt,content"}).json()
    assert after["modified_gmt"] == post["modified_gmt"]
    assert after["content"] != post["content"]
    site.api_tracks = False  # as first published
    (stale,) = httpx.get(api, params={"per_page": 1, "_fields": "content"}).json()
    assert stale["content"] == post["content"]
    site.api_status = 401
    assert httpx.get(api).status_code == 401
