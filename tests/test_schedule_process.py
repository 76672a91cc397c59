"""`statements schedule` as a real process against the fixture site: runs, alerts, SIGTERM."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import feedparser
import pytest

from crawler.cli import main
from storage.document import Statement, dumps, loads
from tests.conftest import PROJECT
from tests.fixture_site import FixtureSite, usable_texts
from tests.receiver import Receiver

pytestmark = [pytest.mark.corpus, pytest.mark.slow]


def runs(archive: Path) -> int:
    """The runs of whitehouse the archive has recorded so far (read while the scheduler runs)."""
    from storage.archive import Archive

    with Archive(archive, create=False) as opened:
        return sum(1 for run in opened.index.runs() if run[0] == "whitehouse")


def test_schedule_every_2s_announces_an_edit_and_stops_on_sigterm(
    corpus: tuple[tuple[str, str], ...], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    texts = usable_texts((t for _, t in corpus), 20)
    archive = tmp_path / "archive"
    with FixtureSite(texts) as site, Receiver() as receiver:
        archive.mkdir()
        (archive / "statements.toml").write_text(
            f'[[alerts.webhooks]]\nurl = "{receiver.url}"\nsecret_env = "HOOK_SECRET"\n'
        )
        common = ["--archive", str(archive), "--base-url", site.base_url, "--rate", "0"]
        assert main(["sync", *common, "--full", "--json"]) == 0
        capsys.readouterr()
        receiver.posts.clear()
        env = {**os.environ, "PYTHONPATH": str(PROJECT), "HOOK_SECRET": "k3y"}
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "crawler.cli",
                "schedule",
                "whitehouse",
                *common,
                "--every",
                "2s",
            ],
            cwd=PROJECT,
            env=env,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            time.sleep(3)
            doc = loads(texts[3])
            edited = Statement(doc.meta, doc.body.replace(" the ", " a ", 1))
            site.edit(doc.source_url, dumps(edited))
            deadline = time.monotonic() + 30  # bounds on a hang, not timings
            while not receiver.posts and time.monotonic() < deadline:
                time.sleep(0.1)
            while runs(archive) < 1 + 3 and time.monotonic() < deadline:  # the --full, then 3
                time.sleep(0.2)
        finally:
            process.send_signal(signal.SIGTERM)
            _, err = process.communicate(timeout=60)  # a bound on a hang, not a timing
        assert process.returncode == 0, err
    ((headers, body),) = receiver.posts
    signature = "sha256=" + hmac.new(b"k3y", body, hashlib.sha256).hexdigest()
    assert headers["x-statements-signature-256"] == signature
    events = json.loads(body)["events"]
    assert [e["kinds"] for e in events] == [["updated", "metadata"]]
    assert events[0]["url"] == doc.source_url and "[-the-]{+a+}" in events[0]["diff"]
    feed = feedparser.parse((archive / "changes.atom").read_bytes())
    assert not feed.bozo and feed.entries[0].link == doc.source_url
    assert "<del>the</del><ins>a</ins>" in feed.entries[0].content[0].value  # type="html"
    assert runs(archive) >= 1 + 3  # waited for: three scheduled runs, however slow the machine
    assert err.count("INFO crawler.schedule: whitehouse:") >= 3  # one log line per run
    assert "INFO crawler.cli.schedule: scheduling whitehouse" in err and "WARNING" not in err
    assert main(["status", "--archive", str(archive), "--json"]) == 0
    status = json.loads(capsys.readouterr().out)
    (row,) = status["sources"]
    assert row["schedule"].startswith("every 2s") and row["last_run"]["ok"]  # what it ran with
    assert row["next_run"] is None and status["scheduler"]["stopped"]  # it stopped
