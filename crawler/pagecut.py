"""A statement page read fast: lxml finds the parts, BeautifulSoup reads only those.

A BeautifulSoup tree of a whole ~130 KB page is a Python object per element and string: most of
the cost of extraction, for a page of which the archive keeps a title, a few attributes and one
body element. :class:`PageTree` parses the page with lxml (C) and finds the seed's CSS selectors
there (translated to XPath by ``cssselect``); :meth:`PageTree.soup` then gives the BeautifulSoup
tree of just one element, so the parsers keep bs4 as their HTML interface.

Same bytes as before, by construction:
- the page is decoded exactly as ``BeautifulSoup(html, "lxml")`` decodes it: bs4's own encoding
  detection runs (:class:`_Page` is a bs4 tree builder whose parser keeps the lxml tree instead
  of building bs4 objects), and lxml's HTML parser is the one bs4 drives, with its options;
- an element's bs4 tree is built by replaying the lxml subtree (start tag, text, comment, end
  tag, in document order) into bs4's own lxml tree builder, the calls the parser would have made,
  so strings are made, and white space collapsed, as in a tree of the whole page;
- elements to remove (``[selectors.article] remove``) are matched in the whole page, as before,
  and left out of the replay, the text around them kept as separate strings as after a
  ``decompose()``.

A selector ``cssselect`` cannot translate (a pseudo-class it lacks), or a page nesting as deep
as lxml's tree goes (:data:`TREE_DEPTH`: hostile markup) raises :class:`Unsupported`; the caller
then reads the page with a whole BeautifulSoup tree.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator
from functools import lru_cache
from typing import Any

import cssselect
from bs4 import BeautifulSoup, Tag
from bs4.builder._lxml import LXMLTreeBuilder
from cssselect import ExpressionError, HTMLTranslator, SelectorError
from lxml import etree

_TRANSLATOR = HTMLTranslator()
#: lxml's tree stops nesting at libxml2's depth limit (256) where bs4's parser events go on:
#: a page with an element this deep is read with a whole BeautifulSoup tree instead.
TREE_DEPTH = 250
_DEEP = etree.XPath("boolean(/" + "/".join(["*"] * TREE_DEPTH) + ")")


class Unsupported(Exception):
    """A selector that lxml cannot match as soupsieve would."""


#: What a selector may hold to be matched by lxml: types, classes, ids, attributes, descendant
#: and child combinators. Pseudo-classes (whose details may differ from soupsieve's) and sibling
#: combinators (which see the page differently once an earlier ``remove`` took elements out) are
#: left to soupsieve on a whole tree.
_NOT_PLAIN = (
    "Pseudo[",
    "Function[",
    "Negation[",
    "Relation[",
    "Matching[",
    "Specificity",
    " + ",
    " ~ ",
)


@lru_cache(maxsize=256)
def _xpath(selector: str) -> etree.XPath:
    try:
        parsed = cssselect.parse(selector)
        if any(
            p.pseudo_element or any(k in repr(p.parsed_tree) for k in _NOT_PLAIN) for p in parsed
        ):
            raise Unsupported(f"{selector!r}: not a plain selector")
        return etree.XPath(_TRANSLATOR.css_to_xpath(selector))
    except (SelectorError, ExpressionError, etree.XPathSyntaxError) as exc:
        raise Unsupported(f"{selector!r}: {exc}") from None


def supported(selector: str) -> bool:
    try:
        _xpath(selector)
    except Unsupported:
        return False
    return True


class _Page(LXMLTreeBuilder):
    """bs4's lxml builder, but its parser builds an lxml tree and nothing for bs4."""

    root: Any = None

    def feed(self, markup: Any) -> None:
        assert self.soup is not None
        encoding = self.soup.original_encoding  # as bs4's lxml builder makes its parser
        try:
            parser = etree.HTMLParser(recover=True, huge_tree=self.huge_tree, encoding=encoding)
            parser.feed(markup)
            self.root = parser.close()
        except etree.XMLSyntaxError:
            self.root = None  # nothing in it: an empty page
        except (UnicodeDecodeError, LookupError, etree.ParserError) as exc:
            from bs4.exceptions import ParserRejectedMarkup

            raise ParserRejectedMarkup(exc) from None


class _Replay(LXMLTreeBuilder):
    """bs4's lxml builder fed from an lxml subtree instead of a parser."""

    def __init__(self, element: Any, skip: Collection[Any]) -> None:
        super().__init__()
        self.element, self.skip = element, skip

    def prepare_markup(self, markup: Any, *args: Any, **kwargs: Any) -> Iterator[Any]:
        yield "", None, None, False  # nothing to decode: the lxml tree is read

    def feed(self, markup: Any) -> None:
        assert self.soup is not None
        stack: list[tuple[str, Any]] = [("open", self.element)]
        while stack:
            what, node = stack.pop()
            if what == "text":
                self.data(node)
            elif what == "close":
                self.end(node.tag)
            else:
                tail = node.tail if node is not self.element else None
                if tail:
                    stack.append(("text", tail))
                if node in self.skip:
                    self.soup.endData()  # the strings around it stay two, as after decompose()
                elif isinstance(node.tag, str):
                    self.start(node.tag, dict(node.attrib))
                    if node.text:
                        self.data(node.text)
                    stack.append(("close", node))
                    stack.extend(("open", child) for child in reversed(node))
                else:
                    self._other(node)

    def _other(self, node: Any) -> None:
        if isinstance(node, etree._Comment):
            self.comment(node.text or "")
        elif isinstance(node, etree._ProcessingInstruction):
            self.pi(node.target, node.text or "")
        elif isinstance(node, etree._Entity):
            self.data(node.text or "")


def element_depth(root: Any) -> int:
    """How deep elements nest below ``root`` (comments are not elements), without recursion."""
    deepest, stack = 0, [(root, 0)]
    while stack:
        element, depth = stack.pop()
        deepest = max(deepest, depth)
        stack.extend((child, depth + 1) for child in element if isinstance(child.tag, str))
    return deepest


class PageTree:
    """A page parsed by lxml, decoded as bs4 would decode it."""

    def __init__(self, html: str | bytes) -> None:
        builder = _Page()
        BeautifulSoup(html, builder=builder)
        self.root = builder.root
        if self.root is not None and _DEEP(self.root):
            raise Unsupported(f"elements nest {TREE_DEPTH} levels deep or more")

    def select(self, selector: str) -> list[Any]:
        """The elements ``selector`` matches, in document order."""
        if self.root is None:
            return []
        return list(_xpath(selector)(self.root))

    def select_one(self, selector: str) -> Any | None:
        found = self.select(selector)
        return found[0] if found else None

    def meta(self, name: str) -> str | None:
        """The first ``<meta property=name>``'s content, else ``<meta name=name>``'s."""
        if self.root is None:
            return None
        for attribute in ("property", "name"):
            for tag in self.root.iter("meta"):
                if tag.get(attribute) == name:
                    content: str | None = tag.get("content")
                    return content
        return None

    @staticmethod
    def soup(element: Any, *, remove: Collection[Any] = ()) -> Tag:
        """The BeautifulSoup tree of ``element``, less the elements in ``remove``."""
        soup = BeautifulSoup("", builder=_Replay(element, frozenset(remove)))
        tag = soup.find(True)
        assert isinstance(tag, Tag)
        return tag
