"""``statements sync``: the main job, as a thin adapter over :class:`crawler.sync.Syncer`."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from crawler.cli_archive import add_wait, event_json, parse_since
from crawler.cli_crawl import sources_for
from crawler.config import load_config
from crawler.errors import SourceError
from crawler.jobs import FetchSettings, RunResult, run_sync
from crawler.source import Source
from crawler.sync import SyncOptions
from storage.archive import utc_now

CHANGE_KINDS = (
    "updated",
    "retitled",
    "metadata",
    "moved",
    "replaced",
    "reformatted",
    "silent",
    "restored",
)


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
    p.add_argument("--since", metavar="DATE", help="only statements published since then")
    p.add_argument(
        "--audit",
        type=int,
        default=0,
        metavar="N",
        help="also re-check the N least recently checked statements",
    )
    p.add_argument("--dry-run", action="store_true", help="fetch and report, write nothing")
    add_wait(p, 0.0)
    p.add_argument(
        "--commit", action="store_true", help="make a git commit in the archive when files changed"
    )
    p.add_argument("--json", action="store_true", help="print the summary as one JSON object")
    p.set_defaults(handler=cmd_sync)


def cmd_sync(args: argparse.Namespace) -> int:
    sources = _chosen(args)
    options = SyncOptions(
        full=args.full,
        since=None if args.since is None else parse_since(args.since, utc_now()),
        dry_run=args.dry_run,
        audit=args.audit,
    )
    root = Path(args.archive)
    result = run_sync(
        root,
        sources,
        options,
        fetch_settings(args),
        config=load_config(root),
        commit=args.commit,
        wait=args.wait,
        progress_for=_progress_for(args),
    )
    result.wait_for_deliveries(15.0)  # webhooks get a little time; a dead receiver is logged
    if args.json:
        print(json.dumps(_as_json(result, args), indent=2, default=str))
    else:
        _print_summary(result)
    return result.exit_code


def fetch_settings(args: argparse.Namespace) -> FetchSettings:
    return FetchSettings(args.base_url, args.rate, args.concurrency, args.user_agent)


def _chosen(args: argparse.Namespace) -> list[Source]:
    sources = sources_for(args)
    if not args.sources:
        return [s for s in sources.values() if s.enabled]
    unknown = [name for name in args.sources if name not in sources]
    if unknown:
        raise SourceError(f"no source named {unknown[0]!r}", hint=f"known: {', '.join(sources)}")
    return [sources[name] for name in args.sources]


def _progress_for(args: argparse.Namespace) -> Any:
    """A rich progress bar per source on a terminal; nothing otherwise."""
    if args.json or not sys.stderr.isatty():
        return None
    from rich.progress import Progress

    bar = Progress(transient=True)

    def for_source(name: str) -> Any:
        bar.start()
        task = bar.add_task(f"{name}: discovering", total=None)

        def update(phase: str, done: int, total: int | None) -> None:
            label = f"{name}: {'discovering' if phase == 'discover' else 'fetching and parsing'}"
            bar.update(task, description=label, completed=done, total=total)
            if total is not None and done >= total:
                bar.stop()

        return update

    return for_source


def _as_json(result: RunResult, args: argparse.Namespace) -> dict[str, Any]:
    reports = result.reports
    return {
        "archive": args.archive,
        "dry_run": args.dry_run,
        "adopted": result.adopted,
        "exit": result.exit_code,
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
                "events": [event_json(e) for e in r.events],
            }
            for r in reports
        ],
    }


def _print_summary(result: RunResult) -> None:
    reports, broken = result.reports, result.broken
    if result.adopted:
        print(f"adopted {result.adopted} statements already in the folder (indexed in place)")
    for report in reports:
        for url, why in report.failures:
            print(f"statements: failed {url}: {why}", file=sys.stderr)
    for message in broken:
        print(f"statements: {message}", file=sys.stderr)
    if not reports:
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(
        title="statements sync" + (" (dry run: nothing written)" if reports[0].dry_run else "")
    )
    for column in (
        "source",
        "new",
        "changed",
        "unchanged",
        "304",
        "removed",
        "failed",
        "requests",
        "bytes",
        "seconds",
    ):
        table.add_column(column, justify="left" if column in ("source", "changed") else "right")
    for r in reports:
        c = r.counts
        changed = ", ".join(f"{c[k]} {k}" for k in CHANGE_KINDS if c[k])
        if c["flapping"]:
            changed += f"{', ' if changed else ''}{c['flapping']} flapping"
        table.add_row(
            r.source,
            str(c["new"]),
            changed or "-",
            str(c["unchanged"]),
            str(c["not_modified"]),
            str(c["removed"]),
            str(c["failed"]),
            str(r.requests),
            _size(r.bytes),
            f"{r.seconds:.1f}",
        )
    Console(width=120).print(table)
    for r in reports:
        for note in r.notes:
            print(f"{r.source}: {note}")


def _size(count: int) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if count < 1000:
            return f"{count:.0f} {unit}"
        count /= 1000  # type: ignore[assignment]
    return f"{count:.0f} TB"
