"""The native Markdown writer (crawler/markdown.py) against pandoc: equal byte for byte, or refused.

On real data: the body of every current-site statement the fixture site serves, as the parser
gives it to the converter. On hostile text: escaping, long words and URLs, words like list
markers or headings where a line may start, breaks, emphasis, nested lists, quotes.
"""

from __future__ import annotations

import gc
import html
import itertools
import weakref

import lxml.html
import pytest
from hypothesis import HealthCheck, Phase, given, settings, target
from hypothesis import strategies as st

from crawler.markdown import Partial, element_to_partial, to_markdown
from crawler.pagecut import PageTree
from crawler.pandoc import MARKDOWN, Pandoc, PandocOptions, convert, convert_many
from tests.conftest import CORPUS, PROJECT, need


def _compare(bodies: list[str]) -> tuple[int, list[int]]:
    """How many bodies the native writer took, and those where it differs from pandoc."""
    native = [to_markdown(body) for body in bodies]
    taken = [i for i, out in enumerate(native) if out is not None]
    reference = convert_many([bodies[i] for i in taken], jobs=2)
    return len(taken), [i for i, ref in zip(taken, reference, strict=True) if native[i] != ref]


@pytest.mark.slow
def test_every_real_body_the_native_writer_takes_is_pandocs_byte_for_byte() -> None:
    from crawler.parse import extract
    from crawler.source import load_source
    from tests.fixture_site import FixtureSite, corpus_texts, usable_texts

    site = FixtureSite(usable_texts(corpus_texts(need(CORPUS))))
    source = load_source(PROJECT / "seeds" / "whitehouse.toml")
    read = [extract(site.respond(site.url_path(url)).body, url, source) for url in site.urls()]
    bodies = [r.body_html for r in read]
    # written from the page's tree (what a sync does) as from the body's HTML
    assert [r.body.markdown for r in read] == [to_markdown(b) for b in bodies]
    taken, different = _compare(bodies)
    print(f"native writer: {taken} of {len(bodies)} real bodies ({taken / len(bodies):.0%})")
    assert different == []
    assert len(bodies) > 2000 and taken / len(bodies) > 0.4
    # the others written but for the blocks refused, which pandoc wrote alone: the same bytes
    pending = [(r.body_html, r.body.pending) for r in read if r.body.pending is not None]
    holes = iter(convert_many([h for _, p in pending for h in p.htmls], jobs=2))
    joined = [p.join([next(holes) for _ in p.htmls]) for _, p in pending]
    assert joined == convert_many([html for html, _ in pending], jobs=2)
    assert taken + len(pending) > 0.95 * len(bodies)  # pandoc writes whole bodies no more


def test_plain_markup_is_written_as_pandoc_writes_it() -> None:
    bodies = [
        "<div><p>One <strong>two</strong> <em>three</em> "
        '<a href="https://example.com/a?b=1">four five</a>.</p></div>',
        "<div><h2><strong>Head</strong></h2><p>a<br>b<br></p><hr></div>",
        "<div><ul><li>one<ul><li>two</li></ul></li><li>three</li></ul></div>",
        "<div><ol><li><p>one</p></li><li><p>two</p></li></ol></div>",
        "<div><p>1. starts like a list</p><p>(b) too</p><ul><li>iv. and</li></ul></div>",
        "<div><p>I. roman or letter, Mrs. and Sen. are not</p><p>IV. is</p></div>",
        "<div><ul><li>x<!-- c --><ul><li>a</li></ul><!-- --><ul><li>b</li></ul></li></ul></div>",
        "<div><p><strong>From <em>The Wall Street Journal</em>:</strong> <em>a <b>b</b></em></p>"
        "<p><strong><em>All of it</em></strong>, 250<sup>th</sup> and <u>Sec. 2</u></p>"
        '<p>See <a href="https://e.com/a.pdf" id="wp-block-file--media-1">the file</a>.</p>'
        '<p><strong>a</strong><a href="https://e.com/">  b</a> <em> <strong> c</strong></em></p>'
        "<p><u> d </u>e <u>f</u></p></div>",
        "<div><p>x</p><!-- c --><ul><li>a</li></ul><!-- --><ul><li>b</li></ul></div>",
        "<div><blockquote><p>" + "quoted words " * 20 + "</p></blockquote></div>",
        "<div><p>" + "x" * 80 + " y 1. z - w + v 2025. u</p></div>",
        "<div><ul><li>" + "word " * 13 + "2025. x (2) y</li></ul></div>",
    ]
    taken, different = _compare(bodies)
    assert taken == len(bodies) and different == []


def test_figures_of_images_are_written_as_pandoc_writes_them() -> None:
    """Raw HTML: pandoc's order of attributes, its escapes, tags filled into lines as words."""
    url = "https://www.whitehouse.gov/wp-content/uploads/2026/08/a-rather-long-image-name.png"
    srcset = ", ".join(f"{url}?resize={w},{w} {w}w" for w in (600, 768, 1200))
    bodies = [
        '<div><figure><img src="https://e.com/x.png"></figure></div>',
        f'<div><p>x</p><figure>\n<img decoding="async" height="2" src="{url}" srcset="{srcset}"'
        ' sizes="(max-width: 960px) 100vw, 960px" style="width:650px" width="3"/>\n</figure>'
        "<p>y</p></div>",
        f'<div><figure><img alt="An “alt” &amp; &lt;more&gt;" loading="lazy" src="{url}"'
        f' fetchpriority="high"/> <img src="{url}"/><img src="data:image/svg+xml;base64,PHN2"/>'
        "</figure></div>",
        f'<div><figure><a href="https://e.com/?a=1&amp;b=2"><img src="{url}" alt=""'
        ' width="1"/></a></figure><ul><li>z</li></ul></div>',
        f'<div><figure><a href="https://x.com/a/status/2074167515714916374"><img src="{url}"/>'
        f'</a>\n<a href="https://e.com/"><img height="9" src="{url}"/></a></figure></div>',
    ]
    taken, different = _compare(bodies)
    assert taken == len(bodies) and different == []


@pytest.mark.parametrize(
    "body",
    [
        "<div><table><tr><td>x</td></tr></table></div>",
        '<div><p><span style="color:red">x</span></p></div>',
        '<div><p><img src="https://example.com/x.png"></p></div>',
        "<div><p>back\\slash</p></div>",
        "<div><p>É. an initial not checked</p></div>",
        "<div><p>x <sup>y z</sup></p></div>",
        "<div><p><u>f</u><u>g</u> <sup>1</sup><sup>2</sup></p></div>",
        # differences a review found (pandoc escapes, keeps, encodes or normalises these)
        "<div><p>Thank you![Applause] Great.</p></div>",
        "<div><p>x !<span>[b</span></p></div>",
        "<div><p>x <strong><span></span></strong> y</p></div>",
        "<div><p><u><span></span></u></p></div>",
        '<div><figure><img src="http://x.com/a b.jpg"></figure></div>',
        '<div><figure><img src="http://x.com/a.jpg" width="0300"></figure></div>',
        '<div><figure><img src="http://x.com/a.jpg" alt="a  b"></figure></div>',
        '<div><figure><a href="http://x.com/a|b"><img src="http://x.com/a.jpg"></a></figure></div>',
        '<div><p><a href="http://x.com/a b" id="f">a</a></p></div>',
        '<div><p><a href="http://x.com/a" id="f">a <span>b</span></a></p></div>',
        "<div><p>a&#12;b</p></div>",
        "<div><h3>x<br></h3></div>",
        "<div><ul><li>x<ul><li>y</li></ul>z</li></ul></div>",
        '<div><figure><img src="https://e.com/x.png" width="50%"></figure></div>',
        '<div><figure><img src="https://e.com/x.png" title="t"></figure></div>',
        '<div><figure><img src="https://e.com/x.png"><figcaption>c</figcaption></figure></div>',
        '<div><ul><li><figure><img src="https://e.com/x.png"></figure></li></ul></div>',
        "<div>loose text</div>",
        '<div><p><a href="https://e.com" title="t">x</a></p></div>',
    ],
)
def test_what_it_is_not_sure_of_is_refused(body: str) -> None:
    assert to_markdown(body) is None


_WORDS = st.sampled_from(
    [
        "word", "1.", "1)", "2.", "2025.", "(1)", "(a)", "a)", "i.", "A.", "U.S.", "-", "+", "*",
        "#", "#1", "a#b", ">", "<", "&", "&amp;", "=", "==", "_x_", "[x]", "`q`", "x" * 75,
        "https://example.com/a_b?c=1&d=2", "\u00a0", "a\u00a0b", "“quoted”", "—", "$5", "10%",
        "e.g.", "Mr.", "Sec.", "1.5", "-x", "+1", "|", "~", ":", "!", "{", "}", "'", '"',
        "(b)", "(12)", "iv.", "C)", "S.", "I.", "1.\u00a0x", "(b)x", "a.", "1)\u00a0", " ",
    ]
)  # fmt: skip
_TEXT = st.lists(_WORDS, min_size=1, max_size=30).map(" ".join)


def _inline(draw: st.DrawFn) -> str:
    parts = []
    for _ in range(draw(st.integers(1, 4))):
        text = draw(_TEXT).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
        kinds = ["", "strong", "em", "a", "br", "u", "<u>", "sup", "id", "strong em", "em strong"]
        wrap = draw(st.sampled_from(kinds))
        if wrap == "u":
            parts.append(f'<span style="text-decoration: underline">{text}</span>')
        elif wrap == "<u>":
            parts.append(f"<u>{text}</u>")
        elif wrap == "id":
            parts.append(f'<a href="https://example.com/f.pdf" id="wp-file-{len(text)}">{text}</a>')
        elif " " in wrap:  # emphasis in emphasis of the other kind, around or inside the text
            outer, inner = wrap.split()
            cut = draw(st.integers(0, len(text)))
            inside = f"{text[:cut]}<{inner}>{text[cut:]}</{inner}>"
            parts.append(f"<{outer}>{inside}</{outer}>")
        elif wrap == "a":
            parts.append(f'<a href="https://example.com/{len(text)}">{text}</a>')
        elif wrap == "br":
            parts.append(text + "<br>")
        elif wrap:
            parts.append(f"<{wrap}>{text}</{wrap}>")
        else:
            parts.append(text)
    return draw(st.sampled_from([" ", "", "\n"])).join(parts)


#: Blocks the native writer refuses, for pandoc to write alone (:func:`_partly`).
_REFUSED = [
    "<table><tr><th>a</th></tr><tr><td>{}</td></tr></table>",
    '<p>x <span style="background: red">{}</span> y</p>',
    "<pre>{}\n  code</pre>",
    "<pre>\n{}</pre>",
    "<p><textarea>{}</textarea></p>",
    "<table><caption><ul><li>{}</li></ul></caption></table>",
    '<figure><img src="https://e.com/x.png"><figcaption>{}</figcaption></figure>',
    '<div class="box"><p>{}</p></div>',
    "<dl><dt>{}</dt><dd>d</dd></dl>",
    "<ul><li>{}</li><li><table><tr><td>t</td></tr></table></li></ul>",
    "<div>loose {}<p>p</p></div>",
]


@st.composite
def _body(draw: st.DrawFn, refused: bool = False) -> str:
    blocks = []
    for _ in range(draw(st.integers(1, 4))):
        kinds = ["p", "h3", "ul", "ol", "blockquote", "nested", "loose", "long", "adjacent"]
        if refused:  # a refused block beside a list sends the whole body to pandoc: fewer lists
            kinds = ["p", "h3", "blockquote", "p", "ul", "refused", "refused"]
        kind = draw(st.sampled_from(kinds))
        if kind == "refused":
            blocks.append(draw(st.sampled_from(_REFUSED)).format(_inline(draw)))
        elif kind in ("p", "h3"):
            blocks.append(f"<{kind}>{_inline(draw)}</{kind}>")
        elif kind == "loose":  # paragraphs in items, a nested list after one
            blocks.append(
                f"<ul><li><p>{_inline(draw)}</p><ul><li>x</li></ul></li>"
                f"<li><p>{_inline(draw)}</p></li></ul>"
            )
        elif kind == "long":  # two-digit markers
            items = "".join(f"<li>{_inline(draw)}</li>" for _ in range(11))
            blocks.append(f"<ol>{items}</ol>")
        elif kind == "adjacent":
            blocks.append(f"<ol><li>{_inline(draw)}</li></ol><!-- --><ol><li>y</li></ol>")
        elif kind == "blockquote":
            blocks.append(f"<blockquote><p>{_inline(draw)}</p></blockquote>")
        else:
            items = "".join(f"<li>{_inline(draw)}</li>" for _ in range(draw(st.integers(1, 3))))
            inner = f"<ul>{items}</ul>" if kind == "nested" else ""
            tag = "ol" if kind == "ol" else "ul"
            blocks.append(f"<{tag}><li>{_inline(draw)}{inner}</li>{items}</{tag}>")
    if refused:  # one refused block between written ones, whatever came before
        refused_block = draw(st.sampled_from(_REFUSED)).format("word " + _inline(draw))
        blocks.append(f"<p>before</p>{refused_block}<p>after</p>")
    return "<div>\n" + "\n".join(blocks) + "\n</div>"


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    phases=[Phase.explicit, Phase.reuse, Phase.generate],  # shrinking a batch of 20 takes minutes
)
@given(st.lists(_body(), min_size=20, max_size=20))
def test_hostile_text_is_written_as_pandoc_writes_it_or_refused(bodies: list[str]) -> None:
    _, different = _compare(bodies)
    assert [bodies[i] for i in different] == []


def _compare_partly(bodies: list[str]) -> tuple[int, list[str]]:
    """How many bodies the native writer wrote but for some blocks, and the bodies where those
    blocks, written by pandoc alone (their HTML as the parser makes it) and joined, do not give
    what pandoc writes for the whole body."""
    written = [element_to_partial(lxml.html.fragment_fromstring(body)) for body in bodies]
    partly = [(b, w) for b, w in zip(bodies, written, strict=True) if isinstance(w, Partial)]
    holes = [str(PageTree.soup(h)) for _, w in partly for h in w.holes]
    converted = iter(convert_many(holes, jobs=2))
    joined = [w.join([next(converted) for _ in w.holes]) for _, w in partly]
    reference = [convert(b) for b, _ in partly]  # alone, not batched: the archive's own way
    different = [b for (b, _), j, r in zip(partly, joined, reference, strict=True) if j != r]
    return len(partly), different


@settings(
    max_examples=10,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
)
@given(st.lists(_body(refused=True), min_size=20, max_size=20))
def test_hostile_bodies_written_but_for_the_blocks_refused_are_pandocs(bodies: list[str]) -> None:
    partly, different = _compare_partly(bodies)
    assert different == []
    assert partly > 0  # most are (a refused block between two written ones ends each body)
    target(partly)


def test_a_partial_bodys_join_lets_its_holes_go() -> None:
    """What a sync keeps of a partly written body until pandoc has written its holes: the join
    holds the written blocks, not the holes (nor the copy of the page's tree they belong to)."""
    body = "<div><p>a</p><table><tr><td>x</td></tr></table></div>"
    written = element_to_partial(lxml.html.fragment_fromstring(body))
    assert isinstance(written, Partial)
    join, hole = written.join, weakref.ref(written.holes[0])
    del written
    gc.collect()
    assert hole() is None
    assert join(["<table>\n</table>\n"]) == "a\n\n<table>\n</table>\n"
    with pytest.raises(ValueError):
        join([])


def test_blocks_refused_are_left_to_pandoc_alone_and_joined_as_it_writes_them() -> None:
    table = "<table><tr><td>cell</td></tr></table>"
    bodies = [
        f"<div><p>before</p>{table}<p>after</p></div>",
        '<div><p>a</p><p>b <span style="color: red">red</span></p><h2>c</h2></div>',
        f"<div><div><p>in a div</p>{table}</div><p>x</p></div>",
        "<div><ul><li>a</li></ul><p>x</p><ol><li>b<table><tr><td>c</td></tr></table></li></ol></div>",
        '<div><dl><dt>a</dt><dd>b</dd></dl><p>c</p><p><a href="https://e.com/x">https://e.com/x</a></p></div>',
        "<div><p>x</p><pre>code</pre><p>y</p><ul><li>y</li></ul><ul><li>z</li></ul></div>",
        "<div><pre>\nfirst line blank</pre><p>a</p><pre>\n\ncode</pre><p>c</p></div>",
        f"<div><h2>Same</h2>{table}<h2>Same</h2><p>x</p></div>",
        f"<div><blockquote><p>q</p>{table}</blockquote><p>x</p></div>",
        '<div><figure><img src="https://e.com/x.png"><figcaption>c</figcaption></figure><p>p</p></div>',
        '<div><div class="x"><p>classed</p></div><hr><p>p</p></div>',
        "<div><p>one</p><div>loose text<p>beside</p></div></div>",
    ]
    holes, different = _compare_partly(bodies)
    assert holes == len(bodies) and different == []


@pytest.mark.parametrize(
    "body",
    [
        "<div>loose text<table><tr><td>x</td></tr></table></div>",  # at the top: Plain, not Para
        # pandoc puts a comment between a list and code, or lists of a kind: a hole's output may
        # begin or end with one (a list libxml2 leaves in a caption), or be empty
        "<div><ul><li>a</li></ul><pre>code</pre></div>",
        "<div><ul><li>a</li></ul><ul><li>b<table><tr><td>c</td></tr></table></li></ul></div>",
        "<div><ol><li><table><tr><td>c</td></tr></table></li></ol><ol><li>b</li></ol></div>",
        "<div><dl><dt>a</dt><dd>b</dd></dl><dl><dt>a</dt></dl></div>",
        "<div><ol><li>a</li></ol><p><textarea>x</textarea></p><ol><li>b</li></ol></div>",
        "<div><ol><li>a</li></ol><p>\x0c</p><ol><li>b</li></ol></div>",
        "<div><ul><li>a</li></ul><table><caption><ul><li>x</li></ul></caption></table></div>",
        "<div><table><caption><ul><li>x</li></ul></caption></table><h2><ul><li>y</li></ul></h2></div>",
        # read with the whole document: only <main> kept, notes found anywhere, ids made unique
        "<div><p>a</p><table><tr><td><main>m</main></td></tr></table></div>",
        '<div><div role="main"><p>m</p></div><table><tr><td>x</td></tr></table></div>',
        '<div><p>a<a epub:type="noteref" href="#n">1</a></p><p>b</p></div>',
        '<div><p>a<a role="doc-noteref" href="#n">1</a></p><p>b</p></div>',
        "<div><h2>Same</h2><table><tr><td><h2>Same</h2></td></tr></table></div>",
        '<div><div type="titlepage"><p>t</p></div><p>b</p></div>',  # pandoc writes nothing
        '<div><p>a</p><p><span style="x"> </span></p></div>',  # no words: pandoc may drop it
        '<div><p>a</p><span style="x">inline</span></div>',  # not a block of its own
    ],
)
def test_what_pandoc_may_write_otherwise_alone_is_not_left_to_it(body: str) -> None:
    assert element_to_partial(lxml.html.fragment_fromstring(body)) is None


def test_the_pandoc_engine_writes_natively_first_unless_turned_off() -> None:
    plain, table = "<div><p>one</p></div>", "<div><table><tr><td>x</td></tr></table></div>"
    engine = Pandoc()
    assert engine.options.native and engine._native(plain) == "one\n"
    assert engine._native(table) is None
    assert engine.convert_many([plain, table, plain]) == convert_many([plain, table, plain])
    assert Pandoc(PandocOptions(native=False))._native(plain) is None
    assert Pandoc(PandocOptions(writer="plain"))._native(plain) is None  # not its format
    assert PandocOptions().writer == MARKDOWN


def _marker_words() -> list[str]:
    """Words like list markers: every one or two characters of an alphabet of roman digits,
    letters and a digit, as ``W.``, ``W)`` and ``(W)``, and the cases pandoc's rules single out
    (uppercase romans worth 1, 5, ... 1000 before a period, numerals its parser reads greedily,
    ten digits or more, abbreviations)."""
    alphabet = "abivxcIVXCDMAZ1"
    words = {
        *("CDC.", "IVI.", "IXI.", "XCX.", "CMC.", "(CDC)", "ivi.", "CCD.", "(CCD)", "DCCCC."),
        *("MMMM.", "LL.", "IIII.", "1234567890.", "123456789.", "Mrs.", "(Sen)", "Sen)", "U.S."),
    }
    for size in (1, 2):
        for letters in itertools.product(alphabet, repeat=size):
            word = "".join(letters)
            words |= {f"{word}.", f"{word})", f"({word})"}
    return sorted(words)


def test_words_like_list_markers_are_escaped_and_kept_on_their_line_as_pandoc_does() -> None:
    """First in a block (escaped or not), in emphasis, a link or a heading (never escaped), and
    where a line would break before them (pandoc keeps a marker off a list item's line start)."""
    forms = [
        "<p>{} word next</p>",
        "<ul><li>{} word</li></ul>",
        "<p><strong>{} word</strong></p>",
        '<p><a href="https://x.y/">{} w</a></p>',
        "<h2>{} word</h2>",
        "<p>" + "a" * 68 + " {} word</p>",
        "<ul><li>" + "a" * 63 + " {} w</li></ul>",
        "<ul><li>" + "a" * 66 + " {}</li></ul>",
    ]
    bodies = [f"<div>{form.format(word)}</div>" for word in _marker_words() for form in forms]
    taken, different = _compare(bodies)
    assert [bodies[i] for i in different] == []
    assert taken > 0.9 * len(bodies)


def test_unicode_spaces_pandoc_keeps_are_written_as_it_writes_them() -> None:
    """The no-break space, U+2000-U+200A, U+202F and U+205F: one column wide, never a break."""
    spaces = ["\u00a0", *map(chr, range(0x2000, 0x200B)), "\u202f", "\u205f"]
    forms = [
        "<p>a{}b c</p>",
        "<p>a {} b</p>",
        "<p>" + "x" * 70 + "{}yy zz</p>",
        "<p>" + "x" * 69 + " {}y</p>",
        "<p>{}a</p><p>{}</p><p>a {}</p>",
        "<ul><li>{}a</li><li>" + "x" * 66 + " {}y</li></ul>",
        "<h2>a{}b</h2><p><strong>{}a</strong> <em>b{}</em></p><p>{}1. x</p><p>x<br>{}y</p>",
    ]
    bodies = [f"<div>{form.replace('{}', space)}</div>" for space in spaces for form in forms]
    taken, different = _compare(bodies)
    assert taken == len(bodies) and different == []
    assert to_markdown("<div><p>a\u200bb</p></div>") is None  # zero columns wide: refused


def test_link_urls_are_written_as_pandoc_writes_them_or_refused() -> None:
    """pandoc writes a link's URL as it is (parentheses, backslashes, letters past ASCII) but
    percent-encodes a space, the Unicode spaces and ``"<>[]^`{|}``: those are refused."""
    past_ascii = "\u2019\u201c\u201d\u00e9\u4e2d\u2014\u2026\u00b0\u20ac\u00ff"
    past_ascii += "\U0001f600\u0301\uff21"  # an emoji, a combining mark, a wide letter
    spaces = "\u00a0\u2009\u3000\u200b\ufeff"
    chars = [chr(c) for c in range(0x21, 0x7F)] + list(past_ascii + spaces)
    forms = [
        '<p><a href="{}">t</a></p>',
        '<p>word <a href="{}">two words</a> next</p>',
        '<ul><li><a href="{}">x</a>)</li></ul>',
        "<p>" + "long " * 12 + '<a href="{}">t</a> end</p>',
    ]
    urls = [html.escape(f"https://e.com/a{c}b{c}", quote=True) for c in chars]
    bodies = [f"<div>{form.replace('{}', url)}</div>" for url in urls for form in forms]
    taken, different = _compare(bodies)
    assert different == []
    for c in "()\\\u2019\u00e9\u2014":  # once refused, now written
        assert to_markdown(f'<div><p><a href="https://e.com/a{c}b">t</a></p></div>') is not None
    for c in ' "<>[]^`{|}\u00a0\u3000\u200b':  # pandoc encodes these, or counts no column
        url = html.escape(f"https://e.com/a{c}b", quote=True)
        assert to_markdown(f'<div><p><a href="{url}">t</a></p></div>') is None
    assert taken > 0.7 * len(bodies)
