"""What a change event says to a reader: rendered once, when the event is recorded.

An alert (an Atom entry, a webhook payload) shows an event's front-matter changes and its word
diff, and filters on its size (words added or removed). Diffing is the costly part and an event
never changes once recorded, so :func:`rendered` runs once, in :meth:`Archive.record`, and the
index keeps its text and size beside the event (``events.diff``, ``events.size``). Announcing
reads stored text: its cost follows the number of events announced, not the archive's history.

Its HTML (the same change through :meth:`storage.change.Change.html`: the words in
``<del>``/``<ins>``, every value escaped), an Atom entry's content, is rendered once too, when an
event is recorded (:func:`rendered`), and kept in the index (``event_html``); an event recorded
before that is rendered on its first announcement (:func:`html_of`), once.

Events recorded before the index had those columns are rendered on first use by
:func:`fill_missing` (under the archive's lock), which stores the result: once per event.

The text is :meth:`storage.change.Change.text`: a revert (A -> B -> A) opens with a sentence
saying that the page says again what it said before, so a reader of an alert never believes the
page still says B.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from storage.change import Change, compare
from storage.document import Statement, load_meta
from storage.index import EventRow, IndexBackend, RevisionRow

_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def rendered(
    old: Statement | None, new: Statement | None, kinds: Sequence[str], detail: Mapping[str, Any]
) -> tuple[int, str, str]:
    """(size in words, plain text, HTML) of an event: one diff, both renderings."""
    change = compare(old, new, kinds, detail)
    return (
        change.size,
        _LONE_SURROGATE.sub("\ufffd", change.text()),
        _LONE_SURROGATE.sub("\ufffd", change.html()),
    )


def render_stored(index: IndexBackend, event: EventRow) -> tuple[int, str]:
    """Render an event from the revisions in the index (for events recorded without text)."""
    change = _change(index, event.statement_id, event)
    return change.size, _LONE_SURROGATE.sub("\ufffd", change.text())


class Announced(Protocol):
    """What :func:`html_of` reads of an event (an :class:`EventRow` or a ``storage.event.Event``):
    the statement is found by its current path, unique to it."""

    @property
    def id(self) -> int | None: ...
    @property
    def path(self) -> str: ...
    @property
    def kinds(self) -> tuple[str, ...]: ...
    @property
    def from_rev(self) -> int | None: ...
    @property
    def to_rev(self) -> int | None: ...
    @property
    def detail(self) -> dict[str, Any]: ...


def html_of(index: IndexBackend, events: Sequence[Announced]) -> dict[int, str]:
    """The HTML of these events by id: stored, or rendered from their revisions and stored
    (once per event; the index must be writable when one has none yet)."""
    recorded = [e for e in events if e.id is not None]
    found = index.event_html([e.id for e in recorded if e.id is not None])
    missing = [e for e in recorded if e.id not in found]
    if missing:
        with index.transaction():
            for event in missing:
                row = index.by_path(event.path)
                if row is None or event.id is None:
                    continue
                html = _change(index, row.id, event).html()
                found[event.id] = _LONE_SURROGATE.sub("\ufffd", html)
                index.set_event_html(event.id, found[event.id])
    return found


def _change(index: IndexBackend, statement_id: int, event: Announced) -> Change:
    old = _statement(index.revision(statement_id, event.from_rev or 0))
    new = _statement(index.revision(statement_id, event.to_rev or 0))
    return compare(old, new, event.kinds, event.detail)


def fill_missing(index: IndexBackend, events: Sequence[EventRow]) -> int:
    """Render and store the text of those events that have none yet; how many were filled."""
    missing = [e for e in events if e.diff is None]
    if missing:
        with index.transaction():
            for event in missing:
                size, text = render_stored(index, event)
                index.set_event_text(event.id, text, size)
    return len(missing)


def _statement(revision: RevisionRow | None) -> Statement | None:
    if revision is None:
        return None
    return Statement(load_meta(revision.front_matter), revision.body, revision.front_matter)
