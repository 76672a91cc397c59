"""``statements worker``, ``statements enqueue`` and ``statements team-status``: team mode.

Thin adapters over :mod:`crawler.team` (Procrastinate workers on the index's PostgreSQL
database). Every command refuses the archive's SQLite index in one line, with a hint.
"""

from __future__ import annotations

import argparse
import json
import logging
from pathlib import Path
from typing import Any

from crawler.cli.args import duration, seconds
from crawler.cli.common import fetch_settings, named_sources, print_json, seeds_option, sources_for
from crawler.cli.schedule import enabled, schedule_for
from crawler.config import load_config
from crawler.errors import SourceError
from crawler.source import Schedule, Source
from storage.archive import Archive, stamp, utc_now


def add_commands(
    sub: Any, common: argparse.ArgumentParser, crawling: argparse.ArgumentParser
) -> None:
    p = sub.add_parser(
        "worker",
        parents=[common, crawling],
        help="run a team worker: sync jobs from the queue in the index's PostgreSQL database",
    )
    p.add_argument(
        "sources",
        nargs="*",
        metavar="SOURCE",
        help="the sources whose schedules this worker defers (default: every enabled source)",
    )
    p.add_argument("--once", action="store_true", help="run the queued jobs, then exit")
    p.add_argument(
        "--sweep-every",
        type=duration,
        default="30s",
        metavar="DURATION",
        help="how often stalled jobs of killed workers are queued again (default 30s)",
    )
    p.add_argument(
        "--stalled-after",
        type=seconds,
        default=30.0,
        metavar="S",
        help="a worker silent this long is dead: its job is swept (default 30)",
    )
    p.add_argument(
        "--publish-every",
        type=duration,
        metavar="DURATION",
        help="announce what the workers recorded (feed, git, webhooks, report) this often,"
        " one publish at a time across workers (default: never)",
    )
    p.add_argument("--name", help="the worker's name in the logs")
    p.set_defaults(handler=cmd_worker)

    p = sub.add_parser(
        "enqueue", parents=[common, seeds_option()], help="queue a sync of sources now (team mode)"
    )
    p.add_argument("sources", nargs="*", metavar="SOURCE", help="default: every enabled source")
    p.add_argument(
        "--full", action="store_true", help="sync the whole listing (a backfill), not the news"
    )
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=cmd_enqueue)

    p = sub.add_parser(
        "team-status",
        parents=[common, seeds_option()],
        help="the queue, running jobs, workers and last runs (team mode)",
    )
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=cmd_team_status)


def cmd_worker(args: argparse.Namespace) -> int:
    from crawler import team  # Procrastinate and psycopg: loaded by the team's commands only

    root = Path(args.archive)
    config = load_config(root, args.index)
    locator = team.require_postgres(config.index)
    sources = sources_for(args)
    chosen = named_sources(sources, args.sources) if args.sources else enabled(sources)
    schedules = _schedules(chosen, config)
    crew = team.Team(
        root, config, sources, fetch_settings(args), schedules, stalled_after=args.stalled_after
    )
    logger = logging.getLogger("crawler.team")
    logger.setLevel(min(logger.getEffectiveLevel(), logging.INFO))
    Archive(root, index=locator).close()  # migrates the index once, before any job
    team.run_worker(
        crew,
        locator,
        once=args.once,
        sweep_every=args.sweep_every,
        publish_every=args.publish_every or "",
        name=args.name,
    )
    return 0


def _schedules(sources: list[Source], config: Any) -> dict[str, Schedule]:
    """The schedule of each source that has one (the seeds', or statements.toml's)."""
    found: dict[str, Schedule] = {}
    for source in sources:
        try:
            found[source.name] = schedule_for(source, config, argparse.Namespace())
        except SourceError:
            continue  # not scheduled: synced only when enqueued
    return found


def cmd_enqueue(args: argparse.Namespace) -> int:
    from crawler import team  # Procrastinate and psycopg: loaded by the team's commands only

    config = load_config(Path(args.archive), args.index)
    locator = team.require_postgres(config.index)
    known = sources_for(args)
    chosen = named_sources(known, args.sources) if args.sources else enabled(known)
    queued = team.enqueue(locator, [s.name for s in chosen], full=args.full)
    if args.json:
        print_json(
            {
                "queued": [n for n, q in queued.items() if q],
                "waiting": [n for n, q in queued.items() if not q],
            }
        )
        return 0
    for name, fresh in queued.items():
        print(f"{name}: {'queued' if fresh else 'already waiting in the queue'}")
    return 0


def cmd_team_status(args: argparse.Namespace) -> int:
    from crawler import team  # Procrastinate and psycopg: loaded by the team's commands only

    root = Path(args.archive)
    config = load_config(root, args.index)
    locator = team.require_postgres(config.index)
    state = team.status(locator)
    runs: dict[str, Any] = {}
    with Archive(root, index=locator) as archive:
        for name in sources_for(args):
            last = archive.index.last_run(name)
            if last is not None:
                started, finished, ok, summary = last
                runs[name] = {"started": started, "finished": finished, "ok": ok}
                runs[name]["summary"] = json.loads(summary)
    state["last_runs"] = runs
    now = utc_now()
    state["next_runs"] = {
        name: stamp(when)
        for name, schedule in _schedules(enabled(sources_for(args)), config).items()
        if (when := team.next_run(schedule, name, now)) is not None
    }
    if args.json:
        print_json(state)
        return 0
    queue = ", ".join(f"{n} {s}" for s, n in sorted(state["queue"].items())) or "empty"
    print(f"queue: {queue}")
    print(f"workers: {len(state['workers'])} alive")
    for job in state["running"]:
        print(
            f"  running: job {job['job']} {job['source'] or job['task']} (worker {job['worker']})"
        )
    for name in dict.fromkeys([*runs, *state["next_runs"]]):
        run = runs.get(name)
        said = "never run" if run is None else f"last run {run['started']}"
        said += "" if run is None else (" ok" if run["ok"] else " FAILED")
        upcoming = state["next_runs"].get(name)
        print(f"{name}: {said}" + (f"; next run {upcoming}" if upcoming else "; not scheduled"))
    return 0
