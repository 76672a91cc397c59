"""Importing a folder of archive files into an archive.

A folder elsewhere is copied into the archive's layout; the archive folder itself (say, a checkout
of the public archive) is adopted in place, no file moving. Identity comes from ``source_url``, so
file names do not matter. Re-importing the same files changes nothing.
"""

from __future__ import annotations

import logging
import os
import re
import sqlite3
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from storage.archive import Archive, Deferred, Recorded, content_hash
from storage.document import KEY_ORDERS, claims_front_matter, loads
from storage.errors import StatementSyncError
from storage.index import Index
from storage.layout import STATE_DIR
from storage.locator import SQLITE_NAME
from storage.move import copy_index

log = logging.getLogger(__name__)

SUFFIXES = frozenset({".md", ".markdown", ".txt"})
BATCH = 500
_DATED = re.compile(r"^\d{4}-\d{2}-\d{2}")


@dataclass(frozen=True)
class Problem:
    path: str
    reason: str


@dataclass
class ImportReport:
    folder: str
    adopted: bool
    files: int = 0
    new: int = 0
    revised: int = 0
    unchanged: int = 0
    reformatted: int = 0  # only the rendering differs: not recorded (see `statements reformat`)
    ignored: list[str] = field(default_factory=list)  # not statement files (no front matter)
    problems: list[Problem] = field(default_factory=list)
    events: list[Recorded] = field(default_factory=list)
    seconds: float = 0.0
    moved: int = 0  # statements whose whole history came from the folder's own SQLite index


def statement_files(folder: Path) -> list[Path]:
    """Candidate statement files below a folder, oldest first by the date in their name.

    Hidden folders (``.git``, ``.statements``) are skipped, as are files that are not Markdown
    or text (a licence, a feed).
    """
    found: list[Path] = []
    for top, dirs, files in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        found.extend(
            Path(top, name)
            for name in files
            if Path(name).suffix.lower() in SUFFIXES and not name.startswith(".")
        )

    def order(path: Path) -> tuple[str, str]:
        dated = _DATED.match(path.name)
        return (dated.group() if dated else "", path.relative_to(folder).as_posix())

    return sorted(found, key=order)


def import_dir(
    archive: Archive,
    folder: Path | str,
    *,
    progress: Callable[[int, int], None] | None = None,
) -> ImportReport:
    """Index (and, from elsewhere, copy) every statement file below ``folder``."""
    started = time.perf_counter()
    source = Path(folder)
    if not source.is_dir():
        raise StatementSyncError("not a folder", where=str(source))
    adopted = source.resolve() == archive.root.resolve()
    report = ImportReport(str(source), adopted)
    if adopted:
        report.moved = _move_own_index(archive)
    files = statement_files(source)
    known = archive.index.head_hashes() if adopted else {}
    newest: tuple[str, str] | None = None
    for done, chunk in _chunks(files, BATCH):
        with archive.batch():
            for path in chunk:
                relative = path.relative_to(source).as_posix()
                report.files += 1
                try:
                    text = path.read_bytes().decode("utf-8")
                except (OSError, UnicodeDecodeError) as exc:
                    report.problems.append(Problem(str(path), _reason(exc)))
                    continue
                if not claims_front_matter(text):
                    report.ignored.append(str(path))  # a README, a licence: not a statement
                    continue
                digest = content_hash(text)
                origin = str(path.resolve())
                if known.get(relative) == digest or archive.index.last_from(origin) == digest:
                    report.unchanged += 1
                    continue
                try:
                    statement = loads(text)
                    recorded = archive.record(
                        statement,
                        origin=origin,
                        text=text,
                        path_hint=relative if adopted else None,
                    )
                except (StatementSyncError, sqlite3.IntegrityError) as exc:
                    report.problems.append(Problem(str(path), _reason(exc)))
                    continue
                published = statement.published_time
                if published is not None and statement.key_order in KEY_ORDERS:
                    candidate = (published.isoformat(), statement.key_order)
                    newest = max(newest or candidate, candidate)
                if recorded is None:
                    report.unchanged += 1
                    continue
                if isinstance(recorded, Deferred):
                    report.reformatted += 1
                    continue
                report.events.append(recorded)
                if {"new", "replaced"} & set(recorded.kinds):  # a statement of its own
                    report.new += 1
                else:
                    report.revised += 1
        if progress is not None:
            progress(done, len(files))
    if newest is not None:
        _adopt_key_order(archive, *newest)
    for problem in report.problems:  # the caller reports them (the CLI, once, on stderr)
        log.debug("skipped %s: %s", problem.path, problem.reason)
    report.seconds = time.perf_counter() - started
    return report


def _move_own_index(archive: Archive) -> int:
    """An archive adopted into another index (PostgreSQL) that is still empty: its own SQLite
    index, if it has one, is copied there first, whole history included (:mod:`storage.move`);
    the files then all match and only what changed since is recorded."""
    own = archive.root / STATE_DIR / SQLITE_NAME
    if archive.locator is None or not own.is_file() or archive.index.count_statements():
        return 0
    source = Index(own, read_only=True)
    try:
        return copy_index(source, archive.index)
    finally:
        source.close()


def _adopt_key_order(archive: Archive, published: str, order: str) -> None:
    """An archive keeps writing the key order of its newest files."""
    seen = archive.index.setting("key_order_from")
    if seen is None or published > seen:
        with archive.index.transaction():
            archive.index.set_setting("key_order", order)
            archive.index.set_setting("key_order_from", published)


def _chunks(items: list[Path], size: int) -> Iterator[tuple[int, list[Path]]]:
    for start in range(0, len(items), size):
        chunk = items[start : start + size]
        yield start + len(chunk), chunk


def _reason(exc: BaseException) -> str:
    if isinstance(exc, UnicodeDecodeError):
        return f"not UTF-8 text (byte {exc.start})"
    if isinstance(exc, sqlite3.IntegrityError):
        return f"conflicts with another statement in the index ({exc})"
    if isinstance(exc, StatementSyncError):
        return exc.message + (f" ({exc.hint})" if exc.hint else "")
    return str(exc)
