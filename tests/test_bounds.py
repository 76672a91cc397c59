"""crawler.bounds: which new statements a sync takes, the 404 streak, which lastmods are kept."""

from __future__ import annotations

import datetime as dt

from crawler.bounds import GoneStreak, cap_new, sitemaps_to_save
from crawler.syncer import Task
from crawler.walk import Discovered

DAY = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


def test_cap_new_takes_the_newest_keeps_known_ones_and_order() -> None:
    tasks = [
        Task("k", "lastmod"),
        Task("old", "new", DAY),
        Task("undated-b", "new"),
        Task("newer", "new", DAY + dt.timedelta(days=2)),
        Task("by-lastmod", "new", None, (DAY + dt.timedelta(days=1)).isoformat()),
        Task("undated-a", "new"),
    ]
    kept, left = cap_new(tasks, 3)
    assert [t.url for t in kept] == ["k", "old", "newer", "by-lastmod"] and left == 2
    kept, left = cap_new(tasks, 4)
    assert [t.url for t in kept][-1] == "undated-a" and left == 1  # undated last, by URL
    assert cap_new(tasks, 5) == (tasks, 0)
    assert cap_new(tasks, 9) == (tasks, 0)


def test_the_streak_counts_new_urls_in_a_row_only() -> None:
    streak = GoneStreak(3)
    for status in (404, 410, 200, 404, 404):
        streak.see(Task("n", "new"), status)
    streak.see(Task("k", "full"), 200)  # a known statement does not break it
    assert not streak.tripped
    streak.see(Task("n", "new"), 404)
    assert streak.tripped
    tasks = [Task("a", "new"), Task("k", "audit"), Task("b", "new")]
    assert streak.admit(tasks) == [Task("k", "audit")] and streak.skipped == ["a", "b"]


def test_a_failed_child_and_the_indexes_above_it_keep_their_lastmod() -> None:
    found = Discovered()
    found.sitemaps = {"nested": "1", "bad": "2", "good": "3", "holds-failed": "4", "unread": "5"}
    found.parent = {"bad": "nested", "nested": "index", "good": "index", "holds-failed": "index"}
    found.sitemaps_read = {"index", "nested", "good", "holds-failed"}
    found.stale = {"bad"}
    found.sitemap_of = {"u1": "good", "u2": "holds-failed"}
    assert sitemaps_to_save(found, ["u2", "elsewhere"]) == {"good": "3"}
    assert sitemaps_to_save(found, []) == {"good": "3", "holds-failed": "4"}
