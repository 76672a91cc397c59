"""``statements sync``: the main job, as a thin adapter over :func:`crawler.api.sync`.

Ctrl-C asks the run to stop: no new request starts, what was fetched is recorded, and the command
says how many statements it saved and exits 130. A second Ctrl-C aborts at once (the journal keeps
the archive whole). The summary is a table of statements (not of kinds) that fits the terminal,
80 columns included, then the changed statements by name, up to :data:`LISTED`.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from crawler.api import choose_sources, sync
from crawler.cli.args import count
from crawler.cli.common import (
    add_wait,
    event_json,
    named_sources,
    parse_since,
    sources_for,
)
from crawler.errors import Interrupted
from crawler.jobs import RunResult
from crawler.schedule import Stop
from crawler.source import Source
from crawler.syncer import SyncReport
from storage.archive import Recorded, utc_now

LISTED = 20  # changed statements named in the summary; --json has them all
NEW_LISTED = 5  # new statements are named when no more than this


def add_command(
    sub: Any, common: argparse.ArgumentParser, crawling: argparse.ArgumentParser
) -> None:
    p = sub.add_parser(
        "sync",
        parents=[common, crawling],
        help="bring the archive up to date with its sources",
        description="Discover, fetch only what changed, record revisions and change events.",
    )
    p.add_argument("sources", nargs="*", metavar="SOURCE", help="default: every enabled source")
    p.add_argument(
        "--full",
        action="store_true",
        help="walk everything and re-check every known statement (catches silent edits)",
    )
    p.add_argument(
        "--since",
        metavar="WHEN",
        help="only statements published since WHEN (a date, or an age: 7d)",
    )
    p.add_argument(
        "--audit",
        type=count(0),
        default=0,
        metavar="N",
        help="also re-check the N least recently checked statements",
    )
    p.add_argument("--dry-run", action="store_true", help="fetch and report, write nothing")
    p.add_argument(
        "--confirm-removals",
        action="store_true",
        help="mark statements removed even when more than the source's max_removed_share "
        "(default 20%%) answer 404/410 at once",
    )
    add_wait(p, 0.0)
    p.add_argument(
        "--commit", action="store_true", help="make a git commit in the archive when files changed"
    )
    p.add_argument("--json", action="store_true", help="print the summary as one JSON object")
    p.set_defaults(handler=cmd_sync)


def cmd_sync(args: argparse.Namespace) -> int:
    sources = _chosen(args)
    since = None if args.since is None else parse_since(args.since, utc_now())
    with _interruptible() as stop, _progress(args) as progress_for:
        result = sync(  # the Python API's sync: one code path
            Path(args.archive),
            sources,
            full=args.full,
            since=since,
            audit=args.audit,
            dry_run=args.dry_run,
            base_url=args.base_url,
            confirm_removals=args.confirm_removals,
            commit=args.commit,
            rate=args.rate,
            concurrency=args.concurrency,
            user_agent=args.user_agent,
            index=args.index,
            wait=args.wait,
            stop=stop,
            progress_for=progress_for,
        )
    result.wait_for_deliveries(15.0)  # webhooks get a little time; a dead receiver is logged
    if args.json:
        print(json.dumps(_as_json(result, args, stop()), indent=2, default=str))
    else:
        _print_summary(result)
    _print_held(result)
    if stop():
        raise Interrupted(
            f"interrupted: saved {result.saved} statements; run the same command again to finish"
        )
    return result.exit_code


@contextmanager
def _interruptible() -> Iterator[Stop]:
    """The first Ctrl-C sets the stop flag; the second raises KeyboardInterrupt at once."""
    stop = Stop()
    if threading.current_thread() is not threading.main_thread():
        yield stop
        return

    def first(signum: int, frame: object) -> None:
        stop.event.set()
        signal.signal(signal.SIGINT, signal.default_int_handler)
        print(
            "statements: stopping: recording what was fetched (Ctrl-C again to abort at once)",
            file=sys.stderr,
        )

    previous = signal.signal(signal.SIGINT, first)
    try:
        yield stop
    finally:
        signal.signal(signal.SIGINT, previous)


def _chosen(args: argparse.Namespace) -> list[Source]:
    sources = sources_for(args)
    if args.sources:
        return named_sources(sources, args.sources)  # an unknown name is a usage error
    return choose_sources(sources, None)  # every enabled source; none at all is an error


PHASES = {
    "discover": "discovering",
    "fetch": "fetching",
    "convert": "converting",
    "record": "recording",
}


@contextmanager
def _progress(args: argparse.Namespace) -> Iterator[Any]:
    """A rich progress bar per source on a terminal, gone when its source is done (or the run
    ends, however it ends); nothing off a terminal."""
    if args.json or not sys.stderr.isatty():
        yield None
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    bar = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        console=Console(stderr=True),
        transient=True,
    )

    def for_source(name: str) -> Any:
        task = bar.add_task(f"{name}: discovering", total=None)

        def update(phase: str, done: int, total: int | None) -> None:
            if phase == "done":
                bar.remove_task(task)
                return
            label = f"{name}: {PHASES.get(phase, phase)}"
            bar.update(task, description=label, completed=done, total=total or None)

        return update

    bar.start()
    try:
        yield for_source
    finally:
        bar.stop()


def _as_json(result: RunResult, args: argparse.Namespace, interrupted: bool) -> dict[str, Any]:
    reports = result.reports
    return {
        "archive": args.archive,
        "dry_run": args.dry_run,
        "adopted": result.adopted,
        "exit": result.exit_code,  # the run's; an interrupted one exits 130
        "interrupted": interrupted,
        "saved": result.saved,
        "broken": result.broken,
        "commit": result.commit,
        "sources": [
            {
                "source": r.source,
                "discovered": r.discovered,
                "fetched": r.planned,
                "counts": dict(r.counts),
                "requests": r.requests,
                "bytes": r.bytes,
                "seconds": round(r.seconds, 3),
                "failures": [{"url": u, "reason": why} for u, why in r.failures],
                "notes": r.notes,
                "warnings": r.warnings,
                "held_removals": r.held,
                "events": [event_json(e) for e in r.events],
            }
            for r in reports
        ],
    }


def _print_summary(result: RunResult) -> None:
    reports, broken = result.reports, result.broken
    if result.adopted:
        print(f"adopted {result.adopted} statements already in the folder (indexed in place)")
    _print_failures(reports)
    for message in broken:
        print(f"statements: {message}", file=sys.stderr)
    if not reports:
        return
    from rich import box
    from rich.console import Console
    from rich.table import Table

    console = Console(highlight=False, markup=False)  # titles may hold [brackets]
    table = Table(
        title="statements sync" + (" (dry run: nothing written)" if reports[0].dry_run else ""),
        box=box.SIMPLE_HEAD,
        show_edge=False,
    )
    columns = ("source", "new", "changed", "unchanged", "304", "removed", "failed", "flapping")
    for column in columns:
        table.add_column(column, justify="left" if column == "source" else "right")
    for r in reports:
        c = r.counts
        values = (c["new"], c["changed"], c["unchanged"], c["not_modified"], c["removed"])
        table.add_row(r.source, *map(str, values), str(c["failed"]), str(c["flapping"]))
    console.print(table)
    for r in reports:
        requests = f"{r.requests} request" + ("" if r.requests == 1 else "s")
        console.print(f"{r.source}: {requests}, {_size(r.bytes)}, {r.seconds:.1f} s")
    _print_changed(console, [e for r in reports for e in r.events if not e.flap])
    for r in reports:
        for note in r.notes:
            console.print(f"{r.source}: {note}")
        for warning in r.warnings:
            console.print(f"{r.source}: warning: {warning}")


def _print_failures(reports: list[SyncReport], limit: int = 10) -> None:
    """One line per failure on stderr, up to ``limit``."""
    failures = [(r.source, where, why) for r in reports for where, why in r.failures]
    for source, where, why in failures[:limit]:
        line = f"{source}: {why}" if where == "discovery" else f"failed {where}: {why}"
        print(f"statements: {line}", file=sys.stderr)
    if len(failures) > limit:
        more = len(failures) - limit
        print(f"statements: and {more} more failures (see --json)", file=sys.stderr)


def _print_changed(console: Any, events: list[Recorded]) -> None:
    """The statements this run changed: kinds, title and path, up to :data:`LISTED`; new ones
    too when they are few (a first sync's hundreds are a count, not a list)."""
    from rich.table import Table
    from rich.text import Text

    changed = [e for e in events if "new" not in e.kinds]
    new = [e for e in events if "new" in e.kinds]
    named = changed[:LISTED] + (new if len(new) <= NEW_LISTED else [])
    if named:
        grid = Table.grid(padding=(0, 2))
        grid.add_column(no_wrap=True)
        grid.add_column()
        for e in named[:LISTED]:
            grid.add_row(" ".join(e.kinds), Text(e.title))
            grid.add_row("", Text(e.path, style="dim", overflow="fold"))
        console.print(grid)
    more = len(changed) - len(changed[:LISTED]) + max(0, len(named) - LISTED)
    if more:
        console.print(f"and {more} more (see 'statements changes' or --json)")
    if len(new) > NEW_LISTED:
        console.print(f"{len(new)} new statements (see 'statements changes --kind new')")


def _print_held(result: RunResult) -> None:
    for report in result.reports:
        if report.suspicion:
            print(f"statements: {report.source}: {report.suspicion}", file=sys.stderr)


def _size(count: int) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if count < 1000:
            return f"{count:.0f} {unit}"
        count /= 1000  # type: ignore[assignment]
    return f"{count:.0f} TB"
