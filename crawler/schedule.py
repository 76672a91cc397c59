"""``statements schedule``: keep an archive in sync, in the foreground.

Run times come from APScheduler 3's triggers (an interval or a cron expression, with jitter).
Whether a job is due is decided by :func:`due`, a pure function of the trigger, the last run time
and the clock: missed runs are coalesced into one, a run later than the misfire grace time is
skipped to the next regular time. :class:`Scheduler` is the loop around it, with the clock and
the sleep injected so tests run a simulated day in milliseconds. Runs are sequential (a source is
never synced twice at once) and their times persist in the archive's index, so a restart resumes
the schedule instead of firing everything again. Spans (``every``, the grace time) are read by
:mod:`crawler.durations`, the one grammar of durations.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from crawler.durations import DurationError, parse_duration
from crawler.errors import SourceError
from crawler.source import Schedule

if TYPE_CHECKING:  # APScheduler is loaded when a trigger is made: a one-off sync never needs it
    from apscheduler.triggers.base import BaseTrigger

log = logging.getLogger(__name__)

DEFAULT_GRACE = dt.timedelta(hours=1)


def make_trigger(schedule: Schedule, *, start: dt.datetime, timezone: str = "UTC") -> BaseTrigger:
    """An APScheduler trigger for a schedule: ``every`` or ``cron``, with its jitter."""
    from apscheduler.triggers.cron import CronTrigger
    from apscheduler.triggers.interval import IntervalTrigger

    jitter = int(schedule.jitter) or None
    if schedule.cron:
        try:
            minute, hour, day, month, weekday = schedule.cron.split()
            return CronTrigger(
                minute=minute,
                hour=hour,
                day=day,
                month=month,
                day_of_week=weekday,
                timezone=timezone,
                jitter=jitter,
            )
        except ValueError as exc:
            raise SourceError(f"cron {schedule.cron!r} is not valid: {exc}") from None
    if not schedule.every:
        raise SourceError("no schedule", hint="set every = '2h' or cron = '28 */2 * * *'")
    try:
        every = parse_duration(schedule.every)
    except DurationError as exc:
        raise SourceError(f"every: {exc}") from None
    # Jitter spreads load; it never delays a run by more than a tenth of the interval.
    jitter = int(min(schedule.jitter, every.total_seconds() / 10)) or None
    return IntervalTrigger(
        seconds=every.total_seconds(), start_date=start, timezone=timezone, jitter=jitter
    )


@dataclass(frozen=True)
class Due:
    run: bool
    fire_time: dt.datetime | None  # the (latest missed) run time a run now stands for
    next_fire: dt.datetime | None  # when the job is next due
    missed: int = 0  # run times coalesced into this run, or skipped past the grace time


def due(
    trigger: BaseTrigger,
    last_fire: dt.datetime | None,
    now: dt.datetime,
    grace: dt.timedelta = DEFAULT_GRACE,
    first: dt.datetime | None = None,
) -> Due:
    """Whether a job runs now. Pure: the same inputs give the same answer.

    ``first`` is the first run time of a job that has not run yet.
    """
    if last_fire is None:
        fire = first or trigger.get_next_fire_time(None, now)
    else:
        fire = trigger.get_next_fire_time(last_fire, now)
    if fire is None or fire > now:
        return Due(False, None, fire)
    missed = 0
    while True:
        following = trigger.get_next_fire_time(fire, now)
        if following is None or following > now:
            break
        fire, missed = following, missed + 1
    if now - fire > grace:
        return Due(False, fire, following, missed + 1)  # too late: wait for the next one
    return Due(True, fire, following, missed)


@dataclass(frozen=True)
class Job:
    name: str
    trigger: BaseTrigger
    run: Callable[[], dict[str, Any]]  # does the work, returns a summary for the log line


class Scheduler:
    """Runs jobs when due, one at a time, until stopped."""

    def __init__(
        self,
        jobs: Sequence[Job],
        *,
        state: Any,
        clock: Callable[[], dt.datetime],
        wait: Callable[[float], bool],
        grace: dt.timedelta = DEFAULT_GRACE,
    ):
        """``state`` has ``schedule_state(job) -> (last, next)`` and ``save(job, last, next)``;
        ``wait(s)``
        sleeps up to ``s`` seconds and returns True when asked to stop."""
        self.jobs, self.state, self.clock, self.wait, self.grace = jobs, state, clock, wait, grace
        self.runs: list[tuple[str, dt.datetime, dt.datetime, dt.datetime]] = []

    def run(self, max_runs: int | None = None, until: dt.datetime | None = None) -> None:
        while max_runs is None or len(self.runs) < max_runs:
            now = self.clock()
            if until is not None and now >= until:
                return
            wake = self._run_due(now)
            if max_runs is not None and len(self.runs) >= max_runs:
                return
            pause = 60.0 if wake is None else max(0.0, (wake - self.clock()).total_seconds())
            if until is not None:
                pause = min(pause, max(0.0, (until - self.clock()).total_seconds()))
            if self.wait(min(pause, 3600.0)):
                return

    def _run_due(self, now: dt.datetime) -> dt.datetime | None:
        """Run every job that is due now; the earliest next run time."""
        wake: dt.datetime | None = None
        for job in self.jobs:
            last, pending = self.state.schedule_state(job.name)
            if last is None and pending is None:
                pending = self._first(job, now)
            decision = due(job.trigger, last, now, self.grace, first=pending)
            if decision.fire_time is not None:
                last = decision.fire_time
                if decision.run:
                    self._run(job, decision.fire_time)
                else:  # later than the grace time: skipped
                    log.warning(
                        "%s: %d run(s) missed beyond the grace time", job.name, decision.missed
                    )
            nxt = pending if last is None else job.trigger.get_next_fire_time(last, self.clock())
            self.state.save(job.name, last, nxt)
            wake = nxt if wake is None or (nxt is not None and nxt < wake) else wake
        return wake

    @staticmethod
    def _first(job: Job, now: dt.datetime) -> dt.datetime | None:
        """A new job: an interval runs at once, a cron expression at its next time."""
        from apscheduler.triggers.interval import IntervalTrigger

        if isinstance(job.trigger, IntervalTrigger):
            return now
        first: dt.datetime | None = job.trigger.get_next_fire_time(None, now)
        return first

    def _run(self, job: Job, fire_time: dt.datetime) -> None:
        started = self.clock()
        try:
            summary = job.run()
        except Exception as exc:  # one failed run must not stop the schedule
            log.exception("%s: the run failed", job.name)
            summary = {"error": str(exc)}
        finished = self.clock()
        self.runs.append((job.name, fire_time, started, finished))
        nxt = job.trigger.get_next_fire_time(fire_time, finished)
        log.info(
            "%s: %s in %.1f s; next run %s",
            job.name,
            _line(summary),
            (finished - started).total_seconds(),
            nxt and nxt.isoformat(),
        )


STATEMENT_COUNTS = ("new", "changed", "removed", "failed", "flapping")


def _line(summary: dict[str, Any]) -> str:
    """A run's log line: statements counted once each (a sync's counts also hold its kinds)."""
    counts = summary.get("counts", {})
    parts = [f"{counts[k]} {k}" for k in STATEMENT_COUNTS if counts.get(k)]
    if summary.get("error"):
        parts.append(f"error: {summary['error']}")
    return ", ".join(parts) or "no change"


class Stop:
    """A stop flag set by SIGINT/SIGTERM: the running sync finishes its current statements."""

    def __init__(self) -> None:
        self.event = threading.Event()

    def __call__(self) -> bool:
        return self.event.is_set()

    def wait(self, seconds: float) -> bool:
        return self.event.wait(seconds)
