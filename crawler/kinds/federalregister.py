"""The ``federalregister`` kind: presidential documents of the Federal Register, a JSON API.

The Federal Register (Office of the Federal Register and GPO) publishes every presidential
document (executive orders, proclamations, memoranda, notices, determinations) as the official
text, and its API (``https://www.federalregister.gov/api/v1``) describes each one as JSON:

- Discovery (:func:`search_api`): ``/api/v1/documents.json`` with ``conditions[type][]=PRESDOCU``,
  newest first (``order=newest``), cursor paging (each page's ``next_page_url``). The API serves
  at most :data:`CAP` results of one query, so the walk is sliced by publication date: one slice
  per calendar year, newest first (the newest slice open-ended), and a slice whose ``count`` is
  over the cap is halved (:func:`year_slices`, :func:`halve`). An incremental sync stops at the
  first page whose documents are all archived as they were found (:func:`stop_paging`); ``--full``
  reads every slice to the first year.
- Identity: the document number (``2026-19417``), the stable id. The statement URL is the
  Federal Register's own short link for it, ``https://www.federalregister.gov/d/<number>``
  (:func:`statement_url`): a pure function of the id, so that a correction that names only the
  number finds its statement, and a retitled document keeps its URL.
- A statement is two resources: the document's JSON (``/api/v1/documents/<number>.json``, the URL
  fetched, :func:`document_url`) and its full-text HTML (``body_html_url``). The kind's ``fetch``
  (:func:`fetch`) asks for the JSON (not conditionally: its validators say nothing of the full
  text), then the full text and the JSON of each correction, through the same fetcher
  (robots.txt, rate limit, retries), and hands ``extract`` one reply: a :func:`bundle`.
- Times: the API gives dates only (``publication_date``, ``signing_date``). The rule
  (:func:`day_start`): ``published_time`` is the publication date at 00:00 in America/New_York
  (the Federal Register's day: the issue of that date), so ``date`` is the publication date;
  there is no ``modified_time`` (a published document is not edited: it is corrected by a
  document of its own). ``signing_date`` stays a date (the extra key ``signing_date``), no time
  is invented for it.
- ``tags``: the presidential document subtype as the API's ``presidential_document_type`` code
  (``Executive Order`` -> ``executive_order``, :func:`subtype_tag`).
- The body: the full-text HTML through the same converter as every source, made ready by
  :func:`prepare_body`: the printed-page markers (``unprinted-element``), the end matter (FR Doc
  number, filing time, billing code) and the ``<h1>`` repeating the title dropped, links made
  absolute, ``class``/``id``/``data-*``/``rel``/``target``/``style``/``loading`` dropped.
- Corrections: a correction is a document of its own (``C1-2026-19417``, ``correction_of`` the
  original); discovery turns it into a re-check of the original (found with the correction's
  publication time as ``lastmod``), whose ``corrections`` then lists it. Each correction is a
  change note declared with the original (:class:`~storage.declared.ChangeNote`: its
  publication time and a note naming it), and the extra key ``corrections`` lists their numbers
  in the file, so that a correction is a ``metadata`` change marked ``declared``.

Pure functions (reading, URLs, the stop rule, slices) in a thin I/O shell: :func:`fetch` and
:func:`search_api` do I/O, through the fetcher they are given.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import zoneinfo
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode, urljoin, urlsplit

from bs4 import BeautifulSoup

from crawler.discover import Found
from crawler.errors import FetchError, NotAStatement
from crawler.fetch import Fetcher, Response
from crawler.kinds.base import (
    Extracted,
    Fetched,
    Kind,
    Method,
    Walk,
    extract_records,
    json_object,
    optional_text,
    register,
    required_text,
)
from crawler.parse import MAX_DEPTH, nesting_depth, one_line
from crawler.source import Source
from crawler.tomlconfig import Context
from crawler.walk import Discovered
from storage.declared import ChangeNote, Declared

ORIGIN = "https://www.federalregister.gov"
TIMEZONE = "America/New_York"
SEARCH_PATH = "/api/v1/documents.json"
DOCUMENT_PATH = "/api/v1/documents"
#: Results per page (the API's ``per_page``).
PAGE_SIZE = 100
#: The most results the API serves of one query: slices keep each query under it.
CAP = 10_000
#: The first year the Federal Register's website holds.
FIRST_YEAR = 1994
#: The fields discovery asks for (``fields[]``, repeated).
SEARCH_FIELDS: tuple[str, ...] = (
    "document_number",
    "title",
    "publication_date",
    "subtype",
    "correction_of",
)
#: The extra front-matter keys the kind writes (when the seed asks and the document has them).
EXTRA_KEYS: Mapping[str, str] = {
    "document_number": "the Federal Register document number (the stable id)",
    "signing_date": "the date the President signed it, 'YYYY-MM-DD' (a date, no time)",
    "executive_order_number": "the executive order's number, for an executive order",
    "presidential_document_number": "the proclamation's, order's or determination's number",
    "citation": "where it is printed in the Federal Register, e.g. '91 FR 60293'",
    "corrections": "the document numbers of its corrections, comma-separated",
}
STRIP_ATTRIBUTES: tuple[str, ...] = (
    "class", "id", "data-*", "rel", "target", "style", "loading",
)  # fmt: skip
#: Elements of the full text that are not the document's words.
DROP = ".unprinted-element, .end-matter, svg"
_NUMBER = re.compile(r"[A-Za-z0-9][A-Za-z0-9-]*")
_CORRECTION = re.compile(r"C\d+-(.+)")


# -- times, tags, URLs ------------------------------------------------------------------------


def day_start(day: dt.date, tz: dt.tzinfo) -> dt.datetime:
    """The rule for a date-only time: 00:00 of that day in the source's time zone."""
    return dt.datetime(day.year, day.month, day.day, tzinfo=tz)


def subtype_tag(subtype: str | None) -> str:
    """The archive's ``tags`` of a subtype: the API's ``presidential_document_type`` code."""
    words = re.findall(r"[a-z0-9]+", (subtype or "").lower())
    return "_".join(words) or "presidential_document"


def statement_url(number: str, origin: str = ORIGIN) -> str:
    """The statement URL of a document number: the Federal Register's short link."""
    return f"{origin}/d/{number}"


_PAGE = re.compile(r"/documents/\d{4}/\d\d/\d\d/([A-Za-z0-9][A-Za-z0-9-]*)(?:/[^/]*)?")


def number_of(url: str) -> str | None:
    """The document number of a statement URL, of an API document URL (``.json`` or not), or
    of a document's page (``/documents/2026/09/22/2026-19417/<slug>``)."""
    path = urlsplit(url).path.rstrip("/")
    page = _PAGE.fullmatch(path)
    if page is not None:
        return page.group(1)
    head, _, last = path.rpartition("/")
    last = last.removesuffix(".json")
    if head.endswith(("/d", DOCUMENT_PATH)) and _NUMBER.fullmatch(last):
        return last
    return None


def document_url(url: str, origin: str = ORIGIN, path: str = DOCUMENT_PATH) -> str:
    """The API URL fetched for a statement URL: ``/api/v1/documents/<number>.json``."""
    number = number_of(url)
    if number is None:
        return url  # not a statement URL of this kind: asked as it is, and refused
    return f"{origin}{path}/{number}.json"


def search_url(
    piece: Slice,
    *,
    page_size: int = PAGE_SIZE,
    types: Sequence[str] = (),
    base: str = ORIGIN,
    path: str = SEARCH_PATH,
) -> str:
    """The first page of a slice: presidential documents published in it, newest first."""
    params: list[tuple[str, str | int]] = [("conditions[type][]", "PRESDOCU")]
    params += [("conditions[presidential_document_type][]", t) for t in types]
    params.append(("conditions[publication_date][gte]", piece.start.isoformat()))
    if piece.end is not None:
        params.append(("conditions[publication_date][lte]", piece.end.isoformat()))
    params += [("fields[]", f) for f in SEARCH_FIELDS]
    params += [("order", "newest"), ("per_page", page_size)]
    return base.rstrip("/") + path + "?" + urlencode(params)


# -- slices -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Slice:
    """Publication dates from ``start`` to ``end`` (both included; ``None``: no upper bound)."""

    start: dt.date
    end: dt.date | None = None


def year_slices(newest_year: int, first_year: int = FIRST_YEAR) -> Iterator[Slice]:
    """One slice per year, newest first; the newest has no upper bound (a clock's year may lag
    the publisher's)."""
    for year in range(newest_year, first_year - 1, -1):
        end = None if year == newest_year else dt.date(year, 12, 31)
        yield Slice(dt.date(year, 1, 1), end)


def halve(piece: Slice, newest: dt.date) -> tuple[Slice, ...]:
    """A slice over the cap in two, newer half first (``newest``: its newest publication date,
    the bound of an open slice); a single day cannot be split: ``()``."""
    end = piece.end or newest
    if end <= piece.start:
        return ()
    middle = piece.start + (end - piece.start) // 2
    return (Slice(middle + dt.timedelta(days=1), piece.end), Slice(piece.start, middle))


# -- discovery: result pages ------------------------------------------------------------------


@dataclass(frozen=True)
class Entry:
    """A document a results page lists."""

    number: str
    title: str
    published: dt.date | None
    subtype: str | None
    corrects: str | None = None  # the document number a correction corrects


@dataclass(frozen=True)
class ResultPage:
    entries: tuple[Entry, ...]
    count: int  # results of the whole query
    next_url: str | None
    skipped: tuple[str, ...] = field(default=())

    @property
    def newest(self) -> dt.date | None:
        dates = [e.published for e in self.entries if e.published is not None]
        return max(dates) if dates else None


def parse_page(data: bytes | str | Mapping[str, Any], where: str = SEARCH_PATH) -> ResultPage:
    """A documents search response (``count``, ``next_page_url``, ``results``)."""
    body = json_object(data, where)
    results = body.get("results", [])
    if not isinstance(results, list):
        raise NotAStatement("a search response whose results are not a list", url=where)
    entries, skipped = [], []
    for result in results:
        number = result.get("document_number") if isinstance(result, Mapping) else None
        if not isinstance(number, str) or not _NUMBER.fullmatch(number):
            skipped.append(f"no document number in {str(result)[:80]}")
            continue
        assert isinstance(result, Mapping)
        entries.append(
            Entry(
                number,
                one_line(str(result.get("title") or "")),
                _date(result.get("publication_date")),
                optional_text(result.get("subtype")),
                corrected(number, result.get("correction_of")),
            )
        )
    count = body.get("count")
    next_url = body.get("next_page_url")
    return ResultPage(
        tuple(entries),
        count if isinstance(count, int) else len(entries),
        next_url if isinstance(next_url, str) and next_url else None,
        tuple(skipped),
    )


def corrected(number: str, correction_of: Any) -> str | None:
    """The number of the document a correction corrects: from ``correction_of`` (a URL of it),
    else from a correction's own number (``C1-2026-19417`` corrects ``2026-19417``)."""
    if isinstance(correction_of, str) and correction_of:
        found = number_of(correction_of)
        if found is not None:
            return found
    match = _CORRECTION.fullmatch(number)
    return match.group(1) if match else None


def stop_paging(
    page: ResultPage,
    settled: Callable[[Entry], bool],
    *,
    full: bool = False,
    since: dt.date | None = None,
) -> bool:
    """Whether an incremental walk stops after this page: it lists documents, and every one is
    ``settled`` (archived as found now) or every one was published before ``since``. Newest
    first: a new document or a new correction comes before a settled page."""
    if full or not page.entries:
        return False
    if since is not None and all(e.published and e.published < since for e in page.entries):
        return True
    return all(settled(entry) for entry in page.entries)


# -- documents: extraction --------------------------------------------------------------------


@dataclass(frozen=True)
class Correction:
    """A correction of a document, as its own JSON says."""

    number: str
    published: dt.datetime  # its publication date under the date rule
    citation: str
    url: str  # its page

    def note(self) -> ChangeNote:
        where = f" ({self.citation})" if self.citation else ""
        text = f"Correction {self.number}{where}, published {self.published.date().isoformat()}"
        return ChangeNote(self.published, f"{text}: {self.url}" if self.url else text)


@dataclass(frozen=True)
class FrDocument:
    """A presidential document read from its JSON and full text, before the body is converted."""

    number: str
    url: str  # the statement URL
    title: str
    subtype: str
    published: dt.datetime  # publication_date at 00:00 in the source's time zone
    signing_date: dt.date | None
    body_html: str
    values: Mapping[str, str]  # the extra keys this document has values for
    about: Mapping[str, Any]  # for the index
    corrections: tuple[Correction, ...] = ()

    @property
    def stable_id(self) -> str:
        return self.number  # the document number: its identity

    @property
    def tags(self) -> str:
        return subtype_tag(self.subtype)

    def declared(self) -> Declared:
        notes = tuple(sorted((c.note() for c in self.corrections), key=lambda n: n.at))
        return Declared(notes=notes, about=self.about)


def bundle(document: Mapping[str, Any], full_text: str, corrections: Sequence[Any] = ()) -> bytes:
    """What :func:`fetch` hands the extractor: the document's JSON, its full text, and the JSON
    of each of its corrections."""
    data = {"document": document, "full_text": full_text, "corrections": list(corrections)}
    return json.dumps(data, ensure_ascii=False).encode("utf-8")


def read_bundle(
    data: bytes | str | Mapping[str, Any],
    *,
    origin: str = ORIGIN,
    tz: dt.tzinfo | None = None,
    url: str | None = None,
) -> FrDocument:
    """A :func:`bundle` read. Raises :class:`NotAStatement` for anything else."""
    where = url or "a Federal Register document"
    bundled = json_object(data, where)
    doc = bundled.get("document")
    if not isinstance(doc, Mapping):
        raise NotAStatement("no document in the reply", url=where)
    full_text = bundled.get("full_text")
    return read_document(
        doc,
        full_text if isinstance(full_text, str) else "",
        [c for c in bundled.get("corrections") or [] if isinstance(c, Mapping)],
        origin=origin,
        tz=tz or zoneinfo.ZoneInfo(TIMEZONE),
        url=url,
    )


def read_document(
    doc: Mapping[str, Any],
    full_text: str,
    corrections: Sequence[Mapping[str, Any]] = (),
    *,
    origin: str = ORIGIN,
    tz: dt.tzinfo,
    url: str | None = None,
) -> FrDocument:
    number = _text(doc, "document_number", url or "a Federal Register document")
    where = url or statement_url(number, origin)
    if not _NUMBER.fullmatch(number):
        raise NotAStatement(f"document number {number!r} is not one", url=where)
    kind = doc.get("type")
    if kind not in (None, "Presidential Document"):
        raise NotAStatement(f"a {kind}, not a presidential document", url=where)
    title = one_line(_text(doc, "title", where))
    publication = _date(doc.get("publication_date"))
    if publication is None:
        raise NotAStatement("no publication_date", url=where, hint="not a published document?")
    signing = _date(doc.get("signing_date"))
    listed = [c for c in (doc.get("corrections") or []) if isinstance(c, str)]
    numbers = [n for n in (number_of(c) for c in listed) if n]
    values = {
        "document_number": number,
        "signing_date": signing.isoformat() if signing else None,
        "executive_order_number": optional_text(doc.get("executive_order_number")),
        "presidential_document_number": optional_text(doc.get("presidential_document_number")),
        "citation": optional_text(doc.get("citation")),
        "corrections": ", ".join(numbers) or None,
    }
    about = {
        "document_number": number,
        "subtype": optional_text(doc.get("subtype")),
        "publication_date": publication.isoformat(),
        "signing_date": values["signing_date"],
        "executive_order_number": values["executive_order_number"],
        "presidential_document_number": values["presidential_document_number"],
        "citation": values["citation"],
        "html_url": optional_text(doc.get("html_url")),
        "pdf_url": optional_text(doc.get("pdf_url")),
        "corrections": numbers,
        "correction_of": corrected(number, doc.get("correction_of")),
    }
    return FrDocument(
        number=number,
        url=statement_url(number, origin),
        title=title,
        subtype=str(doc.get("subtype") or ""),
        published=day_start(publication, tz),
        signing_date=signing,
        body_html=prepare_body(full_text, title, origin, where),
        values={k: v for k, v in values.items() if v},
        about={k: v for k, v in about.items() if v not in (None, [])},
        corrections=tuple(_corrections(corrections, origin, tz)),
    )


def _corrections(
    docs: Sequence[Mapping[str, Any]], origin: str, tz: dt.tzinfo
) -> Iterator[Correction]:
    for doc in docs:
        number, day = doc.get("document_number"), _date(doc.get("publication_date"))
        if isinstance(number, str) and day is not None:
            page = optional_text(doc.get("html_url")) or statement_url(number, origin)
            yield Correction(
                number, day_start(day, tz), optional_text(doc.get("citation")) or "", page
            )


def prepare_body(html: str, title: str = "", origin: str = ORIGIN, where: str = "") -> str:
    """The full text made ready for the converter (see the module docstring)."""
    soup = BeautifulSoup(html, "lxml")
    root = soup.body
    if root is None:
        return "<div></div>"
    if nesting_depth(root) > MAX_DEPTH:
        raise NotAStatement(f"the body's markup nests deeper than {MAX_DEPTH} levels", url=where)
    for tag in root.select(DROP):
        tag.decompose()
    heading = root.find("h1")
    if heading is not None and heading.get_text().split() == title.split():
        heading.decompose()
    for link in root.select("a.document-graphic-link"):
        link.unwrap()  # a signature's image, linked to itself
    for link in root.find_all("a", href=True):
        link["href"] = urljoin(origin + "/", str(link["href"]))
    exact = {a for a in STRIP_ATTRIBUTES if not a.endswith("*")}
    prefixes = tuple(a[:-1] for a in STRIP_ATTRIBUTES if a.endswith("*"))
    for tag in root.find_all(True):
        for name in [n for n in tag.attrs if n in exact or n.startswith(prefixes)]:
            del tag[name]
    root.name = "div"
    return str(root)


# -- the parts ----------------------------------------------------------------------------------


def _text(item: Mapping[str, Any], key: str, where: str) -> str:
    return required_text(item, key, where, hint="not a Federal Register document?")


def _date(value: Any) -> dt.date | None:
    if not isinstance(value, str):
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        return None


# -- the kind -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class FederalRegisterOptions:
    """The seed's ``[federalregister]`` table."""

    search_url: str = SEARCH_PATH  # the documents search, on the source's origin
    document_api: str = DOCUMENT_PATH  # a document's JSON: this, "/<number>.json"
    page_size: int = PAGE_SIZE  # results per page (per_page)
    first_year: int = FIRST_YEAR  # the oldest slice a full walk reads
    presidential_document_types: tuple[str, ...] = ()  # none: every subtype


def _options(source: Source) -> FederalRegisterOptions:
    options = source.kind_options
    return options if isinstance(options, FederalRegisterOptions) else FederalRegisterOptions()


def fetch_url(source: Source, url: str) -> str:
    return document_url(url, source.origin, _options(source).document_api)


def fetch(
    fetcher: Fetcher,
    source: Source,
    url: str,
    *,
    etag: str | None = None,
    last_modified: str | None = None,
    page: str | None = None,
) -> Response:
    """The document's JSON (an error status is the reply), then its full text and its
    corrections' JSON: one reply, a :func:`bundle`. Not conditional: the JSON's validators say
    nothing of the full text (``etag`` and ``last_modified`` are not sent), so ``--full`` reads
    both again. A full text or correction that cannot be read fails the statement for this sync
    (:class:`FetchError`), never a removal: only the document's own 404/410 is."""
    reply = fetcher.get(url, page=page)
    if reply.status != 200 or refuse(reply) is not None:
        return reply
    try:
        doc = json.loads(reply.content)
    except (ValueError, UnicodeDecodeError):
        return reply  # the extractor says why
    if not isinstance(doc, dict):
        return reply
    body_url = doc.get("body_html_url")
    full_text = _follow(fetcher, body_url, "text/html").text if isinstance(body_url, str) else ""
    corrections = []
    for link in doc.get("corrections") or []:
        number = number_of(link) if isinstance(link, str) else None
        if number is not None:
            api = f"{source.origin}{_options(source).document_api}/{number}.json"
            corrections.append(_json_part(_follow(fetcher, api, "application/json")))
    return Response(
        reply.url, 200, reply.headers, bundle(doc, full_text, corrections), reply.redirects
    )


def _json_part(response: Response) -> dict[str, Any]:
    """A part answered as JSON (a correction's record); anything else fails the statement for
    this sync (:class:`FetchError`), as a part that cannot be fetched does."""
    try:
        part = json.loads(response.content)
    except (ValueError, UnicodeDecodeError):
        part = None
    if not isinstance(part, dict):
        raise FetchError(
            "a part of the document is not a JSON object",
            url=response.url,
            hint="tried again by the next sync",
        )
    return part


def _follow(fetcher: Fetcher, url: str, accept: str) -> Response:
    response = fetcher.get(url, accept=accept)
    if response.status != 200:
        raise FetchError(
            f"a part of the document answered HTTP {response.status}",
            url=url,
            status=response.status,
            hint="tried again by the next sync",
        )
    return response


def extract(items: Sequence[Fetched], source: Source) -> list[Extracted]:
    """Bundles as archive documents, bodies converted together; each with its document number
    (the stable id) and what the Federal Register declares (its corrections, facts)."""
    return extract_records(items, source, _read)


def _read(item: Fetched, source: Source) -> FrDocument:
    content, url = item.response.content, item.response.url
    return read_bundle(content, origin=source.origin, tz=source.tz, url=url)


def search_api(fetcher: Fetcher, source: Source, result: Discovered, walk: Walk) -> None:
    """Walk the slices newest first, each page by its cursor (``next_page_url``); stop at the
    first page whose documents are all settled (or older than ``since``), unless
    ``walk.full``. A correction is found as its original, with its own publication time as
    ``lastmod``. Where the walk stopped is kept as a listing's (``listings_read``)."""
    options = _options(source)
    first = source.absolute(options.search_url)
    since = walk.since.astimezone(source.tz).date() if walk.since else None
    pending = list(year_slices(_this_year(source.tz), options.first_year))
    oldest: dt.datetime | None = None
    while pending:
        piece = pending.pop(0)
        if since is not None and piece.end is not None and piece.end < since:
            break  # older slices hold nothing this sync takes
        url = search_url(
            piece,
            page_size=options.page_size,
            types=options.presidential_document_types,
            base=source.origin,
            path=options.search_url,
        )
        page = parse_page(_get(fetcher, url), url)
        if page.count > CAP and page.newest is not None and halve(piece, page.newest):
            pending[:0] = halve(piece, page.newest)
            continue
        if page.count > CAP:
            result.warn(f"{source.name}: {page.count} documents on {piece.start}: over the cap")
        for _ in range(CAP // max(1, options.page_size) + 2):
            oldest = _take(source, result, walk, page, first, oldest)
            if stop_paging(page, lambda e: _settled(source, walk, e), full=walk.full, since=since):
                result.listings_read[first] = oldest
                return
            if page.next_url is None:
                break
            page = parse_page(_get(fetcher, page.next_url), page.next_url)
    result.listings_read[first] = oldest if pending else None


def _this_year(tz: dt.tzinfo) -> int:
    return dt.datetime.now(tz).year


def _get(fetcher: Fetcher, url: str) -> bytes:
    response = fetcher.get(url)
    if response.status != 200:
        raise FetchError(
            f"the documents search answered HTTP {response.status}", url=url, status=response.status
        )
    return response.content


def _found(source: Source, walk: Walk, entry: Entry) -> Found | None:
    """What discovery says of an entry: its statement (a correction's: the original's), with
    the time it changed last, never earlier than what the index holds."""
    if entry.published is None:
        return None
    when = day_start(entry.published, source.tz)
    stored = _stored(walk, statement_url(entry.corrects or entry.number, source.origin))
    lastmod = max(when, stored) if stored else when
    if entry.corrects is not None:
        return Found(statement_url(entry.corrects, source.origin), lastmod=lastmod, via="api")
    url = statement_url(entry.number, source.origin)
    return Found(url, entry.title or None, published=when, lastmod=lastmod, via="api")


def _take(
    source: Source,
    result: Discovered,
    walk: Walk,
    page: ResultPage,
    first: str,
    oldest: dt.datetime | None,
) -> dt.datetime | None:
    """Add a page's documents; the oldest publication time reached so far."""
    result.rejected.extend(page.skipped)
    for entry in page.entries:
        found = _found(source, walk, entry)
        if found is None:
            result.rejected.append(f"{entry.number}: no publication_date")
            continue
        before = result.found.get(found.url)
        if before is None:
            result.add(found)
        else:
            result.found[found.url] = _keep(before, found)
        if entry.corrects is None:
            result.listing_of.setdefault(found.url, first)
        when = day_start(entry.published, source.tz) if entry.published else None
        oldest = when if oldest is None or (when and when < oldest) else oldest
    return oldest


def _keep(before: Found, now: Found) -> Found:
    """One document found twice (itself and its correction): its own title and publication
    time, the later ``lastmod``."""
    lastmod = max(t for t in (before.lastmod, now.lastmod) if t is not None)
    return Found(
        now.url,
        now.title or before.title,
        now.published or before.published,
        lastmod=lastmod,
        via="api",
    )


def _stored(walk: Walk, url: str) -> dt.datetime | None:
    text = walk.lastmod(url)
    try:
        return dt.datetime.fromisoformat(text) if text else None
    except ValueError:
        return None


def _settled(source: Source, walk: Walk, entry: Entry) -> bool:
    """Archived, and fetched since this entry last changed it."""
    if entry.published is None:
        return False
    stored = _stored(walk, statement_url(entry.corrects or entry.number, source.origin))
    return stored is not None and stored >= day_start(entry.published, source.tz)


def refuse(response: Response) -> str | None:
    """A JSON reply is read; anything else (an HTML error page) is not."""
    kind = response.headers.get("content-type", "").split(";")[0].strip().lower()
    return None if kind == "application/json" else f"not JSON ({kind or 'no content type'})"


def check(source: Source, ctx: Context) -> None:
    options = _options(source)
    if options.page_size < 1 or options.page_size > 1000:
        raise ctx.fail(
            "federalregister.page_size", "a number of results from 1 to 1000", options.page_size
        )
    if not FIRST_YEAR <= options.first_year <= 9999:
        raise ctx.fail(
            "federalregister.first_year", f"a year from {FIRST_YEAR}", options.first_year
        )


FEDERALREGISTER = register(
    Kind(
        name="federalregister",
        extract=extract,
        discovery=(Method("documents-api", search_api, lambda source: True),),
        fetch_url=fetch_url,
        fetch=fetch,
        refuse=refuse,
        accept="application/json",
        check=check,
        rate=1.0,  # the API documents no numeric limit: the crawler's conservative default
        extra_keys=EXTRA_KEYS,
        options=FederalRegisterOptions,
        description="the Federal Register: presidential documents from its documents API",
    )
)
