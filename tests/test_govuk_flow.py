"""crawler.govuk's pieces together with storage's declared edits, over a socket.

Until source kinds are a seam of the syncer, :func:`mini_sync` stands in for it here (a test
harness, not the crawler): search pages with :func:`govuk.search_url`, stop with
:func:`govuk.stop_paging`, pick with :func:`govuk.needs_fetch`, read the Content API at
:func:`govuk.content_url` (conditional GET when ``full``), and record each item with what GOV.UK
declares (:meth:`GovukItem.declared`). It counts requests, as the sync will: what it proves is
what the GOV.UK kind costs and records once wired (robots.txt, one more request per run, aside).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from crawler import govuk
from storage.archive import Archive, Recorded
from storage.declared import loads
from tests.fixture_govuk import FixtureGovuk

PAGE = 10
START = dt.datetime(2026, 11, 10, 8, 0, tzinfo=dt.UTC)


@dataclass
class Run:
    recorded: list[Recorded] = field(default_factory=list)
    not_modified: int = 0


class Clock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> dt.datetime:
        return self.now


def _known(archive: Archive) -> dict[str, tuple[str, dt.datetime | None]]:
    """content id -> (URL, modified_time) of the archived statements (the seam's index)."""
    known = {}
    for row in archive.statements():
        declared = loads(archive.index.declared(row.id, row.head))
        modified = archive.revision(row).modified_time
        if declared is not None:
            moment = None if modified is None else dt.datetime.fromisoformat(modified)
            known[str(declared.about["content_id"])] = (row.url, moment)
    return known


def mini_sync(
    http: httpx.Client, archive: Archive, etags: dict[str, str], last: dt.datetime | None, *,
    full: bool = False,
) -> Run:  # fmt: skip
    known, run, page = _known(archive), Run(), 0
    while True:
        listed = govuk.parse_search(http.get(govuk.search_url(page, count=PAGE, base="")).content)
        for found in listed.items:
            url, modified = known.get(found.content_id or "", (None, None))
            if govuk.needs_fetch(found, modified, url=url, full=full):
                _fetch(http, archive, etags, found, url, run)
        if govuk.stop_paging(listed, known.keys(), last, full=full):
            return run
        page += 1


def _fetch(
    http: httpx.Client,
    archive: Archive,
    etags: dict[str, str],
    found: govuk.Found,
    previous: str | None,
    run: Run,
) -> None:
    path = govuk.content_url(found.url, api="/api/content")
    headers = {"If-None-Match": etags[found.url]} if found.url in etags else {}
    answer = http.get(path, headers=headers, follow_redirects=True)
    if answer.status_code == 304:
        run.not_modified += 1
        return
    etags[found.url] = answer.headers["etag"]
    statement, item = govuk.parse_item(answer.content)
    done = archive.record(
        statement, origin=found.url, source="govuk", previous_url=previous,
        declared=item.declared(),
    )  # fmt: skip
    if isinstance(done, Recorded):
        run.recorded.append(done)


@pytest.fixture
def world(tmp_path: Path) -> Iterator[tuple[FixtureGovuk, httpx.Client, Archive, Clock]]:
    clock = Clock()
    with (
        FixtureGovuk(generated=25, real=False) as site,
        httpx.Client(base_url=site.base_url, headers={"Accept": "application/json"}) as http,
        Archive(tmp_path / "archive", clock=clock) as archive,
    ):
        yield site, http, archive, clock


def test_incremental_cost_declared_edits_silent_edits_withdrawals_and_moves(
    world: tuple[FixtureGovuk, httpx.Client, Archive, Clock],
) -> None:
    site, http, archive, clock = world
    etags: dict[str, str] = {}
    first = mini_sync(http, archive, etags, None, full=True)
    assert len(first.recorded) == 25 and site.count("/api/search.json") == 3
    assert {r.kinds for r in first.recorded} == {("new",)}

    # nothing new: one search page, no item fetched
    site.reset_counts()
    clock.now += dt.timedelta(hours=1)
    quiet = mini_sync(http, archive, etags, START)
    assert (site.count(), quiet.recorded) == (1, [])

    # five major updates, each with a change note: two search pages and the five items
    edited = [f"00000000-0000-4000-8000-{n:012d}" for n in (3, 8, 12, 17, 21)]
    for n, cid in enumerate(edited):
        site.edit(
            cid, f"<p>Edited {n}.</p>", note=f"Correction {n}.", at=START + dt.timedelta(minutes=n)
        )
    site.reset_counts()
    clock.now += dt.timedelta(hours=1)
    five = mini_sync(http, archive, etags, START - dt.timedelta(minutes=1))
    assert (site.count("/api/search.json"), site.count("/api/content")) == (2, 5)
    assert {r.kinds for r in five.recorded} == {("updated", "metadata", "declared")}
    notes = sorted(r.event.detail["declared"][0]["note"] for r in five.recorded if r.event)
    assert notes == [f"Correction {n}." for n in range(5)]

    # a minor update (no note): not listed as new; --full re-checks with conditional GET
    minor = "00000000-0000-4000-8000-000000000005"
    site.edit(minor, "<p>Quietly changed.</p>")
    clock.now += dt.timedelta(hours=1)
    assert mini_sync(http, archive, etags, clock.now).recorded == []
    site.reset_counts()
    full = mini_sync(http, archive, etags, clock.now, full=True)
    assert [r.kinds for r in full.recorded] == [("updated", "silent")]
    assert full.not_modified == 24 and site.count("/api/content") == 25

    # withdrawn: an event of its own, the text stays
    site.withdraw(minor, "Superseded by a newer statement.")
    clock.now += dt.timedelta(hours=1)
    gone = mini_sync(http, archive, etags, clock.now, full=True)
    assert [r.kinds for r in gone.recorded] == [("withdrawn",)]
    assert archive.resolve(gone.recorded[0].url).status == "withdrawn"

    # a new base_path, the same content id: one statement, moved, its history kept. A move that
    # leaves public_timestamp alone is below the page where a plain sync stops: --full finds it
    # (or an audit re-checking the old URL, which redirects)
    moved = "00000000-0000-4000-8000-000000000009"
    old = govuk.statement_url(site.item(moved)["base_path"])
    site.move(moved, "/government/news/renamed")
    clock.now += dt.timedelta(hours=1)
    assert mini_sync(http, archive, etags, clock.now).recorded == []
    after = mini_sync(http, archive, etags, clock.now, full=True)
    assert [r.kinds for r in after.recorded] == [("moved",)]
    row = archive.resolve("https://www.gov.uk/government/news/renamed")
    assert archive.resolve(old).id == row.id and row.head == 2
    assert len(archive.statements()) == 25
