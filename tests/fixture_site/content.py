"""What the fake site serves: the seed it imitates, statements of the public archive, their bodies.

The archive's Markdown bodies become HTML once per process (batched pandoc runs), so many sites
in one test session share the work.
"""

from __future__ import annotations

import datetime as dt
import html
import os
import re
import tarfile
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from crawler.pandoc import convert_many
from crawler.source import Source, load_source
from storage.document import Statement, loads
from storage.errors import DocumentError
from tests.conftest import CORPUS, PROJECT, SHARED

ORIGIN = "https://www.whitehouse.gov"
SEED = PROJECT / "seeds" / "whitehouse.toml"
PAGES = SHARED / "pages" / "whitehouse.gov-2025"
ARTICLE_PAGE = PAGES / "article" / "articles_2025-03-14_week-eight-wins_PRETTIFIED.html"
LISTING_PAGE = PAGES / "listing" / "briefings-statements_page1_2026-03-12.html"
DEFAULT_ROBOTS = "User-agent: *\nAllow: /\n"
SITE_NAME = "The White House"
DASH = " &#8211; "  # WordPress writes the title separator as an entity
_LABELS = {"briefings-statements": "Briefings & Statements"}


def category_label(category: str) -> str:
    """The name the site shows for a category slug ("fact-sheets" -> "Fact Sheets")."""
    return _LABELS.get(category, category.replace("-", " ").title())


@cache
def seed() -> Source:
    return load_source(SEED)


def _aware(value: dt.datetime | None) -> dt.datetime:
    """A statement time, in the site's zone when the file gave none."""
    assert value is not None
    return value if value.utcoffset() is not None else value.replace(tzinfo=seed().tz)


def _lastmod(statement: Statement) -> dt.datetime:
    return _aware(statement.modified_time or statement.published_time)


# -- statements --------------------------------------------------------------------------------


def _usable(text: str) -> tuple[Statement, str] | None:
    """The statement and its category, when the text is a statement of the current site."""
    if ORIGIN + "/" not in text:  # fast path: most of the corpus is from elsewhere
        return None
    try:
        statement = loads(text)
        url = statement.source_url
    except DocumentError:
        return None
    match = seed().statement_match(url) if url.startswith(ORIGIN + "/") else None
    if match is None or statement.published_time is None:
        return None
    return statement, match["tags"]


def _latest(texts: Iterable[str]) -> list[tuple[Statement, str, str]]:
    """(statement, category, text) of the usable texts, one per URL (the latest), oldest first."""
    latest: dict[str, tuple[Statement, str, str]] = {}
    for text in texts:
        if hit := _usable(text):
            known = latest.get(hit[0].source_url)
            if known is None or _lastmod(hit[0]) >= _lastmod(known[0]):
                latest[hit[0].source_url] = (*hit, text)
    return sorted(latest.values(), key=lambda found: _aware(found[0].published_time))


def usable_texts(texts: Iterable[str], count: int | None = None) -> list[str]:
    """The texts the site can serve (current whitehouse.gov statements), newest first."""
    return [text for _, _, text in _latest(texts)[::-1][:count]]


def corpus_texts(path: Path = CORPUS) -> list[str]:
    """Every statement file text of the public archive (``../shared/corpus``)."""
    with tarfile.open(path) as tar:
        return [
            tar.extractfile(m).read().decode("utf-8")  # type: ignore[union-attr]
            for m in tar
            if m.isfile() and m.name.endswith(".md")
        ]


_BODY_HTML: dict[tuple[str, str], str] = {}
_BODY_LOCK = threading.Lock()
#: How the site reads an archive body. ``commonmark`` is truer to the pages the public archive
#: was written from where pandoc's strict reader is not: a wrapped line starting "2030." stays
#: text (not a list item numbered 1), ``utm_source`` keeps its underscore.
READERS = ("markdown_strict", "commonmark")


def render_bodies(bodies: list[str], reader: str = "markdown_strict") -> list[str]:
    """Markdown bodies as HTML, converted once per process (batched pandoc runs)."""
    with _BODY_LOCK:
        missing = list(dict.fromkeys(b for b in bodies if (reader, b) not in _BODY_HTML))
    if missing:
        jobs = max(2, os.cpu_count() or 2)
        done = convert_many(missing, reader=reader, writer="html", jobs=jobs)
        with _BODY_LOCK:
            _BODY_HTML.update(((reader, b), h) for b, h in zip(missing, done, strict=True))
    with _BODY_LOCK:
        return [_BODY_HTML[reader, b] for b in bodies]


@dataclass
class _Entry:
    """One statement as the site serves it."""

    post_id: int
    url: str
    category: str
    title: str
    body_html: str
    published: dt.datetime
    modified: dt.datetime | None
    gone: int | None = None  # the status answered while removed
    page: bytes | None = None  # rendered article page, dropped on every change
    excerpt: str = ""
    first_body: str = ""  # the body as first published (what a stale API serves)

    @property
    def lastmod(self) -> dt.datetime:
        return self.modified or self.published

    def set_content(self, title: str, body_html: str) -> None:
        self.title, self.body_html, self.page = title, body_html, None
        self.excerpt = " ".join(html.unescape(re.sub(r"<[^>]+>", " ", body_html)).split())
