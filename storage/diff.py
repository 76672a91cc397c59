"""Comparing two revisions of a statement: change kinds and word-level diffs.

Bodies are wrapped at 72 columns, so a one-word fix re-flows a paragraph. Everything here works
on *words* (runs of letters and digits, and single punctuation marks), never on lines, so
re-wrapping and Markdown escaping are not content changes.
"""

from __future__ import annotations

import difflib
import functools
import hashlib
import html
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from storage.document import KEY_ALIASES, Statement

#: Change kinds, in the order they are reported.
KINDS: tuple[str, ...] = (
    "new",
    "updated",
    "retitled",
    "metadata",
    "moved",
    "replaced",
    "reverted",
    "flapping",
    "reformatted",
    "removed",
    "restored",
    "silent",
    "declared",
    "withdrawn",
)

_ESCAPE = re.compile(r"\\([!-/:-@\[-`{-~])")
#: The attributes of a raw HTML tag a reader sees (or follows): the rest is presentation.
VISIBLE_ATTRIBUTES = ("href", "src", "alt")
_QUOTES = "\"'"
#: Raw HTML is these elements (HTML 5 and the older ones pages still carry); ``<five>`` is text.
_ELEMENT_NAMES = (
    "a abbr address area article aside audio b bdi bdo big blockquote br button caption center"
    " cite code col colgroup data dd del details dfn div dl dt em embed fieldset figcaption"
    " figure font footer form h1 h2 h3 h4 h5 h6 header hr i iframe img input ins kbd label"
    " legend li main map mark meter nav noscript object ol optgroup option output p param"
    " picture pre q rp rt ruby s samp script section select small source span strike strong"
    " style sub summary sup svg table tbody td template textarea tfoot th thead time tr track"
    " tt u ul var video wbr"
)
HTML_ELEMENTS = frozenset(_ELEMENT_NAMES.split())
_ATTR = re.compile(r"""([^\s"'<>/=]+)(?:\s*=\s*("[^"]*"|'[^']*'|[^\s"'=<>`]+))?""")
_BRACKETED = r"(?:\\.|[^\[\]\\]|\[(?:\\.|[^\[\]\\])*\])*"


def _destination_pattern(name: str) -> str:
    """A link's ``(destination "title")``, the destination captured as ``name``."""
    url = r"<[^<>\n]*>|[^\s()]*(?:\([^\s()]*\)[^\s()]*)*"
    return rf"""\(\s*(?P<{name}>{url})(?:\s+(?:"[^"]*"|'[^']*'|\([^)]*\)))?\s*\)"""


# Inline syntax, left to right: a comment, an image, a link, a raw HTML tag, an emphasis run.
_INLINE = re.compile(
    r"(?P<comment><!--.*?-->)"
    rf"|!\[(?P<alt>{_BRACKETED})\]{_destination_pattern('src')}"
    rf"|(?<!\\)\[(?P<text>{_BRACKETED})\]{_destination_pattern('href')}"
    r"""|(?<!\\)<(?P<close>/?)(?P<tag>[A-Za-z][\w:-]*)(?=[\s/>])"""
    r"""(?P<attrs>(?:\s+[^\s"'<>/=]+(?:\s*=\s*(?:"[^"]*"|'[^']*'|[^\s"'=<>`]+))?)*)\s*/?>"""
    r"|(?P<emphasis>(?:\\?\*)+|(?<![\w\\])(?:\\?_)+|(?:\\?_)+(?!\w))",
    re.S,
)
# Line syntax: thematic breaks and setext underlines, ATX heading marks, "*" and "+" bullets.
_RULE = re.compile(r"^ {0,3}(?:([-*_])(?:[ \t]*\1){2,}|=+)[ \t]*$", re.M)
_HEADING = re.compile(r"^ {0,3}#{1,6}(?=[ \t]|$)|[ \t]+#+[ \t]*$", re.M)
_BULLET = re.compile(r"^([ \t]*)[*+](?=[ \t]+\S)", re.M)
_TOKEN = re.compile(r"\w+(?:['\u2019]\w+)*|[^\w\s]")
# Above this many differing words on both sides, let difflib treat very common words as junk.
_AUTOJUNK_ABOVE = 4000


@dataclass(frozen=True, slots=True)
class Token:
    text: str
    spaced: bool  # whitespace stood before it in the source text


def tokens(body: str) -> list[Token]:
    """The words and punctuation marks of a Markdown body, escapes undone."""
    text = _ESCAPE.sub(r"\1", body)
    out: list[Token] = []
    last = 0
    for match in _TOKEN.finditer(text):
        out.append(Token(match.group(), match.start() > last and text[match.start() - 1].isspace()))
        last = match.end()
    return out


def visible(body: str) -> str:
    """The body as a reader sees it, in a canonical form: what decides "content changed".

    A reader sees text, follows links and sees images; everything else is presentation, which
    older recipes wrote differently. So a raw HTML tag keeps only its ``href``, ``src`` and
    ``alt`` (a tag with none of them vanishes: ``<span class=..>``, ``</a>``, ``<figure>``), and
    a Markdown link or image is written as the same tag (``[text](url)`` and
    ``<a href="url" target="_blank">text</a>`` are alike). Comments, emphasis marks, heading
    marks and thematic breaks vanish; ``*`` and ``+`` bullets become ``-``. Wrapping, the
    spacing after a list marker and escaping are left to :func:`tokens`, which sees words and
    marks, not spacing.
    """
    text = _BULLET.sub(r"\1-", _HEADING.sub("", _RULE.sub("", body)))
    return _INLINE.sub(_visible_inline, text)


def _visible_inline(match: re.Match[str]) -> str:
    found = match.groupdict()
    if found["tag"] is not None and found["tag"].lower() not in HTML_ELEMENTS:
        return match.group()  # "<five>" is text, not HTML
    if found["alt"] is not None:
        alt = _INLINE.sub(_visible_inline, found["alt"])
        return _canonical_tag("img", {"src": _destination(found["src"]), "alt": alt})
    if found["text"] is not None:
        text = _INLINE.sub(_visible_inline, found["text"])
        return _canonical_tag("a", {"href": _destination(found["href"])}) + text
    if found["tag"] is not None and not found["close"]:
        values = {k.lower(): v or "" for k, v in _ATTR.findall(found["attrs"] or "")}
        kept = {k: html.unescape(v.strip(_QUOTES)) for k, v in values.items()}
        return _canonical_tag(found["tag"].lower(), kept)
    return "" if found["emphasis"] is not None else " "  # a comment, a tag that shows nothing


def _destination(text: str) -> str:
    return text[1:-1] if text.startswith("<") else text


def _canonical_tag(name: str, attributes: Mapping[str, str]) -> str:
    values = {k: " ".join(v.split()) for k, v in attributes.items()}
    kept = [f'{key}="{values[key]}"' for key in VISIBLE_ATTRIBUTES if values.get(key)]
    return f"<{' '.join([name, *kept])}>" if kept else " "


def words(body: str) -> list[str]:
    """The body's whitespace-separated words, Markdown escapes undone: what counts as content."""
    return list(_words(body))


@functools.lru_cache(maxsize=8)
def _words(body: str) -> tuple[str, ...]:
    # Recording one statement asks for its words three times (its words hash for a move, for
    # the index, and the event's size): the few bodies recorded last are kept.
    return tuple(_ESCAPE.sub(r"\1", body).split())


def same_words(old_body: str, new_body: str, hosts: Mapping[str, str] | None = None) -> bool:
    """Whether two bodies show a reader the same thing: they differ at most in presentation.

    Whitespace-separated words decide fast; where they differ, the tokens of the
    :func:`visible` forms have the last say, so "word ," and "word," count as the same, and so
    do ``<img src="a" data-fetchpriority="high">`` and ``<img src="a">``. ``hosts`` maps hosts
    a source declares the same (its origin to its public archive's: ``www.whitehouse.gov`` to
    ``bidenwhitehouse.archives.gov``) to one of them: a link or image moved between them leads
    to the same document, so it is presentation. Any other host is another place.
    """
    if _words(old_body) == _words(new_body):
        return True
    return _texts(_rehomed_tokens(old_body, hosts)) == _texts(_rehomed_tokens(new_body, hosts))


# A link or image URL in a canonical tag (:func:`visible`): its host.
_HOSTED = re.compile(r'(?P<head>(?:href|src)="https?://)(?P<host>[^/"\s]+)')


def _rehomed_tokens(body: str, hosts: Mapping[str, str] | None) -> tuple[Token, ...]:
    """The visible tokens, each link's host written as the one ``hosts`` says it equals."""
    return _rehomed(body, tuple(sorted(hosts.items())) if hosts else ())


@functools.lru_cache(maxsize=4)
def _rehomed(body: str, hosts: tuple[tuple[str, str], ...]) -> tuple[Token, ...]:
    # Recording an edit asks for the new body's visible tokens two or three times (its kinds,
    # whether it reverts an older revision, the event's word diff; ``hosts`` apart, a key of its
    # own), and the old body's twice: the bodies compared last are kept. Few: tokens take ~27
    # bytes a character of the body, 4.8 MB for the longest transcripts (180 KB).
    text = visible(body)
    if hosts:
        same = dict(hosts)
        text = _HOSTED.sub(lambda m: m["head"] + same.get(m["host"].lower(), m["host"]), text)
    return tuple(tokens(text))


def visible_tokens(body: str) -> list[Token]:
    """The words and marks a reader sees in a Markdown body (see :func:`visible`)."""
    return list(_rehomed(body, ()))


def _texts(run: Sequence[Token]) -> list[str]:
    return [t.text for t in run]


def words_hash(body: str) -> str:
    """A hash of a body's words: equal for bodies that differ only in wrapping or escaping."""
    return _words_hash(body)


@functools.lru_cache(maxsize=8)
def _words_hash(body: str) -> str:
    return hashlib.sha256("\x1f".join(_words(body)).encode("utf-8", "surrogatepass")).hexdigest()


def canonical_meta(meta: Mapping[str, Any]) -> dict[str, Any]:
    return {KEY_ALIASES.get(k, k): v for k, v in meta.items()}


@dataclass(frozen=True)
class FieldChange:
    key: str
    old: Any
    new: Any


def meta_changes(old: Statement, new: Statement) -> list[FieldChange]:
    """Front-matter values that differ, by key (older key names count as their new ones)."""
    a, b = canonical_meta(old.meta), canonical_meta(new.meta)
    keys = list(a) + [k for k in b if k not in a]
    return [FieldChange(k, a.get(k), b.get(k)) for k in keys if a.get(k) != b.get(k)]


#: A different document at the same URL (:func:`is_replacement`): its title shares at most this
#: share of words with the old title, and its body at most this share of three-word runs.
REPLACED_TITLE_OVERLAP = 0.5
REPLACED_BODY_OVERLAP = 0.3


def is_replacement(old: Statement, new: Statement) -> bool:
    """Whether ``new``, found at ``old``'s URL, is a different document, not a revision of it.

    All three must hold: the publication time moved (a revision keeps it); the titles share at
    most half their words; and the bodies share at most 30% of their three-word runs
    (boilerplate alone reaches about a quarter). An empty body on either side shares nothing.
    """
    old_time, new_time = old.published_time, new.published_time
    if old_time is None or new_time is None or old_time == new_time:
        return False
    title = overlap(set(_lower_words(old.title)), set(_lower_words(new.title)))
    if title > REPLACED_TITLE_OVERLAP:
        return False
    return overlap(shingles(old.body), shingles(new.body)) <= REPLACED_BODY_OVERLAP


def overlap(a: set[Any], b: set[Any]) -> float:
    """The share of the smaller set found in the other (0 when either is empty)."""
    if not a or not b:
        return 0.0
    return len(a & b) / min(len(a), len(b))


def _lower_words(text: str) -> list[str]:
    return [t.text.lower() for t in tokens(text) if t.text[0].isalnum()]


def shingles(body: str) -> set[tuple[str, ...]]:
    seen = [t.text.lower() for t in visible_tokens(body) if t.text[0].isalnum()]
    return {tuple(seen[i : i + 3]) for i in range(max(0, len(seen) - 2))}


def title_kinds(old: str, new: str) -> tuple[str, ...]:
    """What a title change is: nothing a reader sees when only its spacing moved (a no-break
    space put in to keep the last two words together, "dewidowing"); ``metadata`` when only its
    letter case did (a re-cased title says the same words); ``retitled`` otherwise."""
    a, b = " ".join(old.split()), " ".join(new.split())  # str.split() splits at U+00A0 too
    if a == b:
        return ()
    re_cased = a.casefold() == b.casefold() or a.upper() == b.upper()  # dotless i: upper() only
    return ("metadata",) if re_cased else ("retitled",)


def classify(
    old: Statement | None, new: Statement, hosts: Mapping[str, str] | None = None
) -> tuple[str, ...]:
    """The change kinds of ``new`` against the revision before it (``()`` when identical);
    ``hosts``: hosts its source declares the same (see :func:`same_words`)."""
    if old is None:
        return ("new",)
    kinds: set[str] = set()
    for change in meta_changes(old, new):
        if change.key == "source_url":
            kinds.add("moved")
        elif change.key == "title":
            kinds.update(title_kinds(old.title, new.title))
        else:
            kinds.add("metadata")
    if old.body != new.body and not same_words(old.body, new.body, hosts):
        kinds.add("updated")
    if not kinds and (old.body != new.body or old.front_matter() != new.front_matter()):
        kinds.add("reformatted")  # only alone: with a real change, the rendering comes along
    return tuple(k for k in KINDS if k in kinds)


# -- word diffs -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Chunk:
    """A run of the word diff: ``equal``, ``delete``, ``insert`` or ``replace``."""

    op: Literal["equal", "delete", "insert", "replace"]
    old: tuple[Token, ...]
    new: tuple[Token, ...]


def word_diff(old_body: str, new_body: str, *, markdown: bool = True) -> list[Chunk]:
    """The word-level diff of two bodies' visible forms (of two plain texts: ``markdown=False``),
    so that a one-word edit shows as that word, whatever the attribute noise around it."""
    split = visible_tokens if markdown else tokens
    a, b = split(old_body), split(new_body)
    ta, tb = [t.text for t in a], [t.text for t in b]
    head = 0
    while head < min(len(ta), len(tb)) and ta[head] == tb[head]:
        head += 1
    tail = 0
    while tail < min(len(ta), len(tb)) - head and ta[-1 - tail] == tb[-1 - tail]:
        tail += 1
    chunks: list[Chunk] = []
    if head:
        chunks.append(Chunk("equal", tuple(a[:head]), tuple(b[:head])))
    mid_a, mid_b = ta[head : len(ta) - tail], tb[head : len(tb) - tail]
    autojunk = min(len(mid_a), len(mid_b)) > _AUTOJUNK_ABOVE
    matcher = difflib.SequenceMatcher(None, mid_a, mid_b, autojunk=autojunk)
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        chunks.append(Chunk(op, tuple(a[head + i1 : head + i2]), tuple(b[head + j1 : head + j2])))
    if tail:
        chunks.append(Chunk("equal", tuple(a[len(a) - tail :]), tuple(b[len(b) - tail :])))
    return [c for c in chunks if c.old or c.new]


def join(run: Sequence[Token], first: bool = False) -> str:
    text = ""
    for i, tok in enumerate(run):
        text += (" " if tok.spaced and (i or not first) else "") + tok.text
    return text


Style = Mapping[str, tuple[str, str]]
PLAIN: Style = {"delete": ("[-", "-]"), "insert": ("{+", "+}")}
ANSI: Style = {"delete": ("\x1b[31m[-", "-]\x1b[0m"), "insert": ("\x1b[32m{+", "+}\x1b[0m")}


def render_hunks(chunks: Sequence[Chunk], context: int = 8, style: Style = PLAIN) -> Iterator[str]:
    """One line per hunk: the changed words marked, ``context`` words either side."""
    line = ""
    changed = [i for i, c in enumerate(chunks) if c.op != "equal"]
    for n, i in enumerate(changed):
        before = _equal_words(chunks, i - 1)
        if not line:
            lead = before[-context:] if len(before) > context else before
            line = ("…" if len(before) > context else "") + join(lead, first=True)
        chunk = chunks[i]
        lead_space = " " if (chunk.old or chunk.new)[0].spaced else ""
        line += lead_space
        if chunk.old:
            open_, close = style["delete"]
            line += open_ + join(chunk.old, first=True) + close
        if chunk.new:
            open_, close = style["insert"]
            line += open_ + join(chunk.new, first=True) + close
        after = _equal_words(chunks, i + 1)
        nxt = changed[n + 1] if n + 1 < len(changed) else None
        if nxt is not None and len(after) <= 2 * context:
            line += join(after)
            continue
        line += join(after[:context]) + ("…" if len(after) > context else "")
        yield line.strip()
        line = ""


def _equal_words(chunks: Sequence[Chunk], i: int) -> tuple[Token, ...]:
    if 0 <= i < len(chunks) and chunks[i].op == "equal":
        return chunks[i].new
    return ()


def chunks_as_json(chunks: Sequence[Chunk], context: int = 8) -> list[dict[str, str]]:
    out = []
    for i, chunk in enumerate(chunks):
        if chunk.op == "equal":
            continue
        before = _equal_words(chunks, i - 1)[-context:]
        after = _equal_words(chunks, i + 1)[:context]
        out.append(
            {
                "op": chunk.op,
                "old": join(chunk.old, first=True),
                "new": join(chunk.new, first=True),
                "before": join(before, first=True),
                "after": join(after, first=True),
            }
        )
    return out


def unified(old_text: str, new_text: str, old_name: str, new_name: str) -> str:
    lines = difflib.unified_diff(
        old_text.splitlines(keepends=True),
        new_text.splitlines(keepends=True),
        fromfile=old_name,
        tofile=new_name,
    )
    return "".join(lines)
