"""``statements verify``: do the files and the index agree? ``--repair`` makes them agree.

Every statement file must parse and be byte-identical to its statement's latest revision in the
index; every indexed statement must have its file. Repair restores a missing or altered file from
the index (which keeps every revision), and indexes a stray statement file it finds. Nothing is
ever deleted: a stray file that is not a statement is only reported.

What is a statement file? A Markdown or text file (``storage.importer.statement_files``) that
begins with a front-matter line, ``---``, as every file of the archive format does. Other files
(a ``README.md`` at the archive's root, notes) are none of the archive's business: they are
listed as ``ignored``, never a problem, with or without ``--repair``. Files that are not Markdown
or text (``LICENSE``, ``changes.atom``) and hidden ones (``.gitignore``, ``.git/``) are not even
looked at. A file that begins with ``---`` but does not parse as a statement is a problem: it
claims to be one.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

from storage.archive import Archive, content_hash
from storage.atomic import write_atomic
from storage.document import claims_front_matter, loads
from storage.errors import StatementSyncError
from storage.importer import statement_files

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Problem:
    path: str
    what: str  # missing | altered | unreadable | stray | leftover
    detail: str
    repaired: bool = False


@dataclass
class VerifyReport:
    statements: int = 0
    files: int = 0
    recovered: int = 0  # files a killed writer left, finished or removed first
    problems: list[Problem] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)  # not statement files (a README.md)

    @property
    def clean(self) -> bool:
        return all(p.repaired for p in self.problems)


def verify(archive: Archive, *, repair: bool = False) -> VerifyReport:
    """Check (and with ``repair`` mend) an archive. Hold its lock: this first finishes or undoes
    what a killed writer left (``Archive.recover``), which is recovery, not repair."""
    report = VerifyReport()
    report.recovered = archive.recover()
    indexed: dict[str, int] = {}
    for statement_id, path, digest in archive.index.heads():
        report.statements += 1
        indexed[path] = statement_id
        _check_file(archive, statement_id, path, digest, report, repair)
    superseded = archive.index.revision_paths()
    for file in statement_files(archive.root):
        relative = file.relative_to(archive.root).as_posix()
        if relative not in indexed and not _claims_front_matter(file):
            report.ignored.append(relative)
            continue
        report.files += 1
        if relative not in indexed and relative not in superseded:
            _stray(archive, file, relative, report, repair)
    return report


def _claims_front_matter(file: Path) -> bool:
    try:
        with file.open("rb") as handle:
            return claims_front_matter(handle.read(5))
    except OSError:
        return True  # unreadable: reported as a problem by the caller's checks


def _check_file(
    archive: Archive, statement_id: int, path: str, digest: str, report: VerifyReport, repair: bool
) -> None:
    file = archive.file(path)
    try:
        data = file.read_bytes()
    except FileNotFoundError:
        report.problems.append(_restore(archive, statement_id, path, "missing", "no file", repair))
        return
    try:
        text = data.decode("utf-8")
        loads(text)
    except (UnicodeDecodeError, StatementSyncError) as exc:
        detail = f"does not parse: {exc}"
        report.problems.append(_restore(archive, statement_id, path, "unreadable", detail, repair))
        return
    if content_hash(text) != digest:
        detail = "differs from its latest revision in the index"
        report.problems.append(_restore(archive, statement_id, path, "altered", detail, repair))


def _restore(
    archive: Archive, statement_id: int, path: str, what: str, detail: str, repair: bool
) -> Problem:
    if repair:
        row = archive.index.by_id(statement_id)
        write_atomic(archive.file(path), archive.revision(row).text.encode("utf-8"))
        log.info("restored %s from the index", path)
    return Problem(path, what, detail, repaired=repair)


def _stray(archive: Archive, file: Path, relative: str, report: VerifyReport, repair: bool) -> None:
    try:
        text = file.read_bytes().decode("utf-8")
        statement = loads(text)
        known = archive.index.by_url(statement.source_url)
    except (OSError, UnicodeDecodeError, StatementSyncError) as exc:
        report.problems.append(Problem(relative, "stray", f"not a statement: {exc}"))
        return
    if known is not None:  # a copy of a known statement: reported, never indexed over it
        report.problems.append(Problem(relative, "stray", f"another copy of {known.path}"))
        return
    if repair:
        archive.record(statement, origin=str(file), text=text, path_hint=relative)
    detail = "a statement file the index did not know"
    report.problems.append(Problem(relative, "stray", detail, repaired=repair))
