"""The ``statements`` command line: a thin adapter over the library.

``main(argv) -> int`` parses arguments, configures logging, runs one command and turns every
expected failure into a one-line message on stderr and an exit code. This is the one place that
maps exceptions to exit codes; a bad option or argument is a ``UsageError`` (exit 2), whether
argparse finds it or a command's own check does.

====  =========================================================
0     all well
1     some statements or files failed (the rest were saved)
2     usage or configuration error (also: no such statement)
3     a source is broken (discovery found nothing), or a sync held too many removals
4     the archive is locked by another sync
130   interrupted (Ctrl-C); what was fetched is recorded
====  =========================================================
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence

from crawler.arenas import fewer_arenas
from crawler.cli import announce as cli_announce
from crawler.cli import archive as cli_archive
from crawler.cli import compare as cli_compare
from crawler.cli import crawl as cli_crawl
from crawler.cli import query as cli_query
from crawler.cli import report as cli_report
from crawler.cli import schedule as cli_schedule
from crawler.cli import sync as cli_sync
from crawler.cli import team as cli_team
from crawler.cli.args import Parser
from crawler.cli.common import crawl_options
from crawler.errors import DiscoveryError, Interrupted, SourceError, UsageError
from storage.errors import ArchiveError, StatementSyncError
from storage.journal import WriteError
from storage.lock import ArchiveLocked

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_BROKEN = 3
EXIT_LOCKED = 4
EXIT_INTERRUPTED = 130

EXIT_CODES_HELP = """exit codes:
    0  all well
    1  some statements or files failed (the rest were saved)
    2  usage or configuration error, or no such statement
    3  a source is broken (discovery found nothing), or a sync held too many removals
    4  the archive is locked by another sync
  130  interrupted (Ctrl-C); what was fetched is recorded
"""


def default_archive() -> str:
    return os.environ.get("STATEMENTS_ARCHIVE") or "archive"


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog="statements",
        description="Keep a local, versioned archive of official statements in sync.",
        epilog=EXIT_CODES_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("-v", "--verbose", action="count", default=0, help="log more (-vv: debug)")
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--archive",
        default=default_archive(),
        help="the archive folder (default: $STATEMENTS_ARCHIVE, else ./archive)",
    )
    common.add_argument(
        "--index",
        default=None,
        metavar="URL",
        help="where the index is: postgresql://HOST/DB for a shared database (password from"
        " PGPASSWORD or a password file); default: index in statements.toml, else the"
        " archive's own SQLite file",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    cli_archive.add_commands(sub, common)
    cli_compare.add_command(sub, common)
    cli_query.add_commands(sub, common)
    cli_report.add_command(sub, common)
    crawling = crawl_options()
    cli_sync.add_command(sub, common, crawling)
    cli_schedule.add_commands(sub, common, crawling)
    cli_team.add_commands(sub, common, crawling)
    cli_crawl.add_commands(sub, common)
    cli_announce.add_command(sub, common)
    for command in sub.choices.values():  # every command's --help ends with the exit codes
        command.epilog = EXIT_CODES_HELP
        command.formatter_class = argparse.RawDescriptionHelpFormatter
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except UsageError as exc:  # crawler.cli.args.Parser.error: a bad option or argument
        return _fail(exc, EXIT_USAGE)
    except SystemExit as exc:  # --help, --version: argparse has printed what was asked
        return EXIT_OK if exc.code in (0, None) else EXIT_USAGE
    fewer_arenas()  # before any thread starts (crawler/arenas.py)
    level = {0: logging.WARNING, 1: logging.INFO}.get(args.verbose, logging.DEBUG)
    logging.basicConfig(
        level=level, format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr
    )
    try:
        code: int = args.handler(args)
    except ArchiveLocked as exc:
        return _fail(exc, EXIT_LOCKED)
    except WriteError as exc:
        return _fail(exc, EXIT_FAILED)
    except DiscoveryError as exc:
        return _fail(exc, EXIT_BROKEN)
    except Interrupted as exc:
        return _fail(exc, EXIT_INTERRUPTED)
    except (UsageError, ArchiveError, SourceError) as exc:
        return _fail(exc, EXIT_USAGE)
    except StatementSyncError as exc:
        return _fail(exc, EXIT_FAILED)
    except KeyboardInterrupt:
        print("statements: interrupted (what was recorded is kept; run again)", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        return EXIT_OK
    return code


def _fail(exc: Exception, code: int) -> int:
    print(f"statements: {exc}", file=sys.stderr)
    return code


def entry() -> None:
    sys.exit(main())


if __name__ == "__main__":
    entry()
