"""The command line's argument types, in one place, and a parser that fails in one line.

Every numeric option of every command takes its value through one of these functions, so a
value out of range (``--audit -5``, ``--wait -1``, ``--rate nan``, ``--limit 10**30``) is a
:class:`~crawler.errors.UsageError` (exit 2) with one line on stderr, before any work starts:
never a traceback later, deep in SQL or in :func:`itertools.islice`. Bounds are generous but
finite, so no value overflows a SQLite integer, a ``timedelta`` or a sleep.
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable
from typing import NoReturn
from urllib.parse import urlsplit

from crawler.durations import DurationError, interval
from crawler.errors import UsageError

BIG = 1_000_000_000  # a count no archive reaches; keeps SQL LIMIT and offsets in range
LONGEST_WAIT = 7 * 86400.0  # seconds: a week


class Parser(argparse.ArgumentParser):
    """An ``ArgumentParser`` whose usage errors are a :class:`UsageError`: what, and where to
    look. ``crawler.cli.main`` writes it in one line and exits 2, as for every usage error."""

    def error(self, message: str) -> NoReturn:
        command = self.prog.removeprefix("statements").strip() or None
        raise UsageError(message, where=command, hint=f"see '{self.prog} --help'")


def count(low: int = 0, high: int = BIG) -> Callable[[str], int]:
    """A whole number from ``low`` to ``high``."""

    def parse(text: str) -> int:
        try:
            value = int(text.strip())
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"{_range(low, high)}, not {text.strip()}")
        return value

    parse.__name__ = "count"  # argparse names the type in its messages
    return parse


def revision(text: str) -> int:
    """A revision number: 1 the first, -1 the one before the latest (negative counts back)."""
    return count(-BIG, BIG)(text)


def number(low: float = 0.0, high: float = float(BIG)) -> Callable[[str], float]:
    """A finite number from ``low`` to ``high``."""

    def parse(text: str) -> float:
        try:
            value = float(text.strip())
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
        if not math.isfinite(value) or not low <= value <= high:
            raise argparse.ArgumentTypeError(f"{_range(low, high)}, not {text.strip()}")
        return value

    parse.__name__ = "number"
    return parse


def _range(low: float, high: float) -> str:
    if high >= BIG:
        return f"must be {low:g} or more"
    return f"must be from {low:g} to {high:g}"


def seconds(text: str) -> float:
    """A wait in seconds: 0 to a week."""
    return number(0.0, LONGEST_WAIT)(text)


def duration(text: str) -> str:
    """A run interval such as 90s, 30m, 2h or 1h30m, 1s to 366d (kept as written; checked now,
    in the grammar of :mod:`crawler.durations`)."""
    try:
        return interval(text)
    except DurationError as exc:
        raise argparse.ArgumentTypeError(exc.message) from None


def origin(text: str) -> str:
    """An http(s) origin such as ``http://127.0.0.1:8000``, for ``--base-url``."""
    try:
        parts = urlsplit(text.strip())
        port = parts.port  # raises on a port that is not a number
    except ValueError:
        parts, port = urlsplit(""), -1
    if parts.scheme not in ("http", "https") or not parts.hostname or port == -1:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not an http(s) URL; try http://127.0.0.1:8000"
        )
    return text.strip()
