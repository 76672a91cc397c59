"""The conformance suite of an index backend: what any :class:`storage.backend.IndexBackend`
must do, tested through the protocol alone (no SQL, no driver), once per backend.

Each backend is one entry of :data:`BACKENDS`: a function that, for a test, gives an opener of
a fresh, empty store (opened again, read-only if asked, for the reopen and read-only tests).
SQLite's store is a file under the test's temporary folder; PostgreSQL's a new database of the
test process's throw-away cluster (``tests/pgcluster.py``: skipped without Debian's binaries,
unless ``STATEMENT_SYNC_REQUIRE_POSTGRES=1``).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from storage.backend import IndexBackend
from storage.errors import ArchiveError, QueryError
from storage.index import ApiPost, EventFilter, Index, RevisionRow, SearchQuery
from storage.index import StatementFilter as F
from storage.schema import MIGRATIONS

Opener = Callable[[bool], IndexBackend]


def _sqlite(request: pytest.FixtureRequest, place: Path) -> Opener:
    path = place / "index.sqlite"
    path.touch()  # migrations run from an empty file
    return lambda read_only: Index(path, read_only=read_only)


def _postgresql(request: pytest.FixtureRequest, place: Path) -> Opener:
    locator = request.getfixturevalue("postgres_index")  # a new database (or a skip)
    from storage.postgres import PostgresIndex

    return lambda read_only: PostgresIndex(locator, read_only=read_only)


#: Every backend the suite runs on: name -> the opener of a fresh store for one test.
BACKENDS: dict[str, Callable[[pytest.FixtureRequest, Path], Opener]] = {
    "sqlite": _sqlite,
    "postgresql": _postgresql,
}


@dataclass
class Store:
    """One backend's store under test: :meth:`open` gives a new connection to it."""

    opener: Opener

    def open(self, *, read_only: bool = False) -> IndexBackend:
        return self.opener(read_only)


@pytest.fixture(params=sorted(BACKENDS))
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Store:
    return Store(BACKENDS[request.param](request, tmp_path))


@pytest.fixture
def index(store: Store) -> Iterator[IndexBackend]:
    opened = store.open()
    yield opened
    opened.close()


# -- helpers ----------------------------------------------------------------------------------

T0 = "2026-01-01T00:00:00+00:00"


def at(hour: int) -> str:
    return f"2026-01-01T{hour:02d}:00:00+00:00"


def add(
    index: IndexBackend,
    slug: str,
    *,
    source: str | None = "wh",
    host: str = "example.org",
    published: str | None = "2026-01-01",
    words: str = "w",
) -> int:
    """A statement with one revision (head 1), as the archive records it."""
    url = f"https://{host}/{slug}/"
    with index.transaction():
        sid = index.insert_statement(
            url=url,
            path=f"{slug}.md",
            slug=slug,
            title=slug.title(),
            published_time=published,
            at=T0,
            source=source,
        )
        revise(index, sid, 1, words=words, published=published)
    return sid


def revise(
    index: IndexBackend,
    sid: int,
    number: int,
    *,
    words: str = "w",
    published: str | None = "2026-01-01",
    origin: str | None = None,
    declared: str | None = None,
) -> int:
    row = index.by_id(sid)
    rid = index.add_revision(
        RevisionRow(
            id=0,
            statement_id=sid,
            number=number,
            seen_at=at(number),
            origin=origin or row.url,
            url=row.url,
            path=row.path,
            title=row.title,
            published_time=published,
            modified_time=at(number),
            content_hash=f"h-{sid}-{number}",
            words_hash=words,
            front_matter="title: x\n",
            body=f"body {number}\n",
        ),
        declared=declared,
    )
    index.update_statement(sid, head=number, last_seen=at(number))
    return rid


def event(
    index: IndexBackend, sid: int, hour: int, *kinds: str, to_rev: int | None = 1, **kw: Any
) -> int:
    with index.transaction():
        return index.add_event(sid, at(hour), kinds, None, to_rev, **kw)


# -- the protocol itself ----------------------------------------------------------------------


def test_every_backend_conforms_to_the_protocol(index: IndexBackend) -> None:
    assert isinstance(index, IndexBackend)
    members = [m for m in vars(IndexBackend) if not m.startswith("_")]
    assert len(members) >= 40
    for name in members:
        assert callable(getattr(index, name)), name
        ours = inspect.signature(getattr(IndexBackend, name))
        theirs = inspect.signature(getattr(type(index), name))
        assert list(theirs.parameters) == list(ours.parameters), name


def test_the_suite_calls_every_method_of_the_protocol() -> None:
    source = Path(__file__).read_text(encoding="utf-8")
    members = [m for m in vars(IndexBackend) if not m.startswith("_")]
    assert [m for m in members if f".{m}(" not in source] == []


def test_a_fresh_store_is_migrated_and_empty(index: IndexBackend) -> None:
    assert index.schema_version() == len(MIGRATIONS)
    assert index.count_statements() == 0
    assert index.last_event_id() == 0
    assert index.events() == [] and index.count_events(EventFilter()) == 0
    assert index.pending() == [] and index.pending_reformat_ids() == []
    assert index.heads() == [] and index.head_hashes() == {} and index.revision_paths() == set()
    assert list(index.least_recently_checked()) == []


def test_reopening_keeps_data_and_runs_no_migration_twice(store: Store) -> None:
    first = store.open()
    sid = add(first, "kept")
    first.close()
    again = store.open()
    try:
        assert again.schema_version() == len(MIGRATIONS)
        assert again.by_id(sid).slug == "kept" and again.count_statements() == 1
        assert [row.id for row in again.statements(status="active")] == [sid]
        assert again.statements(status="removed") == [] and again.statements(limit=0) == []
    finally:
        again.close()


def test_a_read_only_store_reads_and_refuses_writes(store: Store) -> None:
    writer = store.open()
    add(writer, "ro")
    writer.close()
    reader = store.open(read_only=True)
    try:
        assert reader.by_path("ro.md") is not None
        with pytest.raises(ArchiveError, match="read-only"), reader.transaction():
            reader.set_setting("k", "v")
    finally:
        reader.close()


# -- transactions -----------------------------------------------------------------------------


def test_a_transaction_commits_as_a_whole(store: Store) -> None:
    index = store.open()
    with index.transaction():
        index.set_setting("a", "1")
        index.set_setting("b", "2")
    index.close()
    again = store.open()
    assert (again.setting("a"), again.setting("b")) == ("1", "2")
    again.close()


def test_an_error_rolls_the_whole_transaction_back(index: IndexBackend) -> None:
    with pytest.raises(RuntimeError), index.transaction():
        index.set_setting("a", "1")
        add(index, "gone")  # its own transaction, nested: a savepoint
        raise RuntimeError("boom")
    assert index.setting("a") is None and index.count_statements() == 0


def test_a_nested_transaction_is_a_savepoint(index: IndexBackend) -> None:
    with index.transaction():
        index.set_setting("outer", "1")
        with pytest.raises(RuntimeError), index.transaction():
            index.set_setting("inner", "1")
            raise RuntimeError("undo the inner part only")
        with index.transaction():
            index.set_setting("second", "1")
    assert index.setting("outer") == "1" and index.setting("second") == "1"
    assert index.setting("inner") is None


def test_a_failed_write_can_be_followed_by_another_transaction(index: IndexBackend) -> None:
    with pytest.raises(ValueError), index.transaction():
        index.update_statement(1, nonsense=1)
    with index.transaction():
        index.set_setting("after", "ok")
    assert index.setting("after") == "ok"


def test_a_statement_lock_is_held_by_its_transaction(index: IndexBackend) -> None:
    with index.transaction():
        index.lock_statement("url:https://example.org/a/")
        index.lock_statement("url:https://example.org/a/")  # again, by its holder: no wait
        sid = add(index, "a")  # a nested transaction under the lock
    with index.transaction():
        index.lock_statement("url:https://example.org/a/")  # released at the commit
    assert index.by_id(sid).slug == "a"


# -- settings ---------------------------------------------------------------------------------


def test_settings(index: IndexBackend) -> None:
    assert index.setting("missing") is None and index.setting("missing", "d") == "d"
    with index.transaction():
        index.set_setting("sitemap:a:https://x/1.xml", "2026-01-01")
        index.set_setting("sitemap:a:https://x/2.xml", "2026-01-02")
        index.set_setting("sitemap:ab:https://x/3.xml", "other source")
        index.set_setting("layout", "{slug}.md")
        index.set_setting("layout", "{date}-{slug}.md")  # replaced
    assert index.setting("layout") == "{date}-{slug}.md"
    assert index.settings_with_prefix("sitemap:a:") == {
        "https://x/1.xml": "2026-01-01",
        "https://x/2.xml": "2026-01-02",
    }
    assert index.settings_with_prefix("nothing:") == {}


# -- statements and URLs ----------------------------------------------------------------------


def test_statements_by_id_url_path_and_slug(index: IndexBackend) -> None:
    a = add(index, "a_b")
    b = add(index, "axb")
    c = add(index, "a%c")
    assert a != b and a > 0 and index.count_statements() == 3
    row = index.by_id(a)
    assert (row.url, row.path, row.slug, row.title) == (
        "https://example.org/a_b/",
        "a_b.md",
        "a_b",
        "A_B",
    )
    assert (row.source, row.status, row.head, row.first_seen) == ("wh", "active", 1, T0)
    assert index.by_url("https://example.org/axb/") == index.by_id(b)
    assert index.by_path("a%c.md") == index.by_id(c)
    assert index.by_url("https://example.org/none/") is None and index.by_path("none.md") is None
    assert [r.slug for r in index.by_slug_prefix("a")] == ["a%c", "a_b", "axb"]
    assert [r.slug for r in index.by_slug_prefix("a_")] == ["a_b"]  # taken literally
    assert [r.slug for r in index.by_slug_prefix("a%")] == ["a%c"]
    assert [r.slug for r in index.by_slug_prefix("a", limit=1)] == ["a%c"]
    with pytest.raises(ArchiveError):
        index.by_id(999)


def test_update_statement(index: IndexBackend) -> None:
    sid = add(index, "s")
    with index.transaction():
        index.update_statement(sid, status="removed", title="New", last_seen=at(5))
    row = index.by_id(sid)
    assert (row.status, row.title, row.last_seen) == ("removed", "New", at(5))
    with pytest.raises(ValueError):
        index.update_statement(sid, id=7)
    with pytest.raises(ValueError):
        index.update_statement(sid)


def test_urls_of_a_statement(index: IndexBackend) -> None:
    a = add(index, "a")
    b = add(index, "b")
    with index.transaction():
        index.add_url("https://example.org/a-moved/", a, at(2))
        index.add_url("https://example.org/shared/", a, at(3))
    assert index.urls_of(a) == [
        "https://example.org/a/",
        "https://example.org/a-moved/",
        "https://example.org/shared/",
    ]
    assert index.by_url("https://example.org/a-moved/") == index.by_id(a)
    with index.transaction():
        index.add_url("https://example.org/shared/", b, at(4))  # the URL moves to b
    assert index.by_url("https://example.org/shared/") == index.by_id(b)
    assert "https://example.org/shared/" not in index.urls_of(a)
    assert index.urls_of(999) == []


def test_a_statement_by_its_sources_stable_id(index: IndexBackend) -> None:
    with index.transaction():
        sid = index.insert_statement(
            url="https://example.org/a/",
            path="a.md",
            slug="a",
            title="A",
            published_time=None,
            at=T0,
            source="uk",
            stable_id="5f5c-content-id",
        )
        revise(index, sid, 1)
    plain = add(index, "plain", source="uk")  # a statement its source names by no id
    assert index.by_id(sid).stable_id == "5f5c-content-id"
    assert index.by_id(plain).stable_id is None
    assert index.by_stable_id("uk", "5f5c-content-id") == index.by_id(sid)
    assert index.by_stable_id("other", "5f5c-content-id") is None  # ids are per source
    assert index.by_stable_id("uk", "unknown") is None
    with index.transaction():  # it moves: its id stays, every URL it had is kept
        index.add_url("https://example.org/a-moved/", sid, at(2))
        index.update_statement(sid, url="https://example.org/a-moved/")
        index.update_statement(plain, stable_id="later-id")  # an id learnt later
    moved = index.by_stable_id("uk", "5f5c-content-id")
    assert moved is not None and moved.url == "https://example.org/a-moved/"
    assert index.urls_of(sid) == ["https://example.org/a/", "https://example.org/a-moved/"]
    assert index.by_stable_id("uk", "later-id") == index.by_id(plain)
    # One statement per source and id: the backend's own integrity error.
    with pytest.raises(Exception), index.transaction():  # noqa: B017
        index.update_statement(plain, stable_id="5f5c-content-id")
    with index.transaction():  # another source may use the same id
        index.update_statement(add(index, "elsewhere", source="fr"), stable_id="later-id")
    assert index.by_stable_id("uk", "later-id") == index.by_id(plain)


def test_count_of_source_by_name_or_host(index: IndexBackend) -> None:
    add(index, "one", source="wh")
    add(index, "two", source=None, host="www.whitehouse.gov")  # imported: no source name
    gone = add(index, "three", source="wh")
    add(index, "other", source="state", host="www.state.gov")
    with index.transaction():
        index.update_statement(gone, status="removed")
    hosts = ["www.whitehouse.gov"]
    assert index.count_of_source("wh") == 2
    assert index.count_of_source("wh", hosts) == 3
    assert index.count_of_source("wh", hosts, active_only=True) == 2
    assert index.count_of_source("wh", hosts, at_most=1) == 1
    assert index.count_of_source("nobody", ["nowhere.example"]) == 0


def test_successor_of_a_replaced_statement(index: IndexBackend) -> None:
    old = add(index, "old")
    new = add(index, "new")
    event(index, new, 2, "replaced", detail={"replaces": {"id": old, "title": "Old"}})
    assert index.successor(old) == index.by_id(new)
    assert index.successor(new) is None


def test_a_website_statement_linked_to_its_official_text(index: IndexBackend) -> None:
    site, official, other = add(index, "order"), add(index, "fr-doc"), add(index, "other")
    assert index.links_of(site) == []
    with index.transaction():
        index.add_link(site, official, "title_and_signing_date", "2026-09-17", at(1))
        index.add_link(site, official, "executive_order_number", "14430", at(2))  # replaces
        index.add_link(other, official, "title_and_signing_date", "2026-09-18", at(3))
    [link] = index.links_of(site)
    assert (link.website_id, link.official_id, link.basis, link.key, link.linked_at) == (
        site,
        official,
        "executive_order_number",
        "14430",
        at(2),
    )
    assert [(r.website_id, r.linked_at) for r in index.links_of(official)] == [
        (site, at(2)),
        (other, at(3)),
    ]


def test_corrections_are_links_on_either_side_beside_official_ones(index: IndexBackend) -> None:
    """storage.links.link_corrections: a statement corrected (the first side), its correction (the
    second), itself corrected again; each pair once, and apart from an official-text link."""
    wrong, fixed, again = add(index, "wrong"), add(index, "fixed"), add(index, "again")
    official = add(index, "official")
    with index.transaction():
        index.add_link(wrong, fixed, "corrected_statement", "2021-03-29", at(1))
        index.add_link(fixed, again, "corrected_statement", "2021-04-02", at(2))
        index.add_link(fixed, official, "executive_order_number", "14430", at(3))
    assert [(r.website_id, r.official_id, r.basis, r.key) for r in index.links_of(fixed)] == [
        (wrong, fixed, "corrected_statement", "2021-03-29"),
        (fixed, again, "corrected_statement", "2021-04-02"),
        (fixed, official, "executive_order_number", "14430"),
    ]
    assert [r.website_id for r in index.links_of(again)] == [fixed]
    assert [r.official_id for r in index.links_of(wrong)] == [fixed]


# -- revisions --------------------------------------------------------------------------------


def test_revisions(index: IndexBackend) -> None:
    sid = add(index, "r", words="w1")
    with index.transaction():
        revise(index, sid, 2, words="w2", origin="file:r.md")
    first, second = index.revisions(sid)
    assert (first.number, second.number) == (1, 2) and second.id > first.id
    assert index.revision(sid, 2) == second and index.revision(sid, 3) is None
    assert second.origin == "file:r.md" and second.text.startswith("---\ntitle: x\n---\n")
    assert index.last_from("file:r.md") == f"h-{sid}-2" and index.last_from("nowhere") is None
    assert index.head_hashes() == {"r.md": f"h-{sid}-2"}
    assert index.heads() == [(sid, "r.md", f"h-{sid}-2")]
    with index.transaction():
        index.update_statement(sid, path="moved/r.md")
        revise(index, sid, 3)
    assert index.revision_paths() == {"r.md", "moved/r.md"}


def test_what_the_publisher_declared_is_kept_with_its_revision(index: IndexBackend) -> None:
    sid = add(index, "d")
    text = '{"notes": [{"at": "2026-01-01T02:00:00+00:00", "note": "Fixed a typo \u2019"}]}'
    with index.transaction():
        revise(index, sid, 2, declared=text)
    assert index.declared(sid, 2) == text  # the JSON text, exactly
    assert index.declared(sid, 1) is None  # nothing declared with it
    assert index.declared(sid, 3) is None  # no such revision


def test_same_words(index: IndexBackend) -> None:
    a = add(index, "a", words="same", published="2026-01-01")
    add(index, "b", words="same", published="2026-01-02")
    add(index, "c", words="same", published=None)
    with index.transaction():
        index.update_statement(a, status="removed")
    assert index.same_words("same", "2026-01-01") == [("https://example.org/a/", "removed")]
    assert index.same_words("same", None) == [("https://example.org/c/", "active")]
    assert index.same_words("other", "2026-01-01") == []


# -- events -----------------------------------------------------------------------------------


def test_events_newest_first_with_their_statement(index: IndexBackend) -> None:
    sid = add(index, "e")
    first = event(index, sid, 1, "new", detail={"why": "first"}, text="the text", size=3)
    second = event(index, sid, 2, "updated", "retitled", to_rev=2)
    assert second > first and index.last_event_id() == second
    newest, oldest = index.events()
    assert (newest.id, newest.kinds, newest.to_rev) == (second, ("updated", "retitled"), 2)
    assert (oldest.detail, oldest.diff, oldest.size) == ({"why": "first"}, "the text", 3)
    assert (oldest.url, oldest.path, oldest.title, oldest.source) == (
        "https://example.org/e/",
        "e.md",
        "E",
        "wh",
    )
    assert newest.detail == {} and newest.diff is None and newest.reverted_at is None
    assert index.event_of_revision(sid, 2) == newest and index.event_of_revision(sid, 9) is None
    assert [e.id for e in index.events(limit=1)] == [second]


def test_events_carry_the_run_that_recorded_them(index: IndexBackend) -> None:
    sid = add(index, "r")
    mine = event(index, sid, 1, "new", run="run-a")
    event(index, sid, 2, "updated", to_rev=2, run="run-b")
    outside = event(index, sid, 3, "updated", to_rev=3)
    assert [e.id for e in index.events(EventFilter(run="run-a"))] == [mine]
    assert index.count_events(EventFilter(run="run-b")) == 1
    assert {e.id: e.run for e in index.events()}[mine] == "run-a"
    assert {e.id: e.run for e in index.events()}[outside] is None


def test_set_event_text(index: IndexBackend) -> None:
    sid = add(index, "t")
    eid = event(index, sid, 1, "new")
    with index.transaction():
        index.set_event_text(eid, "filled later", 12)
    (row,) = index.events()
    assert (row.diff, row.size) == ("filled later", 12)


def test_event_html(index: IndexBackend) -> None:
    sid = add(index, "h")
    first, second = event(index, sid, 1, "new"), event(index, sid, 2, "updated", to_rev=2)
    assert index.event_html([first, second]) == {}
    with index.transaction():
        index.set_event_html(first, "<p>a</p>")
        index.set_event_html(first, "<p>a &amp; b</p>")  # stored again: replaced
    assert index.event_html([first, second, 999]) == {first: "<p>a &amp; b</p>"}
    assert index.event_html([]) == {}


def test_event_filters(index: IndexBackend) -> None:
    a = add(index, "a", source="wh")
    b = add(index, "b", source="state", host="www.state.gov")
    e1 = event(index, a, 1, "new")
    e2 = event(index, a, 2, "updated", to_rev=2, size=1)
    e3 = event(index, b, 3, "updated", "retitled", size=50)
    e4 = event(index, b, 4, "reformatted", to_rev=2)
    e5 = event(index, a, 5, "removed", to_rev=None)

    def ids(**f: Any) -> list[int]:
        found = [e.id for e in index.events(EventFilter(**f))]
        assert index.count_events(EventFilter(**f)) == len(found)
        assert [e.id for e in index.events(**f)] == found  # keywords work as a filter too
        return found

    assert ids() == [e5, e4, e3, e2, e1]
    assert ids(since=at(2), until=at(4)) == [e3, e2]
    assert ids(kinds=["retitled"]) == [e3]
    assert ids(kinds=["removed", "new"]) == [e5, e1]
    assert ids(kinds=["update"]) == []  # whole kinds, not parts of one
    assert ids(sources=["state"]) == [e4, e3]
    assert ids(statement_id=a) == [e5, e2, e1]
    assert ids(after_id=e3) == [e5, e4]
    assert ids(news=True) == [e5, e3, e2, e1]
    assert ids(min_size=10) == [e5, e4, e3, e1]  # small edits left out, other kinds kept
    assert ids(statement_id=a, kinds=["updated"], until=at(3)) == [e2]


def test_reverts_flapping_and_follow_reverts(index: IndexBackend) -> None:
    sid = add(index, "f")
    edit = event(index, sid, 2, "retitled", to_rev=2)
    undo = event(
        index,
        sid,
        3,
        "reverted",
        "flapping",
        to_rev=3,
        detail={"reverts": 2, "reverts_kinds": "retitled", "flips": 1},
    )
    again = event(index, sid, 4, "reverted", "flapping", to_rev=4, detail={"flips": 2})
    by_id = {e.id: e for e in index.events()}
    assert by_id[edit].reverted_at == at(3) and by_id[again].reverted_at is None
    assert (by_id[undo].flips, by_id[again].flips, by_id[edit].flips) == (1, 2, 0)
    assert [e.id for e in index.events(EventFilter(flaps=False))] == [again, edit]
    assert [e.id for e in index.events(EventFilter(kinds=["retitled"]))] == [edit]
    assert [e.id for e in index.events(EventFilter(kinds=["retitled"], follow_reverts=True))] == [
        undo,
        edit,
    ]


# -- the crawler's fetch state ----------------------------------------------------------------


def test_fetch_state(index: IndexBackend) -> None:
    sid = add(index, "f")
    url = "https://example.org/f/"
    assert index.fetch_state("https://example.org/unknown/") is None
    state = index.fetch_state(url)
    assert state is not None
    assert (state.statement_id, state.url, state.status, state.head) == (sid, url, "active", 1)
    assert (state.modified_time, state.published_time, state.etag) == (at(1), "2026-01-01", None)
    with index.transaction():
        index.set_fetch_state(sid, etag='"e1"', last_status=200, last_checked=at(6))
        index.set_fetch_state(sid, sitemap="https://x/s.xml", etag='"e2"')
    state = index.fetch_state(url)
    assert state is not None
    assert (state.etag, state.last_status, state.last_checked, state.sitemap) == (
        '"e2"',
        200,
        at(6),
        "https://x/s.xml",
    )
    with index.transaction():
        index.add_url("https://example.org/f-old/", sid, at(2))
    assert index.fetch_state("https://example.org/f-old/") == state  # by any of its URLs
    with pytest.raises(ValueError):
        index.set_fetch_state(sid, status="removed")


def test_api_posts_as_last_checked(index: IndexBackend) -> None:
    a, b = add(index, "a"), add(index, "b")
    first = ApiPost("101", a, "fp-a", "A", "2026-01-01T00:00:00", at(1))
    with index.transaction():
        index.set_api_posts("wh", [first, ApiPost("102", b, "fp-b", "B", None, at(1))])
        index.set_api_posts("other", [ApiPost("101", b, "fp-x", "X", None, at(1))])
    assert index.api_posts("wh") == {
        "101": first,
        "102": ApiPost("102", b, "fp-b", "B", None, at(1)),
    }
    edited = ApiPost("101", a, "fp-a2", "A, again", "2026-01-02T00:00:00", at(2))
    with index.transaction():
        index.set_api_posts("wh", [edited])  # replaced by its id
        index.drop_api_posts("wh", ["102", "999"])
    assert index.api_posts("wh") == {"101": edited}
    assert index.api_posts("other")["101"].fingerprint == "fp-x"  # per source
    assert index.api_posts("nobody") == {}


def test_listed_in(index: IndexBackend) -> None:
    a = add(index, "a")
    b = add(index, "b")
    c = add(index, "c")
    with index.transaction():
        index.set_fetch_state(a, sitemap="s1")
        index.set_fetch_state(b, listing="l1", sitemap="s2")
        index.set_fetch_state(c, sitemap="s1")
        index.update_statement(c, status="removed")
    found = index.listed_in(["s1", "s2"], ["l1"])
    assert sorted(found) == [
        ("https://example.org/a/", "2026-01-01", "s1", None),
        ("https://example.org/b/", "2026-01-01", "s2", "l1"),
    ]  # each once, removed ones left out
    many = [f"s{i}" for i in range(2, 1200)]  # more places than one query may take
    assert index.listed_in(many, []) == [("https://example.org/b/", "2026-01-01", "s2", "l1")]
    assert index.listed_in([], []) == []


def test_least_recently_checked(index: IndexBackend) -> None:
    old = add(index, "old")
    add(index, "never")
    recent = add(index, "recent")
    replaced = add(index, "replaced")
    with index.transaction():
        index.set_fetch_state(old, last_checked=at(1))
        index.set_fetch_state(recent, last_checked=at(9))
        index.update_statement(replaced, status="replaced")
    order = list(index.least_recently_checked())
    assert order == [
        ("https://example.org/never/", None),
        ("https://example.org/old/", at(1)),
        ("https://example.org/recent/", at(9)),
    ]


# -- runs, the schedule, pending work ---------------------------------------------------------


def test_runs(index: IndexBackend) -> None:
    assert index.last_run("wh") is None
    with index.transaction():
        index.add_run("wh", at(1), at(2), True, '{"new": 1}')
        index.add_run("wh", at(3), at(4), False, '{"error": "x"}')
        index.add_run("state", at(5), at(6), True, "{}")
    assert index.last_run("wh") == (at(3), at(4), False, '{"error": "x"}')
    assert index.last_run("state") == (at(5), at(6), True, "{}")
    assert [(r[0], r[1], r[3]) for r in index.runs()] == [
        ("state", at(5), True),
        ("wh", at(3), False),
        ("wh", at(1), True),
    ]
    assert index.runs(source="wh", limit=1) == [("wh", at(3), at(4), False, '{"error": "x"}')]
    assert index.runs(source="none") == []


def test_schedule_state(index: IndexBackend) -> None:
    assert index.schedule_state("wh") == (None, None)
    with index.transaction():
        index.set_schedule_state("wh", None, at(1))
        index.set_schedule_state("wh", at(1), at(2))
    assert index.schedule_state("wh") == (at(1), at(2))


def test_pending_files(index: IndexBackend) -> None:
    with index.transaction():
        index.add_pending([("tmp/1.part", "a.md"), ("tmp/2.part", "b.md")])
        index.add_pending([("tmp/1.part", "c.md")])  # the same temporary file: replaced
    assert sorted(index.pending()) == [("tmp/1.part", "c.md"), ("tmp/2.part", "b.md")]
    index.clear_pending()  # a transaction of its own
    assert index.pending() == []


def test_pending_reformats(index: IndexBackend) -> None:
    a = add(index, "a")
    b = add(index, "b")
    assert index.pending_reformat(a) is None
    with index.transaction():
        index.set_pending_reformat(a, 1, at(2), "https://example.org/a/", "text 1")
        index.set_pending_reformat(a, 1, at(3), "https://example.org/a/", "text 2")  # latest
        index.set_pending_reformat(b, 1, at(3), "file:b.md", "text b")
    assert index.pending_reformat(a) == (1, "https://example.org/a/", "text 2")
    assert sorted(index.pending_reformat_ids()) == [a, b]
    with index.transaction():
        index.clear_pending_reformat(a)
        index.clear_pending_reformat(999)  # none: nothing to do
    assert index.pending_reformat(a) is None and index.pending_reformat_ids() == [b]


def test_the_outbox_holds_each_event_for_each_named_announcer(index: IndexBackend) -> None:
    a = add(index, "a")
    before = event(index, a, 1, "new")  # no announcer named yet: nothing pending
    with index.transaction():
        index.set_announcers(["atom", "webhook x"])
    assert index.announcers() == {"atom": before, "webhook x": before}
    assert index.outbox("atom") == []  # enabling one floods it with no earlier event
    first, second = event(index, a, 2, "updated", to_rev=2), event(index, a, 3, "retitled")
    assert [e.id for e in index.outbox("atom")] == [first, second]  # oldest first
    assert [e.url for e in index.outbox("webhook x", limit=1)] == ["https://example.org/a/"]
    with index.transaction():
        index.delivered("atom", [first])
        index.undelivered("webhook x", [first, second], "HTTP 503")
        index.undelivered("webhook x", [second], "timed out")
    assert [e.id for e in index.outbox("atom")] == [second]
    assert index.outbox_state() == {"atom": (1, 0, None), "webhook x": (2, 2, "timed out")}
    with index.transaction():
        index.set_announcers(["atom", "git"])  # the webhook is dropped with what it had pending
    assert index.outbox("webhook x") == [] and set(index.announcers()) == {"atom", "git"}
    assert index.announcers()["atom"] == before and index.announcers()["git"] == second
    assert index.outbox_state()["git"] == (0, 0, None)


def test_an_event_undone_takes_its_pending_announcements_with_it(index: IndexBackend) -> None:
    a = add(index, "a")
    with index.transaction():
        index.set_announcers(["atom"])
    with pytest.raises(RuntimeError), index.transaction():
        index.add_event(a, at(2), ("updated",), 1, 2)
        raise RuntimeError("killed before the commit")
    assert index.outbox("atom") == [] and index.last_event_id() == 0


# -- full-text search and lists ---------------------------------------------------------------


def write(
    index: IndexBackend,
    slug: str,
    body: str,
    *,
    title: str | None = None,
    published: str | None = "2026-01-01T12:00:00+00:00",
    tags: str = "statements",
    source: str | None = "wh",
) -> int:
    """A new revision of a statement (made if new) with this body, title and tags."""
    url = f"https://example.org/{slug}/"
    with index.transaction():
        row = index.by_url(url)
        sid = row.id if row is not None else index.insert_statement(
            url=url, path=f"{slug}.md", slug=slug, title=title or slug, published_time=published,
            at=T0, source=source,
        )  # fmt: skip
        number = index.by_id(sid).head + 1
        index.add_revision(
            RevisionRow(
                0, sid, number, at(number), url, url, f"{slug}.md", title or slug, published,
                None, f"h-{slug}-{number}", f"w-{slug}-{number}",
                f"tags: {tags}\ntitle: {title or slug}\n", body,
            )
        )  # fmt: skip
        index.update_statement(sid, head=number, title=title or slug, published_time=published)
    return sid


def test_search_ranks_latest_revisions_with_snippets(index: IndexBackend) -> None:
    report = write(index, "report", "Inflation rose, and inflation fell.", title="Inflation")
    aside = write(index, "aside", "A long text that mentions inflation once among many words.")
    gone = write(index, "gone", "Inflation was the word here.")
    write(index, "gone", "Now it speaks of prices.")  # its latest revision no longer says it
    write(index, "other", "Nothing of the kind.")
    query = SearchQuery("inflation")
    hits = index.search(query)
    assert [h.statement.id for h in hits] == [report, aside]  # a title match ranks first
    assert hits[0].number == 1 and hits[0].latest and hits[0].numbers == (1,)
    assert "«Inflation»" in hits[0].snippet and "«inflation»" in hits[0].snippet
    assert hits[0].score <= hits[1].score
    assert index.count_search(query) == 2
    assert [h.statement.id for h in index.search(query, limit=1)] == [report]
    ever = index.search(SearchQuery("inflation", every_revision=True))
    assert {h.statement.id for h in ever} == {report, aside, gone}
    said = next(h for h in ever if h.statement.id == gone)
    assert said.numbers == (1,) and not said.latest and said.number == 1
    assert "«Inflation»" in said.snippet
    assert index.count_search(SearchQuery("inflation", every_revision=True)) == 3
    assert [h.statement.id for h in index.search(SearchQuery("prices"))] == [gone]


def test_search_words_phrases_prefixes_and_raw_syntax(index: IndexBackend) -> None:
    a = write(index, "a", "The climate is warm; a change of policy.")
    b = write(index, "b", "Climate change is the phrase here, and not another.")
    assert {h.statement.id for h in index.search(SearchQuery("climate change"))} == {a, b}
    assert [h.statement.id for h in index.search(SearchQuery('"climate change"'))] == [b]
    assert {h.statement.id for h in index.search(SearchQuery("clim*"))} == {a, b}
    assert [h.statement.id for h in index.search(SearchQuery("phrase", marks=("<", ">")))] == [b]
    assert "<phrase>" in index.search(SearchQuery("phrase", marks=("<", ">")))[0].snippet
    # plain words are never syntax: stray quotes, operators, punctuation
    for words in ['"climate', "climate AND", "NOT climate", "climate (", "- climate :"]:
        assert {h.statement.id for h in index.search(SearchQuery(words))} >= {b}, words
    assert index.search(SearchQuery("  - ")) == [] and index.count_search(SearchQuery('"')) == 0
    assert [h.statement.id for h in index.search(SearchQuery("phrase OR changed", raw=True))]
    for bad in ['"climate', "climate AND", "AND", "(climate"]:
        with pytest.raises(QueryError):
            index.search(SearchQuery(bad, raw=True))
        with pytest.raises(QueryError):
            index.count_search(SearchQuery(bad, raw=True))


def test_search_filters_by_source_and_publication_time(index: IndexBackend) -> None:
    early = write(index, "early", "tariffs", published="2025-06-01T12:00:00-04:00")
    late = write(index, "late", "tariffs", published="2025-06-02T02:00:00+00:00", source="x")
    write(index, "undated", "tariffs", published=None)

    def found(**kw: Any) -> set[int]:
        return {h.statement.id for h in index.search(SearchQuery("tariffs", where=F(**kw)))}

    assert found(sources=["x"]) == {late}
    assert found(since="2025-06-01T16:00:00+00:00") == {early, late}  # 12:00-04:00 is 16:00 UTC
    assert found(since="2025-06-01T16:00:01+00:00") == {late}
    assert found(until="2025-06-02T00:00:00+00:00") == {early}
    assert len(found()) == 3


def test_a_listing_read_inside_another_ones_loop(index: IndexBackend) -> None:
    ids = [write(index, slug, slug) for slug in ("a", "b", "c")]
    pairs = [(s.id, t.id) for s, _ in index.rows(F()) for t, _ in index.rows(F())]
    assert pairs == [(x, y) for x in ids for y in ids]


def test_rows_latest_or_every_revision_with_filters(index: IndexBackend) -> None:
    a = write(index, "a", "one", tags="fact-sheets", published="2025-01-01T00:00:00+00:00")
    write(index, "a", "two", tags="fact-sheets", published="2025-01-01T00:00:00+00:00")
    b = write(index, "b", "b", tags="speeches", published="2025-03-01T00:00:00+00:00")
    c = write(index, "c", "c", tags="[fact-sheets, blog]", published="2025-02-01T00:00:00+00:00")
    with index.transaction():
        index.update_statement(b, status="removed")
    rows = list(index.rows(F()))
    assert [(s.id, r.number, r.body) for s, r in rows] == [(a, 2, "two"), (b, 1, "b"), (c, 1, "c")]
    every = [(s.id, r.number) for s, r in index.rows(F(), every_revision=True)]
    assert every == [(a, 1), (a, 2), (b, 1), (c, 1)]
    assert [s.id for s, _ in index.rows(F(), newest_first=True)] == [b, c, a]
    assert [s.id for s, _ in index.rows(F(tags=["fact-sheets"]))] == [a, c]
    assert [s.id for s, _ in index.rows(F(tags=["blog", "speeches"]))] == [b, c]
    assert [s.id for s, _ in index.rows(F(tags=["fact"]))] == []  # a whole tag, not a part
    assert [s.id for s, _ in index.rows(F(statuses=["removed"]))] == [b]
    assert [s.id for s, _ in index.rows(F(statuses=["active"], since="2025-02-01"))] == [c]
    assert [s.id for s, _ in index.rows(F(until="2025-02-01T00:00:00+00:00"))] == [a]
