"""Source kinds: what a source is (an HTML site, a JSON API...), as a registry of plug-ins by name.

A seed names its kind (``kind = "html"``, the default). A :class:`Kind` says everything the sync
engine must know of what such a source serves, so that neither discovery (:mod:`crawler.walk`),
nor the seed loader (:mod:`crawler.source`), nor the engine (:mod:`crawler.syncer`) branches on
the kind:

- ``extract``: fetched replies in, one :class:`Parsed` (a statement, and the stable id the
  source gives it, if any) or one refusal (:class:`~storage.errors.StatementSyncError`) per reply
  out, in order. It takes a batch so that a kind may convert many bodies in one converter run
  (the HTML kind does, through :func:`crawler.parse.parse_many`); :func:`one_by_one` makes a
  batch extractor of a function of one reply, and :func:`extract_records` one of a function
  reading a reply as a :class:`Record` (a JSON API's: the Federal Register, UK Parliament).
- ``discovery``: its discovery methods by name (:class:`Method`): the HTML kind's ``listing``,
  ``sitemap`` and ``feed``; a kind may add its own (a search API). A method may hand over
  statements whole (``Discovered.delivered``: a feed's items), which the engine records
  without fetching them (:mod:`crawler.syncer`). A method runs for a source
  when its seed configures it (:attr:`Method.configured`).
- ``fetch_url``: where a statement URL is fetched (a JSON API answers for a page at another URL:
  ``https://www.gov.uk/api/content/<path>`` for ``https://www.gov.uk/<path>``); by default the
  seed's ``fetch_url`` template, else the statement URL itself. Validators (ETag,
  Last-Modified) stay keyed by the statement URL; robots.txt, rate limits and retries apply to
  the URL fetched, as to every request (:class:`crawler.fetch.Fetcher`).
- ``fetch``: how the URL fetched is asked for (by default one GET through the fetcher). A
  kind whose statement lives in more than one resource (the Federal Register: the document's
  JSON, its full-text HTML) asks for the others here, through the same fetcher (robots, rate
  limit, retries), and returns one reply for ``extract``.
- ``refuse``: why a reply with status 200 is not something ``extract`` reads (an HTML kind
  refuses a PDF), else ``None``.
- ``accept``: the ``Accept`` header its requests send (none when empty); ``rate``: its default
  requests per second, which a seed's ``[politeness] rate`` overrides.
- ``check``: the seed's values this kind needs, checked at load (an HTML site needs
  ``[selectors.article]``); ``extra_keys``: the front-matter keys beyond the archive format's
  that it can write, each with what it holds (a seed picks some with ``[archive] extra_keys``);
  ``options``: the dataclass of its own seed options, the table named after the kind
  (``[govuk]``), built at load into ``Source.kind_options`` (a kind with options must not be
  named as a top-level seed key, such as ``feed``); ``keeps``: the archive format's keys it never
  gives (a feed has no ``modified_time``), kept from a statement's latest revision when a new one
  lacks them, so that an adopted file's value is not reported as removed; ``corrections``: its
  statements declare which of them correct which (``about.corrections``), linked in the index
  after each sync (:func:`storage.links.link_corrections`); ``same_hosts``: the hosts a source
  declares the same, each to the one it equals (a feed's origin host to its public archive's,
  ``archive_hosts``): a body link moved between them is no change.

A kind is one module that calls :func:`register` at import. The built-in kinds are the modules
of this package (``crawler/kinds/*.py`` but this one): adding one is adding its file, no list to
edit. They are imported the first time a kind is looked up (not at import of this module, which
the seed loader needs before they can be).
"""

from __future__ import annotations

import datetime as dt
import importlib
import json
import pkgutil
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import urlsplit

from crawler.errors import NotAStatement, SourceError
from storage.declared import Declared
from storage.document import KeyOrder, Statement, order_meta
from storage.errors import StatementSyncError

if TYPE_CHECKING:  # annotations only: these modules import the registry
    from crawler.fetch import Fetcher, Response
    from crawler.source import Source
    from crawler.tomlconfig import Context
    from crawler.walk import Discovered


def _builtin_modules() -> tuple[str, ...]:
    """The modules of this package but this one, by name: the kinds that ship with the crawler."""
    package = __name__.rpartition(".")[0]
    folder = Path(__file__).parent
    names = sorted(m.name for m in pkgutil.iter_modules([str(folder)]))
    return tuple(f"{package}.{n}" for n in names if n != "base" and not n.startswith("_"))


#: The modules of the kinds that ship with the crawler, imported on the first look-up.
BUILTIN: tuple[str, ...] = _builtin_modules()


@dataclass(frozen=True)
class Fetched:
    """A reply to extract a statement from: the statement URL asked for (``url``), the reply
    (``response.url`` is the URL that answered, after redirects) and what discovery said."""

    url: str
    response: Response
    published: dt.datetime | None = None  # from a listing, when it gave one


@dataclass(frozen=True)
class Parsed:
    """What an extractor made of a reply: the archive document, and the source's stable id for
    it (GOV.UK's ``content_id``, a WordPress post id), which the index keeps (not the file), and
    what the publisher declares of this version (:mod:`storage.declared`), if it does."""

    statement: Statement
    stable_id: str | None = None
    declared: Declared | None = None  # what the publisher declares: change notes, withdrawal


Extracted = Parsed | StatementSyncError
Extract = Callable[[Sequence[Fetched], "Source"], list[Extracted]]


@dataclass(frozen=True)
class Walk:
    """What every discovery method may use of the run: ``known(url)``, whether a statement is
    archived; ``seen``, child sitemap URL -> its ``lastmod`` at the last walk (empty on a full
    walk); ``full``; ``since``; ``lastmod(url)``, the ``lastmod`` an archived statement was
    found with when last fetched (an API's timestamp: a search API stops paging there)."""

    known: Callable[[str], bool] = lambda url: False
    lastmod: Callable[[str], str | None] = lambda url: None
    seen: Mapping[str, str] = field(default_factory=dict)
    full: bool = False
    since: dt.datetime | None = None


@dataclass(frozen=True)
class Method:
    """A discovery method: ``run`` adds what it finds to the result (raising
    :class:`~crawler.errors.FetchError` or :class:`~crawler.errors.DiscoveryError` when it
    fails); ``configured`` says whether a source's seed turns it on."""

    name: str
    run: Callable[[Fetcher, Source, Discovered, Walk], None]
    configured: Callable[[Source], bool]


def _no_check(source: Source, ctx: Context) -> None:
    return None


def _accept_all(response: Response) -> str | None:
    return None


def template_fetch_url(source: Source, url: str) -> str:
    """The seed's ``fetch_url`` template filled in (``{url}``, ``{path}`` with its leading
    slash, ``{query}`` with its ``?``), or the statement URL itself when the seed has none."""
    if not source.fetch_url:
        return url
    parts = urlsplit(url)
    query = f"?{parts.query}" if parts.query else ""
    return source.fetch_url.format(url=url, path=parts.path or "/", query=query)


def fetch_one(
    fetcher: Fetcher,
    source: Source,
    url: str,
    *,
    etag: str | None = None,
    last_modified: str | None = None,
    page: str | None = None,
) -> Response:
    """The default :attr:`Kind.fetch`: one (conditional) GET of the URL fetched."""
    return fetcher.get(url, etag=etag, last_modified=last_modified, page=page)


Fetch = Callable[..., "Response"]  # (fetcher, source, url, *, etag, last_modified, page)


@dataclass(frozen=True)
class Kind:
    """A kind of source (see the module docstring)."""

    name: str
    extract: Extract
    discovery: tuple[Method, ...] = ()
    fetch_url: Callable[[Source, str], str] = template_fetch_url
    fetch: Fetch = fetch_one
    refuse: Callable[[Response], str | None] = _accept_all
    accept: str = ""
    rate: float = 1.0
    check: Callable[[Source, Context], None] = _no_check
    extra_keys: Mapping[str, str] = field(default_factory=dict)
    options: type[Any] | None = None  # a frozen dataclass with defaults: the seed's [<name>]
    keeps: tuple[str, ...] = ()  # front-matter keys it never gives, kept from the last revision
    same_hosts: Callable[[Source], Mapping[str, str]] = lambda source: {}
    corrections: bool = False  # declares corrections: linked after each sync (storage.links)
    description: str = ""

    def methods(self, source: Source) -> tuple[Method, ...]:
        """The discovery methods the source's seed turns on, in the kind's order."""
        return tuple(m for m in self.discovery if m.configured(source))

    def method_names(self) -> tuple[str, ...]:
        return tuple(m.name for m in self.discovery)


_REGISTRY: dict[str, Kind] = {}
_loaded = False


def register(kind: Kind) -> Kind:
    """Add a kind (a later one of the same name replaces it: a test's own kinds)."""
    _REGISTRY[kind.name] = kind
    return kind


def unregister(name: str) -> None:
    """Drop a kind (tests that registered one of their own)."""
    _REGISTRY.pop(name, None)


def _load_builtin() -> None:
    global _loaded
    if not _loaded:
        _loaded = True
        for module in BUILTIN:
            importlib.import_module(module)


def kinds() -> dict[str, Kind]:
    """Every registered kind by name, the built-in ones first."""
    _load_builtin()
    return dict(_REGISTRY)


def kind_of(name_or_source: str | Source) -> Kind:
    """A kind by name, or a source's kind. An unknown name is a
    :class:`~crawler.errors.SourceError` naming the known ones."""
    name = name_or_source if isinstance(name_or_source, str) else name_or_source.kind
    known = kinds()
    if name not in known:
        raise SourceError(f"no source kind named {name!r}", hint=f"one of: {', '.join(known)}")
    return known[name]


def one_by_one(extract: Callable[[Fetched, Source], Parsed]) -> Extract:
    """A batch extractor from a function of one reply; a refusal it raises stays with its reply."""

    def many(items: Sequence[Fetched], source: Source) -> list[Extracted]:
        results: list[Extracted] = []
        for item in items:
            try:
                results.append(extract(item, source))
            except StatementSyncError as exc:
                results.append(exc)
        return results

    return many


def with_extra_keys(statement: Statement, values: Mapping[str, Any], source: Source) -> Statement:
    """The statement with the extra front-matter keys its seed asks for (``[archive]
    extra_keys``), in that order after the archive format's keys; keys the seed does not name,
    or a value the extractor did not give, are left out (the file stays the seed format)."""
    wanted = {key: values[key] for key in source.archive.extra_keys if key in values}
    if not wanted:
        return statement
    return Statement({**statement.meta, **wanted}, statement.body)


class Record(Protocol):
    """What a JSON API kind reads of one reply, before its body is converted (a Federal Register
    document, a UK Parliament written statement)."""

    @property
    def url(self) -> str: ...
    @property
    def title(self) -> str: ...
    @property
    def tags(self) -> str: ...
    @property
    def published(self) -> dt.datetime: ...
    @property
    def body_html(self) -> str: ...
    @property
    def values(self) -> Mapping[str, str]: ...  # its extra front-matter keys' values
    @property
    def stable_id(self) -> str: ...
    def declared(self) -> Declared | None: ...


def extract_records(
    items: Sequence[Fetched], source: Source, read: Callable[[Fetched, Source], Record]
) -> list[Extracted]:
    """Replies read as records (``read`` raises :class:`~crawler.errors.NotAStatement` for one it
    refuses), then as archive documents: their bodies converted in one batch, the extra keys
    the seed asks for added, each with its stable id and what its publisher declares. A
    refusal or a body the converter fails on stays with its reply, in order."""
    from crawler.parse import convert_read, converter_of, document  # it imports the seeds

    read_: list[Record | NotAStatement] = []
    for item in items:
        try:
            read_.append(read(item, source))
        except NotAStatement as exc:
            read_.append(exc)
    order: KeyOrder = "alphabetical" if source.archive.key_order == "alphabetical" else "reference"
    results: list[Extracted] = []
    for done in convert_read(read_, converter_of(source)):
        if not isinstance(done, tuple):
            results.append(done)  # a refusal, or a body the converter failed on
            continue
        entry, body = done
        statement = document(
            entry.title, entry.url, entry.tags, entry.published, None, body, order=order
        )
        statement = with_extra_keys(statement, entry.values, source)
        if order == "alphabetical":  # the extra keys sorted with the rest
            statement = Statement(order_meta(statement.meta, order), statement.body)
        results.append(Parsed(statement, stable_id=entry.stable_id, declared=entry.declared()))
    return results


# -- reading a JSON API's replies (the JSON API kinds) --------------------------------------


def json_object(data: bytes | str | Mapping[str, Any], where: str) -> Mapping[str, Any]:
    """A reply as a JSON object (one already read is taken as it is), else a refusal."""
    if isinstance(data, Mapping):
        return data
    try:
        loaded = json.loads(data)
    except (ValueError, UnicodeDecodeError) as exc:
        raise NotAStatement(f"not JSON: {exc}", url=where) from None
    if not isinstance(loaded, dict):
        raise NotAStatement("not a JSON object", url=where)
    return loaded


def required_text(item: Mapping[str, Any], key: str, where: str, hint: str) -> str:
    """The item's non-blank text at ``key``, else a refusal with the kind's ``hint``."""
    value = item.get(key)
    if not isinstance(value, str) or not value.strip():
        raise NotAStatement(f"no {key}", url=where, hint=hint)
    return value


def optional_text(value: Any) -> str | None:
    """A non-empty text, or None."""
    return value if isinstance(value, str) and value else None
