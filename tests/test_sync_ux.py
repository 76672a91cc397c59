"""What `statements sync` tells a person, against the fixture site over a socket: Ctrl-C keeps
what was fetched, the summary counts statements and names them in 80 columns, progress follows
the real phases, `status` shows the schedule in effect (issue 9, items 7 and 8)."""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from unittest import mock

import pytest

from crawler.cli import main
from crawler.cli import schedule as cli_schedule
from crawler.fetch import Fetcher, make_client
from crawler.syncer import CONVERT_BATCH, Syncer, SyncOptions
from storage.archive import Archive
from storage.document import Statement, dumps, loads
from tests.conftest import PROJECT
from tests.fixture_site import FixtureSite, usable_texts
from tests.test_sync import NOW, whitehouse

pytestmark = [pytest.mark.corpus]


@pytest.fixture
def newest(corpus: tuple[tuple[str, str], ...]) -> list[str]:
    texts = usable_texts(t for _, t in corpus)
    return sorted(texts, key=lambda t: str(loads(t).meta.get("published_time")))[-80:]


@pytest.fixture
def small(newest: list[str]) -> Iterator[FixtureSite]:
    with FixtureSite(newest) as running:
        yield running


def cli(*argv: str) -> list[str]:
    return [sys.executable, "-m", "crawler.cli", *argv]


@pytest.mark.slow
def test_ctrl_c_keeps_what_was_fetched_and_says_so(small: FixtureSite, tmp_path: Path) -> None:
    archive = tmp_path / "archive"
    env = {**os.environ, "PYTHONPATH": str(PROJECT)}
    argv = small.sync_args(archive, "--full")
    argv[argv.index("--rate") + 1] = "15"  # slow enough to be mid-run when interrupted
    small.reset_counts()
    process = subprocess.Popen(
        cli(*argv), cwd=PROJECT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    deadline = time.monotonic() + 60
    while small.statement_requests() < 12 and time.monotonic() < deadline:
        time.sleep(0.01)
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=60)
    assert process.returncode == 130, err
    assert "statements sync" in out  # the summary of what was done
    assert "stopping: recording what was fetched" in err
    last = err.strip().splitlines()[-1]
    assert last.startswith("statements: interrupted: saved ") and last.endswith(
        " statements; run the same command again to finish"
    )
    saved = int(last.split("saved ")[1].split()[0])
    assert 12 <= saved < 80  # what was fetched is kept; the rest was not asked for
    assert small.statement_requests() < 80
    with Archive(archive) as opened:
        assert opened.index.count_statements() == saved
    check = subprocess.run(cli("verify", "--archive", str(archive)), env=env, cwd=PROJECT)
    assert check.returncode == 0
    rerun = subprocess.run(
        cli(*small.sync_args(archive, "--full", "--json")),
        env=env,
        cwd=PROJECT,
        capture_output=True,
        text=True,
    )
    assert rerun.returncode == 0, rerun.stderr
    (report,) = json.loads(rerun.stdout)["sources"]
    assert report["counts"]["new"] == 80 - saved
    with Archive(archive) as opened:
        assert opened.index.count_statements() == 80


def edited(text: str, n: int) -> str:
    """A new title and a changed word: one statement, two kinds."""
    doc = loads(text)
    meta = {**doc.meta, "title": f"{doc.title} (corrected {n})"}
    return dumps(Statement(meta, doc.body.replace(" the ", " a ", 1)))


@pytest.mark.slow
def test_the_summary_counts_statements_names_them_and_fits_80_columns(
    small: FixtureSite,
    newest: list[str],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("COLUMNS", "80")
    archive = tmp_path / "archive"
    assert main(small.sync_args(archive, "--full")) == 0
    out, _ = capsys.readouterr()
    assert "80 new statements" in out and ".md" not in out  # a count, not a list of 80
    for n, text in enumerate(newest[:25]):
        small.edit(loads(text).source_url, edited(text, n))
    assert main(small.sync_args(archive)) == 0
    out, _ = capsys.readouterr()
    lines = out.splitlines()
    assert max(map(len, lines)) <= 80, "\n".join(line for line in lines if len(line) > 80)
    header = next(line for line in lines if line.split()[:2] == ["source", "new"])
    row = next(line for line in lines if line.split()[:1] == ["whitehouse"])
    counts = dict(zip(header.split(), row.split(), strict=True))
    assert counts["changed"] == "25" and counts["new"] == "0"  # not 75 (three kinds each)
    assert sum("updated retitled metadata" in line for line in lines) == 20
    assert "(corrected " in out and ".md" in out and "and 5 more" in out


@pytest.mark.slow
def test_progress_follows_the_phases_statement_by_statement(
    small: FixtureSite, tmp_path: Path
) -> None:
    calls: list[tuple[str, int, int | None]] = []
    source = whitehouse()
    with make_client() as client, Archive(tmp_path / "a", clock=lambda: NOW) as archive:
        fetcher = Fetcher(client, source, base_url=small.base_url)
        options = SyncOptions(full=True, chunk=30)
        Syncer(
            archive,
            source,
            fetcher,
            options,
            clock=lambda: NOW,
            progress=lambda phase, done, total: calls.append((phase, done, total)),
        ).run()
    phases = [phase for phase, _, _ in calls]
    assert phases[0] == "discover" and phases[-1] == "record"
    assert [done for phase, done, _ in calls if phase == "discover"][-1] == 80  # URLs found
    fetched = sorted(done for phase, done, _ in calls if phase == "fetch")
    assert set(range(1, 81)) <= set(fetched)  # every statement advances the bar
    chunks = [p for p in phases if p in ("convert", "record")]
    batches = -(-80 // CONVERT_BATCH)  # 80 statements in batches of CONVERT_BATCH (<= 30)
    assert chunks.count("convert") == chunks.count("record") == batches
    for n in range(len(chunks)):  # a batch is recorded once converted, while others convert
        assert chunks[: n + 1].count("convert") >= chunks[: n + 1].count("record")


def test_status_shows_the_schedule_in_effect_and_no_stale_next_run(
    small: FixtureSite, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    archive = tmp_path / "archive"
    common = ["--archive", str(archive), "--base-url", small.base_url, "--rate", "0"]

    class OneRun:
        """The scheduler, run once by hand, then stopped as by SIGTERM."""

        def __init__(self, jobs: list[cli_schedule.Job], **kw: object) -> None:
            self.jobs, self.state = jobs, kw["state"]

        def run(self) -> None:
            for job in self.jobs:
                job.run()
                past = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)
                self.state.save(job.name, past - dt.timedelta(seconds=2), past)  # type: ignore[attr-defined]

    with mock.patch.object(cli_schedule, "Scheduler", OneRun), mock.patch("signal.signal"):
        assert main(["schedule", "whitehouse", *common, "--every", "45m", "--audit", "3"]) == 0
    capsys.readouterr()
    assert main(["status", "--archive", str(archive), "--json"]) == 0
    status = json.loads(capsys.readouterr().out)
    (row,) = status["sources"]
    assert row["schedule"] == "every 45m, audit 3"  # not the seed's
    assert row["next_run"] is None and status["scheduler"]["stopped"]
    assert main(["status", "--archive", str(archive)]) == 0
    text = capsys.readouterr().out
    assert "scheduler stopped" in text and "no next run" in text and "every 45m" in text
