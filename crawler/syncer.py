"""Sync: discover, decide what needs fetching, fetch, parse, record revisions and change events.

The decision is pure (:func:`plan`): it sees what discovery found and what the index knows, and
returns the statements to fetch with the reason. Cost grows with what changed: a known statement
is fetched only when its sitemap ``lastmod`` moved, unless ``full`` re-checks everything (with
conditional GET) or ``audit`` re-checks the least recently checked few; for a source with a
WordPress REST API (``[wordpress] api``), an audit re-checks the statements the API shows
changed or gone since the last check: the whole archive in about 1% of the requests
(:mod:`crawler.wpaudit`), and a small page sweep of the statements the API lists.

Fetching, parsing and recording overlap (:func:`crawler.pipeline.overlapped`): fetches run on
worker threads (``chunk`` in flight), what has arrived is parsed and converted in batches of
:data:`CONVERT_BATCH` (one extractor run, one pandoc process) on :data:`CONVERTERS` threads at
once, and each converted batch is recorded (one archive transaction) while the next are fetched
and converted; a statement waiting on retries is recorded in a later batch and holds up no other.
Batches are recorded in the order they were formed (the order fetches complete), each in plan
order (event ids follow); removals are decided after all fetching, and failures reported, in plan
order.

What a source serves is its kind's (:mod:`crawler.kinds`): the URL fetched for a statement URL
(an API's), which replies are read, the extractor that makes them statements, and the stable id
that keeps a statement one across URL changes (a move by id, before redirects and words).

``progress(phase, done, total)`` is told the phase the run is in (``discover``, then ``fetch`` as
each statement arrives, and per batch ``convert`` and ``record``), ``done`` counting statements
fetched. ``stop`` (Ctrl-C, SIGTERM) ends the run early: what was fetched is still recorded,
nothing more is asked.

Removals. A known statement that a place read again this time no longer lists (its sitemap
document, or its listing walked back past its publication time) and that no other place lists is
re-checked (:func:`absent`, one request); a 404 or 410 marks it removed. Removals are decided
after all fetching: if one sync would mark more than the source's ``max_removed_share`` of its
active statements removed, it marks none (a site outage, a redesign), reports the first URLs and
keeps them to re-check next time, until ``confirm_removals``.

Delivered. A kind may read statements whole from what discovery reads (a feed's items, with
their full content): discovery hands them over in ``Discovered.delivered`` (statement URL -> a
reply made from the item, whose ``etag`` is a digest of what was read of it). Such a statement
is never requested: :func:`plan` plans every delivered one (a known one with reason
``delivered``), and :func:`delivered_reply` answers its task with the item, or with a 304 when
the digest is the one recorded at its last check (nothing changed: nothing converted, nothing
written). Only delivered URLs take this path; every other task is fetched as before.

Bounds (:mod:`crawler.bounds`): at most ``[sync] max_new`` new statements a sync (the rest by the
next syncs, said in a note), no more new URLs once ``[sync] gone_streak`` of them in a row answer
404/410 (a warning), and a child sitemap's ``lastmod`` is saved only when it was read whole and
everything it listed was settled: one that failed is read again next time.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import threading
import time
from collections import Counter
from collections.abc import Callable, Collection, Generator, Iterable, Iterator, Mapping, Sequence
from contextlib import closing
from dataclasses import dataclass, field

from crawler.bounds import GoneStreak, cap_new, sitemaps_to_save
from crawler.discover import Found
from crawler.errors import Stopped
from crawler.fetch import Fetcher, Response
from crawler.kinds.base import Extracted, Fetched, Parsed, kind_of
from crawler.pipeline import RETRY_SPARE, overlapped
from crawler.recorder import Outcome, recorder_for
from crawler.source import Source
from crawler.walk import Discovered, discover
from crawler.wpaudit import ApiAudit, rotation
from storage.archive import Archive, Recorded, stamp, utc_now
from storage.diff import words_hash
from storage.errors import StatementSyncError
from storage.index import FetchState
from storage.links import link_corrections

log = logging.getLogger(__name__)

FIRST_SYNC_DAYS = 30
GONE = frozenset({404, 410})
Progress = Callable[[str, int, int | None], None]
Reply = Response | StatementSyncError | None  # None: not fetched, the run was stopped
MIN_LINGER = 1.0  # seconds with no fetch finishing before what arrived is recorded without it
#: Pages parsed, converted (one pandoc process for the bodies the native writer refuses) and
#: recorded together: few, so that recording starts early and memory stays small (every page of
#: a batch is held while it is parsed; a 50-page pandoc run takes some 260 MB). Each pandoc
#: process costs some 25 ms of system time (its 32 MB heap faulted in): with one body in
#: seven refused, batches of 10 pages start a quarter fewer processes than batches of 5
#: (at 2,125 pages, batches of 20 against 5: pandoc's CPU 1.6 ms a page less, the peak 28 MB
#: more, too near the 300 MB bound; 10 is between).
CONVERT_BATCH = 10
#: Batches parsed and converted at once (what the native writer refuses goes to one pandoc
#: process at a time, crawler/pandoc.py).
CONVERTERS = 2


@dataclass(frozen=True)
class SyncOptions:
    full: bool = False
    since: dt.datetime | None = None
    dry_run: bool = False
    audit: int = 0
    chunk: int = 50  # the fetches in flight; at most this many parsed and recorded together
    confirm_removals: bool = False  # mark removals even beyond the source's max_removed_share


@dataclass(frozen=True)
class Task:
    """A statement page to fetch, and why."""

    url: str
    reason: str  # new | lastmod | full | audit | api | recheck | absent | held | delivered
    published: dt.datetime | None = None
    lastmod: str | None = None  # the sitemap lastmod seen now
    etag: str | None = None
    last_modified: str | None = None
    unannounced: bool = False  # the site gave no sign of a change


@dataclass
class SyncReport:
    source: str
    dry_run: bool = False
    discovered: int = 0
    planned: int = 0
    counts: Counter[str] = field(default_factory=Counter)
    events: list[Recorded] = field(default_factory=list)
    failures: list[tuple[str, str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)  # cut short (listing, sitemap, new URLs)
    requests: int = 0
    bytes: int = 0
    seconds: float = 0.0
    first_event: int = 0  # events after this id in the index are this sync's
    held: list[str] = field(default_factory=list)  # removals not marked: too many at once
    suspicion: str = ""  # why, when ``held``


def plan(
    found: Mapping[str, Found],
    states: Mapping[str, FetchState | None],
    *,
    recheck: Sequence[tuple[str, str]] = (),
    since: dt.datetime | None = None,
    full: bool = False,
    delivered: Collection[str] = (),
) -> list[Task]:
    """What to fetch: new statements, known ones whose lastmod moved, and ``recheck`` ones;
    known ``delivered`` ones too (their content came with discovery: compared, not fetched)."""
    tasks: dict[str, Task] = {}
    for url, item in found.items():
        state = states.get(url)
        lastmod = item.lastmod.isoformat() if item.lastmod else None
        when = item.published or item.lastmod
        if state is None:
            if since is None or when is None or when >= since:
                tasks[url] = Task(url, "new", item.published, lastmod)
            continue
        kind = _known_reason(state, item, lastmod, full)
        if kind is None and url in delivered:
            kind = "delivered"
        if kind is not None:
            etag, modified = _validators(state)
            unannounced = kind == "full" and url not in delivered  # a feed item says itself
            tasks[state.url] = Task(
                state.url, kind, item.published, lastmod, etag, modified, unannounced=unannounced
            )
    for url, reason in recheck:
        state = states.get(url)
        if url not in tasks and state is not None:
            etag, modified = _validators(state)
            tasks[url] = Task(
                url, reason, None, state.sitemap_lastmod, etag, modified, unannounced=True
            )
    return list(tasks.values())


def absent(
    listed: Iterable[tuple[str, str | None, str | None, str | None]],
    found: Mapping[str, Found],
    sitemaps_read: Iterable[str],
    listings_read: Mapping[str, dt.datetime | None],
) -> list[str]:
    """Known statements to re-check: (URL, published time, sitemap, listing) rows of where each
    was last listed, less those listed now. A place counts only if it was read this time: a
    sitemap document read again, a listing walked back past the statement's publication time
    (``None``: walked to its end)."""
    read = set(sitemaps_read)
    gone: list[str] = []
    for url, published, sitemap, listing in listed:
        if url in found:
            continue
        if sitemap is not None and sitemap in read:
            gone.append(url)
        elif listing is not None and listing in listings_read:
            oldest = listings_read[listing]
            if oldest is None or _after(published, oldest):
                gone.append(url)
    return gone


def _after(published: str | None, oldest: dt.datetime) -> bool:
    try:
        when = dt.datetime.fromisoformat(published) if published else None
    except ValueError:
        return False
    return when is not None and when.utcoffset() is not None and when > oldest


def delivered_reply(delivered: Response, task: Task) -> Response:
    """The reply for a statement whose content came with discovery: the item itself, or a 304
    when its digest (its ``etag``) is the one recorded at the statement's last check."""
    digest = delivered.headers.get("etag")
    if digest is not None and task.etag == digest:
        return Response(delivered.url, 304, {"etag": digest}, b"")
    return delivered


def _validators(state: FetchState) -> tuple[str | None, str | None]:
    """ETag and Last-Modified for a conditional GET; none for a removed statement, whose 304
    would not say that it is back."""
    if state.status == "removed":
        return None, None
    return state.etag, state.last_modified


def _known_reason(state: FetchState, item: Found, lastmod: str | None, full: bool) -> str | None:
    if state.status == "removed":
        return "recheck"  # listed again: restored, perhaps
    if lastmod is not None and lastmod != state.sitemap_lastmod:
        stated = state.modified_time or state.published_time
        if state.sitemap_lastmod is None and _not_after(lastmod, stated):
            return "full" if full else None  # adopted from files: the lastmod is not news
        return "lastmod"
    return "full" if full else None


def _not_after(lastmod: str, modified: str | None) -> bool:
    if modified is None:
        return False
    return dt.datetime.fromisoformat(lastmod) <= dt.datetime.fromisoformat(modified)


# -- the engine -------------------------------------------------------------------------------


class Syncer:
    """Syncs one source into an archive with a fetcher; writes through a recorder, which on a
    dry run writes nothing (:mod:`crawler.recorder`)."""

    def __init__(
        self,
        archive: Archive,
        source: Source,
        fetcher: Fetcher,
        options: SyncOptions,
        *,
        clock: Callable[[], dt.datetime] = utc_now,
        progress: Progress | None = None,
        stop: Callable[[], bool] = lambda: False,
    ):
        self.archive, self.source, self.fetcher, self.options = archive, source, fetcher, options
        self.clock = clock
        self.stop = stop
        self.progress = progress or (lambda phase, done, total: None)
        self.report = SyncReport(source.name, options.dry_run)
        self.kind = kind_of(source.kind)  # what the source serves: crawler/kinds
        self.recorder = recorder_for(archive, source.name, clock, dry_run=options.dry_run)
        self._done, self._total = 0, 0  # statements fetched, of those planned
        self._done_lock = threading.Lock()
        self._listed: set[str] = set()
        self._states: dict[str, FetchState | None] = {}
        self._gone: list[tuple[Task, Response, FetchState]] = []  # decided after fetching
        self._absent: set[str] = set()
        self._answered: set[str] = set()  # URLs that gave an HTTP answer this run
        self._settled: set[str] = set()  # of those, the ones whose answer was taken in whole
        self._delivered: Mapping[str, Response] = {}  # content come with discovery: not fetched
        self._moved_away: set[str] = set()  # URLs a statement moved away from in this run
        self._held_before: list[str] = []
        self._unjudged: list[str] = []  # answered 404/410 in an interrupted run: re-check
        self._replacing: set[str] = set()  # URLs a different document took over in this run
        self._streak = GoneStreak(source.sync.gone_streak)  # new URLs answering 404/410
        self._left = 0  # new statements left for the next syncs ([sync] max_new)
        self._left_note = 0  # the note that says so
        self._api: ApiAudit | None = None  # an audit by the WordPress API, when it runs

    def run(self) -> SyncReport:
        started = time.perf_counter()
        index = self.archive.index
        self._settle_archive_settings()
        had_items = self._known_count() > 0
        since = self.options.since
        first = since is None and not had_items and not self.options.full
        if first:
            since = self.clock() - dt.timedelta(days=FIRST_SYNC_DAYS)
        self.progress("discover", 0, None)
        backlog = int(index.setting(self._backlog_key) or 0)  # new ones left by the last sync
        found = discover(
            self.fetcher,
            self.source,
            known=lambda url: index.by_url(url) is not None,
            sitemaps_seen=self._sitemaps_seen(),
            full=self.options.full or backlog > 0,
            since=since,
            expect_items=had_items,
            progress=lambda count: self.progress("discover", count, None),
            lastmod=lambda url: getattr(index.fetch_state(url), "sitemap_lastmod", None),
        )
        self.report.discovered = len(found.found)
        self._listed = set(found.found)
        self.report.failures.extend(("discovery", f) for f in found.failures)
        self.report.warnings.extend(found.warnings)
        if found.failures:
            self.report.counts["failed"] += len(found.failures)
        if first and (found.found or not found.failures):  # not when discovery reached nothing
            self.report.notes.append(
                f"first sync: took the last {FIRST_SYNC_DAYS} days; to backfill everything run "
                f"'statements sync {self.source.name} --full'"
            )
        recheck = [*self._missing(found), *self._recheck()]
        states = {url: index.fetch_state(url) for url in [*found.found, *(u for u, _ in recheck)]}
        self._states = states
        self._delivered = found.delivered
        tasks = plan(
            found.found,
            states,
            recheck=recheck,
            since=since,
            full=self.options.full,
            delivered=found.delivered.keys(),
        )
        tasks = self._cap_new(tasks)
        self.report.planned = self._total = len(tasks)
        self._sync_all(tasks)
        if self._api is not None:  # re-checked posts are checked now (crawler.wpaudit)
            self._api.settle(self._settled, self.report.events)
        self._bounds_after_fetching(backlog)
        if self.stop() and self._done < self._total:
            left = self._total - self._done
            self.report.notes.append(f"stopped early: {left} of {self._total} not fetched")
        self._decide_removals()
        self._link_corrections()
        if self.report.counts["reformatted"]:
            self.report.notes.append(
                f"{self.report.counts['reformatted']} statements differ only in rendering (nothing"
                " a reader sees): files kept; 'statements reformat' rewrites them"
            )
        self._remember_places(found, states)
        # A child sitemap is skipped next time only if it was read whole and all it listed settled.
        unsettled = {t.url for t in tasks if t.url not in self._answered}
        unsettled |= {url for url, _ in self.report.failures}
        saved = sitemaps_to_save(found, unsettled)
        prefix = f"sitemap:{self.source.name}:"
        self.recorder.set_settings({prefix + url: m for url, m in saved.items()})
        self.report.requests = self.fetcher.stats.requests
        self.report.bytes = self.fetcher.stats.bytes
        self.report.seconds = time.perf_counter() - started
        return self.report

    def _settle_archive_settings(self) -> None:
        """An archive first filled by a source takes the source's key order and layout."""
        wanted = {"key_order": self.source.archive.key_order, "layout": self.source.archive.layout}
        index = self.archive.index
        self.recorder.set_settings({k: v for k, v in wanted.items() if index.setting(k) is None})

    def _known_count(self) -> int:
        """Statements of this source in the archive, synced or imported (0 or 1: any?)."""
        return self.archive.index.count_of_source(
            self.source.name, self.source.allowed_hosts, at_most=1
        )

    def _active_count(self) -> int:
        """Active statements of this source: the whole a removal's share is taken of."""
        return self.archive.index.count_of_source(
            self.source.name, self.source.allowed_hosts, active_only=True
        )

    @property
    def _backlog_key(self) -> str:
        """The setting that keeps how many new statements the last sync left (docs/index.md)."""
        return f"backlog:{self.source.name}"

    def _cap_new(self, tasks: list[Task]) -> list[Task]:
        """At most ``max_new`` new statements; how many were left is kept in ``_left``."""
        limit = self.source.sync.max_new
        tasks, self._left = cap_new(tasks, limit)
        if self._left:
            self._left_note = len(self.report.notes)
            self.report.notes.append(
                f"{self._left} new statements left for the next syncs (at most {limit} a sync: "
                f"[sync] max_new); run 'statements sync {self.source.name}' again to fetch them"
            )
            log.info("%s: %d new statements left for the next syncs", self.source.name, self._left)
        return tasks

    def _bounds_after_fetching(self, backlog: int) -> None:
        """Say that the 404 streak stopped new URLs; keep the backlog for the next sync's
        discovery, none after a streak (those left look dead: no walk of everything for them)."""
        streak = self._streak
        left = 0 if streak.tripped else self._left
        if left or backlog:
            self.recorder.set_settings({self._backlog_key: str(left)})
        if streak.tripped:
            if self._left:  # not "left for the next syncs": they look dead too
                self.report.notes.pop(self._left_note)
            message = (
                f"{streak.limit} new URLs in a row answered HTTP 404/410: stopped fetching new "
                f"URLs for this sync ([sync] gone_streak), {len(streak.skipped) + self._left} "
                "left not fetched; known statements were still re-checked"
            )
            log.warning("%s: %s", self.source.name, message)
            self.report.warnings.append(message)

    def _sitemaps_seen(self) -> dict[str, str]:
        return self.archive.index.settings_with_prefix(f"sitemap:{self.source.name}:")

    def _recheck(self) -> Iterator[tuple[str, str]]:
        """Known statements to re-check: all of the source's with ``full``, or ``audit`` many
        (with the WordPress API: those it shows changed, then ``audit`` many it does not list
        and ``[wordpress] page_sweep`` many it lists, :func:`crawler.wpaudit.rotation`)."""
        if not self.options.full and not self.options.audit:
            return
        reason = "full" if self.options.full else "audit"
        covered = yield from self._api_recheck()
        mine = (
            url
            for url, _ in self.archive.index.least_recently_checked()
            if self.source.statement_match(url)
        )
        limit = None if self.options.full else self.options.audit
        planned = set(self._api.urls.values()) if self._api is not None else set()
        sweep = self.source.wordpress.page_sweep
        chosen = rotation(mine, covered, audit=limit, sweep=sweep, planned=planned)
        yield from ((url, reason) for url in chosen)

    def _api_recheck(self) -> Generator[tuple[str, str], None, set[str]]:
        """An audit by the source's WordPress API (:mod:`crawler.wpaudit`): the statements it
        shows changed or gone; returns the URLs it covers (none when it is not used)."""
        if self.options.full or not self.source.wordpress.api:
            return set()
        self._api = ApiAudit(
            self.archive,
            self.source,
            self.fetcher,
            self.recorder,
            clock=self.clock,
            stop=self.stop,
            dry_run=self.options.dry_run,
            notes=self.report.notes,
        )
        tasks = self._api.plan()
        yield from tasks or ()
        return self._api.covered

    @property
    def _held_key(self) -> str:
        """The setting that keeps this source's held removals (docs/index.md)."""
        return f"held_removals:{self.source.name}"

    def _missing(self, found: Discovered) -> list[tuple[str, str]]:
        """Held removals, then statements no longer listed where they were, to re-check."""
        held = self.archive.index.setting(self._held_key)
        self._held_before = json.loads(held or "[]")
        listed = self.archive.index.listed_in(
            sorted(found.sitemaps_read), sorted(found.listings_read)
        )
        mine = [row for row in listed if self.source.statement_match(row[0])]
        gone = absent(mine, found.found, found.sitemaps_read, found.listings_read)
        self._absent = set(gone)
        if gone:
            log.info("%s: %d statements no longer listed; re-checking", self.source.name, len(gone))
        return [(u, "held") for u in self._held_before] + [(u, "absent") for u in gone]

    def _sync_all(self, tasks: Sequence[Task]) -> None:
        """Fetch the tasks, recording them in batches as they arrive (:mod:`crawler.pipeline`): a
        statement waiting on retries is recorded when it comes, in a later batch, and holds up
        no other. Removals found on the way are decided after all fetching, and failures are
        reported, in plan order."""
        self.progress("fetch", self._done, self._total)
        size = max(1, self.options.chunk)
        # Taken from the plan only when sent: once a run of 404s among new URLs trips the
        # streak (crawler.bounds), the new ones not yet sent are skipped.
        admitted = (task for task in tasks if self._streak.admit([task]))
        stream = overlapped(
            admitted,
            self._fetch,
            self._extract,
            workers=self.fetcher.concurrency + RETRY_SPARE,
            size=min(size, CONVERT_BATCH),
            window=size,
            linger=max(MIN_LINGER, 3 * self.fetcher.limiter.interval),
            jobs=CONVERTERS,
            stop=self.stop,
        )
        with closing(stream):
            for fetched, parsed in stream:
                self._record_batch(fetched, parsed)
        order = {task.url: n for n, task in enumerate(tasks)}
        self._gone.sort(key=lambda gone: order[gone[0].url])
        self.report.failures.sort(key=lambda failure: order.get(failure[0], -1))  # discovery: -1

    def _extract(self, fetched: Sequence[tuple[Task, Reply]]) -> dict[str, Extracted]:
        """The kind's extractor on the pages of a batch, by URL (on a converter thread)."""
        self.progress("convert", self._done, self._total)
        pages = [
            Fetched(t.url, r, t.published)
            for t, r in fetched
            if isinstance(r, Response) and r.status == 200 and self.kind.refuse(r) is None
        ]
        parsed = self.kind.extract(pages, self.source)
        return dict(zip((page.url for page in pages), parsed, strict=True))

    def _record_batch(
        self, fetched: Sequence[tuple[Task, Reply]], parsed: Mapping[str, Extracted]
    ) -> None:
        """Record a parsed batch in one transaction."""
        self.progress("record", self._done, self._total)
        with self.archive.batch():
            for task, reply in fetched:
                self._settle(task, reply, parsed.get(task.url))

    def _fetch(self, task: Task) -> Reply:
        if self.stop():
            return None  # asked to stop: what is fetched already is still recorded
        reply: Response | StatementSyncError
        try:
            url = self.kind.fetch_url(self.source, task.url)  # an API's URL for the page
            page = None if url == task.url else task.url
            if task.url in self._delivered:  # no request: its content came with discovery
                reply = delivered_reply(self._delivered[task.url], task)
            else:
                reply = self.kind.fetch(
                    self.fetcher,
                    self.source,
                    url,
                    etag=task.etag,
                    last_modified=task.last_modified,
                    page=page,
                )
        except Stopped:
            return None
        except StatementSyncError as exc:
            reply = exc
        with self._done_lock:
            self._done += 1
            done = self._done
            # Seen as answers arrive, so the plan's next tasks are held back at once.
            self._streak.see(task, reply.status if isinstance(reply, Response) else None)
        self.progress("fetch", done, self._total)
        return reply

    def _settle(
        self, task: Task, reply: Response | StatementSyncError | None, parsed: object | None
    ) -> None:
        """Record what one fetch brought: a revision, a removal, nothing new, or a failure."""
        if reply is None:
            return None  # not fetched: the run was stopped
        counts = self.report.counts
        state = self._states.get(task.url)  # as planned; each URL is one task of this run
        statement_id = None if state is None else state.statement_id
        if isinstance(reply, StatementSyncError):
            return self._fail(task, reply.message + (f" ({reply.hint})" if reply.hint else ""))
        self._answered.add(task.url)
        if reply.not_modified:
            counts["not_modified"] += 1
        elif reply.status in GONE:
            if state is None:
                return self._fail(task, f"discovered, but answers HTTP {reply.status}")
            if state.status != "removed":
                self._gone.append((task, reply, state))
                self._settled.add(task.url)
                return None  # decided with the others, after fetching
            counts["unchanged"] += 1
        elif reply.status != 200:
            return self._fail(task, f"HTTP {reply.status}")
        elif (why := self.kind.refuse(reply)) is not None:
            return self._fail(task, why)
        elif isinstance(parsed, Parsed):
            outcome = self._record(task, reply, parsed, state)
            self._note(outcome)
            if outcome.event is not None:
                statement_id = outcome.event.statement_id
        else:
            why = parsed.message if isinstance(parsed, StatementSyncError) else str(parsed)
            return self._fail(task, why)
        self._settled.add(task.url)  # recorded, unchanged or not modified: nothing left to do
        self._remember(statement_id, task, reply)
        return None

    def _record(
        self, task: Task, reply: Response, parsed: Parsed, state: FetchState | None
    ) -> Outcome:
        statement, stable_id = parsed.statement, parsed.stable_id
        previous = self._previous(task, reply, parsed)
        if state is None and previous is None and statement.body.strip():
            # The same words, published at the same time, under a new URL: the statement moved.
            # (Not when the other URL is still listed: a statement published twice; not for no
            # words at all: two statements published empty at the same time are two.)
            published = statement.published_time
            twins = self.archive.index.same_words(
                words_hash(statement.body), published.isoformat() if published else None
            )
            gone = [u for u, status in twins if status == "removed" or u not in self._listed]
            previous = gone[0] if gone else None
        outcome = self.recorder.record(
            statement,
            origin=reply.url,
            previous_url=previous,
            unannounced=task.unannounced,
            stable_id=stable_id,
            declared=parsed.declared,
            keep=self.kind.keeps,
            hosts=self.kind.same_hosts(self.source),
        )
        if previous is not None and "moved" in outcome.kinds:
            self._moved_away.add(previous)  # its old URL answering 404 is no removal
        return outcome

    def _previous(self, task: Task, reply: Response, parsed: Parsed) -> str | None:
        """The URL the statement had before, when it moved: the one its stable id was last seen
        at; else the URL that redirected (a page), or the URL asked for when the reply says the
        statement is now elsewhere (an API's)."""
        url = parsed.statement.source_url
        if parsed.stable_id is not None:
            row = self.archive.index.by_stable_id(self.source.name, parsed.stable_id)
            if row is not None:
                return row.url if row.url != url else None
        if reply.redirects and reply.redirects[0] == task.url:
            return task.url
        fetched_elsewhere = self.kind.fetch_url(self.source, task.url) != task.url
        return task.url if fetched_elsewhere and url != task.url else None

    def _decide_removals(self) -> None:
        """Mark the statements that answered 404 or 410 removed, unless there are too many."""
        # A statement that moved in this run is not removed by its old URL answering 404/410.
        gone = [g for g in self._gone if g[0].url not in self._moved_away]
        report = self.report
        active = self._active_count()
        share = self.source.sync.max_removed_share
        if gone and self.stop():  # a part of the source answered: too little to judge by
            report.notes.append(f"interrupted: {len(gone)} removals left for the next sync")
            self._unjudged = [task.url for task, _, _ in gone]
        elif gone and not self.options.confirm_removals and len(gone) > share * active:
            report.held = [task.url for task, _, _ in gone]
            first = ", ".join(report.held[:5]) + (", ..." if len(gone) > 5 else "")
            report.suspicion = (
                f"{len(gone)} of {active} statements ({len(gone) / max(active, 1):.0%}) answer "
                f"HTTP 404/410, more than the {share:.0%} one sync may mark removed: none marked "
                f"(a site outage?). First: {first}. If they are really gone, run "
                f"'statements sync {self.source.name} --confirm-removals'"
            )
            log.info("%s: %s", self.source.name, report.suspicion)  # the CLI prints it once
        else:
            with self.archive.batch():
                for task, reply, state in gone:
                    self._note(self.recorder.mark_removed(state.statement_id, reply.status))
                    self._remember(state.statement_id, task, reply)
        unsettled = [u for u in self._held_before if u not in self._answered]
        held = list(dict.fromkeys([*report.held, *self._unjudged, *unsettled]))
        if held or self._held_before:
            self.recorder.set_settings({self._held_key: json.dumps(held)})

    def _link_corrections(self) -> None:
        """A kind that declares corrections: link those not linked yet (storage.links)."""
        if self.kind.corrections and not self.options.dry_run:
            linked = link_corrections(self.archive, self.source.name, stamp(self.clock()))
            if linked:
                self.report.notes.append(f"linked {linked} corrections to what they correct")

    def _remember_places(self, found: Discovered, states: Mapping[str, FetchState | None]) -> None:
        """Where discovery listed each statement now; none for one re-checked as no longer
        listed (it is re-checked again once listed again and dropped again)."""
        index = self.archive.index
        with self.recorder.transaction():
            for url in found.sitemap_of.keys() | found.listing_of.keys():
                # New ones, and URLs now leading to a replacing document: recorded just now.
                state = None if url in self._replacing else states.get(url)
                state = state or index.fetch_state(url)
                if state is None:
                    continue
                sitemap, listing = found.sitemap_of.get(url), found.listing_of.get(url)
                values = {
                    name: value
                    for name, value, old in (
                        ("sitemap", sitemap, state.sitemap),
                        ("listing", listing, state.listing),
                    )
                    if value is not None and value != old
                }
                if values:
                    self.recorder.set_fetch_state(state.statement_id, **values)
            for url in self._absent & self._answered:
                state = states.get(url)
                if state is not None:
                    self.recorder.set_fetch_state(state.statement_id, sitemap=None, listing=None)

    def _remember(self, statement_id: int | None, task: Task, reply: Response) -> None:
        """What the next sync needs to know of this URL: validators, lastmod, when checked."""
        if statement_id is None:  # a new URL that redirected to a statement already archived
            state = self.archive.index.fetch_state(reply.url)
            if state is None:
                return
            statement_id = state.statement_id
        values: dict[str, object] = {
            "last_checked": stamp(self.clock()),
            "last_status": reply.status,
        }
        if reply.status == 200:
            values.update(
                etag=reply.headers.get("etag"), last_modified=reply.headers.get("last-modified")
            )
        if task.lastmod is not None:
            values["sitemap_lastmod"] = task.lastmod
        self.recorder.set_fetch_state(statement_id, **values)

    def _note(self, outcome: Outcome) -> None:
        counts = self.report.counts
        if outcome.unchanged:
            counts["unchanged"] += 1
            return
        if outcome.deferred:
            counts["reformatted"] += 1  # the same content, rendered anew: no event, no rewrite
            return
        if outcome.event is not None:
            self.report.events.append(outcome.event)
            if "replaced" in outcome.event.kinds:
                self._replacing.add(outcome.event.url)
        if outcome.flap:
            counts["flapping"] += 1
            return
        counts.update(outcome.kinds)
        if not {"new", "removed"} & set(outcome.kinds):
            counts["changed"] += 1  # statements changed, whatever the number of their kinds

    def _fail(self, task: Task, reason: str) -> None:
        log.info("failed %s: %s", task.url, reason)  # the report carries it to the user
        self.report.counts["failed"] += 1
        self.report.failures.append((task.url, reason))
