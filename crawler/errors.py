"""The crawler's exceptions. Each carries the URL or source it is about and says what to try."""

from __future__ import annotations

from storage.errors import StatementSyncError


class SourceError(StatementSyncError):
    """A seed file is not valid: names the file, the line, the key and what is expected."""


class UsageError(StatementSyncError):
    """A command-line option or argument is not valid (exit 2): says which, and what to try.

    Raised by the CLI's option parsing and checks, never by the library: a bad seed file is a
    :class:`SourceError`, a bad archive an ``ArchiveError``."""


class FetchError(StatementSyncError):
    """A request failed for good (after any retries the policy allows)."""

    def __init__(
        self, message: str, *, url: str, status: int | None = None, hint: str | None = None
    ):
        self.url = url
        self.status = status
        super().__init__(message, where=url, hint=hint)


class Unreachable(FetchError):
    """A host cannot be reached for a reason that a retry within seconds will not mend (its name
    does not resolve: offline, or a typo). Not retried; said in one line naming the host."""

    def __init__(self, host: str, reason: str, *, url: str, hint: str | None = "offline?"):
        super().__init__(f"cannot reach {host}: {reason}", url=url, hint=hint)
        self.where = None  # the host says where; the message reads as one plain sentence
        self.host = host
        self.args = (str(self),)


class Stopped(FetchError):
    """The run was asked to stop (Ctrl-C, SIGTERM): no further request is made."""


class OffSiteError(FetchError):
    """A URL or redirect leads off the source's allowed hosts, or to a scheme we do not fetch."""


class TooLargeError(FetchError):
    """A response body is larger than the configured cap."""


class RobotsDisallowed(FetchError):
    """robots.txt forbids this URL to our user agent."""


class Interrupted(StatementSyncError):
    """The run was stopped by Ctrl-C after recording what it had fetched (exit 130)."""


class DiscoveryError(StatementSyncError):
    """Discovery found nothing where it found items before (markup changed?)."""


class NotAStatement(StatementSyncError):
    """A page is not a statement: a listing, a soft 404, an empty body. Nothing is written."""

    def __init__(self, message: str, *, url: str, hint: str | None = None):
        self.url = url
        super().__init__(message, where=url, hint=hint)


class ConvertError(StatementSyncError):
    """The converter (crawler/convert.py) failed to convert a statement's body."""
