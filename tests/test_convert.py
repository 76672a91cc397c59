"""Batched pandoc runs give each document exactly what converting it alone gives."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crawler.convert import MARKDOWN, convert, convert_many
from crawler.parse import Page, parse_many, parse_statement
from storage.document import dumps, loads

NBSP = "\xa0"
RESTORING = (
    "presidential-actions/2025-01/2025-01-20-restoring-accountability-for-career-senior-"
    "executives.md"
)

# Blank-looking blocks: what a body may begin or end with (the real page ends in a paragraph of
# three NBSPs), and blocks with text.
blank = st.sampled_from(
    [
        "",
        " ",
        "\n \t\n",
        NBSP,
        f"<p>{NBSP}</p>",
        f"<p>{NBSP * 3}</p>",
        f"<p> {NBSP} </p>",
        "<p> </p>",
        "<p></p>",
        "<br>",
        f"<p>{NBSP}<br>{NBSP}</p>",
        "<p>\u2003\u2009</p>",  # other Unicode spaces (em, thin)
        f"<div>{NBSP}</div>",
    ]
)
words = st.lists(
    st.sampled_from(["word", "Nation\u2019s", "a&amp;b", "###", "*", "1.", NBSP, "x" * 80]),
    min_size=1,
    max_size=12,
).map(" ".join)
text_block = st.one_of(
    words.map(lambda w: f"<p>{w}</p>"),
    words.map(lambda w: f"<h2>{w}</h2>"),
    st.lists(words, min_size=1, max_size=3).map(
        lambda items: "<ul>" + "".join(f"<li>{i}</li>" for i in items) + "</ul>"
    ),
    words.map(lambda w: f"<p>{w}<br>{w}</p>"),
    words.map(lambda w: f"<blockquote><p>{w}</p></blockquote>"),
    words.map(lambda w: f"<pre>\n{w}</pre>"),  # a first line blank: pandoc writes it
    words.map(lambda w: f"<table><tr><td><h2>{w[:4]}</h2></td></tr></table>"),  # ids written
)
body = st.tuples(
    st.lists(blank, max_size=3),
    st.lists(st.one_of(text_block, blank), max_size=4),
    st.lists(blank, max_size=3),
).map(lambda parts: "<div>" + "".join(b for part in parts for b in part) + "</div>")


def _alone(texts: list[str], reader: str = "html", writer: str = MARKDOWN) -> list[str]:
    return [convert(t, reader, writer) for t in texts]


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(body, min_size=2, max_size=6))
def test_a_batch_converts_each_body_as_it_would_alone(bodies: list[str]) -> None:
    assert convert_many(bodies, batch=len(bodies)) == _alone(bodies)


@pytest.mark.slow
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(body, min_size=2, max_size=8))
def test_a_batch_converts_each_body_as_it_would_alone_many_examples(bodies: list[str]) -> None:
    assert convert_many(bodies, batch=len(bodies)) == _alone(bodies)


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(body, min_size=2, max_size=5))
def test_markdown_to_html_batches_too(bodies: list[str]) -> None:
    markdown = convert_many(bodies, batch=len(bodies))
    html = convert_many(markdown, "markdown_strict", "html", batch=len(markdown))
    assert html == _alone(markdown, "markdown_strict", "html")


@pytest.mark.parametrize(
    "bodies",
    [
        [f"<div><p>b</p><p>{NBSP * 3}</p></div>", "<div><p>a</p></div>"],  # trailing NBSP line
        ["<div><p>a</p></div>", f"<div><p>{NBSP}</p><p>c</p></div>"],  # leading NBSP line
        ["<div></div>", f"<div>{NBSP}</div>", "<div> </div>"],  # nothing but spaces
        ["<div><ul><li>open list", "<div><p>next</p></div>"],  # a swallowed separator
        ["<div><p>a</p></div>", "<div><pre>\nb</pre></div>", "<div><pre>\n\nc</pre></div>"],
        # a heading's id is unique in pandoc's document: written in a table, not shared
        ["<div><h2>Foo</h2></div>", "<div><table><tr><td><h2>Foo</h2></td></tr></table></div>"],
    ],
)
def test_blank_edges_survive_a_batch(bodies: list[str]) -> None:
    assert convert_many(bodies, batch=len(bodies)) == _alone(bodies)


@pytest.mark.corpus
def test_the_real_page_ending_in_nbsps_parses_the_same_in_a_batch(
    corpus: tuple[tuple[str, str], ...],
) -> None:
    from tests.fixture_site import FixtureSite, seed

    text = dict(corpus)[RESTORING]
    assert text.endswith(f"\n{NBSP * 3}\n")
    url = loads(text).source_url
    other = (
        "https://www.whitehouse.gov/presidential-actions/2025/01/"
        "restoring-accountability-for-career-senior-executives-copy/"
    )
    site = FixtureSite([text, text.replace(url, other)])  # not served: pages rendered in-process
    pages = [Page(site.respond(site.url_path(u)).body, u) for u in (url, other)]
    alone = parse_statement(pages[0].html, url, seed())
    batched = parse_many(pages, seed())
    assert dumps(alone).endswith(f"\n{NBSP * 3}\n")
    assert dumps(batched[0]) == dumps(alone)  # type: ignore[arg-type]
