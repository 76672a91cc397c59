"""What a change event says to a reader: rendered once, when the event is recorded.

An alert (an Atom entry, a webhook payload) shows an event's front-matter changes and its word
diff, and filters on its size (words added or removed). Diffing is the costly part and an event
never changes once recorded, so :func:`describe` runs once, in :meth:`Archive.record`, and the
index keeps its text and size beside the event (``events.diff``, ``events.size``). Announcing
reads stored text: its cost follows the number of events announced, not the archive's history.

Events recorded before the index had those columns are rendered on first use by
:func:`fill_missing` (under the archive's lock), which stores the result: once per event.

A revert (A -> B -> A) opens with a sentence saying that the page says again what it said
before, naming the revision it undid and when that edit was seen, so a reader of the alert never
believes the page still says B.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from storage import diff as wdiff
from storage.document import Statement, load_meta
from storage.index import EventRow, IndexBackend, RevisionRow

_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def describe(
    old: Statement | None, new: Statement | None, kinds: Sequence[str], detail: Mapping[str, Any]
) -> tuple[int, str]:
    """(size in words, plain text) of an event: ``old`` and ``new`` are the revisions compared."""
    lines = [revert_sentence(detail)] if "reverted" in kinds else []
    size = 0
    if new is None:
        if "removed" in kinds:
            lines.append(f"Removed from the source ({detail.get('why', '')}).")
    elif old is None:
        size = len(wdiff.words(new.body))
        lines.append(_first_words(new, detail.get("replaces")))
    else:
        lines.extend(f"{c.key}: {c.old} -> {c.new}" for c in wdiff.meta_changes(old, new))
        if old.body != new.body:
            chunks = wdiff.word_diff(old.body, new.body)
            size = sum(len(c.old) + len(c.new) for c in chunks if c.op != "equal")
            lines.extend(wdiff.render_hunks(chunks))
    # A lone surrogate (a title can hold one, escaped in the YAML) cannot be stored as text.
    return size, _LONE_SURROGATE.sub("\ufffd", "\n".join(lines))


def _first_words(new: Statement, replaces: Mapping[str, Any] | None) -> str:
    """A new statement, or a different document that took over a known statement's URL."""
    if not replaces:
        return f"New statement: {new.title}"
    return (
        f"Replaced: a different document now has this URL: {new.title}. The document it"
        f" replaces, {replaces.get('title')}, keeps its file ({replaces.get('path')})."
    )


def revert_sentence(detail: Mapping[str, Any]) -> str:
    """'Reverted: ...' for an event that undid the one before it."""
    undone, seen, back = detail.get("reverts"), detail.get("reverts_seen"), detail.get("back_to")
    text = (
        f"Reverted: the page says again what it said at revision {back}, undoing the edit of"
        f" revision {undone} (seen {seen})."
    )
    if "flap_of" in detail:
        text += f" Flapping: flip-back {detail.get('flips', 1)} within a day."
    return text


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
