"""Replays of real feed captures over a socket: each capture served in turn (read in place from
../shared, never copied), a sync of the built-in seed after each, and exactly the real changes
between them must come out.

state.gov (``seeds/state.toml``, six captures of the press-release feed, 2021-2022; see
../shared/pages/state.gov/PROVENANCE.txt): besides new statements, two changes only:

- the slug change of ``?page_id=320953`` (``...-press-availability-14/`` to ``-15/``, same GUID,
  same ``pubDate``, same content): ``moved``, the same statement;
- the title edit of ``?page_id=327872`` ("the recent Taliban" re-cased "the Recent Taliban").
  Its "body edit" is whitespace: one of the two NBSPs after "go back to school." was deleted
  (``.\\xa0\\xa0 The`` became ``.\\xa0 The``), nothing a reader sees and no word changed. So the
  right report is the re-cased title alone: ``metadata`` (README, "normalised before edit
  detection": letter case alone is never ``retitled`` or ``updated``; the new revision keeps the
  body as served, one NBSP fewer).

whitehouse.gov 2021-2025 (the built-in ``seeds/whitehouse-biden.toml``: the briefing-room feed,
URLs written on the public archive's host ``bidenwhitehouse.archives.gov`` by ``archive_hosts``,
tags from ``<category>`` by ``tags_values``; nine captures, ../shared/pages/whitehouse.gov-biden):

- ``?p=18371``: "Commission on Fine Arts" corrected to "of": ``retitled``. Its "body edit" is
  four NBSPs written as ``&nbsp;`` instead of the character: the same text, the same Markdown, so
  no ``updated``;
- ``?p=48665`` moved from ``/speeches-remarks/`` to ``/press-briefings/`` with its category:
  ``moved`` and ``metadata`` (tags); its body edit is NBSPs only (spacing), no ``updated``;
- ``?p=53449``: slug and title gained U+FFFC: ``moved`` and ``retitled``.

A statement adopted from the public archive's files (../shared/corpus) is the same statement when
the feed brings it (its URL on the archive host): not new, not moved.

The captures hold no other edit of an item seen twice (the six are days to months apart, and
the two pairs 13 and 26 minutes apart), and an item leaving the feed is no removal: nothing else.
The site's sitemap is not served (404): the replay is the feed alone.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

import crawler
from storage.archive import Archive
from tests.conftest import PROJECT, SHARED, need
from tests.fixture_feed import FixtureFeed

STATE = SHARED / "pages" / "state.gov" / "feed"
STATE_CAPTURES = (
    "press-releases_feed_2021-05-23T1510Z_first.xml",
    "press-releases_feed_2022-03-04T2221Z_slug-before.xml",
    "press-releases_feed_2022-03-04T2234Z_slug-after.xml",
    "press-releases_feed_2022-03-24T2323Z_edit-before.xml",
    "press-releases_feed_2022-03-24T2349Z_edit-after.xml",
    "press-releases_feed_2022-08-03T2024Z_last-in-snapshot.xml",
)
AVAILABILITY = "https://www.state.gov/secretary-antony-j-blinken-at-a-press-availability-"
TALIBAN = (
    "https://www.state.gov/joint-statement-on-the-recent-taliban-decision-to-deny-afghan-girls-"
    "the-right-to-an-education/"
)


@pytest.fixture
def site() -> Iterator[FixtureFeed]:
    with FixtureFeed(raw=b"") as fixture:
        yield fixture


@pytest.mark.slow
def test_the_six_state_gov_captures_give_the_slug_move_and_the_title_edit_only(
    tmp_path: Path, site: FixtureFeed
) -> None:
    captures = [need(STATE / name) for name in STATE_CAPTURES]
    archive = tmp_path / "archive"
    new, changes = [], []
    for number, capture in enumerate(captures):
        site.raw = capture.read_bytes()
        site.reset_counts()
        result = crawler.sync(archive, ["state"], base_url=site.base_url, rate=0, full=number == 0)
        report = result.reports[0]
        assert not report.failures, report.failures
        # robots.txt, the feed, and the two sitemaps the seed names (not served here): no item
        assert site.count("/robots.txt") == 1 and site.count("/rss-feed/") == 1
        assert len(site.requests) == 4, site.requests
        new.append(report.counts["new"])
        changes += [(r.kinds, r.url) for r in report.events if r.kinds != ("new",)]
    assert new == [10, 10, 0, 10, 1, 10]
    assert changes == [(("moved",), AVAILABILITY + "15/"), (("metadata",), TALIBAN)]
    with Archive(archive) as opened:
        assert len(opened.statements()) == 41
        moved = opened.index.by_stable_id("state", "320953")
        assert moved is not None and moved.url == AVAILABILITY + "15/"
        assert opened.resolve(AVAILABILITY + "14/").id == moved.id
        edited = opened.index.by_stable_id("state", "327872")
        assert edited is not None and edited.head == 2
        text = opened.file(edited.path).read_text(encoding="utf-8")
    assert "Joint Statement on the Recent Taliban" in text
    assert "school.\u00a0 The Taliban" in text  # the body as served after the edit


# -- the previous White House site (issue 14, item 4) -------------------------------------------

BIDEN = SHARED / "pages" / "whitehouse.gov-biden" / "feed"
BIDEN_CAPTURES = (
    "briefing-room_feed_2021-05-23T1406Z_first.xml",
    "briefing-room_feed_2021-05-25T1927Z_edit-before.xml",
    "briefing-room_feed_2021-05-25T2025Z_edit-after.xml",
    "briefing-room_feed_2022-03-09T1103Z_recat-1.xml",
    "briefing-room_feed_2022-03-09T1421Z_recat-2.xml",
    "briefing-room_feed_2022-03-09T1447Z_recat-3.xml",
    "briefing-room_feed_2022-05-17T2022Z_slug-1.xml",
    "briefing-room_feed_2022-05-17T2035Z_slug-2.xml",
    "briefing-room_feed_2022-07-22T2147Z_last-in-snapshot.xml",
)
ARCHIVE = "https://bidenwhitehouse.archives.gov/briefing-room/"
FINE_ARTS = (
    ARCHIVE + "statements-releases/2021/05/25/president-biden-announces-his-intent-to-appoint-"
    "members-to-the-commission-on-fine-arts/"
)
GAGGLE = "2022/03/08/press-gaggle-by-press-secretary-jen-psaki-3/"
NEW_PER_CAPTURE = [10, 10, 2, 10, 0, 0, 10, 2, 10]
DEPARTURE = ARCHIVE + "speeches-remarks/2022/05/17/remarks-by-president-biden-before-air-force-one-"


def _replay(
    archive: Path, site: FixtureFeed, captures: list[Path]
) -> tuple[list[int], list[tuple[tuple[str, ...], str]]]:
    new, changes = [], []
    for number, capture in enumerate(captures):
        site.raw = capture.read_bytes()
        site.reset_counts()
        result = crawler.sync(
            archive,
            ["whitehouse-biden"],
            base_url=site.base_url,
            rate=0,
            full=number == 0,
        )
        report = result.reports[0]
        assert not report.failures, report.failures
        assert len(site.requests) == 2, site.requests  # robots.txt and the feed: no item
        new.append(report.counts["new"])
        changes += [(r.kinds, r.url) for r in report.events if r.kinds != ("new",)]
    return new, changes


@pytest.mark.slow
def test_the_nine_whitehouse_biden_captures_give_the_three_real_changes_only(
    tmp_path: Path,
) -> None:
    captures = [need(BIDEN / name) for name in BIDEN_CAPTURES]
    with FixtureFeed(raw=b"", feed_path="/briefing-room/feed/") as site:
        new, changes = _replay(tmp_path / "archive", site, captures)
    assert changes == [
        (("retitled",), FINE_ARTS),
        (("metadata", "moved"), ARCHIVE + "press-briefings/" + GAGGLE),
        (("retitled", "moved"), DEPARTURE + "departure%ef%bf%bc/"),
    ]
    with Archive(tmp_path / "archive") as opened:
        gaggle = opened.resolve(ARCHIVE + "speeches-remarks/" + GAGGLE)
        assert gaggle.url == ARCHIVE + "press-briefings/" + GAGGLE
        text = opened.file(gaggle.path).read_text(encoding="utf-8")
    assert "tags: press-briefings" in text and f"source_url: {ARCHIVE}" in text
    assert new == NEW_PER_CAPTURE


CORPUS = SHARED / "corpus" / "wh-briefings.tar.xz"


def _corpus_files(urls: set[str], into: Path) -> int:
    """The public archive's files of these statement URLs, written below ``into``."""
    import re
    import tarfile

    names = {}
    for url in urls:  # <category>/<yyyy-mm>/<yyyy-mm-dd>-<slug>.md, from the URL
        m = re.search(r"/briefing-room/([a-z-]+)/(\d{4})/(\d{2})/(\d{2})/([^/]+)/$", url)
        assert m is not None, url
        names[f"{m[1]}/{m[2]}-{m[3]}/{m[2]}-{m[3]}-{m[4]}-{m[5]}.md"] = url
    written = 0
    with tarfile.open(CORPUS) as tar:
        for member in tar:
            if member.name.lstrip("./") in names:
                data = tar.extractfile(member)
                assert data is not None
                target = into / member.name.lstrip("./")
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(data.read())
                written += 1
    return written


@pytest.mark.slow
def test_a_statement_adopted_from_the_public_archive_is_the_same_statement(
    tmp_path: Path,
) -> None:
    from crawler.kinds.feed_items import read_items
    from crawler.source import load_source
    from storage.importer import import_dir

    capture = need(BIDEN / BIDEN_CAPTURES[-1]).read_bytes()
    seed = load_source(PROJECT / "seeds" / "whitehouse-biden.toml")
    urls = {i.url for i in read_items(capture, "feed", seed) if not isinstance(i, Exception)}
    assert all(url.startswith(ARCHIVE) for url in urls) and len(urls) == 10
    need(CORPUS)
    corpus = tmp_path / "corpus"
    assert _corpus_files(urls, corpus) == 10
    archive = tmp_path / "archive"
    with Archive(archive, create=True) as opened:
        import_dir(opened, corpus)
        adopted = {url: opened.resolve(url).id for url in urls}
    with FixtureFeed(raw=capture, feed_path="/briefing-room/feed/") as site:
        result = crawler.sync(archive, ["whitehouse-biden"], base_url=site.base_url, rate=0)
    report = result.reports[0]
    assert not report.failures and report.counts["new"] == 0, report
    with Archive(archive) as opened:
        assert len(opened.statements()) == 10
        assert {url: opened.resolve(url).id for url in urls} == adopted
    assert {r.statement_id for r in report.events} <= set(adopted.values())
    # The same statements, not new ones. The feed gives no modified_time where the public
    # archive's files have one: the kind keeps it (Kind.keeps), so that absence is no change,
    # and titles that differ only by a no-break space are no change either. One file
    # (sars-cov-2-update) holds a later text than this capture: that difference is real.
    changed = [(r.kinds, r.path.rsplit("/", 1)[-1]) for r in report.events]
    assert len(changed) == 1 and changed[0][0] == ("updated",), changed
    assert "sars-cov-2-update" in changed[0][1], changed
