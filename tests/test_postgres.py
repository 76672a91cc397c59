"""The PostgreSQL index beyond the conformance suite: its migrations in step with SQLite's, how
it is chosen (``--index``, ``index`` in statements.toml) without a password ever shown, a sync
of the fixture site that ends as the SQLite one does, and an archive's SQLite index moved into
PostgreSQL with its whole history (``statements import`` of the archive into itself)."""

from __future__ import annotations

import datetime as dt
import json
import multiprocessing
import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from crawler.cli import main
from crawler.config import load_config
from crawler.errors import SourceError
from storage import schema
from storage.archive import Archive
from storage.backend import IndexBackend
from storage.document import Statement, dumps, loads, new_statement
from storage.errors import ArchiveError
from storage.index import ApiPost, EventFilter, Index, RevisionRow, StatementFilter
from storage.locator import check_no_password, open_index, redact
from storage.move import copy_index
from tests.fixture_site import FixtureSite, usable_texts

SECRET = "s3cret-pw"


def test_the_postgresql_migrations_stay_in_step_with_sqlites() -> None:
    from storage import pgschema

    assert len(pgschema.MIGRATIONS) == len(schema.MIGRATIONS), (
        "each new entry of storage/schema.py MIGRATIONS needs its PostgreSQL twin in"
        " storage/pgschema.py (an empty string if PostgreSQL needs nothing)"
    )


def test_a_locator_never_carries_nor_shows_a_password(tmp_path: Path) -> None:
    for locator in (
        f"postgresql://team:{SECRET}@db.example/statements",
        f"postgresql://db.example/statements?password={SECRET}",
    ):
        with pytest.raises(ArchiveError, match="holds a password") as caught:
            check_no_password(locator)
        assert SECRET not in str(caught.value) and SECRET not in (caught.value.where or "")
    assert redact("postgresql://team@db.example:5433/st?host=/run/pg") == (
        "postgresql://db.example:5433/st?host=/run/pg"
    )
    check_no_password("postgresql://team@db.example/st?passfile=/etc/statements/pgpass")
    with pytest.raises(ArchiveError, match="unknown index location"):
        open_index("mysql://db.example/st", tmp_path)
    assert isinstance(open_index(None, tmp_path), Index)  # the default: SQLite, as ever


def test_the_cli_refuses_a_password_in_one_line_without_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    archive = tmp_path / "archive"
    locator = f"postgresql://team:{SECRET}@/st?host={tmp_path}"
    assert main(["status", "--archive", str(archive), "--index", locator]) != 0
    err = capsys.readouterr().err
    assert "holds a password" in err and "PGPASSWORD" in err
    assert SECRET not in err and len(err.strip().splitlines()) == 1
    archive.mkdir()
    (archive / "statements.toml").write_text(f'index = "{locator}"\n', encoding="utf-8")
    with pytest.raises(SourceError, match="line 1") as caught:
        load_config(archive)
    assert SECRET not in str(caught.value)
    (archive / "statements.toml").write_text('index = "postgresql://db/st"\n', encoding="utf-8")
    assert load_config(archive).index == "postgresql://db/st"
    assert load_config(archive, "postgresql://other/st").index == "postgresql://other/st"


def test_a_server_that_cannot_be_reached_is_one_line_with_a_hint(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pytest.importorskip("psycopg")
    locator = f"postgresql://team@/st?host={tmp_path}&connect_timeout=2"
    assert main(["status", "--archive", str(tmp_path), "--index", locator]) != 0
    err = capsys.readouterr().err.strip()
    assert "cannot connect to the index" in err and "team@" not in err
    assert len(err.splitlines()) == 1


def test_what_postgresql_cannot_store_is_an_archive_error(postgres_index: str) -> None:
    from storage.postgres import PostgresIndex

    index = PostgresIndex(postgres_index)
    try:
        with pytest.raises(ArchiveError, match="refused") as caught, index.transaction():
            index.set_setting("layout", "a\x00b")  # text PostgreSQL cannot hold
        assert "Traceback" not in str(caught.value) and index.setting("layout") is None
        with index.transaction():  # the connection is usable afterwards
            index.set_setting("layout", "{slug}.md")
        assert index.setting("layout") == "{slug}.md"
    finally:
        index.close()


# -- moving an index, through the protocol ---------------------------------------------------


def _fill(index: IndexBackend) -> None:
    """A small history: a replaced statement, revisions, events, the outbox, fetch state."""
    with index.transaction():
        index.set_announcers(["atom"])
        ids = []
        for n, slug in enumerate(("old", "new", "other"), 1):
            sid = index.insert_statement(
                url=f"https://example.org/{slug}/",
                path=f"{slug}.md",
                slug=slug,
                title=slug.title(),
                published_time="2026-01-01",
                at=f"2026-01-0{n}T00:00:00+00:00",
                source="wh",
            )
            ids.append(sid)
            for number in (1, 2):
                index.add_revision(
                    RevisionRow(
                        0, sid, number, f"2026-01-0{n}T0{number}:00:00+00:00", f"o-{slug}",
                        f"https://example.org/{slug}/", f"{slug}.md", slug.title(), "2026-01-01",
                        None, f"h-{slug}-{number}", f"w-{slug}", "title: x\n", f"words {number}",
                    ),
                    declared='{"notes": []}' if number == 2 else None,
                )  # fmt: skip
                index.add_event(sid, f"2026-01-0{n}T0{number}:00:00+00:00", ["new"], None, number)
            index.update_statement(sid, head=2)
        index.set_announcers(["atom", "git"])
        replaces = {"replaces": {"id": ids[0], "title": "Old"}}
        at = "2026-01-05T00:00:00+00:00"
        index.add_event(ids[1], at, ["replaced"], None, 2, replaces, text="t", size=3, run="r1")
        index.update_statement(ids[0], status="replaced")
        index.add_url("https://example.org/old-2/", ids[0], "2026-01-06T00:00:00+00:00")
        index.set_fetch_state(ids[2], etag='"e"', last_status=200, sitemap="s.xml")
        index.delivered("atom", [index.last_event_id()])
        index.set_event_html(index.last_event_id(), "<p>t</p>")
        index.add_run("wh", "2026-01-07T00:00:00+00:00", "2026-01-07T00:01:00+00:00", True, "{}")
        index.set_schedule_state("wh", "2026-01-07T00:00:00+00:00", "2026-01-08T00:00:00+00:00")
        index.set_setting("layout", "{slug}.md")
        index.set_pending_reformat(ids[2], 2, "2026-01-09T00:00:00+00:00", "o-other", "text")
        post = ApiPost("17", ids[2], "f-17", "Other", None, "2026-01-09T00:00:00+00:00")
        index.set_api_posts("wh", [post])
        index.add_link(ids[1], ids[2], "executive_order_number", "14430", at)


def snapshot(index: IndexBackend) -> dict[str, Any]:
    """Everything the protocol shows of an index, with ids replaced by URLs."""
    url_of = {row.id: row.url for row in index.statements()}
    rows = list(index.rows(StatementFilter(), every_revision=True))
    events = sorted(index.events(EventFilter()), key=lambda e: e.id)
    html = index.event_html([e.id for e in events])
    replaced = [(s.url, getattr(index.successor(s.id), "url", None)) for s in index.statements()]
    return {
        "statements": [{**vars(s), "id": None} for s in index.statements()],
        "urls": {url: index.urls_of(i) for i, url in url_of.items()},
        "revisions": [
            ({**vars(r), "id": None, "statement_id": None}, index.declared(s.id, r.number))
            for s, r in rows
        ],
        "events": [
            (
                url_of[e.statement_id],
                e.at,
                e.kinds,
                e.from_rev,
                e.to_rev,
                e.diff,
                e.size,
                e.reverted_at,
                sorted(e.detail),
                html.get(e.id),
                e.run,
            )
            for e in events
        ],
        "successors": replaced,
        "outbox": index.outbox_state(),
        "pending": {a: [url_of[e.statement_id] for e in index.outbox(a)] for a in ["atom", "git"]},
        "fetch": [vars(index.fetch_state(u) or FetchStateless()) for u in url_of.values()],
        "settings": index.settings_with_prefix(""),
        "runs": index.runs(),
        "schedule": index.schedule_state("wh"),
        "reformats": [index.pending_reformat(i) for i in index.pending_reformat_ids()],
        "api_posts": [
            (post_id, url_of[p.statement_id], p.fingerprint, p.title, p.modified, p.checked)
            for post_id, p in sorted(index.api_posts("wh").items())
        ],
        "links": sorted(
            (url_of[k.website_id], url_of[k.official_id], k.basis, k.key, k.linked_at)
            for i in url_of
            for k in index.links_of(i)
        ),
    }


class FetchStateless:
    pass


def _no_ids(snap: dict[str, Any]) -> dict[str, Any]:
    snap = dict(snap)
    snap["fetch"] = [{k: v for k, v in f.items() if k != "statement_id"} for f in snap["fetch"]]
    return snap


def test_an_index_moves_whole_from_sqlite_to_postgresql_and_back(
    tmp_path: Path, postgres_index: str
) -> None:
    from storage.postgres import PostgresIndex

    sqlite = Index(tmp_path / "index.sqlite")
    _fill(sqlite)
    shared = PostgresIndex(postgres_index)
    back = Index(tmp_path / "back.sqlite")
    try:
        assert copy_index(sqlite, shared) == 3
        assert _no_ids(snapshot(shared)) == _no_ids(snapshot(sqlite))
        assert shared.announcers() == sqlite.announcers()  # event ids grew alike
        with pytest.raises(ArchiveError, match="not empty"):
            copy_index(sqlite, shared)
        assert copy_index(shared, back) == 3
        assert _no_ids(snapshot(back)) == _no_ids(snapshot(sqlite))
    finally:
        for index in (sqlite, shared, back):
            index.close()


def test_files_a_killed_sqlite_writer_committed_land_before_a_move_to_postgresql(
    tmp_path: Path, postgres_index: str
) -> None:
    root = tmp_path / "archive"
    doc = new_statement(
        title="A statement",
        source_url="https://example.org/a/",
        tags="statements",
        published_time=dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
        body="Words.\n",
    )
    with Archive(root) as own:
        own.record(doc, origin="https://example.org/a/")
        path = own.resolve("https://example.org/a/").path
    # A writer killed after its SQLite transaction committed, before its file was moved in.
    tmp = root / ".statements" / "tmp"
    tmp.mkdir(parents=True, exist_ok=True)
    (tmp / "0.part").write_text("the committed text\n", encoding="utf-8")
    sqlite = Index(root / ".statements" / "index.sqlite")
    with sqlite.transaction():
        sqlite.add_pending([(".statements/tmp/0.part", path)])
    sqlite.close()
    with Archive(root, index=postgres_index) as shared:
        assert shared.recover() >= 1
    assert (root / path).read_text(encoding="utf-8") == "the committed text\n"
    assert not (tmp / "0.part").exists()
    check = Index(root / ".statements" / "index.sqlite", read_only=True)
    try:
        assert check.pending() == []
    finally:
        check.close()


# -- a sync of the fixture site, and an archive moved into PostgreSQL -------------------------


@pytest.fixture
def site(corpus: tuple[tuple[str, str], ...]) -> Iterator[FixtureSite]:
    texts = sorted(usable_texts(t for _, t in corpus), key=lambda t: str(loads(t).published_time))
    with FixtureSite(texts[-20:]) as running:
        yield running


def _edited(text: str) -> str:
    doc = loads(text)
    return dumps(
        Statement({**doc.meta, "title": doc.title + " (corrected)"}, doc.body + "\n\nMore.")
    )


def _files(root: Path) -> dict[str, bytes]:
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in root.rglob("*.md")
        if ".statements" not in p.parts
    }


def _timeless(snap: dict[str, Any]) -> dict[str, Any]:
    """A snapshot without the times a clock gives (two syncs run seconds apart), and without
    the order statements were recorded in: the pipeline records batches as their pages
    arrive, so two syncs of the same site number them differently."""
    clock = {"first_seen", "last_seen", "seen_at", "last_checked"}
    return {
        "statements": sorted(
            ({k: v for k, v in s.items() if k not in clock} for s in snap["statements"]), key=repr
        ),
        "revisions": sorted(
            [
                ({k: v for k, v in r.items() if k not in clock | {"origin"}}, d)
                for r, d in snap["revisions"]
            ],
            key=repr,
        ),
        "events": sorted((e[:1] + e[2:-1] for e in snap["events"]), key=repr),  # no time, run
        "urls": snap["urls"],
    }


@pytest.mark.corpus
@pytest.mark.slow
def test_a_sync_on_postgresql_ends_as_on_sqlite_and_an_archive_moves_there(
    site: FixtureSite, tmp_path: Path, postgres_cluster: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    lite, team = tmp_path / "lite", tmp_path / "team"
    shared = postgres_cluster.new_database()
    for archive, extra in ((lite, ()), (team, ("--index", shared))):
        assert main([*site.sync_args(archive, "--full"), *extra]) == 0
    urls = site.urls()[:2]
    for url in urls:
        text = next(t for t in _files(lite).values() if url in t.decode())
        site.edit(url, _edited(text.decode()), modified=dt.datetime(2026, 9, 1, tzinfo=dt.UTC))
    for archive, extra in ((lite, ()), (team, ("--index", shared))):
        assert main([*site.sync_args(archive), *extra]) == 0
    capsys.readouterr()
    with Archive(lite, create=False) as a, Archive(team, create=False, index=shared) as b:
        assert a.index.count_statements() == b.index.count_statements() == 20
        assert _timeless(snapshot(b.index)) == _timeless(snapshot(a.index))
        assert sum(len(a.index.revisions(s.id)) for s in a.index.statements()) == 22
        assert (team / ".statements" / "index.sqlite").exists() is False
    assert _files(team) == _files(lite)
    # The SQLite archive adopted into a new PostgreSQL index: its whole history moves.
    moved = postgres_cluster.new_database()
    assert main(["import", "--archive", str(lite), "--index", moved, str(lite), "--json"]) == 0
    assert '"moved": 20' in capsys.readouterr().out
    with Archive(lite, create=False) as a, Archive(lite, create=False, index=moved) as b:
        assert _no_ids(snapshot(b.index)) == _no_ids(snapshot(a.index))
    assert main([*site.sync_args(lite, "--json"), "--index", moved]) == 0  # nothing new
    report = json.loads(capsys.readouterr().out)
    assert report["sources"] and all(s["events"] == [] for s in report["sources"])


# -- exactly once: workers recording the same pages at once -----------------------------------

PAGES = 300


def _pages() -> list[Statement]:
    start = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    return [
        new_statement(
            title=f"Statement {i}",
            source_url=f"https://example.org/briefings/statement-{i}/",
            tags="statements",
            published_time=start + dt.timedelta(hours=i),
            body=f"The words of statement {i}.",
        )
        for i in range(PAGES)
    ]


def _record_all(locator: str, root: str, seed: int) -> int:
    """One worker: record every page, in an order of its own; how many it recorded."""
    pages = _pages()
    random.Random(seed).shuffle(pages)
    recorded = 0
    with Archive(root, index=locator) as archive:
        for page in pages:
            recorded += archive.record(page, origin=page.source_url, source="wh") is not None
    return recorded


def _workers(locator: str, tmp_path: Path, seed: int) -> list[int]:
    jobs = [(locator, str(tmp_path / f"worker{n}"), seed + n) for n in range(4)]
    with multiprocessing.get_context("spawn").Pool(4) as pool:
        return pool.starmap(_record_all, jobs)


@pytest.mark.slow
def test_four_workers_record_the_same_pages_exactly_once(
    tmp_path: Path, postgres_index: str
) -> None:
    first = _workers(postgres_index, tmp_path, 0)
    assert sum(first) == PAGES  # each page recorded by exactly one worker
    with Archive(tmp_path / "worker0", create=False, index=postgres_index) as archive:
        index = archive.index
        assert index.count_statements() == PAGES
        revisions = [r for s in index.statements() for r in index.revisions(s.id)]
        assert [r.number for r in revisions] == [1] * PAGES
        events = index.events(EventFilter())
        assert len(events) == PAGES and {e.kinds for e in events} == {("new",)}
        assert len({e.statement_id for e in events}) == PAGES
        assert len({s.path for s in index.statements()}) == PAGES
    assert _workers(postgres_index, tmp_path, 10) == [0, 0, 0, 0]  # a second pass: nothing
    with Archive(tmp_path / "worker0", create=False, index=postgres_index) as archive:
        assert archive.index.count_events(EventFilter()) == PAGES
        assert archive.index.count_statements() == PAGES
