"""The visible form of a body: what decides "content changed" and what the word diff shows."""

from __future__ import annotations

import re

import pytest

from storage import diff as wdiff
from storage.document import loads

IMG = '<img src="https://x.test/a.png" alt="A flag" data-fetchpriority="high" width="800" />'


def changed(old: str, new: str) -> list[tuple[str, str]]:
    chunks = wdiff.word_diff(old, new)
    return [(wdiff.join(c.old, True), wdiff.join(c.new, True)) for c in chunks if c.op != "equal"]


@pytest.mark.parametrize(
    ("old", "new"),
    [
        (f"<figure>{IMG}</figure>", '<figure>\n<img src="https://x.test/a.png" alt="A flag" />'),
        ('<p class="has-text-align-center" id="x">Words</p>', "Words"),
        ("-   one\n-   two\n", "- one\n* two\n"),
        (
            "[the order](https://x.test/o)",
            '<a href="https://x.test/o" target="_blank">the order</a>',
        ),
        ("A **bold** and *plain* word", "A bold and plain word"),
        ("Text <!-- wp:paragraph --> more", "Text more"),
        ("## Heading\n\n* * *\n", "Heading\n-------\n"),
        ('<span style="text-decoration: underline">Section</span> 1.', "Section 1."),
        ("a\\_b and 2030\\.", "a_b and 2030."),
    ],
)
def test_presentation_is_not_content(old: str, new: str) -> None:
    assert wdiff.same_words(old, new) and not changed(old, new)


@pytest.mark.parametrize(
    ("old", "new"),
    [
        (IMG, IMG.replace("a.png", "b.png")),  # an image source
        (IMG, IMG.replace("A flag", "Two flags")),  # its alt text
        ("[the order](https://x.test/o)", "[the order](https://x.test/p)"),  # a link target
        ("one <five> six", "one six"),  # not an HTML element: text
        ("2030", "2031"),
    ],
)
def test_what_a_reader_sees_is_content(old: str, new: str) -> None:
    assert not wdiff.same_words(old, new) and changed(old, new)


def test_a_one_word_edit_in_an_old_recipe_body_is_that_word() -> None:
    old = f'<figure class="wp-block-image">{IMG}</figure>\n\nThe President said the words.\n'
    new = (
        '<figure>\n<img src="https://x.test/a.png" alt="A flag" />\n</figure>\n\n'
        "The President said THE words.\n"
    )
    assert changed(old, new) == [("the", "THE")]
    assert list(wdiff.render_hunks(wdiff.word_diff(old, new), 2)) == [
        "…President said [-the-]{+THE+} words."
    ]


@pytest.mark.corpus
def test_the_corpus_drift_cases_are_presentation(corpus: tuple[tuple[str, str], ...]) -> None:
    """The 147 current-site files with data-fetchpriority in raw <img>, the 85 with "- item"."""
    noisy = tight = 0
    for _, text in corpus:
        if "https://www.whitehouse.gov/" not in text:
            continue
        body = loads(text).body
        if re.search(r'<img[^>]*\sdata-fetchpriority="high"', body):
            noisy += 1
            stripped = re.sub(r'\s(?:data-[\w-]+|class)="[^"]*"', "", body)
            assert wdiff.same_words(body, stripped) and not changed(body, stripped)
        if re.search(r"^- \S", body, re.M):
            tight += 1
            loose = re.sub(r"^(\s*)- ", r"\1-   ", body, flags=re.M)
            assert wdiff.same_words(body, loose)
    assert (noisy, tight) == (147, 85)
