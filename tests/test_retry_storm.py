"""A retry storm over a socket: statements answering 503 or 429 with Retry-After, again and again,
hold up neither the fetching nor the recording of the others (crawler/pipeline.py).

No wall clock: the fetcher's sleep is a fake that, instead of sleeping the Retry-After, waits
until every healthy statement has been handed to the recorder. Were a batch to wait for its
slowest member, that would never happen, and the test fails."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from crawler.fetch import Fetcher, make_client
from crawler.syncer import Syncer, SyncOptions
from storage.archive import Archive
from tests.fixture_site import FixtureSite, usable_texts
from tests.test_sync import NOW, whitehouse

pytestmark = [pytest.mark.corpus]
SAFETY = 20.0  # seconds a retry waits for the others before giving up: only when they are held
COUNT, STORM, TIMES = 40, 5, 2


@pytest.fixture
def site(corpus: tuple[tuple[str, str], ...]) -> Iterator[FixtureSite]:
    with FixtureSite(usable_texts((t for _, t in corpus), COUNT)) as running:
        yield running


def stormy(site: FixtureSite) -> list[str]:
    """``STORM`` statements spread over the plan, the first among the first planned, answering
    429 (Retry-After 5) or 503 (Retry-After 7) ``TIMES`` times before they succeed."""
    urls = site.urls()
    chosen = urls[:: len(urls) // STORM][:STORM]
    for n, url in enumerate(chosen):
        status, after = (503, 7) if n % 2 else (429, 5)
        site.fail(url, "status", times=TIMES, status=status, retry_after=after)
    return chosen


class Run:
    """A ``--full`` sync whose retry sleeps wait until the healthy statements are recorded."""

    def __init__(self, site: FixtureSite, healthy: int, *, stop_when_retrying: bool = False):
        self.site, self.healthy = site, healthy
        self.stop_when_retrying = stop_when_retrying
        self.stop = threading.Event()
        self.recorded_healthy = threading.Event()
        self.sleeps: list[tuple[float, bool]] = []  # (Retry-After, the others recorded meanwhile)
        self.records = 0
        if healthy == 0:
            self.recorded_healthy.set()

    def sleep(self, seconds: float) -> None:
        """The fetcher's sleep; with rate 0 only retries sleep."""
        self.sleeps.append((seconds, self.recorded_healthy.wait(SAFETY)))
        if self.stop_when_retrying:
            self.stop.set()  # Ctrl-C while the retried statements wait

    def counting(self, record: Any) -> Any:
        def counted(*args: Any, **kw: Any) -> Any:
            self.records += 1
            if self.records >= self.healthy:
                self.recorded_healthy.set()  # the retried ones can only come in a later batch
            return record(*args, **kw)

        return counted

    def __call__(self, root: Path) -> tuple[Syncer, list[str]]:
        source = whitehouse()
        with make_client() as client, Archive(root, clock=lambda: NOW) as archive:
            fetcher = Fetcher(
                client, source, base_url=self.site.base_url, sleep=self.sleep, stop=self.stop.is_set
            )
            options = SyncOptions(full=True, chunk=10)
            syncer = Syncer(
                archive, source, fetcher, options, clock=lambda: NOW, stop=self.stop.is_set
            )
            syncer.recorder.record = self.counting(syncer.recorder.record)  # type: ignore[method-assign]
            syncer.run()
            rows = archive.index.db.execute(
                "SELECT s.url FROM events e JOIN statements s ON s.id = e.statement_id"
                " ORDER BY e.id"
            )
            recorded = [url for (url,) in rows]
        return syncer, recorded


def test_retried_statements_hold_up_no_other_and_are_archived_once(
    site: FixtureSite, tmp_path: Path
) -> None:
    retried = stormy(site)
    run = Run(site, COUNT - STORM)
    syncer, recorded = run(tmp_path / "a")
    assert sorted(s for s, _ in run.sleeps) == [5.0] * 6 + [7.0] * 4  # Retry-After obeyed
    assert all(others for _, others in run.sleeps), "a retry held up the others"
    places = [n for n, url in enumerate(recorded) if url in retried]
    assert places == list(range(COUNT - STORM, COUNT))  # recorded after every healthy one
    assert sorted(recorded) == sorted(site.urls())  # each archived, once
    assert not syncer.report.failures and syncer.report.counts["new"] == COUNT
    assert len(list((tmp_path / "a").rglob("*.md"))) == COUNT
    asked = [site.url_path(target) for _, _, target, _ in site.requests]
    for url in site.urls():
        assert asked.count(site.url_path(url)) == (TIMES + 1 if url in retried else 1)


def test_a_stop_during_a_retry_storm_keeps_what_was_fetched(
    site: FixtureSite, tmp_path: Path
) -> None:
    retried = stormy(site)
    syncer, recorded = Run(site, COUNT - STORM, stop_when_retrying=True)(tmp_path / "a")
    assert sorted(recorded) == sorted(set(site.urls()) - set(retried))  # the healthy ones
    assert len(list((tmp_path / "a").rglob("*.md"))) == COUNT - STORM
    assert not list((tmp_path / "a").rglob("*.part"))
    assert f"stopped early: {STORM} of {COUNT} not fetched" in syncer.report.notes
    again = Run(site, 0)  # no wait: each stormy statement has one fault left
    syncer, recorded = again(tmp_path / "a")
    assert len(again.sleeps) == STORM and sorted(recorded[COUNT - STORM :]) == sorted(retried)
    assert syncer.report.counts["new"] == STORM and not syncer.report.failures
    assert len(list((tmp_path / "a").rglob("*.md"))) == COUNT
