"""A sync's pipeline, seen from outside: fetching, converting and recording overlap, and both
pandoc processes run (crawler/pipeline.py ``overlapped``, crawler/syncer.py). Structure only, no
timings: each property is forced to show by making one step wait for the other, and would time
out (and fail) if the sync ran them one after the other."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from crawler import pandoc
from crawler.fetch import Fetcher, Response, make_client
from crawler.syncer import CONVERT_BATCH, Syncer, SyncOptions
from storage.archive import Archive
from storage.document import loads
from tests.fixture_site import FixtureSite, usable_texts
from tests.test_sync import NOW, whitehouse

SAFETY = 30.0  # seconds a step waits for the other (only reached when the pipeline is wrong)
COUNT = 3 * CONVERT_BATCH


@pytest.fixture(scope="module")
def site(corpus: tuple[tuple[str, str], ...]) -> Iterator[FixtureSite]:
    texts = usable_texts(t for _, t in corpus)
    newest = sorted(texts, key=lambda t: str(loads(t).meta.get("published_time")))[-COUNT:]
    with FixtureSite(newest) as running:
        yield running


def test_a_sync_records_before_the_last_fetch_and_runs_two_pandoc_at_once(
    site: FixtureSite, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    recorded = threading.Event()
    two = threading.Barrier(2, timeout=SAFETY)  # the first two pandoc runs wait for each other
    runs = iter(range(1000))
    real_run = pandoc._run

    def run(*args: Any) -> str:
        if next(runs) < 2:
            two.wait()  # broken (BrokenBarrierError) unless two pandoc processes overlap
        return real_run(*args)

    monkeypatch.setattr(pandoc, "_run", run)
    last = site.urls()[-1]
    order: list[str] = []

    class Holding(Fetcher):
        def get(self, url: str, **kw: Any) -> Response:
            if url.endswith(site.url_path(last)):  # one page waits until others are recorded
                assert recorded.wait(SAFETY), "nothing was recorded while a fetch was pending"
                order.append("last fetched")
            return super().get(url, **kw)

    def progress(phase: str, done: int, total: int | None) -> None:
        if phase == "record" and not recorded.is_set():
            order.append("recording")
            recorded.set()

    source = whitehouse()
    with make_client() as client, Archive(tmp_path / "a", clock=lambda: NOW) as archive:
        fetcher = Holding(client, source, base_url=site.base_url)
        report = Syncer(
            archive, source, fetcher, SyncOptions(full=True), clock=lambda: NOW, progress=progress
        ).run()
    assert report.counts["new"] == COUNT and not report.failures
    assert order == ["recording", "last fetched"]
    assert next(runs) >= 3  # a pandoc run per batch of CONVERT_BATCH
