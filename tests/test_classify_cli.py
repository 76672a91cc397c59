"""What the archive commands say about kinds: the diff header, reformat-only imports, bad files."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from crawler.cli import main
from storage.archive import Archive
from storage.document import dumps, new_statement

T0 = dt.datetime(2026, 3, 1, 12, 0, tzinfo=dt.UTC)
URL = "https://www.whitehouse.gov/briefings-statements/2026/03/a-statement/"
OLD_RECIPE = (
    "Words before.\n\n"
    '<figure class="wp-block-image"><img src="https://x.test/a.png" alt="A flag"'
    ' data-fetchpriority="high" width="800" /></figure>\n\n'
    "-   one\n-   two\n"
)
TODAY = (
    'Words before.\n\n<figure>\n<img src="https://x.test/a.png" alt="A flag" />\n</figure>\n\n'
    "- one\n- two\n"
)


def text(body: str) -> str:
    return dumps(new_statement(**_meta(body)))  # type: ignore[arg-type]


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_diff_header_shows_every_recorded_kind(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = tmp_path / "archive"
    with Archive(root) as archive:
        archive.record(new_statement(**_meta(OLD_RECIPE)), origin="a")  # type: ignore[arg-type]
        edited = new_statement(**_meta(OLD_RECIPE.replace("before", "after")))  # type: ignore[arg-type]
        archive.record(edited, origin="b", unannounced=True)
    code, out, _ = run(capsys, "diff", URL, f"--archive={root}")
    assert code == 0 and "-> 2 (" in out and out.splitlines()[2].endswith(": updated silent")
    assert "[-before-]{+after+}" in out and "fetchpriority" not in out
    code, out, _ = run(capsys, "diff", URL, f"--archive={root}", "--format=json")
    assert json.loads(out)["kinds"] == ["updated", "silent"]


def _meta(body: str) -> dict[str, object]:
    return {
        "title": "A statement",
        "source_url": URL,
        "tags": "briefings-statements",
        "published_time": T0,
        "modified_time": T0,
        "body": body,
    }


def test_import_of_a_reformat_only_file_keeps_the_archive_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root, v1, v2 = tmp_path / "archive", tmp_path / "v1", tmp_path / "v2"
    for folder, body in ((v1, OLD_RECIPE), (v2, TODAY)):
        folder.mkdir()
        (folder / "s.md").write_text(text(body))
    assert run(capsys, "import", str(v1), f"--archive={root}")[0] == 0
    (written,) = [p for p in root.rglob("*.md")]
    before = written.read_bytes()
    code, out, _ = run(capsys, "import", str(v2), f"--archive={root}", "--json")
    report = json.loads(out)
    assert code == 0 and report["reformatted"] == 1 and report["revised"] == 0
    assert not report["events"] and written.read_bytes() == before
    code, out, _ = run(capsys, "reformat", f"--archive={root}")
    assert code == 0 and "rewrote 1 file" in out
    assert written.read_text() == text(TODAY)
    code, out, _ = run(capsys, "history", URL, f"--archive={root}", "--json")
    assert [r["kinds"] for r in json.loads(out)["revisions"]] == [["new"], ["reformatted"]]
    assert "rewrote 0 files" in run(capsys, "reformat", f"--archive={root}")[1]


def test_import_reports_a_bad_file_once_and_ignores_non_statements(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "s.md").write_text(text(TODAY))
    (folder / "LICENSE.txt").write_text("Public domain.\n")
    (folder / "README.md").write_text("# The archive\n")
    code, out, err = run(capsys, "import", str(folder), f"--archive={tmp_path / 'a'}")
    assert code == 0 and "1 new" in out and "2 not statements" in out and err == ""
    (folder / "bad.md").write_text("---\ntitle: [\n---\n")
    code, out, err = run(capsys, "import", str(folder), f"--archive={tmp_path / 'a'}")
    assert code == 1 and err.count("bad.md") == 1 and "1 skipped" in out


def test_a_removed_statement_is_not_brought_back_by_reformat(tmp_path: Path) -> None:
    """A pending reformat of a page that then left the site is dropped: rewriting it must not
    record (and announce) a ``restored`` statement."""
    with Archive(tmp_path / "archive") as archive:
        archive.record(new_statement(**_meta(OLD_RECIPE)), origin="a")  # type: ignore[arg-type]
        archive.record(new_statement(**_meta(TODAY)), origin="b")  # type: ignore[arg-type]
        row = archive.resolve(URL)
        archive.mark_removed(row, why="HTTP 404")
        row = archive.resolve(URL)
        assert archive.reformat(row) is None
        assert archive.resolve(URL).status == "removed"
        assert [e.kinds for e in archive.index.events()] == [("removed",), ("new",)]
