"""The archive commands of the CLI: import, history, show, diff, changes."""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from crawler.cli.args import count, revision
from crawler.cli.common import add_wait, event_json, parse_since, parse_until, plural
from crawler.cli.common import open_archive as _open
from crawler.cli.common import print_json as _print_json
from storage import diff as wdiff
from storage.archive import STATE_DIR, Archive, stamp, utc_now
from storage.change import declared_sentences
from storage.errors import RevisionError
from storage.importer import import_dir
from storage.index import EventFilter, EventRow, LinkRow, StatementRow
from storage.links import CORRECTION
from storage.lock import archive_lock
from storage.verify import verify

#: ``statements changes`` lists at most this many events unless told otherwise.
CHANGES_LIMIT = 50


def add_commands(sub: Any, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser("import", parents=[common], help="index a folder of archive files")
    p.add_argument("folder", metavar="DIR", help="a folder of statement files (or the archive)")
    add_wait(p, 0.0)
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.set_defaults(handler=cmd_import)

    p = sub.add_parser("verify", parents=[common], help="check that files and index agree")
    p.add_argument(
        "--repair",
        action="store_true",
        help="restore files from the index, index stray statement files",
    )
    add_wait(p, 5.0)
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=cmd_verify)

    p = sub.add_parser(
        "reformat",
        parents=[common],
        help="rewrite files whose statements a sync or import found rendered anew",
        description="A file written by an older recipe that differs from today's rendering only "
        "in presentation (same visible content, same front-matter values) is not rewritten by "
        "sync or import; this rewrites it, recording a 'reformatted' revision (never alerted).",
    )
    p.add_argument("targets", nargs="*", metavar="TARGET", help="default: every such statement")
    p.add_argument("--dry-run", action="store_true", help="list them, write nothing")
    add_wait(p, 0.0)
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=cmd_reformat)

    p = sub.add_parser("history", parents=[common], help="list a statement's revisions")
    p.add_argument("target", metavar="TARGET", help="URL, archive path or unique slug prefix")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=cmd_history)

    p = sub.add_parser("show", parents=[common], help="print a revision of a statement")
    p.add_argument("target", metavar="TARGET")
    p.add_argument(
        "--rev", type=revision, help="revision number (default: the latest; -1 the one before)"
    )
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=cmd_show)

    p = sub.add_parser("diff", parents=[common], help="what changed between two revisions")
    p.add_argument("target", metavar="TARGET")
    p.add_argument(
        "--from", dest="from_rev", type=revision, help="older revision (default: to - 1)"
    )
    p.add_argument(
        "--to", dest="to_rev", type=revision, help="newer revision (default: the latest)"
    )
    p.add_argument("--format", choices=("word", "unified", "json"), default="word")
    p.add_argument("--context", type=count(0), default=8, help="words of context around a change")
    p.add_argument("--color", choices=("auto", "always", "never"), default="auto")
    p.set_defaults(handler=cmd_diff)

    p = sub.add_parser("changes", parents=[common], help="list change events, newest first")
    p.add_argument("--since", metavar="WHEN", help="a date, a time, or an age such as 7d or 12h")
    p.add_argument(
        "--until", metavar="WHEN", help="events before WHEN (a date includes that whole day)"
    )
    p.add_argument(
        "--source", action="append", default=[], metavar="SOURCE", help="only this source's"
    )
    p.add_argument(
        "--kind",
        action="append",
        default=[],
        choices=wdiff.KINDS,
        metavar="KIND",
        help="only events of this kind (repeat for any of several): " + ", ".join(wdiff.KINDS),
    )
    p.add_argument(
        "--limit",
        type=count(0),
        default=CHANGES_LIMIT,
        metavar="N",
        help=f"at most N events (default {CHANGES_LIMIT}; 0: all)",
    )
    p.add_argument(
        "--all",
        action="store_true",
        help="every flip-back of a flapping page (A -> B -> A ...), not only the latest",
    )
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=cmd_changes)


# -- import -----------------------------------------------------------------------------------


def cmd_import(args: argparse.Namespace) -> int:
    with (
        _open(args, create=True) as archive,
        archive_lock(archive.root / STATE_DIR, wait=args.wait),
        _progress("importing", args.json) as progress,
    ):
        archive.recover()
        report = import_dir(archive, Path(args.folder), progress=progress)
    counts = {
        "folder": report.folder,
        "archive": str(archive.root),
        "adopted_in_place": report.adopted,
        "files": report.files,
        "new": report.new,
        "revised": report.revised,
        "unchanged": report.unchanged,
        "reformatted": report.reformatted,
        "ignored": report.ignored,
        "problems": [{"path": p.path, "reason": p.reason} for p in report.problems],
        "seconds": round(report.seconds, 3),
        "moved": report.moved,
    }
    if args.json:
        counts["events"] = [event_json(e) for e in report.events]
        _print_json(counts)
    else:
        for problem in report.problems:
            print(f"statements: skipped {problem.path}: {problem.reason}", file=sys.stderr)
        how = "adopted in place" if report.adopted else f"into {archive.root}"
        reformatted = (
            f" {report.reformatted} reformatted (not rewritten: see 'statements reformat'),"
            if report.reformatted
            else ""
        )
        ignored = f" {len(report.ignored)} not statements," if report.ignored else ""
        if report.moved:
            print(f"moved the history of {plural(report.moved, 'statement')} into the index")
        print(
            f"{report.files} files from {report.folder} ({how}): {report.new} new,"
            f" {report.revised} revised, {report.unchanged} unchanged,{reformatted}{ignored}"
            f" {len(report.problems)} skipped, {report.seconds:.1f} s"
        )
    return 1 if report.problems else 0


@contextmanager
def _progress(label: str, quiet: bool) -> Iterator[Any]:
    """A rich progress bar on a terminal; nothing otherwise."""
    if quiet or not sys.stderr.isatty():
        yield None
        return
    from rich.progress import Progress

    with Progress(transient=True) as bar:
        task = bar.add_task(label, total=None)

        def update(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        yield update


def cmd_verify(args: argparse.Namespace) -> int:
    with _open(args) as archive, archive_lock(archive.root / STATE_DIR, wait=args.wait):
        report = verify(archive, repair=args.repair)
    if args.json:
        _print_json(
            {
                "statements": report.statements,
                "files": report.files,
                "recovered": report.recovered,
                "clean": report.clean,
                "problems": [vars(p) for p in report.problems],
                "ignored": report.ignored,
            }
        )
    else:
        for p in report.problems:
            state = "repaired" if p.repaired else "PROBLEM"
            print(f"{state}: {p.path}: {p.what}: {p.detail}")
        unmended = sum(not p.repaired for p in report.problems)
        verdict = "clean" if report.clean else plural(unmended, "problem")
        ignored = f"; {plural(len(report.ignored), 'other file')} ignored" if report.ignored else ""
        counted = f"{plural(report.statements, 'statement')}, {plural(report.files, 'file')}"
        print(f"{counted}: {verdict}{ignored}")
    return 0 if report.clean else 1


# -- reformat ---------------------------------------------------------------------------------


def cmd_reformat(args: argparse.Namespace) -> int:
    with _open(args) as archive, archive_lock(archive.root / STATE_DIR, wait=args.wait):
        archive.recover()
        pending = set(archive.index.pending_reformat_ids())
        if args.targets:
            rows = [archive.resolve(target) for target in args.targets]
        else:
            rows = [archive.index.by_id(i) for i in sorted(pending)]
        done: list[dict[str, Any]] = []
        for row in rows:
            if row.id not in pending:
                continue
            if args.dry_run:
                done.append({**_statement_json(row), "to_rev": None})
                continue
            with archive.batch():
                recorded = archive.reformat(row)
            if recorded is not None:
                done.append({**_statement_json(row), "to_rev": recorded.to_rev})
    if args.json:
        _print_json({"dry_run": args.dry_run, "reformatted": done})
        return 0
    for item in done:
        print(item["path"])
    verb = "would rewrite" if args.dry_run else "rewrote"
    print(f"{verb} {len(done)} file{'s' if len(done) != 1 else ''} in today's rendering")
    return 0


# -- history and show -------------------------------------------------------------------------


def cmd_history(args: argparse.Namespace) -> int:
    with _open(args) as archive:
        row = archive.resolve(args.target)
        revisions = archive.index.revisions(row.id)
        events = archive.index.events(statement_id=row.id)
        urls = archive.index.urls_of(row.id)
        successor = _replaced_by(archive, row)
        links = _links(archive, row)
    kinds = {e.to_rev: e.kinds for e in events if e.to_rev is not None}
    said = {e.to_rev: list(declared_sentences(e.detail)) for e in events if e.to_rev is not None}
    if args.json:
        _print_json(
            {
                **_statement_json(row),
                "stable_id": row.stable_id,
                "urls": urls,
                "replaced_by": None if successor is None else _statement_json(successor),
                "links": [
                    {
                        "relation": relation,
                        "statement": _statement_json(other),
                        "basis": link.basis,
                        "key": link.key,
                        "linked_at": link.linked_at,
                    }
                    for relation, other, link in links
                ],
                "revisions": [
                    {
                        "number": r.number,
                        "seen_at": r.seen_at,
                        "kinds": list(kinds.get(r.number, ())),
                        "url": r.url,
                        "title": r.title,
                        "modified_time": r.modified_time,
                        "origin": r.origin,
                        "content_hash": r.content_hash,
                    }
                    for r in revisions
                ],
                "events": [_event_row_json(e) for e in events],
            }
        )
        return 0
    print(row.title)
    print(f"{row.url}\n{row.path}  ({row.status})")
    if row.stable_id is not None:
        print(f"  id {row.stable_id}, as {row.source} names it")
    for url in urls:
        if url != row.url:
            print(f"  formerly {url}")
    for e in events:
        if old := e.detail.get("replaces"):
            print(f"  replaces {old.get('title')}  ({old.get('path')}), on {e.at}")
    if successor is not None:
        print(f"  replaced by {successor.title}  ({successor.path})")
    for relation, other, link in links:
        print(f"  {relation.replace('_', ' ')} {other.title}  ({other.path}), {link.key}")
    print(f"{'rev':>4}  {'seen':25}  {'kinds':24}  origin")
    for r in revisions:
        print(f"{r.number:>4}  {r.seen_at:25}  {' '.join(kinds.get(r.number, ())):24}  {r.origin}")
        for sentence in said.get(r.number, ()):
            print(f"{'':6}{sentence}")
    for e in events:
        if e.to_rev is None:
            why = e.detail.get("why") or " ".join(declared_sentences(e.detail))
            print(f"{'-':>4}  {e.at:25}  {' '.join(e.kinds):24}  {why}")
    return 0


def _links(archive: Archive, row: StatementRow) -> list[tuple[str, StatementRow, LinkRow]]:
    """The statements linked to this one (storage.links), each with how it relates to it."""
    found = []
    for link in archive.index.links_of(row.id):
        first = link.website_id == row.id
        other = archive.index.by_id(link.official_id if first else link.website_id)
        if link.basis == CORRECTION:
            relation = "corrected_by" if first else "corrects"
        else:
            relation = "official_text" if first else "website_text"
        found.append((relation, other, link))
    return found


def _replaced_by(archive: Archive, row: StatementRow) -> StatementRow | None:
    """The statement that took a replaced statement's URL over."""
    if row.status != "replaced":
        return None
    return archive.index.successor(row.id)


def _statement_json(row: StatementRow) -> dict[str, Any]:
    return {
        "url": row.url,
        "path": row.path,
        "title": row.title,
        "status": row.status,
        "head": row.head,
        "published_time": row.published_time,
    }


def _event_row_json(event: EventRow) -> dict[str, Any]:
    from storage.event import event_json  # the one shape of an event

    return event_json(event)


def cmd_show(args: argparse.Namespace) -> int:
    with _open(args) as archive:
        row = archive.resolve(args.target)
        revision = archive.revision(row, args.rev)
    if args.json:
        _print_json({**_statement_json(row), "number": revision.number, "text": revision.text})
    else:
        sys.stdout.write(revision.text)
    return 0


# -- diff -------------------------------------------------------------------------------------


def cmd_diff(args: argparse.Namespace) -> int:
    with _open(args) as archive:
        row = archive.resolve(args.target)
        new = archive.revision(row, args.to_rev)
        replaced = _replacement(archive, row, new.number, args.from_rev)
        if replaced is not None:
            return _print_replaced(args, row, *replaced)
        if args.from_rev is None and new.number <= 1:
            raise RevisionError("has only one revision: nothing to compare", where=row.url)
        old = archive.revision(row, new.number - 1 if args.from_rev is None else args.from_rev)
        before, after = archive.statement(old), archive.statement(new)
        recorded = _recorded_kinds(archive, row, old.number, new.number)
    if args.format == "unified":
        sys.stdout.write(
            wdiff.unified(old.text, new.text, f"rev {old.number}", f"rev {new.number}")
        )
        return 0
    from storage.change import compare  # the change model and its renderers

    change = compare(before, after, recorded or None)
    if args.format == "json":
        revs = {"from_rev": old.number, "to_rev": new.number}
        _print_json({**_statement_json(row), **revs, **change.as_json(args.context)})
        return 0
    style = wdiff.ANSI if _colour(args.color) else wdiff.PLAIN
    print(f"{row.title}\n{row.url}")
    print(
        f"revision {old.number} ({old.seen_at}) -> {new.number} ({new.seen_at}): "
        f"{' '.join(change.kinds) or 'no change'}"
    )
    for line in change.terminal(args.context, style):
        print(line)
    return 0


def _recorded_kinds(archive: Archive, row: StatementRow, old: int, new: int) -> tuple[str, ...]:
    """The kinds the event of this step recorded (``silent``, ``restored`` are known only
    there); none when the two revisions are not one step apart."""
    if new != old + 1:
        return ()
    events = archive.index.events(statement_id=row.id)
    return next((e.kinds for e in events if e.from_rev == old and e.to_rev == new), ())


def _replacement(
    archive: Archive, row: StatementRow, number: int, from_rev: int | None
) -> tuple[EventRow, StatementRow] | None:
    """The ``replaced`` event of a statement's first revision, and the statement it replaced."""
    if number != 1 or from_rev is not None:
        return None
    for event in archive.index.events(statement_id=row.id, kinds=["replaced"]):
        old = event.detail.get("replaces") or {}
        if isinstance(old.get("id"), int):
            return event, archive.index.by_id(old["id"])
    return None


def _print_replaced(
    args: argparse.Namespace, row: StatementRow, event: EventRow, old: StatementRow
) -> int:
    if args.format == "json":
        _print_json(
            {
                **_statement_json(row),
                "kinds": list(event.kinds),
                "at": event.at,
                "replaces": _statement_json(old),
            }
        )
        return 0
    print(f"{row.url}\nreplaced on {event.at}: a different document now has this URL")
    print(f"  before: {old.title}\n          {old.path}  ({old.status})")
    print(f"  now:    {row.title}\n          {row.path}")
    print("no word diff between different documents: see 'statements show' for either")
    return 0


def _colour(choice: str) -> bool:
    if choice != "auto":
        return choice == "always"
    return sys.stdout.isatty() and "NO_COLOR" not in os.environ


# -- changes ----------------------------------------------------------------------------------


def changes_filter(args: argparse.Namespace, now: dt.datetime) -> EventFilter:
    """The events ``statements changes`` lists, from its options (a bad value: UsageError)."""
    since = None if args.since is None else stamp(parse_since(args.since, now))
    until = None if args.until is None else stamp(parse_until(args.until, now))
    return EventFilter(
        since=since, until=until, kinds=args.kind, sources=args.source, flaps=args.all
    )


def cmd_changes(args: argparse.Namespace) -> int:
    where = changes_filter(args, utc_now())
    with _open(args) as archive:
        events = archive.index.events(where, limit=args.limit or None)
        total = len(events)
        if args.limit and total == args.limit:
            total = archive.index.count_events(where)
    if args.json:
        _print_json([_event_row_json(e) for e in events])
    else:
        for e in events:
            revs = f"{e.from_rev or '-'}->{e.to_rev or '-'}"
            print(f"{e.at}  {' '.join(e.kinds):24}  {revs:>7}  {e.title}\n{'':47}{e.path}")
            for note in _event_notes(e, args.all):
                print(f"{'':47}{note}")
        if not events:
            print("no change events" + (f" since {where.since}" if where.since else ""))
    if total > len(events):
        print(
            f"statements: showing the latest {len(events)} of {total} events; --limit 0 shows all",
            file=sys.stderr,
        )
    return 0


def _event_notes(event: EventRow, every_flip: bool) -> Iterator[str]:
    """What a reader must know beside an event's kinds: it was undone, or it undid one."""
    detail = event.detail
    yield from declared_sentences(detail)
    if "reverted" in event.kinds:
        yield (
            f"says again what revision {detail.get('back_to')} said: undoes revision"
            f" {detail.get('reverts')}, seen {detail.get('reverts_seen')}"
        )
    if event.flips > 1 and not every_flip:
        yield f"flapping: the latest of {event.flips} flip-backs in a row (--all shows each)"
    if event.reverted_at:
        yield f"reverted {event.reverted_at}"
