"""Files published from the index (storage/publish.py): what team workers record without writing
files, one publish writes, byte for byte as a single user's sync would have; incrementally and
idempotently."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from storage.archive import Archive
from storage.document import Statement, new_statement
from storage.publish import MANIFEST, publish_files

T0 = dt.datetime(2026, 3, 1, 12, 0, tzinfo=dt.UTC)


def statement(n: int, body: str = "Words.\n") -> Statement:
    return new_statement(
        title=f"Statement {n}",
        source_url=f"https://example.org/statements/{n}/",
        tags="statements",
        published_time=T0 + dt.timedelta(hours=n),
        body=body,
    )


def record(archive: Archive, *docs: Statement) -> None:
    with archive.batch():
        for doc in docs:
            archive.record(doc, origin=doc.source_url, at=T0)


def files(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*.md")}


def test_files_published_from_the_index_equal_a_single_users(tmp_path: Path) -> None:
    docs = [statement(n) for n in range(3)]
    edit = statement(1, "Other words.\n")
    with Archive(tmp_path / "lite", create=True) as lite:
        record(lite, *docs)
        record(lite, edit)
    with Archive(tmp_path / "team", create=True) as team:
        team.files = False  # a worker: the index only
        record(team, *docs)
        record(team, edit)
        assert files(team.root) == {}
        assert publish_files(team) == 3
        assert files(team.root) == files(lite.root) and len(files(lite.root)) == 3
        assert publish_files(team) == 0  # published: nothing to do
        record(team, statement(2, "Changed again.\n"))
        assert publish_files(team) == 1  # only what moved
        (team.root / ".statements" / MANIFEST).unlink()  # killed before it saved the manifest
        assert publish_files(team) == 0  # every file compared by content: all as they should be
        assert (team.root / ".statements" / MANIFEST).is_file()


def test_a_file_a_single_users_sync_already_wrote_is_only_noted(tmp_path: Path) -> None:
    with Archive(tmp_path / "a", create=True) as archive:
        record(archive, statement(1))  # files written as recorded
        before = files(archive.root)
        assert publish_files(archive) == 0 and files(archive.root) == before
