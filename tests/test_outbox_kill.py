"""No alert is lost to SIGKILL: `statements sync` killed at random moments over a socket.

A real ``statements sync`` (a subprocess) against the fixture site on 127.0.0.1, with the Atom
feed and a webhook receiver configured in ``statements.toml``, is killed three times: halfway
through fetching (what it recorded is never announced by it), while its webhook POST is at the
receiver but unanswered (the feed written, nothing marked delivered), and at a random moment
after the site changed. Then ``statements announce`` and a sync: every event in the index is in
``changes.atom`` once and at the receiver; a repeat at the receiver carries the same event id.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import feedparser
import pytest

from storage.archive import Archive
from storage.document import Statement, dumps, loads
from tests.conftest import PROJECT
from tests.fixture_site import FixtureSite, usable_texts
from tests.receiver import Receiver

pytestmark = [pytest.mark.corpus]
ENV = {**os.environ, "PYTHONPATH": str(PROJECT)}
CLI = [sys.executable, "-m", "crawler.cli"]
STATEMENTS = 60  # two chunks of recording: a kill in the second leaves the first unannounced


def configure(root: Path, hook_url: str) -> None:
    root.mkdir(parents=True, exist_ok=True)
    (root / "statements.toml").write_text(
        "[alerts.atom]\nentries = 1000\n"
        f'[[alerts.webhooks]]\nurl = "{hook_url}"\nattempts = 1\ntimeout = 2.0\n',
        encoding="utf-8",
    )


def kill_when(command: list[str], ready: Callable[[], bool], limit: float = 30.0) -> None:
    """Run a command and SIGKILL it as soon as ``ready()`` (or when it ends by itself)."""
    process = subprocess.Popen(
        command, cwd=PROJECT, env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    deadline = time.monotonic() + limit
    while not ready() and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.005)
    process.send_signal(signal.SIGKILL)
    process.wait()


def run(command: list[str]) -> int:
    return subprocess.run(command, cwd=PROJECT, env=ENV, capture_output=True).returncode


def edited(text: str) -> str:
    statement = loads(text)
    return dumps(Statement(statement.meta, statement.body.replace(" the ", " THE ", 1)))


def delivered(root: Path, receiver: Receiver) -> tuple[set[int], set[int], Counter[int], bool]:
    """(events the index holds, ids in the feed, ids received with counts, repeats identical)."""
    with Archive(root) as archive:
        ids = {e.id for e in archive.index.events(news=True)}
        assert all(n == 0 for n, _, _ in archive.index.outbox_state().values())
    entries = feedparser.parse((root / "changes.atom").read_bytes()).entries
    in_feed = Counter(int(e.id.rsplit("/", 1)[1]) for e in entries)
    assert all(n == 1 for n in in_feed.values())  # never twice in the feed
    seen: dict[int, dict[str, Any]] = {}
    same = True
    got: Counter[int] = Counter()
    for _, body in receiver.posts:
        for event in json.loads(body)["events"]:
            got[event["id"]] += 1
            same &= seen.setdefault(event["id"], event) == event
    return ids, set(in_feed), got, same


@pytest.mark.slow
def test_every_event_is_announced_after_syncs_killed_at_random_moments(
    corpus: tuple[tuple[str, str], ...], tmp_path: Path
) -> None:
    rng = random.Random(int(os.environ.get("OUTBOX_SEED", "10")))
    texts = usable_texts((t for _, t in corpus), STATEMENTS)
    root = tmp_path / "archive"
    hold = threading.Event()
    hold.set()
    with FixtureSite(texts) as site, Receiver(hold=hold) as receiver:
        configure(root, receiver.url)
        sync = [*CLI, *site.sync_args(root, "--full")]
        # 1. killed while fetching after a first batch was recorded: recorded, never announced
        # (fetching overlaps recording: a batch is recorded once its files are in place)
        fetched = rng.randint(52, STATEMENTS - 2)
        kill_when(sync, lambda: site.statement_requests() >= fetched and any(root.rglob("*.md")))
        with Archive(root) as archive:
            first = archive.index.last_event_id()
        assert first >= 1 and not (root / "changes.atom").exists() and receiver.posts == []
        # 2. killed while its POST is at the receiver, unanswered: nothing is marked delivered
        hold.clear()
        kill_when(sync, receiver.arrived.is_set)
        hold.set()
        assert len(receiver.posts) == 1 and (root / "changes.atom").exists()
        # 3. the site changes; a sync killed at a random moment
        for text in rng.sample(texts, 3):
            site.edit(loads(text).source_url, edited(text))
        started = time.monotonic()
        moment = rng.uniform(0.0, 2.5)
        kill_when([*CLI, *site.sync_args(root)], lambda: time.monotonic() - started > moment)
        # then `statements announce`, and a sync that finishes what was left
        assert run([*CLI, "announce", "--archive", str(root)]) == 0
        ids, in_feed, got, same = delivered(root, receiver)
        assert ids == in_feed == set(got) and same
        assert max(got.values()) >= 2  # the POST the kill cut short came again, same id
        assert run([*CLI, *site.sync_args(root)]) == 0
        ids, in_feed, got, same = delivered(root, receiver)
    assert ids == in_feed == set(got) and same
    assert len(ids) >= STATEMENTS + 3  # every statement new, and the three edits
