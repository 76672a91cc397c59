"""Search, list and export: the commands and the archive's read methods behind them.

On a small archive of three statements: one whose latest revision no longer says a word its
first one said, one with a tag of its own, one removed. Also the full-text index itself: the
migration that builds it for an existing archive, and that it stays in step with the revisions
through commits and rollbacks (FTS5's own integrity check).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import sqlite3
from pathlib import Path

import pytest

from crawler.cli import main
from storage import export as exporter
from storage.archive import Archive
from storage.index import Index, SearchQuery, StatementFilter
from tests.test_archive import Clock, make

STEEL = "https://www.whitehouse.gov/briefing-room/2026/03/01/steel/"
PRICES = "https://www.whitehouse.gov/fact-sheets/2025/01/10/prices/"
OLD = "https://www.whitehouse.gov/briefing-room/2024/05/05/old-remarks/"


def when(*day: int) -> dt.datetime:
    return dt.datetime(*day, 9, 0, tzinfo=dt.timezone(dt.timedelta(hours=-5)))


@pytest.fixture
def root(tmp_path: Path) -> Path:
    root = tmp_path / "archive"
    with Archive(root, clock=Clock()) as archive:
        steel = {"title": "Steel", "source_url": STEEL, "published_time": when(2026, 3, 1)}
        archive.record(make("The tariffs on steel rise.\n", **steel), origin=STEEL)
        archive.record(make("The duties on steel rise.\n", **steel), origin=STEEL)
        archive.record(
            make(
                "Inflation fell in March; inflation is low.\n",
                title="Inflation report",
                source_url=PRICES,
                tags="fact-sheets",
                published_time=when(2025, 1, 10),
            ),
            origin=PRICES,
            source="whitehouse",
        )
        archive.record(
            make(
                "Remarks about tariffs and trade.\n",
                title="Old remarks",
                source_url=OLD,
                published_time=when(2024, 5, 5),
            ),
            origin=OLD,
        )
        archive.mark_removed(archive.resolve(OLD), why="HTTP 404")
    return root


def run(root: Path, *argv: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main([*argv, "--archive", str(root)])
    out, err = capsys.readouterr()
    return code, out, err


def test_search_finds_latest_words_or_every_revision(
    root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(root, "search", "tariffs", capsys=capsys)
    assert code == 0 and "Old remarks" in out and "Steel" not in out
    assert "removed" in out and "«tariffs»" in out
    code, out, _ = run(root, "search", "tariffs", "--all-revisions", capsys=capsys)
    assert "Steel" in out and "revision 1 of 2" in out and "the latest no longer says it" in out
    code, out, _ = run(root, "search", "tariff", "--all-revisions", "--json", capsys=capsys)
    hits = {h["title"]: h for h in json.loads(out)}  # a stem finds the plural
    assert set(hits) == {"Steel", "Old remarks"}
    assert hits["Steel"]["revisions"] == [1] and hits["Steel"]["latest"] is False
    assert hits["Steel"]["snippet"] == "The «tariffs» on steel rise."
    code, out, err = run(root, "search", "steel", "--limit", "1", "--source", "x", capsys=capsys)
    assert code == 0 and out == "no statement says 'steel'\n" and err == ""
    code, out, _ = run(root, "search", "inflation", "--since", "2025-01-10", capsys=capsys)
    assert "Inflation report" in out
    code, out, _ = run(root, "search", "inflation", "--until", "2025-01-09", capsys=capsys)
    assert out.startswith("no statement says")
    code, out, _ = run(root, "search", "title:inflation OR title:steel", "--raw", capsys=capsys)
    assert "Inflation report" in out and "Steel" in out


def test_search_says_how_many_more_match(root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(root, "search", "rise OR trade", "--raw", "--limit", "1", capsys=capsys)
    assert code == 0 and out.count("\n") == 3
    assert err == "statements: showing the best 1 of 2 statements; --limit 0 shows all\n"


@pytest.mark.parametrize(
    "argv",
    [
        ["search", '"tariffs', "--raw"],
        ["search", "tariffs AND", "--raw"],
        ["search", "nosuchcolumn:x", "--raw"],
        ["search", '"', "-"],
        ["search", "x", "--since", "soon"],
        ["list", "--status", "gone"],
        ["export", "--format", "xml"],
        ["export", "--out", "/"],
        ["export", "--out", "/no/such/folder/x.csv"],
    ],
)
def test_bad_queries_and_options_are_one_line_usage_errors(
    root: Path, argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(root, *argv, capsys=capsys)
    assert code == 2 and out == "" and err.count("\n") == 1 and err.startswith("statements: ")
    assert "Traceback" not in err


def test_plain_words_are_never_query_syntax(root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for words in ['"tariffs', "tariffs AND", "tariffs (", "tariffs - :", "tariffs*"]:
        code, out, err = run(root, "search", words, "--all-revisions", capsys=capsys)
        assert code == 0 and err == "" and "Old remarks" in out, words


def test_history_of_free_words_points_to_search(
    root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run(root, "history", "inflation", capsys=capsys)
    assert code == 2 and "statements search" in err


def test_list_filters_newest_first(root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(root, "list", capsys=capsys)
    lines = out.splitlines()
    assert code == 0 and [line[:10] for line in lines] == ["2026-03-01", "2025-01-10", "2024-05-05"]
    assert "removed" in lines[2] and lines[0].endswith("  Steel")
    _, out, _ = run(root, "list", "--tag", "fact-sheets", capsys=capsys)
    assert out.splitlines() == [lines[1]]
    _, out, _ = run(root, "list", "--status", "removed", "--status", "withdrawn", capsys=capsys)
    assert out.splitlines() == [lines[2]]
    _, out, _ = run(root, "list", "--since", "2025-01-10", "--until", "2026-02-01", capsys=capsys)
    assert out.splitlines() == [lines[1]]
    _, out, _ = run(root, "list", "--source", "whitehouse", "--json", capsys=capsys)
    ((item,),) = [json.loads(out)]
    assert item["url"] == PRICES and item["source"] == "whitehouse" and item["status"] == "active"
    _, out, _ = run(root, "list", "--tag", "none", "--json", capsys=capsys)
    assert json.loads(out) == []
    _, out, _ = run(root, "list", "--tag", "none", capsys=capsys)
    assert out == "no statement matches\n"


def test_export_csv_and_jsonl_rebuild_every_file(
    root: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(root, "export", capsys=capsys)  # JSON Lines on stdout by default
    rows = [json.loads(line) for line in out.splitlines()]
    assert code == 0 and [r["url"] for r in rows] == [STEEL, PRICES, OLD]
    assert tuple(rows[0]) == exporter.NAMES and rows[0]["revision"] == 2
    for r in rows:
        text = "---\n" + r["front_matter"] + "---\n \n" + r["body"]
        assert (root / r["path"]).read_text(encoding="utf-8") == text
    target = tmp_path / "all.csv"
    argv = ["export", "--format", "csv", "--revisions", "--out", str(target)]
    code, _, err = run(root, *argv, capsys=capsys)
    assert code == 0 and err == f"4 revisions -> {target}\n"
    with target.open(encoding="utf-8", newline="") as f:
        table = list(csv.DictReader(f))
    assert [(r["url"], r["revision"]) for r in table] == [
        (STEEL, "1"), (STEEL, "2"), (PRICES, "1"), (OLD, "1"),
    ]  # fmt: skip
    assert table[0]["body"] == "The tariffs on steel rise.\n" and table[3]["status"] == "removed"
    assert target.stat().st_mode & 0o777 != 0o600 and not list(tmp_path.glob(".all.csv.*"))
    _, out, _ = run(root, "export", "--format", "csv", "--tag", "fact-sheets", capsys=capsys)
    assert [r["url"] for r in csv.DictReader(io.StringIO(out))] == [PRICES]


def test_export_parquet(root: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pq = pytest.importorskip("pyarrow.parquet", reason="pyarrow is the extra [parquet]")
    target = tmp_path / "all.parquet"
    argv = ["export", "--format", "parquet", "--revisions", "--out", str(target)]
    code, _, _ = run(root, *argv, capsys=capsys)
    table = pq.read_table(target)
    assert code == 0 and table.column_names == list(exporter.NAMES)
    assert table.column("revision").to_pylist() == [1, 2, 1, 1]
    assert table.column("source").to_pylist() == [None, None, "whitehouse", None]


def test_parquet_without_pyarrow_says_which_extra(
    root: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(exporter, "parquet_missing", lambda: True)
    code, out, err = run(root, "export", "--format", "parquet", "--out", "x.parquet", capsys=capsys)
    assert code == 2 and out == "" and err.count("\n") == 1
    assert "pip install 'statement-sync[parquet]'" in err
    monkeypatch.setattr(exporter, "parquet_missing", lambda: False)
    code, _, err = run(root, "export", "--format", "parquet", capsys=capsys)
    assert code == 2 and "--out FILE" in err


def test_the_archive_read_methods(root: Path) -> None:
    with Archive(root, create=False) as archive:
        hits = archive.search("tariffs", every_revision=True, since="2026-01-01T00:00:00+00:00")
        assert [h.statement.url for h in hits] == [STEEL]
        rows = archive.select(tags="fact-sheets")
        assert next(rows)[0].url == PRICES and next(rows, None) is None  # streamed
        assert [s.url for s, _ in archive.select(statuses="removed")] == [OLD]
        assert [r.number for _, r in archive.select(every_revision=True, sources=())] == [
            1,
            2,
            1,
            1,
        ]


def fts_check(path: Path) -> None:
    """FTS5's own check that the full-text index matches the revisions it indexes."""
    db = sqlite3.connect(path)
    db.execute("INSERT INTO revisions_fts (revisions_fts) VALUES ('integrity-check')")
    db.close()


def test_the_index_follows_revisions_through_commits_and_rollbacks(root: Path) -> None:
    path = root / ".statements" / "index.sqlite"
    fts_check(path)
    with Archive(root) as archive:
        with pytest.raises(RuntimeError), archive.index.transaction():
            archive.record(make("A word never kept: zanzibar.\n", source_url=OLD), origin=OLD)
            raise RuntimeError("rolled back")
        assert archive.search("zanzibar", every_revision=True) == []
        archive.record(make("Zanzibar now.\n", source_url=OLD), origin=OLD)
        assert [h.statement.url for h in archive.search("zanzibar")] == [OLD]
    fts_check(path)


def test_the_migration_indexes_an_existing_archive(root: Path) -> None:
    path = root / ".statements" / "index.sqlite"
    db = sqlite3.connect(path)  # the index as schema 6 left it: no full-text table
    db.executescript(
        "DROP TABLE revisions_fts; DROP VIEW latest; DROP VIEW changes; DROP TABLE event_html;"
        " DROP INDEX statements_stable_id; ALTER TABLE statements DROP COLUMN stable_id;"  # 8, 9
        " ALTER TABLE revisions DROP COLUMN declared;"  # 10
        " DROP TABLE official_links; DROP TABLE api_posts;"  # 11, 12
        " DROP INDEX events_run; ALTER TABLE events DROP COLUMN run;"  # 13
        " PRAGMA user_version = 6;"
    )
    db.close()
    index = Index(path)
    try:
        assert [s.url for s, _ in index.rows(StatementFilter(tags=["fact-sheets"]))] == [PRICES]
    finally:
        index.close()
    fts_check(path)
    db = sqlite3.connect(path)  # the views for people browsing the index
    assert db.execute("SELECT url, revisions FROM latest ORDER BY id").fetchall() == [
        (STEEL, 2), (PRICES, 1), (OLD, 1),
    ]  # fmt: skip
    assert db.execute("SELECT count(*), min(title) FROM changes").fetchone() == (
        5,
        "Inflation report",
    )
    db.close()
    with Archive(root, create=False) as archive:
        assert {h.statement.url for h in archive.search("tariffs", every_revision=True)} == {
            STEEL,
            OLD,
        }
    read_only = Index(path, read_only=True)  # the tag function works on a read-only index too
    try:
        assert [s.url for s, _ in read_only.rows(StatementFilter(tags=["fact-sheets"]))] == [PRICES]
        assert read_only.count_search(SearchQuery("steel")) == 1
    finally:
        read_only.close()


def test_hostile_text_cannot_drive_the_terminal(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = tmp_path / "hostile"
    evil = "https://www.whitehouse.gov/briefing-room/2026/03/02/evil/"
    with Archive(root, clock=Clock()) as archive:
        archive.record(
            make(
                "Tariffs \x1b]0;owned\x07 and \x1b[2J cleared.\n",
                title="Evil \x1b[31mred",
                source_url=evil,
            ),
            origin=evil,
        )
    for argv in (["search", "tariffs"], ["list"]):
        code, out, _ = run(root, *argv, capsys=capsys)
        assert code == 0 and "Evil" in out and "\x1b" not in out and "\x07" not in out, argv
