from __future__ import annotations

import datetime as dt
import sqlite3
from pathlib import Path

import pytest

from storage.archive import Archive, Deferred
from storage.document import Statement, dumps, loads, new_statement
from storage.errors import RevisionError, TargetError
from storage.index import Index
from storage.schema import MIGRATIONS

T0 = dt.datetime(2026, 3, 1, 12, 0, tzinfo=dt.UTC)
URL = "https://www.whitehouse.gov/briefing-room/statements-releases/2026/03/01/a-statement/"


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> dt.datetime:
        self.now += dt.timedelta(minutes=1)
        return self.now


def make(body: str = "One two three.\n", **meta: object) -> Statement:
    doc = new_statement(
        title="A statement",
        source_url=URL,
        tags="statements-releases",
        published_time=dt.datetime(2026, 3, 1, 9, 0, tzinfo=dt.timezone(dt.timedelta(hours=-5))),
        body=body,
    )
    return doc.replace(**meta) if meta else doc


@pytest.fixture
def archive(archive_dir: Path) -> Archive:
    return Archive(archive_dir, clock=Clock())


def test_record_writes_the_file_and_indexes_every_revision(archive: Archive) -> None:
    first = archive.record(make(), origin=URL)
    assert first is not None and first.kinds == ("new",) and first.to_rev == 1
    path = archive.root / "statements-releases/2026-03/2026-03-01-a-statement.md"
    assert first.path == "statements-releases/2026-03/2026-03-01-a-statement.md"
    assert path.read_text() == dumps(make())
    assert archive.record(make(), origin=URL) is None  # nothing new
    second = archive.record(make("One two four.\n"), origin=URL)
    assert (
        second is not None
        and second.kinds == ("updated",)
        and (second.from_rev, second.to_rev) == (1, 2)
    )
    assert loads(path.read_text()).body == "One two four.\n"
    row = archive.resolve(URL)
    assert [r.body for r in archive.index.revisions(row.id)] == [
        "One two three.\n",
        "One two four.\n",
    ]
    assert [e.kinds for e in archive.index.events(statement_id=row.id)] == [("updated",), ("new",)]
    assert not list(archive.root.rglob("*.part"))


def test_new_files_use_the_archive_key_order_and_old_files_keep_theirs(archive: Archive) -> None:
    archive.set_key_order("alphabetical")
    archive.record(make(), origin=URL)
    path = archive.root / "statements-releases/2026-03/2026-03-01-a-statement.md"
    assert list(loads(path.read_text()).meta) == sorted(make().meta)
    archive.set_key_order("reference")
    archive.record(make(modified_time=T0), origin=URL)
    assert list(loads(path.read_text()).meta) == sorted([*make().meta, "modified_time"])


def test_a_new_url_at_the_same_path_and_time_is_a_move(archive: Archive) -> None:
    archive.record(make(), origin=URL)
    moved_url = URL.replace("www.whitehouse.gov", "bidenwhitehouse.archives.gov")
    event = archive.record(make(source_url=moved_url), origin=moved_url)
    assert event is not None and event.kinds == ("moved",)
    assert archive.index.count_statements() == 1
    assert archive.resolve(URL).url == moved_url  # the old URL still finds it
    assert archive.index.events(kinds=["moved"])[0].detail["old_url"] == URL


def test_a_different_statement_on_a_taken_path_gets_its_own_file(archive: Archive) -> None:
    archive.record(make(), origin=URL)
    other_time = dt.datetime(2026, 3, 1, 18, 0, tzinfo=dt.UTC)
    other = make(source_url=URL.replace("www.", "other."), published_time=other_time)
    event = archive.record(other, origin="x")
    assert event is not None and event.kinds == ("new",)
    assert event.path != "statements-releases/2026-03/2026-03-01-a-statement.md"
    assert archive.index.count_statements() == 2


def test_removed_then_back_is_restored(archive: Archive) -> None:
    archive.record(make(), origin=URL)
    row = archive.resolve(URL)
    archive.mark_removed(row, why="HTTP 410")
    assert archive.resolve(URL).status == "removed"
    assert (archive.root / row.path).exists()
    back = archive.record(make(), origin=URL)
    assert back is not None and back.kinds == ("restored",)
    assert archive.resolve(URL).status == "active"


def test_resolve_by_url_path_and_slug_prefix(archive: Archive) -> None:
    archive.record(make(), origin=URL)
    row = archive.resolve(URL)
    assert archive.resolve(URL.rstrip("/")) == row
    assert archive.resolve(row.path) == row
    assert archive.resolve(str(archive.root / row.path)) == row
    assert archive.resolve("a-stat") == row
    with pytest.raises(TargetError, match="no statement"):
        archive.resolve("nothing-like-it")
    with pytest.raises(RevisionError, match="revisions 1 to 1"):
        archive.revision(row, 7)


def test_ambiguous_slug_prefix_names_the_candidates(archive: Archive) -> None:
    archive.record(make(), origin=URL)
    archive.record(
        make(source_url=URL.replace("a-statement", "a-statement-2"), published_time=T0), origin="y"
    )
    with pytest.raises(TargetError, match="2 statements match"):
        archive.resolve("a-stat")
    assert archive.resolve("a-statement").url == URL  # an exact slug wins
    assert archive.resolve("a-statement-2").url.endswith("a-statement-2/")


def test_index_schema_is_versioned(archive: Archive) -> None:
    version = archive.index.db.execute("PRAGMA user_version").fetchone()[0]
    assert version == len(MIGRATIONS) >= 5
    mode = archive.index.db.execute("PRAGMA journal_mode").fetchone()[0]
    assert mode == "wal"
    assert archive.index.path == archive.root / ".statements" / "index.sqlite"


def test_a_failed_batch_leaves_neither_files_nor_rows(archive: Archive) -> None:
    with pytest.raises(RuntimeError), archive.batch():
        archive.record(make(), origin=URL)
        raise RuntimeError("crash in the middle")
    assert archive.index.count_statements() == 0
    assert [
        p for p in archive.root.rglob("*") if p.is_file() and ".statements" not in p.parts
    ] == []


def test_flapping_is_recorded_and_reported_once(archive: Archive) -> None:
    archive.record(make(), origin=URL)
    changed = archive.record(make("One two four.\n"), origin=URL)
    back = archive.record(make(), origin=URL)  # the CMS cache serves the old text again
    again = archive.record(make("One two four.\n"), origin=URL)
    assert changed is not None and not changed.flap
    assert back is not None and back.flap and again is not None and again.flap
    row = archive.resolve(URL)
    assert row.head == 4  # every revision is kept
    shown = archive.index.events(statement_id=row.id, flaps=False)  # the latest flip only
    assert [e.kinds for e in shown] == [("updated", "reverted", "flapping"), ("updated",), ("new",)]
    assert shown[0].flips == 2 and shown[1].reverted_at == back_at(archive, row.id)
    assert len(archive.index.events(statement_id=row.id)) == 4


def back_at(archive: Archive, statement_id: int) -> str:
    return archive.index.revisions(statement_id)[2].seen_at


def test_migration_rebuilds_statements_keeping_rows_and_references(tmp_path: Path) -> None:
    """An index of schema 4 with a statement, revision, URL and event: the rebuild of
    ``statements`` (status may be ``replaced``, the URL no longer unique) keeps them all."""
    path = tmp_path / ".statements" / "index.sqlite"
    path.parent.mkdir()
    db = sqlite3.connect(path, isolation_level=None)
    for script in MIGRATIONS[:4]:
        db.executescript(script)
    db.execute("PRAGMA user_version = 4")
    db.execute(
        "INSERT INTO statements (id, url, path, slug, title, head, first_seen, last_seen)"
        " VALUES (7, 'https://x/a/', 'a.md', 'a', 'A', 1, 't', 't')"
    )
    db.execute("INSERT INTO urls VALUES ('https://x/a/', 7, 't')")
    db.execute("INSERT INTO events (statement_id, at, kinds) VALUES (7, 't', 'new')")
    db.close()
    index = Index(path)
    try:
        assert index.db.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)
        assert index.db.execute("PRAGMA foreign_keys").fetchone()[0] == 1
        assert index.by_url("https://x/a/") == index.by_id(7)
        with index.transaction():
            index.update_statement(7, status="replaced")
            index.insert_statement(
                url="https://x/a/", path="b.md", slug="a", title="B", published_time=None, at="t"
            )
        assert index.by_url("https://x/a/").path == "b.md"  # type: ignore[union-attr]
        assert index.db.execute("PRAGMA foreign_key_check").fetchall() == []
        with pytest.raises(sqlite3.IntegrityError), index.transaction():
            index.update_statement(7, status="gone")
    finally:
        index.close()


def test_a_re_cased_title_is_recorded_as_metadata_with_both_titles_and_a_dewidowed_one_is_not(
    archive: Archive,
) -> None:
    archive.record(make(title="Statement on the recent talks"), origin=URL)
    path = archive.root / "statements-releases/2026-03/2026-03-01-a-statement.md"
    before = path.read_bytes()
    dewidowed = archive.record(make(title="Statement on the recent\u00a0talks"), origin=URL)
    assert isinstance(dewidowed, Deferred), dewidowed  # a rendering difference: not recorded
    assert path.read_bytes() == before and archive.index.events(kinds=["metadata"]) == []
    re_cased = archive.record(make(title="Statement on the Recent Talks"), origin=URL)
    assert re_cased is not None and re_cased.kinds == ("metadata",)
    event = archive.index.events(kinds=["metadata"])[0]
    assert (event.detail["old_title"], event.detail["new_title"]) == (
        "Statement on the recent talks",
        "Statement on the Recent Talks",
    )


def test_a_key_the_source_never_gives_is_kept_from_the_latest_revision(archive: Archive) -> None:
    archive.record(make(modified_time=T0), origin=URL)  # an adopted file, say, with the key
    assert archive.record(make(), origin=URL, keep=("modified_time",)) is None  # no change
    edited = archive.record(make("One two four.\n"), origin=URL, keep=("modified_time",))
    assert edited is not None and edited.kinds == ("updated",)
    path = archive.root / "statements-releases/2026-03/2026-03-01-a-statement.md"
    assert "modified_time" in loads(path.read_text()).meta
    dropped = archive.record(make("One two four.\n"), origin=URL)  # not kept: the key went
    assert dropped is not None and dropped.kinds == ("metadata",)


def test_a_title_re_cased_and_dewidowed_at_once_shows_both_titles(archive: Archive) -> None:
    archive.record(make(title="Remarks on the Economy"), origin=URL)
    shouting = archive.record(make(title="REMARKS ON THE\u00a0ECONOMY"), origin=URL)
    assert shouting is not None and shouting.kinds == ("metadata",)
    event = archive.index.events(kinds=["metadata"])[0]
    assert (event.detail["old_title"], event.detail["new_title"]) == (
        "Remarks on the Economy",
        "REMARKS ON THE\u00a0ECONOMY",
    )
