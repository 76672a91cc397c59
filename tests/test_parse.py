from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path

import pytest

from crawler.convert import convert, convert_many
from crawler.errors import ConvertError, NotAStatement
from crawler.parse import Body, Page, Pending, _written, extract, parse_many, parse_statement
from crawler.source import Source, load_source
from storage.document import dumps
from tests.conftest import PROJECT, SHARED, need

PAGES = SHARED / "pages" / "whitehouse.gov-2025"
ARTICLE = PAGES / "article" / "articles_2025-03-14_week-eight-wins_PRETTIFIED.html"
EXPECTED = (
    PAGES
    / "expected"
    / (
        "articles_2025-03_2025-03-14-week-eight-wins-a-testament-to-american-greatness-under-"
        "president-trump.md"
    )
)
URL = (
    "https://www.whitehouse.gov/articles/2025/03/"
    "week-eight-wins-a-testament-to-american-greatness-under-president-trump/"
)


@pytest.fixture(scope="module")
def source() -> Source:
    return load_source(PROJECT / "seeds" / "whitehouse.toml")


def test_golden_article_page_gives_the_archive_file_byte_for_byte(source: Source) -> None:
    html = need(ARTICLE).read_bytes()
    statement = parse_statement(html, URL, source)
    assert dumps(statement) == need(EXPECTED).read_text(encoding="utf-8")


def test_listing_time_wins_over_the_page_and_is_made_local(source: Source) -> None:
    html = need(ARTICLE).read_bytes()
    listed = dt.datetime(2025, 3, 14, 21, 14, 4, tzinfo=dt.UTC)
    extracted = extract(html, URL, source, published=listed)
    assert extracted.published.isoformat() == "2025-03-14T17:14:04-04:00"
    assert extracted.tags == "articles"
    assert extracted.modified is not None and extracted.modified.utcoffset() == dt.timedelta(
        hours=-4
    )


def test_batched_parsing_equals_one_by_one(source: Source) -> None:
    html = need(ARTICLE).read_text(encoding="utf-8")
    other = html.replace("The past week", "The past fortnight")
    results = parse_many([Page(html, URL), Page(b"<html></html>", URL), Page(other, URL)], source)
    assert dumps(results[0]) == need(EXPECTED).read_text(encoding="utf-8")  # type: ignore[arg-type]
    assert isinstance(results[1], NotAStatement)
    assert "fortnight" in results[2].body  # type: ignore[union-attr]


# Without ../shared, one case that skips saying so (not pytest's "empty parameter set").
LISTINGS = sorted(p.name for p in (PAGES / "listing").glob("*.html")) or ["absent.html"]


@pytest.mark.parametrize("name", LISTINGS)
def test_a_listing_page_is_not_a_statement(source: Source, name: str) -> None:
    html = need(PAGES / "listing" / name).read_bytes()
    with pytest.raises(NotAStatement, match=r"listing page|no title"):
        parse_statement(html, URL, source)


@pytest.mark.parametrize(
    ("html", "message"),
    [
        ("", "no title"),
        ("<html><head><title>Page not found</title></head><body>Oops</body></html>", "no title"),
        ("<main><h1 class='wp-block-whitehouse-topper__headline'>T</h1></main>", "publication"),
        (
            "<meta property='article:published_time' content='2021-02-30T10:00:00Z'>"
            "<main><h1 class='wp-block-whitehouse-topper__headline'>T</h1><p>x</p></main>",
            "not a valid date",
        ),
        (
            "<meta property='article:published_time' content='2025-03-01T10:00:00Z'>"
            "<h1 class='wp-block-whitehouse-topper__headline'>T</h1>",
            "no body",
        ),
    ],
)
def test_pages_that_are_not_statements_name_the_url(
    source: Source, html: str, message: str
) -> None:
    with pytest.raises(NotAStatement, match=message) as info:
        parse_statement(html, URL, source)
    assert URL in str(info.value)


def test_urls_off_the_source_are_refused(source: Source) -> None:
    html = need(ARTICLE).read_bytes()
    for url in ("https://evil.example/articles/2025/03/x/", "file:///etc/passwd"):
        with pytest.raises(NotAStatement, match="not a statement URL"):
            parse_statement(html, url, source)


def test_batched_pandoc_equals_single_runs() -> None:
    docs = ["<div><p>a <b>b</b></p><ul><li>c</li></ul></div>", "<div></div>", "<div><p>x<br>y</p>"]
    assert convert_many(docs, batch=3) == [convert(d) for d in docs]
    assert Path(need(ARTICLE)).exists()


def test_a_settled_body_keeps_its_markdown_or_its_html_and_lets_its_page_go() -> None:
    made: list[str] = []

    def html() -> str:  # stands for the page's tree, held by the thunk until the HTML is made
        made.append("html")
        return "<div><p>x</p></div>"

    written = Body(html, "x\n").settled()
    assert (written.markdown, made) == ("x\n", [])  # no HTML made for a written body
    assert not callable(written._html)  # the thunk, and the page's tree with it, let go
    refused = Body(html).settled()
    assert (refused.markdown, refused.html, made) == (None, "<div><p>x</p></div>", ["html"])
    assert not callable(refused._html)
    pending = Pending(("<p>y</p>",), lambda parts: "x\n\n" + parts[0])
    partly = Body(html, None, pending).settled()
    assert (partly.markdown, partly.pending, partly.html, made) == (None, pending, "", ["html"])


class _Failing:
    """A converter that fails on HTML holding "bad" (alone or in a batch)."""

    name = "failing"

    def convert(self, html: str) -> str:
        if "bad" in html:
            raise ConvertError("no")
        return html.upper()

    def convert_many(self, htmls: Sequence[str], *, jobs: int = 2) -> list[str]:
        return [self.convert(h) for h in htmls]


def test_pending_parts_are_converted_with_the_other_bodies_and_joined_in_order() -> None:
    def join(parts: Sequence[str]) -> str:
        return "|".join(parts)

    bodies = [
        Body("<p>whole</p>"),
        Body("", None, Pending(("<p>a</p>", "<p>b</p>"), join)),
        Body("", "written\n"),
        Body("", None, Pending(("<p>c</p>", "<p>bad</p>"), join)),
        Body("<p>bad</p>"),
    ]
    out = _written(_Failing(), bodies, jobs=1)
    assert out[:3] == ["<P>WHOLE</P>", "<P>A</P>|<P>B</P>", "written\n"]
    assert isinstance(out[3], ConvertError) and isinstance(out[4], ConvertError)


def test_a_page_with_a_table_is_written_but_for_it_and_the_table_left_to_pandoc(
    source: Source,
) -> None:
    table = "<table><tr><td>cell</td></tr></table>"
    page = (
        '<html><head><meta property="og:title" content="T">'
        '<meta property="article:published_time" content="2025-03-01T10:00:00Z"></head><body>'
        f"<main><div class='entry-content'><p>one</p>{table}<p>two</p></div></main></body></html>"
    )
    url = "https://www.whitehouse.gov/briefings-statements/2025/03/a-statement/"
    body = extract(page, url, source).body
    assert body.markdown is None and body.pending is not None
    assert body.pending.htmls == (table,)
    [statement] = parse_many([Page(page, url)], source)
    assert not isinstance(statement, Exception)
    assert statement.body == convert(f"<div><p>one</p>{table}<p>two</p></div>")
