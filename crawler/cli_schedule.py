"""``statements schedule`` (the foreground scheduler) and ``statements status``."""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import json
import logging
import signal
from pathlib import Path
from typing import Any

from crawler.cli_args import count, duration
from crawler.cli_crawl import sources_for
from crawler.cli_sync import fetch_settings
from crawler.config import ArchiveConfig, load_config
from crawler.errors import SourceError
from crawler.jobs import run_sync
from crawler.schedule import Job, Scheduler, Stop, make_trigger, parse_duration
from crawler.source import Schedule, Source
from crawler.sync import SyncOptions
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

    def __init__(self, root: Path):
        self.root = root

    def schedule_state(self, job: str) -> tuple[dt.datetime | None, dt.datetime | None]:
        with Archive(self.root) as archive:
            last, nxt = archive.index.schedule_state(job)
        return _when(last), _when(nxt)

    def save(self, job: str, last: dt.datetime | None, nxt: dt.datetime | None) -> None:
        with Archive(self.root) as archive, archive.index.transaction():
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
    config = load_config(root)
    sources = [
        s
        for s in sources_for(args).values()
        if s.enabled and (not args.sources or s.name in args.sources)
    ]
    if args.sources and len(sources) != len(set(args.sources)):
        raise SourceError(f"unknown source among {', '.join(args.sources)}")
    Archive(root).close()  # create the archive and its index before the first run
    stop = Stop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.event.set())
    grace = parse_duration(args.grace)
    jobs = [_job(source, root, config, args, stop) for source in sources]
    logging.getLogger("crawler.schedule").setLevel(logging.INFO)  # one line per run
    log.warning("scheduling %s into %s", ", ".join(j.name for j in jobs), root)
    Scheduler(jobs, state=IndexState(root), clock=utc_now, wait=stop.wait, grace=grace).run()
    log.warning("stopped")
    return 0


def _job(
    source: Source, root: Path, config: ArchiveConfig, args: argparse.Namespace, stop: Stop
) -> Job:
    schedule = schedule_for(source, config, args)
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
        return {"counts": dict(report.counts) if report else {}}

    return Job(source.name, trigger, run)


def cmd_status(args: argparse.Namespace) -> int:
    root = Path(args.archive)
    config = load_config(root)
    rows: list[dict[str, Any]] = []
    with Archive(root, create=False) as archive:
        for source in sources_for(args).values():
            try:
                schedule = schedule_for(source, config, args)
                when = schedule.cron or f"every {schedule.every}"
            except SourceError:
                when = "not scheduled"
            last = archive.index.last_run(source.name)
            _, nxt = archive.index.schedule_state(source.name)
            run = None
            if last is not None:
                started, finished, ok, summary = last
                run = {
                    "started": started,
                    "finished": finished,
                    "ok": ok,
                    "summary": json.loads(summary),
                }
            rows.append({"source": source.name, "schedule": when, "last_run": run, "next_run": nxt})
        total = archive.index.count_statements()
    if args.json:
        print(json.dumps({"archive": str(root), "statements": total, "sources": rows}, indent=2))
        return 0
    print(f"{root}: {total} statements")
    for row in rows:
        print(
            f"{row['source']:14} {row['schedule']:22} {_last(row['last_run'])}; "
            f"next run {row['next_run'] or '-'}"
        )
    return 0


def _last(run: dict[str, Any] | None) -> str:
    if run is None:
        return "never run"
    counts = run["summary"].get("counts", {})
    done = ", ".join(f"{n} {k}" for k, n in counts.items()) or "no change"
    return f"last run {run['started']} {'ok' if run['ok'] else 'FAILED'} ({done})"
