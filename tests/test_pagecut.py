"""The lxml cut (crawler/pagecut.py) reads a page exactly as a whole BeautifulSoup tree does:
the same title, times and body bytes, or the same refusal, on the golden pages, the hostile ones,
the fixture site's real-size pages and fuzzed markup; and the native writer's Markdown of a body
read from the page's tree is what it writes for the body's HTML."""

from __future__ import annotations

from collections.abc import Iterator
from unittest import mock

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crawler import parse
from crawler.markdown import to_markdown
from crawler.pagecut import PageTree, Unsupported, supported
from crawler.pandoc import convert, convert_many
from crawler.parse import Extracted, extract
from crawler.source import load_source
from storage.document import loads
from tests.conftest import PROJECT
from tests.fixture_site import FixtureSite, usable_texts
from tests.test_fuzz import TAGS, URL, pages
from tests.test_hostile import HTML_CASES

SOURCE = load_source(PROJECT / "seeds" / "whitehouse.toml")
WHOLE = "the whole tree"


def read(html: str | bytes, url: str, *, whole: bool) -> Extracted | str:
    """The extraction, or its refusal's message; ``whole``: with a whole BeautifulSoup tree."""
    with mock.patch.object(parse, "_cuttable", lambda selectors: not whole):
        try:
            return extract(html, url, SOURCE)
        except Exception as exc:  # the same refusal, or the same failure, either way
            return f"{type(exc).__name__}: {exc}"


def same(html: str | bytes, url: str = URL) -> None:
    cut = read(html, url, whole=False)
    assert cut == read(html, url, whole=True)
    if isinstance(cut, Extracted):
        written_from_the_tree_as_from_the_html(cut)


def written_from_the_tree_as_from_the_html(extracted: Extracted) -> None:
    """The native writer's Markdown of the body read from the page's tree is what it writes for
    the body's HTML (:func:`crawler.markdown.element_to_partial`); a body it wrote but for some
    blocks, those converted alone and joined, is what pandoc writes for the whole body."""
    assert extracted.body.markdown == to_markdown(extracted.body_html)
    pending = extracted.body.pending
    if pending is not None:
        assert pending.join(convert_many(pending.htmls)) == convert(extracted.body_html)


def golden_pages() -> Iterator[str]:
    yield from (p.name for p in sorted((PROJECT / "tests/seeds/whitehouse").glob("*.html")))


@pytest.mark.parametrize("name", list(golden_pages()))
def test_golden_pages_read_the_same(name: str) -> None:
    html = (PROJECT / "tests/seeds/whitehouse" / name).read_bytes()
    same(html, "https://www.whitehouse.gov/briefings-statements/2025/03/a-statement/")


@pytest.mark.parametrize("name", list(HTML_CASES))
def test_hostile_pages_read_the_same(name: str) -> None:
    same(HTML_CASES[name][0])


def test_real_size_pages_read_the_same(corpus: tuple[tuple[str, str], ...]) -> None:
    site = FixtureSite(usable_texts((t for _, t in corpus), 40))
    written = 0
    for url in site.urls():
        html = site.respond(site.url_path(url)).body
        cut = read(html, url, whole=False)
        assert isinstance(cut, Extracted) and cut == read(html, url, whole=True)
        written_from_the_tree_as_from_the_html(cut)
        written += cut.body.markdown is not None
    assert written > 20  # most real bodies are written from the tree


REMOVED = ["<div class='wp-block-whitehouse-topper'>", "<script>", "<style>", "<noscript>"]
SPACES = st.sampled_from([" ", "\n", "\n  \n", "\t", "\xa0", "<!-- c -->", "<?pi x?>", "<br>"])
around = st.lists(st.one_of(SPACES, st.sampled_from(REMOVED), st.sampled_from(TAGS)), max_size=8)
HEAD = (
    "<html><head><meta property='og:title' content='T'>"
    "<meta property='article:published_time' content='2025-03-01T10:00:00Z'></head><body>"
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    body=st.lists(st.one_of(pages, around.map("".join)), max_size=6).map("".join),
    encode=st.booleans(),
)
def test_fuzzed_pages_read_the_same(body: str, encode: bool) -> None:
    html = HEAD + "<main><p>x</p>" + body + "</main><footer>f</footer></body></html>"
    same(html.encode("utf-8", "surrogatepass") if encode else html)


def test_a_selector_lxml_cannot_match_is_read_with_the_whole_tree() -> None:
    assert supported("main div.x > p") and supported('meta[property="og:url"]')
    assert not any(map(supported, ["p:contains('x')", "li:first-child", "h1 + p", "a:not(.b)"]))
    with pytest.raises(Unsupported):
        PageTree("<html><body>" + "<div>" * 300 + "deep</body></html>")  # deeper than lxml goes


def test_a_corpus_statement_page_needs_nothing_but_the_cut(
    corpus: tuple[tuple[str, str], ...],
) -> None:
    """The whitehouse seed's selectors all go through lxml: no whole tree in a sync."""
    assert parse._cuttable(SOURCE.selectors)  # type: ignore[arg-type]
    assert loads(usable_texts((t for _, t in corpus), 1)[0]).title
