"""What a publisher declares about its own edits: change notes, withdrawal, and facts about it.

Some publishers say when they edit: a change note with its time (GOV.UK's ``change_history``),
a withdrawal notice (an explanation and a time), and facts that are no part of the file (a stable
id, organisations, people). :class:`Declared` holds them, whatever the source; the crawler fills
it from what a source kind extracted and passes it to :meth:`storage.Archive.record`, which
stores it with the revision (``revisions.declared``, JSON) and decides from it:

- a change that arrives with a change note not seen before carries the marker ``declared``, and
  its event the publisher's notes (:func:`new_notes`);
- a content change with no new note and no moved ``modified_time`` is ``silent``: the publisher
  declares its edits, so an edit it did not declare is one it did not announce;
- a withdrawal notice not seen before is a ``withdrawn`` event, with the explanation; the text
  stays archived, and the statement's status is ``withdrawn``.

Pure data and functions: nothing here reads or writes.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any


@dataclass(frozen=True)
class ChangeNote:
    """One declared change: when (aware) and the publisher's note."""

    at: dt.datetime
    note: str

    def as_json(self) -> dict[str, str]:
        return {"at": _utc(self.at), "note": self.note}


@dataclass(frozen=True)
class Withdrawal:
    """A withdrawal notice: when (None: not said) and why, as plain text."""

    at: dt.datetime | None
    explanation: str

    def as_json(self) -> dict[str, str | None]:
        return {"at": None if self.at is None else _utc(self.at), "explanation": self.explanation}


@dataclass(frozen=True)
class Declared:
    """What a publisher declares of one version of a statement."""

    notes: Sequence[ChangeNote] = ()
    withdrawn: Withdrawal | None = None
    about: Mapping[str, Any] = field(default_factory=dict)  # facts for the index (JSON-able)

    def __post_init__(self) -> None:
        object.__setattr__(self, "notes", tuple(self.notes))
        object.__setattr__(self, "about", MappingProxyType(dict(self.about)))

    def as_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"notes": [n.as_json() for n in self.notes]}
        if self.withdrawn is not None:
            out["withdrawn"] = self.withdrawn.as_json()
        if self.about:
            out["about"] = dict(self.about)
        return out

    def dumps(self) -> str:
        """The JSON text stored with the revision."""
        return json.dumps(self.as_json(), ensure_ascii=False, sort_keys=True)


def loads(text: str | None) -> Declared | None:
    """A stored :class:`Declared` (``None``: nothing was declared with that revision)."""
    if not text:
        return None
    data = json.loads(text)
    notes = tuple(ChangeNote(_time(n["at"]), str(n["note"])) for n in data.get("notes", ()))
    withdrawn = data.get("withdrawn")
    withdrawal = None
    if isinstance(withdrawn, dict):
        at = withdrawn.get("at")
        withdrawal = Withdrawal(None if at is None else _time(at), str(withdrawn["explanation"]))
    return Declared(notes, withdrawal, data.get("about") or {})


def new_notes(
    before: Declared | None, now: Declared, since: dt.datetime | None = None
) -> tuple[ChangeNote, ...]:
    """The notes of ``now`` not declared ``before``. With nothing stored before (a revision
    imported, or recorded before the publisher's notes were kept), a note is new when it is
    later than ``since`` (the previous revision's ``modified_time``); with no ``since``, none is."""
    if before is not None:
        seen = {(_utc(n.at), n.note) for n in before.notes}
        return tuple(n for n in now.notes if (_utc(n.at), n.note) not in seen)
    if since is None:
        return ()
    return tuple(n for n in now.notes if n.at > since)


def newly_withdrawn(now: Declared, status: str) -> bool:
    """Whether ``now`` withdraws a statement that was not withdrawn."""
    return now.withdrawn is not None and status != "withdrawn"


def _utc(moment: dt.datetime) -> str:
    if moment.utcoffset() is None:
        raise ValueError(f"{moment!r} has no time zone")
    return moment.astimezone(dt.UTC).isoformat(timespec="seconds")


def _time(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text)
