"""The ``govuk`` kind: GOV.UK, the UK government's publishing platform, a JSON API source.

GOV.UK publishes every page as JSON too. Statements are found with the Search API
(``/api/search.json``, filtered by document type, newest first, paged) and read from the Content
API (``/api/content<base_path>``), whose item carries what the archive needs and what GOV.UK
declares about its edits:

- :func:`read_item` reads a Content API item (or the same item in the Publishing API's message
  shape, links expanded) into a :class:`GovukItem`: title, statement URL (``www.gov.uk`` plus
  ``base_path``), document type (the archive's ``tags``), ``first_published_at`` and
  ``public_updated_at`` in Europe/London, the body HTML (``details.body``) made ready for the
  converter, and for the index the ``content_id`` (the stable id), organisations, people, the
  ``change_history`` (time and note of each declared change) and the ``withdrawn_notice``.
  An item of a document type the source does not archive is refused (:class:`NotAStatement`).
- :func:`build_statement` makes the archive document once the body is Markdown (the same
  converter as every source, :mod:`crawler.convert`); :func:`parse_item` does both steps,
  :func:`parse_many` for many items with their bodies converted together.
- :func:`search_url`, :func:`parse_search` and :func:`stop_paging` are discovery: the URL
  of page N, the items and total of a response, and the incremental stop rule (which listed
  items are fetched is the engine's plan, as for every kind: new ones, and those whose
  ``public_timestamp``, their ``lastmod``, moved).
- :func:`content_url` maps a statement URL to the URL fetched (the Content API's).
- The kind (at the end): :func:`extract`, the extractor (a :class:`~crawler.kinds.Parsed` with
  the ``content_id`` as stable id and what GOV.UK declares, :meth:`GovukItem.declared`), and
  :func:`search_api`, the discovery method, the only part that does I/O (through the fetcher it
  is given). Its options are the seed's ``[govuk]`` table (:class:`GovukOptions`).

The front matter is the seed format's, nothing more: ``tags`` (the document type), ``date``,
``modified_time``, ``published_time``, ``source_url``, ``title``, alphabetical as the archive's
recent files. Organisations, people, the content id, the schema and locale go to the index
(:meth:`GovukItem.declared`), not the file. Times are cut to the second, as the archive writes
them. The body's markup is prepared as for whitehouse (``class``, ``data-*``, ``rel``, ``target``
dropped; ``id`` too, which only names anchors and contact blocks here) and ``<abbr>`` is
unwrapped to its text (its expansion is a tooltip; pandoc would keep the tag as raw HTML).
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

from bs4 import BeautifulSoup

from crawler.convert import Converter, converter
from crawler.discover import Found as Listed
from crawler.errors import ConvertError, FetchError, NotAStatement
from crawler.fetch import Fetcher, Response
from crawler.kinds.base import (
    Extracted,
    Fetched,
    Kind,
    Method,
    Parsed,
    Walk,
    json_object,
    optional_text,
    register,
    required_text,
    template_fetch_url,
)
from crawler.parse import (
    MAX_DEPTH,
    convert_read,
    converter_of,
    document,
    nesting_depth,
    one_line,
)
from crawler.source import Source
from crawler.tomlconfig import Context
from crawler.walk import Discovered
from storage.declared import ChangeNote, Declared, Withdrawal
from storage.document import KeyOrder, Statement

ORIGIN = "https://www.gov.uk"
TIMEZONE = "Europe/London"
#: The document types archived by default: speeches, oral and written statements to Parliament,
#: press releases, news stories and government responses.
DOCUMENT_TYPES: tuple[str, ...] = (
    "press_release",
    "news_story",
    "speech",
    "oral_statement",
    "written_statement",
    "government_response",
)
SEARCH_PATH = "/api/search.json"
CONTENT_PATH = "/api/content"
#: The Search API fields discovery asks for (``fields``, repeated).
SEARCH_FIELDS: tuple[str, ...] = (
    "link",
    "title",
    "public_timestamp",
    "content_id",
    "content_store_document_type",
)
#: Results per Search API page.
PAGE_SIZE = 100
#: Attributes dropped from the body's markup before conversion (see the module docstring).
STRIP_ATTRIBUTES: tuple[str, ...] = ("class", "data-*", "rel", "target", "id")
UNWRAP = ("abbr", "acronym")


@dataclass(frozen=True)
class Linked:
    """An organisation or a person an item links to."""

    content_id: str
    title: str
    base_path: str = ""

    def as_json(self) -> dict[str, str]:
        return {"content_id": self.content_id, "title": self.title, "base_path": self.base_path}


@dataclass(frozen=True)
class GovukItem:
    """A GOV.UK item read from the Content API, before its body is converted."""

    content_id: str
    base_path: str
    url: str  # the statement URL: www.gov.uk + base_path
    title: str
    document_type: str
    schema_name: str
    locale: str
    published: dt.datetime  # first_published_at, Europe/London
    modified: dt.datetime | None  # public_updated_at, Europe/London
    body_html: str
    organisations: tuple[Linked, ...] = ()
    people: tuple[Linked, ...] = ()
    change_history: tuple[ChangeNote, ...] = ()
    withdrawn: Withdrawal | None = None

    def declared(self) -> Declared:
        """What GOV.UK declares of this item, for the index (``storage.Archive.record``)."""
        about = {
            "content_id": self.content_id,
            "document_type": self.document_type,
            "schema_name": self.schema_name,
            "locale": self.locale,
            "organisations": [o.as_json() for o in self.organisations],
            "people": [p.as_json() for p in self.people],
        }
        return Declared(notes=self.change_history, withdrawn=self.withdrawn, about=about)


# -- items: extraction ----------------------------------------------------------------------


def read_item(
    data: bytes | str | Mapping[str, Any],
    *,
    document_types: Sequence[str] = DOCUMENT_TYPES,
    origin: str = ORIGIN,
    timezone: str = TIMEZONE,
    url: str | None = None,
) -> GovukItem:
    """A Content API item (or a Publishing API message). ``url``, the URL it was fetched from,
    only says where an error is. Raises :class:`NotAStatement`."""
    where = url or "a GOV.UK item"
    item = json_object(data, where)
    base_path = _text(item, "base_path", where)
    where = url or origin + base_path
    document_type = _text(item, "document_type", where)
    if document_type not in document_types:
        raise NotAStatement(
            f"document type {document_type!r} is not archived by this source",
            url=where,
            hint=f"archived types: {', '.join(document_types)}",
        )
    title = _text(item, "title", where)
    tz = zoneinfo.ZoneInfo(timezone)
    published = _time(item.get("first_published_at"), "first_published_at", where, tz)
    if published is None:
        raise NotAStatement("no first_published_at", url=where)
    details = item.get("details")
    details = details if isinstance(details, Mapping) else {}
    body = details.get("body", "")
    if not isinstance(body, str):
        raise NotAStatement("details.body is not HTML text", url=where)
    links = _links(item)
    return GovukItem(
        content_id=_text(item, "content_id", where),
        base_path=base_path,
        url=statement_url(base_path, origin),
        title=one_line(title),  # as whitehouse's titles
        document_type=document_type,
        schema_name=str(item.get("schema_name") or ""),
        locale=str(item.get("locale") or ""),
        published=published,
        modified=_time(item.get("public_updated_at"), "public_updated_at", where, tz),
        body_html=prepare_body(body, where),
        organisations=_linked(links.get("organisations")),
        people=_linked(links.get("people")),
        change_history=_notes(details.get("change_history"), where),
        withdrawn=_withdrawal(item.get("withdrawn_notice"), where),
    )


def build_statement(
    item: GovukItem, markdown: str, *, order: KeyOrder = "alphabetical"
) -> Statement:
    """The archive document of an item whose body was converted to ``markdown``."""
    return document(
        item.title,
        item.url,
        item.document_type,
        item.published,
        item.modified,
        markdown,
        order=order,
    )


def parse_item(
    data: bytes | str | Mapping[str, Any],
    *,
    document_types: Sequence[str] = DOCUMENT_TYPES,
    convert: Converter | None = None,
    order: KeyOrder = "alphabetical",
) -> tuple[Statement, GovukItem]:
    """An item as an archive document, with what was read from it (for the index)."""
    item = read_item(data, document_types=document_types)
    markdown = (convert or converter("pandoc")).convert(item.body_html)
    return build_statement(item, markdown, order=order), item


def parse_many(
    datas: Sequence[bytes | str | Mapping[str, Any]],
    *,
    document_types: Sequence[str] = DOCUMENT_TYPES,
    convert: Converter | None = None,
    order: KeyOrder = "alphabetical",
    jobs: int = 2,
    origin: str = ORIGIN,
    timezone: str = TIMEZONE,
    urls: Sequence[str | None] = (),
) -> list[tuple[Statement, GovukItem] | NotAStatement | ConvertError]:
    """Many items, their bodies converted together (as :func:`crawler.parse.parse_many`); a
    failure stays with its item. ``urls``: where each was fetched (said in errors)."""
    items: list[GovukItem | NotAStatement] = []
    where = [*urls, *[None] * (len(datas) - len(urls))]
    for data, url in zip(datas, where, strict=True):
        try:
            items.append(
                read_item(
                    data, document_types=document_types, origin=origin, timezone=timezone, url=url
                )
            )
        except NotAStatement as exc:
            items.append(exc)
    results: list[tuple[Statement, GovukItem] | NotAStatement | ConvertError] = []
    for done in convert_read(items, convert or converter("pandoc"), jobs=jobs):
        if isinstance(done, tuple):
            item, body = done
            results.append((build_statement(item, body, order=order), item))
        else:
            results.append(done)  # a refusal, or a body the converter failed on
    return results


def prepare_body(html: str, where: str = "") -> str:
    """``details.body`` made ready for the converter, as whitehouse's body is."""
    soup = BeautifulSoup(html, "lxml")
    root = soup.body
    if root is None:
        return "<div></div>"
    if nesting_depth(root) > MAX_DEPTH:
        raise NotAStatement(f"the body's markup nests deeper than {MAX_DEPTH} levels", url=where)
    for tag in root.find_all(UNWRAP):
        tag.unwrap()
    exact = {a for a in STRIP_ATTRIBUTES if not a.endswith("*")}
    prefixes = tuple(a[:-1] for a in STRIP_ATTRIBUTES if a.endswith("*"))
    for tag in root.find_all(True):
        for name in [n for n in tag.attrs if n in exact or n.startswith(prefixes)]:
            del tag[name]
    root.name = "div"
    return str(root)


# -- URLs -----------------------------------------------------------------------------------


def statement_url(base_path: str, origin: str = ORIGIN) -> str:
    """The page URL of a base path: what the archive records."""
    return origin + "/" + base_path.lstrip("/")


def content_url(url: str, api: str = ORIGIN + CONTENT_PATH) -> str:
    """The Content API URL fetched for a statement URL (``/x`` -> ``/api/content/x``)."""
    path = urlsplit(url).path or "/"
    return api.rstrip("/") + quote(path, safe="/-._~%")


def search_url(
    page: int,
    *,
    document_types: Sequence[str] = DOCUMENT_TYPES,
    count: int = PAGE_SIZE,
    base: str = ORIGIN,
    path: str = SEARCH_PATH,
) -> str:
    """The Search API URL of page ``page`` (0 is the newest): filtered by document type
    (``filter_content_store_document_type``, repeated), newest first, with the fields read."""
    if page < 0 or count < 1:
        raise ValueError(f"page {page} of {count}: page from 0, count from 1")
    params: list[tuple[str, str | int]] = [
        ("filter_content_store_document_type", t) for t in document_types
    ]
    params += [("order", "-public_timestamp")]
    params += [("fields", f) for f in SEARCH_FIELDS]
    params += [("start", page * count), ("count", count)]
    return base.rstrip("/") + path + "?" + urlencode(params)


# -- discovery: search responses ------------------------------------------------------------


@dataclass(frozen=True)
class Found:
    """An item the Search API lists."""

    url: str  # the statement URL
    title: str
    public_timestamp: dt.datetime | None
    content_id: str | None
    document_type: str | None


@dataclass(frozen=True)
class SearchPage:
    """One page of search results: its items (newest first), where it starts, the total."""

    items: tuple[Found, ...]
    start: int
    total: int
    skipped: tuple[str, ...] = field(default=())  # results without a usable link, said why

    @property
    def last(self) -> bool:
        """Whether no page follows this one."""
        return not self.items or self.start + len(self.items) >= self.total


def parse_search(data: bytes | str | Mapping[str, Any], *, origin: str = ORIGIN) -> SearchPage:
    """A Search API response. A result whose ``link`` is not a path on GOV.UK is skipped."""
    body = json_object(data, "a search response")
    results = body.get("results")
    if not isinstance(results, list):
        raise NotAStatement("a search response without results", url=origin + SEARCH_PATH)
    items, skipped = [], []
    for result in results:
        link = result.get("link") if isinstance(result, Mapping) else None
        if not isinstance(link, str) or not link.startswith("/") or link.startswith("//"):
            skipped.append(f"no GOV.UK path in {str(result)[:80]}")
            continue
        assert isinstance(result, Mapping)
        items.append(
            Found(
                url=statement_url(link, origin),
                title=str(result.get("title") or ""),
                public_timestamp=_stamp(result.get("public_timestamp")),
                content_id=optional_text(result.get("content_id")),
                document_type=optional_text(result.get("content_store_document_type")),
            )
        )
    total, start = body.get("total"), body.get("start")
    return SearchPage(
        tuple(items),
        start if isinstance(start, int) else 0,
        total if isinstance(total, int) else len(items),
        tuple(skipped),
    )


def stop_paging(
    page: SearchPage,
    settled: Callable[[Found], bool],
    *,
    full: bool = False,
    since: dt.datetime | None = None,
) -> bool:
    """Whether discovery stops after this page: it is the last one, or (unless ``full``) every
    item on it is ``settled`` (archived, its ``public_timestamp`` as at its last fetch) or every
    item is older than ``since``. Newest first: an item edited since moved up, so the pages
    after a settled one hold nothing new either."""
    if page.last:
        return True
    if full:
        return False
    if since is not None and all(_older(item, since) for item in page.items):
        return True
    return all(settled(item) for item in page.items)


def _older(item: Found, moment: dt.datetime) -> bool:
    return item.public_timestamp is not None and item.public_timestamp < moment


# -- the parts of an item -------------------------------------------------------------------


def _text(item: Mapping[str, Any], key: str, where: str) -> str:
    return required_text(item, key, where, hint="not a GOV.UK content item?")


def _stamp(value: Any) -> dt.datetime | None:
    if not isinstance(value, str):
        return None
    try:
        moment = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.utcoffset() is not None else moment.replace(tzinfo=dt.UTC)


def _time(value: Any, key: str, where: str, tz: zoneinfo.ZoneInfo) -> dt.datetime | None:
    if value is None:
        return None
    moment = _stamp(value)
    if moment is None:
        raise NotAStatement(f"{key} {value!r} is not a valid date and time", url=where)
    return moment.astimezone(tz).replace(microsecond=0)


def _links(item: Mapping[str, Any]) -> Mapping[str, Any]:
    """Expanded links: the Content API's ``links``, a message's ``expanded_links``."""
    for key in ("expanded_links", "links"):
        links = item.get(key)
        if isinstance(links, Mapping) and any(
            isinstance(v, list) and v and isinstance(v[0], Mapping) for v in links.values()
        ):
            return links
    return {}


def _linked(values: Any) -> tuple[Linked, ...]:
    if not isinstance(values, list):
        return ()
    found = []
    for value in values:
        if isinstance(value, Mapping) and isinstance(value.get("content_id"), str):
            title = value.get("title")
            path = value.get("base_path")
            found.append(
                Linked(
                    value["content_id"],
                    title if isinstance(title, str) else "",
                    path if isinstance(path, str) else "",
                )
            )
    return tuple(found)


def _notes(values: Any, where: str) -> tuple[ChangeNote, ...]:
    """``details.change_history``: the publisher's notes, oldest first."""
    if not isinstance(values, list):
        return ()
    notes = []
    for value in values:
        if not isinstance(value, Mapping):
            continue
        moment = _stamp(value.get("public_timestamp"))
        note = value.get("note")
        if moment is not None and isinstance(note, str):
            notes.append(ChangeNote(moment.astimezone(dt.UTC).replace(microsecond=0), note))
    return tuple(sorted(notes, key=lambda n: n.at))


def _withdrawal(value: Any, where: str) -> Withdrawal | None:
    if not isinstance(value, Mapping) or not value:
        return None
    explanation = value.get("explanation")
    text = _plain(explanation) if isinstance(explanation, str) else ""
    moment = _stamp(value.get("withdrawn_at"))
    at = None if moment is None else moment.astimezone(dt.UTC).replace(microsecond=0)
    if at is None and not text:
        return None
    return Withdrawal(at, text)


def _plain(html: str) -> str:
    """An explanation's HTML as one line of text."""
    return " ".join(BeautifulSoup(html, "lxml").get_text(" ").split())


# -- the kind ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class GovukOptions:
    """The seed's ``[govuk]`` table."""

    document_types: tuple[str, ...] = DOCUMENT_TYPES  # archived; the search filter
    search_url: str = SEARCH_PATH  # the Search API, on the source's origin
    page_size: int = PAGE_SIZE  # results per search page (count)
    content_api: str = CONTENT_PATH  # the Content API: a statement's path is appended


def _options(source: Source) -> GovukOptions:
    options = source.kind_options
    return options if isinstance(options, GovukOptions) else GovukOptions()


def extract(items: Sequence[Fetched], source: Source) -> list[Extracted]:
    """Content API replies as archive documents, bodies converted together; each with its
    ``content_id`` (the stable id) and what GOV.UK declares (change notes, withdrawal)."""
    results = parse_many(
        [i.response.content for i in items],
        document_types=_options(source).document_types,
        convert=converter_of(source),
        order="alphabetical" if source.archive.key_order == "alphabetical" else "reference",
        origin=source.origin,
        timezone=source.timezone,
        urls=[i.response.url for i in items],
    )
    return [
        Parsed(r[0], stable_id=r[1].content_id, declared=r[1].declared())
        if isinstance(r, tuple)
        else r
        for r in results
    ]


def fetch_url(source: Source, url: str) -> str:
    """The Content API URL of a statement URL (the seed's ``fetch_url`` template, if any)."""
    if source.fetch_url:
        return template_fetch_url(source, url)
    return content_url(url, source.absolute(_options(source).content_api))


def search_api(fetcher: Fetcher, source: Source, result: Discovered, walk: Walk) -> None:
    """Page the Search API newest first; stop at the first page whose items are all archived
    with the ``public_timestamp`` they had (or older than ``since``), unless ``walk.full``. Each
    item is found with its ``public_timestamp`` as ``lastmod``: the engine fetches again one
    whose timestamp moved. Where paging stopped is kept as a listing's (``listings_read``), so
    that an archived item no longer listed above that point is re-checked (404/410: removed)."""
    options = _options(source)
    first = source.absolute(options.search_url)
    oldest: dt.datetime | None = None
    for number in range(_MAX_PAGES):
        url = search_url(
            number,
            document_types=options.document_types,
            count=options.page_size,
            base=source.origin,
            path=options.search_url,
        )
        page = parse_search(_get(fetcher, url), origin=source.origin)
        result.rejected.extend(page.skipped)
        for item in page.items:
            _add(source, result, item, first)
            stamp = item.public_timestamp
            oldest = stamp if oldest is None or (stamp and stamp < oldest) else oldest
        if stop_paging(page, lambda i: _settled(walk, i), full=walk.full, since=walk.since):
            result.listings_read[first] = None if page.last else oldest
            return
    result.warn(f"{source.name}: the Search API listed more than {_MAX_PAGES} pages; stopped")
    result.listings_read[first] = oldest


_MAX_PAGES = 10_000


def _get(fetcher: Fetcher, url: str) -> bytes:
    response = fetcher.get(url)
    if response.status != 200:
        raise FetchError(
            f"the Search API answered HTTP {response.status}", url=url, status=response.status
        )
    return response.content


def _add(source: Source, result: Discovered, item: Found, first: str) -> None:
    if not source.statement_match(item.url):
        result.rejected.append(f"{item.url}: not a statement URL of the seed")
        return
    result.add(
        Listed(item.url, item.title or None, lastmod=item.public_timestamp, via="search-api")
    )
    result.listing_of.setdefault(item.url, first)


def _settled(walk: Walk, item: Found) -> bool:
    """Archived, and listed with the ``public_timestamp`` it had at its last fetch."""
    stamp = item.public_timestamp
    return stamp is not None and walk.lastmod(item.url) == stamp.isoformat()


def refuse(response: Response) -> str | None:
    """A JSON reply is read; anything else (an HTML error page) is not."""
    kind = response.headers.get("content-type", "").split(";")[0].strip().lower()
    return None if kind == "application/json" else f"not JSON ({kind or 'no content type'})"


def check(source: Source, ctx: Context) -> None:
    options = _options(source)
    if not options.document_types:
        raise ctx.fail("govuk.document_types", "at least one document type", [])
    if options.page_size < 1 or options.page_size > 1000:
        raise ctx.fail("govuk.page_size", "a number of results from 1 to 1000", options.page_size)


GOVUK = register(
    Kind(
        name="govuk",
        extract=extract,
        discovery=(Method("search-api", search_api, lambda source: True),),
        fetch_url=fetch_url,
        refuse=refuse,
        accept="application/json",
        check=check,
        rate=10.0,  # the Content API's documented limit: 10 requests per second per client
        options=GovukOptions,
        description="GOV.UK: the Search API to find statements, the Content API to read them",
    )
)
