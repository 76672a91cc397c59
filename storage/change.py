"""The change model: what differs between two revisions, once, and its renderers.

:class:`Change` is built from two revisions (either may be missing: a new statement, a removal)
and holds what every reader of a change needs: its kinds, the front-matter fields that differ,
the word-diff chunks of the body, and how many words were added and removed. Computing it is the
costly part (the word diff, :mod:`storage.diff`); rendering it is cheap, and each output has its
renderer here:

- :meth:`Change.text`: plain text, as stored with an event when it is recorded
  (:mod:`storage.eventtext`); a webhook's ``diff`` is this text, read back, never re-diffed;
- :meth:`Change.terminal`: the lines of ``statements diff``, plain or coloured (ANSI);
- :meth:`Change.as_json`: ``statements diff --format json``'s fields;
- :meth:`Change.html`: an HTML fragment, the changed words in ``<del>``/``<ins>``, every value
  escaped: the HTML report's statement pages and the Atom entries' content, stored with each
  event when it is recorded (:mod:`storage.eventtext`).

A revert (A -> B -> A) opens its text with a sentence saying that the page says again what it
said before, naming the revision it undid and when that edit was seen.
"""

from __future__ import annotations

import html as _html
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from storage import diff as wdiff
from storage.document import Statement

_PRESENTATION = "wrapping, escaping, markup"


@dataclass(frozen=True)
class Change:
    """One step from ``old`` to ``new`` (``None``: no such revision)."""

    kinds: tuple[str, ...]
    span: Literal["first", "step", "gone"] = "step"  # no old revision, both, no new revision
    title: str = ""  # the new revision's title ("" when there is none)
    fields: tuple[wdiff.FieldChange, ...] = ()
    chunks: tuple[wdiff.Chunk, ...] = ()  # the body's word diff (empty: bodies equal)
    body_changed: bool = False  # the body text differs (maybe only in presentation)
    added: int = 0  # words added (a new statement: all its words)
    removed: int = 0  # words removed
    detail: Mapping[str, Any] = field(default_factory=dict)  # the event's detail (reverts, why)

    @property
    def size(self) -> int:
        """Words added or removed: what an alert's ``min_change`` compares with."""
        return self.added + self.removed

    @property
    def news(self) -> bool:
        """Whether the body changed in words a reader sees (not only in presentation)."""
        return "updated" in self.kinds and any(c.op != "equal" for c in self.chunks)

    def text(self) -> str:
        """Plain text: front-matter changes and the changed words in context (see module)."""
        return "\n".join(_text_lines(self))

    def terminal(self, context: int = 8, style: wdiff.Style = wdiff.PLAIN) -> Iterator[str]:
        """The lines ``statements diff`` prints below its heading (``wdiff.ANSI``: coloured)."""
        for change in self.fields:
            if change.key == "title":
                words = wdiff.word_diff(str(change.old), str(change.new), markdown=False)
                yield "title: " + " ".join(wdiff.render_hunks(words, context, style))
            else:
                yield f"{change.key}: {_value(change.old)} -> {_value(change.new)}"
        if not self.body_changed:
            yield "body: unchanged"
        elif not self.news:
            yield f"body: presentation only ({_PRESENTATION}); nothing a reader sees changed"
        else:
            yield "body:"
            yield from ("  " + hunk for hunk in wdiff.render_hunks(self.chunks, context, style))

    def html(self, context: int = 8) -> str:
        """An HTML fragment (see the module docstring); ``context`` words around each change."""
        return "\n".join(_html_parts(self, context))

    def as_json(self, context: int = 8) -> dict[str, Any]:
        return {
            "kinds": list(self.kinds),
            "front_matter": [{"key": f.key, "old": f.old, "new": f.new} for f in self.fields],
            "body": wdiff.chunks_as_json(self.chunks, context),
            "added": self.added,
            "removed": self.removed,
        }


def compare(
    old: Statement | None,
    new: Statement | None,
    kinds: Sequence[str] | None = None,
    detail: Mapping[str, Any] | None = None,
) -> Change:
    """The change from ``old`` to ``new``; ``kinds`` default to :func:`storage.diff.classify`'s."""
    if kinds is None:
        kinds = () if new is None else wdiff.classify(old, new)
    detail = detail or {}
    if new is None:
        return Change(tuple(kinds), "gone", detail=detail)
    if old is None:
        words = len(wdiff.words(new.body))
        return Change(tuple(kinds), "first", new.title, added=words, detail=detail)
    chunks: tuple[wdiff.Chunk, ...] = ()
    if old.body != new.body:
        chunks = tuple(wdiff.word_diff(old.body, new.body))
    changed = [c for c in chunks if c.op != "equal"]
    return Change(
        tuple(kinds),
        "step",
        new.title,
        tuple(wdiff.meta_changes(old, new)),
        chunks,
        old.body != new.body,
        added=sum(len(c.new) for c in changed),
        removed=sum(len(c.old) for c in changed),
        detail=detail,
    )


def _text_lines(change: Change) -> Iterator[str]:
    if "reverted" in change.kinds:
        yield revert_sentence(change.detail)
    yield from declared_sentences(change.detail)
    if change.span != "step":
        line = _span_line(change)
        if line:
            yield line
    else:
        yield from (f"{c.key}: {c.old} -> {c.new}" for c in change.fields)
        yield from wdiff.render_hunks(change.chunks)


def _span_line(change: Change) -> str:
    """What a change without two revisions says: a new (or replacing) document, a removal."""
    if change.span == "first":
        return _first_words(change.title, change.detail.get("replaces"))
    if "removed" in change.kinds:
        return f"Removed from the source ({change.detail.get('why', '')})."
    return ""


def _html_parts(change: Change, context: int) -> Iterator[str]:
    if "reverted" in change.kinds:
        yield f'<p class="revert"><strong>{_e(revert_sentence(change.detail))}</strong></p>'
    for sentence in declared_sentences(change.detail):
        yield f'<p class="declared"><strong>{_e(sentence)}</strong></p>'
    if change.span != "step":
        line = _span_line(change)
        if line:
            yield f"<p>{_e(line)}</p>"
        return
    if change.fields:
        yield '<dl class="fields">'
        for f in change.fields:
            yield f"<dt>{_e(f.key)}</dt><dd>{_field_html(f)}</dd>"
        yield "</dl>"
    if not change.body_changed:
        yield '<p class="body-state">Body unchanged.</p>'
    elif not change.news:
        yield f'<p class="body-state">Body: presentation only ({_PRESENTATION}).</p>'
    else:
        yield '<ol class="hunks">'
        yield from (f"<li>{hunk}</li>" for hunk in html_hunks(change.chunks, context))
        yield "</ol>"


def _field_html(change: wdiff.FieldChange) -> str:
    if change.key == "title" and change.old is not None and change.new is not None:
        words = wdiff.word_diff(str(change.old), str(change.new), markdown=False)
        return " ".join(html_hunks(words, context=1000))
    old = "" if change.old is None else f"<del>{_e(_value(change.old))}</del>"
    new = "" if change.new is None else f"<ins>{_e(_value(change.new))}</ins>"
    return " → ".join(part for part in (old, new) if part) or "(none)"


#: Deleted and inserted words in HTML: the values between the marks are escaped.
HTML_STYLE: wdiff.Style = {"delete": ("<del>", "</del>"), "insert": ("<ins>", "</ins>")}


def html_hunks(chunks: Sequence[wdiff.Chunk], context: int = 8) -> Iterator[str]:
    """:func:`storage.diff.render_hunks` in HTML: every word escaped, changes in del/ins."""
    escaped = [
        wdiff.Chunk(c.op, _escape_run(c.old, context), _escape_run(c.new, context))
        if c.op == "equal"
        else wdiff.Chunk(c.op, _escape_run(c.old), _escape_run(c.new))
        for c in chunks
    ]
    return wdiff.render_hunks(escaped, context, HTML_STYLE)


def _escape_run(run: Sequence[wdiff.Token], context: int | None = None) -> tuple[wdiff.Token, ...]:
    """A run of words escaped; an unchanged run longer than two contexts keeps only its ends
    (one word more than a context each: :func:`storage.diff.render_hunks` shows no more, and
    still sees that it is longer), so a long body costs what is shown, not its length."""
    if context and len(run) > 2 * context + 2:  # (0: render_hunks shows a whole run before)
        run = [*run[: context + 1], *run[len(run) - context - 1 :]]
    return tuple(_escaped(t) for t in run)


def _escaped(token: wdiff.Token) -> wdiff.Token:
    return wdiff.Token(_e(token.text), token.spaced)


def _e(text: str) -> str:
    return _html.escape(text, quote=True)


def _first_words(title: str, replaces: Mapping[str, Any] | None) -> str:
    """A new statement, or a different document that took over a known statement's URL."""
    if not replaces:
        return f"New statement: {title}"
    return (
        f"Replaced: a different document now has this URL: {title}. The document it"
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


def declared_sentences(detail: Mapping[str, Any]) -> Iterator[str]:
    """What the publisher declared with a change: its notes, its withdrawal."""
    for note in detail.get("declared") or ():
        yield f"Declared by the publisher ({note.get('at')}): {note.get('note')}"
    withdrawn = detail.get("withdrawn")
    if isinstance(withdrawn, Mapping):
        when = f" ({withdrawn['at']})" if withdrawn.get("at") else ""
        yield f"Withdrawn by the publisher{when}: {withdrawn.get('explanation') or ''}".rstrip()


def _value(value: Any) -> str:
    return "(none)" if value is None else str(value)
