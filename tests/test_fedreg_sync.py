"""The ``federalregister`` kind synced through the real engine (``crawler.sync()`` and the CLI)
over a socket, against the fixture Federal Register (tests/fixture_fedreg.py).

The incremental cost (a sync with nothing new asks one search page and no document), a first
sync across two year slices, an edit of the full text found by ``--full`` as ``silent``, a
correction found through its own listing and recorded on the original as a declared change, a
slice over the API's cap halved, a removal, a 5xx retried, a killed sync rerun. The seed is the
built-in one with pages of 10 results and slices back to 2025; "this year" is pinned to 2026.
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
from crawler.kinds import federalregister
from storage.archive import Archive
from tests.conftest import PROJECT
from tests.fixture_fedreg import NEWEST, FixtureFedreg, number

PAGE = 10
DOCS = 25  # 12 published in January 2026, 13 in December 2025


@pytest.fixture(autouse=True)
def this_year(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(federalregister, "_this_year", lambda tz: 2026)


@pytest.fixture
def seeds(tmp_path: Path) -> Path:
    folder = tmp_path / "seeds"
    folder.mkdir()
    text = (PROJECT / "seeds" / "federalregister.toml").read_text(encoding="utf-8")
    assert "page_size = 100" in text and "first_year = 1994" in text
    text = text.replace("page_size = 100", f"page_size = {PAGE}")
    (folder / "federalregister.toml").write_text(
        text.replace("first_year = 1994", "first_year = 2025")
    )
    return folder


@pytest.fixture
def site() -> Iterator[FixtureFedreg]:
    with FixtureFedreg(generated=DOCS) as fixture:
        yield fixture


def sync(archive: Path, seeds: Path, site: FixtureFedreg, **options: Any) -> crawler.SyncReport:
    site.reset_counts()
    result = crawler.sync(
        archive, ["federalregister"], seeds=[seeds], base_url=site.base_url, rate=0, **options
    )
    assert len(result.reports) == 1, result
    return result.reports[0]


@pytest.fixture
def synced(tmp_path: Path, seeds: Path, site: FixtureFedreg) -> Path:
    archive = tmp_path / "archive"
    first = sync(archive, seeds, site, full=True)
    assert first.counts["new"] == DOCS and not first.failures, first
    # robots.txt; 2 pages of the 2026 slice and 2 of the 2025 one; each document's JSON and text
    assert site.costs() == (1, 4, DOCS, DOCS)
    return archive


def url(n: int) -> str:
    return f"https://www.federalregister.gov/d/{number(n)}"


def test_a_first_sync_archives_every_document_by_its_number(synced: Path) -> None:
    with Archive(synced) as archive:
        assert len(archive.statements()) == DOCS
        row = archive.index.by_stable_id("federalregister", number(0))
        assert row is not None and row.url == url(0)
        assert row.path == f"executive_order/2026-01/2026-01-12-{number(0)}.md"
        text = archive.file(row.path).read_text(encoding="utf-8")
    assert "published_time: 2026-01-12 00:00:00-05:00" in text
    assert "executive_order_number: '14500'" in text and "signing_date: '2026-01-09'" in text
    assert "Document number 0 orders this." in text


def test_nothing_new_costs_one_search_page_and_no_document(
    synced: Path, seeds: Path, site: FixtureFedreg
) -> None:
    quiet = sync(synced, seeds, site)
    assert site.costs() == (1, 1, 0, 0) and quiet.events == [] and not quiet.failures


def test_five_new_documents_cost_two_pages_and_two_requests_each(
    synced: Path, seeds: Path, site: FixtureFedreg
) -> None:
    from tests.fixture_fedreg import generated

    for n in range(100, 105):
        site.add(*generated(n, NEWEST + dt.timedelta(days=n - 99)))
    report = sync(synced, seeds, site)
    assert report.counts["new"] == 5 and not report.failures
    # page 1 holds the five new and five as they were; page 2 only those: paging stops there
    assert site.costs() == (1, 2, 5, 5)


def test_an_edited_full_text_is_found_by_full_as_silent(
    synced: Path, seeds: Path, site: FixtureFedreg
) -> None:
    site.edit(number(4), "<p>Document number 4 orders that instead.</p>")
    assert sync(synced, seeds, site).events == []  # nothing says so: a plain sync cannot see it
    full = sync(synced, seeds, site, full=True)
    assert [(r.url, r.kinds) for r in full.events] == [(url(4), ("updated", "silent"))]
    assert site.costs() == (1, 4, DOCS, DOCS)  # not conditional: every JSON and text again


def test_a_correction_is_a_declared_change_of_the_original(
    synced: Path, seeds: Path, site: FixtureFedreg, capsys: pytest.CaptureFixture[str]
) -> None:
    fix = site.correct(number(15), dt.date(2026, 2, 3))  # a December 2025 document
    report = sync(synced, seeds, site)
    assert [(r.url, r.kinds) for r in report.events] == [(url(15), ("metadata", "declared"))]
    event = report.events[0].event
    assert event is not None
    [note] = event.detail["declared"]
    assert note["at"] == "2026-02-03T05:00:00+00:00"
    assert note["note"].startswith(
        f"Correction {fix} (91 FR 70001), published 2026-02-03: https://"
    )
    # page 1 lists the correction (not settled), page 2 is settled; the original: JSON, text,
    # and the correction's JSON
    assert site.costs() == (1, 2, 2, 1)
    with Archive(synced) as archive:
        assert len(archive.statements()) == DOCS  # the correction is no statement of its own
        row = archive.index.by_stable_id("federalregister", number(15))
        assert row is not None and row.head == 2
        assert f"corrections: {fix}" in archive.file(row.path).read_text(encoding="utf-8")
    again = sync(synced, seeds, site)
    assert again.events == [] and site.costs() == (1, 1, 0, 0)
    assert sync(synced, seeds, site, full=True).events == []  # its own listing: no news
    capsys.readouterr()
    assert main(["history", url(15), "--archive", str(synced)]) == 0
    assert fix in capsys.readouterr().out


def test_a_correction_answered_with_a_page_not_json_fails_that_document_only(
    synced: Path, seeds: Path, site: FixtureFedreg
) -> None:
    fix = site.correct(number(15), dt.date(2026, 2, 3))
    site.fail(f"/api/v1/documents/{fix}", 200, body=b"<html><body>Maintenance</body></html>")
    broken = sync(synced, seeds, site)
    assert broken.events == [] and [u for u, _ in broken.failures] == [url(15)]
    assert "not a JSON object" in broken.failures[0][1]
    fixed = sync(synced, seeds, site)  # tried again by the next sync
    assert [(r.url, r.kinds) for r in fixed.events] == [(url(15), ("metadata", "declared"))]


def test_a_slice_over_the_cap_is_halved_and_nothing_is_missed(
    tmp_path: Path, seeds: Path, site: FixtureFedreg, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(federalregister, "CAP", 8)
    site.cap = 8  # a query serves at most 8 results: each year holds more
    report = sync(tmp_path / "archive", seeds, site, full=True)
    assert report.counts["new"] == DOCS and not report.failures and not report.warnings


def test_a_document_gone_from_the_api_is_removed(
    synced: Path, seeds: Path, site: FixtureFedreg
) -> None:
    site.remove(number(1), 404)  # on page 1: the walk passes where it was listed
    report = sync(synced, seeds, site, confirm_removals=True)
    assert [(r.url, r.kinds) for r in report.events] == [(url(1), ("removed",))]


def test_a_5xx_is_retried_and_a_missing_full_text_fails_the_document_only(
    tmp_path: Path, seeds: Path, site: FixtureFedreg
) -> None:
    site.fail("/api/v1/documents.json", 503)
    site.fail(f"/documents/full_text/html/2026/01/10/{number(2)}.html", 404)
    report = sync(tmp_path / "archive", seeds, site, full=True)
    assert report.counts["new"] == DOCS - 1
    assert [u for u, _ in report.failures] == [url(2)]
    assert "HTTP 404" in report.failures[0][1]
    again = sync(tmp_path / "archive", seeds, site)  # not removed: fetched again, and archived
    assert again.counts["new"] == 1 and not again.failures


def test_the_cli_syncs_the_federal_register_by_name_and_a_bare_sync_leaves_it_out(
    tmp_path: Path, site: FixtureFedreg, capsys: pytest.CaptureFixture[str]
) -> None:
    from crawler.api import choose_sources
    from crawler.source import load_sources, seed_dirs

    assert [s.name for s in choose_sources(load_sources(seed_dirs()), None)] == ["whitehouse"]
    archive = tmp_path / "archive"
    args = ["sync", "federalregister", "--archive", str(archive), "--base-url", site.base_url]
    assert main([*args, "--rate", "0", "--since", "2025-12-25", "--json"]) == 0
    json.loads(capsys.readouterr().out)
    with Archive(archive) as opened:
        assert len(opened.statements()) == 19  # 12 January and 7 December documents


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

    with FixtureFedreg(generated=80) as site:

        def command(archive: Path) -> list[str]:
            return [
                *(sys.executable, "-m", "crawler.cli", "sync", "federalregister"),
                *("--archive", str(archive), "--seeds", str(seeds)),
                *("--base-url", site.base_url, "--rate", "0", "--full"),
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
        assert 0 < len(half[0]) < 80  # it did stop halfway
        subprocess.run(command(killed), check=True, capture_output=True, cwd=PROJECT, env=env)
        assert snapshot(killed) == snapshot(whole)
        assert not list(killed.rglob("*.part"))
