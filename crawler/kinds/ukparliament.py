"""The ``ukparliament`` kind: written ministerial statements to the UK Parliament, a JSON API.

Ministers make written statements to the House of Commons (``HCWS…``) and the House of Lords
(``HLWS…``); the Written Statements API (``https://questions-statements-api.parliament.uk``)
lists and serves them:

- Discovery (:func:`statements_api`): ``/api/writtenstatements/statements`` by date range and
  house (``madeWhenFrom``, ``madeWhenTo``, ``house``, paged by ``skip``/``take``,
  ``expandMember=true``), one window of ``window_days`` days at a time, newest first, from today
  back (:func:`windows`). An incremental sync stops after the first window that lists statements
  and whose statements are all archived (a window with none, a recess, does not stop it);
  ``--full`` walks back to ``first_date``.
- Identity: the ``uin`` with the date it was made (``2021-02-01/HCWS751``: a uin is numbered
  again each session), the stable id. The statement URL is the statement's page,
  ``https://questions-statements.parliament.uk/written-statements/detail/<date>/<uin>``
  (:func:`statement_url`); the URL fetched is the API's,
  ``/api/writtenstatements/statements/<date>/<uin>?expandMember=true`` (:func:`api_url`).
- Times: ``dateMade`` is a date (its time is always 00:00, with no zone). The rule, as for the
  Federal Register: ``published_time`` is that date at 00:00 in Europe/London, so ``date`` is
  the day it was made; no ``modified_time``.
- ``tags``: the house, ``commons`` or ``lords``. The title is the statement's ``title``; the body
  its ``text`` (HTML) through the same converter as every source.
- For the index (:meth:`WrittenStatement.declared`): the uin, the house, the member (id, name,
  party), the member's role, the answering body (id, name), the notice number, the API's own id,
  and the statements it is linked to (``linkedStatements``, as the API gives them: the same
  statement made in the other House, a correction). Extra front-matter keys: ``uin``, ``house``,
  ``member``, ``member_role``, ``answering_body``.
- Corrections (:func:`corrections`): of ``linkedStatements`` (each ``linkedStatementId``, the
  other's API ``id``; ``linkType``; ``linkDate``: the shape of the API's OpenAPI description, as
  the list responses give them unexpanded), those of type ``CorrectedStatement`` are declared as
  ``corrections``; the kind says ``corrections=True``, so after each sync the engine links each
  correction to the statement it corrects in the index (:func:`storage.links.link_corrections`).
"""

from __future__ import annotations

import datetime as dt
import re
import zoneinfo
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode, urlsplit

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
from crawler.parse import one_line
from crawler.source import Source
from crawler.tomlconfig import Context
from crawler.walk import Discovered
from storage.declared import Declared

ORIGIN = "https://questions-statements.parliament.uk"
API = "https://questions-statements-api.parliament.uk"
LIST_PATH = "/api/writtenstatements/statements"
PAGE_PATH = "/written-statements/detail"
TIMEZONE = "Europe/London"
HOUSES: tuple[str, ...] = ("Commons", "Lords")
PAGE_SIZE = 100
WINDOW_DAYS = 7
#: The first day a full walk reads.
FIRST_DATE = "2014-01-01"
EXTRA_KEYS: Mapping[str, str] = {
    "uin": "the statement's number in its House's session, e.g. 'HCWS751'",
    "house": "the House it was made to: 'Commons' or 'Lords'",
    "member": "the minister who made it, as the API names them",
    "member_role": "the minister's role, e.g. 'Minister for Investment'",
    "answering_body": "the department it was made for, e.g. 'Home Office'",
}
#: The ``linkType`` of a correction (the API's others: ``CorrectedAnswer``, ``JointStatement``).
CORRECTED = "CorrectedStatement"
_UIN = re.compile(r"[A-Z]{2,6}\d+")


def day_start(day: dt.date, tz: dt.tzinfo) -> dt.datetime:
    """The rule for a date-only time: 00:00 of that day in the source's time zone."""
    return dt.datetime(day.year, day.month, day.day, tzinfo=tz)


def statement_url(day: dt.date, uin: str, origin: str = ORIGIN) -> str:
    return f"{origin}{PAGE_PATH}/{day.isoformat()}/{uin}"


def identity(url: str) -> tuple[dt.date, str] | None:
    """The date and uin of a statement URL (or of an API URL of one)."""
    parts = urlsplit(url).path.rstrip("/").split("/")
    if len(parts) < 2 or not _UIN.fullmatch(parts[-1]):
        return None
    try:
        return dt.date.fromisoformat(parts[-2]), parts[-1]
    except ValueError:
        return None


def api_url(url: str, api: str = API, path: str = LIST_PATH) -> str:
    """The API URL fetched for a statement URL."""
    found = identity(url)
    if found is None:
        return url  # not a statement URL of this kind: asked as it is, and refused
    day, uin = found
    return f"{api}{path}/{day.isoformat()}/{uin}?expandMember=true"


# -- discovery --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Window:
    first: dt.date
    last: dt.date


def windows(today: dt.date, first: dt.date, days: int = WINDOW_DAYS) -> Iterator[Window]:
    """Windows of ``days`` days, newest first, from ``today`` back to ``first``."""
    last = today
    while last >= first:
        start = max(first, last - dt.timedelta(days=days - 1))
        yield Window(start, last)
        last = start - dt.timedelta(days=1)


def list_url(
    window: Window,
    house: str,
    skip: int = 0,
    *,
    take: int = PAGE_SIZE,
    api: str = API,
    path: str = LIST_PATH,
) -> str:
    params = [
        ("madeWhenFrom", window.first.isoformat()),
        ("madeWhenTo", window.last.isoformat()),
        ("house", house),
        ("skip", str(skip)),
        ("take", str(take)),
        ("expandMember", "true"),
    ]
    return f"{api}{path}?{urlencode(params)}"


@dataclass(frozen=True)
class Listed:
    day: dt.date
    uin: str
    title: str


@dataclass(frozen=True)
class ListPage:
    items: tuple[Listed, ...]
    total: int
    skipped: tuple[str, ...] = field(default=())


def parse_list(data: bytes | str | Mapping[str, Any], where: str = LIST_PATH) -> ListPage:
    """A list response (``totalResults``, ``results`` of ``{value: {...}}``)."""
    body = json_object(data, where)
    results = body.get("results")
    if not isinstance(results, list):
        raise NotAStatement("a list response without results", url=where)
    items, skipped = [], []
    for result in results:
        value = result.get("value") if isinstance(result, Mapping) else None
        uin = value.get("uin") if isinstance(value, Mapping) else None
        day = _day(value.get("dateMade")) if isinstance(value, Mapping) else None
        if not isinstance(uin, str) or not _UIN.fullmatch(uin) or day is None:
            skipped.append(f"no uin and date in {str(result)[:80]}")
            continue
        assert isinstance(value, Mapping)
        items.append(Listed(day, uin, one_line(str(value.get("title") or ""))))
    total = body.get("totalResults")
    return ListPage(tuple(items), total if isinstance(total, int) else len(items), tuple(skipped))


# -- statements -------------------------------------------------------------------------------


@dataclass(frozen=True)
class WrittenStatement:
    uin: str
    day: dt.date
    url: str
    title: str
    house: str
    published: dt.datetime
    body_html: str
    values: Mapping[str, str]
    about: Mapping[str, Any]

    @property
    def stable_id(self) -> str:
        return f"{self.day.isoformat()}/{self.uin}"

    @property
    def tags(self) -> str:
        return self.house.lower() or "written_statement"

    def declared(self) -> Declared:
        return Declared(about=self.about)


def read_statement(
    data: bytes | str | Mapping[str, Any],
    *,
    origin: str = ORIGIN,
    tz: dt.tzinfo | None = None,
    url: str | None = None,
) -> WrittenStatement:
    """A statement as the API serves it (``{value: {...}}``, or the value alone)."""
    where = url or "a written statement"
    body = json_object(data, where)
    value = body.get("value", body)
    if not isinstance(value, Mapping):
        raise NotAStatement("no statement in the reply", url=where)
    uin, day = value.get("uin"), _day(value.get("dateMade"))
    if not isinstance(uin, str) or not _UIN.fullmatch(uin) or day is None:
        raise NotAStatement("no uin and dateMade", url=where, hint="not a written statement?")
    page = statement_url(day, uin, origin)
    title = one_line(_text(value, "title", url or page))
    text = value.get("text")
    if not isinstance(text, str):
        raise NotAStatement("no text", url=url or page)
    member = value.get("member") if isinstance(value.get("member"), Mapping) else {}
    assert isinstance(member, Mapping)
    house = str(value.get("house") or "")
    values = {
        "uin": uin,
        "house": house,
        "member": optional_text(member.get("name")),
        "member_role": optional_text(value.get("memberRole")),
        "answering_body": optional_text(value.get("answeringBodyName")),
    }
    about = {
        "id": value.get("id"),
        "uin": uin,
        "date_made": day.isoformat(),
        "house": house,
        "member": {k: member.get(k) for k in ("id", "name", "party") if member.get(k)},
        "member_role": values["member_role"],
        "answering_body": {
            "id": value.get("answeringBodyId"),
            "name": values["answering_body"],
        },
        "notice_number": value.get("noticeNumber"),
        "linked_statements": value.get("linkedStatements") or [],
        "corrections": corrections(value.get("linkedStatements")),
        "attachments": [
            a.get("title") for a in value.get("attachments") or [] if isinstance(a, Mapping)
        ],
    }
    return WrittenStatement(
        uin=uin,
        day=day,
        url=page,
        title=title,
        house=house,
        published=day_start(day, tz or zoneinfo.ZoneInfo(TIMEZONE)),
        body_html=f"<div>{text}</div>",
        values={k: v for k, v in values.items() if v},
        about={k: v for k, v in about.items() if v not in (None, [], {})},
    )


def corrections(linked: Any) -> list[dict[str, str]]:
    """The statements a statement is linked to as a correction (``linkType`` ``CorrectedStatement``
    in ``linkedStatements``), as ``storage.links`` reads them: the other's API ``id`` and the day
    of the link. Which of the two corrects the other is not said: the later made is the correction.
    """
    found = []
    for entry in linked if isinstance(linked, list) else []:
        if not isinstance(entry, Mapping) or entry.get("linkType") != CORRECTED:
            continue
        other = entry.get("linkedStatementId")
        if isinstance(other, int) and not isinstance(other, bool):
            found.append({"id": str(other), "linked": str(entry.get("linkDate") or "")[:10]})
    return found


def _text(item: Mapping[str, Any], key: str, where: str) -> str:
    return required_text(item, key, where, hint="not a written statement?")


def _day(value: Any) -> dt.date | None:
    if not isinstance(value, str):
        return None
    try:
        return dt.date.fromisoformat(value[:10])
    except ValueError:
        return None


# -- the kind -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class UkParliamentOptions:
    """The seed's ``[ukparliament]`` table."""

    api: str = API  # the API's origin (one of the seed's allowed hosts)
    list_path: str = LIST_PATH  # the statements list; a statement is "<list_path>/<date>/<uin>"
    houses: tuple[str, ...] = HOUSES  # "Commons", "Lords" (or "Bicameral")
    page_size: int = PAGE_SIZE  # take
    window_days: int = WINDOW_DAYS  # days a list query spans
    first_date: str = FIRST_DATE  # the oldest day a full walk reads


def _options(source: Source) -> UkParliamentOptions:
    options = source.kind_options
    return options if isinstance(options, UkParliamentOptions) else UkParliamentOptions()


def fetch_url(source: Source, url: str) -> str:
    options = _options(source)
    return api_url(url, options.api, options.list_path)


def extract(items: Sequence[Fetched], source: Source) -> list[Extracted]:
    """API replies as archive documents, bodies converted together, each with its date/uin."""
    return extract_records(items, source, _read)


def _read(item: Fetched, source: Source) -> WrittenStatement:
    content, url = item.response.content, item.response.url
    return read_statement(content, origin=source.origin, tz=source.tz, url=url)


def statements_api(fetcher: Fetcher, source: Source, result: Discovered, walk: Walk) -> None:
    """Walk the windows newest first, every house of each, every page; stop after the first
    window that lists statements all archived (unless ``walk.full``), or before one older than
    ``walk.since``. Where the walk stopped is kept as a listing's (``listings_read``)."""
    options = _options(source)
    first = dt.date.fromisoformat(options.first_date)
    since = walk.since.astimezone(source.tz).date() if walk.since else None
    listing = f"{options.api}{options.list_path}"
    reached: dt.datetime | None = None
    for window in windows(_today(source.tz), first, options.window_days):
        if since is not None and window.last < since:
            result.listings_read[listing] = reached
            return
        listed = [
            item for house in options.houses for item in _window(fetcher, options, window, house)
        ]
        for item in listed:
            url = statement_url(item.day, item.uin, source.origin)
            when = day_start(item.day, source.tz)
            result.add(Found(url, item.title or None, published=when, via="api"))
            result.listing_of.setdefault(url, listing)
        reached = day_start(window.first, source.tz)
        settled = all(walk.known(statement_url(i.day, i.uin, source.origin)) for i in listed)
        if listed and settled and not walk.full:
            result.listings_read[listing] = reached
            return
    result.listings_read[listing] = None


def _window(
    fetcher: Fetcher, options: UkParliamentOptions, window: Window, house: str
) -> list[Listed]:
    items: list[Listed] = []
    skip = 0
    while True:
        url = list_url(
            window, house, skip, take=options.page_size, api=options.api, path=options.list_path
        )
        response = fetcher.get(url)
        if response.status != 200:
            raise FetchError(
                f"the statements list answered HTTP {response.status}",
                url=url,
                status=response.status,
            )
        page = parse_list(response.content, url)
        items.extend(page.items)
        skip += options.page_size
        if not page.items or skip >= page.total:
            return items


def _today(tz: dt.tzinfo) -> dt.date:
    return dt.datetime.now(tz).date()


def refuse(response: Response) -> str | None:
    """A JSON reply is read; anything else (an HTML error page) is not."""
    kind = response.headers.get("content-type", "").split(";")[0].strip().lower()
    return None if kind == "application/json" else f"not JSON ({kind or 'no content type'})"


def check(source: Source, ctx: Context) -> None:
    options = _options(source)
    if not options.houses or set(options.houses) - {"Commons", "Lords", "Bicameral"}:
        raise ctx.fail("ukparliament.houses", '"Commons", "Lords" or "Bicameral"', options.houses)
    if options.page_size < 1 or options.page_size > 1000:
        raise ctx.fail("ukparliament.page_size", "a number from 1 to 1000", options.page_size)
    if options.window_days < 1:
        raise ctx.fail("ukparliament.window_days", "a number of days from 1", options.window_days)
    try:
        dt.date.fromisoformat(options.first_date)
    except ValueError:
        raise ctx.fail(
            "ukparliament.first_date", "a date, YYYY-MM-DD", options.first_date
        ) from None
    if urlsplit(options.api).hostname not in source.allowed_hosts:
        raise ctx.fail("ukparliament.api", "a URL on one of allowed_hosts", options.api)


UKPARLIAMENT = register(
    Kind(
        name="ukparliament",
        extract=extract,
        discovery=(Method("statements-api", statements_api, lambda source: True),),
        fetch_url=fetch_url,
        refuse=refuse,
        accept="application/json",
        check=check,
        rate=1.0,  # no documented limit: the crawler's conservative default
        extra_keys=EXTRA_KEYS,
        options=UkParliamentOptions,
        corrections=True,
        description="UK Parliament written statements from the Written Statements API",
    )
)
