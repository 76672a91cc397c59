"""Stable identity in the archive: a statement its source names by a stable id (GOV.UK's
content_id) keeps its identity, history and file across URL changes; another id is another
document, even at a URL the statement once had."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from storage.archive import Archive, Recorded
from storage.document import Statement, new_statement

T0 = dt.datetime(2026, 5, 1, 9, 0, tzinfo=dt.UTC)
BASE = "https://www.gov.uk/government"


def doc(path: str, body: str, title: str = "A speech", day: int = 1) -> Statement:
    return new_statement(
        title=title,
        source_url=f"{BASE}/{path}",
        tags="speech",
        published_time=dt.datetime(2026, 4, day, 10, 0, tzinfo=dt.UTC),
        body=body,
    )


def record(archive: Archive, statement: Statement, stable_id: str | None, hour: int) -> Recorded:
    result = archive.record(
        statement,
        origin=statement.source_url,
        at=T0 + dt.timedelta(hours=hour),
        source="gov-uk",
        stable_id=stable_id,
    )
    assert isinstance(result, Recorded)
    return result


def test_a_move_by_stable_id_keeps_identity_history_and_file(tmp_path: Path) -> None:
    with Archive(tmp_path) as archive:
        first = record(archive, doc("speeches/old-slug", "The words as first given."), "c-1", 0)
        # A new URL, other words, another publication day: only the id says it is the same.
        moved = record(archive, doc("speeches/new-slug", "Quite other words now.", day=2), "c-1", 1)
        assert moved.statement_id == first.statement_id and moved.path == first.path
        assert {"moved", "updated"} <= set(moved.kinds)
        assert (
            moved.event is not None and moved.event.detail["old_url"] == f"{BASE}/speeches/old-slug"
        )
        row = archive.index.by_id(first.statement_id)
        assert row.stable_id == "c-1" and row.url == f"{BASE}/speeches/new-slug"
        assert archive.index.urls_of(row.id) == [
            f"{BASE}/speeches/old-slug",
            f"{BASE}/speeches/new-slug",
        ]
        assert [r.number for r in archive.revisions(row)] == [1, 2]
        assert archive.resolve(f"{BASE}/speeches/old-slug").id == row.id
        assert archive.index.count_statements() == 1
        assert not (tmp_path / "speech/2026-04/2026-04-02-new-slug.md").exists()


def test_ids_are_per_source(tmp_path: Path) -> None:
    with Archive(tmp_path) as archive:
        mine = record(archive, doc("speeches/a", "Words one."), "c-1", 0)
        other = archive.record(
            doc("speeches/b", "Words two.", title="Another"),
            origin="x",
            at=T0,
            source="elsewhere",
            stable_id="c-1",
        )
        assert isinstance(other, Recorded) and other.statement_id != mine.statement_id


def test_another_id_at_the_same_url_is_a_replacement(tmp_path: Path) -> None:
    with Archive(tmp_path) as archive:
        old = record(archive, doc("news/slot", "A first story."), "c-1", 0)
        # Close enough in words that the heuristics would call it an edit: the ids say not.
        new = record(archive, doc("news/slot", "A first story, again."), "c-2", 1)
        assert new.kinds == ("replaced",) and new.statement_id != old.statement_id
        assert archive.index.by_id(old.statement_id).status == "replaced"
        assert archive.index.by_stable_id("gov-uk", "c-2") == archive.index.by_id(new.statement_id)


def test_another_id_at_a_former_url_is_a_new_statement(tmp_path: Path) -> None:
    with Archive(tmp_path) as archive:
        first = record(archive, doc("news/slot", "A first story."), "c-1", 0)
        record(archive, doc("news/renamed", "A first story."), "c-1", 1)  # moves away
        other = record(archive, doc("news/slot", "Something else.", title="Other"), "c-2", 2)
        assert other.kinds == ("new",) and other.statement_id != first.statement_id
        assert archive.index.by_id(first.statement_id).status == "active"
        assert archive.resolve(f"{BASE}/news/slot").id == other.statement_id
        assert archive.index.by_id(first.statement_id).url == f"{BASE}/news/renamed"


def test_an_id_learnt_later_is_kept(tmp_path: Path) -> None:
    with Archive(tmp_path) as archive:
        first = record(archive, doc("news/a", "Words."), None, 0)  # imported without an id
        again = record(archive, doc("news/a", "Words, edited."), "c-9", 1)
        assert again.statement_id == first.statement_id and again.kinds == ("updated",)
        assert archive.index.by_id(first.statement_id).stable_id == "c-9"
        preview = archive.preview(
            doc("news/moved", "Words, edited."), stable_id="c-9", source="gov-uk"
        )
        assert preview == ("moved",)
