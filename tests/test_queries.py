"""The query commands: revision numbers, and an archive on a read-only mount."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from crawler.cli import main
from storage.archive import Archive
from storage.errors import ArchiveError
from tests.conftest import PROJECT
from tests.test_archive import URL, Clock, make

BODIES = ("One two three.\n", "One two four.\n", "One two five.\n")
QUERIES = (
    ("history", URL, "--json"),
    ("show", URL),
    ("show", URL, "--rev", "-1"),
    ("diff", URL, "--format", "json"),
    ("diff", URL, "--from", "1", "--to", "2"),
    ("changes", "--json"),
    ("changes", "--kind", "updated"),
    ("status", "--json"),
)


def build(root: Path) -> Path:
    """An archive of one statement with three revisions and one recorded run."""
    with Archive(root, clock=Clock()) as archive:
        for body in BODIES:
            archive.record(make(body), origin=URL)
        with archive.index.transaction():
            summary = json.dumps({"counts": {"updated": 1}})
            archive.index.add_run("whitehouse", "2026-03-01T12:00:00+00:00", "x", True, summary)
    return root


def test_show_rev_minus_one_is_the_one_before_the_latest(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    a = f"--archive={build(tmp_path / 'archive')}"
    shown = {}
    for rev in ("3", "2", "1", "-1", "-2"):
        assert main(["show", URL, a, "--rev", rev, "--json"]) == 0
        shown[rev] = json.loads(capsys.readouterr().out)
    assert [shown[r]["number"] for r in ("-1", "-2")] == [2, 1]
    assert shown["-1"]["text"] == shown["2"]["text"] != shown["3"]["text"]
    assert "One two four." in shown["-1"]["text"]
    for bad in ("-3", "0", "4"):
        assert main(["show", URL, a, "--rev", bad]) == 2
        err = capsys.readouterr().err
        assert f"no revision {bad}" in err and "revisions 1 to 3" in err and err.count("\n") == 1
    assert main(["diff", URL, a, "--from", "-1", "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["from_rev"] == 2


# -- read-only ---------------------------------------------------------------------------------

# Runs the query commands in-process and prints what each gave, as JSON.
_RUNNER = """
import contextlib, io, json, sys
from crawler.cli import main
results = []
for argv in json.loads(sys.argv[1]):
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(argv)
    results.append([code, out.getvalue(), err.getvalue()])
print(json.dumps(results))
"""


def _mount_read_only(source: Path, target: Path, command: list[str]) -> list[str]:
    """A command that runs with ``source`` mounted read-only on ``target``, in its own mount
    namespace (nothing outside it sees the mount; it goes when the command ends)."""
    script = 'mount --bind "$1" "$2" && mount -o remount,bind,ro "$2" && shift 2 && exec "$@"'
    flags = "-m" if os.geteuid() == 0 else "-rm"  # as a user: map to root in a user namespace
    return ["unshare", flags, "sh", "-c", script, "sh", str(source), str(target), *command]


def _read_only_mounts_work(tmp_path: Path) -> str | None:
    """Why a read-only bind mount cannot be made here (None when it can)."""
    if shutil.which("unshare") is None or sys.platform != "linux":
        return "no unshare(1): a read-only mount needs Linux mount namespaces"
    source, target = tmp_path / "probe-src", tmp_path / "probe-mnt"
    source.mkdir()
    target.mkdir()
    probe = _mount_read_only(source, target, ["sh", "-c", 'touch "$0/x" 2>/dev/null', target])
    done = subprocess.run(probe, capture_output=True, text=True, check=False)
    if done.returncode == 0:
        return "the bind mount was not read-only"
    if "Read-only" not in done.stderr and "mount" in done.stderr:
        return f"mount namespaces are not permitted here: {done.stderr.strip()}"
    return None if not (source / "x").exists() else "the bind mount was not read-only"


def _runner(argvs: list[list[str]]) -> list[str]:
    return [sys.executable, "-c", _RUNNER, json.dumps(argvs)]


def _run(command: list[str]) -> list[list[object]]:
    """What each command gave: [exit code, stdout, stderr]."""
    env = {**os.environ, "PYTHONPATH": str(PROJECT)}
    done = subprocess.run(command, capture_output=True, text=True, check=False, env=env)
    assert done.returncode == 0, done.stderr
    results: list[list[object]] = json.loads(done.stdout)
    return results


@pytest.mark.parametrize("writer", ["closed", "open"])
def test_an_archive_on_a_read_only_mount_can_be_queried(tmp_path: Path, writer: str) -> None:
    """history, show, diff, changes and status read a read-only archive: the same answers as
    from the writable one. Closed: no -wal/-shm file is left (SQLite cannot open WAL read-only
    then, unless immutable). Open: a writer holds the index open, its -shm file is there."""
    why = _read_only_mounts_work(tmp_path)
    if why:
        pytest.skip(why)
    source, mount = build(tmp_path / "src" / "archive").parent, tmp_path / "mnt"
    mount.mkdir()
    archive = mount / "archive"
    queries = [[*q, f"--archive={archive}"] for q in QUERIES]
    writes = [
        ["verify", f"--archive={archive}"],
        ["import", str(PROJECT / "seeds" / "reference"), f"--archive={archive}"],
        ["sync", f"--archive={archive}", "--base-url", "http://127.0.0.1:9", "--rate", "0"],
    ]
    holder = Archive(source / "archive") if writer == "open" else None
    try:
        state = sorted(p.name for p in (source / "archive" / ".statements").iterdir())
        assert ("index.sqlite-shm" in state) == (writer == "open")
        before = {p: p.stat().st_mtime_ns for p in (source / "archive").rglob("*")}
        results = _run(_mount_read_only(source, mount, _runner(queries + writes)))
        after = {p: p.stat().st_mtime_ns for p in (source / "archive").rglob("*")}
        # The same queries where the archive can be written:
        expected = _run(_runner([[*q, f"--archive={source / 'archive'}"] for q in QUERIES]))
    finally:
        if holder is not None:
            holder.close()
    for argv, (code, out, err), want in zip(queries, results, expected, strict=False):
        assert (code, err) == (0, ""), argv
        assert out == str(want[1]).replace(str(source / "archive"), str(archive)), argv
    assert "One two four." in str(results[2][1])  # show --rev -1
    for argv, (code, out, err) in zip(writes, results[len(queries) :], strict=True):
        assert code == 2 and out == "", argv
        assert str(err).startswith("statements: ") and str(err).count("\n") == 1, (argv, err)
        assert "read-only" in str(err) and "Traceback" not in str(err), (argv, err)
    if writer == "closed":
        assert after == before  # the mount really was read-only: nothing moved underneath


def test_a_read_only_index_refuses_writes_and_old_schemas(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without a mount: the index opened read-only (as on a read-only mount) answers queries,
    refuses a transaction with a clear error, and refuses a schema it would have to migrate."""
    root = build(tmp_path / "archive")
    monkeypatch.setattr("storage.archive.writable", lambda folder: False)
    with Archive(root, create=False) as archive:
        assert archive.read_only and archive.resolve(URL).head == 3
        with pytest.raises(ArchiveError, match="the archive is read-only"):
            archive.record(make("Six.\n"), origin=URL)
    with Archive(root) as archive:  # opened to write: migrations may run, writes work
        assert not archive.read_only
        archive.index.db.execute("PRAGMA user_version = 1")
    with pytest.raises(ArchiveError, match=r"schema version 1.*cannot be brought up to date"):
        Archive(root, create=False)
