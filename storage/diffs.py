"""Two revisions of a statement compared, as :meth:`storage.archive.Archive.diff` returns them.

A :class:`Diff` is the word-diff model of :mod:`storage.diff` gathered for one pair of
revisions: the change kinds (those the event recorded when the revisions are one step apart,
else :func:`storage.diff.classify`'s), the front-matter values that differ, and the word diff of
the bodies' visible text. It computes once and renders cheaply (:meth:`Diff.hunks`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from storage.diff import Chunk, FieldChange, classify, meta_changes, render_hunks, word_diff
from storage.document import Statement, load_meta
from storage.index import RevisionRow, StatementRow


@dataclass(frozen=True)
class Diff:
    """From revision ``old`` to revision ``new`` of ``statement``."""

    statement: StatementRow
    old: RevisionRow
    new: RevisionRow
    kinds: tuple[str, ...]
    fields: tuple[FieldChange, ...]  # front-matter values that differ, by key
    chunks: tuple[Chunk, ...]  # the bodies' word diff (one "equal" run: no visible change)

    @property
    def added(self) -> int:
        """Words inserted in the body."""
        return sum(len(c.new) for c in self.chunks if c.op != "equal")

    @property
    def removed(self) -> int:
        """Words deleted from the body."""
        return sum(len(c.old) for c in self.chunks if c.op != "equal")

    def hunks(self, context: int = 8) -> list[str]:
        """One line per changed place in the body: deleted words as ``[-...-]``, inserted ones
        as ``{+...+}``, ``context`` words either side."""
        return list(render_hunks(self.chunks, context))


def compare(
    statement: StatementRow, old: RevisionRow, new: RevisionRow, kinds: Sequence[str] = ()
) -> Diff:
    """The diff of two revisions; ``kinds`` (the recorded ones) default to the classified."""
    before, after = _statement(old), _statement(new)
    return Diff(
        statement,
        old,
        new,
        tuple(kinds) or classify(before, after),
        tuple(meta_changes(before, after)),
        tuple(word_diff(before.body, after.body)),
    )


def _statement(revision: RevisionRow) -> Statement:
    return Statement(load_meta(revision.front_matter), revision.body, revision.front_matter)
