"""The public Python API (docs/python.md): its exported names, the read API on an archive, and
``crawler.sync`` taking the same road as ``statements sync``."""

from __future__ import annotations

import datetime as dt
import importlib
import types
from collections.abc import Iterator
from pathlib import Path

import pytest

import crawler
import storage
from crawler.api import choose_sources
from crawler.cli import main
from crawler.recorder import DryRunRecorder, Outcome
from crawler.source import load_source
from storage.archive import Archive, Deferred, Recorded
from storage.document import new_statement
from storage.errors import RevisionError, TargetError
from storage.lock import ArchiveLocked, archive_lock
from tests.conftest import PROJECT

T0 = dt.datetime(2026, 3, 1, 12, 0, tzinfo=dt.UTC)
URL = "https://www.whitehouse.gov/briefings-statements/2026/03/on-tariffs/"


def public(module: types.ModuleType) -> list[str]:
    """A package's public names, its submodules left out (importing one binds its name)."""
    names = vars(module).items()
    return sorted(
        n for n, v in names if not n.startswith("_") and not isinstance(v, types.ModuleType)
    )


def test_crawler_exports_exactly_its_public_api() -> None:
    assert crawler.__all__ == [
        "ConvertError",
        "DiscoveryError",
        "FetchError",
        "Interrupted",
        "NotAStatement",
        "OffSiteError",
        "RobotsDisallowed",
        "RunResult",
        "Source",
        "SourceError",
        "StatementSyncError",
        "Stopped",
        "SyncReport",
        "TooLargeError",
        "Unreachable",
        "load_source",
        "load_sources",
        "seed_dirs",
        "sync",
    ]
    assert public(crawler) == sorted(crawler.__all__)
    assert callable(crawler.sync)  # the function, never shadowed by a module of that name
    importlib.import_module("crawler.syncer")  # importing the engine changes nothing
    assert isinstance(crawler.sync, types.FunctionType)


def test_storage_exports_exactly_its_public_api() -> None:
    assert storage.__all__ == [
        "KINDS",
        "Archive",
        "ArchiveError",
        "ArchiveLocked",
        "ChangeNote",
        "Chunk",
        "Declared",
        "Deferred",
        "Diff",
        "DocumentError",
        "EventFilter",
        "EventRow",
        "FieldChange",
        "PathError",
        "Recorded",
        "RevisionError",
        "RevisionRow",
        "Statement",
        "StatementRow",
        "StatementSyncError",
        "TargetError",
        "Withdrawal",
        "WriteError",
        "dumps",
        "loads",
        "new_statement",
    ]
    assert public(storage) == sorted(storage.__all__)
    errors = [getattr(storage, n) for n in storage.__all__ if n.endswith(("Error", "Locked"))]
    assert all(issubclass(e, storage.StatementSyncError) for e in errors)


# -- the read API -----------------------------------------------------------------------------


def statement(body: str, title: str = "On Tariffs", url: str = URL) -> storage.Statement:
    return new_statement(
        title=title, source_url=url, tags="statements", published_time=T0, body=body
    )


@pytest.fixture
def archive(tmp_path: Path) -> Iterator[Archive]:
    """One statement edited twice (a body edit, then a retitling), another one removed."""
    with Archive(tmp_path / "a") as archive:
        archive.record(statement("Tariffs rise on steel."), origin=URL, at=T0, source="wh")
        later = T0 + dt.timedelta(days=1)
        archive.record(statement("Tariffs rise on steel and aluminum."), origin=URL, at=later)
        archive.record(
            statement("Tariffs rise on steel and aluminum.", "On New Tariffs"),
            origin=URL,
            at=later + dt.timedelta(days=1),
        )
        other = URL.replace("on-tariffs", "on-trade")
        gone = archive.record(statement("Trade.", "On Trade", other), origin=other, at=T0)
        assert isinstance(gone, Recorded)
        archive.mark_removed(archive.index.by_id(gone.statement_id), at=later, why="HTTP 404")
    with Archive(tmp_path / "a", create=False) as reading:
        yield reading


def test_statements_list_and_filter(archive: Archive) -> None:
    assert [r.title for r in archive.statements()] == ["On New Tariffs", "On Trade"]
    assert [r.title for r in archive.statements(status="removed")] == ["On Trade"]
    assert [r.title for r in archive.statements(source="wh")] == ["On New Tariffs"]
    assert len(archive.statements(limit=1)) == 1


def test_history_and_revisions_of_one_statement(archive: Archive) -> None:
    history = archive.history("on-tariffs")  # by slug; a URL or a path works too
    assert [e.kinds for e in history] == [("new",), ("updated",), ("retitled",)]
    assert [(e.from_rev, e.to_rev) for e in history] == [(None, 1), (1, 2), (2, 3)]
    revisions = archive.revisions(URL)
    assert [r.number for r in revisions] == [1, 2, 3]
    assert archive.revision(URL, 1).body.startswith("Tariffs rise on steel.")
    assert archive.revision(revisions[0].path, -1).number == 2
    with pytest.raises(TargetError):
        archive.history("no-such-statement")


def test_diff_between_revisions(archive: Archive) -> None:
    diff = archive.diff(URL, 1, 2)
    assert diff.kinds == ("updated",)
    assert (diff.added, diff.removed) == (2, 0)
    assert diff.hunks() == ["Tariffs rise on steel {+and aluminum+}."]
    latest = archive.diff(URL)  # the latest against the one before
    assert latest.kinds == ("retitled",) and latest.hunks() == []
    assert [(f.key, f.old, f.new) for f in latest.fields] == [
        ("title", "On Tariffs", "On New Tariffs")
    ]
    assert archive.diff(URL, 1).kinds == ("updated", "retitled")  # two steps: classified
    with pytest.raises(RevisionError):
        archive.diff(URL, 7)
    with pytest.raises(RevisionError, match="only one revision"):
        archive.diff("on-trade")


def test_changes_with_filters(archive: Archive) -> None:
    newest = [("retitled",), ("removed",), ("updated",)]  # the last two at the same time
    assert [e.kinds for e in archive.changes()][:3] == newest
    assert [e.kinds for e in archive.changes(kinds="removed")] == [("removed",)]
    since = T0 + dt.timedelta(hours=12)
    assert len(archive.changes(since=since)) == 3  # updated, retitled, removed
    assert len(archive.changes(since=since, until="2026-03-02T13:00:00+00:00")) == 2
    assert [e.title for e in archive.changes(sources=["wh"])] == ["On New Tariffs"] * 3
    assert len(archive.changes(limit=2)) == 2


# -- sync: one code path with the CLI ---------------------------------------------------------


def test_sync_refuses_unknown_and_missing_sources_as_the_cli_does(tmp_path: Path) -> None:
    with pytest.raises(crawler.SourceError, match="no source named 'nope'"):
        crawler.sync(tmp_path / "a", ["nope"])
    assert main(["sync", "--archive", str(tmp_path / "a"), "nope"]) == 2
    with pytest.raises(crawler.SourceError, match="no enabled seed file"):
        choose_sources({}, None)
    with pytest.raises(crawler.SourceError, match="none was named"):
        choose_sources({}, [])
    whitehouse = load_source(PROJECT / "seeds" / "whitehouse.toml")
    assert choose_sources({}, whitehouse) == [whitehouse]
    assert choose_sources({"whitehouse": whitehouse}, None) == [whitehouse]


def test_sync_takes_the_archive_lock(tmp_path: Path) -> None:
    root = tmp_path / "a"
    Archive(root).close()
    with archive_lock(root / ".statements"), pytest.raises(ArchiveLocked):
        crawler.sync(root, base_url="http://127.0.0.1:9")  # refused before any request


# -- the typed outcome and the dry-run recorder -----------------------------------------------


def test_outcomes_of_what_the_archive_did() -> None:
    recorded = Recorded(1, URL, "a.md", ("updated", "reverted", "flapping"), 2, 3, "T", flap=True)
    assert Outcome.of(recorded) == Outcome(recorded.kinds, recorded)
    assert Outcome.of(recorded).flap and not Outcome.of(recorded).unchanged
    deferred = Outcome.of(Deferred(1, URL, "a.md", "T"))
    assert deferred.deferred and deferred.event is None and not deferred.unchanged
    assert Outcome.of(None).unchanged


def test_a_dry_run_recorder_answers_and_writes_nothing(archive: Archive, tmp_path: Path) -> None:
    with Archive(tmp_path / "a") as writable:
        dry = DryRunRecorder(writable)
        edit = statement("Tariffs fall.", "On New Tariffs")
        outcome = dry.record(edit, origin=URL, previous_url=None, unannounced=False)
        assert outcome == Outcome(("updated",))
        assert dry.mark_removed(1, 410) == Outcome(("removed",))
        with dry.transaction():
            dry.set_fetch_state(1, etag="x")
            dry.set_settings({"key_order": "alphabetical"})
        assert writable.index.fetch_state(URL).etag is None  # type: ignore[union-attr]
        assert writable.index.setting("key_order") is None
        assert len(writable.revisions(URL)) == 3
