from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from crawler.cli import main
from storage.archive import Archive
from tests.conftest import REFERENCE
from tests.test_archive import URL, make
from tests.test_import import REF_PATH


@pytest.fixture
def archive_dir(tmp_path: Path) -> Path:
    root = tmp_path / "archive"
    with Archive(root) as archive:
        archive.record(make(), origin=URL)
        archive.record(make("Two.\n"), origin=URL)
    return root


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, dict[str, object]]:
    code = main(list(argv))
    return code, json.loads(capsys.readouterr().out)


def test_verify_finds_every_problem_and_repair_mends_them(
    archive_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    a = f"--archive={archive_dir}"
    code, report = run(capsys, "verify", a, "--json")
    assert code == 0 and report["clean"] and report["statements"] == 1
    statement = next(archive_dir.rglob("*.md"))
    good = statement.read_bytes()
    extra = archive_dir / "statements-releases" / "2021-05" / "ref.md"
    extra.parent.mkdir(parents=True)
    shutil.copy(REFERENCE, extra)
    (archive_dir / ".statements" / "tmp").mkdir(exist_ok=True)
    (archive_dir / ".statements" / "tmp" / "1-0.part").write_text("half a fi")
    for damage, what in (
        (b"---\ntitle: [broken\n", "unreadable"),
        (good + b"x", "altered"),
        (None, "missing"),
    ):
        if damage is None:
            statement.unlink()
        else:
            statement.write_bytes(damage)
        code, report = run(capsys, "verify", a, "--json")
        found = {p["what"]: p for p in report["problems"]}  # type: ignore[attr-defined]
        assert code == 1 and set(found) == {what, "stray"}
        assert found[what]["path"] == statement.relative_to(archive_dir).as_posix()
    code, report = run(capsys, "verify", a, "--repair", "--json")
    assert code == 0 and report["clean"] and report["recovered"] == 0
    assert not list((archive_dir / ".statements" / "tmp").glob("*.part"))  # recovered first
    assert statement.read_bytes() == good
    code, report = run(capsys, "verify", a, "--json")
    assert code == 0 and report["statements"] == 2 and report["problems"] == []
    with Archive(archive_dir) as archive:
        assert archive.resolve(str(extra)).path.endswith("ref.md")  # indexed where it lies


def test_a_copy_of_a_known_statement_is_reported_not_indexed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = tmp_path / "archive"
    (tmp_path / "in").mkdir()
    shutil.copy(REFERENCE, tmp_path / "in" / "a.md")
    assert main(["import", str(tmp_path / "in"), f"--archive={root}"]) == 0
    shutil.copy(root / REF_PATH, root / "copy.md")
    capsys.readouterr()
    code, report = run(capsys, "verify", f"--archive={root}", "--repair", "--json")
    problems = report["problems"]
    assert code == 1 and problems == [  # the copy: reported, never indexed over the original
        {
            "path": "copy.md",
            "what": "stray",
            "detail": f"another copy of {REF_PATH}",
            "repaired": False,
        },
    ]


def test_files_that_are_not_statements_are_ignored_and_counts_are_singular(
    archive_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    others = {
        "README.md": "# My archive\n\nStatements, kept in sync.\n",
        "notes/todo.txt": "check the March files\n",
        "LICENSE": "CC0\n",
        ".gitignore": ".statements/\n",
        "changes.atom": "<feed/>\n",
        "statements-releases/2026-03/draft.md": "Not yet written.\n",
    }
    for name, text in others.items():
        (archive_dir / name).parent.mkdir(parents=True, exist_ok=True)
        (archive_dir / name).write_text(text)
    a = f"--archive={archive_dir}"
    code, report = run(capsys, "verify", a, "--json")
    assert code == 0 and report["clean"] and report["problems"] == []
    assert report["files"] == 1 and report["ignored"] == [
        "README.md",
        "notes/todo.txt",
        "statements-releases/2026-03/draft.md",
    ]
    assert main(["verify", a]) == 0
    assert capsys.readouterr().out == "1 statement, 1 file: clean; 3 other files ignored\n"
    code, report = run(capsys, "verify", a, "--repair", "--json")
    assert code == 0 and report["problems"] == []
    assert all((archive_dir / n).read_text() == t for n, t in others.items())  # left alone
    # A file that begins with front matter claims to be a statement: one that is not, is a problem.
    (archive_dir / "broken.md").write_text("---\ntitle: [unclosed\n---\n \nText.\n")
    assert main(["verify", a]) == 1
    out = capsys.readouterr().out
    assert out.startswith("PROBLEM: broken.md: stray: not a statement")
    assert out.endswith("1 statement, 2 files: 1 problem; 3 other files ignored\n")
    assert main(["verify", a, "--repair"]) == 1 and (archive_dir / "broken.md").exists()
