"""The one grammar of time spans: ``90s``, ``30m``, ``2h``, ``1h30m``, ``7d``, ``2w``, ``1.5h``.

A duration is one or more parts, each a number (decimals allowed) and a unit: ``w`` weeks, ``d``
days, ``h`` hours, ``m`` minutes, ``s`` seconds. Units come largest first, each at most once;
case and spaces between parts do not matter. There is no sign: a span is never negative.

Every place that reads a span uses :func:`parse_duration`: a seed file's and ``statements.toml``'s
``[schedule] every`` and ``jitter``, ``statements schedule --every/--grace``, and the ages of
``--since``/``--until`` (``7d`` ago). Each caller gives the range it allows (``shortest`` 0 for an
age, 1s for an interval) and turns :class:`DurationError` into its own error kind (a seed file's
``SourceError``, an option's usage error), so the message reads the same everywhere.
:func:`format_duration` writes the canonical form back; the two are inverse on whole seconds.

Pure: no clock, no I/O.
"""

from __future__ import annotations

import datetime as dt
import re

UNITS = {"w": 604800, "d": 86400, "h": 3600, "m": 60, "s": 1}
_PART = re.compile(r"([0-9]+(?:\.[0-9]+)?)([wdhms])")
HINT = "try 90s, 30m, 2h, 1h30m, 7d or 2w"
SECOND = dt.timedelta(seconds=1)
LONGEST = dt.timedelta(days=366)  # an interval longer than a year is a typo


class DurationError(ValueError):
    """Not a duration (``malformed``), or one outside the range the caller allows."""

    def __init__(self, message: str, *, malformed: bool):
        super().__init__(message)
        self.message = message
        self.malformed = malformed


def parse_duration(
    text: str, *, shortest: dt.timedelta = SECOND, longest: dt.timedelta = LONGEST
) -> dt.timedelta:
    """The span ``text`` names, from ``shortest`` to ``longest`` (both included)."""
    cleaned = "".join(text.split()).lower()
    parts = _PART.findall(cleaned)
    units = [unit for _, unit in parts]
    if (
        not parts
        or "".join(number + unit for number, unit in parts) != cleaned
        or units != [u for u in UNITS if u in units]  # largest first, each once
    ):
        raise DurationError(f"{text.strip()!r} is not a duration ({HINT})", malformed=True)
    seconds = sum(float(number) * UNITS[unit] for number, unit in parts)
    if not shortest.total_seconds() <= seconds <= longest.total_seconds():
        raise DurationError(
            f"{text.strip()!r} is not a duration from "
            f"{format_duration(shortest)} to {format_duration(longest)}",
            malformed=False,
        )
    return dt.timedelta(seconds=seconds)


def format_duration(span: dt.timedelta) -> str:
    """The canonical text of a span of whole seconds: ``1h30m``, ``366d``, ``0s``.

    Weeks are written as days (``2w`` reads back as ``14d``), so a limit in a message reads as
    it was written in the code."""
    seconds = int(span.total_seconds())
    if seconds < 0:
        raise ValueError(f"a negative span has no duration text: {span}")
    text = ""
    for unit in "dhms":
        amount, seconds = divmod(seconds, UNITS[unit])
        if amount:
            text += f"{amount}{unit}"
    return text or "0s"


def interval(text: str) -> str:
    """``text`` if it is a run interval (1s to 366d), kept as written: a seed's ``every``."""
    parse_duration(text)
    return text


def seconds(text: str) -> float:
    """A span from 0s to 366d in seconds: a seed's ``jitter`` written as ``"2m"``."""
    return parse_duration(text, shortest=dt.timedelta(0)).total_seconds()
