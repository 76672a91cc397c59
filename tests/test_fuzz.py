"""Property-based fuzzing of the page parser and the document reader, bounded in time.

Whatever the input, the result is a document or one of the project's clear errors: never a
crash, never a hang.
"""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crawler.errors import ConvertError, NotAStatement
from crawler.parse import extract, parse_statement
from crawler.source import load_source
from storage.document import Statement, dumps, loads
from storage.errors import DocumentError
from tests.conftest import PROJECT

SOURCE = load_source(PROJECT / "seeds" / "whitehouse.toml")
URL = "https://www.whitehouse.gov/articles/2025/03/fuzzed/"
TAGS = ["main", "div", "p", "h1", "meta", "time", "span", "ul", "li", "script", "br", "a"]
ATTRS = [
    "class='wp-block-whitehouse-topper'",
    "class='wp-block-whitehouse-topper__headline'",
    "property='article:published_time' content='2025-03-01T10:00:00Z'",
    "property='article:modified_time' content='2021-02-30'",
    "datetime='2025-13-01'",
    "data-x='y'",
    "",
]
fragments = st.one_of(
    st.builds(lambda t, a: f"<{t} {a}>", st.sampled_from(TAGS), st.sampled_from(ATTRS)),
    st.builds(lambda t: f"</{t}>", st.sampled_from(TAGS)),
    st.text(max_size=30),
    st.sampled_from(["&#xD800;", "&amp;", "\x00", "<!--", "]]>", "<![CDATA[", "---\n"]),
)
pages = st.lists(fragments, max_size=60).map("".join)
FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FAST
@given(html=st.one_of(pages, pages.map(lambda p: p.encode("utf-8", "surrogatepass"))))
def test_the_parser_gives_a_document_or_a_clear_error(html: str | bytes) -> None:
    try:
        extracted = extract(html, URL, SOURCE)
    except NotAStatement as exc:
        assert URL in str(exc)
        return
    assert extracted.title and extracted.published.utcoffset() is not None
    assert extracted.body_html.startswith("<div")
    try:
        statement = parse_statement(html, URL, SOURCE)
    except (NotAStatement, ConvertError):
        return
    assert loads(dumps(statement)).body == statement.body


@FAST
@given(
    text=st.one_of(
        st.text(max_size=400),
        st.builds(
            lambda a, b: f"---\n{a}\n---\n \n{b}", st.text(max_size=200), st.text(max_size=50)
        ),
    )
)
def test_the_document_reader_gives_a_statement_or_a_clear_error(text: str) -> None:
    try:
        doc = loads(text)
    except DocumentError:
        return
    assert isinstance(doc, Statement)
    try:
        rebuilt = dumps(doc)
    except DocumentError:
        return
    assert dumps(loads(rebuilt)) == rebuilt  # what it writes, it reads back the same
