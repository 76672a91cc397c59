"""A change event as everyone outside the index sees it: one view, one JSON shape.

``statements sync --json``, ``import --json``, ``changes --json``, ``history --json`` and the
webhooks' payloads all show an event as :meth:`Event.as_json` gives it (README, "Schedule,
alerts, git", documents the shape). It is built from a row of the index (:class:`EventRow`) or
from what :meth:`Archive.record` returned (:class:`Recorded`, which carries its row).

``id`` is the event's id in the index: stable, the same in the Atom entry's id, so a receiver can
drop a delivery it has seen. ``diff`` is the event's text as rendered once when it was recorded
(:mod:`storage.eventtext`): announcing never diffs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from storage.archive import Recorded
from storage.index import QUIET_KINDS, EventRow

#: The keys of an event's ``detail`` that describe a revert (A -> B -> A).
REVERT_KEYS = ("reverts", "reverts_seen", "reverts_kinds", "back_to", "flips")
#: An Atom entry's id (and a feed reader's key) for an event id.
ENTRY_ID = "tag:statement-sync,2026:event/{}"


@dataclass(frozen=True)
class Event:
    """One change event: what it changed, where, when, and what it says to a reader."""

    id: int | None  # None only for an event that was never recorded (a dry run)
    at: str
    kinds: tuple[str, ...]
    url: str
    path: str
    title: str
    source: str | None
    from_rev: int | None
    to_rev: int | None
    size: int  # words added or removed
    diff: str | None  # the stored text (None: recorded before texts were stored, not yet filled)
    detail: dict[str, Any]
    reverted_at: str | None = None  # when a later event undid this one

    @classmethod
    def of(cls, event: EventRow | Recorded) -> Event:
        if isinstance(event, Recorded):
            if event.event is not None:
                return cls.of(event.event)
            return cls(
                None, "", event.kinds, event.url, event.path, event.title, None,
                event.from_rev, event.to_rev, 0, None, {},
            )  # fmt: skip
        return cls(
            event.id, event.at, event.kinds, event.url, event.path, event.title, event.source,
            event.from_rev, event.to_rev, event.size or 0, event.diff, event.detail,
            event.reverted_at,
        )  # fmt: skip

    @property
    def reverts(self) -> dict[str, Any] | None:
        """For a revert: the revision it undid, when that was seen, the revision it is back to."""
        found = {k: self.detail[k] for k in REVERT_KEYS if k in self.detail}
        return found or None

    @property
    def flips(self) -> int:
        """How many flip-backs a flapping page made up to this event (0: not flapping)."""
        return int(self.detail.get("flips", 1)) if "flapping" in self.kinds else 0

    @property
    def news(self) -> bool:
        """Whether a reader could see it: an event that only reformatted a file is no news."""
        return bool(set(self.kinds) - set(QUIET_KINDS))

    def as_json(self) -> dict[str, Any]:
        """The one JSON shape of an event (see the module docstring)."""
        return {
            "id": self.id,
            "at": self.at,
            "kinds": list(self.kinds),
            "url": self.url,
            "path": self.path,
            "title": self.title,
            "source": self.source,
            "from_rev": self.from_rev,
            "to_rev": self.to_rev,
            "size": self.size,
            "diff": self.diff,
            "detail": self.detail,
            "reverts": self.reverts,
            "reverted_at": self.reverted_at,
            "flips": self.flips,
        }


def event_json(event: EventRow | Recorded) -> dict[str, Any]:
    """An event in its one JSON shape."""
    return Event.of(event).as_json()
