"""The outbox: every event is announced at least once, even when a sync is killed.

The index writes, with each event and in the same transaction, one pending announcement per
announcer the archive names (:meth:`storage.backend.IndexBackend.set_announcers`, the ``outbox``
table). A run names the announcers its ``statements.toml`` builds (:func:`enable`) before it
records anything, and at its end asks each to announce what it has pending (:func:`deliver`):
its pending events, oldest first, as a :class:`Run` whose batches are those events by source.
So an announcer gets the outbox for free: it announces ``run.batches`` as it always did.

- What an announcer delivered is marked delivered (the pending row goes); what it failed to
  deliver stays pending, its attempts counted and the error kept, for the next sync or
  ``statements announce``.
- A background delivery (a webhook's POST) is a :class:`Delivery` that says which events it
  carried and whether they got through; one still under way when the run stops waiting stays
  pending and is sent again next time: at least once, never lost. Receivers tell a repeat by the
  event's stable id.
- An announcer's key in the outbox is its ``key`` when it has one (a webhook: one per receiver),
  else its ``name``. A key newly named starts with nothing pending: only events written after
  it was enabled are announced to it (no flood of the archive's history). A key no longer named
  (an announcer turned off in the config) is dropped with what it had pending.

``statements announce`` is :func:`announce_pending`: the delivery step of a sync, alone.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from crawler.announce.base import (
    Announcer,
    Batch,
    Delivery,
    Outcome,
    Run,
    announce_all,
    announcers_for,
)
from crawler.config import ArchiveConfig
from storage.archive import STATE_DIR, Archive, Recorded, utc_now
from storage.index import EventRow
from storage.lock import archive_lock

log = logging.getLogger("crawler.announce")

#: How long a run waits for its background deliveries before it keeps them pending.
WAIT = 15.0
UNDER_WAY = "still under way when the run ended"


def key(announcer: Announcer) -> str:
    """An announcer's name in the outbox."""
    return str(getattr(announcer, "key", announcer.name))


def enable(archive: Archive, announcers: Sequence[Announcer]) -> None:
    """Name the announcers every event written from now on is pending for."""
    with archive.index.transaction():
        archive.index.set_announcers([key(a) for a in announcers])


def pending_run(
    archive: Archive,
    announcer: Announcer,
    now: dt.datetime,
    summaries: Mapping[str, dict[str, Any]] | None = None,
) -> Run:
    """What an announcer has pending, as a run: one batch per source, in event order."""
    rows = archive.index.outbox(key(announcer))
    by_source: dict[str, list[EventRow]] = {}
    for row in rows:
        by_source.setdefault(row.source or "", []).append(row)
    batches = tuple(
        Batch(
            source,
            dict((summaries or {}).get(source) or {"counts": {}, "failed": 0}),
            events[0].id - 1,
            tuple(_recorded(r) for r in events),
        )
        for source, events in by_source.items()
    )
    return Run(archive, now, batches)


def deliver(
    archive: Archive,
    announcers: Sequence[Announcer],
    now: dt.datetime,
    summaries: Mapping[str, dict[str, Any]] | None = None,
    *,
    wait: float = WAIT,
    monotonic: Callable[[], float] = time.monotonic,
) -> list[Outcome]:
    """Ask each announcer, in order, to announce what it has pending; mark what it delivered.

    Background deliveries get ``wait`` seconds in all; one still under way stays pending.
    """
    runs = [pending_run(archive, a, now, summaries) for a in announcers]
    outcomes = [
        announce_all([a], run)[0] if run.batches else Outcome(a.name)
        for a, run in zip(announcers, runs, strict=True)
    ]
    deadline = monotonic() + wait
    for outcome in outcomes:
        for thread in outcome.pending:
            thread.join(max(0.0, deadline - monotonic()))
    try:
        with archive.index.transaction():
            for announcer, run, outcome in zip(announcers, runs, outcomes, strict=True):
                settle(archive, key(announcer), run, outcome)
    except Exception as exc:  # never a failed sync: unmarked alerts are only sent again
        log.error("could not mark the alerts delivered (they will be sent again): %s", exc)
    return outcomes


def settle(archive: Archive, name: str, run: Run, outcome: Outcome) -> None:
    """Mark what an announcer delivered of a run; keep the rest pending with the reason."""
    ids = [r.event.id for r in run.events if r.event is not None]
    failed: dict[int, str] = {}
    if outcome.problem:
        failed = dict.fromkeys(ids, outcome.problem)
    for thread in outcome.pending:
        carried = thread.events if isinstance(thread, Delivery) else ids
        if thread.is_alive():
            failed.update(dict.fromkeys(carried, UNDER_WAY))
        elif isinstance(thread, Delivery) and not thread.ok:
            failed.update(dict.fromkeys(carried, "delivery failed (see the log)"))
    archive.index.delivered(name, [i for i in ids if i not in failed])
    for reason in set(failed.values()):
        archive.index.undelivered(name, [i for i, r in failed.items() if r == reason], reason)


def _recorded(row: EventRow) -> Recorded:
    return Recorded(
        row.statement_id, row.url, row.path, row.kinds, row.from_rev, row.to_rev, row.title,
        flap="flapping" in row.kinds, event=row,
    )  # fmt: skip


@dataclass
class Announced:
    """What ``statements announce`` did: per announcer, what it delivered and what is left."""

    outcomes: list[Outcome] = field(default_factory=list)
    delivered: dict[str, int] = field(default_factory=dict)  # key -> events delivered now
    left: dict[str, tuple[int, int, str | None]] = field(default_factory=dict)  # outbox_state

    @property
    def exit_code(self) -> int:
        """1 when something is still pending (a receiver down), else 0."""
        return 1 if any(n for n, _, _ in self.left.values()) else 0


def announce_pending(
    root: Path,
    config: ArchiveConfig,
    *,
    wait: float = 0.0,
    clock: Callable[[], dt.datetime] = utc_now,
) -> Announced:
    """Deliver what every configured announcer has pending, holding the archive's lock."""
    announcers = announcers_for(config)
    done = Announced()
    with (
        Archive(root, clock=clock, create=False, index=config.index or None) as archive,
        archive_lock(archive.root / STATE_DIR, wait=wait),
    ):
        archive.recover()
        enable(archive, announcers)
        before = archive.index.outbox_state()
        done.outcomes = deliver(archive, announcers, clock())
        done.left = archive.index.outbox_state()
    done.delivered = {k: before[k][0] - n for k, (n, _, _) in done.left.items() if k in before}
    return done
