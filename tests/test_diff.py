from __future__ import annotations

import datetime as dt

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
