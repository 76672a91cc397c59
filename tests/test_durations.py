"""One grammar of durations (crawler.durations) for the scheduler, seed files and --since ages;
bad options and arguments are a UsageError (exit 2), and every --help lists the exit codes."""

from __future__ import annotations

import argparse
import datetime as dt
import re
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from crawler.cli import build_parser, main
from crawler.cli import schedule as cli_schedule
from crawler.cli.common import parse_since, parse_until
from crawler.durations import (
    LONGEST,
    UNITS,
    DurationError,
    format_duration,
    interval,
    parse_duration,
    seconds,
)
from crawler.errors import UsageError
from crawler.source import load_source
from tests.conftest import PROJECT

NOW = dt.datetime(2026, 11, 30, 12, 0, tzinfo=dt.UTC)
WHOLE_SPANS = st.integers(1, int(LONGEST.total_seconds())).map(lambda s: dt.timedelta(seconds=s))


def test_examples() -> None:
    assert parse_duration("90s") == dt.timedelta(seconds=90)
    assert parse_duration("1h30m") == parse_duration(" 1H 30M ") == dt.timedelta(minutes=90)
    assert parse_duration("7d") == dt.timedelta(days=7)
    assert parse_duration("2w") == dt.timedelta(days=14)
    assert parse_duration("1.5h") == dt.timedelta(minutes=90)
    assert parse_duration("1w2d3h4m5s") == dt.timedelta(days=9, hours=3, minutes=4, seconds=5)
    assert format_duration(dt.timedelta(days=14)) == "14d"
    assert format_duration(dt.timedelta(0)) == "0s"
    for bad in ("30m1h", "1h1h", "1s1m", "1d2w", "1h 1h"):  # largest unit first, each once
        with pytest.raises(DurationError, match=r"is not a duration \(try") as info:
            parse_duration(bad)
        assert info.value.malformed


@given(WHOLE_SPANS)
def test_format_then_parse_is_the_identity(span: dt.timedelta) -> None:
    text = format_duration(span)
    assert re.fullmatch(r"(\d+d)?(\d+h)?(\d+m)?(\d+s)?", text)
    assert parse_duration(text) == span


@given(st.lists(st.integers(0, 50), min_size=5, max_size=5), st.sets(st.sampled_from("wdhms")))
def test_any_written_form_parses_to_its_sum(amounts: list[int], units: set[str]) -> None:
    """Parts written largest unit first, each once, with spaces and any case."""
    chosen = [u for u in UNITS if u in units]
    parts = [(amount, unit) for amount, unit in zip(amounts, chosen, strict=False)]
    text = " ".join(f"{amount}{unit.upper() if amount % 2 else unit}" for amount, unit in parts)
    total = dt.timedelta(seconds=sum(amount * UNITS[unit] for amount, unit in parts))
    if not parts:
        with pytest.raises(DurationError) as info:
            parse_duration(text)
        assert info.value.malformed
    elif dt.timedelta(seconds=1) <= total <= LONGEST:
        assert parse_duration(text) == total
        assert parse_duration(format_duration(total)) == total
    else:
        with pytest.raises(DurationError, match="is not a duration from 1s to 366d") as info:
            parse_duration(text)
        assert not info.value.malformed
    assert parse_duration(text or "0s", shortest=dt.timedelta(0), longest=dt.timedelta.max) == total


GARBAGE = st.one_of(
    st.text(max_size=12),
    st.sampled_from(["", "h", "2", "-1h", "+1h", "1h-30m", "2 hours", "30m1h", "1h1h", "1.h"]),
    st.sampled_from(["1e3s", "nan", "inf", "0x10s", "1_0m", "½h", "1h 30", "\u0661h", "\u00b2s"]),
)


@given(GARBAGE)
def test_garbage_is_refused_in_one_style(text: str) -> None:
    try:
        span = parse_duration(text)
    except DurationError as exc:
        assert str(exc).startswith(f"{text.strip()!r} is not a duration")
        assert "\n" not in str(exc)
        return
    assert re.fullmatch(r"(([0-9]+(\.[0-9]+)?)[wdhms])+", "".join(text.split()).lower())
    assert dt.timedelta(seconds=1) <= span <= LONGEST


def test_zero_and_ranges() -> None:
    with pytest.raises(DurationError, match="'0s' is not a duration from 1s to 366d"):
        parse_duration("0s")
    with pytest.raises(DurationError, match="from 1s to 366d"):
        parse_duration("367d")
    with pytest.raises(DurationError, match="from 1s to 366d"):
        parse_duration("99999999999999999999d")  # never overflows a timedelta
    assert parse_duration("0m", shortest=dt.timedelta(0)) == dt.timedelta(0)
    assert interval("1h30m") == "1h30m" and seconds("2m") == 120.0 and seconds("0s") == 0.0
    with pytest.raises(DurationError):
        interval("0s")


@given(WHOLE_SPANS)
def test_since_takes_the_same_grammar_as_an_age(span: dt.timedelta) -> None:
    assert parse_since(format_duration(span), NOW) == NOW - span


def test_since_dates_and_bad_values_are_usage_errors() -> None:
    assert parse_since("2026-11-01", NOW) == dt.datetime(2026, 11, 1, tzinfo=dt.UTC)
    assert parse_until("2026-11-01", NOW) == dt.datetime(2026, 11, 2, tzinfo=dt.UTC)
    assert parse_since("0s", NOW) == NOW
    assert parse_since("1h30m", NOW) == NOW - dt.timedelta(minutes=90)
    with pytest.raises(UsageError, match="--since 'soon' is not a date, a time or an age"):
        parse_since("soon", NOW)
    with pytest.raises(UsageError, match="--until '-7d' is not a date"):
        parse_until("-7d", NOW)
    with pytest.raises(UsageError, match="--since: '99999999w' is not a duration from 0s to"):
        parse_since("99999999w", NOW)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["changes", "--since", "soon"], "statements: --since 'soon' is not a date"),
        (["changes", "--since", "1h1h"], "statements: --since '1h1h' is not a date"),
        (["sync", "nosuchsource"], "statements: no source named 'nosuchsource' (known: "),
        (["discover", "nosuchsource"], "statements: no source named 'nosuchsource' (known: "),
        (["fetch", "https://example.org/x"], "statements: https://example.org/x: no source has"),
        (["schedule", "nosuchsource"], "statements: no source named 'nosuchsource'"),
        (["schedule", "--every", "1h1h"], "statements: schedule: argument --every: '1h1h' is not"),
        (["schedule", "--grace", "0s"], "statements: schedule: argument --grace: '0s' is not a"),
    ],
)
def test_bad_options_are_usage_errors_exit_2(
    argv: list[str],
    message: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(cli_schedule, "Scheduler", None)  # a schedule that starts fails at once
    monkeypatch.setattr(cli_schedule.signal, "signal", lambda *a: None)
    archive = tmp_path / "a"
    if argv[0] == "changes":
        assert main(["import", str(tmp_path), "--archive", str(archive)]) == 0
        capsys.readouterr()
    assert main([*argv, "--archive", str(archive)]) == 2
    _, err = capsys.readouterr()
    assert err.startswith(message) and err.count("\n") == 1, err


def test_a_seed_file_may_write_jitter_as_a_duration(tmp_path: Path) -> None:
    seed = (PROJECT / "seeds" / "whitehouse.toml").read_text()
    assert "jitter = 120" in seed and 'every = "2h"' in seed
    path = tmp_path / "mine.toml"
    path.write_text(seed.replace("jitter = 120", 'jitter = "2m"').replace('"2h"', '"1h30m"'))
    schedule = load_source(path).schedule
    assert schedule.jitter == 120.0 and schedule.every == "1h30m"


def test_only_ascii_digits() -> None:
    for text in ("\u0661h", "\u00b2s", "\u0663\u0660m"):  # Arabic-Indic, superscript
        with pytest.raises(DurationError, match="is not a duration"):
            parse_duration(text)


def test_every_command_help_lists_the_exit_codes(capsys: pytest.CaptureFixture[str]) -> None:
    parser = build_parser()
    commands = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    assert len(commands.choices) >= 12
    for name in ["", *commands.choices]:
        assert main([name, "--help"] if name else ["--help"]) == 0
        out, _ = capsys.readouterr()
        assert "exit codes:" in out and "2  usage or configuration error" in out, name
