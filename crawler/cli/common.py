"""What several commands share, in one module, so that no command imports from another.

Options shared by several commands (``--wait``, ``--seeds``, the crawling options), what is made of
them (the sources, the fetch settings, the moments of ``--since``/``--until``), opening the
archive and printing ``--json``. A bad value raises :class:`~crawler.errors.UsageError` (exit 2).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import re
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from crawler.cli.args import count, number, origin, seconds
from crawler.config import load_config
from crawler.durations import DurationError, parse_duration
from crawler.errors import UsageError
from crawler.jobs import FetchSettings
from crawler.source import Source, load_sources, seed_dirs
from storage import event as storage_event
from storage.archive import Archive, Recorded

MAX_CONCURRENCY = 64
OLDEST_AGE = dt.timedelta(days=100 * 366)  # --since 5200w: older than any statement


# -- options ----------------------------------------------------------------------------------


def add_wait(parser: argparse.ArgumentParser, default: float) -> None:
    """``--wait SECONDS``, for the commands that take the archive's lock."""
    parser.add_argument(
        "--wait",
        type=seconds,
        default=default,
        metavar="SECONDS",
        help="wait this long for a running sync to release the archive",
    )


def seeds_option() -> argparse.ArgumentParser:
    seeds = argparse.ArgumentParser(add_help=False)
    seeds.add_argument(
        "--seeds",
        type=Path,
        action="append",
        default=[],
        metavar="DIR",
        help="a folder of your own seed files (also: <archive>/seeds)",
    )
    return seeds


def crawl_options() -> argparse.ArgumentParser:
    """Options of every command that makes requests."""
    crawling = argparse.ArgumentParser(add_help=False, parents=[seeds_option()])
    crawling.add_argument(
        "--base-url",
        type=origin,
        metavar="URL",
        help="send every request to this origin (a mirror, the "
        "fixture site); the archive still records the real URLs",
    )
    crawling.add_argument(
        "--rate", type=number(0.0), help="requests per second per host (0: no limit)"
    )
    crawling.add_argument("--concurrency", type=count(1, MAX_CONCURRENCY), help="requests at once")
    crawling.add_argument("--user-agent", help="the User-Agent to send (default names this tool)")
    return crawling


# -- what the options give --------------------------------------------------------------------


def sources_for(args: argparse.Namespace) -> dict[str, Source]:
    """Built-in seeds, then $STATEMENTS_SEEDS, the archive's seeds/, and --seeds folders."""
    return load_sources(seed_dirs([Path(args.archive) / "seeds", *args.seeds]))


def named_sources(sources: dict[str, Source], names: Iterable[str]) -> list[Source]:
    """The sources the command line names, in its order; an unknown name is a usage error."""
    names = list(dict.fromkeys(names))
    unknown = [name for name in names if name not in sources]
    if unknown:
        raise UsageError(f"no source named {unknown[0]!r}", hint=f"known: {', '.join(sources)}")
    return [sources[name] for name in names]


def fetch_settings(args: argparse.Namespace) -> FetchSettings:
    return FetchSettings(args.base_url, args.rate, args.concurrency, args.user_agent)


def parse_since(text: str, now: dt.datetime, option: str = "--since") -> dt.datetime:
    """``--since``: an ISO date or time (UTC unless it says), or an age such as ``7d`` or
    ``1h30m`` (the grammar of :mod:`crawler.durations`)."""
    try:
        return now - parse_duration(text, shortest=dt.timedelta(0), longest=OLDEST_AGE)
    except DurationError as exc:
        if not exc.malformed:
            raise UsageError(f"{option}: {exc}") from None
    try:
        moment = dt.datetime.fromisoformat(text.strip())
    except ValueError:
        raise UsageError(
            f"{option} {text.strip()!r} is not a date, a time or an age",
            hint="try 2026-11-01, 2026-11-01T09:00 or an age: 7d, 1h30m",
        ) from None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=dt.UTC)


def parse_until(text: str, now: dt.datetime) -> dt.datetime:
    """``--until``: as ``--since``, but a bare date means the end of that day."""
    moment = parse_since(text, now, "--until")
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text.strip()):
        moment += dt.timedelta(days=1)
    return moment


# -- the archive and output -------------------------------------------------------------------


def index_for(args: argparse.Namespace) -> str:
    """Where the archive's index is: ``--index``, else ``index`` in its statements.toml."""
    return load_config(Path(args.archive), getattr(args, "index", None)).index


@contextmanager
def open_archive(args: argparse.Namespace, create: bool = False) -> Iterator[Archive]:
    root = Path(args.archive)
    archive = Archive(root, create=create, index=index_for(args))
    try:
        yield archive
    finally:
        archive.close()


def print_json(value: Any) -> None:
    print(json.dumps(value, indent=2, ensure_ascii=False, default=str))


def plural(count: int, noun: str) -> str:
    """``1 problem``, ``2 problems``."""
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def event_json(event: Recorded) -> dict[str, Any]:
    """A recorded change event for ``--json`` output: the one event shape (``storage.event``)."""
    return storage_event.event_json(event)
