"""Change events: reverts and flapping, stored announcements, the feed, `changes`, commits."""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from pathlib import Path
from typing import Any

import feedparser
import pytest

from crawler import announce
from crawler.announce import atom, git
from crawler.cli import main
from crawler.config import AtomAlert
from storage import diff as wdiff
from storage.archive import Archive, Deferred, Recorded
from storage.event import Event
from storage.index import EventFilter
from storage.schema import MIGRATIONS
from tests.test_archive import URL, make

T0 = dt.datetime(2026, 3, 1, 12, 0, tzinfo=dt.UTC)
A, B = "One two three.\n", "One two four.\n"


class Moment:
    """An injected clock that stays where a test puts it."""

    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, **delta: float) -> dt.datetime:
        self.now += dt.timedelta(**delta)
        return self.now


@pytest.fixture
def clock() -> Moment:
    return Moment()


@pytest.fixture
def archive(archive_dir: Path, clock: Moment) -> Archive:
    return Archive(archive_dir, clock=clock)


def record(archive: Archive, body: str, **meta: Any) -> Recorded:
    done = archive.record(make(body, **meta), origin=URL)
    assert done is not None
    return done


def test_a_revert_long_after_the_edit_is_reverted_and_names_what_it_undid(
    archive: Archive, clock: Moment
) -> None:
    record(archive, A)
    clock.advance(hours=1)
    edit = record(archive, B)
    edit_seen = archive.revision(archive.resolve(URL)).seen_at
    clock.advance(days=40)
    # The site puts the old words back and moves modified_time: not the same file text, but
    # the same words and title as revision 1, so still a revert.
    back = record(archive, A, modified_time=T0 + dt.timedelta(days=40))
    assert edit.kinds == ("updated",) and not edit.flap
    assert back.kinds == ("updated", "metadata", "reverted") and not back.flap
    events = archive.index.events(statement_id=back.statement_id)
    assert [e.to_rev for e in events] == [3, 2, 1]
    assert events[0].detail | {"origin": ""} == {
        "origin": "",
        "reverts": 2,
        "reverts_seen": edit_seen,
        "reverts_kinds": "updated",
        "back_to": 1,
    }
    assert events[1].reverted_at == events[0].at  # the edit knows it was undone, and when
    assert events[0].diff is not None and events[0].diff.startswith(
        f"Reverted: the page says again what it said at revision 1, undoing the edit of"
        f" revision 2 (seen {edit_seen})."
    )
    assert "[-four-]{+three+}" in events[0].diff and events[0].size == 2


def test_an_edit_that_moves_on_is_no_revert(archive: Archive, clock: Moment) -> None:
    record(archive, A)
    record(archive, B)
    onward = record(archive, "One two five.\n")
    assert onward.kinds == ("updated",)
    # Only a date moved, then moved back: the same text as two revisions ago, reverted too.
    record(archive, "One two five.\n", modified_time=T0)
    back = record(archive, "One two five.\n")
    assert back.kinds == ("metadata", "reverted", "flapping")


def test_flapping_is_collapsed_to_the_latest_flip_and_counted(
    archive: Archive, clock: Moment
) -> None:
    record(archive, A)
    clock.advance(days=2)
    record(archive, B)
    flips = []
    for body in (A, B, A, B, A):
        clock.advance(minutes=30)
        flips.append(record(archive, body))
    assert all(f.flap and "reverted" in f.kinds for f in flips)
    index = archive.index
    every = index.events(statement_id=flips[0].statement_id)
    assert [e.flips for e in every] == [5, 4, 3, 2, 1, 0, 0]
    shown = index.events(statement_id=flips[0].statement_id, flaps=False)
    assert [e.to_rev for e in shown] == [7, 2, 1]  # the latest flip says what the page says now
    assert shown[0].detail["back_to"] == 5 and shown[1].reverted_at == every[4].at
    assert [e.to_rev for e in index.events(kinds=["flapping"], flaps=False)] == [7]
    assert len(index.events(kinds=["flapping"])) == 5
    assert [e.to_rev for e in index.events(kinds=["reverted"], flaps=False)] == [7]


def test_the_feed_reads_stored_text_and_announces_reverts(
    archive: Archive, clock: Moment, monkeypatch: pytest.MonkeyPatch
) -> None:
    record(archive, A)
    clock.advance(hours=1)
    record(archive, B)
    clock.advance(days=3)
    record(archive, A)
    clock.advance(days=1)
    assert isinstance(archive.record(make("One  two\nthree.\n"), origin=URL), Deferred)
    reformat = archive.reformat(archive.resolve(URL))  # as 'statements reformat' does
    assert reformat is not None and reformat.kinds == ("reformatted",)

    def no_diff(*_: object) -> None:
        raise AssertionError("write_atom diffed")

    monkeypatch.setattr(wdiff, "word_diff", no_diff)
    path = atom.write_atom(archive, AtomAlert(), clock())
    assert path is not None
    feed = feedparser.parse(path.read_bytes())
    assert not feed.bozo
    titles = [e.title for e in feed.entries]
    assert titles == [
        "[updated reverted] A statement",
        "[updated] A statement",
        "[new] A statement",
    ]  # the reformat is never announced: not in the feed, not to a webhook
    assert [a.to_rev for a in announce.latest(archive, EventFilter())] == [3, 2, 1]
    assert not announce.wanted(Event.of(archive.index.events()[0]), (), (), 0)
    revert, edit, _ = feed.entries
    assert revert.content[0].value.startswith(
        '<p class="revert"><strong>Reverted: the page says again what it said'
    )
    assert "reverted 2026-03-04T13:00:00+00:00" in edit.summary
    only = atom.write_atom(archive, AtomAlert(kinds=("reverted",)), clock())
    assert only is not None and len(feedparser.parse(only.read_bytes()).entries) == 1


def test_a_revert_reaches_whoever_was_told_of_the_edit(archive: Archive, clock: Moment) -> None:
    record(archive, A)
    clock.advance(hours=1)
    done = archive.record(make(B), origin=URL, unannounced=True)  # a silent edit
    assert done is not None and done.kinds == ("updated", "silent")
    clock.advance(days=3)
    back = record(archive, A, modified_time=clock())  # put back openly: not silent itself
    assert "silent" not in back.kinds
    feed = atom.write_atom(archive, AtomAlert(kinds=("silent",)), clock())
    assert feed is not None
    titles = [e.title for e in feedparser.parse(feed.read_bytes()).entries]
    assert titles == ["[updated metadata reverted] A statement", "[updated silent] A statement"]
    told = announce.latest(archive, EventFilter())
    assert [announce.wanted(a, ("silent",), (), 0) for a in told] == [True, True, False]
    assert [announce.wanted(a, ("metadata",), (), 0) for a in told] == [True, False, False]


def test_events_recorded_before_stored_text_are_rendered_once(
    archive: Archive, clock: Moment, monkeypatch: pytest.MonkeyPatch
) -> None:
    record(archive, A)
    record(archive, "One two three four five six seven.\n")
    record(archive, "One two three four five six seven eight.\n")
    stored = {e.id: (e.diff, e.size) for e in archive.index.events()}
    archive.index.db.execute("UPDATE events SET diff = NULL, size = NULL")
    # min_change 2 keeps the 4-word edit, not the 1-word one: decided on the rendered size.
    chosen = announce.latest(archive, EventFilter(min_size=2, kinds=("updated",)))
    assert [a.size for a in chosen] == [4]
    assert [e.diff is None for e in archive.index.events()] == [False, False, True]
    monkeypatch.setattr(wdiff, "word_diff", lambda *_: 1 / 0)
    assert atom.write_atom(archive, AtomAlert(), clock()) is not None  # renders "new" only
    assert {e.id: (e.diff, e.size) for e in archive.index.events()} == stored


def test_an_old_index_is_migrated_flip_backs_become_reverts(tmp_path: Path) -> None:
    path = tmp_path / "archive" / ".statements" / "index.sqlite"
    path.parent.mkdir(parents=True)
    db = sqlite3.connect(path)
    for script in MIGRATIONS[:4]:
        db.executescript(script)
    db.execute("PRAGMA user_version = 4")
    db.execute(
        "INSERT INTO statements (id, url, path, slug, title, head, first_seen, last_seen)"
        " VALUES (1, ?, 'a.md', 'a', 'A', 3, 't', 't')",
        (URL,),
    )
    for number, seen in ((1, "2026-01-01"), (2, "2026-01-02"), (3, "2026-01-02T05")):
        db.execute(
            "INSERT INTO revisions (statement_id, number, seen_at, origin, url, path, title,"
            " content_hash, words_hash, front_matter, body)"
            " VALUES (1, ?, ?, 'o', ?, 'a.md', 'A', 'h', 'w', '', '')",
            (number, seen, URL),
        )
    db.executemany(
        "INSERT INTO events (statement_id, at, kinds, from_rev, to_rev, detail)"
        " VALUES (1, ?, ?, ?, ?, ?)",
        [
            ("2026-01-01", "new", None, 1, "{}"),
            ("2026-01-02", "updated", 1, 2, "{}"),
            ("2026-01-02T05", "updated", 2, 3, '{"flap_of": 2}'),
        ],
    )
    db.commit()
    db.close()
    with Archive(tmp_path / "archive") as archive:
        flip, edit, _ = archive.index.events()
    assert flip.kinds == ("updated", "reverted", "flapping") and flip.flips == 1
    assert flip.detail == {
        "flap_of": 2,
        "reverts": 2,
        "back_to": 1,
        "reverts_seen": "2026-01-02",
        "reverts_kinds": "updated",
    }
    assert edit.reverted_at == "2026-01-02T05" and flip.diff is None


def test_commit_messages_name_what_changed_never_a_reformat(
    archive: Archive, clock: Moment
) -> None:
    new = record(archive, A)
    edit = record(archive, B)
    back = record(archive, A)
    archive.record(make("One  two\nthree.\n"), origin=URL)
    reformat = archive.reformat(archive.resolve(URL))
    assert reformat is not None
    assert git.commit_message([new], holds=63) == "63 statements"
    assert git.commit_message([edit, reformat]) == "1 updated: A statement"
    assert git.commit_message([back]) == "1 reverted: A statement"
    assert git.commit_message([reformat]) == "1 reformatted, no words changed"


def test_changes_filters_by_source_and_time_and_says_when_it_stops(
    archive_dir: Path, clock: Moment, capsys: pytest.CaptureFixture[str]
) -> None:
    with Archive(archive_dir, clock=clock) as archive:
        for n in range(60):
            clock.advance(hours=1)
            url = f"https://www.whitehouse.gov/briefings-statements/2026/03/s{n}/"
            archive.record(
                make(A, source_url=url), origin=url, source="whitehouse" if n % 2 else "other"
            )
    base = ["changes", "--archive", str(archive_dir)]
    assert main(base) == 0
    out, err = capsys.readouterr()
    assert len(out.splitlines()) == 100  # 50 events, 2 lines each
    assert err == "statements: showing the latest 50 of 60 events; --limit 0 shows all\n"
    assert main([*base, "--limit", "0", "--json"]) == 0
    out, err = capsys.readouterr()
    assert len(json.loads(out)) == 60 and not err
    assert main([*base, "--source", "whitehouse", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert len(listed) == 30 and all(e["url"].rstrip("/")[-1] in "13579" for e in listed)
    assert main([*base, "--since", "2026-03-02", "--until", "2026-03-02", "--json"]) == 0
    assert [e["at"][:10] for e in json.loads(capsys.readouterr().out)] == ["2026-03-02"] * 24
    assert main([*base, "--until", "2026-03-01T14:00:00Z", "--json"]) == 0
    assert [e["at"] for e in json.loads(capsys.readouterr().out)] == ["2026-03-01T13:00:00+00:00"]
    assert main([*base, "--until", "soon"]) == 2
    assert capsys.readouterr().err.startswith("statements: --until 'soon' is not a date")
    assert main([*base, "--limit", "-3"]) == 2
    out, err = capsys.readouterr()
    assert not out and err.count("\n") == 1
    assert "--limit: must be 0 or more, not -3" in err


def test_changes_shows_reverts_and_collapses_flapping(
    archive_dir: Path, clock: Moment, capsys: pytest.CaptureFixture[str]
) -> None:
    with Archive(archive_dir, clock=clock) as archive:
        record(archive, A)
        clock.advance(days=1)
        record(archive, B)
        for body in (A, B, A):
            clock.advance(hours=1)
            record(archive, body)
    base = ["changes", "--archive", str(archive_dir)]
    assert main(base) == 0
    out = capsys.readouterr().out
    assert "updated reverted flapping" in out and out.count("reverted flapping") == 1
    assert "flapping: the latest of 3 flip-backs in a row (--all shows each)" in out
    assert "reverted 2026-03-02T13:00:00+00:00" in out  # the edit, undone an hour later
    assert main([*base, "--all", "--kind", "flapping", "--json"]) == 0
    assert [e["flips"] for e in json.loads(capsys.readouterr().out)] == [3, 2, 1]
    assert main([*base, "--kind", "reverted", "--json"]) == 0
    (shown,) = json.loads(capsys.readouterr().out)
    assert shown["to_rev"] == 5 and shown["detail"]["back_to"] == 3 and shown["id"] == 5
