from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from storage.archive import Archive
from storage.document import loads
from storage.importer import import_dir
from tests.conftest import REFERENCE

REF_PATH = (
    "statements-releases/2021-05/2021-05-07-statement-from-senior-advisor-and-chief-spokesperson-"
    "symone-sanders-on-vice-president-kamala-harriss-virtual-bilateral-meeting-with-president-"
    "andres-manuel-lopez-obrador-of-mexico.md"
)

WAR_POWERS = (
    "presidential-actions/2025-06/2025-06-23-text-of-a-letter-from-the-president-to-the-speaker-"
    "of-the-house-of-representatives.md"
)


def files_of(root: Path) -> dict[str, bytes]:
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in root.rglob("*")
        if p.is_file() and ".statements" not in p.relative_to(root).parts
    }


def test_import_copies_into_the_layout_and_reimport_is_a_no_op(tmp_path: Path) -> None:
    src = tmp_path / "src"
    src.mkdir()
    shutil.copy(REFERENCE, src / "anything.txt")
    (src / "LICENSE").write_text("not a statement")
    (src / "broken.md").write_text("---\ntitle: [oops\n---\n \nbody")
    (src / "latin1.md").write_bytes(b"---\ntitle: caf\xe9\n---\n \n")
    with Archive(tmp_path / "archive") as archive:
        report = import_dir(archive, src)
        assert (report.files, report.new, report.revised, report.unchanged) == (3, 1, 0, 0)
        reasons = {Path(p.path).name: p.reason for p in report.problems}
        assert reasons.keys() == {"broken.md", "latin1.md"}
        assert "not valid YAML at line 3" in reasons["broken.md"]
        assert "not UTF-8" in reasons["latin1.md"]
        assert files_of(archive.root) == {REF_PATH: REFERENCE.read_bytes()}
        again = import_dir(archive, src)
        assert (again.new, again.revised, again.unchanged) == (0, 0, 1)
        assert archive.index.events() and len(archive.index.events()) == 1


def test_a_newer_version_records_a_revision_and_its_events(tmp_path: Path) -> None:
    text = REFERENCE.read_text()
    newer = text.replace("met virtually today", "met by video today").replace(
        "modified_time: 2021-05-07 12:38:04-04:00", "modified_time: 2021-05-08 09:00:00-04:00"
    )
    (tmp_path / "v1").mkdir()
    (tmp_path / "v2").mkdir()
    (tmp_path / "v1" / "a.md").write_text(text)
    (tmp_path / "v2" / "b.md").write_text(newer)
    with Archive(tmp_path / "archive") as archive:
        import_dir(archive, tmp_path / "v1")
        report = import_dir(archive, tmp_path / "v2")
        assert report.revised == 1
        assert report.events[0].kinds == ("updated", "metadata")
        assert (archive.root / REF_PATH).read_text() == newer


def test_adopting_an_archive_in_place_moves_no_file(tmp_path: Path) -> None:
    root = tmp_path / "checkout"
    (root / "odd" / "place").mkdir(parents=True)
    shutil.copy(REFERENCE, root / "odd" / "place" / "ref.md")
    (root / ".git").mkdir()
    (root / ".git" / "x.md").write_text("ignored")
    before = files_of(root)
    with Archive(root) as archive:
        report = import_dir(archive, root)
        assert report.adopted and report.new == 1
        assert files_of(root) == before
        row = archive.resolve("odd/place/ref.md")
        assert row.path == "odd/place/ref.md"
        assert import_dir(archive, root).unchanged == 1


@pytest.mark.heavy(seconds=50)  # on 2 quiet cores
@pytest.mark.slow
@pytest.mark.corpus
def test_reference_then_corpus_is_one_move_and_no_content_change(
    tmp_path: Path, corpus_dir: Path
) -> None:
    with Archive(tmp_path / "archive") as archive:
        ref_dir = tmp_path / "ref"
        ref_dir.mkdir()
        shutil.copy(REFERENCE, ref_dir)
        import_dir(archive, ref_dir)
        report = import_dir(archive, corpus_dir)
        assert report.files == 14396 and not report.problems
        # 16 URLs have two files: 15 are one statement each, one is two documents (replaced).
        assert archive.index.count_statements() == 14381
        replaced = archive.index.events(kinds=["replaced"])
        assert [e.path for e in replaced] == [WAR_POWERS.replace("06-23", "06-30")]
        row = archive.resolve(REF_PATH)
        events = archive.index.events(statement_id=row.id)
        assert [e.kinds for e in events] == [("moved",), ("new",)]
        moved = events[0].detail
        assert moved["old_url"].startswith("https://www.whitehouse.gov/briefing-room/")
        assert moved["new_url"].startswith("https://bidenwhitehouse.archives.gov/briefing-room/")
        old, new = (archive.statement(r) for r in archive.index.revisions(row.id))
        assert old.body == new.body and old.title == new.title
        assert (archive.root / REF_PATH).read_bytes() == (corpus_dir / REF_PATH).read_bytes()
        assert archive.key_order == "alphabetical"  # the newest files' order
        assert loads((archive.root / REF_PATH).read_text()).key_order == "reference"
