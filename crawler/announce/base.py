"""The announcer interface, the registry of announcers by name, and what they share.

An :class:`Announcer` is told about one finished sync run (:class:`Run`: the archive, still
locked, the time, and per source the events it recorded) and announces what it wants of it: the
Atom feed rewrites ``changes.atom``, a webhook POSTs a signed payload, git commits the changed
files; the report to come will write its pages. It answers with an :class:`Outcome` (how many
events it told, what it made, background deliveries still under way, or the problem it met).

Announcers are built from the archive's ``statements.toml`` (:mod:`crawler.config`) by the
factories registered here under a name (:func:`register`), in registration order: a new
announcer plugs in by registering a factory, not by editing the run. :func:`announce_all` asks
each in turn and never lets one fail the sync: an exception is logged and becomes the outcome's
``problem``. A run asks them through the outbox (:mod:`crawler.announce.outbox`): what a
run gives an announcer is what it has not delivered yet, so a run that was killed, or an
announcer that failed, loses nothing; an announcer with several receivers names each by a
``key`` (a webhook: its URL), else its ``name`` is its key.

Every announcer announces from the text stored with each event (:mod:`storage.eventtext`), never
diffs, never announces an event that only reformatted a file, and always announces a revert
wherever the edit it undid was announced (:func:`wanted`).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from crawler.config import ArchiveConfig
from storage.archive import Archive, Recorded
from storage.event import Event
from storage.eventtext import fill_missing
from storage.index import EventFilter

log = logging.getLogger("crawler.announce")


@dataclass(frozen=True)
class Batch:
    """What one source's sync recorded: its events have ids above ``first_event``."""

    source: str
    summary: dict[str, Any]  # {"counts": {...}, "failed": N}
    first_event: int
    events: tuple[Recorded, ...]


@dataclass(frozen=True)
class Run:
    """A finished sync run, as announcers see it (the archive is open and locked)."""

    archive: Archive
    now: dt.datetime
    batches: tuple[Batch, ...]

    @property
    def events(self) -> list[Recorded]:
        return [e for b in self.batches for e in b.events]

    @property
    def first_event(self) -> int:
        """Events with a higher id were recorded by this run."""
        return min((b.first_event for b in self.batches), default=0)

    def ours(self, events: Sequence[Event]) -> int:
        """How many of ``events`` this run recorded."""
        return sum(1 for e in events if (e.id or 0) > self.first_event)


@dataclass(frozen=True)
class Outcome:
    """What an announcer did with a run."""

    announcer: str
    told: int = 0  # events of this run it announced (reformat-only events are never told)
    ref: str | None = None  # what it made: the feed's path, the commit's id
    pending: tuple[threading.Thread, ...] = ()  # deliveries still under way (webhooks)
    problem: str | None = None  # why it failed (logged; the sync is not failed by it)


class Delivery(threading.Thread):
    """A background delivery of some events: once finished, ``ok`` says whether it got through
    (the outbox then marks them delivered, or keeps them pending: :mod:`.outbox`)."""

    def __init__(self, events: Sequence[int], send: Callable[[], bool]) -> None:
        super().__init__(daemon=True)
        self.events = tuple(events)
        self.ok = False
        self._send = send

    def run(self) -> None:
        self.ok = self._send()


class Announcer(Protocol):
    """Announces a finished sync run; must not block on the network (use ``pending``)."""

    @property
    def name(self) -> str: ...

    def announce(self, run: Run) -> Outcome: ...


Factory = Callable[[ArchiveConfig], Sequence[Announcer]]
_REGISTRY: dict[str, Factory] = {}


def register(name: str) -> Callable[[Factory], Factory]:
    """Register a factory of announcers from an archive's config, under ``name``."""

    def add(factory: Factory) -> Factory:
        _REGISTRY[name] = factory
        return factory

    return add


def registered() -> dict[str, Factory]:
    """The factories by name, in the order announcers run."""
    return dict(_REGISTRY)


def announcers_for(config: ArchiveConfig) -> list[Announcer]:
    """The announcers an archive's config asks for, in registration order."""
    return [a for factory in _REGISTRY.values() for a in factory(config)]


def announce_all(announcers: Sequence[Announcer], run: Run) -> list[Outcome]:
    """Ask each announcer in turn; one that raises is logged, never raised into the sync."""
    outcomes = []
    for announcer in announcers:
        try:
            outcomes.append(announcer.announce(run))
        except Exception as exc:  # an announcement must never fail the sync
            log.error("%s: could not announce: %s", announcer.name, exc)  # one line on stderr
            log.debug("%s failed", announcer.name, exc_info=True)
            outcomes.append(Outcome(announcer.name, problem=str(exc)))
    return outcomes


def latest(archive: Archive, where: EventFilter, limit: int | None = None) -> list[Event]:
    """The newest events a filter selects; never a reformat-only event.

    One query; an event recorded before announcements were stored is rendered and stored
    first (once), then the query runs again, as its size may change what the filter keeps.
    """
    where = dataclasses.replace(where, news=True, follow_reverts=True)
    while True:
        rows = archive.index.events(where, limit=limit)
        if not fill_missing(archive.index, rows):
            return [Event.of(r) for r in rows]


def wanted(e: Event, kinds: Sequence[str], sources: Sequence[str], min_change: int) -> bool:
    """An alert's filters: any of the kinds, one of the sources, at least so many words.

    An event that only reformatted a file (no word a reader sees changed) is never wanted. A
    revert is wanted wherever the edit it undid was, so no receiver keeps believing that edit.
    """
    if not e.news:
        return False
    undone = str((e.reverts or {}).get("reverts_kinds", "")).split()
    if kinds and not set(kinds) & {*e.kinds, *undone}:
        return False
    if sources and e.source not in sources:
        return False
    content = {"updated", "silent"} & set(e.kinds)
    return not (min_change and content and e.size < min_change)
