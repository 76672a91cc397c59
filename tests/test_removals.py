"""Removals: noticed without --full where discovery looked again, and held when too many at once."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest

from crawler.cli import main
from crawler.discover import Found
from crawler.errors import SourceError
from crawler.source import load_source
from crawler.syncer import absent
from storage.archive import Archive
from storage.document import loads
from tests.conftest import PROJECT
from tests.fixture_site import FixtureSite, usable_texts

T = dt.datetime(2025, 6, 1, 12, 0, tzinfo=dt.UTC)


def test_absent_counts_only_the_places_read_again() -> None:
    rows = [
        ("a", "2025-06-02T08:00:00-04:00", "s1", "L"),  # its sitemap read again, not listed
        ("b", "2025-05-01T08:00:00-04:00", "s2", "L"),  # sitemap not read, listing not so far
        ("c", "2025-06-03T08:00:00-04:00", None, "L"),  # listing walked back past it
        ("d", "2025-06-03T08:00:00-04:00", "s1", "L"),  # listed again (moved to another child)
        ("e", "2025-06-01T12:00:00+00:00", None, "L"),  # as old as the oldest read: not judged
        ("f", None, None, "M"),  # a listing walked to its end
        ("g", "2025-06-03T08:00:00-04:00", None, "N"),  # a listing not read this time
    ]
    found = {"d": Found("d", via="sitemap")}
    assert absent(rows, found, {"s1"}, {"L": T, "M": None}) == ["a", "c", "f"]
    assert absent(rows, found, set(), {}) == []


def _sync(
    out: pytest.CaptureFixture[str], site: FixtureSite, archive_dir: Path, *extra: str
) -> tuple[int, dict[str, Any]]:
    code = main(site.sync_args(archive_dir, "--json", *extra))
    report: dict[str, Any] = json.loads(out.readouterr().out)["sources"][0]
    return code, report


@pytest.fixture(scope="module")
def newest(corpus: tuple[tuple[str, str], ...]) -> list[str]:
    texts = usable_texts(t for _, t in corpus)
    return sorted(texts, key=lambda t: str(loads(t).meta.get("published_time")))[-80:]


def _removed_urls(archive_dir: Path) -> list[str]:
    with Archive(archive_dir) as archive:
        rows = archive.index.db.execute("SELECT url FROM statements WHERE status = 'removed'")
        return sorted(url for (url,) in rows)


@pytest.mark.slow
@pytest.mark.corpus
def test_thirty_percent_gone_at_once_marks_none_exits_3_until_confirmed(
    newest: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    archive_dir = tmp_path / "a"
    with FixtureSite(newest) as site:
        code, first = _sync(capsys, site, archive_dir, "--full")
        assert code == 0 and first["counts"] == {"new": 80}
        gone = site.urls()[::10][:8] + site.urls()[5::10][:8] + site.urls()[7::10][:8]
        assert len(set(gone)) == 24  # 30% of 80
        for url in gone:
            site.remove(url)

        code = main(site.sync_args(archive_dir, "--full"))
        err = capsys.readouterr().err
        assert code == 3
        assert "24 of 80 statements (30%)" in err and "--confirm-removals" in err
        assert len(err.strip().splitlines()) == 1  # one line says it
        assert gone[0] in err or any(url in err for url in gone)
        assert _removed_urls(archive_dir) == []  # none marked
        with Archive(archive_dir) as archive:
            assert not archive.index.events(kinds=["removed"])
            run = archive.index.last_run("whitehouse")
            assert run is not None and not run[2] and "held_removals" in run[3]

        site.reset_counts()
        code, held = _sync(capsys, site, archive_dir)  # still held: re-checked, still not marked
        assert code == 3 and sorted(held["held_removals"]) == sorted(gone)
        assert site.statement_requests() == 24 and _removed_urls(archive_dir) == []

        site.reset_counts()
        code, confirmed = _sync(capsys, site, archive_dir, "--confirm-removals")  # no --full needed
        assert code == 0 and confirmed["counts"] == {"removed": 24}
        assert site.statement_requests() == 24
        assert _removed_urls(archive_dir) == sorted(gone)

        code, after = _sync(capsys, site, archive_dir)
        assert code == 0 and not after["events"] and not after["held_removals"]


@pytest.mark.corpus
def test_a_few_gone_are_marked_without_confirmation(
    newest: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    archive_dir = tmp_path / "a"
    with FixtureSite(newest) as site:
        assert _sync(capsys, site, archive_dir, "--full")[0] == 0
        gone = site.urls()[20:36]  # 16 of 80: exactly the 20% allowed
        for url in gone:
            site.remove(url, status=404)
        code, report = _sync(capsys, site, archive_dir, "--full")
    assert code == 0 and report["counts"]["removed"] == 16
    assert _removed_urls(archive_dir) == sorted(gone)


@pytest.mark.corpus
def test_a_statement_dropped_from_the_listing_is_removed_by_a_plain_sync(
    newest: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    archive_dir = tmp_path / "a"
    with FixtureSite(newest) as site:  # one sitemap child, listings 10 a page
        assert _sync(capsys, site, archive_dir, "--full")[0] == 0
        site.reset_counts()
        assert _sync(capsys, site, archive_dir)[1]["counts"] == {}  # idle: nothing re-checked
        assert site.statement_requests() == 0
        newest_lastmod = max(site.urls(), key=site.lastmod)
        url = next(u for u in site.urls()[2:9] if u != newest_lastmod)  # sitemap lastmod stays
        site.remove(url)
        site.reset_counts()
        code, report = _sync(capsys, site, archive_dir)
        assert site.count("/post-sitemap") == 0  # the sitemap child was not read again
        assert site.statement_requests() == 1  # the one no longer listed, re-checked
    assert code == 0 and [e["kinds"] for e in report["events"]] == [["removed"]]
    assert _removed_urls(archive_dir) == [url]


@pytest.mark.slow
@pytest.mark.corpus
def test_a_statement_dropped_from_its_sitemap_is_removed_by_a_plain_sync(
    newest: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    archive_dir = tmp_path / "a"
    with FixtureSite(newest, sitemap_size=10) as site:  # eight sitemap children
        assert _sync(capsys, site, archive_dir, "--full")[0] == 0
        url = site.urls()[60]  # far past the listing's first page
        site.remove(url)
        site.reset_counts()
        code, report = _sync(capsys, site, archive_dir)
        assert site.count("/post-sitemap") >= 1  # the children whose lastmod moved
        assert site.statement_requests() == 1
        site.reset_counts()
        assert _sync(capsys, site, archive_dir)[1]["counts"] == {}  # and only once
        assert site.statement_requests() == 0
    assert code == 0 and [e["kinds"] for e in report["events"]] == [["removed"]]
    assert _removed_urls(archive_dir) == [url]


def test_max_removed_share_is_validated(tmp_path: Path) -> None:
    seed = (PROJECT / "seeds" / "whitehouse.toml").read_text(encoding="utf-8")
    assert "max_removed_share = 0.2" in seed
    assert load_source(PROJECT / "seeds" / "whitehouse.toml").sync.max_removed_share == 0.2
    for bad in ("1.5", "-0.1", '"20%"'):
        path = tmp_path / "whitehouse.toml"
        path.write_text(seed.replace("max_removed_share = 0.2", f"max_removed_share = {bad}"))
        with pytest.raises(SourceError, match=r"max_removed_share.*line \d+|line \d+.*share"):
            load_source(path)
    path.write_text(seed.replace("max_removed_share = 0.2", "max_removed_share = 1"))
    source = load_source(path)
    assert dataclasses.replace(source).sync.max_removed_share == 1.0


def test_an_older_index_gains_the_places_columns(tmp_path: Path) -> None:
    import sqlite3

    from storage.index import Index, _statements_of
    from storage.schema import MIGRATIONS

    path = tmp_path / "index.sqlite"
    db = sqlite3.connect(path)
    for script in MIGRATIONS[:4]:
        for sql in _statements_of(script):
            db.execute(sql)
    db.execute("PRAGMA user_version = 4")
    db.commit()
    db.close()
    index = Index(path)
    columns = {row[1] for row in index.db.execute("PRAGMA table_info(fetch_state)")}
    assert {"sitemap", "listing"} <= columns
    assert index.listed_in(["s"], ["l"]) == []
    index.close()


@pytest.mark.corpus
def test_an_interrupted_sync_leaves_its_removals_to_the_next_one(
    newest: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A stopped run saw only part of the source: its 404s are not judged against the whole
    (which would let an outage slip under the guard) but re-checked by the next sync."""
    from crawler.config import ArchiveConfig
    from crawler.jobs import FetchSettings, failure_reason, run_sync
    from crawler.syncer import SyncOptions, SyncReport

    archive_dir = tmp_path / "a"
    seed = load_source(PROJECT / "seeds" / "whitehouse.toml")
    with FixtureSite(newest) as site:
        assert _sync(capsys, site, archive_dir, "--full")[0] == 0
        gone = site.urls()[:4]
        for url in gone:
            site.remove(url)
        site.reset_counts()
        asked = {site.url_path(url) for url in gone}
        result = run_sync(
            archive_dir,
            [seed],
            SyncOptions(full=True),
            FetchSettings(base_url=site.base_url, rate=0),
            config=ArchiveConfig(),
            stop=lambda: asked <= {path for _, _, path, _ in site.requests},  # then Ctrl-C
        )
        report = result.reports[0]
        assert any("4 removals left for the next sync" in n for n in report.notes), report.notes
        assert _removed_urls(archive_dir) == []
        code, after = _sync(capsys, site, archive_dir)  # a plain sync re-checks and marks them
        assert code == 0 and after["counts"]["removed"] == 4
        assert _removed_urls(archive_dir) == sorted(gone)

    held = SyncReport("whitehouse", held=["u"], suspicion="5 of 9 statements answer HTTP 404")
    assert failure_reason(held) == "5 of 9 statements answer HTTP 404"  # status gives the reason
