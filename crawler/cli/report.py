"""``statements report``: write the static HTML report of the archive (:mod:`crawler.report`)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from crawler import report
from crawler.cli.common import open_archive, parse_since, plural
from crawler.config import load_config
from storage.archive import stamp, utc_now
from storage.errors import ArchiveError


def add_command(sub: Any, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser(
        "report",
        parents=[common],
        help="write a static HTML report of the changes",
        description="Writes a folder of HTML pages (no server, no JavaScript): recent changes, "
        "one page per changed statement with its word diffs, one per source, and the sources "
        "whose discovery broke. Run again, it rewrites only the pages new changes touched.",
    )
    p.add_argument(
        "--out",
        metavar="DIR",
        help="the output folder (default: [report] out in statements.toml, else <archive>/report)",
    )
    p.add_argument("--since", metavar="WHEN", help="only changes at or after WHEN (date or age)")
    p.add_argument(
        "--source", action="append", default=[], metavar="SOURCE", help="only this source's"
    )
    p.set_defaults(handler=cmd_report)


def cmd_report(args: argparse.Namespace) -> int:
    since = None if args.since is None else stamp(parse_since(args.since, utc_now()))
    with open_archive(args) as archive:
        config = load_config(archive.root).report
        out = Path(args.out) if args.out else report.output_folder(archive, config)
        try:
            done = report.generate(archive, out, since=since, sources=args.source)
        except OSError as exc:
            raise ArchiveError(
                f"cannot write the report: {exc.strerror or exc}",
                where=str(exc.filename or out),
                hint="give --out a folder that can be written",
            ) from None
    how = "whole site" if done.full else "incremental"
    print(
        f"report ({how}): {plural(len(done.written), 'page')} written of"
        f" {len(done.rendered)} rendered, {len(done.removed)} removed; open {out / 'index.html'}"
    )
    return 0
