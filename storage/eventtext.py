"""What a change event says to a reader: rendered once, when the event is recorded.

An alert (an Atom entry, a webhook payload) shows an event's front-matter changes and its word
diff, and filters on its size (words added or removed). Diffing is the costly part and an event
never changes once recorded, so :func:`describe` runs once, in :meth:`Archive.record`, and the
index keeps its text and size beside the event (``events.diff``, ``events.size``). Announcing
reads stored text: its cost follows the number of events announced, not the archive's history.

Events recorded before the index had those columns are rendered on first use by
:func:`fill_missing` (under the archive's lock), which stores the result: once per event.

The text is :meth:`storage.change.Change.text`: a revert (A -> B -> A) opens with a sentence
saying that the page says again what it said before, so a reader of an alert never believes the
page still says B.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from storage.change import compare
from storage.document import Statement, load_meta
from storage.index import EventRow, IndexBackend, RevisionRow

_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def describe(
    old: Statement | None, new: Statement | None, kinds: Sequence[str], detail: Mapping[str, Any]
) -> tuple[int, str]:
    """(size in words, plain text) of an event: ``old`` and ``new`` are the revisions compared."""
    change = compare(old, new, kinds, detail)
    # A lone surrogate (a title can hold one, escaped in the YAML) cannot be stored as text.
    return change.size, _LONE_SURROGATE.sub("\ufffd", change.text())


def render_stored(index: IndexBackend, event: EventRow) -> tuple[int, str]:
    """Render an event from the revisions in the index (for events recorded without text)."""
    old = _statement(index.revision(event.statement_id, event.from_rev or 0))
    new = _statement(index.revision(event.statement_id, event.to_rev or 0))
    return describe(old, new, event.kinds, event.detail)


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
