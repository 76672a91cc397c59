"""One sync run of an archive, as both ``statements sync`` and the scheduler do it.

Holds the archive's lock for the run, cleans what a killed writer left, adopts a folder of
archive files on first use, syncs each source, records the run, and asks the announcers the
archive's ``statements.toml`` configures (Atom feed, git commit, webhooks: :mod:`crawler.announce`)
to announce the changes, then brings the HTML report up to date when ``[report]`` asks for it
(:mod:`crawler.report`); an announcer or a report that fails is logged, never a failed sync. The
changes are announced through the index's outbox (:mod:`crawler.announce.outbox`): what a killed
run recorded, or an announcer failed to deliver, is delivered by the next run.

``stop`` (a :class:`crawler.schedule.Stop`, set by Ctrl-C or SIGTERM) ends the run early and
cleanly: no new request starts, what was fetched is recorded, announced and committed. Each run is
recorded in the index with a summary that, for a failed run, gives the reason in one line.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from contextlib import nullcontext
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from crawler import announce, report
from crawler.config import ArchiveConfig
from crawler.errors import DiscoveryError
from crawler.fetch import Fetcher, Limiter, make_client
from crawler.source import Source
from crawler.syncer import Progress, Syncer, SyncOptions, SyncReport
from storage.archive import STATE_DIR, Archive, stamp, utc_now
from storage.importer import import_dir, statement_files
from storage.lock import archive_lock

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class FetchSettings:
    base_url: str | None = None
    rate: float | None = None
    concurrency: int | None = None
    user_agent: str | None = None
    # team mode: the rate limit shared by workers, for a source at a rate and jitter
    limiter: Callable[[Source, float, float], Limiter] | None = None


@dataclass
class RunResult:
    reports: list[SyncReport] = field(default_factory=list)
    broken: list[str] = field(default_factory=list)
    adopted: int = 0
    commit: str | None = None
    deliveries: list[threading.Thread] = field(default_factory=list)
    announced: list[announce.Outcome] = field(default_factory=list)
    report: report.Written | None = None  # the HTML report brought up to date ([report])

    @property
    def saved(self) -> int:
        """Statements this run wrote (a revision or a removal)."""
        return sum(len(r.events) for r in self.reports)

    @property
    def held(self) -> bool:
        """A sync held its removals: too many statements answered 404/410 at once."""
        return any(r.held for r in self.reports)

    @property
    def exit_code(self) -> int:
        if self.broken or self.held:
            return 3
        return 1 if any(r.failures for r in self.reports) else 0

    def wait_for_deliveries(self, seconds: float) -> None:
        for thread in self.deliveries:
            thread.join(timeout=seconds)


def run_sync(
    root: Path,
    sources: Sequence[Source],
    options: SyncOptions,
    fetch: FetchSettings,
    *,
    config: ArchiveConfig,
    commit: bool = False,
    wait: float = 0.0,
    stop: Callable[[], bool] = lambda: False,
    progress_for: Callable[[str], Any] | None = None,
    clock: Callable[[], dt.datetime] = utc_now,
    team: bool = False,
) -> RunResult:
    """``team``: a worker's run on a shared index (:mod:`crawler.team`): no archive lock (the
    sources' locks are the job engine's), no recovery of other writers' files, no adoption, no
    file written (the publish job writes them from the database: :mod:`storage.publish`), and
    nothing announced (what workers record is pending in the outbox for the announcers)."""
    result = RunResult()
    archive = Archive(root, clock=clock, index=config.index or None)
    archive.run = uuid.uuid4().hex  # its events carry it (workers sharing an index)
    archive.files = not team  # a worker records into the database; the publish job writes files
    announcers = announce.announcers_for(replace(config, commit=commit or config.commit))
    try:
        with nullcontext() if team else archive_lock(archive.root / STATE_DIR, wait=wait):
            if not team:
                archive.recover()
                result.adopted = _adopt(archive, options.dry_run)
            if not options.dry_run:  # every event from here on is pending for each announcer
                announce.outbox.enable(archive, announcers)
            for source in sources:
                if stop():
                    break
                _sync_source(archive, source, options, fetch, result, stop, clock, progress_for)
            if not options.dry_run and not team:
                _announce(archive, announcers, result, clock)
                result.report = report.after_sync(archive, config.report)  # never raises
    finally:
        archive.close()
    return result


def _adopt(archive: Archive, dry_run: bool) -> int:
    """A folder of archive files with no index yet (the public archive, say): index it in place."""
    if dry_run or archive.index.count_statements() or not statement_files(archive.root):
        return 0
    return import_dir(archive, archive.root).new


def _sync_source(
    archive: Archive,
    source: Source,
    options: SyncOptions,
    fetch: FetchSettings,
    result: RunResult,
    stop: Callable[[], bool],
    clock: Callable[[], dt.datetime],
    progress_for: Callable[[str], Any] | None,
) -> None:
    started = stamp(clock())
    first_event = _last_event_id(archive)
    progress: Progress | None = None
    with make_client(user_agent=fetch.user_agent, timeout=source.politeness.timeout) as client:
        fetcher = Fetcher(
            client,
            source,
            base_url=fetch.base_url,
            rate=fetch.rate,
            concurrency=fetch.concurrency,
            stop=stop,
            sleep=getattr(stop, "wait", time.sleep),  # a sleep that a stop cuts short
            limiter=_shared_limiter(source, fetch),
        )
        try:
            if progress_for is not None:
                progress = progress_for(source.name)
            report = Syncer(
                archive, source, fetcher, options, clock=clock, progress=progress, stop=stop
            ).run()
        except DiscoveryError as exc:
            result.broken.append(str(exc))
            _record_run(archive, source.name, started, clock, False, {"broken": str(exc)}, options)
            return
        finally:
            if progress is not None:
                progress("done", 0, None)  # the source is done, however it ended
    report.first_event = first_event
    result.reports.append(report)
    summary = {
        "counts": dict(report.counts),
        "failed": len(report.failures),
        "reason": failure_reason(report),
        "requests": report.requests,
        "seconds": round(report.seconds, 2),
    }
    if report.held:
        summary["held_removals"] = len(report.held)
    if report.warnings:  # cut short (a listing, a sitemap, new URLs): said, but not a failure
        summary["warnings"] = report.warnings
    ok = not report.failures and not report.held
    _record_run(archive, source.name, started, clock, ok, summary, options)


def _shared_limiter(source: Source, fetch: FetchSettings) -> Limiter | None:
    if fetch.limiter is None:
        return None
    rate = source.politeness.rate if fetch.rate is None else fetch.rate
    return fetch.limiter(source, rate, source.politeness.jitter)


def failure_reason(report: SyncReport) -> str | None:
    """Why a run failed, in one line: the first failure, and how many there were."""
    if report.held and not report.failures:
        return report.suspicion
    if not report.failures:
        return None
    where, why = report.failures[0]
    first = why if where == "discovery" else f"{where}: {why}"
    more = len(report.failures) - 1
    return first + (f" (and {more} more failures)" if more else "")


def _record_run(
    archive: Archive,
    source: str,
    started: str,
    clock: Callable[[], dt.datetime],
    ok: bool,
    summary: dict[str, Any],
    options: SyncOptions,
) -> None:
    if options.dry_run:
        return
    with archive.index.transaction():
        archive.index.add_run(source, started, stamp(clock()), ok, json.dumps(summary))


def _last_event_id(archive: Archive) -> int:
    return archive.index.last_event_id()


def _announce(
    archive: Archive,
    announcers: Sequence[announce.Announcer],
    result: RunResult,
    clock: Callable[[], dt.datetime],
) -> None:
    """Deliver what each announcer has pending, this run's events and any a killed run left
    (:mod:`crawler.announce.outbox`)."""
    summaries = {
        r.source: {"counts": dict(r.counts), "failed": len(r.failures)} for r in result.reports
    }
    result.announced = announce.outbox.deliver(archive, announcers, clock(), summaries)
    for outcome in result.announced:
        result.deliveries += outcome.pending
        if outcome.announcer == "git":
            result.commit = outcome.ref
