"""Bounds of one sync, so that a huge or hostile discovery costs a bounded number of requests.

Three small pieces the syncer consults, pure but for the counter:

- :func:`cap_new`: at most ``[sync] max_new`` new statements are fetched by one sync; the rest are
  left for the next syncs. Which ones is deterministic (newest first by publication time, else
  sitemap ``lastmod``; undated last; then by URL), and those fetched are known by the next sync,
  so each sync takes the next ones: a first ``--full`` of a big source completes over several
  syncs. The syncer keeps the number left in the setting ``backlog:<source>``, which makes the
  next sync's discovery walk everything again (listings to their end, every child sitemap).
- :class:`GoneStreak`: ``[sync] gone_streak`` new URLs in a row answering 404/410 (a sitemap
  full of dead links, a hostile one) stop the fetching of new URLs for the sync; known statements
  are still re-checked.
- :func:`sitemaps_to_save`: the child sitemaps whose ``lastmod`` the next sync may trust: those
  read whole now, less those that failed and those listing a statement not settled now (failed,
  or not fetched), with the indexes above them. The others keep their previous ``lastmod``, so
  they are read again next time. A feed whose items came whole (``Discovered.delivered``, its
  validators kept the same way) is saved only if each of its items settled too.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from crawler.syncer import Task
    from crawler.walk import Discovered

GONE = frozenset({404, 410})


def cap_new(tasks: Sequence[Task], limit: int) -> tuple[list[Task], int]:
    """The tasks with at most ``limit`` new ones (the newest), in their order; and how many new
    ones were left out."""
    new = [t for t in tasks if t.reason == "new"]
    if len(new) <= limit:
        return list(tasks), 0
    kept = {t.url for t in sorted(new, key=_newest_first)[:limit]}
    return [t for t in tasks if t.reason != "new" or t.url in kept], len(new) - limit


def _newest_first(task: Task) -> tuple[bool, float, str]:
    when = task.published
    if when is None and task.lastmod:
        when = dt.datetime.fromisoformat(task.lastmod)
    return when is None, -when.timestamp() if when is not None else 0.0, task.url


class GoneStreak:
    """Counts new URLs answering 404/410 in a row; once ``limit`` did, new tasks are held back."""

    def __init__(self, limit: int):
        self.limit = limit
        self.run = 0
        self.tripped = False
        self.skipped: list[str] = []  # new URLs not fetched because of it

    def see(self, task: Task, status: int | None) -> None:
        """One fetched task and its HTTP status (``None``: no answer), as answers arrive."""
        if task.reason == "new" and not self.tripped:
            self.run = self.run + 1 if status in GONE else 0
            self.tripped = self.run >= self.limit

    def admit(self, tasks: Sequence[Task]) -> list[Task]:
        """The tasks still to fetch: all of them, or once tripped the ones not new."""
        if not self.tripped:
            return list(tasks)
        self.skipped += [t.url for t in tasks if t.reason == "new"]
        return [t for t in tasks if t.reason != "new"]


def sitemaps_to_save(found: Discovered, unsettled: Iterable[str]) -> dict[str, str]:
    """Child sitemap URL -> ``lastmod`` to remember (see the module's docstring)."""
    stale = set(found.stale)
    stale.update(found.sitemap_of[url] for url in unsettled if url in found.sitemap_of)
    stale.update(found.parent[url] for url in unsettled if url in found.delivered)  # its feed
    for doc in list(stale):
        while doc in found.parent and found.parent[doc] not in stale:
            doc = found.parent[doc]
            stale.add(doc)
    return {
        url: lastmod
        for url, lastmod in found.sitemaps.items()
        if url in found.sitemaps_read and url not in stale
    }
