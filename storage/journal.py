"""Writing statement files so that the files and the index always agree, even after a crash.

Within a batch, files are written to temporary names in ``.statements/tmp``. Before the index
commits, one ``sync`` makes them durable and the index records, in the same transaction as the
revisions, which temporary file goes where. After the commit the files are renamed into place
and the record is cleared. A crash before the commit leaves only temporary files (removed by
:meth:`FileJournal.recover`); a crash after it leaves a record that :meth:`recover` rolls
forward. Either way no statement file is ever half-written, and the index is never ahead of, or
behind, the files once recovered.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

from storage.atomic import fsync_dir
from storage.backend import IndexBackend
from storage.errors import ArchiveError
from storage.layout import STATE_DIR


class WriteError(ArchiveError):
    """A statement file could not be written (disk full, read-only archive)."""


def write_file(path: Path, data: bytes) -> None:
    with open(path, "wb") as handle:
        handle.write(data)


class FileJournal:
    def __init__(self, root: Path, index: IndexBackend):
        self.root, self.index = root, index
        self.tmp_dir = root / STATE_DIR / "tmp"
        self._pending: list[tuple[Path, Path]] | None = None
        self._names = itertools.count()

    @contextmanager
    def batch(self) -> Iterator[None]:
        """One index transaction; its files land in place once it has committed."""
        if self._pending is not None:
            with self.index.transaction():
                yield
            return
        self._pending, committed = [], False
        try:
            with self.index.transaction():
                yield
                if self._pending:
                    os.sync()
                    self.index.add_pending([(self._rel(t), self._rel(f)) for t, f in self._pending])
            committed = True
            self._apply(self._pending)
        finally:
            if not committed:
                for tmp, _ in self._pending:
                    with suppress(OSError):
                        tmp.unlink()
            self._pending = None

    def write(self, target: Path, data: bytes) -> None:
        """Write a file as part of the current batch."""
        if self._pending is None:
            raise RuntimeError("FileJournal.write outside a batch")
        tmp = self.tmp_dir / f"{os.getpid()}-{next(self._names)}.part"
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            self.tmp_dir.mkdir(parents=True, exist_ok=True)
            self._pending.append((tmp, target))
            write_file(tmp, data)
        except OSError as exc:
            raise WriteError(
                f"cannot write {target.relative_to(self.root)}: {exc.strerror or exc}",
                where=str(self.root),
                hint="is the disk full or the archive read-only? nothing was half-written",
            ) from None

    def recover(self) -> int:
        """Roll a committed batch forward, drop what an uncommitted one left. Hold the lock."""
        moves = [(self.root / t, self.root / f) for t, f in self.index.pending()]
        self._apply(moves)
        listed = {tmp for tmp, _ in moves}
        leftovers = [p for p in self.tmp_dir.glob("*.part") if p not in listed]
        for leftover in leftovers if self.tmp_dir.is_dir() else ():
            with suppress(OSError):
                leftover.unlink()
        return len(moves) + len(leftovers)

    def _apply(self, moves: list[tuple[Path, Path]]) -> None:
        if not moves:
            return
        for tmp, final in moves:
            if tmp.exists():  # else moved already, before a crash
                os.replace(tmp, final)
        for folder in sorted({final.parent for _, final in moves}):
            fsync_dir(folder)
        self.index.clear_pending()

    def _rel(self, path: Path) -> str:
        return path.relative_to(self.root).as_posix()
