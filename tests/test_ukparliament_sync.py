"""The ``ukparliament`` kind synced through the real engine over a socket, against the fixture
Written Statements API (tests/fixture_ukparliament.py): a first sync by date window and house,
the cost of a sync with nothing new and with one new statement, an edit found by ``--full``,
the index's facts (member, answering body, house, linked statements), a correction linked to
the statement it corrects (whichever side declares it, whichever comes first) and shown by
``statements history`` and ``statements compare``, and (slow) a sync killed halfway then rerun.
"Today" is pinned to 2026-11-30 and the seed walks back to 2026-11-01."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import crawler
from crawler.cli import main
from crawler.kinds import ukparliament
from storage import declared
from storage.archive import Archive
from storage.links import CORRECTION
from tests.conftest import PROJECT
from tests.fixture_ukparliament import FixtureUkParliament, correction, generated, link_to

COUNT = 20  # 10 days, 27 back to 18 November, a statement to each House a day
PAGE = "https://questions-statements.parliament.uk/written-statements/detail"


@pytest.fixture(autouse=True)
def today(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ukparliament, "_today", lambda tz: dt.date(2026, 11, 30))


@pytest.fixture
def seeds(tmp_path: Path) -> Path:
    folder = tmp_path / "seeds"
    folder.mkdir()
    text = (PROJECT / "seeds" / "ukparliament.toml").read_text(encoding="utf-8")
    assert 'first_date = "2014-01-01"' in text
    text = text.replace('first_date = "2014-01-01"', 'first_date = "2026-11-01"')
    (folder / "ukparliament.toml").write_text(text)
    return folder


@pytest.fixture
def api() -> Iterator[FixtureUkParliament]:
    with FixtureUkParliament(generated=COUNT).running() as fixture:
        yield fixture


def sync(archive: Path, seeds: Path, api: FixtureUkParliament, **options: Any) -> Any:
    api.reset_counts()
    result = crawler.sync(
        archive, ["ukparliament"], seeds=[seeds], base_url=api.base_url, rate=0, **options
    )
    return result.reports[0]


@pytest.fixture
def synced(tmp_path: Path, seeds: Path, api: FixtureUkParliament) -> Path:
    archive = tmp_path / "archive"
    first = sync(archive, seeds, api, full=True)
    assert first.counts["new"] == COUNT and not first.failures, first
    assert api.costs() == (10, COUNT)  # 5 windows of 7 days (the last of 2), 2 Houses each
    return archive


def test_a_first_sync_archives_each_statement_by_date_and_uin(synced: Path) -> None:
    with Archive(synced) as archive:
        row = archive.index.by_stable_id("ukparliament", "2026-11-27/HCWS100")
        assert row is not None and row.url == f"{PAGE}/2026-11-27/HCWS100"
        assert row.path == "commons/2026-11/2026-11-27-HCWS100.md"
        text = archive.file(row.path).read_text(encoding="utf-8")
        about = declared.loads(archive.index.declared(row.id, row.head))
    assert "member: Minister 0" in text and "answering_body: Home Office" in text
    assert "Statement number 0 says this." in text  # the whole text, not the list's cut
    assert about is not None and about.about["member"]["name"] == "Minister 0"
    assert about.about["answering_body"] == {"id": 1, "name": "Home Office"}


def test_nothing_new_costs_the_newest_window_of_each_house(
    synced: Path, seeds: Path, api: FixtureUkParliament
) -> None:
    quiet = sync(synced, seeds, api)
    assert api.costs() == (2, 0) and quiet.events == [] and not quiet.failures


def test_a_new_statement_costs_two_windows_and_one_statement(
    synced: Path, seeds: Path, api: FixtureUkParliament
) -> None:
    new = generated(40, dt.date(2026, 11, 29))
    new["linkedStatements"] = [link_to(generated(2), dt.date(2026, 11, 29))]
    api.add(new)
    report = sync(synced, seeds, api)
    assert report.counts["new"] == 1 and api.costs() == (4, 1)
    with Archive(synced) as archive:
        row = archive.index.by_stable_id("ukparliament", "2026-11-29/HCWS140")
        assert row is not None
        about = declared.loads(archive.index.declared(row.id, row.head))
    assert about is not None and about.about["linked_statements"] == new["linkedStatements"]


def test_an_edited_text_is_found_by_full_as_silent(
    synced: Path, seeds: Path, api: FixtureUkParliament
) -> None:
    api.edit(3, "<p>Statement number 3 says that instead.</p>")
    assert sync(synced, seeds, api).events == []
    full = sync(synced, seeds, api, full=True)
    assert [(r.url, r.kinds) for r in full.events] == [
        (f"{PAGE}/2026-11-26/HLWS103", ("updated", "silent"))
    ]


def test_a_listed_statement_the_api_does_not_serve_fails_alone(
    tmp_path: Path, seeds: Path, api: FixtureUkParliament
) -> None:
    api.missing.add(("2026-11-27", "HLWS101"))
    report = sync(tmp_path / "archive", seeds, api, full=True)
    assert report.counts["new"] == COUNT - 1
    assert report.failures == [(f"{PAGE}/2026-11-27/HLWS101", "discovered, but answers HTTP 404")]
    api.missing.clear()
    assert sync(tmp_path / "archive", seeds, api).counts["new"] == 1  # found again next time


def test_a_correction_is_linked_to_the_statement_it_corrects(
    synced: Path, seeds: Path, api: FixtureUkParliament, capsys: pytest.CaptureFixture[str]
) -> None:
    original = generated(0)  # 2026-11-27/HCWS100
    api.add(correction(42, original, dt.date(2026, 11, 29)))  # 2026-11-29/HCWS142
    report = sync(synced, seeds, api)
    assert report.counts["new"] == 1
    assert "linked 1 corrections to what they correct" in report.notes
    fixed, wrong = f"{PAGE}/2026-11-29/HCWS142", f"{PAGE}/2026-11-27/HCWS100"
    with Archive(synced) as archive:
        corrected, corrects = archive.resolve(wrong), archive.resolve(fixed)
        [link] = archive.index.links_of(corrected.id)
        assert archive.index.links_of(corrects.id) == [link]
    assert (link.website_id, link.official_id) == (corrected.id, corrects.id)
    assert (link.basis, link.key) == (CORRECTION, "2026-11-29")
    assert sync(synced, seeds, api).notes == []  # linked once
    capsys.readouterr()
    assert main(["history", fixed, "--archive", str(synced)]) == 0
    out = capsys.readouterr().out
    assert f"  corrects Generated statement 0  ({corrected.path}), 2026-11-29" in out
    assert main(["history", wrong, "--archive", str(synced), "--json"]) == 0
    [shown] = json.loads(capsys.readouterr().out)["links"]
    assert shown["relation"] == "corrected_by" and shown["statement"]["url"] == fixed
    assert main(["compare", fixed, "--archive", str(synced), "--color", "never"]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"corrected:  Generated statement 0\n            {wrong}\n")
    assert "Statement number 0 says this{+, corrected+}." in out


def test_a_correction_declared_by_what_it_corrects_archived_second_is_linked_then(
    synced: Path, seeds: Path, api: FixtureUkParliament
) -> None:
    fix = generated(44, dt.date(2026, 11, 29))  # 2026-11-29/HCWS144, declares nothing
    corrected = generated(46, dt.date(2026, 11, 28))  # 2026-11-28/HCWS146, declares the link
    corrected.update(
        hasLinkedStatements=True, linkedStatements=[link_to(fix, dt.date(2026, 11, 29))]
    )
    api.add(fix)
    api.add(corrected)
    api.missing.add(("2026-11-28", "HCWS146"))  # listed, but not served this time
    first = sync(synced, seeds, api)
    assert first.counts["new"] == 1 and first.notes == []
    api.missing.clear()
    second = sync(synced, seeds, api)
    assert second.counts["new"] == 1
    assert "linked 1 corrections to what they correct" in second.notes
    with Archive(synced) as archive:
        wrong = archive.resolve(f"{PAGE}/2026-11-28/HCWS146")
        right = archive.resolve(f"{PAGE}/2026-11-29/HCWS144")
        [link] = archive.index.links_of(right.id)
    # the later made corrects the earlier, whichever declared it (and despite its lower id)
    assert (link.website_id, link.official_id, link.key) == (wrong.id, right.id, "2026-11-29")


def links(archive: Path) -> list[tuple[str, str, str, str]]:
    """Every link of an archive by its statements' URLs, without the time it was made."""
    with Archive(archive) as opened:
        return sorted(
            {
                (
                    opened.index.by_id(k.website_id).url,
                    opened.index.by_id(k.official_id).url,
                    k.basis,
                    k.key,
                )
                for row in opened.statements()
                for k in opened.index.links_of(row.id)
            }
        )


@pytest.mark.slow
def test_a_sync_killed_halfway_then_rerun_equals_an_uninterrupted_one(tmp_path: Path) -> None:
    """The CLI in a process of its own, SIGKILLed once some statements are archived, then run
    again: files, revisions, events and correction links equal those of a sync never killed.
    A process of its own has the real date: the statements are made in the 40 days before it."""
    import os
    import signal
    import subprocess
    import sys
    import time

    from tests.test_sync import snapshot

    today = dt.date.today()
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    text = (PROJECT / "seeds" / "ukparliament.toml").read_text(encoding="utf-8")
    first = (today - dt.timedelta(days=45)).isoformat()
    (seeds / "ukparliament.toml").write_text(
        text.replace('first_date = "2014-01-01"', f'first_date = "{first}"')
    )
    with FixtureUkParliament().running() as api:
        made = [generated(n, today - dt.timedelta(days=1 + n // 2)) for n in range(80)]
        for value in made:
            api.add(value)
        api.add(correction(80, made[70], today - dt.timedelta(days=2)))  # late in the walk
        api.add(correction(82, made[2], today - dt.timedelta(days=1)))

        def command(archive: Path) -> list[str]:
            return [
                *(sys.executable, "-m", "crawler.cli", "sync", "ukparliament"),
                *("--archive", str(archive), "--seeds", str(seeds)),
                *("--base-url", api.base_url, "--rate", "0", "--full"),
            ]

        env = {**os.environ, "PYTHONPATH": str(PROJECT)}
        whole, killed = tmp_path / "whole", tmp_path / "killed"
        subprocess.run(command(whole), check=True, capture_output=True, cwd=PROJECT, env=env)
        assert len(links(whole)) == 2
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
        assert 0 < len(half[0]) < 82  # it did stop halfway
        subprocess.run(command(killed), check=True, capture_output=True, cwd=PROJECT, env=env)
        assert snapshot(killed) == snapshot(whole)
        assert links(killed) == links(whole)
        assert not list(killed.rglob("*.part"))
