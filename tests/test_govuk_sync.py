"""The ``govuk`` kind synced through the real engine (``crawler.sync()`` and the CLI) over a
socket, against the fixture GOV.UK (tests/fixture_govuk.py, whose Search API side was built from
GOV.UK's published documentation: no raw Search API response was available offline).

What was proven for whitehouse, proven again for a JSON API kind: the incremental cost (a sync
with nothing new fetches no item: robots.txt and one search page), declared edits with their
notes, a silent edit found by ``--full`` with conditional GET, a withdrawal, a move by
``content_id``, removals (410), 429 with ``Retry-After`` (the wait it asks for is the wait taken)
and a 5xx retried, a move and a withdrawal that leave ``public_timestamp`` unmoved found by the
audit sweep, a killed sync rerun.
The seed is the built-in one with pages of 10 results, so that 25 items make three pages.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import crawler
from crawler.cli import main
from storage.archive import Archive
from tests.conftest import PROJECT
from tests.fixture_govuk import T0, FixtureGovuk

PAGE = 10
ITEMS = 25


def cid(n: int) -> str:
    return f"00000000-0000-4000-8000-{n:012d}"


@pytest.fixture
def seeds(tmp_path: Path) -> Path:
    folder = tmp_path / "seeds"
    folder.mkdir()
    text = (PROJECT / "seeds" / "govuk.toml").read_text(encoding="utf-8")
    assert "page_size = 100" in text
    (folder / "govuk.toml").write_text(text.replace("page_size = 100", f"page_size = {PAGE}"))
    return folder


@pytest.fixture
def site() -> Iterator[FixtureGovuk]:
    with FixtureGovuk(generated=ITEMS, real=False) as fixture:
        yield fixture


def sync(archive: Path, seeds: Path, site: FixtureGovuk, **options: Any) -> crawler.SyncReport:
    site.reset_counts()
    result = crawler.sync(
        archive, ["govuk"], seeds=[seeds], base_url=site.base_url, rate=0, **options
    )
    assert len(result.reports) == 1, result
    return result.reports[0]


def requests(site: FixtureGovuk) -> tuple[int, int, int]:
    """(robots.txt, search pages, Content API items) asked for since the counts were reset."""
    return site.count("/robots.txt"), site.count("/api/search.json"), site.count("/api/content")


@pytest.fixture
def synced(tmp_path: Path, seeds: Path, site: FixtureGovuk) -> Path:
    archive = tmp_path / "archive"
    first = sync(archive, seeds, site, full=True)
    assert first.counts["new"] == ITEMS and not first.failures, first
    assert requests(site) == (1, 3, ITEMS)
    return archive


def test_a_first_sync_archives_every_item_with_its_content_id_and_accept_json(
    synced: Path, site: FixtureGovuk
) -> None:
    with Archive(synced) as archive:
        rows = archive.statements()
        assert len(rows) == ITEMS
        row = archive.index.by_stable_id("govuk", cid(3))
        assert row is not None and row.url.endswith("/generated-statement-3")
        assert row.url.startswith("https://www.gov.uk/government/")
        text = archive.file(row.path).read_text(encoding="utf-8")
    assert "tags: oral_statement" in text and "Statement number 3 says this." in text
    api = [r for r in site.requests if r.path.startswith("/api/")]
    assert {r.headers.get("accept") for r in api} == {"application/json"}


def test_nothing_new_costs_robots_and_one_search_page(
    synced: Path, seeds: Path, site: FixtureGovuk
) -> None:
    quiet = sync(synced, seeds, site)
    assert requests(site) == (1, 1, 0) and quiet.events == [] and not quiet.failures


def test_five_edits_with_change_notes_are_five_declared_events(
    synced: Path, seeds: Path, site: FixtureGovuk
) -> None:
    for n, number in enumerate((3, 8, 12, 17, 21)):
        at = T0 + dt.timedelta(minutes=n + 1)
        site.edit(cid(number), f"<p>Edited {n}.</p>", note=f"Correction {n}.", at=at)
    five = sync(synced, seeds, site)
    # page 1 holds the five edited and five as they were; page 2 only those: paging stops there
    assert requests(site) == (1, 2, 5)
    assert {r.kinds for r in five.events} == {("updated", "metadata", "declared")}
    notes = sorted(r.event.detail["declared"][0]["note"] for r in five.events if r.event)
    assert notes == [f"Correction {n}." for n in range(5)]
    assert sync(synced, seeds, site).events == [] and requests(site) == (1, 1, 0)


def test_a_minor_edit_is_found_by_full_with_conditional_get_as_silent(
    synced: Path, seeds: Path, site: FixtureGovuk
) -> None:
    site.edit(cid(5), "<p>Quietly changed.</p>")  # no note: public_updated_at stays
    assert sync(synced, seeds, site).events == []
    full = sync(synced, seeds, site, full=True)
    assert [r.kinds for r in full.events] == [("updated", "silent")]
    assert full.counts["not_modified"] == ITEMS - 1 and requests(site) == (1, 3, ITEMS)


def test_a_withdrawal_is_its_own_kind_and_the_text_stays(
    synced: Path, seeds: Path, site: FixtureGovuk, capsys: pytest.CaptureFixture[str]
) -> None:
    site.withdraw(cid(5), "Superseded by a newer statement.")
    dry = sync(synced, seeds, site, full=True, dry_run=True)  # the recorder is told too
    assert dry.counts["withdrawn"] == 1 and dry.events == []
    gone = sync(synced, seeds, site, full=True)
    assert [r.kinds for r in gone.events] == [("withdrawn",)]
    with Archive(synced) as archive:
        row = archive.index.by_stable_id("govuk", cid(5))
        assert row is not None and row.status == "withdrawn"
        assert "Statement number 5 says this." in archive.file(row.path).read_text(encoding="utf-8")
    capsys.readouterr()
    assert main(["history", row.url, "--archive", str(synced)]) == 0
    history = capsys.readouterr().out
    assert "withdrawn" in history
    assert main(["changes", "--archive", str(synced), "--json"]) == 0
    changes = capsys.readouterr().out
    assert "withdrawn" in changes and "Superseded by a newer statement." in changes


def test_a_new_base_path_with_the_same_content_id_is_a_move(
    synced: Path, seeds: Path, site: FixtureGovuk
) -> None:
    with Archive(synced) as archive:
        before = archive.index.by_stable_id("govuk", cid(9))
        assert before is not None
        old_file = archive.file(before.path)
    site.move(cid(9), "/government/news/renamed")
    moved = sync(synced, seeds, site, full=True)
    assert [r.kinds for r in moved.events] == [("moved",)], moved
    with Archive(synced) as archive:
        row = archive.resolve("https://www.gov.uk/government/news/renamed")
        assert row.id == before.id and row.head == 2 and len(archive.statements()) == ITEMS
        assert archive.resolve(before.url).id == row.id
        assert archive.file(row.path) == old_file


def test_an_item_answering_410_is_removed_on_a_plain_sync(
    synced: Path, seeds: Path, site: FixtureGovuk
) -> None:
    site.remove(cid(0), 410)  # the newest: above where paging stops
    report = sync(synced, seeds, site, confirm_removals=True)
    assert [r.kinds for r in report.events] == [("removed",)]
    assert requests(site) == (1, 1, 1)
    with Archive(synced) as archive:
        row = archive.index.by_stable_id("govuk", cid(0))
        assert row is not None and row.status == "removed"


def test_429_with_retry_after_and_a_5xx_are_retried(
    tmp_path: Path, seeds: Path, site: FixtureGovuk
) -> None:
    site.fail("/api/search.json", 429, retry_after=0)
    site.fail("/api/content/", 503)
    report = sync(tmp_path / "archive", seeds, site, full=True)
    assert report.counts["new"] == ITEMS and not report.failures
    assert requests(site) == (1, 4, ITEMS + 1)


class Waits:
    """A ``stop`` that never stops, whose ``wait`` (the engine's sleep, cut short by a stop)
    records how long each wait was asked to be instead of sleeping."""

    def __init__(self) -> None:
        self.asked: list[float] = []

    def __call__(self) -> bool:
        return False

    def wait(self, seconds: float) -> None:
        self.asked.append(seconds)


def test_the_wait_a_429_asks_for_in_retry_after_is_the_wait_taken(
    tmp_path: Path, seeds: Path, site: FixtureGovuk
) -> None:
    site.fail("/api/search.json", 429, retry_after=7)
    site.fail("/api/content/", 429, retry_after=30)
    waits = Waits()
    site.reset_counts()
    result = crawler.sync(
        tmp_path / "archive", ["govuk"], seeds=[seeds], base_url=site.base_url, rate=0,
        full=True, stop=waits,
    )  # fmt: skip
    assert result.reports[0].counts["new"] == ITEMS and not result.reports[0].failures
    assert sorted(w for w in waits.asked if w > 0) == [7.0, 30.0], waits.asked
    assert requests(site) == (1, 4, ITEMS + 1)


def test_a_move_or_withdrawal_below_where_paging_stops_is_found_by_the_audit_sweep(
    synced: Path, seeds: Path, site: FixtureGovuk
) -> None:
    # Neither moves public_timestamp, so both sit on page 3, below where a plain sync stops: the
    # seed's scheduled audit (statements re-checked per run, least recently checked first)
    # finds them without --full.
    site.move(cid(20), "/government/news/renamed-later")
    site.withdraw(cid(21), "No longer current.")
    assert sync(synced, seeds, site).events == [] and requests(site) == (1, 1, 0)
    swept = sync(synced, seeds, site, audit=ITEMS)
    assert sorted(r.kinds for r in swept.events) == [("moved",), ("withdrawn",)], swept.events
    assert requests(site)[:2] == (1, 1)  # one search page: no paging for the sweep
    with Archive(synced) as archive:
        moved = archive.index.by_stable_id("govuk", cid(20))
        withdrawn = archive.index.by_stable_id("govuk", cid(21))
        assert moved is not None and moved.url.endswith("/government/news/renamed-later")
        assert withdrawn is not None and withdrawn.status == "withdrawn"
    assert sync(synced, seeds, site, audit=ITEMS).events == []


def test_robots_txt_of_the_page_host_is_honoured_for_the_content_api_url(
    tmp_path: Path, seeds: Path, site: FixtureGovuk
) -> None:
    site.robots = "User-agent: *\nDisallow: /government/news/generated-statement-1$\n"
    report = sync(tmp_path / "archive", seeds, site, full=True)
    assert report.counts["new"] == ITEMS - 1
    assert [url for url, _ in report.failures] == [
        "https://www.gov.uk/government/news/generated-statement-1"
    ]
    refused = "/api/content/government/news/generated-statement-1"
    assert refused not in {r.path for r in site.requests}  # robots.txt said no: never asked


def test_the_cli_syncs_govuk_by_name_and_a_bare_sync_leaves_it_out(
    tmp_path: Path, site: FixtureGovuk, capsys: pytest.CaptureFixture[str]
) -> None:
    from crawler.api import choose_sources
    from crawler.source import load_sources, seed_dirs

    assert [s.name for s in choose_sources(load_sources(seed_dirs()), None)] == ["whitehouse"]
    archive = tmp_path / "archive"
    args = ["sync", "govuk", "--archive", str(archive), "--base-url", site.base_url]
    assert main([*args, "--rate", "0", "--full", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert json.dumps(report).count('"new"') >= 1
    with Archive(archive) as opened:
        assert len(opened.statements()) == ITEMS
    assert main(["status", "--archive", str(archive), "--json"]) == 0
    listed = [row["source"] for row in json.loads(capsys.readouterr().out)["sources"]]
    assert sorted(listed) == ["govuk", "whitehouse"]  # not enabled, but it ran: status shows it


@pytest.mark.slow
def test_a_sync_killed_halfway_then_rerun_equals_an_uninterrupted_one(
    tmp_path: Path, seeds: Path
) -> None:
    import os
    import signal
    import subprocess
    import sys
    import time

    from tests.test_sync import snapshot

    with FixtureGovuk(generated=120, real=False) as site:

        def command(archive: Path) -> list[str]:
            return [
                *(sys.executable, "-m", "crawler.cli", "sync", "govuk", "--archive", str(archive)),
                *("--seeds", str(seeds), "--base-url", site.base_url, "--rate", "0", "--full"),
            ]

        env = {**os.environ, "PYTHONPATH": str(PROJECT)}
        whole, killed = tmp_path / "whole", tmp_path / "killed"
        subprocess.run(command(whole), check=True, capture_output=True, cwd=PROJECT, env=env)
        process = subprocess.Popen(
            command(killed),
            cwd=PROJECT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 60
        while not any(killed.rglob("*.md")) and time.monotonic() < deadline:
            time.sleep(0.01)
        process.send_signal(signal.SIGKILL)
        process.wait()
        half = snapshot(killed)
        assert 0 < len(half[0]) < 120  # it did stop halfway
        subprocess.run(command(killed), check=True, capture_output=True, cwd=PROJECT, env=env)
        assert snapshot(killed) == snapshot(whole)
        assert not list(killed.rglob("*.part"))
