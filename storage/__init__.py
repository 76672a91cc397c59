"""Statement documents, the archive on disk, its index of revisions, and diffs. No HTTP here."""

from storage.archive import Archive, Recorded
from storage.document import Statement, dumps, loads, new_statement
from storage.errors import StatementSyncError

__all__ = [
    "Archive",
    "Recorded",
    "Statement",
    "StatementSyncError",
    "dumps",
    "loads",
    "new_statement",
]
