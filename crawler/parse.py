"""Statement pages to archive documents: pure functions, driven by the source's selectors.

:func:`parse_statement` never fetches, sleeps or writes. It is two steps, so that many pages can
share converter runs (:func:`parse_many`): :func:`extract` reads the front-matter values and the
body HTML out of a page, :func:`build` makes the document once the body is Markdown.

A page is read with lxml, which finds the seed's selectors; BeautifulSoup gets only the elements
read (:mod:`crawler.pagecut`), with the same bytes as a BeautifulSoup tree of the whole page, which
is still what reads a page whose selectors lxml cannot match (:class:`_Whole`). The converter may
write a body from the page's tree (:class:`crawler.convert.WritesElements`), all of it or all
but some blocks: then only those get HTML, made by BeautifulSoup from their elements (the same
bytes as in the whole body's HTML), and are converted with the other pages' bodies (``_written``).

What makes a page a statement is its markup: a statement URL of the source, a title, a
publication time and a body element. Not the body's length: a statement published before its
words (it happens) is archived with an empty body, as the public archive wrote it, and its later
fill-in is an edit. Soft 404s and other pages lack the title or the time and are refused.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Protocol, TypeVar

from bs4 import BeautifulSoup, Tag

from crawler.convert import Converter, WritesElements, converter
from crawler.errors import ConvertError, NotAStatement, SourceError
from crawler.pagecut import PageTree, Unsupported, element_depth, supported
from crawler.source import ArticleSelectors, Selectors, Source
from storage.document import KeyOrder, Statement, new_statement

# Title text keeps NBSPs and double spaces; only a run of white space holding a newline (markup
# wrapped over lines) becomes one space.
_WRAP = re.compile(r"[ \t\r\f\n]*\n[ \t\r\f\n]*")
#: What HTML counts as white space (an NBSP is not: it is kept, as the archive keeps it).
ASCII_SPACE = " \t\r\n\f"
#: Real statement pages nest a few dozen levels; far deeper markup is hostile (and slow to convert).
MAX_DEPTH = 500


@dataclass(frozen=True)
class Pending:
    """A body the converter wrote but for some parts (:class:`crawler.convert.Partly`): their
    HTML, each to convert alone, and how to join their Markdown into the body's."""

    htmls: tuple[str, ...]
    join: Callable[[Sequence[str]], str]


class Body:
    """A page's body as the converter takes it: its HTML, made when first asked for, and its
    Markdown when the converter wrote it straight from the page's tree
    (:class:`crawler.convert.WritesElements`), or all of it but some parts (``pending``). Two
    bodies are equal when their HTML is. Until its HTML is made, a body holds its page's lxml
    tree: a sync keeps a few batches of them."""

    def __init__(
        self,
        html: str | Callable[[], str],
        markdown: str | None = None,
        pending: Pending | None = None,
    ) -> None:
        self._html, self.markdown, self.pending = html, markdown, pending

    @property
    def html(self) -> str:
        if callable(self._html):
            self._html = self._html()
        return self._html

    def settled(self) -> Body:
        """This body without its page's tree: its Markdown if written (or all but its pending
        parts), else its HTML, made now. (Such a body has no HTML when it has its Markdown or
        pending parts: the whole is to be converted no more.)"""
        if self.markdown is not None or self.pending is not None:
            return Body("", self.markdown, self.pending)
        return Body(self.html)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Body) and self.html == other.html

    def __hash__(self) -> int:
        return hash(self.html)

    def __repr__(self) -> str:
        written = "yes" if self.markdown is not None else "partly" if self.pending else "no"
        return f"Body(markdown={written})"


@dataclass(frozen=True)
class Extracted:
    """What a statement page says, before its body is converted."""

    url: str
    title: str
    tags: str
    published: dt.datetime
    modified: dt.datetime | None
    body: Body

    @property
    def body_html(self) -> str:
        return self.body.html


@dataclass(frozen=True)
class Page:
    """A fetched page to parse; ``published`` comes from a listing when it gave one."""

    html: str | bytes
    url: str
    published: dt.datetime | None = None


def extract(
    html: str | bytes, url: str, source: Source, *, published: dt.datetime | None = None
) -> Extracted:
    """Read a statement page. Raises :class:`NotAStatement` for anything else."""
    if not source.statement_match(url):
        raise NotAStatement("not a statement URL of this source", url=url)
    if source.selectors is None:
        raise SourceError("no [selectors.article] to read statement pages with", where=source.path)
    page: _Page
    try:
        page = _Cut(html) if _cuttable(source.selectors) else _Whole(html)
    except Unsupported:
        page = _Whole(html)
    selectors = source.selectors.article
    listing = source.selectors.listing
    if listing is not None and page.count(listing.item) > 1:
        raise NotAStatement("a listing page, not a statement", url=url)
    title = _title(page, selectors)
    if not title:
        raise NotAStatement("no title found", url=url, hint="a soft 404, or the markup changed?")
    when = published or _published(page, selectors, url)
    local = _localise(when, source)
    modified = _meta_time(page, selectors.modified_meta, url)
    if modified is not None:
        if source.convert.modified_time_offset == "published":
            modified = modified.astimezone(dt.timezone(local.utcoffset() or dt.timedelta()))
        else:
            modified = modified.astimezone(source.tz)
    return Extracted(
        url=source.canonical(url),
        title=title,
        tags=_tags(url, source),
        published=local,
        modified=modified,
        body=page.body(selectors, url, converter_of(source)),
    )


def build(extracted: Extracted, markdown: str, source: Source) -> Statement:
    """The archive document of a statement page."""
    order: KeyOrder = "alphabetical" if source.archive.key_order == "alphabetical" else "reference"
    return document(
        extracted.title,
        extracted.url,
        extracted.tags,
        extracted.published,
        extracted.modified,
        markdown,
        order=order,
    )


def document(
    title: str,
    url: str,
    tags: str,
    published: dt.datetime,
    modified: dt.datetime | None,
    markdown: str,
    *,
    order: KeyOrder,
) -> Statement:
    """The archive document of a statement, whatever its kind. A body with no text at all is
    written empty, as the public archive wrote a statement published before its words (the
    title and the time make it a statement)."""
    if not markdown.strip(ASCII_SPACE):
        markdown = ""
    return new_statement(
        title=title,
        source_url=url,
        tags=tags,
        published_time=published,
        modified_time=modified,
        body=markdown,
        order=order,
    )


def parse_statement(
    html: str | bytes, url: str, source: Source, *, published: dt.datetime | None = None
) -> Statement:
    """A statement page as an archive document."""
    extracted = extract(html, url, source, published=published)
    [markdown] = _written(converter_of(source), [extracted.body], jobs=1)
    if isinstance(markdown, ConvertError):
        raise markdown
    return build(extracted, markdown, source)


def parse_many(
    pages: Sequence[Page], source: Source, *, jobs: int = 2
) -> list[Statement | NotAStatement | ConvertError]:
    """Parse many pages, their bodies converted together; a failure stays with its page."""
    results: list[Statement | NotAStatement | ConvertError] = []
    extracted: list[tuple[int, Extracted]] = []
    for slot, page in enumerate(pages):
        try:
            item = extract(page.html, page.url, source, published=page.published)
        except NotAStatement as exc:
            results.append(exc)
            continue
        # The page's tree is let go at once: only its body's Markdown, or its HTML, is kept.
        extracted.append((slot, replace(item, body=item.body.settled())))
        results.append(NotAStatement("not parsed", url=page.url))  # replaced below
    bodies = _written(converter_of(source), [e.body for _, e in extracted], jobs)
    for (slot, item), body in zip(extracted, bodies, strict=True):
        if isinstance(body, ConvertError):
            results[slot] = ConvertError(body.message, where=item.url)
            continue
        try:
            results[slot] = build(item, body, source)
        except NotAStatement as exc:
            results[slot] = exc
    return results


def _written(engine: Converter, bodies: Sequence[Body], jobs: int) -> list[str | ConvertError]:
    """The bodies' Markdown: as written from the page's tree, or converted together (the whole
    body, or the parts the converter left pending, then joined)."""
    htmls: list[str] = []
    for body in bodies:
        if body.pending is not None:
            htmls.extend(body.pending.htmls)
        elif body.markdown is None:
            htmls.append(body.html)
    converted = iter(convert_bodies(engine, htmls, jobs=jobs))
    out: list[str | ConvertError] = []
    for body in bodies:
        if body.markdown is not None:
            out.append(body.markdown)
        elif body.pending is None:
            out.append(next(converted))
        else:
            parts = [next(converted) for _ in body.pending.htmls]
            texts = [p for p in parts if isinstance(p, str)]
            failed = [p for p in parts if isinstance(p, ConvertError)]
            out.append(failed[0] if failed else body.pending.join(texts))
    return out


def converter_of(source: Source) -> Converter:
    """The converter the source's seed names, with its options."""
    return converter(source.convert.converter, source.convert.options)


def convert_bodies(
    engine: Converter, htmls: Sequence[str], *, jobs: int = 2
) -> list[str | ConvertError]:
    """The bodies converted together; if the batch fails, each alone, so that a failure stays
    with its own body."""
    try:
        return list(engine.convert_many(htmls, jobs=jobs))
    except ConvertError:
        return [_convert_alone(engine, html) for html in htmls]


class _Readable(Protocol):
    @property
    def url(self) -> str: ...
    @property
    def body_html(self) -> str: ...


R = TypeVar("R", bound=_Readable)


def convert_read(
    entries: Sequence[R | NotAStatement], engine: Converter, *, jobs: int = 2
) -> list[tuple[R, str] | NotAStatement | ConvertError]:
    """Entries read from replies (a refusal among them stays as it is), each with its body
    converted, all in one batch; a body the converter fails on becomes its entry's error."""
    readable = [e for e in entries if not isinstance(e, NotAStatement)]
    bodies = iter(convert_bodies(engine, [e.body_html for e in readable], jobs=jobs))
    out: list[tuple[R, str] | NotAStatement | ConvertError] = []
    for entry in entries:
        if isinstance(entry, NotAStatement):
            out.append(entry)
            continue
        body = next(bodies)
        if isinstance(body, ConvertError):
            out.append(ConvertError(body.message, where=entry.url))
        else:
            out.append((entry, body))
    return out


def _convert_alone(engine: Converter, html: str) -> str | ConvertError:
    try:
        return engine.convert(html)
    except ConvertError as exc:
        return exc


# -- the parts of a page ----------------------------------------------------------------------


def one_line(text: str) -> str:
    """A title as the archive keeps it: each run of white space holding a newline (markup
    wrapped over lines) becomes one space; NBSPs and double spaces stay."""
    return _WRAP.sub(" ", text).strip(ASCII_SPACE)


def _text(tag: Tag) -> str:
    return one_line(tag.get_text())


def _meta(page: _Page, name: str) -> str | None:
    content = page.meta(name)
    if isinstance(content, str) and content.strip():
        return content.strip()
    return None


def _title(page: _Page, selectors: ArticleSelectors) -> str:
    tag = page.tag(selectors.title) if selectors.title else None
    if tag is not None and _text(tag):
        return _text(tag)
    title = _meta(page, selectors.title_meta) or ""
    for suffix in selectors.title_suffixes:
        title = title.removesuffix(suffix)
    return one_line(title)


def _parse_time(value: str, what: str, url: str) -> dt.datetime:
    try:
        return dt.datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        raise NotAStatement(f"{what} {value!r} is not a valid date and time", url=url) from None


def _published(page: _Page, selectors: ArticleSelectors, url: str) -> dt.datetime:
    value = page.attribute(selectors.published, "datetime") if selectors.published else None
    if isinstance(value, str) and value.strip():
        return _parse_time(value, "the publication time", url)
    meta = _meta_time(page, selectors.published_meta, url)
    if meta is None:
        raise NotAStatement("no publication time found", url=url, hint="the markup changed?")
    return meta


def _meta_time(page: _Page, name: str, url: str) -> dt.datetime | None:
    value = _meta(page, name) if name else None
    return None if value is None else _parse_time(value, name, url)


def _localise(moment: dt.datetime, source: Source) -> dt.datetime:
    """In the source's time zone; a time without an offset is taken to be local already."""
    if moment.utcoffset() is None:
        return moment.replace(tzinfo=source.tz)
    return moment.astimezone(source.tz)


def _tags(url: str, source: Source) -> str:
    match = source.statement_match(url)
    if match is not None and "tags" in match.re.groupindex and match.group("tags"):
        return match.group("tags")
    return "uncategorized"


def nesting_depth(root: Tag) -> int:
    """How deep elements nest below ``root``, without recursion."""
    deepest, stack = 0, [(root, 0)]
    while stack:
        tag, depth = stack.pop()
        deepest = max(deepest, depth)
        stack.extend((child, depth + 1) for child in tag.find_all(True, recursive=False))
    return deepest


def clean_body(body: Tag, remove: Sequence[str], strip_attributes: Sequence[str], url: str) -> str:
    """A body element made ready for the converter: ``remove`` (CSS selectors) dropped, the
    ``strip_attributes`` (``data-*``: a prefix) taken off every tag, renamed ``div``. Refused
    (:class:`NotAStatement`) when its markup nests deeper than :data:`MAX_DEPTH`."""
    if nesting_depth(body) > MAX_DEPTH:
        raise NotAStatement(f"the body's markup nests deeper than {MAX_DEPTH} levels", url=url)
    for selector in remove:
        for tag in body.select(selector):
            tag.decompose()
    return _stripped(body, strip_attributes)


def _stripped(body: Tag, strip_attributes: Sequence[str]) -> str:
    """The body as the converter gets it: attributes stripped, a ``<div>``."""
    exact = {a for a in strip_attributes if not a.endswith("*")}
    prefixes = tuple(a[:-1] for a in strip_attributes if a.endswith("*"))
    for tag in [body, *body.find_all(True)]:
        for name in [n for n in tag.attrs if n in exact or n.startswith(prefixes)]:
            del tag[name]
    body.name = "div"  # pandoc (the converter) keeps only the content of <main> when there is one
    return str(body)


# -- two ways to read a page: the parts cut out by lxml, or a whole BeautifulSoup tree ----------


class _Page(Protocol):
    def count(self, selector: str) -> int: ...
    def tag(self, selector: str) -> Tag | None: ...
    def attribute(self, selector: str, name: str) -> object: ...
    def meta(self, name: str) -> object: ...
    def body(self, selectors: ArticleSelectors, url: str, engine: Converter) -> Body: ...


def _cuttable(selectors: Selectors) -> bool:
    """Whether lxml can match every selector the page is read with (else a whole tree)."""
    article = selectors.article
    wanted = [article.title, article.published, article.body, *article.remove]
    if selectors.listing is not None:
        wanted.append(selectors.listing.item)
    return all(supported(s) for s in wanted if s)


class _Cut:
    """lxml finds the elements (:mod:`crawler.pagecut`); bs4 reads only those."""

    def __init__(self, html: str | bytes) -> None:
        self.tree = PageTree(html)

    def count(self, selector: str) -> int:
        return len(self.tree.select(selector))

    def tag(self, selector: str) -> Tag | None:
        element = self.tree.select_one(selector)
        return None if element is None else PageTree.soup(element)

    def attribute(self, selector: str, name: str) -> object:
        element = self.tree.select_one(selector)
        return None if element is None else element.get(name)

    def meta(self, name: str) -> object:
        return self.tree.meta(name)

    def body(self, selectors: ArticleSelectors, url: str, engine: Converter) -> Body:
        element = self.tree.select_one(selectors.body)
        if element is None:
            raise NotAStatement(f"no body ({selectors.body}) in the page", url=url)
        if element_depth(element) > MAX_DEPTH:
            raise NotAStatement(f"the body's markup nests deeper than {MAX_DEPTH} levels", url=url)
        remove = [
            found
            for selector in selectors.remove
            for found in self.tree.select(selector)
            if any(above == element for above in found.iterancestors())
        ]
        strip = selectors.strip_attributes
        written = None
        if isinstance(engine, WritesElements):
            written = engine.write_element(element, skip=remove, strip=strip)
        whole = functools.partial(_body_html, element, remove, strip)
        if written is None or isinstance(written, str):
            return Body(whole, written)
        # The parts' HTML as in the body's: their elements already lack ``remove`` and ``strip``.
        htmls = tuple(str(PageTree.soup(hole)) for hole in written.holes)
        return Body(whole, None, Pending(htmls, written.join))


def _body_html(element: object, remove: Sequence[object], strip: Sequence[str]) -> str:
    return _stripped(PageTree.soup(element, remove=remove), strip)


class _Whole:
    """A BeautifulSoup tree of the whole page (a selector lxml cannot match)."""

    def __init__(self, html: str | bytes) -> None:
        self.soup = BeautifulSoup(html, "lxml")

    def count(self, selector: str) -> int:
        return len(self.soup.select(selector))

    def tag(self, selector: str) -> Tag | None:
        return self.soup.select_one(selector)

    def attribute(self, selector: str, name: str) -> object:
        tag = self.soup.select_one(selector)
        return None if tag is None else tag.get(name)

    def meta(self, name: str) -> object:
        tag = self.soup.find("meta", attrs={"property": name}) or self.soup.find(
            "meta", attrs={"name": name}
        )
        return tag.get("content") if isinstance(tag, Tag) else None

    def body(self, selectors: ArticleSelectors, url: str, engine: Converter) -> Body:
        body = self.soup.select_one(selectors.body)
        if body is None:
            raise NotAStatement(f"no body ({selectors.body}) in the page", url=url)
        return Body(clean_body(body, selectors.remove, selectors.strip_attributes, url))
