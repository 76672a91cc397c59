from __future__ import annotations

import dataclasses
from collections.abc import Callable

import httpx
import pytest

from crawler.errors import FetchError, OffSiteError, RobotsDisallowed, TooLargeError
from crawler.fetch import (
    DEFAULT_USER_AGENT,
    Fetcher,
    RateLimiter,
    RetryPolicy,
    make_client,
    retry_after_seconds,
)
from crawler.source import Politeness, Source, load_source
from tests.conftest import PROJECT

ORIGIN = "https://www.whitehouse.gov"
PAGE = f"{ORIGIN}/articles/2025/03/a-statement/"


class FakeTime:
    """A clock that only moves when something sleeps."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


Handler = Callable[[httpx.Request], httpx.Response]


def source(**politeness: object) -> Source:
    base = load_source(PROJECT / "seeds" / "whitehouse.toml")
    polite = dataclasses.replace(Politeness(), jitter=0.0, **politeness)  # type: ignore[arg-type]
    return dataclasses.replace(base, politeness=polite)


def fetcher(handler: Handler, time: FakeTime, robots: str = "", **kw: object) -> Fetcher:
    seen: list[httpx.Request] = []

    def route(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.url.path == "/robots.txt":
            return httpx.Response(200, text=robots) if robots else httpx.Response(404)
        return handler(request)

    client = make_client(transport=httpx.MockTransport(route))
    f = Fetcher(client, source(**kw), sleep=time.sleep, clock=time.clock)  # type: ignore[arg-type]
    f.seen = seen  # type: ignore[attr-defined]
    return f


def test_user_agent_is_honest() -> None:
    assert "statement-sync" in DEFAULT_USER_AGENT and "+http" in DEFAULT_USER_AGENT
    seen = []
    f = fetcher(
        lambda r: (seen.append(r.headers["user-agent"]), httpx.Response(200))[1], FakeTime()
    )
    f.get(PAGE)
    assert seen == [DEFAULT_USER_AGENT]


def test_robots_disallow_is_obeyed_and_fetched_once() -> None:
    time = FakeTime()
    f = fetcher(lambda r: httpx.Response(200), time, robots="User-agent: *\nDisallow: /articles/\n")
    for _ in range(3):
        with pytest.raises(RobotsDisallowed):
            f.get(PAGE)
    assert f.get(f"{ORIGIN}/news/").status == 200
    assert [r.url.path for r in f.seen] == ["/robots.txt", "/news/"]  # type: ignore[attr-defined]


def test_crawl_delay_slows_the_rate() -> None:
    time = FakeTime()
    f = fetcher(
        lambda r: httpx.Response(200), time, robots="User-agent: *\nCrawl-delay: 5\n", rate=10.0
    )
    for _ in range(3):
        f.get(PAGE)
    assert time.sleeps == [5.0, 5.0, 5.0]  # each page waits the delay after the request before


def test_rate_limit_spaces_requests() -> None:
    time = FakeTime()
    limiter = RateLimiter(2.0, 0.5, clock=time.clock, sleep=time.sleep, rand=lambda: 1.0)
    for _ in range(4):
        limiter.wait()
    assert time.sleeps == [0.75, 0.75, 0.75]
    unlimited = RateLimiter(0, clock=time.clock, sleep=time.sleep)
    for _ in range(5):
        unlimited.wait()
    assert len(time.sleeps) == 3


def test_retry_after_is_honoured_then_success() -> None:
    time = FakeTime()
    answers = iter(
        [
            httpx.Response(429, headers={"Retry-After": "7"}),
            httpx.Response(503),
            httpx.Response(200, text="ok"),
        ]
    )
    f = fetcher(lambda r: next(answers), time, rate=0.0)
    assert f.get(PAGE).content == b"ok"
    assert (
        time.sleeps[0] == 7.0 and len(time.sleeps) == 2 and 2.0 <= time.sleeps[1] <= 3.0
    )  # backoff: 2 s and jitter


@pytest.mark.parametrize("status", [400, 403, 404, 410, 501])
def test_final_statuses_are_not_retried(status: int) -> None:
    calls = []
    f = fetcher(lambda r: (calls.append(1), httpx.Response(status))[1], FakeTime(), rate=0.0)
    assert f.get(PAGE).status == status
    assert len(calls) == 1


def test_retries_are_bounded_and_the_error_says_so() -> None:
    calls = []
    f = fetcher(lambda r: (calls.append(1), httpx.Response(500))[1], FakeTime(), rate=0.0)
    with pytest.raises(FetchError, match="gave up after 4 attempts: HTTP 500") as info:
        f.get(PAGE)
    assert info.value.status == 500 and len(calls) == 4


def test_timeouts_and_resets_are_retried() -> None:
    errors = iter([httpx.ReadTimeout("slow"), httpx.RemoteProtocolError("reset")])

    def handler(request: httpx.Request) -> httpx.Response:
        error = next(errors, None)
        if error is not None:
            raise error
        return httpx.Response(200)

    assert fetcher(handler, FakeTime(), rate=0.0).get(PAGE).status == 200


def test_redirects_are_followed_within_the_hosts_only() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/old/":
            return httpx.Response(301, headers={"Location": "https://whitehouse.gov/new/"})
        if request.url.path == "/new/":
            return httpx.Response(200, text="here")
        return httpx.Response(302, headers={"Location": "https://evil.example/x"})

    f = fetcher(handler, FakeTime(), rate=0.0)
    response = f.get(f"{ORIGIN}/old/")
    assert response.url == "https://whitehouse.gov/new/"
    assert response.redirects == (f"{ORIGIN}/old/",)
    with pytest.raises(OffSiteError, match="leaves the source's hosts"):
        f.get(f"{ORIGIN}/elsewhere/")
    assert all(r.url.host != "evil.example" for r in f.seen)  # type: ignore[attr-defined]


def test_redirect_chains_are_bounded() -> None:
    f = fetcher(
        lambda r: httpx.Response(302, headers={"Location": str(r.url) + "x/"}), FakeTime(), rate=0.0
    )
    with pytest.raises(FetchError, match="more than 10 redirects"):
        f.get(f"{ORIGIN}/loop/")


@pytest.mark.parametrize(
    "url", ["https://evil.example/a/", "file:///etc/passwd", "http://127.0.0.1/"]
)
def test_urls_off_the_hosts_are_never_requested(url: str) -> None:
    f = fetcher(lambda r: httpx.Response(200), FakeTime())
    with pytest.raises(OffSiteError):
        f.get(url)
    assert f.seen == []  # type: ignore[attr-defined]


def test_bodies_over_the_cap_are_refused_while_streaming() -> None:
    big = httpx.Response(200, content=iter([b"x" * 1000] * 50))  # no Content-Length
    f = fetcher(lambda r: big, FakeTime(), rate=0.0, max_bytes=10_000)
    with pytest.raises(TooLargeError, match="over the cap"):
        f.get(PAGE)
    declared = fetcher(
        lambda r: httpx.Response(200, content=b"x" * 20_000), FakeTime(), rate=0.0, max_bytes=10_000
    )
    with pytest.raises(TooLargeError, match="declares 20,000 bytes"):
        declared.get(PAGE)


def test_conditional_get_sends_validators_and_reads_304() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.headers.get("if-none-match") == '"v1"':
            return httpx.Response(304)
        return httpx.Response(200, headers={"ETag": '"v1"', "Last-Modified": "Sat, 1 Mar 2025"})

    f = fetcher(handler, FakeTime(), rate=0.0)
    first = f.get(PAGE)
    assert first.headers["etag"] == '"v1"'
    again = f.get(PAGE, etag='"v1"', last_modified=first.headers["last-modified"])
    assert again.not_modified


def test_base_url_sends_requests_to_a_mirror_but_keeps_real_urls() -> None:
    hosts = []

    def handler(request: httpx.Request) -> httpx.Response:
        hosts.append(request.url.host)
        if request.url.path == "/a/":
            return httpx.Response(301, headers={"Location": "http://127.0.0.1:9/b/"})
        return httpx.Response(200)

    client = make_client(transport=httpx.MockTransport(handler))
    f = Fetcher(client, source(rate=0.0), base_url="http://127.0.0.1:9", obey_robots=False)
    response = f.get(f"{ORIGIN}/a/")
    assert response.url == f"{ORIGIN}/b/" and set(hosts) == {"127.0.0.1"}


def test_retry_after_parsing() -> None:
    assert retry_after_seconds("120") == 120.0
    assert retry_after_seconds("Wed, 21 Oct 2015 07:28:00 GMT", now=1445412480.0) == 0.0
    assert retry_after_seconds("soon") is None
    assert RetryPolicy().attempts == 4


def test_text_decodes_with_the_declared_charset() -> None:
    body = "café".encode("cp1252")
    headers = {"Content-Type": "text/html; charset=windows-1252"}
    f = fetcher(lambda r: httpx.Response(200, content=body, headers=headers), FakeTime(), rate=0.0)
    assert f.get(PAGE).text == "café"


def test_concurrency_is_capped() -> None:
    import threading

    active, peak = [0], [0]
    lock = threading.Lock()
    full = threading.Event()  # set once two requests are in flight together

    def handler(request: httpx.Request) -> httpx.Response:
        with lock:
            active[0] += 1
            peak[0] = max(peak[0], active[0])
            if active[0] == 2:
                full.set()
        full.wait(30)  # the first request waits for a second one: the cap is reached, not timed
        with lock:
            active[0] -= 1
        return httpx.Response(200)

    f = Fetcher(
        make_client(transport=httpx.MockTransport(handler)),
        source(rate=0.0),
        concurrency=2,
        obey_robots=False,
    )
    threads = [threading.Thread(target=f.get, args=(PAGE,)) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert peak[0] == 2 and f.stats.requests == 6
