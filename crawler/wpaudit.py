"""One sync's audit by a WordPress REST API (:mod:`crawler.wpapi`): the I/O around the pure parts.

:class:`ApiAudit` is made by the sync engine for a source whose seed turns the API on, when the
sync audits (``--audit N``, the schedule's ``audit``). :meth:`ApiAudit.plan` reads the API (after
a self-check, when the API is not trusted yet), keeps the baseline of posts seen for the first
time, and returns the statements to re-check as pages: ``api`` for a post that changed since the
last check, ``absent`` for one gone from the API (a 404 or 410 then marks it removed, within the
mass-removal guard). ``None`` means the API is not used this time: the engine audits by pages.
:meth:`ApiAudit.settle`, after fetching, records each re-checked post as checked now, drops the
rows of posts gone from the API, and, when a post's fingerprint and its page disagree, withdraws
the trust so that the next audit checks again. Nothing is written on a dry run.

A post seen for the first time is compared with its statement's latest revision in the archive
(:func:`crawler.wpapi.agrees`, no request): only one that differs is fetched as a page before its
baseline is kept, so a first baseline cannot hide an edit made since the page was last fetched.

The page sweep (:func:`rotation`). The API tells only what ``content.rendered`` and the title
show: a block the site renders outside them (a sidebar note, a correction in the template), or
an API that stops tracking a post, would never be seen if the statements the API lists left the
page audit. So every audit by the API also re-checks as pages the ``[wordpress] page_sweep``
least recently checked statements the API lists (conditional GET: an unchanged page costs a 304),
besides the ``audit`` least recently checked that it does not list. Each page check moves its
statement to the back of the rotation, so the API audit and the sweep together reach every
statement, the API each run and the pages once every ``listed / page_sweep`` runs (the whole
whitehouse archive in about 430 runs at 5 a run, some 36 days at its schedule's every 2h). A
swept page whose words changed while the post's fingerprint did not withdraws the trust
(:func:`crawler.wpapi.disagreements`).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Collection, Iterable

from crawler.errors import Stopped
from crawler.fetch import Fetcher
from crawler.recorder import Recorder
from crawler.source import Source
from crawler.wpapi import (
    ApiUnavailable,
    Audit,
    Post,
    Trust,
    agrees,
    as_row,
    compare,
    disagreements,
    read_posts,
    self_check,
    trust_key,
)
from storage.archive import Archive, Recorded, stamp
from storage.index import ApiPost

log = logging.getLogger(__name__)


class ApiAudit:
    """The API side of one sync's audit (see the module)."""

    def __init__(
        self,
        archive: Archive,
        source: Source,
        fetcher: Fetcher,
        recorder: Recorder,
        *,
        clock: Callable[[], dt.datetime],
        stop: Callable[[], bool],
        dry_run: bool,
        notes: list[str],
    ) -> None:
        self.archive, self.source, self.fetcher, self.recorder = archive, source, fetcher, recorder
        self.clock, self.stop, self.dry_run, self.notes = clock, stop, dry_run, notes
        self.trust = Trust.load(archive.index.setting(trust_key(source.name)))
        self.audit: Audit | None = None
        self.urls: dict[int, str] = {}  # statement id -> the URL re-checked for it
        self.covered: set[str] = set()  # URLs of the statements the API lists

    def plan(self) -> list[tuple[str, str]] | None:
        """The statements to re-check as pages, and why; None: audit by pages this time."""
        index = self.archive.index
        try:
            posts = read_posts(self.fetcher, self.source, self.stop)
            if self.trust.state != "trusted":
                why = self_check(
                    self.fetcher, self.source, posts, lambda u: index.by_url(u) is not None
                )
                if why is not None:
                    raise ApiUnavailable(why)
                self._set_trust(Trust("trusted", at=self._now()))
        except Stopped:
            return None
        except ApiUnavailable as exc:
            self._set_trust(Trust("fallback", str(exc), self._now()))
            return None
        recorded = index.api_posts(self.source.name)
        audit = compare(posts, recorded, index.fetch_state, self._now(), self._agrees)
        self.audit = audit
        self._keep(audit.baseline)
        self.covered = {index.by_id(sid).url for sid in audit.covered}
        tasks = [(self._url(sid), "api") for _, sid, _ in audit.fetch]
        tasks += [(self._url(row.statement_id), "absent") for row in audit.missing]
        changed = len(audit.fetch) - len(audit.unlike)
        unlike = f", {len(audit.unlike)} seen first not as archived" if audit.unlike else ""
        self.notes.append(
            f"audit by the WordPress API: {len(posts)} posts, {changed} changed"
            f" ({audit.silent} without a new modified time){unlike}, {len(audit.missing)} gone"
            " from it; those re-checked as pages"
        )
        return tasks

    def _agrees(self, post: Post, statement_id: int) -> bool:
        """Whether a post seen first has the words of its statement's latest revision."""
        index = self.archive.index
        revision = index.revision(statement_id, index.by_id(statement_id).head)
        return revision is not None and agrees(post, revision.title, revision.body)

    def settle(self, settled: Collection[str], events: Iterable[Recorded]) -> None:
        """After fetching: re-checked posts whose page was taken in whole (recorded, unchanged,
        not modified, gone) are checked now; a page that failed (an HTTP error, a refusal, a
        parse failure) keeps its post as it was, so the next audit fetches it again. A
        disagreement withdraws trust."""
        audit = self.audit
        if audit is None:
            return
        done = {sid for sid, url in self.urls.items() if url in settled}
        now = self._now()
        self._keep([as_row(post, sid, now) for post, sid, _ in audit.fetch if sid in done])
        gone = [row.post_id for row in audit.missing if row.statement_id in done]
        if gone and not self.dry_run:
            with self.archive.index.transaction():
                self.archive.index.drop_api_posts(self.source.name, gone)
        changed = {e.statement_id for e in events if "updated" in e.kinds}
        odd = disagreements(audit, changed, done)
        if odd:
            urls = ", ".join(self.archive.index.by_id(sid).url for sid in odd[:3])
            why = f"its content and the page disagreed for {len(odd)} statements ({urls})"
            self._set_trust(Trust("unchecked", why, now))

    def _url(self, statement_id: int) -> str:
        url = self.archive.index.by_id(statement_id).url
        self.urls[statement_id] = url
        return url

    def _keep(self, rows: list[ApiPost]) -> None:
        """Record posts as checked; a statement without a stable id takes the post's id."""
        if not rows or self.dry_run:
            return
        index, name = self.archive.index, self.source.name
        with index.transaction():
            index.set_api_posts(name, rows)
            for row in rows:
                if index.by_id(row.statement_id).stable_id is None and (
                    index.by_stable_id(name, row.post_id) is None
                ):
                    index.update_statement(row.statement_id, stable_id=row.post_id)

    def _set_trust(self, trust: Trust) -> None:
        """Keep the new state; say so in the summary when it or its reason changed."""
        before, self.trust = self.trust, trust
        if before.state == "fallback" and trust.state == "trusted":
            self.notes.append("audit by the WordPress API again: its self-check passed")
        if (before.state, before.why) != (trust.state, trust.why) and trust.state != "trusted":
            log.info("%s: %s", self.source.name, trust.describe())
            self.notes.append(
                trust.describe()
                if trust.state == "fallback"
                else f"WordPress API: {trust.why}; checked again at the next audit"
            )
        self.recorder.set_settings({trust_key(self.source.name): trust.dump()})

    def _now(self) -> str:
        return stamp(self.clock())


def rotation(
    order: Iterable[str],
    listed: Collection[str],
    *,
    audit: int | None,
    sweep: int,
    planned: Collection[str] = (),
) -> list[str]:
    """The page audit's share of an audit (see the module): of the statement URLs in ``order``
    (least recently checked first), the first ``audit`` (all: None) the API does not list, then
    the first ``sweep`` it lists; ``planned`` ones (the API's re-checks) are passed over."""
    unlisted: list[str] = []
    swept: list[str] = []
    sweep = sweep if listed else 0  # none listed: no need to look for them
    for url in order:
        if url in planned:
            continue
        if url in listed:
            if len(swept) < sweep:
                swept.append(url)
        elif audit is None or len(unlisted) < audit:
            unlisted.append(url)
        if audit is not None and len(unlisted) >= audit and len(swept) >= sweep:
            break
    return unlisted + swept
