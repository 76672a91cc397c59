"""Declared edits: what a publisher says of its own changes (change notes, withdrawals), stored
with the revision and deciding the kinds ``declared``, ``silent`` and ``withdrawn``.

Plain statements and :class:`storage.declared.Declared` values only: storage knows no publisher.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from crawler.cli import main
from storage.archive import Archive, Recorded
from storage.declared import ChangeNote, Declared, Withdrawal, loads, new_notes
from storage.document import Statement, dumps, new_statement

URL = "https://publisher.example/news/a-statement"
LONDON = dt.timezone(dt.timedelta(hours=1))
PUBLISHED = dt.datetime(2024, 6, 3, 9, 30, tzinfo=LONDON)
FIRST = ChangeNote(dt.datetime(2024, 6, 3, 8, 30, tzinfo=dt.UTC), "First published.")
FIX = ChangeNote(dt.datetime(2024, 6, 4, 10, 0, tzinfo=dt.UTC), "Corrected the minister's name.")
GONE = Withdrawal(dt.datetime(2024, 7, 1, 12, 0, tzinfo=dt.UTC), "This policy no longer applies.")


def statement(body: str, modified: dt.datetime = PUBLISHED) -> Statement:
    return new_statement(
        title="A statement",
        source_url=URL,
        tags="press_release",
        published_time=PUBLISHED,
        modified_time=modified,
        body=body,
        order="alphabetical",
    )


class Clock:
    def __init__(self) -> None:
        self.now = dt.datetime(2024, 6, 3, 12, 0, tzinfo=dt.UTC)

    def __call__(self) -> dt.datetime:
        self.now += dt.timedelta(hours=1)
        return self.now


@pytest.fixture
def archive(tmp_path: Path) -> Archive:
    return Archive(tmp_path / "archive", clock=Clock())


def record(archive: Archive, st: Statement, declared: Declared | None) -> Recorded:
    done = archive.record(st, origin=URL, source="pub", declared=declared)
    assert isinstance(done, Recorded)
    return done


def test_new_notes_are_those_not_declared_before() -> None:
    before = Declared([FIRST])
    assert new_notes(before, Declared([FIRST, FIX])) == (FIX,)
    assert new_notes(before, Declared([FIRST])) == ()
    # nothing stored before (an imported revision): notes later than its modified_time are new
    assert new_notes(None, Declared([FIRST, FIX]), PUBLISHED) == (FIX,)
    assert new_notes(None, Declared([FIRST, FIX])) == ()


def test_declared_round_trips_through_its_stored_json() -> None:
    declared = Declared([FIRST, FIX], GONE, {"content_id": "c-1", "people": ["Ann"]})
    again = loads(declared.dumps())
    assert again == declared and loads(None) is None
    assert json.loads(declared.dumps())["withdrawn"]["explanation"] == GONE.explanation


def test_the_declaration_is_stored_with_each_revision(archive: Archive) -> None:
    first = record(archive, statement("One.\n"), Declared([FIRST], about={"content_id": "c-1"}))
    assert first.kinds == ("new",)
    stored = loads(archive.index.declared(first.statement_id, 1))
    assert stored is not None and stored.notes == (FIRST,) and stored.about["content_id"] == "c-1"


def test_an_edit_with_a_new_change_note_is_declared_with_the_note(archive: Archive) -> None:
    record(archive, statement("One two.\n"), Declared([FIRST]))
    later = dt.datetime(2024, 6, 4, 11, 0, tzinfo=LONDON)
    edit = record(archive, statement("One three.\n", later), Declared([FIRST, FIX]))
    assert edit.kinds == ("updated", "metadata", "declared")
    assert edit.event is not None
    assert edit.event.detail["declared"] == [FIX.as_json()]  # only the new note
    assert (
        "Declared by the publisher (2024-06-04T10:00:00+00:00): Corrected the minister's name."
        in (edit.event.diff or "")
    )
    assert "declared" in archive.changes(kinds="declared")[0].kinds


def test_a_body_change_with_no_new_note_and_the_same_modified_time_is_silent(
    archive: Archive,
) -> None:
    record(archive, statement("One two.\n"), Declared([FIRST]))
    edit = record(archive, statement("One three.\n"), Declared([FIRST]))
    assert edit.kinds == ("updated", "silent")
    assert edit.event is not None and "declared" not in edit.event.detail


def test_a_body_change_with_a_moved_modified_time_but_no_note_is_not_silent(
    archive: Archive,
) -> None:
    record(archive, statement("One two.\n"), Declared([FIRST]))
    later = PUBLISHED + dt.timedelta(days=1)
    edit = record(archive, statement("One three.\n", later), Declared([FIRST]))
    assert edit.kinds == ("updated", "metadata")


def test_a_new_note_wins_over_an_unannounced_sync(archive: Archive) -> None:
    record(archive, statement("One two.\n"), Declared([FIRST]))
    done = archive.record(
        statement("One three.\n"), origin=URL, unannounced=True, declared=Declared([FIRST, FIX])
    )
    assert isinstance(done, Recorded) and done.kinds == ("updated", "declared")


def test_a_withdrawal_with_the_same_text_is_an_event_of_its_own(archive: Archive) -> None:
    first = record(archive, statement("Words stay.\n"), Declared([FIRST]))
    path = archive.root / first.path
    before = path.read_bytes()
    gone = record(archive, statement("Words stay.\n"), Declared([FIRST], GONE))
    assert gone.kinds == ("withdrawn",) and (gone.from_rev, gone.to_rev) == (1, None)
    assert gone.event is not None and gone.event.detail["withdrawn"] == GONE.as_json()
    said = "Withdrawn by the publisher (2024-07-01T12:00:00+00:00): This policy no longer applies."
    assert said in (gone.event.diff or "")
    row = archive.resolve(URL)
    assert row.status == "withdrawn" and row.head == 1  # the text stays archived
    assert path.read_bytes() == before
    # seen again, withdrawn still: nothing new
    assert (
        archive.record(statement("Words stay.\n"), origin=URL, declared=Declared([FIRST], GONE))
        is None
    )
    assert [e.kinds for e in archive.history(URL)] == [("new",), ("withdrawn",)]
    assert [s.url for s in archive.statements(status="withdrawn")] == [URL]


def test_a_withdrawal_with_an_edit_and_later_edits_keep_the_status(archive: Archive) -> None:
    record(archive, statement("Words.\n"), Declared([FIRST]))
    gone = record(archive, statement("Words, withdrawn.\n"), Declared([FIRST], GONE))
    assert gone.kinds == ("updated", "silent", "withdrawn") and gone.to_rev == 2
    assert archive.resolve(URL).status == "withdrawn"
    again = record(archive, statement("Words, withdrawn still.\n"), Declared([FIRST], GONE))
    assert "withdrawn" not in again.kinds and archive.resolve(URL).status == "withdrawn"


def test_a_withdrawal_lifted_is_restored(archive: Archive) -> None:
    record(archive, statement("Words.\n"), Declared([FIRST]))
    record(archive, statement("Words.\n"), Declared([FIRST], GONE))
    back = record(archive, statement("Words.\n"), Declared([FIRST]))
    assert back.kinds == ("restored",) and archive.resolve(URL).status == "active"


def test_preview_says_the_kinds_and_writes_nothing(archive: Archive) -> None:
    record(archive, statement("Words.\n"), Declared([FIRST]))
    assert archive.preview(statement("Words.\n"), declared=Declared([FIRST], GONE)) == (
        "withdrawn",
    )
    assert archive.preview(statement("Other words.\n"), declared=Declared([FIRST])) == (
        "updated",
        "silent",
    )
    assert archive.resolve(URL).status == "active" and len(archive.history(URL)) == 1


def test_an_imported_revision_then_a_declared_one_judges_notes_by_time(archive: Archive) -> None:
    text = dumps(statement("Words.\n"))
    archive.record(statement("Words.\n"), origin="file:a.md", text=text)
    later = PUBLISHED + dt.timedelta(days=1)
    edit = record(archive, statement("New words.\n", later), Declared([FIRST, FIX]))
    assert edit.kinds == ("updated", "metadata", "declared")
    assert edit.event is not None and edit.event.detail["declared"] == [FIX.as_json()]


def test_a_source_that_declares_nothing_records_as_before(archive: Archive) -> None:
    record(archive, statement("Words.\n"), None)
    edit = record(archive, statement("Other words.\n"), None)
    assert edit.kinds == ("updated",)
    assert archive.index.declared(edit.statement_id, 2) is None


def test_history_and_changes_show_a_withdrawal(
    archive: Archive, capsys: pytest.CaptureFixture[str]
) -> None:
    record(archive, statement("Words.\n"), Declared([FIRST]))
    record(archive, statement("Words.\n"), Declared([FIRST], GONE))
    root = str(archive.root)
    archive.close()
    capsys.readouterr()
    assert main(["history", URL, "--archive", root]) == 0
    out = capsys.readouterr().out
    assert "(withdrawn)" in out and "withdrawn" in out and GONE.explanation in out
    assert main(["changes", "--archive", root, "--kind", "withdrawn"]) == 0
    out = capsys.readouterr().out
    assert "withdrawn" in out and GONE.explanation in out
