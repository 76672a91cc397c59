"""Converters: the body HTML of a statement page to the archive's Markdown, by a named engine.

A :class:`Converter` converts one document or many (an engine may batch them; each output must
equal converting that document alone). Engines are registered by name with the dataclass of
their own options; a seed's ``[convert]`` names one (``converter = "pandoc"``, the default) and
may set its options in a table named after it (``[convert.pandoc]``). What the archive's
Markdown is, is each engine's business: no engine's format names or flags appear in the general
seed schema, and errors name the converter.

An engine may also write a body straight from the page's parsed tree (:class:`WritesElements`):
the pandoc engine's native writer does, so that most pages are never serialised to HTML at all.
It may also write all of a body but some parts (:class:`Partly`): those alone are serialised and
converted, with the other bodies' HTML, then joined into the body's Markdown.

pandoc (:mod:`crawler.pandoc`) is the one engine today. Its functions ``convert``,
``convert_many`` and ``MARKDOWN`` stay importable from here for existing callers.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from crawler.errors import ConvertError
from crawler.pandoc import MARKDOWN, Pandoc, PandocOptions, convert, convert_many

__all__ = [
    "CONVERTERS",
    "MARKDOWN",
    "Converter",
    "Engine",
    "Partly",
    "WritesElements",
    "convert",
    "convert_many",
    "converter",
    "register",
]


class Converter(Protocol):
    """HTML to the archive's Markdown."""

    @property
    def name(self) -> str: ...

    def convert(self, html: str) -> str:
        """One document. Raises :class:`~crawler.errors.ConvertError`."""
        ...

    def convert_many(self, htmls: Sequence[str], *, jobs: int = 2) -> list[str]:
        """Many documents, in order, each as :meth:`convert` gives it alone."""
        ...


class Partly(Protocol):
    """A body written but for some ``holes`` (elements of a copy of the page's tree, as the
    parser would give them: ``skip`` left out, ``strip`` taken off), each to be converted as a
    document of its own, from the HTML the parser makes of it."""

    @property
    def holes(self) -> Sequence[Any]: ...

    @property
    def join(self) -> Callable[[Sequence[str]], str]:
        """The body's Markdown, given the holes' (in order); it need not hold the holes."""
        ...


@runtime_checkable
class WritesElements(Protocol):
    """A converter that may write a body straight from the page's parsed tree (an lxml element),
    skipping the HTML the parser would make of it: what it writes must equal what it would write
    for that HTML. :class:`Partly` means "convert these parts, then join", None "give me the
    HTML" (:mod:`crawler.parse`)."""

    def write_element(
        self, element: Any, *, skip: Collection[Any], strip: Sequence[str]
    ) -> str | Partly | None: ...


@dataclass(frozen=True)
class Engine:
    """A converter by name: the dataclass of its seed options and how to make one from them."""

    name: str
    options: type[Any]  # a frozen dataclass with defaults; a seed's [convert.<name>]
    make: Callable[[Any], Converter]


CONVERTERS: dict[str, Engine] = {}


def register(engine: Engine) -> None:
    CONVERTERS[engine.name] = engine


def converter(name: str = "pandoc", options: Any = None) -> Converter:
    """The converter ``name`` with its options (the engine's defaults when None)."""
    engine = CONVERTERS.get(name)
    if engine is None:
        known = ", ".join(sorted(CONVERTERS))
        raise ConvertError(f"no converter named {name!r}", hint=f"one of: {known}")
    return engine.make(engine.options() if options is None else options)


register(Engine("pandoc", PandocOptions, lambda options: Pandoc(options)))
