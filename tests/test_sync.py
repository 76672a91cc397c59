"""`statements sync` end to end against the fixture site, over a socket."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from crawler.cli import main
from crawler.convert import convert_many
from crawler.fetch import Fetcher, RetryPolicy, make_client
from crawler.source import Source, load_source
from crawler.syncer import Syncer, SyncOptions, SyncReport, plan
from storage import diff as wdiff
from storage.archive import Archive
from storage.document import loads, split
from storage.index import FetchState
from storage.lock import archive_lock
from tests.conftest import PROJECT, title_change_kinds
from tests.fixture_site import FixtureSite, usable_texts
from tests.test_crawl_site import OLD_RECIPE

pytestmark = [pytest.mark.corpus]
NOW = dt.datetime(2026, 8, 22, 12, 0, tzinfo=dt.UTC)


def whitehouse() -> Source:
    source = load_source(PROJECT / "seeds" / "whitehouse.toml")
    return dataclasses.replace(source, politeness=dataclasses.replace(source.politeness, rate=0.0))


def run_sync(
    archive_dir: Path,
    site: FixtureSite,
    timeout: float = 5.0,
    now: dt.datetime = NOW,
    **options: Any,
) -> SyncReport:
    source = whitehouse()
    retry = RetryPolicy(attempts=3, initial=0.01, maximum=0.05)
    with make_client(timeout=timeout) as client, Archive(archive_dir, clock=lambda: now) as archive:
        fetcher = Fetcher(client, source, base_url=site.base_url, retry=retry)
        return Syncer(archive, source, fetcher, SyncOptions(**options), clock=lambda: now).run()


def stable(bodies: list[str]) -> list[bool]:
    """Which bodies survive pandoc's Markdown -> HTML -> Markdown round trip, today's recipe."""
    back = convert_many(convert_many(bodies, "markdown_strict", "html"), "html")
    return [a == b and not OLD_RECIPE.search(b) for a, b in zip(back, bodies, strict=True)]


def chosen_edits(revisions: tuple[dict[str, Any], ...], count: int) -> list[dict[str, Any]]:
    """Real edits of current whitehouse.gov statements whose modified_time moved, one per URL."""
    source = whitehouse()
    picked: dict[str, dict[str, Any]] = {}
    records = sorted(revisions, key=lambda r: ("title" not in r["changed_keys"], r["committed_at"]))
    candidates = []
    for record in records:
        old, new = loads(record["old"]), loads(record["new"])
        moved = old.modified_time and new.modified_time and new.modified_time > old.modified_time
        words_moved = not wdiff.same_words(old.body, new.body)
        if (
            not wdiff.is_replacement(old, new)  # another document: tests/test_replaced.py
            and source.statement_match(new.source_url)
            and moved
            and (words_moved or not record["body_changed"])
        ):
            candidates.append(record)
    ok = stable([b for r in candidates for b in (loads(r["old"]).body, loads(r["new"]).body)])
    for i, record in enumerate(candidates):
        url = loads(record["new"]).source_url
        if ok[2 * i] and ok[2 * i + 1] and url not in picked:
            picked[url] = record
    return list(picked.values())[:count]


def expected_kinds(record: dict[str, Any]) -> set[str]:
    kinds = {"metadata"}
    if record["body_changed"]:
        kinds.add("updated")
    if "title" in record["changed_keys"]:
        old, new = loads(record["old"]), loads(record["new"])
        kinds |= title_change_kinds(old.title, new.title)
    return kinds


@pytest.fixture(scope="module")
def scenario(
    corpus: tuple[tuple[str, str], ...], revisions: tuple[dict[str, Any], ...]
) -> tuple[list[str], list[dict[str, Any]]]:
    edits = chosen_edits(revisions, 20)
    urls = {loads(r["new"]).source_url for r in edits}
    others = [t for t in usable_texts(t for _, t in corpus) if loads(t).source_url not in urls]
    texts = [r["old"] for r in edits] + others[: 500 - len(edits)]
    return texts, edits


@pytest.fixture
def site(scenario: tuple[list[str], list[dict[str, Any]]]) -> Iterator[FixtureSite]:
    with FixtureSite(scenario[0]) as running:
        yield running


@pytest.fixture
def small(corpus: tuple[tuple[str, str], ...]) -> Iterator[FixtureSite]:
    """The 80 newest statements: a short sync, some of them within 30 days of NOW."""
    texts = usable_texts(t for _, t in corpus)
    newest = sorted(texts, key=lambda t: str(loads(t).meta.get("published_time")))[-80:]
    with FixtureSite(newest) as running:
        yield running


@pytest.mark.slow
def test_sync_scenario_cold_idle_edits_silent_moves_removals(
    site: FixtureSite,
    scenario: tuple[list[str], list[dict[str, Any]]],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    texts, edits = scenario
    archive_dir = tmp_path / "archive"
    assert len(edits) == 20 and sum("title" in r["changed_keys"] for r in edits) >= 3

    # Cold sync: every statement archived, in the crawler's format.
    cold = run_sync(archive_dir, site, full=True)
    assert cold.counts["new"] == 500 and not cold.failures
    files = sorted(archive_dir.rglob("*.md"))
    assert len(files) == 500
    for text in texts[:60]:
        path = archive_dir / Archive(archive_dir).index.by_url(loads(text).source_url).path  # type: ignore[union-attr]
        assert split(path.read_text())[0] == split(text)[0]

    # Nothing changed: no statement page is requested.
    site.reset_counts()
    idle = run_sync(archive_dir, site)
    assert site.statement_requests() == 0 and idle.requests <= 6 and not idle.events

    # 20 real edits, their lastmod moved: exactly 20 statement fetches, 20 events, right kinds.
    for record in edits:
        site.edit(loads(record["new"]).source_url, record["new"])
    site.reset_counts()
    edited = run_sync(archive_dir, site)
    assert site.statement_requests() == 20
    by_url = {e.url: e for e in edited.events}
    assert len(edited.events) == 20
    for record in edits:
        url = loads(record["new"]).source_url
        assert set(by_url[url].kinds) == expected_kinds(record), url
        if record["body_changed"]:
            assert main(["diff", url, "--archive", str(archive_dir), "--format=json"]) == 0
            body = json.loads(capsys.readouterr().out)["body"]
            assert body and all(c["old"] or c["new"] for c in body)

    # 5 silent edits: a normal sync misses them, --full catches them, marked silent.
    quiet = [loads(t) for t in texts[100:105]]
    for doc in quiet:
        changed = doc.body.replace(" the ", " THE ", 1)
        assert changed != doc.body
        site.edit(doc.source_url, doc.source_url and _with_body(doc, changed), bump_lastmod=False)
    assert not run_sync(archive_dir, site).events
    full = run_sync(archive_dir, site, full=True)
    silent = [e for e in full.events if "silent" in e.kinds]
    assert len(silent) == 5 and all(set(e.kinds) == {"updated", "silent"} for e in silent)
    assert full.counts["not_modified"] >= 490

    # 3 moves (301) and 3 removals (410), then one restoration.
    moved = [loads(t).source_url for t in texts[200:203]]
    gone = [loads(t).source_url for t in texts[300:303]]
    for url in moved:
        site.move(url, url.rstrip("/") + "-moved/")
    for url in gone:
        site.remove(url)
    changes = run_sync(archive_dir, site, full=True)
    kinds = sorted(" ".join(e.kinds) for e in changes.events)
    assert kinds == ["moved"] * 3 + ["removed"] * 3
    site.restore(gone[0])  # its lastmod did not move: a re-check (--full or --audit) finds it
    back = run_sync(archive_dir, site, full=True)
    assert [e.kinds for e in back.events] == [("restored",)]
    assert len(list(archive_dir.rglob("*.md"))) == 500  # no file deleted, none added
    with Archive(archive_dir) as archive:
        assert archive.index.count_statements() == 500
        assert archive.resolve(moved[0]).url == moved[0].rstrip("/") + "-moved/"
        assert archive.resolve(gone[1]).status == "removed"


def _with_body(doc: Any, body: str) -> str:
    from storage.document import Statement, dumps

    return dumps(Statement(doc.meta, body))


def test_first_sync_takes_the_last_30_days_and_says_how_to_backfill(
    small: FixtureSite, tmp_path: Path
) -> None:
    site = small
    report = run_sync(tmp_path / "a", site)
    recent = [
        u for u in site.urls() if (lm := site.lastmod(u)) and lm >= NOW - dt.timedelta(days=30)
    ]
    assert 0 < report.counts["new"] <= len(recent) + 10
    assert report.counts["new"] < 80
    assert any("--full" in note for note in report.notes)


def test_dry_run_writes_nothing(small: FixtureSite, tmp_path: Path) -> None:
    archive_dir = tmp_path / "a"
    report = run_sync(archive_dir, small, full=True, dry_run=True)
    assert report.counts["new"] == 80
    assert not list(archive_dir.rglob("*.md"))
    with Archive(archive_dir) as archive:
        assert archive.index.count_statements() == 0


def test_a_locked_archive_exits_4_and_a_broken_source_exits_3(
    small: FixtureSite, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    site = small
    archive_dir = tmp_path / "a"
    args = ["sync", "--archive", str(archive_dir), "--base-url", site.base_url, "--rate", "0"]
    Archive(archive_dir).close()
    with archive_lock(archive_dir / ".statements"):
        assert main(args) == 4
    assert "locked by another sync" in capsys.readouterr().err
    assert main([*args, "--full", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["sources"][0]["counts"]["new"] == 80
    with FixtureSite([]) as empty:
        broken = [
            "sync",
            "--archive",
            str(archive_dir),
            "--base-url",
            empty.base_url,
            "--rate",
            "0",
        ]
        assert main(broken) == 3
    assert "found no statement where it found some before" in capsys.readouterr().err


def test_plan_is_pure_and_incremental() -> None:
    from crawler.discover import Found

    lastmod = dt.datetime(2026, 1, 2, tzinfo=dt.UTC)
    found = {
        "n": Found("n", published=lastmod),
        "k": Found("k", lastmod=lastmod),
        "m": Found("m", lastmod=lastmod),
    }
    states = {
        "n": None,
        "k": FetchState(1, "k", "active", 1, sitemap_lastmod=lastmod.isoformat()),
        "m": FetchState(2, "m", "active", 1, sitemap_lastmod="2025-01-01T00:00:00+00:00"),
    }
    tasks = plan(found, states)
    assert [(t.url, t.reason) for t in tasks] == [("n", "new"), ("m", "lastmod")]
    assert [t.reason for t in plan(found, states, full=True)] == ["new", "full", "lastmod"]
    assert plan(found, states, since=lastmod + dt.timedelta(days=1))[0].url == "m"


def snapshot(archive_dir: Path) -> tuple[dict[str, bytes], list[tuple[str, int, str]], list[str]]:
    """An archive's files, revisions and events, without the times they were seen."""
    files = {
        p.relative_to(archive_dir).as_posix(): p.read_bytes() for p in archive_dir.rglob("*.md")
    }
    with Archive(archive_dir) as archive:
        db = archive.index.db
        revisions = sorted(
            db.execute(
                "SELECT s.url, r.number, r.content_hash FROM revisions r"
                " JOIN statements s ON s.id = r.statement_id"
            )
        )
        events = sorted(
            f"{url} {kinds}"
            for url, kinds in db.execute(
                "SELECT s.url, e.kinds FROM events e JOIN statements s ON s.id = e.statement_id"
            )
        )
    return files, revisions, events


@pytest.mark.slow
def test_a_sync_killed_halfway_then_rerun_equals_an_uninterrupted_one(
    small: FixtureSite, tmp_path: Path
) -> None:
    import os
    import signal
    import subprocess
    import sys
    import time

    def command(archive_dir: Path) -> list[str]:
        cli = [sys.executable, "-m", "crawler.cli"]
        return [*cli, *small.sync_args(archive_dir, "--full", "--json")]

    env = {**os.environ, "PYTHONPATH": str(PROJECT)}
    whole = tmp_path / "whole"
    subprocess.run(command(whole), check=True, capture_output=True, cwd=PROJECT, env=env)
    killed = tmp_path / "killed"
    small.reset_counts()
    process = subprocess.Popen(
        command(killed), cwd=PROJECT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    deadline = time.monotonic() + 60
    while not any(killed.rglob("*.md")) and time.monotonic() < deadline:  # recording batch 1
        time.sleep(0.01)
    process.send_signal(signal.SIGKILL)
    process.wait()
    half = snapshot(killed)
    assert 0 < len(half[0]) < 80  # it did stop halfway
    subprocess.run(command(killed), check=True, capture_output=True, cwd=PROJECT, env=env)
    assert snapshot(killed) == snapshot(whole)
    assert not list(killed.rglob("*.part"))  # what the killed run left was cleaned up


def test_sync_adopts_an_existing_archive_in_place(
    small: FixtureSite,
    corpus: tuple[tuple[str, str], ...],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    served = set(small.urls())
    archive_dir = tmp_path / "checkout"
    for name, text in corpus:
        if loads(text).source_url in served:
            (archive_dir / name).parent.mkdir(parents=True, exist_ok=True)
            (archive_dir / name).write_text(text)
    before = {p: p.read_bytes() for p in archive_dir.rglob("*.md")}
    small.reset_counts()
    args = ["sync", "--archive", str(archive_dir), "--base-url", small.base_url, "--rate", "0"]
    assert main([*args, "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["adopted"] == len(before) >= 70
    assert small.statement_requests() == 0  # the files are as current as the site says
    assert {p: p.read_bytes() for p in archive_dir.rglob("*.md")} == before
    assert main(args) == 0
    assert "statements sync" in capsys.readouterr().out  # the summary table


def test_audit_rechecks_the_least_recently_checked_few(small: FixtureSite, tmp_path: Path) -> None:
    archive_dir = tmp_path / "a"
    run_sync(archive_dir, small, full=True)
    small.api_status = 404  # no WordPress API: audits by pages (tests/test_wpapi.py has the API)
    served = {small.url_path(u) for u in small.urls()}
    audits = []
    for hour in range(1, 4):
        small.reset_counts()
        report = run_sync(archive_dir, small, now=NOW + dt.timedelta(hours=hour), audit=30)
        assert small.statement_requests() == 30 and report.counts["not_modified"] == 30
        audits.append({p for _, _, p, _ in small.requests if small.url_path(p) in served})
    first, second, third = audits
    assert not first & second and not second & third  # the least recently checked go first
    assert len(first | second | third) == 80  # three audits of 30 swept all 80 statements
