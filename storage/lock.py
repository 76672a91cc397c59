"""One writer per archive: an advisory lock on ``<archive>/.statements/sync.lock``.

The lock is ``flock``: the kernel drops it when its process dies, so a crashed run never leaves
the archive locked. The file holds the holder's process id, for the message.
"""

from __future__ import annotations

import fcntl
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from storage.errors import ArchiveError

LOCK_NAME = "sync.lock"


class ArchiveLocked(ArchiveError):
    """Another process holds the archive."""


@contextmanager
def archive_lock(
    state_dir: Path, *, wait: float = 0.0, sleep: Callable[[float], None] = time.sleep
) -> Iterator[None]:
    """Hold the archive's lock; wait up to ``wait`` seconds for it, then fail clearly."""
    path = state_dir / LOCK_NAME
    try:
        state_dir.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:
        raise ArchiveError(
            f"cannot take the archive's lock: {exc.strerror}",
            where=str(state_dir.parent),
            hint="a read-only archive can still be queried: history, show, diff, changes, status",
        ) from None
    try:
        deadline = time.monotonic() + wait
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    holder = os.pread(fd, 32, 0).decode(errors="replace").strip() or "unknown"
                    raise ArchiveLocked(
                        f"the archive is locked by another sync (process {holder})",
                        where=str(state_dir.parent),
                        hint="wait for it to finish, or use --wait SECONDS",
                    ) from None
                sleep(0.2)
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode(), 0)
        yield
    finally:
        os.close(fd)  # closing the descriptor releases the lock
