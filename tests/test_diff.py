from __future__ import annotations

import datetime as dt

from hypothesis import given
from hypothesis import strategies as st

from storage.diff import PLAIN, chunks_as_json, classify, render_hunks, word_diff, words_hash
from storage.document import Statement, new_statement

T0 = dt.datetime(2024, 9, 21, 10, 0, tzinfo=dt.UTC)
PARAGRAPH = (
    "Next up, we'll go to Lucas Thompson. Q John, Secretary Blinken said today that the\n"
    "conditions were present for a ceasefire, and the talks go on.\n"
)


def doc(**changes: object) -> Statement:
    base = new_statement(
        title="Press Gaggle",
        source_url="https://www.whitehouse.gov/briefing-room/a/",
        tags="press-briefings",
        published_time=T0,
        modified_time=T0,
        body=PARAGRAPH,
    )
    return base.replace(**changes)  # type: ignore[arg-type]


def test_one_word_fix_in_a_reflowed_paragraph_is_one_word() -> None:
    new_body = PARAGRAPH.replace("Thompson", "Tomlinson").replace(" said", "\nsaid")
    chunks = word_diff(PARAGRAPH, new_body)
    changed = [
        (c.op, [t.text for t in c.old], [t.text for t in c.new]) for c in chunks if c.op != "equal"
    ]
    assert changed == [("replace", ["Thompson"], ["Tomlinson"])]
    assert list(render_hunks(chunks, context=3, style=PLAIN)) == [
        "…go to Lucas [-Thompson-]{+Tomlinson+}. Q John…"
    ]
    expected = {"op": "replace", "old": "Thompson", "new": "Tomlinson"}
    assert chunks_as_json(chunks, 2)[0] == {**expected, "before": "to Lucas", "after": ". Q"}


def test_kinds() -> None:
    old = doc()
    assert classify(None, old) == ("new",)
    assert classify(old, old) == ()
    assert classify(old, doc(body=PARAGRAPH.replace("Thompson", "Tomlinson"))) == ("updated",)
    assert classify(old, doc(title="Press Gaggle.")) == ("retitled",)
    assert classify(old, doc(modified_time=T0 + dt.timedelta(hours=1))) == ("metadata",)
    moved = doc(source_url="https://bidenwhitehouse.archives.gov/briefing-room/a/")
    assert classify(old, moved) == ("moved",)
    both = doc(body=PARAGRAPH + "More.\n", modified_time=T0 + dt.timedelta(hours=1))
    assert classify(old, both) == ("updated", "metadata")


def test_rewrapping_and_escaping_are_reformatting_not_content() -> None:
    old = doc(body="A sentence with\nthree lines of\ntext ### and more.\n")
    rewrapped = doc(body="A sentence with three\nlines of text \\### and more.\n")
    assert classify(old, rewrapped) == ("reformatted",)
    assert words_hash(old.body) == words_hash(rewrapped.body)
    lists = doc(body="-   one\n-   two\n"), doc(body="- one\n- two\n")
    assert classify(*lists) == ("reformatted",)


def test_front_matter_rewritten_with_same_values_is_reformatting() -> None:
    old = doc()
    same_instant = doc(published_time=T0.astimezone(dt.timezone(dt.timedelta(hours=-4))))
    assert classify(old, same_instant) == ("reformatted",)


def test_large_rewrites_stay_fast_and_complete() -> None:
    old = " ".join(f"w{i % 97}" for i in range(20000))
    new = old.replace("w5 ", "w5b ", 3)
    chunks = word_diff(old, new)
    assert sum(len(c.new) for c in chunks) == 20000
    assert [c.op for c in chunks].count("replace") == 3


# -- normalisation before edit detection (issue 14 item 5: every source) -----------------------


def test_a_dewidowed_title_is_reformatting_and_a_re_cased_one_is_metadata() -> None:
    old = doc(title="Joint Statement on the recent Taliban Decision to Deny an Education")
    dewidowed = doc(
        title="Joint Statement on the recent Taliban Decision to Deny an\u00a0Education"
    )
    assert classify(old, dewidowed) == ("reformatted",)
    assert classify(dewidowed, old) == ("reformatted",)
    re_cased = doc(title="Joint Statement on the Recent Taliban Decision to Deny an Education")
    assert classify(old, re_cased) == ("metadata",)
    re_worded = doc(title="Joint Statement on the Latest Taliban Decision to Deny an Education")
    assert classify(old, re_worded) == ("retitled",)
    with_body = doc(title=re_cased.title, body=PARAGRAPH.replace("John", "Jon"))
    assert classify(old, with_body) == ("updated", "metadata")


def test_a_link_moved_between_hosts_the_source_declares_the_same_is_reformatting() -> None:
    hosts = {"www.whitehouse.gov": "bidenwhitehouse.archives.gov"}
    link = (
        "See [the order](https://www.whitehouse.gov/briefing-room/a/) and"
        " ![x](https://www.whitehouse.gov/i.png).\n"
    )
    old = doc(body=link)
    archived = doc(body=link.replace("www.whitehouse.gov", "bidenwhitehouse.archives.gov"))
    assert classify(old, archived, hosts) == ("reformatted",)
    assert classify(old, archived) == ("updated",)  # undeclared: another place
    as_html = '<a href="https://bidenwhitehouse.archives.gov/briefing-room/a/">the order</a>'
    html_link = doc(body="See " + as_html + " and ![x](https://www.whitehouse.gov/i.png).\n")
    assert classify(old, html_link, hosts) == ("reformatted",)
    elsewhere = doc(body=link.replace("/briefing-room/a/", "/briefing-room/b/"))
    assert classify(old, elsewhere, hosts) == ("updated",)
    pay = doc(body="Pay at [Direct Pay](https://www.irs.gov/payments/direct-pay).\n")
    lookalike = doc(body="Pay at [Direct Pay](https://www.irs-payments.com/payments/direct-pay).\n")
    assert classify(pay, lookalike, hosts) == ("updated",)  # a host nobody declared the same


TITLE_WORDS = st.lists(
    st.text(st.characters(categories=("L", "N")), min_size=1, max_size=8), min_size=1, max_size=8
)
SPACES = st.sampled_from([" ", "  ", "\u00a0", " \u00a0", "\t"])


@given(TITLE_WORDS, st.data())
def test_titles_that_differ_only_in_spacing_or_case_never_say_retitled(
    words: list[str], data: st.DataObject
) -> None:
    gaps = [data.draw(SPACES) for _ in words[1:]]
    spaced = words[0] + "".join(g + w for g, w in zip(gaps, words[1:], strict=True))
    plain = " ".join(words)
    assert "retitled" not in classify(doc(title=plain), doc(title=spaced))
    assert classify(doc(title=plain), doc(title=spaced)) == ("reformatted",) or plain == spaced
    upper = doc(title=plain.upper())
    kinds = classify(doc(title=plain), upper)
    assert kinds in {("metadata",), ()} and ("retitled" not in kinds)
    assert (kinds == ()) == (plain == plain.upper())
