"""Two revisions of a statement compared, as :meth:`storage.archive.Archive.diff` returns them.

A :class:`Diff` names the statement and the two revisions, and holds their
:class:`storage.change.Change`: the one change model (kinds, front-matter fields, the word diff
of what a reader sees of the bodies, words added and removed) with its renderers. The kinds are
those the event recorded when the revisions are one step apart, else
:func:`storage.diff.classify`'s. It computes once and renders cheaply (:meth:`Diff.hunks`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from storage.change import Change
from storage.change import compare as compare_revisions
from storage.diff import Chunk, FieldChange, render_hunks
from storage.document import Statement, load_meta
from storage.index import RevisionRow, StatementRow


@dataclass(frozen=True)
class Diff:
    """From revision ``old`` to revision ``new`` of ``statement``."""

    statement: StatementRow
    old: RevisionRow
    new: RevisionRow
    change: Change

    @property
    def kinds(self) -> tuple[str, ...]:
        return self.change.kinds

    @property
    def fields(self) -> tuple[FieldChange, ...]:
        """Front-matter values that differ, by key."""
        return self.change.fields

    @property
    def chunks(self) -> tuple[Chunk, ...]:
        """The bodies' word diff (empty, or one "equal" run: no visible change)."""
        return self.change.chunks

    @property
    def added(self) -> int:
        """Words inserted in the body."""
        return self.change.added

    @property
    def removed(self) -> int:
        """Words deleted from the body."""
        return self.change.removed

    def hunks(self, context: int = 8) -> list[str]:
        """One line per changed place in the body: deleted words as ``[-...-]``, inserted ones
        as ``{+...+}``, ``context`` words either side."""
        return list(render_hunks(self.chunks, context))


def compare(
    statement: StatementRow, old: RevisionRow, new: RevisionRow, kinds: Sequence[str] = ()
) -> Diff:
    """The diff of two revisions; ``kinds`` (the recorded ones) default to the classified."""
    change = compare_revisions(_statement(old), _statement(new), tuple(kinds) or None)
    return Diff(statement, old, new, change)


def _statement(revision: RevisionRow) -> Statement:
    return Statement(load_meta(revision.front_matter), revision.body, revision.front_matter)
