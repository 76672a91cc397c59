"""Offline and unreachable: fail fast, once, in one honest line (issue 9, item 6).

The failures are the real exception shapes httpx raises (a ``ConnectError`` caused by a
``socket.gaierror``), played by ``httpx.MockTransport``: no test makes a DNS lookup.
"""

from __future__ import annotations

import datetime as dt
import socket
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from crawler import jobs
from crawler.cli import crawl as cli_crawl
from crawler.cli import main
from crawler.errors import FetchError, Stopped, Unreachable
from crawler.fetch import Fetcher, make_client
from crawler.syncer import Syncer, SyncOptions
from crawler.walk import discover
from storage.archive import Archive
from tests.test_fetch import PAGE, FakeTime, source

Handler = Callable[[httpx.Request], httpx.Response]


def no_dns(request: httpx.Request) -> httpx.Response:
    """What httpx raises offline: the resolver's error, wrapped twice."""
    try:
        raise socket.gaierror(socket.EAI_AGAIN, "Temporary failure in name resolution")
    except socket.gaierror as cause:
        raise httpx.ConnectError("[Errno -3] Temporary failure in name resolution") from cause


def refused(request: httpx.Request) -> httpx.Response:
    try:
        raise ConnectionRefusedError(111, "Connection refused")
    except ConnectionRefusedError as cause:
        raise httpx.ConnectError("[Errno 111] Connection refused") from cause


def counting(handler: Handler) -> tuple[Handler, list[str]]:
    seen: list[str] = []

    def route(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        return handler(request)

    return route, seen


def offline_fetcher(handler: Handler, time: FakeTime) -> Fetcher:
    client = make_client(transport=httpx.MockTransport(handler))
    return Fetcher(client, source(), sleep=time.sleep, clock=time.clock)


def test_a_name_that_does_not_resolve_is_not_retried_and_says_so() -> None:
    route, seen = counting(no_dns)
    time = FakeTime()
    fetcher = offline_fetcher(route, time)
    with pytest.raises(Unreachable) as caught:
        fetcher.get(PAGE)
    assert str(caught.value) == "cannot reach www.whitehouse.gov: name not resolved (offline?)"
    assert len(seen) == 1 and time.sleeps == []  # one attempt (robots.txt), no backoff
    with pytest.raises(Unreachable):  # the host is known to be down: no second request
        fetcher.get(PAGE.replace("a-statement", "another"))
    assert len(seen) == 1


def test_a_refused_connection_is_still_retried() -> None:
    route, seen = counting(refused)
    time = FakeTime()
    fetcher = offline_fetcher(route, time)
    with pytest.raises(FetchError, match="gave up after 4 attempts"):
        fetcher.get(PAGE)
    assert len(seen) == 4 and len(time.sleeps) == 3


@pytest.mark.parametrize(
    ("base_url", "words"),
    [("ftp://mirror.example", "unsupported protocol"), ("http://[::1", "Invalid")],
)
def test_a_bad_scheme_or_url_fails_at_once(base_url: str, words: str) -> None:
    time = FakeTime()
    client = make_client()  # no request can leave: the URL is refused before any connection
    fetcher = Fetcher(client, source(), base_url=base_url, sleep=time.sleep, clock=time.clock)
    with pytest.raises(FetchError, match=words) as caught:
        fetcher.get(PAGE)
    assert not isinstance(caught.value, Unreachable) and time.sleeps == []


def test_robots_txt_is_asked_once_per_host_even_when_it_fails() -> None:
    def flaky(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/robots.txt":
            return httpx.Response(503)
        return httpx.Response(200, text="<html></html>")

    route, seen = counting(flaky)
    fetcher = offline_fetcher(route, FakeTime())
    for _ in range(3):
        with pytest.raises(FetchError, match=r"robots\.txt: gave up"):
            fetcher.get(PAGE)
    assert seen.count("https://www.whitehouse.gov/robots.txt") == 4  # one retried fetch


def test_discovery_reports_one_failure_for_an_unreachable_host() -> None:
    route, seen = counting(no_dns)
    found = discover(offline_fetcher(route, FakeTime()), source())
    assert found.failures == ["cannot reach www.whitehouse.gov: name not resolved (offline?)"]
    assert len(seen) == 1


def test_a_failure_shared_by_the_methods_names_them_once() -> None:
    robots_down = offline_fetcher(lambda r: httpx.Response(503), FakeTime())
    (failure,) = discover(robots_down, source()).failures
    assert failure.startswith("listing, sitemap, feed discovery failed: ")


def test_an_offline_first_sync_counts_the_failure_and_claims_nothing(tmp_path: Path) -> None:
    now = dt.datetime(2026, 8, 22, tzinfo=dt.UTC)
    fetcher = offline_fetcher(no_dns, FakeTime())
    with Archive(tmp_path / "a", clock=lambda: now) as archive:
        report = Syncer(archive, source(), fetcher, SyncOptions(), clock=lambda: now).run()
    assert report.counts["failed"] == 1 and report.notes == []
    assert report.failures == [
        ("discovery", "cannot reach www.whitehouse.gov: name not resolved (offline?)")
    ]


@pytest.fixture
def offline(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Every client the CLI makes is offline; yields the URLs it tried."""
    route, seen = counting(no_dns)

    def client(**kw: object) -> httpx.Client:
        return make_client(transport=httpx.MockTransport(route))

    monkeypatch.setattr(jobs, "make_client", client)
    monkeypatch.setattr(cli_crawl, "make_client", client)
    yield seen


def test_the_first_command_offline_is_one_line_and_a_counted_failure(
    offline: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["sync", "--archive", str(tmp_path / "a")]) == 1
    out, err = capsys.readouterr()
    assert (
        err
        == "statements: whitehouse: cannot reach www.whitehouse.gov: name not resolved (offline?)\n"
    )
    assert "first sync" not in out
    header, row = (line.split() for line in out.splitlines()[1:4:2])
    assert dict(zip(header, row, strict=True))["failed"] == "1"
    assert len(offline) == 1
    assert main(["status", "--archive", str(tmp_path / "a")]) == 0
    status = capsys.readouterr().out
    assert "FAILED: cannot reach www.whitehouse.gov: name not resolved (offline?)" in status


def test_a_stop_ends_the_fetching_and_discovery_gives_no_verdict() -> None:
    route, seen = counting(lambda request: httpx.Response(503))
    stop = threading.Event()
    time = FakeTime()

    def sleep(seconds: float) -> None:  # Ctrl-C arrives during the first backoff
        time.sleep(seconds)
        stop.set()

    client = make_client(transport=httpx.MockTransport(route))
    fetcher = Fetcher(client, source(), sleep=sleep, clock=time.clock, stop=stop.is_set)
    with pytest.raises(Stopped):
        fetcher.get(PAGE)
    assert len(seen) == 1  # no attempt after the stop
    found = discover(fetcher, source(), expect_items=True)  # not "the source is broken"
    assert found.failures == [] and found.found == {} and len(seen) == 1
