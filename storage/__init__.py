"""Statement documents, the archive on disk, its index of revisions, and diffs. No HTTP here.

The public API (docs/python.md) is what ``__all__`` names: :class:`Archive` and its read API,
the rows and results it answers with, what a publisher declares of its edits (:class:`Declared`),
and the errors.
"""

from storage.archive import Archive, Deferred, Recorded
from storage.declared import ChangeNote, Declared, Withdrawal
from storage.diff import KINDS, Chunk, FieldChange
from storage.diffs import Diff
from storage.document import Statement, dumps, loads, new_statement
from storage.errors import (
    ArchiveError,
    DocumentError,
    PathError,
    RevisionError,
    StatementSyncError,
    TargetError,
)
from storage.index import EventFilter, EventRow, RevisionRow, StatementRow
from storage.journal import WriteError
from storage.lock import ArchiveLocked

__all__ = [
    "KINDS",
    "Archive",
    "ArchiveError",
    "ArchiveLocked",
    "ChangeNote",
    "Chunk",
    "Declared",
    "Deferred",
    "Diff",
    "DocumentError",
    "EventFilter",
    "EventRow",
    "FieldChange",
    "PathError",
    "Recorded",
    "RevisionError",
    "RevisionRow",
    "Statement",
    "StatementRow",
    "StatementSyncError",
    "TargetError",
    "Withdrawal",
    "WriteError",
    "dumps",
    "loads",
    "new_statement",
]
