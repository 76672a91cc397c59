"""``statements schedule`` (the foreground scheduler) and ``statements status``.

The scheduler writes the schedule it runs with into the index (``schedule:<source>``, and
``scheduler``: when it started and stopped), so ``status`` shows the schedule in effect, not the
seed's when ``--every``/``--cron`` overrode it, and does not promise a next run that a stopped
scheduler will not make. Normal operation is logged at INFO, one line per run.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import json
import logging
import signal
from pathlib import Path
from typing import Any

from crawler.cli.args import count, duration
from crawler.cli.common import fetch_settings, named_sources, sources_for
from crawler.config import ArchiveConfig, load_config
from crawler.durations import parse_duration
from crawler.errors import SourceError
from crawler.jobs import failure_reason, run_sync
from crawler.schedule import Job, Scheduler, Stop, make_trigger
from crawler.source import Schedule, Source
from crawler.syncer import SyncOptions
from crawler.wpapi import Trust, trust_key
from storage.archive import Archive, stamp, utc_now

log = logging.getLogger(__name__)


def add_commands(
    sub: Any, common: argparse.ArgumentParser, crawling: argparse.ArgumentParser
) -> None:
    p = sub.add_parser(
        "schedule",
        parents=[common, crawling],
        help="keep the archive in sync, in the foreground (Ctrl-C or SIGTERM stops)",
    )
    p.add_argument("sources", nargs="*", metavar="SOURCE", help="default: every enabled source")
    when = p.add_mutually_exclusive_group()
    when.add_argument(
        "--every", type=duration, metavar="DURATION", help="run every DURATION (90s, 30m, 2h)"
    )
    when.add_argument("--cron", metavar="EXPR", help="run at a crontab time ('28 */2 * * *')")
    p.add_argument("--audit", type=count(0), metavar="N", help="re-check N statements per run")
    p.add_argument(
        "--grace",
        type=duration,
        default="1h",
        metavar="DURATION",
        help="a run missed by more than this is skipped, not run late (default 1h)",
    )
    p.add_argument("--commit", action="store_true", help="commit changed files to git each run")
    p.set_defaults(handler=cmd_schedule)

    p = sub.add_parser("status", parents=[common], help="the schedule, last and next runs")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=cmd_status, seeds=[])


class IndexState:
    """The scheduler's run times, kept in the archive's index."""

    def __init__(self, root: Path, index: str | None = None):
        self.root = root
        self.index = index

    def schedule_state(self, job: str) -> tuple[dt.datetime | None, dt.datetime | None]:
        with Archive(self.root, index=self.index) as archive:
            last, nxt = archive.index.schedule_state(job)
        return _when(last), _when(nxt)

    def save(self, job: str, last: dt.datetime | None, nxt: dt.datetime | None) -> None:
        with Archive(self.root, index=self.index) as archive, archive.index.transaction():
            archive.index.set_schedule_state(
                job, None if last is None else stamp(last), None if nxt is None else stamp(nxt)
            )


def _when(text: str | None) -> dt.datetime | None:
    return None if text is None else dt.datetime.fromisoformat(text)


def schedule_for(source: Source, config: ArchiveConfig, args: argparse.Namespace) -> Schedule:
    """The command line's schedule, else the archive's statements.toml, else the seed file's."""
    base = config.schedule.get(source.name, source.schedule)
    if getattr(args, "every", None) or getattr(args, "cron", None):
        base = dataclasses.replace(base, every=args.every or "", cron=args.cron or "")
    if getattr(args, "audit", None) is not None:
        base = dataclasses.replace(base, audit=args.audit)
    if not base.every and not base.cron:
        raise SourceError(
            f"source {source.name!r} has no schedule",
            hint="give --every 2h or --cron, or [schedule] in its seed file",
        )
    return base


def cmd_schedule(args: argparse.Namespace) -> int:
    root = Path(args.archive)
    config = load_config(root, args.index)
    known = sources_for(args)
    sources = named_sources(known, args.sources) if args.sources else enabled(known)
    stop = Stop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.event.set())
    grace = parse_duration(args.grace)
    schedules = {source.name: schedule_for(source, config, args) for source in sources}
    jobs = [_job(source, schedules[source.name], root, config, args, stop) for source in sources]
    for name in ("crawler.schedule", __name__):  # one line per run, whatever -v says
        logger = logging.getLogger(name)
        logger.setLevel(min(logger.getEffectiveLevel(), logging.INFO))
    _save_scheduler(root, config.index, schedules, stopped=False)
    log.info("scheduling %s into %s", ", ".join(j.name for j in jobs), root)
    try:
        state = IndexState(root, config.index or None)
        Scheduler(jobs, state=state, clock=utc_now, wait=stop.wait, grace=grace).run()
    finally:
        _save_scheduler(root, config.index, schedules, stopped=True)
    log.info("stopped")
    return 0


def enabled(sources: dict[str, Source]) -> list[Source]:
    return [s for s in sources.values() if s.enabled]


def _save_scheduler(
    root: Path, locator: str, schedules: dict[str, Schedule], *, stopped: bool
) -> None:
    """What the scheduler runs with, and whether it runs, for ``status``."""
    with Archive(root, index=locator or None) as archive, archive.index.transaction():
        index = archive.index
        now = stamp(utc_now())
        if stopped:
            state = json.loads(index.setting("scheduler") or "{}")
            index.set_setting("scheduler", json.dumps({**state, "stopped": now}))
            return
        index.set_setting("scheduler", json.dumps({"started": now, "stopped": None}))
        for name, schedule in schedules.items():
            index.set_setting(f"schedule:{name}", json.dumps(_schedule_json(schedule)))


def _schedule_json(schedule: Schedule) -> dict[str, Any]:
    return {"every": schedule.every, "cron": schedule.cron, "audit": schedule.audit}


def _describe(schedule: dict[str, Any]) -> str:
    when = f"cron {schedule['cron']}" if schedule.get("cron") else f"every {schedule['every']}"
    return when + (f", audit {schedule['audit']}" if schedule.get("audit") else "")


def _job(
    source: Source,
    schedule: Schedule,
    root: Path,
    config: ArchiveConfig,
    args: argparse.Namespace,
    stop: Stop,
) -> Job:
    trigger = make_trigger(schedule, start=utc_now(), timezone=source.timezone)
    fetch = fetch_settings(args)

    def run() -> dict[str, Any]:
        result = run_sync(
            root,
            [source],
            SyncOptions(audit=schedule.audit),
            fetch,
            config=config,
            commit=args.commit,
            wait=600.0,
            stop=stop,
        )
        if result.broken:
            return {"error": result.broken[0]}
        report = result.reports[0] if result.reports else None
        if report is None:
            return {}
        return {"counts": dict(report.counts), "error": failure_reason(report)}

    return Job(source.name, trigger, run)


def cmd_status(args: argparse.Namespace) -> int:
    root = Path(args.archive)
    config = load_config(root, args.index)
    now = utc_now()
    rows: list[dict[str, Any]] = []
    with Archive(root, create=False, index=config.index or None) as archive:
        index = archive.index
        scheduler = json.loads(index.setting("scheduler") or "{}")
        stopped = bool(scheduler.get("stopped"))  # a stopped scheduler makes no next run
        for source in sources_for(args).values():
            last = index.last_run(source.name)
            if last is None and not source.enabled:
                continue  # synced only by name (enabled = false), and never was: nothing to say
            _, nxt = index.schedule_state(source.name)
            run = None
            if last is not None:
                started, finished, ok, summary = last
                run = {"started": started, "finished": finished, "ok": ok}
                run |= {"summary": json.loads(summary), "reason": _reason(ok, summary)}
            overdue = nxt is not None and not stopped and dt.datetime.fromisoformat(nxt) < now
            rows.append(
                {
                    "source": source.name,
                    "schedule": _in_effect(
                        index.setting(f"schedule:{source.name}"), source, config
                    ),
                    "last_run": run,
                    "next_run": None if overdue or stopped else nxt,
                    "overdue_since": nxt if overdue else None,
                    "audit": _audit_state(index.setting(trust_key(source.name)), source),
                }
            )
        total = index.count_statements()
    if args.json:
        print(
            json.dumps(
                {
                    "archive": str(root),
                    "statements": total,
                    "scheduler": scheduler,
                    "sources": rows,
                },
                indent=2,
            )
        )
        return 0
    print(f"{root}: {total} statements{_scheduler_line(scheduler)}")
    for row in rows:
        print(f"{row['source']}: {row['schedule']}; {_last(row['last_run'])}; {_next(row)}")
        if row["audit"] and row["audit"].startswith("audit by pages"):
            print(f"  {row['audit']}")  # the WordPress API fell back (crawler/wpapi.py)
    return 0


def _audit_state(saved: str | None, source: Source) -> str | None:
    """How the source's audits go, for a source with the WordPress API on (None: off)."""
    if not source.wordpress.api:
        return None
    return Trust.load(saved).describe()


def _in_effect(saved: str | None, source: Source, config: ArchiveConfig) -> str:
    """The schedule the scheduler last ran with, else the one it would run with."""
    if saved is not None:
        return _describe(json.loads(saved))
    try:
        return _describe(_schedule_json(schedule_for(source, config, argparse.Namespace())))
    except SourceError:
        return "not scheduled"


def _reason(ok: bool, summary: str) -> str | None:
    if ok:
        return None
    data = json.loads(summary)
    return data.get("broken") or data.get("reason") or f"{data.get('failed', '?')} failures"


def _scheduler_line(scheduler: dict[str, Any]) -> str:
    if not scheduler:
        return ""
    if scheduler.get("stopped"):
        return f"; scheduler stopped {scheduler['stopped']}"
    return f"; scheduler running since {scheduler['started']}"


def _last(run: dict[str, Any] | None) -> str:
    if run is None:
        return "never run"
    if not run["ok"]:
        return f"last run {run['started']} FAILED: {run['reason']}"
    counts = run["summary"].get("counts", {})
    done = ", ".join(f"{n} {k}" for k, n in counts.items() if n and k != "changed")
    return f"last run {run['started']} ok ({done or 'no change'})"


def _next(row: dict[str, Any]) -> str:
    if row["next_run"]:
        return f"next run {row['next_run']}"
    if row["overdue_since"]:
        return f"no next run (was due {row['overdue_since']}: is the scheduler running?)"
    return "no next run"
