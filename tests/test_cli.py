from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from crawler.cli import main
from tests.conftest import REFERENCE


@pytest.fixture
def two_versions(tmp_path: Path) -> tuple[Path, Path, Path]:
    text = REFERENCE.read_text()
    v1, v2 = tmp_path / "v1", tmp_path / "v2"
    v1.mkdir()
    v2.mkdir()
    shutil.copy(REFERENCE, v1 / "ref.txt")
    edited = text.replace("to discuss ways", "to debate ways")
    edited = edited.replace("L\\xF3pez Obrador of\\_Mexico", "L\\xF3pez Obrador of Mexico")
    (v2 / "ref.txt").write_text(edited)
    return tmp_path / "archive", v1, v2


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_import_history_show_diff_changes(
    capsys: pytest.CaptureFixture[str], two_versions: tuple[Path, Path, Path]
) -> None:
    archive, v1, v2 = two_versions
    a = f"--archive={archive}"
    code, out, _ = run(capsys, "import", str(v1), a, "--json")
    report = json.loads(out)
    assert code == 0 and report["new"] == 1 and report["events"][0]["kinds"] == ["new"]
    code, out, _ = run(capsys, "import", str(v2), a)
    assert code == 0 and "1 revised" in out

    code, out, _ = run(capsys, "history", "statement-from-senior", a, "--json")
    history = json.loads(out)
    # the title's NBSP made a space (dewidowing) is presentation, not retitled (README,
    # "normalised before edit detection"); the body's "discuss" to "debate" is updated
    assert code == 0 and [r["kinds"] for r in history["revisions"]] == [["new"], ["updated"]]

    code, out, _ = run(capsys, "show", "statement-from-senior", a, "--rev", "1")
    assert out == REFERENCE.read_text()

    code, out, _ = run(capsys, "diff", "statement-from-senior", a, "--color=never")
    assert code == 0
    assert "[-discuss-]{+debate+}" in out
    assert "title: " in out.splitlines()[3]  # front-matter changes come first
    assert out.index("title:") < out.index("body:")

    code, out, _ = run(capsys, "diff", "statement-from-senior", a, "--format=json")
    body = json.loads(out)["body"]
    assert [(c["old"], c["new"]) for c in body] == [("discuss", "debate")]

    code, out, _ = run(capsys, "diff", "statement-from-senior", a, "--format=unified")
    assert "to discuss ways" in out and "\n-" in out

    code, out, _ = run(capsys, "changes", a, "--json", "--kind", "updated")
    assert [e["kinds"] for e in json.loads(out)] == [["updated"]]
    code, out, _ = run(capsys, "changes", a, "--since", "2999-01-01")
    assert "no change events" in out
    code, out, _ = run(capsys, "changes", a, "--since", "1d", "--json")
    assert len(json.loads(out)) == 2


def test_errors_are_one_line_with_meaningful_exit_codes(
    capsys: pytest.CaptureFixture[str], two_versions: tuple[Path, Path, Path]
) -> None:
    archive, v1, _ = two_versions
    a = f"--archive={archive}"
    code, _, err = run(capsys, "history", "anything", a)
    assert code == 2 and err.count("\n") == 1 and "no archive here" in err
    run(capsys, "import", str(v1), a)
    code, _, err = run(capsys, "show", "nope", a)
    assert code == 2 and err.startswith("statements: nope: no statement") and err.count("\n") == 1
    code, _, err = run(capsys, "diff", "statement-from-senior", a)
    assert code == 2 and "only one revision" in err
    code, _, err = run(capsys, "changes", a, "--since", "yesterday-ish")
    assert code == 2 and "--since" in err
    code, _, err = run(capsys, "frobnicate")
    assert code == 2
    bad = v1 / "bad.md"
    bad.write_text("---\n: : :\n---\n")
    code, out, err = run(capsys, "import", str(v1), a)
    assert code == 1 and "bad.md" in err and "1 skipped" in out


def test_archive_defaults_to_the_environment(
    capsys: pytest.CaptureFixture[str],
    two_versions: tuple[Path, Path, Path],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    archive, v1, _ = two_versions
    monkeypatch.setenv("STATEMENTS_ARCHIVE", str(archive))
    code, _, _ = run(capsys, "import", str(v1))
    assert code == 0 and (archive / ".statements" / "index.sqlite").exists()


def test_sources_names_each_kind_and_keeps_columns_for_a_long_origin(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["sources"]) == 0
    lines = capsys.readouterr().out.splitlines()
    names = lines[0::3]
    assert any(
        line.startswith("ukparliament ") and "ukparliament: statements-api" in line
        for line in names
    )
    indent = {len(line) - len(line.lstrip()) for line in lines[1::3] + lines[2::3]}
    assert len(indent) == 1  # every second and third line starts in the same column
