"""The query commands of the CLI: search, list, export.

``search`` ranks statements by their words (the index's full-text table, every revision or the
latest ones); ``list`` and ``export`` stream the statements a filter selects (source, tag,
status, publication time) straight from an index cursor to stdout or a file, so their memory
stays flat whatever the archive's size. Nothing here writes the archive: a read-only archive
answers them all.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

from crawler.cli.args import count
from crawler.cli.common import open_archive, parse_since, parse_until, print_json
from crawler.errors import UsageError
from storage import export as exporter
from storage.archive import stamp, utc_now
from storage.errors import StatementSyncError
from storage.index import SearchHit, SearchQuery, StatementFilter, StatementRow

#: ``statements search`` shows at most this many statements unless told otherwise.
SEARCH_LIMIT = 20
STATUSES = ("active", "removed", "withdrawn", "replaced")
#: Private-use characters around a matched word while the snippet is cleaned of control
#: characters (hostile text must not drive the terminal), then made bold or «guillemets».
_OPEN, _CLOSE = "\ue000", "\ue001"
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def add_commands(sub: Any, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser(
        "search",
        parents=[common],
        help="full-text search of the statements' titles and bodies",
        description="Statements whose latest revision has every word, best first, with a "
        'snippet. "two words" in quotes is a phrase, word* a prefix; words are matched by '
        "their stem (tariff finds tariffs). --all-revisions: statements that ever said it.",
    )
    p.add_argument("words", nargs="+", metavar="WORDS", help="the words to find")
    p.add_argument(
        "--all-revisions",
        action="store_true",
        help="search every revision ever recorded: which statements ever said it",
    )
    p.add_argument(
        "--raw",
        action="store_true",
        help="WORDS are SQLite FTS5 query syntax (AND, OR, NOT, NEAR, title:...)",
    )
    _selection(p, tags=False, statuses=False)
    p.add_argument(
        "--limit",
        type=count(0),
        default=SEARCH_LIMIT,
        metavar="N",
        help=f"at most N statements (default {SEARCH_LIMIT}; 0: all)",
    )
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=cmd_search)

    p = sub.add_parser("list", parents=[common], help="list statements, newest publication first")
    _selection(p)
    p.add_argument("--json", action="store_true", help="a JSON list, streamed")
    p.set_defaults(handler=cmd_list)

    p = sub.add_parser(
        "export",
        parents=[common],
        help="export statements (or every revision) as CSV, JSON Lines or Parquet",
        description="Streams rows in constant memory; every column of the index's statements "
        "and revisions tables (front_matter and body rebuild the file). Parquet needs the "
        "extra: pip install 'statement-sync[parquet]'.",
    )
    p.add_argument("--format", choices=exporter.FORMATS, default="jsonl")
    p.add_argument(
        "--revisions", action="store_true", help="every revision, not only the latest ones"
    )
    _selection(p)
    p.add_argument(
        "--out", type=Path, metavar="FILE", help="write to FILE (default: stdout; parquet: needed)"
    )
    p.set_defaults(handler=cmd_export)


def _selection(p: argparse.ArgumentParser, *, tags: bool = True, statuses: bool = True) -> None:
    p.add_argument(
        "--source", action="append", default=[], metavar="SOURCE", help="only this source's"
    )
    if tags:
        p.add_argument(
            "--tag", action="append", default=[], metavar="TAG", help="only with this tag"
        )
    if statuses:
        p.add_argument(
            "--status",
            action="append",
            default=[],
            choices=STATUSES,
            help="only statements with this status (repeat for several)",
        )
    p.add_argument("--since", metavar="WHEN", help="published at or after WHEN (date, time, age)")
    p.add_argument(
        "--until", metavar="WHEN", help="published before WHEN (a date includes that whole day)"
    )


def selection(args: argparse.Namespace) -> StatementFilter:
    """The statements the options select (a bad --since/--until: UsageError)."""
    now = utc_now()
    return StatementFilter(
        sources=args.source,
        statuses=getattr(args, "status", ()),
        tags=getattr(args, "tag", ()),
        since=None if args.since is None else stamp(parse_since(args.since, now)),
        until=None if args.until is None else stamp(parse_until(args.until, now)),
    )


# -- search -----------------------------------------------------------------------------------


def cmd_search(args: argparse.Namespace) -> int:
    words = " ".join(args.words)
    query = SearchQuery(words, args.raw, args.all_revisions, selection(args), marks=(_OPEN, _CLOSE))
    if not args.raw and not re.search(r"\w", words):
        raise UsageError("nothing to search for: give words", where="search")
    with open_archive(args) as archive:
        hits = archive.index.search(query, limit=args.limit or None)
        total = len(hits)
        if args.limit and total == args.limit:
            total = archive.index.count_search(query)
    if args.json:
        print_json([_hit_json(hit) for hit in hits])
    else:
        bold = sys.stdout.isatty() and "NO_COLOR" not in os.environ
        for hit in hits:
            _print_hit(hit, args.all_revisions, bold)
        if not hits:
            ever = "ever said" if args.all_revisions else "says"
            print(f"no statement {ever} {words!r}")
    if total > len(hits):
        print(
            f"statements: showing the best {len(hits)} of {total} statements; --limit 0 shows all",
            file=sys.stderr,
        )
    return 0


def _print_hit(hit: SearchHit, every: bool, bold: bool) -> None:
    s = hit.statement
    date = (s.published_time or "")[:10] or "-" * 10
    print(f"{date}  {_clean(s.title)}")
    revs = f"revision {hit.number} of {s.head}"
    if every and len(hit.numbers) > 1:
        revs = f"revisions {', '.join(map(str, hit.numbers))} of {s.head}"
    gone = "; the latest no longer says it" if not hit.latest else ""
    status = "" if s.status == "active" else f"; {s.status}"
    print(f"            {s.path}  ({revs}{status}{gone})")
    marks = ("\x1b[1m", "\x1b[0m") if bold else ("«", "»")
    snippet = _clean(hit.snippet).replace(_OPEN, marks[0]).replace(_CLOSE, marks[1])
    print(f"            {snippet}")


def _clean(text: str) -> str:
    """Text fit for a terminal: no control character of its own."""
    return _CONTROL.sub("\ufffd", text)


def _hit_json(hit: SearchHit) -> dict[str, Any]:
    return {
        **_statement_json(hit.statement),
        "revision": hit.number,
        "revisions": list(hit.numbers),
        "latest": hit.latest,
        "relevance": round(-hit.score, 4),  # bm25, higher is better
        "snippet": hit.snippet.replace(_OPEN, "«").replace(_CLOSE, "»"),
    }


def _statement_json(row: StatementRow) -> dict[str, Any]:
    return {
        "url": row.url,
        "path": row.path,
        "title": row.title,
        "source": row.source,
        "status": row.status,
        "head": row.head,
        "published_time": row.published_time,
        "first_seen": row.first_seen,
        "last_seen": row.last_seen,
    }


# -- list -------------------------------------------------------------------------------------


def cmd_list(args: argparse.Namespace) -> int:
    where = selection(args)
    shown = 0
    with open_archive(args) as archive:
        rows = archive.index.rows(where, newest_first=True)
        if args.json:
            sys.stdout.write("[")
        for statement, _ in rows:  # streamed: one statement at a time
            if args.json:
                sys.stdout.write(",\n" if shown else "\n")
                sys.stdout.write(json.dumps(_statement_json(statement), ensure_ascii=False))
            else:
                date = (statement.published_time or "")[:10] or "-" * 10
                print(f"{date}  {statement.status:9}  {statement.path}  {_clean(statement.title)}")
            shown += 1
    if args.json:
        sys.stdout.write("\n]\n" if shown else "]\n")
    elif not shown:
        print("no statement matches")
    return 0


# -- export -----------------------------------------------------------------------------------


def cmd_export(args: argparse.Namespace) -> int:
    if args.format == "parquet":
        if exporter.parquet_missing():
            raise UsageError(
                "--format parquet needs pyarrow",
                where="export",
                hint="pip install 'statement-sync[parquet]'",
            )
        if args.out is None:
            raise UsageError(
                "--format parquet writes a file", where="export", hint="add --out FILE"
            )
    where = selection(args)
    with open_archive(args) as archive, _output(args.out, binary=args.format == "parquet") as out:
        rows = archive.index.rows(where, every_revision=args.revisions)
        written = exporter.export(rows, args.format, out)
    if args.out is not None:
        noun = "revision" if args.revisions else "statement"
        print(f"{written} {noun}{'s' if written != 1 else ''} -> {args.out}", file=sys.stderr)
    return 0


@contextmanager
def _output(path: Path | None, *, binary: bool) -> Iterator[IO[Any]]:
    """stdout, or a file written whole or not at all (a temporary name, renamed at the end)."""
    if path is None:
        yield sys.stdout.buffer if binary else sys.stdout
        return
    folder = path.parent if str(path.parent) else Path(".")
    if path.is_dir() or not folder.is_dir():
        problem = "is a folder" if path.is_dir() else f"has no folder {str(folder)!r}"
        raise UsageError(f"{problem}: give a file name", where=f"--out {path}")
    try:
        handle, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=folder)
    except OSError as exc:
        raise UsageError(f"cannot write there: {exc.strerror}", where=f"--out {path}") from None
    try:
        if binary:
            with open(handle, "wb") as binary_out:
                yield binary_out
        else:
            with open(handle, "w", encoding="utf-8", newline="") as text_out:
                yield text_out
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # as an ordinary new file, not mkstemp's 0600
        os.replace(tmp, path)
    except OSError as exc:  # a disk full, a file turned folder meanwhile: nothing half-written
        Path(tmp).unlink(missing_ok=True)
        raise StatementSyncError(f"cannot write: {exc.strerror}", where=str(path)) from None
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
