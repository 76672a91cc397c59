from __future__ import annotations

import collections
import datetime as dt
import re

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from storage.document import (
    REFERENCE_ORDER,
    Statement,
    _dumped_fast,
    detect_key_order,
    dump_meta,
    dumps,
    loads,
    new_statement,
    order_meta,
    split,
)
from storage.errors import DocumentError
from tests.conftest import REFERENCE

NY = dt.timezone(dt.timedelta(hours=-4))


@pytest.mark.slow
@pytest.mark.corpus
def test_every_corpus_file_round_trips_byte_for_byte(corpus: tuple[tuple[str, str], ...]) -> None:
    orders: collections.Counter[tuple[str, ...]] = collections.Counter()
    failures = []
    for name, text in corpus:
        doc = loads(text)
        rebuilt = dumps(Statement(doc.meta, doc.body))  # from values, not the cached YAML text
        if rebuilt != text:
            failures.append(name)
        orders[tuple(doc.meta)] += 1
    assert len(corpus) == 14396
    assert failures == []
    # All four key orders of the public archive occur, and survive.
    assert len(orders) == 4
    assert sum(n for keys, n in orders.items() if "modified_time" not in keys) == 4482


@pytest.mark.slow
@pytest.mark.corpus
def test_python_frontmatter_reads_every_corpus_file_as_we_do(
    corpus: tuple[tuple[str, str], ...],
) -> None:
    """Interop: a user's ``frontmatter.load()`` sees the same metadata and words as the archive."""
    import frontmatter

    differing = []
    for name, text in corpus:
        post = frontmatter.loads(text)
        doc = loads(text)
        if post.metadata != dict(doc.meta) or post.content != doc.body.strip():
            differing.append(name)
    assert len(corpus) == 14396
    assert differing == []


def test_reference_document_round_trips_and_reads_as_expected() -> None:
    text = REFERENCE.read_text(encoding="utf-8")
    doc = loads(text)
    assert dumps(doc) == text
    assert tuple(doc.meta) == REFERENCE_ORDER
    assert doc.key_order == "reference"
    assert doc.date == "2021-05-07"
    assert doc.published_time == dt.datetime(2021, 5, 7, 12, 38, 3, tzinfo=NY)
    assert doc.title.startswith("Statement From Senior Advisor")
    assert "\xa0" in doc.title
    assert doc.body.startswith("Vice President Kamala Harris met virtually")


def test_the_front_matter_is_split_on_exact_boundary_lines() -> None:
    """What lies between the boundary lines is the front matter, blank lines included."""
    assert split("---\n\ntitle: a\n---\n \nbody") == ("\ntitle: a\n", "body")
    assert split("---\ntitle: a\n---\n \n---\nrule\n") == ("title: a\n", "---\nrule\n")
    with pytest.raises(DocumentError, match="closing"):
        split("---\ntitle: a\n--- \nbody")  # not a boundary line: no closing line


def test_missing_modified_time_stays_missing() -> None:
    text = REFERENCE.read_text(encoding="utf-8")
    doc = loads(text)
    meta = {k: v for k, v in doc.meta.items() if k != "modified_time"}
    rebuilt = dumps(Statement(meta, doc.body))
    assert "modified_time" not in rebuilt
    assert dumps(loads(rebuilt)) == rebuilt


def test_new_statement_follows_archive_conventions() -> None:
    doc = new_statement(
        title="A: title",
        source_url="https://example.gov/a/",
        tags="statements-releases",
        published_time=dt.datetime(2026, 1, 2, 9, 30, tzinfo=NY),
        modified_time=dt.datetime(2026, 1, 3, 9, 30, tzinfo=NY),
        body="Text.\n",
    )
    text = dumps(doc)
    assert tuple(doc.meta) == REFERENCE_ORDER
    assert "date: '2026-01-02'\n" in text
    assert "published_time: 2026-01-02 09:30:00-04:00\n" in text
    alphabetical = Statement(order_meta(doc.meta, "alphabetical"), doc.body)
    assert list(alphabetical.meta) == sorted(REFERENCE_ORDER)
    assert detect_key_order(alphabetical.meta) == "alphabetical"


def test_new_statement_refuses_naive_times() -> None:
    with pytest.raises(DocumentError, match="no time zone"):
        new_statement(
            title="t",
            source_url="https://example.gov/a/",
            tags="x",
            published_time=dt.datetime(2026, 1, 2, 9, 30),
            body="",
        )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("no front matter\n", "first line"),
        ("---\ntitle: x\n", "closing"),
        ("---\ntitle: [unclosed\n---\n \nbody", "not valid YAML"),
        ("---\n- a list\n---\n \nbody", "mapping"),
        ("---\nx: !!python/object:os.system {}\n---\n \n", "not valid YAML"),
    ],
)
def test_bad_files_are_refused_with_a_reason(text: str, message: str) -> None:
    with pytest.raises(DocumentError, match=message):
        loads(text)


hostile_text = st.one_of(
    st.text(max_size=300),
    st.sampled_from(
        ["---", "--- \n---", ": ", "#", "!!python/object", "\n---\n", "\xa0", "😀", "'\""]
    ),
    st.text(alphabet=st.characters(codec="utf-8"), min_size=1500, max_size=2000),
)
bodies = st.lists(
    st.one_of(st.text(), st.sampled_from(["---", "--- ", "title: x", "---\ntitle: y\n---", " "])),
    max_size=12,
).map("\n".join)


def _front_matter(text: str) -> dict[str, object]:
    match = re.match(r"^---\n(.*?\n)---\n", text, re.S)
    assert match is not None
    meta = yaml.safe_load(match.group(1))
    assert isinstance(meta, dict)
    return meta


@settings(max_examples=300, deadline=None)
@given(title=st.one_of(hostile_text, st.text(min_size=0, max_size=2000)), body=bodies)
def test_any_title_and_body_survive_a_round_trip(title: str, body: str) -> None:
    doc = new_statement(
        title=title,
        source_url="https://example.gov/x/",
        tags="t",
        published_time=dt.datetime(2026, 1, 2, tzinfo=dt.UTC),
        body=body,
    )
    text = dumps(doc)
    again = loads(text)
    assert again.title == title
    assert again.body == body
    assert dict(again.meta) == dict(doc.meta)
    assert dumps(again) == text
    assert _front_matter(text)["title"] == title


@pytest.mark.parametrize(
    "title",
    [
        "a\ud800b",
        "nul\x00 and next-line\x85 and\u2028",
        "\ufeffbom\ttab",
        "!!python/object:os.system",
    ],
)
def test_titles_libyaml_cannot_read_still_round_trip(title: str) -> None:
    doc = new_statement(
        title=title,
        source_url="https://example.gov/x/",
        tags="t",
        published_time=dt.datetime(2026, 1, 2, tzinfo=dt.UTC),
        body="b",
    )
    assert loads(dumps(doc)).title == title


@settings(max_examples=200, deadline=None)
@given(title=st.text(alphabet=st.characters(categories=["Cs", "Cc", "Zs", "Lo"]), max_size=50))
def test_titles_with_lone_surrogates_and_controls_round_trip(title: str) -> None:
    doc = new_statement(
        title=title,
        source_url="https://example.gov/x/",
        tags="t",
        published_time=dt.datetime(2026, 1, 2, tzinfo=dt.UTC),
        body="b",
    )
    assert loads(dumps(doc)).title == title


# The fast path of dump_meta (libyaml, where it writes what SafeDumper writes) must equal
# SafeDumper byte for byte; every file of the public archive goes through it in
# test_every_corpus_file_round_trips_byte_for_byte too.
words_and_escapes = st.lists(
    st.one_of(
        st.sampled_from(
            ["word", "\u2019", "\u2014", "\u201cq\u201d", ":", "#", "'", '"', "\\", "-", "a" * 90]
        ),
        st.text(max_size=12),
    ),
    max_size=40,
).map(" ".join)
scalars = st.one_of(
    hostile_text,
    words_and_escapes,
    st.text(alphabet="abc/:.-_%?=&", min_size=70, max_size=200),  # a long URL: nowhere to fold
    st.integers(),
    st.booleans(),
    st.none(),
    st.dates(),
    st.datetimes(timezones=st.sampled_from([dt.UTC, NY])),
)
keys = st.one_of(
    st.sampled_from(["title", "tags", "date", "source_url", "published_time", "x"]),
    st.text(max_size=12),
    st.from_regex(r"[a-z_]{60,140}", fullmatch=True),  # SafeDumper writes "? key" past 122
    st.integers(),  # a key built in code, not a name
)


@settings(max_examples=400, deadline=None)
@given(meta=st.dictionaries(keys, scalars, max_size=7))
def test_front_matter_is_written_as_safedumper_writes_it(meta: dict[object, object]) -> None:
    safe = yaml.dump(meta, Dumper=yaml.SafeDumper, sort_keys=False, allow_unicode=False)
    assert dump_meta(meta) == safe


@pytest.mark.parametrize("key", ["k" * 123, "k" * 128, 1, dt.date(2026, 1, 2)])
def test_keys_the_fast_path_would_write_otherwise_are_left_to_safedumper(key: object) -> None:
    meta = {"title": "t", key: "v"}
    safe = yaml.dump(meta, Dumper=yaml.SafeDumper, sort_keys=False, allow_unicode=False)
    assert dump_meta(meta) == safe  # ("? kkk...\n: v" for a long key)


def test_the_usual_front_matter_takes_the_fast_path() -> None:
    doc = loads(REFERENCE.read_text(encoding="utf-8"))
    long_title = dict(doc.meta, title="Statement on the " + "long title\u2019s words " * 8)
    for meta in (dict(doc.meta), long_title):
        fast = _dumped_fast(meta)
        assert fast is not None
        assert fast == yaml.dump(meta, Dumper=yaml.SafeDumper, sort_keys=False)
        assert "\n  " in fast or meta is not long_title  # the long title folds, as SafeDumper's
