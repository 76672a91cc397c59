"""The exceptions of statement-sync.

Every exception says what failed, where (a path, a URL or a source), and what to try. The
crawler's own exceptions (``crawler.errors``) derive from :class:`StatementSyncError` too, so a
caller can catch one base class.
"""

from __future__ import annotations


class StatementSyncError(Exception):
    """Base class of every error this project raises on purpose."""

    def __init__(self, message: str, *, where: str | None = None, hint: str | None = None):
        self.message = message
        self.where = where
        self.hint = hint
        super().__init__(self.__str__())

    def __str__(self) -> str:
        text = f"{self.where}: {self.message}" if self.where else self.message
        if self.hint:
            text += f" ({self.hint})"
        return text


class DocumentError(StatementSyncError):
    """A statement file or text is not in the archive format."""


class PathError(StatementSyncError):
    """A statement cannot be given a safe path inside the archive."""


class ArchiveError(StatementSyncError):
    """The archive folder or its index cannot be used as asked."""


class TargetError(ArchiveError):
    """A TARGET given on the command line names no statement, or more than one."""


class RevisionError(ArchiveError):
    """A revision number names no revision of a statement."""


class QueryError(ArchiveError):
    """A search query the index cannot read (a syntax error in raw full-text syntax)."""
