"""Every numeric option of every command, fuzzed through ``crawler.cli.main(argv)``.

Whatever the value: never a traceback. A value that is not a number of the option's kind, or out
of its range, is a usage error: exit 2 and one line on stderr. A plainly valid value gets past the
parser (the command runs: offline, so it makes no request that could leave the machine).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import math
import shutil
from collections.abc import Iterator
from pathlib import Path
from unittest import mock

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crawler import jobs
from crawler.cli import args as cli_args
from crawler.cli import build_parser, main
from crawler.cli import crawl as cli_crawl
from crawler.cli import schedule as cli_schedule
from crawler.fetch import make_client
from tests.conftest import REFERENCE
from tests.test_offline import no_dns

PAGE = "https://www.whitehouse.gov/articles/2025/03/a-statement/"
TYPES = {
    cli_args.revision: "revision",
    cli_args.seconds: "seconds",
    cli_args.duration: "duration",
}


def kind_of(action: argparse.Action) -> str | None:
    """What an option's type function accepts: count, positive, number, revision, seconds,
    duration; None for an option that takes no number."""
    parse = action.type
    if parse in (int, float):
        raise AssertionError(f"{action.option_strings}: use a type from crawler.cli.args")
    if parse in TYPES:
        return TYPES[parse]  # type: ignore[index]
    name = getattr(parse, "__name__", "")
    if name == "count":
        return "count" if _accepts(parse, "0") else "positive"
    if name == "number":
        return "number"
    return None


def _accepts(parse: object, text: str) -> bool:
    try:
        parse(text)  # type: ignore[operator]
    except argparse.ArgumentTypeError:
        return False
    return True


def numeric_options() -> list[tuple[str, str, str]]:
    """(command, option, kind) for every numeric option of every command."""
    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    found = []
    for command, subparser in sub.choices.items():
        for action in subparser._actions:
            kind = kind_of(action)
            if kind is not None:
                found.append((command, max(action.option_strings, key=len), kind))
    return found


OPTIONS = numeric_options()


def test_the_options_under_test_are_all_of_them() -> None:
    names = {(c, o) for c, o, _ in OPTIONS}
    assert {("sync", "--audit"), ("changes", "--limit"), ("import", "--wait")} <= names
    assert {("schedule", "--every"), ("schedule", "--grace"), ("diff", "--context")} <= names
    assert {("show", "--rev"), ("fetch", "--rate"), ("discover", "--concurrency")} <= names


def invalid(kind: str, text: str) -> bool | None:
    """True: surely a usage error; False: surely accepted; None: either (near the bounds)."""
    if kind == "duration":
        stripped = text.strip()
        if stripped in ("30m", "2h", "90s", "1h30m"):
            return False
        return True if not stripped or stripped[0] in "-+" or stripped.isdigit() else None
    whole = kind in ("count", "positive", "revision")
    try:
        value = int(text.strip()) if whole else float(text.strip())
    except ValueError:
        return True
    if not math.isfinite(value):
        return True
    low = {"positive": 1, "revision": -(10**9)}.get(kind, 0)
    if value < low:
        return True
    return False if value <= 60 else None


values = st.one_of(
    st.integers(-(10**12), 10**12).map(str),
    st.integers(-3, 70).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.sampled_from(["", " ", "-0", "1e400", "nan", "inf", "0x10", "1_0", "2h", "-5m", "0s"]),
    st.sampled_from(["30m", "90s", "1h30m", "5", "99999999999999999999d", "3w", "7.5"]),
    st.text(max_size=12),
)


@pytest.fixture(scope="module")
def places(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[str]]:
    """Each command's arguments, without the option under test, on a small real archive."""
    root = tmp_path_factory.mktemp("fuzz")
    v1, v2, archive = root / "v1", root / "v2", root / "archive"
    v1.mkdir()
    v2.mkdir()
    shutil.copy(REFERENCE, v1 / "ref.txt")
    (v2 / "ref.txt").write_text(REFERENCE.read_text().replace("to discuss ways", "to debate"))
    a = ["--archive", str(archive)]
    assert main(["import", str(v1), *a]) == 0 and main(["import", str(v2), *a]) == 0
    online = ["--archive", str(root / "synced")]
    return {
        "sync": ["sync", *online],
        "schedule": ["schedule", *online, "--every", "1h"],
        "worker": ["worker", *online, "--once"],  # team mode: SQLite is refused, after parsing
        "enqueue": ["enqueue", *online],
        "team-status": ["team-status", *online],
        "fetch": ["fetch", PAGE, *online],
        "discover": ["discover", "whitehouse", *online],
        "import": ["import", str(v1), *a],
        "verify": ["verify", *a],
        "reformat": ["reformat", "--dry-run", *a],
        "show": ["show", "statement-from-senior", *a],
        "diff": ["diff", "statement-from-senior", "--color=never", *a],
        "compare": ["compare", "statement-from-senior", "--color=never", *a],
        "changes": ["changes", *a],
        "announce": ["announce", *a],
        "search": ["search", "statement", *a],
        "list": ["list", *a],
        "export": ["export", "--out", str(root / "export.jsonl"), *a],
        "report": ["report", *a, "--out", str(root / "report")],
    }


@contextlib.contextmanager
def offline() -> Iterator[None]:
    """No client reaches a network, the scheduler does not loop, no signal handler is set."""

    def client(**kw: object) -> httpx.Client:
        return make_client(transport=httpx.MockTransport(no_dns))

    class Once:
        def __init__(self, *args: object, **kw: object) -> None:
            pass

        def run(self) -> None:
            pass

    with (
        mock.patch.object(jobs, "make_client", client),
        mock.patch.object(cli_crawl, "make_client", client),
        mock.patch.object(cli_schedule, "Scheduler", Once),
        mock.patch.object(cli_schedule.signal, "signal"),
    ):
        yield


@pytest.mark.parametrize(("command", "option", "kind"), OPTIONS)
@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(text=values)
def test_numeric_options_fail_as_usage_errors_never_tracebacks(
    places: dict[str, list[str]], command: str, option: str, kind: str, text: str
) -> None:
    assert command in places, f"add {command} to places() so that its options are fuzzed"
    out, err = io.StringIO(), io.StringIO()
    with offline(), contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main([*places[command], f"{option}={text}"])
    expected = invalid(kind, text)
    if expected:
        assert code == 2, (command, option, text)
        assert err.getvalue().count("\n") == 1 and option in err.getvalue()
        assert "Traceback" not in err.getvalue()
    elif expected is False and kind != "revision":
        assert code != 2 or "argument" not in err.getvalue(), err.getvalue()
    assert code in (0, 1, 2, 3, 4)


@pytest.mark.parametrize(
    "argv",
    [
        ["sync", "--audit", "-5"],
        ["changes", "--limit", "-3"],
        ["sync", "--wait", "-1"],
        ["sync", "--base-url", "www.whitehouse.gov"],
        ["sync", "--base-url", "127.0.0.1:8000"],
        ["sync", "--rate", "nan"],
        ["sync", "--concurrency", "0"],
        ["schedule", "--every", "-1h"],
        ["schedule", "--grace", "soon"],
        ["diff", "x", "--context", "-1"],
    ],
)
def test_bad_values_are_one_line_usage_errors_at_once(
    argv: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main([*argv, "--archive", str(tmp_path / "a")]) == 2
    _, err = capsys.readouterr()
    assert err.count("\n") == 1 and err.startswith(f"statements: {argv[0]}: argument {argv[-2]}")
    assert err.endswith(f"(see 'statements {argv[0]} --help')\n")
    assert not (tmp_path / "a").exists()  # nothing ran
