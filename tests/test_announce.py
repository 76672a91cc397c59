"""Announcers behind one interface: every registered announcer is held to the same contract.

Each gets the same runs: one with news, one with nothing, one of reformats only, one whose
archive fails under it. Each must tell exactly this run's news (never a reformat), skip an empty
run without a trace, and never raise into the sync. Also: the change model's renderers and the
one JSON shape of an event.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import subprocess
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import feedparser
import pytest

from crawler import announce
from crawler.announce import base
from crawler.config import Alerts, ArchiveConfig, WebhookAlert
from storage import diff as wdiff
from storage.archive import Archive, Recorded
from storage.change import compare
from storage.event import Event
from tests.conftest import PROJECT
from tests.receiver import Receiver
from tests.test_archive import URL, Clock, make

NOW = dt.datetime(2026, 3, 2, 12, 0, tzinfo=dt.UTC)
A, B = "One two three.\n", "One two four and six.\n"


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with Receiver() as got:
        yield got


@pytest.fixture
def archive(tmp_path: Path) -> Iterator[Archive]:
    archive = Archive(tmp_path / "archive", clock=Clock())
    yield archive
    archive.close()


def everything(receiver: Receiver) -> ArchiveConfig:
    """A config that turns every built-in announcer on."""
    hook = WebhookAlert(url=receiver.url, attempts=1, timeout=5.0)
    return ArchiveConfig(commit=True, alerts=Alerts(webhooks=(hook,)))


def record(archive: Archive, body: str) -> Recorded:
    done = archive.record(make(body), origin=URL, source="whitehouse")
    assert isinstance(done, Recorded)
    return done


def run_of(archive: Archive, first: int, events: Sequence[Recorded]) -> announce.Run:
    batch = announce.Batch("whitehouse", {"counts": {}, "failed": 0}, first, tuple(events))
    return announce.Run(archive, NOW, (batch,))


def ask(config: ArchiveConfig, run: announce.Run) -> dict[str, announce.Outcome]:
    announcers = announce.announcers_for(config)
    outcomes = announce.announce_all(announcers, run)
    for outcome in outcomes:
        for thread in outcome.pending:
            thread.join(10)
    assert [o.announcer for o in outcomes] == [a.name for a in announcers]
    return {o.announcer: o for o in outcomes}


def reformat(archive: Archive) -> Recorded:
    archive.record(make("One  two\nthree.\n"), origin=URL, source="whitehouse")
    done = archive.reformat(archive.resolve(URL))
    assert done is not None and done.kinds == ("reformatted",)
    return done


def test_every_registered_announcer_is_built_from_the_config(receiver: Receiver) -> None:
    names = {a.name for a in announce.announcers_for(everything(receiver))}
    assert names == {"atom", "webhook", "git"}
    assert list(announce.registered()) == ["atom", "git", "webhooks", "apprise"]  # run order
    assert [a.name for a in announce.announcers_for(ArchiveConfig())] == ["atom"]  # the default


def test_each_announcer_tells_exactly_this_runs_news(archive: Archive, receiver: Receiver) -> None:
    first = record(archive, A).event
    assert first is not None and first.id is not None
    events = [record(archive, B), record(archive, A), reformat(archive)]
    outcomes = ask(everything(receiver), run_of(archive, first.id, events))
    assert {name: (o.told, o.problem) for name, o in outcomes.items()} == {
        "atom": (2, None),
        "git": (2, None),
        "webhook": (2, None),
    }
    feed = feedparser.parse((archive.root / "changes.atom").read_bytes())
    assert [e.title for e in feed.entries] == [
        "[updated reverted flapping] A statement",
        "[updated] A statement",
        "[new] A statement",
    ]  # the feed keeps older entries; the reformat is in no announcement
    ((_, body),) = receiver.posts
    assert [e["kinds"] for e in json.loads(body)["events"]] == [
        ["updated", "reverted", "flapping"],
        ["updated"],
    ]
    head = _git(archive.root, "log", "--format=%H %s").split()
    assert head[0] == outcomes["git"].ref and "reformat" not in " ".join(head)


def test_each_announcer_skips_an_empty_run_without_a_trace(
    archive: Archive, receiver: Receiver
) -> None:
    record(archive, A)
    outcomes = ask(everything(receiver), run_of(archive, 1, []))
    assert all(o == announce.Outcome(name) for name, o in outcomes.items())
    assert not (archive.root / "changes.atom").exists() and not (archive.root / ".git").exists()
    assert receiver.posts == []


def test_a_reformat_alone_is_told_by_no_announcer(archive: Archive, receiver: Receiver) -> None:
    record(archive, A)
    done = reformat(archive)
    assert done.event is not None and done.event.id is not None
    outcomes = ask(everything(receiver), run_of(archive, done.event.id - 1, [done]))
    assert {name: (o.told, o.problem) for name, o in outcomes.items()} == {
        "atom": (0, None),
        "git": (0, None),
        "webhook": (0, None),
    }
    assert receiver.posts == []
    assert _git(archive.root, "log", "--format=%s").strip() == "1 statement"


def test_an_announcer_that_fails_never_raises_into_the_sync(
    archive: Archive, receiver: Receiver
) -> None:
    events = [record(archive, A), record(archive, B)]
    archive.close()  # every announcer now fails on the index
    outcomes = ask(everything(receiver), run_of(archive, 0, events))
    assert set(outcomes) == {"atom", "git", "webhook"}
    assert all(o.problem and o.told == 0 and not o.pending for o in outcomes.values())


def test_a_new_announcer_plugs_in_by_registering_a_name(
    archive: Archive, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(base, "_REGISTRY", dict(base._REGISTRY))

    @dataclass(frozen=True)
    class Report:
        name: str = "report"

        def announce(self, run: announce.Run) -> announce.Outcome:
            return announce.Outcome(self.name, len(run.events), "report/index.html")

    announce.register("report")(lambda config: [Report()])
    done = record(archive, A)
    outcomes = ask(ArchiveConfig(), run_of(archive, 0, [done]))
    assert list(outcomes) == ["atom", "report"]
    assert outcomes["report"].ref == "report/index.html" and outcomes["report"].told == 1


# -- the change model and the one event shape -------------------------------------------------


def test_the_change_model_renders_text_terminal_and_json() -> None:
    change = compare(make(A), make(B, title="A new title"))
    assert change.kinds == ("updated", "retitled")
    assert (change.added, change.removed, change.size) == (3, 1, 4)
    assert change.text() == "title: A statement -> A new title\nOne two [-three-]{+four and six+}."
    plain = list(change.terminal(context=8))
    assert plain == [
        "title: A [-statement-]{+new title+}",
        "body:",
        "  One two [-three-]{+four and six+}.",
    ]
    coloured = list(change.terminal(context=8, style=wdiff.ANSI))
    assert "\x1b[32m{+four and six+}\x1b[0m" in coloured[-1]
    shape = change.as_json(context=2)
    assert shape["body"] == [
        {"op": "replace", "old": "three", "new": "four and six", "before": "One two", "after": "."}
    ]
    assert shape["front_matter"][0]["key"] == "title" and shape["added"] == 3
    same = compare(make(A), make("One  two\nthree.\n"))
    assert same.kinds == ("reformatted",) and list(same.terminal())[-1].startswith(
        "body: presentation only"
    )


def test_an_event_has_one_json_shape_and_the_readme_documents_it(archive: Archive) -> None:
    done = record(archive, A)
    edit = record(archive, B)
    (row,) = [e for e in archive.index.events() if e.to_rev == edit.to_rev]
    assert Event.of(edit).as_json() == Event.of(row).as_json()
    shape = Event.of(row).as_json()
    assert shape["id"] == row.id and shape["source"] == "whitehouse" and shape["size"] == 4
    assert shape["diff"] == "One two [-three-]{+four and six+}."
    assert Event.of(done).as_json()["diff"] == "New statement: A statement"
    readme = (PROJECT / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("### The event JSON shape") :]
    items = re.findall(r"^- (.*?):", section, re.M)  # "- `url`, `path`, `title`: ..."
    documented = [name for item in items for name in re.findall(r"`(\w+)`", item)]
    assert documented[: len(shape)] == list(shape)


def _git(root: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(root), *args], capture_output=True, text=True, check=True
    ).stdout
