"""A native writer of the archive's Markdown for the plain HTML most statement bodies are.

pandoc (:mod:`crawler.pandoc`) costs ~30 ms of CPU per real body; most bodies are paragraphs,
links, emphasis, lists and headings. :func:`to_markdown` writes exactly what our pandoc
invocation (``-f html -t markdown_strict+four_space_rule``, 72 columns) writes for that subset,
and returns None for anything else, which then goes to pandoc as before. It refuses rather than
guesses: an unknown tag or attribute, a table, a caption, raw HTML pandoc would keep (a styled
``<span>``, an image outside a figure), a URL pandoc would percent-encode, a character or a place
of one whose escaping was not checked against pandoc (tests/test_markdown.py compares both on
every real body of the fixture site, on every short list-marker word and on hostile text).

A body is refused a block at a time (:func:`element_to_partial`): a top-level block it cannot
write is left to pandoc alone (a hole), the others written here, and pandoc's outputs joined in
their places with the same blank line. pandoc writes a top-level block alone as in its document
but where its reader or writer looks across blocks: a ``<main>``, notes, ids made unique, a
comment between a list and code or a list of its kind, blocks that come out empty, loose text;
a body with any of those is pandoc's whole, as before (pandoc 3.9's HTML reader and Markdown
writer read for it; tested on every real body and on hostile bodies with such blocks).

Pure functions: an lxml tree in, text out. The inline content of a block becomes words (runs
that never break: text, emphasis and link markup glued together) between breakable spaces and
hard breaks, then lines filled greedily to the width, as pandoc's layout does.
"""

from __future__ import annotations

import functools
import itertools
import re
import unicodedata
from collections.abc import Callable, Collection, Sequence
from copy import deepcopy
from dataclasses import dataclass

import lxml.html
from lxml import etree

WIDTH = 72
_INDENT = "    "
_HR = "-" * WIDTH
_SPACE = " \t\n\r"  # a form feed is not: pandoc keeps it (refused)
_SPACES = re.compile(f"([{_SPACE}]+)")  # a run of them, kept by split
_UNDERLINE = "text-decoration: underline"
_BLOCKS = {"p", "ul", "ol", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "hr", "div", "figure"}
_INLINE = {"strong": "**", "b": "**", "em": "*", "i": "*"}
_STARS = re.compile(r"\*+")
#: ASCII characters written as they are; the others below are escaped, the rest refused.
_PLAIN = set("!\"$%&'()+,-./:;=?@^{|}~") | set(" ")
_PLAIN_CLASS = "A-Za-z0-9" + re.escape("".join(sorted(_PLAIN)))  # a regex class's contents
_ESCAPE = {"*": "\\*", "_": "\\_", "[": "\\[", "]": "\\]", "`": "\\`", "<": "&lt;", ">": "&gt;"}
#: Words pandoc never lets start a line (they would read as a list item): it keeps the space.
_GLUED = {"-", "+", "1.", "1)"}
_URL = re.compile(r"[A-Za-z0-9\-._~:/?#@!$&'*+,;=%]+")
#: What pandoc writes as it is in a link's URL: printable ASCII but for a space and the ten it
#: percent-encodes (``"<>[]^`{|}``), and letters, digits, punctuation and symbols past ASCII
#: (no Unicode space, mark or format character; none two columns wide).
_LINK_URL = re.compile(r"[!#-;=?-Z\\_a-z~\x80-\U0010ffff]+")
#: A roman numeral as pandoc's list marker parser reads one (each part greedy, in this order).
_UPPER_ROMAN = "M*(?:CM)?D?(?:CD)?C*(?:XC)?L?(?:XL)?X*(?:IX)?V?(?:IV)?I*"
_ROMAN = rf"(?=[ivxlcdmIVXLCDM])(?:{_UPPER_ROMAN}|{_UPPER_ROMAN.lower()})"
_MARK = rf"(?:\d+|\\#|[a-zA-Z]|{_ROMAN})"
#: What a block must not start with (pandoc escapes it there): markup, or a list marker word.
_MARKUP_START = re.compile(r"[-+=#>|~:*]")
_MARKER_LIKE = re.compile(r"\(?\w+[.)]")
_MARKER_NBSP = re.compile(r"(?:\d{1,9}[.)]|[a-zA-Z][.)]|\([a-zA-Z0-9]{1,9}\))\xa0")
_LOWER_ROMAN = _UPPER_ROMAN.lower()
_A_ROMAN = re.compile(rf"(?=[ivxlcdm]){_LOWER_ROMAN}|(?=[IVXLCDM]){_UPPER_ROMAN}")
_ROMAN_DIGITS = {"I": 1, "V": 5, "X": 10, "L": 50, "C": 100, "D": 500, "M": 1000}
#: A marker word: ``N.``, ``N)`` or ``(N)``.
_MARKER_WORD = re.compile(r"\((?P<paren>\w+)\)|(?P<word>\w+)(?P<delim>[.)])")
_PLAIN_WORD = re.compile(r"[A-Za-z]+|[0-9]+")
#: In a list item pandoc does not break before any ordered list marker either.
_LIST_GLUED = re.compile(rf"{_MARK}[.)]|\({_MARK}\)|[-+]")
_NEAR_GLUED = re.compile(rf"(?:{_MARK}[.)]|\({_MARK}\)|[-+])[*\[]")
#: What every match of _NEAR_GLUED holds: a marker's end (``.``, ``)``, ``-``, ``+``) then * or [.
_NEAR_PAIRS = tuple(a + b for a in ".)-+" for b in "*[")
_NEAR_GLUED_LINE = re.compile(f"^(?:{_NEAR_GLUED.pattern})", re.M)  # one at a line's start


class Refused(Exception):
    """The body holds something this writer does not reproduce exactly."""


#: Blocks pandoc reads as one block of their own wherever they stand (inline content or loose
#: text would join their neighbours): one the writer refuses at a body's top level may be a hole.
_HEADINGS = {"h1", "h2", "h3", "h4", "h5", "h6"}
_HOLES = {"p", *_HEADINGS, "blockquote", "figure", "table", "ul", "ol", "dl", "pre", "hr", "div"}
#: Elements pandoc reads with the rest of the document (see :func:`_read_whole`).
_WHOLE = {"main", "base", "html", "head", "body", "title", "meta"}
#: pandoc writes a comment between a list and a list of its kind or a code block. The lists this
#: writer writes, and what may put a list or code at a hole's edge (a list libxml2 leaves in a
#: table, a caption, a heading or a ``<dl>`` comes out of it in pandoc's reading).
_LISTS = ("ul", "ol")
_LISTY = {*_LISTS, "dl", "pre", "li", "dt", "dd", "menu", "dir", "listing", "xmp", "plaintext"}
#: A hole's place among the written blocks (no written block is a NUL: it is refused).
_HOLE = "\x00"


@dataclass(frozen=True)
class Partial:
    """A body written but for some top-level blocks: ``blocks`` has a place for each of ``holes``
    (elements of a copy of the page's tree), to be written by pandoc, each alone."""

    blocks: tuple[str, ...]
    holes: tuple[etree._Element, ...]

    @property
    def join(self) -> Callable[[Sequence[str]], str]:
        """The body's Markdown given pandoc's output for each hole (see :func:`_join`): it holds
        the written blocks only, so that the holes' tree goes once their HTML is made."""
        return functools.partial(_join, self.blocks)


def _join(blocks: tuple[str, ...], written: Sequence[str]) -> str:
    """The blocks joined by a blank line as pandoc joins them, each hole's place given its
    output, in order: an output's own first blank lines kept (a code block's), an empty one left
    out (as pandoc leaves out a block it writes as nothing)."""
    if len(written) != blocks.count(_HOLE):
        raise ValueError(f"{len(written)} outputs for {blocks.count(_HOLE)} holes")
    outputs = iter(written)
    filled = [next(outputs).rstrip("\n") if b == _HOLE else b for b in blocks]
    return _document([b for b in filled if b])


# A run of inline content: str words pieces, " " a breakable space, "\n" a hard break.
Piece = str


def to_markdown(html: str) -> str | None:
    """The body's Markdown as pandoc writes it, or None when not sure of every byte."""
    try:
        root = lxml.html.fragment_fromstring(html)
    except (etree.ParserError, ValueError):
        return None
    if root.tag != "div" or root.attrib:
        return None
    return _write(root)


def element_to_partial(
    element: etree._Element, *, skip: Collection[etree._Element] = (), strip: Sequence[str] = ()
) -> str | Partial | None:
    """What :func:`to_markdown` writes for the HTML the parser makes of a page's body element
    (crawler/parse.py: the elements in ``skip`` left out, the ``strip`` attributes taken off,
    ``data-*`` a prefix, the element renamed ``div``), read from the page's lxml tree itself: no
    HTML is made and parsed again. A copy is written on; the page's tree stays as it was.

    Or the body written but for the top-level blocks the writer refuses (:class:`Partial`):
    pandoc is to write those, each alone. None, for pandoc to write the whole body, where that is
    not sure (loose text, a refused element that is not a block of its own, a block pandoc could
    write otherwise alone than in the body), when every block is refused, or for an empty body.

    The HTML's tree and this copy are the same tree: both are libxml2's reading of the same
    markup, and the writer refuses every attribute whose value bs4 would rewrite (the
    multi-valued ones: ``class``, ``rel``...). Tested on every real body and on hostile and
    fuzzed pages (tests/test_pagecut.py)."""
    copy = _body_copy(element, skip, strip)
    return None if copy is None else _write_partly(copy)


def _body_copy(
    element: etree._Element, skip: Collection[etree._Element], strip: Sequence[str]
) -> etree._Element | None:
    """A copy of the body element as the parser makes its HTML (see :func:`element_to_partial`),
    or None: text lxml will not set again, or attributes left on the body."""
    copy = deepcopy(element)
    copy.tail = None
    if skip:
        nodes = list(copy.iter())
        try:
            for at in reversed(_outermost(element, skip)):
                _drop(nodes[at])
        except ValueError:  # text lxml read but will not set (a control character): refused
            return None
    exact = {a for a in strip if not a.endswith("*")}
    prefixes = tuple(a[:-1] for a in strip if a.endswith("*"))
    for node in copy.iter(tag=etree.Element):
        for name in [n for n in node.attrib if n in exact or n.startswith(prefixes)]:
            del node.attrib[name]
    copy.tag = "div"
    return None if copy.attrib else copy


def _outermost(element: etree._Element, skip: Collection[etree._Element]) -> list[int]:
    """The places (in document order below ``element``) of the elements in ``skip`` that no
    other element of ``skip`` holds: leaving those out leaves out the rest with them."""
    places = []
    for at, node in enumerate(element.iter()):
        if node in skip and not any(above in skip for above in node.iterancestors()):
            places.append(at)
    return places


def _drop(node: etree._Element) -> None:
    """``node`` out of its tree, the text after it kept where it was."""
    parent = node.getparent()
    if parent is None:
        return
    if node.tail:
        before = node.getprevious()
        if before is not None:
            before.tail = (before.tail or "") + node.tail
        else:
            parent.text = (parent.text or "") + node.tail
    parent.remove(node)


def _write(root: etree._Element) -> str | None:
    try:
        blocks = _blocks(root, WIDTH)
    except Refused:
        return None
    return _document(blocks) if blocks else None


def _document(blocks: Sequence[str]) -> str:
    """Blocks as pandoc writes a document of them: a blank line between, a newline at the end."""
    return "\n\n".join(blocks) + "\n"


def _write_partly(root: etree._Element) -> str | Partial | None:
    holes: list[etree._Element] = []
    try:
        blocks = _blocks(root, WIDTH, holes=holes)
    except Refused:
        return None
    if not holes:
        return _document(blocks) if blocks else None
    if all(b == _HOLE for b in blocks) or any(map(_read_whole, root.iter(tag=etree.Element))):
        return None  # pandoc's whole, in one document
    return Partial(tuple(blocks), tuple(holes))


def _read_whole(node: etree._Element) -> bool:
    """Whether pandoc reads this element with the rest of the document (pandoc 3.9's HTML reader
    and Markdown writer): a ``<main>`` (only its content is kept), notes (``role="doc-noteref"``,
    ``doc-endnotes``, an ``epub:`` attribute: found anywhere, numbered through the document), a
    title page (written as nothing), a heading in a table or a figure (written as HTML, with an
    id made unique in the document), head elements."""
    role = node.get("role") or ""
    return (
        node.tag in _WHOLE
        or role == "main"
        or role.startswith("doc-")
        or "titlepage" in (node.get("type") or "")
        or any(name.startswith("epub:") for name in node.attrib)
        or (
            node.tag in _HEADINGS
            and any(a.tag in ("table", "figure") for a in node.iterancestors())
        )
    )


# -- blocks ------------------------------------------------------------------------------------


def _blank(text: str | None) -> bool:
    return not text or not text.strip(_SPACE)


def _blocks(
    parent: etree._Element,
    width: int,
    in_list: bool = False,
    holes: list[etree._Element] | None = None,
) -> list[str]:
    """The block children of ``parent`` (no loose text) as rendered blocks. With ``holes`` (the
    body's top level), a block refused may be left to pandoc (:func:`_block_or_hole`)."""
    if not _blank(parent.text):
        raise Refused("text beside blocks")
    out: list[str] = []
    previous: etree._Element | None = None
    for child in parent:
        if not _blank(child.tail):
            raise Refused("text beside blocks")
        if child.tag is etree.Comment:
            continue  # pandoc's reader drops comments
        tags = {child.tag, "" if previous is None else previous.tag}
        if tags in ({"div", "ul"}, {"div", "ol"}):
            raise Refused("a list beside a div")
        if child.tag in _LISTS and previous is not None and previous.tag == child.tag:
            out.append("<!-- -->")  # pandoc keeps two lists of a kind apart so
        if holes is None:
            out.extend(_block(child, width, in_list))
        else:
            out.extend(_block_or_hole(child, holes))
            if previous is not None and (previous in holes or child in holes):
                _hole_apart(previous, child, holes)
        previous = child
    return out


def _block_or_hole(tag: etree._Element, holes: list[etree._Element]) -> list[str]:
    """A top-level block written, or left to pandoc: one of :data:`_HOLES` with words or an image
    (pandoc may write one without as nothing)."""
    found = len(holes)
    try:
        return _block(tag, WIDTH, False, holes)
    except Refused:
        if tag.tag not in _HOLES or (
            _blank("".join(tag.itertext())) and tag.find(".//img") is None
        ):
            raise
        del holes[found:]  # those found in it, a div, which is now a hole itself
        holes.append(tag)
        return [_HOLE]


def _hole_apart(before: etree._Element, after: etree._Element, holes: list[etree._Element]) -> None:
    """Refused unless pandoc writes two blocks, one or both holes, apart as in the body: with a
    comment between them if, and only if, written here. A hole's output may begin or end with a
    list or code (:data:`_LISTY`), or be empty and leave its neighbours side by side, so a hole
    stands beside no list written here, and beside another hole only if neither may."""
    for hole, other in ((before, after), (after, before)):
        if hole in holes and other not in holes and other.tag in _LISTS:
            raise Refused("a hole beside a list written here")
    if before in holes and after in holes and (_listy(before) or _listy(after)):
        raise Refused("a hole that may hold a list beside a hole")


def _listy(tag: etree._Element) -> bool:
    return any(node.tag in _LISTY for node in tag.iter())


def _block(
    tag: etree._Element, width: int, in_list: bool, holes: list[etree._Element] | None = None
) -> list[str]:
    name = tag.tag
    if name not in _BLOCKS:
        raise Refused(name)
    if tag.attrib:
        raise Refused("attributes")
    if name == "div":
        return _blocks(tag, width, in_list, holes)
    if name == "hr":
        if len(tag) or not _blank(tag.text):
            raise Refused("hr content")
        return [_HR]
    if name == "p":
        return ["\n".join(_fill(_inline_of(tag, in_list=in_list), width))]
    if name[0] == "h":
        if tag.find(".//br") is not None:
            raise Refused("break in heading")
        words = _inline_of(tag, in_list=in_list, heading=True)
        return ["#" * int(name[1]) + " " + "".join(words)]
    if name == "figure":
        if in_list or width != WIDTH:
            raise Refused("a figure in a list or a quote")
        return [_figure(tag, width)]
    if name == "blockquote":
        inner = "\n\n".join(_blocks(tag, width - 2, in_list))
        return ["\n".join("> " + line if line else ">" for line in inner.split("\n"))]
    return [_list(tag, width)]


def _list(tag: etree._Element, width: int) -> str:
    items = list(tag)
    if not items or (tag.tag == "ol" and len(items) > 99) or not _blank(tag.text):
        raise Refused("list shape")
    rendered = [_item(li, width - 4) for li in items]
    loose = {r[1] for r in rendered}
    if len(loose) != 1:
        raise Refused("loose and tight items")
    out = []
    for number, (lines, _) in enumerate(rendered, 1):
        marker = "-   " if tag.tag == "ul" else f"{number}.".ljust(4)
        out.append(
            "\n".join(
                (marker if i == 0 else _INDENT) + line if line else line
                for i, line in enumerate(lines)
            )
        )
    return ("\n\n" if loose.pop() else "\n").join(out)


def _item(li: etree._Element, width: int) -> tuple[list[str], bool]:
    """An item's lines, and whether it is a loose one (its blocks are paragraphs)."""
    if not isinstance(li.tag, str) or li.tag != "li" or li.attrib or not _blank(li.tail):
        raise Refused("list item")
    nodes = list(li)
    if nodes and nodes[0].tag == "p" and all(c.tag in ("p", "ul", "ol") for c in nodes):
        return "\n\n".join(_blocks(li, width, True)).split("\n"), True
    cut = len(nodes)  # the nested lists (and comments between them) that end the item
    while cut and (nodes[cut - 1].tag in ("ul", "ol") or nodes[cut - 1].tag is etree.Comment):
        cut -= 1
        if not _blank(nodes[cut].tail):
            raise Refused("text after a nested list")
    if any(c.tag in _BLOCKS or c.tag == "li" for c in nodes[:cut]):
        raise Refused("blocks in an item")
    lines = _fill(_inline_of(li, stop=cut, in_list=True), width)
    previous = None
    for sub in (n for n in nodes[cut:] if n.tag in ("ul", "ol")):
        if previous is not None:  # lists apart, as in _blocks; pandoc's reader drops comments
            lines.extend(["", "<!-- -->", ""] if sub.tag == previous else [""])
        lines.extend(_list(sub, width).split("\n"))
        previous = sub.tag
    return lines, False


# -- figures: images pandoc keeps as raw HTML ---------------------------------------------------

#: The image attributes written after ``src`` and ``style``, in the page's order (the others
#: pandoc moves: width and height after them, alt last; title, classes and the rest refused).
_IMAGE_KEYS = {"decoding", "fetchpriority", "loading", "sizes", "srcset"}
_ATTRIBUTE_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;"})


def _figure(tag: etree._Element, width: int) -> str:
    """A ``<figure>`` of images (each maybe in a link): pandoc writes it as raw HTML, its
    attributes in its own order, the tags filled into lines like words (a value never broken)."""
    children = list(tag)
    if tag.attrib or not _blank(tag.text) or not children:
        raise Refused("figure")
    pieces: list[Piece] = []
    for i, child in enumerate(children):
        if i and children[i - 1].tail:
            pieces.append(" ")
        if not _blank(child.tail):
            raise Refused("text in a figure")
        words = _linked_image(child) if child.tag == "a" else _image(child)
        if pieces and pieces[-1] != " ":
            pieces[-1] += words.pop(0)  # no space between them: glued
        pieces.extend(words)
    return "<figure>\n" + "\n".join(_fill(pieces, width)) + "\n</figure>"


def _linked_image(link: etree._Element) -> list[Piece]:
    children = list(link)
    if list(link.attrib) != ["href"] or not _blank(link.text) or len(children) != 1:
        raise Refused("a link in a figure")
    if not _URL.fullmatch(link.get("href") or ""):
        raise Refused("a link URL pandoc would percent-encode")
    if children[0].tail:
        raise Refused("a link in a figure")
    words = _image(children[0])
    words[-1] += "</a>"
    return ["<a", " ", f'href="{_attribute(link.get("href"))}">' + words[0], *words[1:]]


def _image(image: etree._Element) -> list[Piece]:
    """An ``<img>``'s words: ``<img``, then each attribute, the last one with `` />``."""
    attributes = dict(image.attrib)
    if image.tag != "img" or len(image) or image.text or "src" not in attributes:
        raise Refused("figure content")
    if set(attributes) - _IMAGE_KEYS - {"src", "style", "width", "height", "alt"}:
        raise Refused("an image attribute")
    size = [attributes.get("width"), attributes.get("height")]
    if any(value is not None and not _a_plain_number(value) for value in size):
        raise Refused("an image size pandoc rewrites")
    if not _URL.fullmatch(attributes["src"]):
        raise Refused("an image URL pandoc would percent-encode")
    if re.search(r"\s\s|[\t\n\r\f]", attributes.get("alt", "")):
        raise Refused("spaces in an alt text pandoc would collapse")
    order = ["src", "style", *(k for k in attributes if k in _IMAGE_KEYS), "width", "height", "alt"]
    written = [
        f'{key}="{_attribute(attributes[key])}"'
        for key in order
        if key in attributes and (attributes[key] or key != "alt")
    ]
    if any(not attributes[key] for key in attributes if key != "alt"):
        raise Refused("an empty image attribute")
    words = ["<img"]
    for word in written:
        words.extend([" ", word])
    words[-1] += " />"
    return words


def _a_plain_number(value: str) -> bool:
    return value.isascii() and value.isdigit() and value == str(int(value))


def _attribute(value: str | None) -> str:
    if value is None or any(not (c.isascii() and c.isprintable()) and not _safe(c) for c in value):
        raise Refused("an attribute value")
    if "\xa0" in value:
        raise Refused("an attribute value")
    return value.translate(_ATTRIBUTE_ESCAPES)


# -- inlines -----------------------------------------------------------------------------------


def _inline_of(
    tag: etree._Element, stop: int | None = None, *, in_list: bool = False, heading: bool = False
) -> list[Piece]:
    """A block's inline content as pieces, trimmed, spaces collapsed, words merged."""
    pieces: list[Piece] = []
    _text(tag.text, pieces)
    for child in list(tag)[:stop]:
        _inline(child, pieces)
        _text(child.tail, pieces)
    words = _words(pieces, in_list)
    if not words or words[0] in (" ", "\n"):
        raise Refused("empty block")
    if heading and any(a == b == " " for a, b in itertools.pairwise(pieces)):
        raise Refused("spaces in a heading pandoc may keep")  # a heading is never wrapped
    if _MARKER_LIKE.fullmatch(words[0].removesuffix("  ")) and (
        len(words) == 1 or words[0].endswith("  ")
    ):
        raise Refused("a list marker alone on its line")
    return [_first(words[0], heading), *words[1:]]


def _first(word: str, heading: bool) -> str:
    """A block's first word, escaped where pandoc escapes it (a list marker of its own)."""
    head, space, rest = word.partition(" ")
    bare = head.lstrip("*")
    if bare.startswith("["):
        bare = bare[1:].lstrip("*")
    if _MARKUP_START.match(bare):
        raise Refused("block starts like markup")
    if not _MARKER_LIKE.fullmatch(bare) or (bare == head and _MARKER_NBSP.match(head)):
        return word  # "U.S.", "1.5", "(b)x"; a marker and an NBSP is not escaped either
    if bare != head or heading:
        return word  # no list item starts with emphasis or a link, nor in a heading
    return _escaped_marker(head) + space + rest


def _escaped_marker(head: str) -> str:
    """A block's first word like a list marker, escaped as pandoc escapes it: when its list
    marker parser reads it as an ordered list's number (pandoc's ``anyOrderedListMarker``) and
    one space may follow it (not an uppercase letter, nor an uppercase roman 1, 5, 10, ... 1000,
    before a period: a capital's initial needs two spaces to start a list)."""
    match = _MARKER_WORD.fullmatch(head)
    if match is None:
        raise Refused("a list marker not checked")
    number = match["paren"] or match["word"]
    delim = match["delim"] or "()"
    if not _a_number(number, delim):
        if _PLAIN_WORD.fullmatch(number):
            return head
        raise Refused("a list marker not checked")
    return f"\\({number}\\)" if delim == "()" else f"{number}\\{delim}"


def _a_number(text: str, delim: str) -> bool:
    if text.isascii() and text.isdigit():
        return len(text) <= 9
    if not (text.isascii() and text.isalpha()):
        return False
    if len(text) == 1:
        return not (text.isupper() and delim == ".")
    if not _A_ROMAN.fullmatch(text):
        return False
    return not (text.isupper() and delim == "." and _roman_value(text) in _ONE_SPACE_ROMAN)


_ONE_SPACE_ROMAN = {1, 5, 10, 50, 100, 500, 1000}


def _roman_value(numeral: str) -> int:
    """The value of a numeral :data:`_A_ROMAN` matches (a smaller digit before a larger one is
    subtracted from it: CM, CD, XC, XL, IX, IV)."""
    values = [_ROMAN_DIGITS[c] for c in numeral.upper()]
    return sum(-v if i + 1 < len(values) and v < values[i + 1] else v for i, v in enumerate(values))


def _text(text: str | None, pieces: list[Piece]) -> None:
    if not text:
        return
    if _QUICK_TEXT.fullmatch(text):  # most text: words written as they are, and spaces
        pieces.extend(" " if part[0] in _SPACE else part for part in _SPACES.split(text) if part)
        return
    for part in _SPACES.split(text):
        if not part:
            continue
        if part[0] in _SPACE:
            pieces.append(" ")
        else:
            pieces.append(_escape(part))


def _escape(word: str) -> str:
    if _QUICK.fullmatch(word):
        return word  # most words: letters, digits and punctuation written as they are
    out = []
    for i, char in enumerate(word):
        if (char.isascii() and char.isalnum()) or char in _PLAIN:
            out.append(char)
        elif char in _ESCAPE:
            out.append(_ESCAPE[char])
        elif char == "#":
            if i and word[i - 1].isalnum():
                out.append(char)
            elif i == 0:
                out.append("\\#")
            else:
                raise Refused("#")
        elif not char.isascii() and _safe(char):
            out.append(char)
        else:
            raise Refused(repr(char))
    return "".join(out)


#: Unicode spaces pandoc keeps as characters one column wide, never breaking a line at them:
#: the no-break space, U+2000 to U+200A (en quad to hair space), the narrow no-break space and
#: the medium mathematical space (checked one by one against pandoc; U+200B, zero columns wide,
#: and U+3000, two, are refused).
_KEPT_SPACES = frozenset("\u00a0" + "".join(map(chr, range(0x2000, 0x200B))) + "\u202f\u205f")


def _safe(char: str) -> bool:
    if char in _KEPT_SPACES:
        return True
    category = unicodedata.category(char)
    return category[0] in "LNPS" and category != "Co"


#: Characters :func:`_escape` writes as they are: ASCII letters, digits and plain punctuation,
#: and the typographic ones real statements use most (each checked by :func:`_safe` here).
_TYPOGRAPHIC = (
    "\u2019\u2018\u201c\u201d\u2014\u2013\u2026\u2022\u00b7"  # quotes, dashes, ellipsis, bullets
    "\u00b0\u00a7\u00b6\u20ac\u00a3\u00ab\u00bb\u00d7"  # degree, section, money, guillemets...
)
assert all(_safe(c) for c in _TYPOGRAPHIC)
_QUICK = re.compile(f"[{_PLAIN_CLASS}{_TYPOGRAPHIC}]*")
_QUICK_TEXT = re.compile(f"[{_PLAIN_CLASS}{_TYPOGRAPHIC}{re.escape(_SPACE)}]*")


def _inline(tag: etree._Element, pieces: list[Piece]) -> None:
    name = tag.tag
    if name is etree.Comment:
        return  # pandoc's reader drops comments
    if not isinstance(name, str):
        raise Refused("processing instruction")
    if name == "br":
        if tag.attrib or len(tag) or tag.text:
            raise Refused("br")
        pieces.append("\n")
        return
    if name == "span" and not tag.attrib:
        _children(tag, pieces)
        return
    if name == "span" and dict(tag.attrib) == {"style": _UNDERLINE}:
        _raw_around(tag, f'<span style="{_UNDERLINE}">', "</span>", pieces)
        return
    if name == "u" and not tag.attrib:
        _emphasis(tag, "<u>", pieces, "</u>")
        return
    if name == "sup" and not tag.attrib:
        _raw_around(tag, "<sup>", "</sup>", pieces, spaces=False)
        return
    if name == "a" and list(tag.attrib) == ["href", "id"]:
        _raw_link(tag, pieces)
        return
    if name in _INLINE and not tag.attrib:
        _emphasis(tag, _INLINE[name], pieces)
        return
    if name == "a" and list(tag.attrib) == ["href"]:
        _link(tag, pieces)
        return
    raise Refused(name)


def _raw_around(
    tag: etree._Element, opening: str, closing: str, pieces: list[Piece], *, spaces: bool = True
) -> None:
    """Inline markup pandoc keeps as raw HTML around the content (an underline, ``<u>``,
    ``<sup>``): its opening tag unbroken, the spaces inside it where they are (none allowed in a
    ``<sup>``: pandoc writes them escaped)."""
    inner: list[Piece] = []
    _children(tag, inner)
    if "\n" in inner or all(p == " " for p in inner) or (not spaces and " " in inner):
        raise Refused("empty raw markup, a break or a space in it")
    if pieces and pieces[-1].endswith(closing):
        raise Refused("adjacent raw markup")  # pandoc joins two of a kind into one
    pieces.extend([opening, *inner, closing])


def _raw_link(tag: etree._Element, pieces: list[Piece]) -> None:
    """A link with an id (WordPress's file block): pandoc writes it as HTML, laid out on its own;
    one that fits a line is then a word that never breaks."""
    url, ident = tag.get("href") or "", tag.get("id") or ""
    if len(tag) or not _URL.fullmatch(url) or "://" not in url:
        raise Refused("a link with an id: markup in it, or a URL pandoc would percent-encode")
    inner: list[Piece] = []
    _children(tag, inner)
    if not ident or not inner or " " in (inner[0], inner[-1]):
        raise Refused("a link with an id")
    if any(p == "\n" or any(c in p for c in "*[<`\\") for p in inner):
        raise Refused("markup in a link with an id")
    if any("&" in p for p in inner):
        raise Refused("an entity in a link with an id")
    link = f'<a href="{_attribute(url)}" id="{_attribute(ident)}">' + "".join(inner) + "</a>"
    if _columns(link) > WIDTH:
        raise Refused("a link with an id longer than a line")  # pandoc breaks it on its own
    pieces.append(link)


def _children(tag: etree._Element, pieces: list[Piece]) -> None:
    _text(tag.text, pieces)
    for child in tag:
        _inline(child, pieces)
        _text(child.tail, pieces)


def _emphasis(
    tag: etree._Element, mark: str, pieces: list[Piece], close: str | None = None
) -> None:
    """Emphasis (``mark`` around it), or an underline (``<u>`` and ``close``: pandoc writes it as
    raw HTML, but moves the spaces at its ends outside as it does for emphasis)."""
    inner: list[Piece] = []
    _children(tag, inner)
    if "\n" in inner:
        raise Refused("a break in emphasis")
    if close is not None and any("*" in p or "<" in p for p in inner):
        raise Refused("markup in an underline")
    marks = {len(run) for p in inner for run in _STARS.findall(p.replace("\\*", ""))}
    if close is None and marks - {3 - len(mark)}:
        raise Refused("emphasis in emphasis of its kind")  # only **a *b*** or *a **b***
    if not inner:
        if any(isinstance(child.tag, str) for child in tag):
            raise Refused("emphasis of an empty element")  # pandoc writes ****
        return
    close = mark if close is None else close
    start, end = 0, len(inner)
    while start < end and inner[start] == " ":
        start += 1
    while end > start and inner[end - 1] == " ":
        end -= 1
    lead, trail, core = start > 0, end < len(inner), inner[start:end]
    if not core:
        raise Refused("emphasis of spaces only")
    if lead:
        pieces.append(" ")
    if pieces and pieces[-1].endswith(("*", close)) and not pieces[-1].endswith("\\*"):
        raise Refused("adjacent emphasis")  # pandoc joins two of a kind into one
    pieces.extend([mark + core[0], *core[1:]] if len(core) > 1 else [mark + core[0] + close])
    if len(core) > 1:
        pieces[-1] += close
    if trail:
        pieces.append(" ")


def _link(tag: etree._Element, pieces: list[Piece]) -> None:
    url = tag.get("href") or ""
    if not _link_url(url) or "://" not in url:
        raise Refused("url")
    inner: list[Piece] = []
    _children(tag, inner)
    if inner and inner[0] == " ":
        pieces.append(" ")  # pandoc moves the space out, before the link
    while inner and inner[0] == " ":
        inner.pop(0)
    trail = bool(inner) and inner[-1] == " "
    while inner and inner[-1] == " ":
        inner.pop()
    if (
        not inner
        or "\n" in inner
        or "://" in "".join(inner)  # pandoc writes <url> when the text is the URL, unescaped
        or any("[" in p or "]" in p for p in inner)
    ):
        raise Refused("link text")
    inner[0] = "[" + inner[0]
    inner[-1] = inner[-1] + "](" + url + ")"
    pieces.extend(inner)
    if trail:
        pieces.append(" ")


def _link_url(url: str) -> bool:
    if _URL.fullmatch(url):
        return True
    return _LINK_URL.fullmatch(url) is not None and all(c.isascii() or _plain_char(c) for c in url)


def _plain_char(c: str) -> bool:
    return unicodedata.category(c)[0] in "LNPS" and unicodedata.east_asian_width(c) not in "WF"


def _words(pieces: list[Piece], in_list: bool) -> list[Piece]:
    """Pieces glued into words, spaces collapsed and trimmed; a hard break's two spaces end
    the word before it (they count in the line's width, as pandoc counts them)."""
    out: list[Piece] = []
    for piece in pieces:
        if piece == " ":
            if out and out[-1] not in (" ", "\n"):
                out.append(" ")
        elif piece == "\n":
            if not out or out[-1] in (" ", "\n"):
                raise Refused("a break after a space, a break or nothing")
            out[-1] += "  "
            out.append("\n")
        elif out and out[-1] not in (" ", "\n"):
            if out[-1].endswith("!") and piece[:1] in "[<":
                raise Refused("! before a link or a tag")  # pandoc escapes it there
            out[-1] += piece
        else:
            out.append(piece)
    while out and out[-1] == " ":
        out.pop()
    if out and out[-1] == "\n":
        out.pop()
    joined = "\n".join(out)  # pieces hold no "![" across them: "\n" makes none
    if "![" in joined or "!\\[" in joined:
        raise Refused("! before [")  # pandoc escapes the ! there, as an image's start
    if not in_list and _GLUED.isdisjoint(out) and not _near_glued(joined):
        return out  # most paragraphs: no word to glue or refuse (each starts a line of joined)
    return _glue(out, in_list)


def _glue(words: list[Piece], in_list: bool) -> list[Piece]:
    """Spaces pandoc does not break at, before words that would start a list item."""
    out: list[Piece] = []
    for i, word in enumerate(words):
        if ("*" in word or "[" in word) and _NEAR_GLUED.match(word):  # cheap test first
            raise Refused("a word like a list marker")
        if in_list:
            glued = word[-1:] in ".)-+" and _LIST_GLUED.fullmatch(word) is not None
        else:
            glued = word in _GLUED
        if glued and i + 1 == len(words) and in_list:
            glued = False  # pandoc breaks before a list item's last word
        elif glued and (i + 1 == len(words) or words[i + 1] != " "):
            raise Refused("a word like a list marker ends a line")
        if glued and len(out) >= 2 and out[-1] == " " and out[-2] != "\n":
            out[-2:] = [out[-2] + " " + word]
        else:
            out.append(word)
    return out


def _near_glued(joined: str) -> bool:
    """Whether a line of ``joined`` starts with a word like a list marker then ``*`` or ``[``."""
    if not any(pair in joined for pair in _NEAR_PAIRS):
        return False  # the regex's cheap precondition: most paragraphs have none of these
    return _NEAR_GLUED_LINE.search(joined) is not None


def _fill(words: list[Piece], width: int) -> list[str]:
    """Words in lines of at most ``width`` columns where possible; hard breaks end a line."""
    lines: list[str] = []
    line, used = "", 0  # the line so far and its columns
    pending = False
    for word in words:
        if word == " ":
            pending = True
            continue
        if word == "\n":
            lines.append(line)
            line, used, pending = "", 0, False
            continue
        columns = len(word) if word.isascii() else _wide_columns(word)
        if pending and line and used + 1 + columns > width:
            lines.append(line)
            line, used = word, columns
        elif pending and line:
            line, used = f"{line} {word}", used + 1 + columns
        else:
            line, used = line + word, used + columns
        pending = False
    lines.append(line)
    return lines


def _columns(text: str) -> int:
    if text.isascii():
        return len(text)
    return _wide_columns(text)


@functools.lru_cache(maxsize=4096)
def _wide_columns(text: str) -> int:  # words past ASCII recur ("President\u2019s"): kept
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)
