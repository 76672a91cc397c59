"""Team mode: sync workers on Procrastinate, a job engine whose queue is in the index's database.

Several ``statements worker`` processes (on one machine or many) share one PostgreSQL index
(:mod:`storage.postgres`) and take sync jobs from Procrastinate's queue in the same database
(``FOR UPDATE SKIP LOCKED``). Nothing here schedules, locks or retries by itself:

- **a job** is :func:`_sync_job`: the existing :func:`crawler.jobs.run_sync` for one source,
  in team mode (no archive file lock, nothing announced: ``run_sync(team=True)``). Procrastinate
  runs it in a thread of the worker (sync tasks are fine); a failure that escapes it (the
  database went away) is retried by Procrastinate (:data:`RETRY`).
- **one sync of a source at a time** across all workers: every sync job carries the source's
  ``lock`` (a second job of the source waits until the first ends) and ``queueing_lock`` (at most
  one waiting job per source: an ``enqueue`` or a periodic run of a source already waiting adds
  nothing).
- **periodic syncs** of every enabled source come from the seeds' ``[schedule]`` as Procrastinate
  periodic tasks, deferred once across all workers (the engine's unique key on the task, the
  source and the scheduled time). A ``cron`` is used as is; ``every`` becomes a cron expression
  by :func:`every_to_cron`: the longest clock-aligned period not longer than it (``2h`` ->
  every second hour, ``45m`` -> every 30 minutes: never less often than asked), at a minute
  offset drawn from the source's name so that sources do not all start at once.
- **stalled jobs** of killed workers (no heartbeat for ``stalled_after`` seconds) are put back in
  the queue by the periodic :func:`sweep` (Procrastinate does not sweep by itself); the job's
  lock goes with it, so the source waits at most one sweep interval plus ``stalled_after``.
  Recording is exactly once (``Archive.record``), so a retried sync duplicates nothing.
- **politeness across workers**: each request takes its host's next free slot in the
  database (a row lock per host from its wait until its answer begins; the next slot counted
  from then:
  :class:`SharedLimiter` over :class:`storage.hostslots.HostSlots`), so N workers together
  keep a host's rate.
- **publishing**: a periodic :func:`publish` (``--publish-every``; one at a time across
  workers) delivers what the outbox holds for each announcer (Atom feed, git, webhooks) and
  brings the report up to date; workers' syncs announce nothing themselves.
- **SIGTERM/SIGINT**: the running sync starts no new request, records what it fetched and
  ends; the worker then unregisters and exits 0 (no traceback). A worker that loses the
  database (a restart) stops its Procrastinate loop, waits and starts it again.

Procrastinate's own tables (``procrastinate_*``) are created by its own schema applier at the
first worker's start (:func:`ensure_schema`, under an advisory lock): they are versioned with
Procrastinate's releases and migrated by its own migration files, so folding them into our
migrations (``storage/pgschema.py``) would tie our schema version to theirs and copy their SQL.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import random
import signal
import threading
import time
import zlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from crawler import announce, report
from crawler.config import ArchiveConfig
from crawler.durations import parse_duration
from crawler.errors import UsageError
from crawler.fetch import Limiter
from crawler.jobs import FetchSettings, failure_reason, run_sync
from crawler.schedule import Stop
from crawler.source import Schedule, Source
from crawler.syncer import SyncOptions
from storage.archive import STATE_DIR, Archive, utc_now
from storage.hostslots import HostSlots, ensure_table
from storage.locator import is_postgres
from storage.lock import archive_lock
from storage.publish import publish_files

log = logging.getLogger(__name__)

SYNC_TASK = "statements.sync"
SWEEP_TASK = "statements.sweep"
PUBLISH_TASK = "statements.publish"
PUBLISH_LOCK = "publish"
MARGIN = 0.05  # each host slot is this much longer than the rate's interval
_SCHEMA_LOCK = 0x5747_5451  # the advisory lock key of the engine's schema


def lock_key(source: str) -> str:
    """The Procrastinate lock (and queueing lock) of a source's syncs."""
    return f"sync:{source}"


def require_postgres(locator: str | None) -> str:
    """The index locator of a team, or a one-line refusal for the archive's SQLite file."""
    if not is_postgres(locator):
        raise UsageError(
            "team mode needs the index in PostgreSQL, not the archive's SQLite file",
            hint="give --index postgresql://HOST/DB or index = ... in statements.toml"
            " (docs/team.md); one machine: statements schedule",
        )
    assert locator is not None
    return locator.strip()


# -- schedules ------------------------------------------------------------------------------


def every_to_cron(every: str, name: str = "") -> str:
    """A cron expression for ``every``: the longest clock-aligned period not longer than it,
    offset by a number drawn from ``name`` (seconds as a 6th field for periods under a minute)."""
    seconds = max(1, int(parse_duration(every).total_seconds()))
    spread = zlib.crc32(name.encode("utf-8"))
    if seconds < 60:
        step = _divisor_at_most(60, seconds)
        return f"* * * * * {spread % step}-59/{step}"
    if seconds < 3600:
        step = _divisor_at_most(60, seconds // 60)
        return f"{spread % step}-59/{step} * * * *"
    minute = spread % 60
    if seconds < 86400:
        step = _divisor_at_most(24, seconds // 3600)
        return f"{minute} {(spread // 60) % step}-23/{step} * * *"
    days = seconds // 86400
    hour = (spread // 60) % 24
    return f"{minute} {hour} * * *" if days == 1 else f"{minute} {hour} */{min(days, 28)} * *"


def _divisor_at_most(whole: int, at_most: int) -> int:
    return max(d for d in range(1, whole + 1) if whole % d == 0 and d <= max(1, at_most))


def cron_of(schedule: Schedule, name: str) -> str | None:
    """The cron expression a source's schedule runs on in team mode; None: not scheduled."""
    if schedule.cron:
        return schedule.cron
    return every_to_cron(schedule.every, name) if schedule.every else None


def next_run(schedule: Schedule, name: str, now: dt.datetime) -> dt.datetime | None:
    """When a source's next periodic sync is deferred (UTC), as the workers schedule it."""
    import croniter  # type: ignore[import-untyped]  # Procrastinate's own dependency

    cron = cron_of(schedule, name)
    if cron is None:
        return None
    following: dt.datetime = croniter.croniter(cron, now.astimezone(dt.UTC)).get_next(dt.datetime)
    return following


# -- politeness across workers --------------------------------------------------------------


class SharedLimiter:
    """A :class:`crawler.fetch.Limiter` whose slots are reserved in the database, per host."""

    def __init__(
        self,
        slots: HostSlots,
        host: str,
        rate: float,
        jitter: float = 0.0,
        *,
        margin: float = MARGIN,
        sleep: Callable[[float], Any] = time.sleep,
        rand: Callable[[], float] = random.random,
    ):
        self.slots, self.host, self.jitter, self.margin = slots, host, jitter, margin
        self.interval = 0.0 if rate <= 0 else 1.0 / rate
        self.sleep, self.rand = sleep, rand
        self._mine = threading.local()  # the fetcher's threads share this limiter

    def slow_to(self, interval: float) -> None:
        self.interval = max(self.interval, interval)

    def wait(self) -> None:
        if self.interval > 0:
            self.slots.hold(self.host, self.sleep)
            self._mine.holding = True

    def sent(self) -> None:
        if getattr(self._mine, "holding", False):  # this thread's slot, released once
            self._mine.holding = False
            gap = self.interval * (1.0 + self.margin + self.jitter * self.rand())
            self.slots.release(gap)


def host_of(source: Source, base_url: str | None) -> str:
    """The host a source's requests go to: the ``--base-url`` origin, else its first host."""
    if base_url:
        return urlsplit(base_url).netloc.lower()
    return source.allowed_hosts[0].lower()


def shared_limits(
    slots: HostSlots,
    base_url: Callable[[Source], str | None],
    sleep: Callable[[float], Any] = time.sleep,
) -> Callable[[Source, float, float], Limiter]:
    """The ``FetchSettings.limiter`` of a worker: every fetcher's limiter shares ``slots``."""

    def make(source: Source, rate: float, jitter: float) -> Limiter:
        return SharedLimiter(slots, host_of(source, base_url(source)), rate, jitter, sleep=sleep)

    return make


# -- the worker's context and its tasks -------------------------------------------------------


@dataclass
class Team:
    """What a worker's jobs need: the archive, its config and sources, how to fetch."""

    root: Path
    config: ArchiveConfig
    sources: dict[str, Source]
    fetch: FetchSettings
    schedules: dict[str, Schedule] = field(default_factory=dict)
    stop: Stop = field(default_factory=Stop)
    stalled_after: float = 30.0
    # a mirror per source (tests, benches: a loopback publisher each), else fetch.base_url
    base_urls: dict[str, str] = field(default_factory=dict)

    def base_url(self, source: Source) -> str | None:
        return self.base_urls.get(source.name) or self.fetch.base_url

    def share(self, slots: HostSlots) -> None:
        """Fetch through the database's host slots from now on."""
        self.fetch = replace(self.fetch, limiter=shared_limits(slots, self.base_url))

    def sync(self, name: str, full: bool = False) -> dict[str, Any]:
        source = self.sources.get(name)
        if source is None:  # a job from a worker with other seeds: said, not retried
            log.warning("no source named %r in this worker's seeds: job skipped", name)
            return {"error": f"no source {name!r}"}
        schedule = self.schedules.get(name, source.schedule)
        result = run_sync(
            self.root,
            [source],
            SyncOptions(full=full, audit=schedule.audit),
            replace(self.fetch, base_url=self.base_url(source)),
            config=self.config,
            stop=self.stop,
            team=True,
        )
        if result.broken:
            return {"source": name, "error": result.broken[0]}
        report = result.reports[0] if result.reports else None
        if report is None:
            return {"source": name}
        return {"source": name, "counts": dict(report.counts), "error": failure_reason(report)}


def _team(context: Any) -> Team:
    team: Team = context.additional_context["team"]
    return team


def _sync_job(
    context: Any, source: str, full: bool = False, timestamp: int | None = None
) -> dict[str, Any]:
    """One sync of one source (``full``: its whole listing; ``timestamp``: the scheduled time
    of a periodic run)."""
    return _team(context).sync(source, full)


def _publish_job(context: Any, timestamp: int | None = None) -> dict[str, int]:
    team = _team(context)
    return publish(team.root, team.config)


def publish(root: Path, config: ArchiveConfig, *, wait: float = 60.0) -> dict[str, int]:
    """Publish what the workers recorded: the statements' files written from the database
    (:func:`storage.publish.publish_files`: workers write none), then each announcer the
    archive's ``statements.toml`` configures (the Atom feed, the git commit, webhooks) delivers
    what the outbox holds pending for it, then the HTML report is brought up to date
    (``[report]``). Idempotent: a file is written when its latest revision moved; what was
    delivered is marked so in the database, in the transaction after the delivery; a publish
    killed before that delivers it again next time (at least once, as a single user's sync).
    Holds the archive folder's lock (waits up to ``wait`` seconds for it), so a single user's
    sync on the same folder takes turns with it. For each announcer, the events it told."""
    archive = Archive(root, index=config.index or None)
    try:
        announcers = announce.announcers_for(config)
        with archive_lock(archive.root / STATE_DIR, wait=wait):
            files = publish_files(archive)
            announce.outbox.enable(archive, announcers)
            outcomes = announce.outbox.deliver(archive, announcers, utc_now())
            report.after_sync(archive, config.report)  # never raises
    finally:
        archive.close()
    return {"files": files} | {outcome.announcer: outcome.told for outcome in outcomes}


async def _sweep_job(context: Any, timestamp: int | None = None) -> int:
    return await sweep(context.app.job_manager, _team(context).stalled_after)


async def sweep(manager: Any, stalled_after: float) -> int:
    """Put the jobs of workers silent for ``stalled_after`` seconds back in the queue; how
    many. A stalled sync whose source already has a waiting job is failed instead (the
    waiting one does its work)."""
    swept = 0
    for job in await manager.get_stalled_jobs(seconds_since_heartbeat=stalled_after):
        try:
            await manager.retry_job(job)
            swept += 1
            log.warning("swept job %s (%s) of a stalled worker: queued again", job.id, job.lock)
        except Exception as exc:  # the queueing lock: a job of that source is waiting already
            from procrastinate import jobs

            log.warning("stalled job %s not requeued (%s): failed", job.id, exc)
            await manager.finish_job(job, status=jobs.Status.FAILED, delete_job=False)
    return swept


RETRY: dict[str, Any] = {"max_attempts": 5, "wait": 2, "exponential_wait": 2}


def make_app(
    locator: str, schedules: dict[str, Schedule], sweep_every: str = "", publish_every: str = ""
) -> Any:
    """A Procrastinate app on the index's database, with the sync, sweep and publish tasks, a
    periodic sync per scheduled source, the periodic sweep (every ``sweep_every``) and the
    periodic publish (every ``publish_every``; one at a time across workers)."""
    import procrastinate

    app = procrastinate.App(connector=procrastinate.PsycopgConnector(conninfo=locator))
    retry = procrastinate.RetryStrategy(**RETRY)
    sync = app.task(name=SYNC_TASK, pass_context=True, retry=retry)(_sync_job)
    sweeper = app.task(name=SWEEP_TASK, pass_context=True)(_sweep_job)
    publisher = app.task(name=PUBLISH_TASK, pass_context=True, retry=retry)(_publish_job)
    for name, schedule in schedules.items():
        cron = cron_of(schedule, name)
        if cron is not None:
            key = lock_key(name)
            periodic = app.periodic(
                cron=cron,
                periodic_id=name,
                lock=key,
                queueing_lock=key,
                task_kwargs={"source": name},
            )
            periodic(sync)  # type: ignore[arg-type]  # it takes the timestamp
    if sweep_every:
        app.periodic(cron=every_to_cron(sweep_every), queueing_lock="sweep")(sweeper)
    if publish_every:
        once = {"lock": PUBLISH_LOCK, "queueing_lock": PUBLISH_LOCK}
        app.periodic(cron=every_to_cron(publish_every), **once)(publisher)  # type: ignore[arg-type]
    return app


def ensure_schema(locator: str) -> bool:
    """Create Procrastinate's tables and the host slots table if absent (once, whoever asks
    first); whether the engine's schema was created now."""
    import psycopg
    from procrastinate.schema import SchemaManager

    with psycopg.connect(locator, autocommit=True) as db:
        db.execute("SELECT pg_advisory_lock(%s)", (_SCHEMA_LOCK,))
        try:
            ensure_table(db)
            row = db.execute("SELECT to_regclass('procrastinate_jobs')").fetchone()
            if row is not None and row[0] is not None:
                return False
            db.execute(SchemaManager.get_schema())
            return True
        finally:
            db.execute("SELECT pg_advisory_unlock(%s)", (_SCHEMA_LOCK,))


# -- commands -------------------------------------------------------------------------------


def enqueue(locator: str, names: Iterable[str], *, full: bool = False) -> dict[str, bool]:
    """Defer a sync of each source now (``full``: of its whole listing); for each, whether it
    was queued (False: one is waiting already)."""
    from procrastinate import exceptions

    ensure_schema(locator)
    app = make_app(locator, {})
    queued: dict[str, bool] = {}
    with app.open():
        task = app.tasks[SYNC_TASK]
        for name in names:
            key = lock_key(name)
            try:
                task.configure(lock=key, queueing_lock=key).defer(source=name, full=full)
                queued[name] = True
            except exceptions.AlreadyEnqueued:
                queued[name] = False
    return queued


def run_worker(
    team: Team,
    locator: str,
    *,
    once: bool = False,
    sweep_every: str = "30s",
    publish_every: str = "",
    reconnect: float = 2.0,
    name: str | None = None,
) -> None:
    """Run a worker until SIGTERM/SIGINT (``once``: until the queue is empty). A worker that
    loses the database starts again after ``reconnect`` seconds."""
    ensure_schema(locator)
    slots = HostSlots(locator)
    team.share(slots)
    try:
        while not team.stop():
            _stop_on_signals(team)  # between two loops too (the loop's handlers go with it)
            try:
                every = (sweep_every, publish_every)
                asyncio.run(_work(team, locator, once=once, every=every, name=name))
            except Exception as exc:  # the database went away: start again
                log.warning("worker lost the database (%s); again in %.0fs", exc, reconnect)
            else:
                if once or team.stop():
                    return
                log.warning("worker loop ended; again in %.0fs", reconnect)
            team.stop.wait(reconnect)
            slots = _reopen(slots, locator, team)
    finally:
        slots.close()


def _stop_on_signals(team: Team) -> None:
    if threading.current_thread() is threading.main_thread():
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, lambda *_: team.stop.event.set())


def _reopen(slots: HostSlots, locator: str, team: Team) -> HostSlots:
    try:
        fresh = HostSlots(locator)
    except Exception:
        return slots  # still down: the next round tries again
    slots.close()
    team.share(fresh)
    return fresh


async def _work(
    team: Team, locator: str, *, once: bool, every: tuple[str, str], name: str | None
) -> None:
    app = make_app(locator, team.schedules, *every)
    heartbeat = max(0.5, team.stalled_after / 3)
    async with app.open_async():
        worker = asyncio.create_task(
            app.run_worker_async(
                wait=not once,
                name=name,
                install_signal_handlers=False,
                additional_context={"team": team},
                update_heartbeat_interval=heartbeat,
                stalled_worker_timeout=team.stalled_after,
                fetch_job_polling_interval=1.0,
                delete_jobs="never",
            )
        )
        loop = asyncio.get_running_loop()

        def on_signal() -> None:
            log.warning("stopping: the running sync records what it fetched, then the worker ends")
            team.stop.event.set()
            worker.cancel()

        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, on_signal)
        try:
            await worker
        except asyncio.CancelledError:
            if not team.stop():
                raise
        finally:
            for signum in (signal.SIGINT, signal.SIGTERM):
                loop.remove_signal_handler(signum)


def status(locator: str) -> dict[str, Any]:
    """The queue (jobs by state), the running jobs, the live workers, the last runs."""
    import psycopg

    ensure_schema(locator)
    with psycopg.connect(locator, autocommit=True) as db:
        counts: dict[str, int] = dict(
            db.execute(
                "SELECT status::text, count(*) FROM procrastinate_jobs GROUP BY status"
            ).fetchall()
        )
        running = [
            {"job": job, "task": task, "source": source, "worker": worker, "attempts": attempts}
            for job, task, source, worker, attempts in db.execute(
                "SELECT id, task_name, args->>'source', worker_id, attempts"
                " FROM procrastinate_jobs WHERE status = 'doing' ORDER BY id"
            )
        ]
        workers = [
            {"worker": worker, "heartbeat": _iso(beat)}
            for worker, beat in db.execute(
                "SELECT id, last_heartbeat FROM procrastinate_workers ORDER BY id"
            )
        ]
    return {"queue": counts, "running": running, "workers": workers}


def _iso(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).isoformat(timespec="seconds")
