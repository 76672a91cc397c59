"""Where a sync's findings go: into the archive, or, on a dry run, nowhere.

:class:`crawler.syncer.Syncer` decides; a recorder writes. It is chosen once per run
(:func:`recorder_for`), so the engine has no ``if dry_run`` branches: :class:`ArchiveRecorder`
records revisions and removals and keeps the bookkeeping the next sync needs (fetch state,
settings); :class:`DryRunRecorder` has the same methods, answers what would be recorded from
:meth:`storage.archive.Archive.preview`, and writes nothing.

Every statement a sync settles comes to one :class:`Outcome`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Collection, Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from typing import Any, Protocol

from storage.archive import Archive, Deferred, Recorded
from storage.declared import Declared
from storage.document import Statement


@dataclass(frozen=True)
class Outcome:
    """What recording one fetched statement, or one removal, came to.

    ``kinds`` are the change kinds (none: the archive had it already); ``event`` is the event
    written (none on a dry run); ``deferred``: a reformat-only difference (kinds
    ``reformatted``) set aside for ``statements reformat``, neither written nor announced.
    """

    kinds: tuple[str, ...] = ()
    event: Recorded | None = None
    deferred: bool = False

    @property
    def unchanged(self) -> bool:
        return not self.kinds and not self.deferred

    @property
    def flap(self) -> bool:
        """A recorded flip-back of a flapping page: counted once, as flapping."""
        return self.event is not None and self.event.flap

    @classmethod
    def of(cls, result: Recorded | Deferred | None) -> Outcome:
        """The outcome of :meth:`Archive.record` or :meth:`Archive.mark_removed`."""
        if isinstance(result, Recorded):
            return cls(result.kinds, result)
        if isinstance(result, Deferred):
            return cls(("reformatted",), deferred=True)
        return cls()


UNCHANGED = Outcome()


class Recorder(Protocol):
    """The writes of one sync of one source."""

    def record(
        self,
        statement: Statement,
        *,
        origin: str,
        previous_url: str | None,
        unannounced: bool,
        stable_id: str | None = None,
        declared: Declared | None = None,
        keep: Collection[str] = (),
        hosts: Mapping[str, str] | None = None,
    ) -> Outcome: ...

    def mark_removed(self, statement_id: int, status: int) -> Outcome: ...

    def set_fetch_state(self, statement_id: int, **values: Any) -> None: ...

    def set_settings(self, values: Mapping[str, str]) -> None: ...

    def transaction(self) -> AbstractContextManager[None]: ...


class ArchiveRecorder:
    """Writes into the archive, stamped by ``clock``, on behalf of the source ``source``."""

    def __init__(self, archive: Archive, source: str, clock: Callable[[], dt.datetime]):
        self.archive, self.source, self.clock = archive, source, clock

    def record(
        self,
        statement: Statement,
        *,
        origin: str,
        previous_url: str | None,
        unannounced: bool,
        stable_id: str | None = None,
        declared: Declared | None = None,
        keep: Collection[str] = (),
        hosts: Mapping[str, str] | None = None,
    ) -> Outcome:
        return Outcome.of(
            self.archive.record(
                statement,
                origin=origin,
                at=self.clock(),
                previous_url=previous_url,
                source=self.source,
                unannounced=unannounced,
                stable_id=stable_id,
                declared=declared,
                keep=keep,
                hosts=hosts,
            )
        )

    def mark_removed(self, statement_id: int, status: int) -> Outcome:
        row = self.archive.index.by_id(statement_id)
        return Outcome.of(self.archive.mark_removed(row, at=self.clock(), why=f"HTTP {status}"))

    def set_fetch_state(self, statement_id: int, **values: Any) -> None:
        self.archive.index.set_fetch_state(statement_id, **values)

    def set_settings(self, values: Mapping[str, str]) -> None:
        if not values:
            return
        with self.archive.index.transaction():
            for key, value in values.items():
                self.archive.index.set_setting(key, value)

    def transaction(self) -> AbstractContextManager[None]:
        return self.archive.index.transaction()


class DryRunRecorder:
    """Writes nothing; tells the change kinds a real run would record."""

    def __init__(self, archive: Archive, source: str | None = None):
        self.archive, self.source = archive, source

    def record(
        self,
        statement: Statement,
        *,
        origin: str,
        previous_url: str | None,
        unannounced: bool,
        stable_id: str | None = None,
        declared: Declared | None = None,
        keep: Collection[str] = (),
        hosts: Mapping[str, str] | None = None,
    ) -> Outcome:
        kinds = self.archive.preview(
            statement,
            previous_url=previous_url,
            unannounced=unannounced,
            stable_id=stable_id,
            source=self.source,
            declared=declared,
            keep=keep,
            hosts=hosts,
        )
        if kinds is None:
            return UNCHANGED
        return Outcome(kinds, deferred=kinds == ("reformatted",))  # as record() would defer it

    def mark_removed(self, statement_id: int, status: int) -> Outcome:
        return Outcome(("removed",))

    def set_fetch_state(self, statement_id: int, **values: Any) -> None:
        return None

    def set_settings(self, values: Mapping[str, str]) -> None:
        return None

    @contextmanager
    def transaction(self) -> Iterator[None]:
        yield


def recorder_for(
    archive: Archive, source: str, clock: Callable[[], dt.datetime], *, dry_run: bool
) -> Recorder:
    return DryRunRecorder(archive, source) if dry_run else ArchiveRecorder(archive, source, clock)
