"""Fetching, discovery, parsing, sync and scheduling, and the ``statements`` command line.

The public API (docs/python.md) is what ``__all__`` names: :func:`sync`, the sources and the
errors. Reading an archive is :mod:`storage`'s. The sync engine is :mod:`crawler.syncer` (not
``crawler.sync``: that name is the function).
"""

from crawler.api import sync
from crawler.errors import (
    ConvertError,
    DiscoveryError,
    FetchError,
    Interrupted,
    NotAStatement,
    OffSiteError,
    RobotsDisallowed,
    SourceError,
    Stopped,
    TooLargeError,
    Unreachable,
)
from crawler.jobs import RunResult
from crawler.source import Source, load_source, load_sources, seed_dirs
from crawler.syncer import SyncReport
from storage.errors import StatementSyncError

__all__ = [
    "ConvertError",
    "DiscoveryError",
    "FetchError",
    "Interrupted",
    "NotAStatement",
    "OffSiteError",
    "RobotsDisallowed",
    "RunResult",
    "Source",
    "SourceError",
    "StatementSyncError",
    "Stopped",
    "SyncReport",
    "TooLargeError",
    "Unreachable",
    "load_source",
    "load_sources",
    "seed_dirs",
    "sync",
]
