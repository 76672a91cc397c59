"""A sync's pipeline, seen from outside: fetching, converting and recording overlap, two batches
are converted at once, and pandoc runs two processes at once when it converts every body, one at a
time when it converts only what the native writer refuses (crawler/pipeline.py ``overlapped``,
crawler/syncer.py, crawler/pandoc.py). Structure only, no timings: each property is forced to
show by making one step wait for the other, and would time out (and fail) if the sync ran them one
after the other."""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from crawler import pandoc, parse
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


def _overlapping(real: Any, count: int = 2) -> tuple[Any, list[int]]:
    """``real`` wrapped so that its first ``count`` calls wait for each other (a broken barrier,
    BrokenBarrierError, unless they overlap), and the list of its calls."""
    together = threading.Barrier(count, timeout=SAFETY)
    calls: list[int] = []

    def call(*args: Any, **kwargs: Any) -> Any:
        calls.append(len(calls))
        if len(calls) <= count:
            together.wait()
        return real(*args, **kwargs)

    return call, calls


def test_a_sync_records_before_the_last_fetch_and_converts_two_batches_at_once(
    site: FixtureSite, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    convert, batches = _overlapping(parse.convert_bodies)
    monkeypatch.setattr(parse, "convert_bodies", convert)
    last = site.urls()[-1]
    order: list[str] = []
    recorded = threading.Event()

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
    assert len(batches) >= 3  # a conversion per batch of CONVERT_BATCH


def test_with_the_native_writer_off_a_sync_runs_two_pandoc_at_once(
    site: FixtureSite, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    run, runs = _overlapping(pandoc._run)
    monkeypatch.setattr(pandoc, "_run", run)
    source = whitehouse()
    off = dataclasses.replace(source.convert, options=pandoc.PandocOptions(native=False))
    source = dataclasses.replace(source, convert=off)
    with make_client() as client, Archive(tmp_path / "a", clock=lambda: NOW) as archive:
        fetcher = Fetcher(client, source, base_url=site.base_url)
        report = Syncer(archive, source, fetcher, SyncOptions(full=True), clock=lambda: NOW).run()
    assert report.counts["new"] == COUNT and not report.failures
    assert len(runs) >= 3  # a pandoc run per batch of CONVERT_BATCH


def test_what_the_native_writer_refuses_goes_to_one_pandoc_at_a_time(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Under one lock: a thread's pandoc run excludes every other's."""
    refused = "<div><table><tr><td>x</td></tr></table></div>"
    expected = [pandoc.convert(refused), "y\n", pandoc.convert(refused)]
    held: list[bool] = []
    real_run = pandoc._run

    def run(*args: Any) -> str:
        held.append(pandoc._LEFTOVERS.locked())
        return real_run(*args)

    monkeypatch.setattr(pandoc, "_run", run)
    assert pandoc.Pandoc().convert_many([refused, "<div><p>y</p></div>", refused]) == expected
    assert held == [True]  # the two refused bodies in one pandoc run, under the lock
    held.clear()
    assert pandoc.Pandoc().convert(refused) == expected[0]
    assert held == [True]  # one body alone too
    held.clear()
    pandoc.Pandoc(pandoc.PandocOptions(native=False)).convert_many([refused, refused])
    assert held == [False]  # pandoc alone: its processes run side by side
