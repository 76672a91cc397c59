"""The outbox: no alert is lost to a crash, a receiver that is down, or a sync with nothing new.

In process, on a small archive: what a killed run recorded is delivered by the next run or by
``statements announce``, in event order; a failed webhook stays pending (attempts and error kept)
and goes out next time; an announcer enabled on an old archive gets only later events; one turned
off is dropped with what it had pending; an announcer registered later gets the outbox for free;
the Atom feed never holds an event twice. Over a socket (``test_outbox_kill.py``): SIGKILLs.
"""

from __future__ import annotations

import datetime as dt
import json
import threading
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import feedparser
import pytest

from crawler import announce
from crawler.announce import base, outbox
from crawler.cli import main
from crawler.config import Alerts, ArchiveConfig, AtomAlert, WebhookAlert
from crawler.jobs import FetchSettings, run_sync
from crawler.syncer import SyncOptions
from storage.archive import Archive, Recorded
from tests.receiver import Receiver
from tests.test_archive import URL, Clock, make

NOW = dt.datetime(2026, 3, 2, 12, 0, tzinfo=dt.UTC)
BODIES = ("One two three.\n", "One two four.\n", "One two five and six.\n")


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return tmp_path / "archive"


def config_for(receiver: Receiver) -> ArchiveConfig:
    webhook = WebhookAlert(url=receiver.url, attempts=1, timeout=5.0)
    return ArchiveConfig(alerts=Alerts(webhooks=(webhook,)))


def killed_run(root: Path, config: ArchiveConfig, bodies: tuple[str, ...] = BODIES) -> list[int]:
    """What a sync killed before announcing leaves: events recorded, nothing delivered."""
    with Archive(root, clock=Clock()) as archive:
        outbox.enable(archive, announce.announcers_for(config))
        done = [archive.record(make(b), origin=URL, source="whitehouse") for b in bodies]
    return [d.event.id for d in done if isinstance(d, Recorded) and d.event is not None]


def next_sync(root: Path, config: ArchiveConfig) -> None:
    """A sync that finds nothing new (no source to sync): it still delivers what is pending."""
    result = run_sync(root, [], SyncOptions(), FetchSettings(), config=config, clock=lambda: NOW)
    result.wait_for_deliveries(10)


def received(receiver: Receiver) -> list[int]:
    return [e["id"] for _, body in receiver.posts for e in json.loads(body)["events"]]


def feed_ids(root: Path) -> list[str]:
    return [e.id for e in feedparser.parse((root / "changes.atom").read_bytes()).entries]


def pending(root: Path) -> dict[str, tuple[int, int, str | None]]:
    with Archive(root) as archive:
        return archive.index.outbox_state()


def test_a_sync_with_no_new_events_delivers_what_a_killed_one_left(root: Path) -> None:
    with Receiver() as receiver:
        config = config_for(receiver)
        ids = killed_run(root, config)
        assert not (root / "changes.atom").exists() and receiver.posts == []
        next_sync(root, config)
        assert sorted(received(receiver)) == ids  # each event once (the payload: newest first)
        assert feed_ids(root) == [f"tag:statement-sync,2026:event/{i}" for i in reversed(ids)]
        assert all(n == 0 for n, _, _ in pending(root).values())
        next_sync(root, config)  # nothing pending: nothing sent again
        assert len(receiver.posts) == 1


def test_statements_announce_delivers_in_event_order_and_says_what_is_left(
    root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with Receiver(status=503) as receiver:
        root.mkdir()
        (root / "statements.toml").write_text(
            f'[[alerts.webhooks]]\nurl = "{receiver.url}"\nattempts = 1\nsources = ["whitehouse"]\n'
        )
        first = killed_run(root, config_for(receiver), BODIES[:1])
        second = killed_run(root, config_for(receiver), BODIES[1:])
        args = ["announce", "--archive", str(root)]
        assert main(args) == 1  # the receiver is down: the webhook's events stay pending
        out = capsys.readouterr().out
        assert "atom: 3 delivered" in out and "3 still pending (1 attempts; delivery failed" in out
        state = pending(root)
        key = next(k for k in state if k.startswith("webhook"))
        assert state[key] == (3, 1, "delivery failed (see the log)") and state["atom"][0] == 0
        receiver.status = 200
        assert main([*args, "--json"]) == 0
        report = json.loads(capsys.readouterr().out)["announcers"]
        assert {a["name"]: (a["delivered"], a["pending"]) for a in report} == {
            "atom": (0, 0),
            key: (3, 0),
        }
        assert received(receiver)[:3] == received(receiver)[3:]  # the same events, by id
        assert sorted(received(receiver)[3:]) == first + second


def test_a_failed_webhook_stays_pending_and_goes_out_with_the_next_run(root: Path) -> None:
    with Receiver(status=500) as down:
        config = config_for(down)
        ids = killed_run(root, config)
        next_sync(root, config)
        assert len(down.posts) == 1 and sum(n for n, _, _ in pending(root).values()) == 3
        assert feed_ids(root)  # the feed is one announcer, the webhook another: not held back
        down.status = 200
        next_sync(root, config)
        assert sorted(received(down)[3:]) == ids
        assert all(n == 0 for n, _, _ in pending(root).values())


def test_an_announcer_enabled_late_is_not_flooded_and_one_turned_off_is_dropped(
    root: Path,
) -> None:
    with Receiver() as receiver:
        killed_run(root, ArchiveConfig(), BODIES[:2])  # an archive announcing to the feed only
        config = config_for(receiver)
        next_sync(root, config)  # the webhook is enabled now: the old events are not its
        assert receiver.posts == []
        (later,) = killed_run(root, config, BODIES[2:])
        next_sync(root, config)
        assert received(receiver) == [later]
        killed_run(root, config, BODIES[:1])
        next_sync(root, ArchiveConfig())  # the webhook is off: what it had pending is dropped
        assert set(pending(root)) == {"atom"} and len(receiver.posts) == 1
        next_sync(root, config)  # and on again: nothing from the time it was off
        assert len(receiver.posts) == 1


def test_the_feed_never_holds_an_event_twice(root: Path) -> None:
    ids = killed_run(root, ArchiveConfig())
    with Archive(root) as archive:
        for _ in range(2):  # the same events announced again (a run killed after the feed)
            run = outbox.pending_run(archive, announce.announcers_for(ArchiveConfig())[0], NOW)
            announce.atom.AtomFeed(AtomAlert()).announce(run)
    assert sorted(Counter(feed_ids(root)).values()) == [1, 1, 1] and len(ids) == 3


def test_an_announcer_registered_later_gets_the_outbox_for_free(
    root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(base, "_REGISTRY", dict(base._REGISTRY))
    told: list[list[int]] = []

    @dataclass(frozen=True)
    class Chat:
        name: str = "chat"

        def announce(self, run: announce.Run) -> announce.Outcome:
            if not told:
                told.append([])
                raise ConnectionError("the chat server is down")
            told.append([r.event.id for r in run.events if r.event is not None])
            return announce.Outcome(self.name, len(run.events))

    announce.register("chat")(lambda config: [Chat()])
    ids = killed_run(root, ArchiveConfig())
    next_sync(root, ArchiveConfig())
    assert pending(root)["chat"] == (3, 1, "the chat server is down")
    next_sync(root, ArchiveConfig())
    assert told == [[], ids] and pending(root)["chat"] == (0, 0, None)


def test_a_delivery_still_under_way_stays_pending(root: Path) -> None:
    ids = killed_run(root, ArchiveConfig())
    answered = threading.Event()
    slow = announce.Delivery(ids[1:], lambda: answered.wait(10))
    slow.start()
    with Archive(root) as archive:
        run = outbox.pending_run(archive, announce.announcers_for(ArchiveConfig())[0], NOW)
        with archive.index.transaction():
            outbox.settle(archive, "atom", run, announce.Outcome("atom", pending=(slow,)))
        answered.set()
        assert archive.index.outbox_state()["atom"] == (2, 1, outbox.UNDER_WAY)
        assert [e.id for e in archive.index.outbox("atom")] == ids[1:]
