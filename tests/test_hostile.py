"""Hostile and broken input: every case is a clear error or a correct result, never a crash,
and nothing already archived is lost."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

import httpx
import pytest

from crawler.errors import NotAStatement, TooLargeError
from crawler.fetch import Fetcher, Response, make_client
from crawler.parse import parse_statement
from crawler.source import Source, load_source
from storage.archive import Archive
from storage.document import Statement, dumps, loads, new_statement
from storage.errors import StatementSyncError
from tests.conftest import PROJECT

URL = "https://www.whitehouse.gov/articles/2025/03/a-statement/"
HEAD = "<html><head><meta property='article:published_time' content='{when}'></head><body>"
TITLE = (
    "<main><div class='wp-block-whitehouse-topper'>"
    "<h1 class='wp-block-whitehouse-topper__headline'>{title}</h1></div>"
)


@pytest.fixture(scope="module")
def source() -> Source:
    return load_source(PROJECT / "seeds" / "whitehouse.toml")


def page(
    body: str = "<p>Text.</p>", *, when: str = "2025-03-01T10:00:00Z", title: str = "T"
) -> str:
    return HEAD.format(when=when) + TITLE.format(title=title) + body + "</main></body></html>"


# -- HTML: (markup, None for a correct result, or the error's words) ---------------------------

HTML_CASES = {
    "unclosed tags": (page("<p>one<p>two<div><span>three"), None),
    "50,000-deep nesting": (page("<div>" * 50_000 + "x" + "</div>" * 50_000), "nests deeper"),
    "no <main>": (HEAD.format(when="2025-03-01T10:00:00Z") + "<h1>x</h1><p>t</p>", "no title"),
    "no title": (page(title=""), "no title"),
    "empty body (published before its words)": (page(""), None),
    "NUL bytes": (page("<p>a\x00b</p>", title="x\x00y"), None),
    "lone surrogate entities": (page("<p>a&#xD800;b</p>"), None),
    "control characters": (page("<p>a\x01\x1bb</p>"), None),
    "a listing page": ("<ul>" + "<li class='wp-block-post'>x</li>" * 3 + "</ul>", "listing page"),
    "not HTML at all": ("%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj", "no title"),
    "hostile title": (page(title="--- !!python/object:os.system ': \t#"), None),
}


@pytest.mark.parametrize("name", sorted(HTML_CASES))
def test_hostile_html(source: Source, name: str) -> None:
    html, error = HTML_CASES[name]
    if error is None:
        statement = parse_statement(html, URL, source)
        text = dumps(statement)
        assert loads(text).title == statement.title and loads(text).body == statement.body
        assert "\x00" not in text and "\ud800" not in text
    else:
        with pytest.raises(NotAStatement, match=error) as info:
            parse_statement(html, URL, source)
        assert URL in str(info.value)


ENCODINGS = {
    "declared windows-1252": (
        "text/html; charset=windows-1252",
        "“quoted” café".encode("cp1252"),
        "“quoted” café",
    ),
    "wrong charset (says utf-8)": (
        "text/html; charset=utf-8",
        "café".encode("latin-1"),
        "caf\ufffd",
    ),
    "invalid UTF-8 bytes": ("text/html", b"caf\xc3\x28 ok", None),
    "unknown charset": ("text/html; charset=x-nonsense", "café".encode(), "café"),
}


@pytest.mark.parametrize("name", sorted(ENCODINGS))
def test_encodings(source: Source, name: str) -> None:
    content_type, body, expected = ENCODINGS[name]
    html = page("<p>@@</p>").encode().replace(b"@@", body)
    reply = Response(URL, 200, {"content-type": content_type}, html)
    statement = parse_statement(reply.html, URL, source)
    if expected is not None:
        assert expected in statement.body
    assert statement.body.strip()


@pytest.mark.parametrize("kind", ["application/pdf", "image/png", "application/json"])
def test_non_html_content_types_are_refused(kind: str) -> None:
    assert not Response(URL, 200, {"content-type": kind}, b"x").is_html
    assert Response(URL, 200, {"content-type": "text/html; charset=utf-8"}, b"x").is_html


def test_a_30_mb_page_is_refused_without_holding_it(source: Source) -> None:
    chunks = iter([b"x" * 1_000_000] * 30)
    client = make_client(
        transport=httpx.MockTransport(lambda r: httpx.Response(200, content=chunks))
    )
    polite = dataclasses.replace(source.politeness, rate=0.0)
    fetcher = Fetcher(client, dataclasses.replace(source, politeness=polite), obey_robots=False)
    with pytest.raises(TooLargeError, match="over the cap of 20,000,000"):
        fetcher.get(URL)
    assert next(chunks, None) is not None  # it stopped reading early
    client.close()


# -- dates ------------------------------------------------------------------------------------

DATES = {
    "missing": ("", "no publication time"),
    "malformed": ("last Tuesday", "not a valid date"),
    "impossible": ("2021-02-30T10:00:00Z", "not a valid date"),
    "naive, no offset": ("2025-03-01T10:00:00", "2025-03-01T10:00:00-05:00"),
    "far future": ("2999-12-31T23:00:00Z", "2999-12-31T18:00:00-05:00"),
    "year 10000": ("10000-01-01T00:00:00Z", "not a valid date"),
}


@pytest.mark.parametrize("name", sorted(DATES))
def test_hostile_dates(source: Source, name: str) -> None:
    when, expected = DATES[name]
    html = page(when=when) if when else page().replace("article:published_time", "x")
    if expected.startswith(("no ", "not ")):
        with pytest.raises(NotAStatement, match=expected):
            parse_statement(html, URL, source)
    else:
        assert parse_statement(html, URL, source).published_time.isoformat() == expected  # type: ignore[union-attr]


# -- titles, bodies, paths through the archive -------------------------------------------------

RECORDS = {
    "title of YAML markers": ("--- !!python/object:os.system\n: - [x]", "Body.\n", None),
    "body of front-matter look-alikes": ("T", "---\ntitle: fake\n---\n \n---\n", None),
    "tabs and control characters": ("a\tb\x07c", "x\ty\n", None),
    "lone surrogate in the title": ("bad \ud800 title", "Body.\n", None),
    "lone surrogate in the body": ("T", "bad \udfff body\n", "UTF-8 cannot store"),
    "2,000-character title": ("é" * 2000, "Body.\n", None),
}


@pytest.mark.parametrize("name", sorted(RECORDS))
def test_hostile_statements_round_trip_or_are_refused(tmp_path: Path, name: str) -> None:
    title, body, error = RECORDS[name]
    doc = new_statement(
        title=title,
        source_url=URL,
        tags="articles",
        body=body,
        published_time=dt.datetime(2025, 3, 1, tzinfo=dt.UTC),
    )
    with Archive(tmp_path / "a") as archive:
        archive.record(
            new_statement(
                title="kept",
                source_url=URL,
                tags="articles",
                body="Kept.\n",
                published_time=dt.datetime(2025, 3, 1, tzinfo=dt.UTC),
            ),
            origin=URL,
        )
        if error is not None:
            with pytest.raises(StatementSyncError, match=error):
                archive.record(doc, origin=URL)
            assert archive.statement(archive.revision(archive.resolve(URL))).body == "Kept.\n"
            return
        recorded = archive.record(doc, origin=URL)
        assert recorded is not None
        again = loads((archive.root / recorded.path).read_text(encoding="utf-8"))
        assert (again.title, again.body) == (title, body)


SLUGS = [
    "../../etc/passwd",
    "%2F..%2F..%2Froot",
    "/absolute",
    "con",
    "nul.txt",
    "a" * 1000,
    "\u202eevil",
    ".hidden",
    "x\\..\\y",
]


@pytest.mark.parametrize("slug", SLUGS)
def test_hostile_slugs_land_inside_the_archive(tmp_path: Path, slug: str) -> None:
    url = "https://www.whitehouse.gov/articles/2025/03/" + slug + "/"
    doc = new_statement(
        title="t",
        source_url=url,
        tags="../../x",
        body="b\n",
        published_time=dt.datetime(2025, 3, 1, tzinfo=dt.UTC),
    )
    root = tmp_path / "a"
    with Archive(root) as archive:
        recorded = archive.record(doc, origin=url)
        assert recorded is not None
        written = (root / recorded.path).resolve()
        assert written.is_relative_to(root.resolve()) and written.is_file()
        assert len(written.name.encode()) <= 255 and ".statements" not in written.parts


def test_nothing_escapes_through_a_crafted_statement_object(tmp_path: Path) -> None:
    meta = {"source_url": URL, "date": "2025-03-01/../../..", "tags": "x", "title": "t"}
    with Archive(tmp_path / "a") as archive, pytest.raises(StatementSyncError, match="YYYY-MM-DD"):
        archive.record(Statement(meta, "b"), origin=URL)
