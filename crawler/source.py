"""Sources as data: one TOML file per source in ``seeds/``, loaded into frozen dataclasses.

A seed file is validated once, at load: an unknown key, a wrong type or a bad value fails with the
file, the line and the key, and what is expected. Everything site-specific (hosts, URL shapes,
selectors, time zone, politeness) lives in the seed file, not in the crawler's code.

A source has a kind (``kind = "html"``, the default): :mod:`crawler.kinds` registers what each
kind reads, how it discovers and what it needs of its seed, checked here at load, and the
options of its own, from the seed's table named after it (``[<kind>]``, built by the kind's
options dataclass into :attr:`Source.kind_options`). The dataclasses below are the seed schema;
``seeds/README.md`` documents every key, which ``tests/test_seed_reference.py`` checks.
"""

from __future__ import annotations

import dataclasses
import os
import re
import zoneinfo
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urljoin, urlsplit

from crawler.convert import CONVERTERS
from crawler.durations import interval, seconds
from crawler.errors import SourceError
from crawler.kinds.base import kind_of, kinds
from crawler.tomlconfig import Context, build, read_toml
from storage.document import KEY_ORDERS
from storage.layout import DEFAULT_LAYOUT, LAYOUT_FIELDS


def _builtin_seeds() -> Path:
    """The seed files shipped with the package: ``crawler/seeds`` in an installed wheel (see
    ``[tool.setuptools.package-dir]`` in pyproject.toml), the top-level ``seeds/`` in a checkout."""
    here = Path(__file__).resolve().parent
    installed = here / "seeds"
    return installed if installed.is_dir() else here.parent / "seeds"


BUILTIN_SEEDS = _builtin_seeds()


@dataclass(frozen=True)
class Listing:
    """Listing pages, newest first: ``start_urls`` and the pages their ``next`` links lead to."""

    start_urls: tuple[str, ...]
    max_pages: int = 500  # a longer walk is cut, with a warning (as is a page adding no new URL)
    overlap: int = 10  # items walked past the last one already archived


@dataclass(frozen=True)
class Sitemap:
    """A sitemap index (WordPress core, Yoast) or a plain sitemap; gzip allowed."""

    urls: tuple[str, ...]
    include: str = ""  # a regex a child sitemap's URL must match (e.g. "post")
    max_sitemaps: int = 200
    max_urls: int = 50_000  # URLs taken from one sitemap document (the protocol's own limit)


@dataclass(frozen=True)
class Feed:
    """RSS or Atom feeds of the newest items."""

    urls: tuple[str, ...]


@dataclass(frozen=True)
class Schedule:
    """When ``statements schedule`` syncs a source: ``every`` ("2h", "30m") or ``cron``."""

    every: Annotated[str, interval] = ""  # checked at load, kept as written
    cron: str = ""
    jitter: Annotated[float, seconds] = 0.0  # added at random to each run time: 120 or "2m"
    audit: int = 0  # statements re-checked per run, so the whole archive is swept over time


@dataclass(frozen=True)
class ListingSelectors:
    item: str
    link: str
    published: str  # an element with a datetime attribute
    category: str = ""
    next: str = "link[rel=next]"
    pagination: str = ""


@dataclass(frozen=True)
class ArticleSelectors:
    title: str
    body: str
    published: str = ""  # an element with a datetime attribute
    title_meta: str = "og:title"
    title_suffixes: tuple[str, ...] = ()
    published_meta: str = "article:published_time"
    modified_meta: str = "article:modified_time"
    canonical: str = 'link[rel="canonical"]'
    remove: tuple[str, ...] = ()
    strip_attributes: tuple[str, ...] = ("class", "data-*")
    stable_id: str = ""  # an element whose href, content or text holds the statement's stable id
    stable_id_pattern: str = ""  # a regex on it: its first group (else the match) is the id


@dataclass(frozen=True)
class Selectors:
    article: ArticleSelectors
    listing: ListingSelectors | None = None


@dataclass(frozen=True)
class Politeness:
    rate: float = 1.0  # requests per second per host
    jitter: float = 0.25  # fraction of the interval added at random
    concurrency: int = 2
    timeout: float = 30.0
    max_bytes: int = 20_000_000
    max_attempts: int = 4
    max_redirects: int = 10


@dataclass(frozen=True)
class ArchiveSettings:
    layout: str = DEFAULT_LAYOUT
    key_order: str = "reference"
    extra_keys: tuple[str, ...] = ()  # front-matter keys beyond the format's, of the kind's


@dataclass(frozen=True)
class Convert:
    """How the body HTML becomes the archive's Markdown: a converter by name (crawler/convert.py),
    with its own options from the seed's ``[convert.<converter>]`` (built at load by the engine's
    options dataclass, not a key of its own)."""

    converter: str = "pandoc"
    # "timezone": modified_time in the source's time zone. "published": with published_time's
    # UTC offset, as the public whitehouse archive wrote it (wrong by an hour across DST).
    modified_time_offset: str = "timezone"
    options: Any = None


@dataclass(frozen=True)
class SyncSettings:
    """Limits of one sync: more removals than ``max_removed_share`` of the source's active
    statements are held (none marked) until confirmed with ``--confirm-removals``; at most
    ``max_new`` new statements are fetched (the rest by the next syncs); ``gone_streak`` new URLs
    in a row answering 404/410 stop the fetching of new URLs for the sync."""

    max_removed_share: float = 0.2
    max_new: int = 5_000
    gone_streak: int = 50


@dataclass(frozen=True)
class WordPress:
    """The site's WordPress REST API, for audits (:mod:`crawler.wpapi`): with ``api`` on, an
    audit reads ``endpoint`` in pages of 100 and fetches as pages only the posts that changed,
    once a check on ``self_check`` recent statements shows that the API tracks the pages, and
    re-checks as pages the ``page_sweep`` least recently checked statements the API lists."""

    api: bool = False
    endpoint: str = "/wp-json/wp/v2/posts"  # the posts route, on the origin
    self_check: int = 3  # recent statements whose API content is compared with their page
    page_sweep: int = 5  # statements the API lists re-checked as pages by each audit


@dataclass(frozen=True)
class Source:
    name: str
    title: str
    origin: str  # scheme and host the archive records, e.g. https://www.whitehouse.gov
    allowed_hosts: tuple[str, ...]
    statement_url: str  # regex on a URL's path; a named group "tags" gives the category
    selectors: Selectors | None = None  # required by the html kind
    timezone: str = "UTC"
    enabled: bool = True
    listing: Listing | None = None
    sitemap: Sitemap | None = None
    feed: Feed | None = None
    politeness: Politeness = field(default_factory=Politeness)
    archive: ArchiveSettings = field(default_factory=ArchiveSettings)
    convert: Convert = field(default_factory=Convert)
    schedule: Schedule = field(default_factory=Schedule)
    sync: SyncSettings = field(default_factory=SyncSettings)
    wordpress: WordPress = field(default_factory=WordPress)
    kind: str = "html"  # crawler/kinds: what the source serves and how it is discovered
    fetch_url: str = ""  # a template of the URL fetched for a statement URL: {url} {path} {query}
    path: str = ""  # the seed file it came from
    kind_options: Any = None  # the kind's own options, from the table [<kind>]

    @property
    def tz(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.timezone)

    @property
    def discovery(self) -> tuple[str, ...]:
        """The discovery methods of the source's kind that its seed turns on."""
        return tuple(m.name for m in kind_of(self.kind).methods(self))

    def absolute(self, url: str) -> str:
        return urljoin(self.origin + "/", url)

    def allows(self, url: str) -> bool:
        """Whether a URL is one the crawler may request: http(s) on an allowed host."""
        parts = urlsplit(url)
        return parts.scheme in ("http", "https") and (parts.hostname or "") in self.allowed_hosts

    def statement_match(self, url: str) -> re.Match[str] | None:
        if not self.allows(url):
            return None
        return re.fullmatch(self.statement_url, urlsplit(url).path)

    def canonical(self, url: str) -> str:
        """A URL on the source's real origin (what the archive records), without the fragment."""
        parts = urlsplit(url)
        query = f"?{parts.query}" if parts.query else ""
        return f"{self.origin}{parts.path or '/'}{query}"


# -- loading ----------------------------------------------------------------------------------


def load_source(path: Path) -> Source:
    """Read and validate one seed file."""
    data, ctx = read_toml(path, SourceError)
    data.setdefault("name", path.stem)
    options = _converter_options(data, ctx)
    kind, own = _kind_options(data, ctx)
    built: Source = build(Source, data, ctx, skip=("path", "kind_options"))
    convert = dataclasses.replace(built.convert, options=options)
    politeness = built.politeness
    if "rate" not in data.get("politeness", {}):  # the kind's default pace
        politeness = dataclasses.replace(politeness, rate=kind.rate)
    source = dataclasses.replace(
        built, path=str(path), convert=convert, politeness=politeness, kind_options=own
    )
    _check(source, ctx)
    return source


def seed_dirs(extra: Iterable[Path] = ()) -> list[Path]:
    dirs = [BUILTIN_SEEDS]
    env = os.environ.get("STATEMENTS_SEEDS")
    if env:
        dirs.append(Path(env))
    dirs.extend(extra)
    return dirs


def load_sources(dirs: Iterable[Path]) -> dict[str, Source]:
    """Every ``*.toml`` in the folders, later folders overriding earlier ones by name."""
    sources: dict[str, Source] = {}
    for folder in dirs:
        if not folder.is_dir():
            continue
        for path in sorted(folder.glob("*.toml")):
            source = load_source(path)
            sources[source.name] = source
    return sources


#: Keys of ``[convert]`` from before converters had names: pandoc's, read as ``[convert.pandoc]``.
_PANDOC_KEYS = ("reader", "writer")


def _converter_options(data: dict[str, Any], ctx: Context) -> Any:
    """The converter's own options: its table ``[convert.<converter>]``, taken out of ``[convert]``
    and built by the engine's options dataclass (its defaults when the table is absent)."""
    table = data.get("convert", {})
    if not isinstance(table, dict):
        return None  # build() says what is wrong
    name = table.get("converter", "pandoc")
    engine = CONVERTERS.get(name) if isinstance(name, str) else None
    if engine is None:
        raise ctx.fail("convert.converter", f"one of {', '.join(sorted(CONVERTERS))}", name)
    own = table.pop(name, {})
    legacy = {key: table.pop(key) for key in _PANDOC_KEYS if key in table}
    if legacy and (name != "pandoc" or not isinstance(own, dict) or set(legacy) & set(own)):
        key = next(iter(legacy))
        expected = f"{key} in [convert.pandoc] (an option of pandoc)"
        raise ctx.fail(f"convert.{key}", expected, legacy[key])
    if legacy:
        own = {**legacy, **own}
    for other in sorted(set(table) & {*CONVERTERS, "options"}):
        raise ctx.fail(f"convert.{other}", f"options of the converter in use only ({name})")
    return build(engine.options, own, ctx, f"convert.{name}.")


def _kind_options(data: dict[str, Any], ctx: Context) -> tuple[Any, Any]:
    """The source's kind, and its own options: the table named after it, built by the kind's
    options dataclass (its defaults when the table is absent; ``None`` for a kind without)."""
    name = data.get("kind", "html")
    known = kinds()
    if not isinstance(name, str) or name not in known:
        raise ctx.fail("kind", f"one of {', '.join(sorted(known))}", name)
    kind = known[name]
    if kind.options is None:
        return kind, None
    return kind, build(kind.options, data.pop(name, {}), ctx, f"{name}.")


def _check(source: Source, ctx: Context) -> None:
    """Values with a shape: URLs, regexes, time zones, positive numbers."""
    if not re.fullmatch(r"[a-z0-9][a-z0-9_-]*", source.name):
        raise ctx.fail("name", "lowercase letters, digits, - and _", source.name)
    origin = urlsplit(source.origin)
    if (
        origin.scheme not in ("http", "https")
        or not origin.hostname
        or origin.path not in ("", "/")
    ):
        raise ctx.fail(
            "origin", "scheme and host only, like https://www.example.gov", source.origin
        )
    if not source.allowed_hosts or origin.hostname not in source.allowed_hosts:
        raise ctx.fail("allowed_hosts", "a list holding the origin's host", source.allowed_hosts)
    try:
        re.compile(source.statement_url)
    except re.error as exc:
        raise ctx.fail(
            "statement_url", f"a regular expression ({exc})", source.statement_url
        ) from None
    try:
        zoneinfo.ZoneInfo(source.timezone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ctx.fail(
            "timezone", "an IANA time zone like America/New_York", source.timezone
        ) from None
    p = source.politeness
    for name in ("rate", "concurrency", "timeout", "max_bytes", "max_attempts"):
        if getattr(p, name) <= 0:
            raise ctx.fail(f"politeness.{name}", "a number above 0", getattr(p, name))
    if source.archive.key_order not in KEY_ORDERS:
        raise ctx.fail("archive.key_order", f"one of {KEY_ORDERS}", source.archive.key_order)
    fields = set(re.findall(r"{(\w+)}", source.archive.layout))
    if not fields <= LAYOUT_FIELDS or "slug" not in fields:
        raise ctx.fail("archive.layout", f"a template of {sorted(LAYOUT_FIELDS)} with {{slug}}")
    if source.convert.modified_time_offset not in ("timezone", "published"):
        offset = source.convert.modified_time_offset
        raise ctx.fail("convert.modified_time_offset", "'timezone' or 'published'", offset)
    if not 0 <= source.sync.max_removed_share <= 1:
        share = source.sync.max_removed_share
        raise ctx.fail("sync.max_removed_share", "a share from 0 to 1, like 0.2 for 20%", share)
    _check_limits(source, ctx)
    _check_kind(source, ctx)


def _check_kind(source: Source, ctx: Context) -> None:
    """What the source's kind needs of the seed; extra front-matter keys it can write; a
    ``fetch_url`` template of known fields."""
    kind = kind_of(source.kind)
    for key in source.archive.extra_keys:
        if key not in kind.extra_keys:
            offered = ", ".join(kind.extra_keys) or "none"
            expected = f"keys the {kind.name} kind writes ({offered})"
            raise ctx.fail("archive.extra_keys", expected, key)
    if source.fetch_url:
        try:
            source.fetch_url.format(url="", path="", query="")
        except (KeyError, IndexError, ValueError):
            raise ctx.fail(
                "fetch_url", "a URL template of {url}, {path} and {query}", source.fetch_url
            ) from None
    kind.check(source, ctx)


def _check_limits(source: Source, ctx: Context) -> None:
    """Discovery's bounds: whole numbers of at least 1."""
    limits = {"sync.max_new": source.sync.max_new, "sync.gone_streak": source.sync.gone_streak}
    if source.listing is not None:
        limits["listing.max_pages"] = source.listing.max_pages
    if source.sitemap is not None:
        limits["sitemap.max_sitemaps"] = source.sitemap.max_sitemaps
        limits["sitemap.max_urls"] = source.sitemap.max_urls
    limits["wordpress.self_check"] = source.wordpress.self_check
    limits["wordpress.page_sweep"] = source.wordpress.page_sweep
    for key, value in limits.items():
        if value < 1:
            raise ctx.fail(key, "a whole number of at least 1", value)
