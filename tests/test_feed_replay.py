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
  right report is a title change alone: ``retitled``, never ``updated`` (the new revision keeps
  the body as served, one NBSP fewer).

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
from tests.conftest import SHARED, need
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
    assert changes == [(("moved",), AVAILABILITY + "15/"), (("retitled",), TALIBAN)]
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
