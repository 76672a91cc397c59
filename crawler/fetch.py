"""Polite HTTP fetching: one client factory, robots.txt, rate limits, a narrow retry policy.

:func:`make_client` is the only place an ``httpx.Client`` is made; everything else takes one as an
argument, so tests pass a client over ``httpx.MockTransport`` or point it at the fixture site.
:class:`Fetcher` requests only URLs on its source's allowed hosts, follows redirects itself (each
hop checked), streams bodies under a size cap, sends conditional-GET headers, obeys robots.txt
(``Crawl-delay`` included) and a per-host rate limit, and retries only what is worth retrying.
Requests carry the ``Accept`` header of the source's kind (:mod:`crawler.kinds`), if it has one.
A kind that fetches a statement from another URL than its page's (a JSON API) asks for that URL
here: robots.txt is then read from, and the rate limit and retries apply to, the host fetched.

What a retry within seconds cannot mend is not retried: a host name that does not resolve
(offline, or a typo) raises :class:`Unreachable` at once, and every later request to that host in
the same run fails with it without a request; an unsupported scheme or an invalid URL is a
:class:`FetchError` at once. robots.txt is asked for once per host and run: a failure to get it
is remembered too, so the discovery methods that follow do not each wait through the retries.
``stop`` (Ctrl-C, SIGTERM) ends the fetching: no request starts once it is set (:class:`Stopped`),
and the injected ``sleep`` should return early when it is set.
"""

from __future__ import annotations

import email.utils
import logging
import os
import random
import socket
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Protocol
from urllib.parse import urljoin, urlsplit

import httpx
import protego
import tenacity

from crawler.errors import (
    FetchError,
    OffSiteError,
    RobotsDisallowed,
    Stopped,
    TooLargeError,
    Unreachable,
)
from crawler.kinds.base import kind_of
from crawler.source import Source

log = logging.getLogger(__name__)

ROBOTS_AGENT = "statement-sync"
CONTACT = "https://github.com/statement-sync/statement-sync"
DEFAULT_USER_AGENT = f"{ROBOTS_AGENT}/0.1 (+{CONTACT}; archives official statements)"
RETRY_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
MAX_RETRY_AFTER = 300.0

Sleep = Callable[[float], None]
Clock = Callable[[], float]


def make_client(
    *,
    user_agent: str | None = None,
    timeout: float = 30.0,
    transport: httpx.BaseTransport | None = None,
) -> httpx.Client:
    """The one HTTP client factory: honest User-Agent, timeouts, TLS verified, no auto-redirects."""
    agent = user_agent or os.environ.get("STATEMENTS_USER_AGENT") or DEFAULT_USER_AGENT
    return httpx.Client(
        headers={"User-Agent": agent, "Accept-Encoding": "gzip, deflate"},
        timeout=httpx.Timeout(timeout),
        follow_redirects=False,
        verify=True,
        transport=transport,
        limits=httpx.Limits(max_connections=16, max_keepalive_connections=8),
    )


@dataclass(frozen=True)
class Response:
    url: str  # the final URL, on the source's real origin
    status: int
    headers: Mapping[str, str]
    content: bytes
    redirects: tuple[str, ...] = ()  # the URLs redirected from, in order

    @property
    def not_modified(self) -> bool:
        return self.status == 304

    @property
    def is_html(self) -> bool:
        """An HTML page, or a reply that does not say what it is."""
        kind = self.headers.get("content-type", "").split(";")[0].strip().lower()
        return kind in ("", "text/html", "application/xhtml+xml")

    @property
    def html(self) -> str | bytes:
        """The body for an HTML parser: decoded when the server named a charset, else bytes
        (the parser then reads the page's own <meta charset>)."""
        return self.text if _charset(self.headers.get("content-type", "")) else self.content

    @property
    def text(self) -> str:
        encoding = _charset(self.headers.get("content-type", "")) or "utf-8"
        try:
            return self.content.decode(encoding)
        except (LookupError, UnicodeDecodeError):
            return self.content.decode("utf-8", errors="replace")


def _charset(content_type: str) -> str | None:
    for part in content_type.split(";")[1:]:
        name, _, value = part.strip().partition("=")
        if name.lower() == "charset" and value:
            return value.strip("\"'")
    return None


class _Retryable(Exception):
    def __init__(self, reason: str, status: int | None = None, retry_after: float | None = None):
        super().__init__(reason)
        self.status = status
        self.retry_after = retry_after


def retry_after_seconds(value: str | None, now: float | None = None) -> float | None:
    """``Retry-After`` as seconds: a number, or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


class _StopWhen(tenacity.stop.stop_base):
    """No further attempt once the run is asked to stop."""

    def __init__(self, stopping: Callable[[], bool]):
        self.stopping = stopping

    def __call__(self, retry_state: tenacity.RetryCallState) -> bool:
        return self.stopping()


@dataclass(frozen=True)
class RetryPolicy:
    """Retry only timeouts, connection errors and 408/429/500/502/503/504, a bounded number of
    times, with exponential backoff and jitter; a ``Retry-After`` header sets the wait."""

    attempts: int = 4
    initial: float = 1.0
    maximum: float = 60.0
    sleep: Sleep = time.sleep

    def retrying(self, url: str, stopping: Callable[[], bool] = lambda: False) -> tenacity.Retrying:
        def wait(state: tenacity.RetryCallState) -> float:
            exc = state.outcome.exception() if state.outcome else None
            if isinstance(exc, _Retryable) and exc.retry_after is not None:
                return min(exc.retry_after, MAX_RETRY_AFTER)
            backoff: float = min(self.maximum, self.initial * 2.0 ** (state.attempt_number - 1))
            return backoff + random.uniform(0.0, self.initial)

        def before_sleep(state: tenacity.RetryCallState) -> None:
            exc = state.outcome.exception() if state.outcome else None
            log.info("retrying %s after %s (attempt %d)", url, exc, state.attempt_number)

        return tenacity.Retrying(
            stop=tenacity.stop_after_attempt(self.attempts) | _StopWhen(stopping),
            wait=wait,
            retry=tenacity.retry_if_exception_type(_Retryable),
            sleep=self.sleep,
            before_sleep=before_sleep,
            reraise=True,
        )


class Limiter(Protocol):
    """What the fetcher asks of a rate limit: a wait before each request, and a slower pace
    (robots.txt's ``Crawl-delay``). :class:`RateLimiter` in one process; team mode shares one
    across workers through the database (:class:`crawler.team.SharedLimiter`)."""

    interval: float  # seconds between two requests

    def wait(self) -> None: ...

    def sent(self) -> None:
        """The request waited for has left (its answer began, or it failed)."""

    def slow_to(self, interval: float) -> None: ...


class RateLimiter:
    """At most ``rate`` requests per second (0: no limit), each gap stretched by random jitter."""

    def __init__(
        self,
        rate: float,
        jitter: float = 0.0,
        *,
        clock: Clock = time.monotonic,
        sleep: Sleep = time.sleep,
        rand: Callable[[], float] = random.random,
    ):
        self.interval = 0.0 if rate <= 0 else 1.0 / rate
        self.jitter = jitter
        self.clock, self.sleep, self.rand = clock, sleep, rand
        self._next = self._last = 0.0
        self._lock = threading.Lock()

    def slow_to(self, interval: float) -> None:
        with self._lock:
            self.interval = max(self.interval, interval)
            self._next = max(self._next, self._last + self.interval)

    def sent(self) -> None:
        """Nothing: the slots of one process are counted from when they were given."""

    def wait(self) -> None:
        with self._lock:
            now = self.clock()
            slot = max(now, self._next)
            self._last = slot
            self._next = slot + self.interval * (1.0 + self.jitter * self.rand())
        if slot > now:
            self.sleep(slot - now)


@dataclass
class Stats:
    requests: int = 0
    bytes: int = 0
    by_status: dict[int, int] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(self, status: int, size: int) -> None:
        with self._lock:
            self.requests += 1
            self.bytes += size
            self.by_status[status] = self.by_status.get(status, 0) + 1


class Fetcher:
    """Fetches a source's URLs politely. Thread-safe: one fetcher serves a worker pool."""

    def __init__(
        self,
        client: httpx.Client,
        source: Source,
        *,
        base_url: str | None = None,
        rate: float | None = None,
        concurrency: int | None = None,
        retry: RetryPolicy | None = None,
        sleep: Sleep = time.sleep,
        clock: Clock = time.monotonic,
        obey_robots: bool = True,
        stop: Callable[[], bool] = lambda: False,
        accept: str | None = None,
        limiter: Limiter | None = None,
    ):
        """``limiter``: the rate limit to obey instead of one of this fetcher's own."""
        polite = source.politeness
        # The Accept header of the source's kind (crawler/kinds): a JSON API is asked for JSON.
        self.accept = kind_of(source.kind).accept if accept is None else accept
        self.client = client
        self.source = source
        self.base_url = base_url.rstrip("/") if base_url else None
        self.max_bytes = polite.max_bytes
        self.max_redirects = polite.max_redirects
        self.retry = retry or RetryPolicy(attempts=polite.max_attempts, sleep=sleep)
        self.limiter: Limiter = limiter or RateLimiter(
            polite.rate if rate is None else rate, polite.jitter, clock=clock, sleep=sleep
        )
        self.concurrency = concurrency or polite.concurrency
        self._slots = threading.BoundedSemaphore(self.concurrency)
        self.obey_robots = obey_robots
        self._robots: dict[str, protego.Protego | FetchError | None] = {}
        self._down: dict[str, Unreachable] = {}  # request host -> why it cannot be reached
        self.stop = stop
        self._robots_lock = threading.Lock()
        self.stats = Stats()

    # -- URLs -------------------------------------------------------------------------------

    def request_url(self, url: str) -> str:
        """Where a real URL is requested: the same, or on ``base_url`` (a mirror, the fixture)."""
        if self.base_url is None:
            return url
        parts = urlsplit(url)
        query = f"?{parts.query}" if parts.query else ""
        return f"{self.base_url}{parts.path or '/'}{query}"

    def _real(self, location: str, current: str) -> str:
        """A redirect target as a real URL; refused when it leaves the source's hosts."""
        target = urljoin(current, location)
        if self.base_url is not None:
            base = urlsplit(self.base_url)
            parts = urlsplit(urljoin(self.request_url(current), location))
            if (parts.scheme, parts.netloc) == (base.scheme, base.netloc):
                target = self.source.canonical(parts.geturl())
        if not self.source.allows(target):
            raise OffSiteError(
                f"redirect to {target} leaves the source's hosts",
                url=current,
                hint=f"allowed: {', '.join(self.source.allowed_hosts)}",
            )
        return target

    # -- fetching ---------------------------------------------------------------------------

    def get(
        self,
        url: str,
        *,
        etag: str | None = None,
        last_modified: str | None = None,
        check_robots: bool = True,
        page: str | None = None,
        accept: str | None = None,
    ) -> Response:
        """GET a URL of the source, following redirects within its hosts. ``page``: the
        statement page this URL is fetched for (an API's URL for it), whose host's robots.txt
        must allow it too. ``accept``: this request's Accept header, if not the kind's."""
        if not self.source.allows(url):
            raise OffSiteError("not on the source's hosts; not fetched", url=url)
        if page is not None and check_robots:
            self._check_robots(page)
        headers = {}
        accept = self.accept if accept is None else accept
        if accept and check_robots:  # not on robots.txt, which is text whatever the kind
            headers["Accept"] = accept
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        redirects: list[str] = []
        current = url
        while True:
            if check_robots:
                self._check_robots(current)
            response = self._get_with_retries(current, headers)
            if response.status not in REDIRECT_STATUSES:
                return Response(
                    current, response.status, response.headers, response.content, tuple(redirects)
                )
            location = response.headers.get("location")
            if not location:
                raise FetchError("redirect without a Location", url=current, status=response.status)
            if len(redirects) >= self.max_redirects:
                raise FetchError(f"more than {self.max_redirects} redirects", url=url)
            redirects.append(current)
            current = self._real(location, current)

    def _get_with_retries(self, url: str, headers: dict[str, str]) -> Response:
        host = _host(self.request_url(url))
        if host in self._down:
            raise self._down[host]
        try:
            for attempt in self.retry.retrying(url, self.stop):
                with attempt:
                    return self._get_once(url, headers)
        except Unreachable as exc:
            self._down[host] = exc
            raise
        except _Retryable as exc:
            if self.stop():
                raise Stopped(f"stopped while retrying: {exc}", url=url) from None
            raise FetchError(
                f"gave up after {self.retry.attempts} attempts: {exc}",
                url=url,
                status=exc.status,
                hint="the site may be down or throttling; run again later",
            ) from None
        raise AssertionError("unreachable")  # pragma: no cover

    def _get_once(self, url: str, headers: dict[str, str]) -> Response:
        with self._slots, self._paced():
            if self.stop():
                raise Stopped("asked to stop; not fetched", url=url)
            try:
                with self.client.stream("GET", self.request_url(url), headers=headers) as reply:
                    self.limiter.sent()
                    content = self._read_capped(reply, url)
                    status = reply.status_code
                    reply_headers = {k.lower(): v for k, v in reply.headers.items()}
            except httpx.TimeoutException as exc:
                self.stats.add(0, 0)
                raise _Retryable(f"timed out ({type(exc).__name__})") from None
            except (httpx.UnsupportedProtocol, httpx.InvalidURL) as exc:
                raise FetchError(
                    f"cannot fetch {self.request_url(url)}: {exc}",
                    url=url,
                    hint="check --base-url and the seed's URLs",
                ) from None
            except httpx.ConnectError as exc:
                self.stats.add(0, 0)
                if _name_not_resolved(exc):
                    host = _host(self.request_url(url))
                    raise Unreachable(host, "name not resolved", url=url) from None
                raise _Retryable(f"connection failed ({type(exc).__name__}: {exc})") from None
            except (httpx.TransportError, httpx.DecodingError) as exc:
                self.stats.add(0, 0)
                raise _Retryable(f"connection failed ({type(exc).__name__}: {exc})") from None
        self.stats.add(status, len(content))
        if status in RETRY_STATUSES:
            after = retry_after_seconds(reply_headers.get("retry-after"))
            raise _Retryable(f"HTTP {status}", status, after)
        return Response(url, status, reply_headers, content)

    @contextmanager
    def _paced(self) -> Iterator[None]:
        """Wait for the rate limit's slot; tell it when the request has left."""
        self.limiter.wait()
        try:
            yield
        finally:
            self.limiter.sent()  # a second call, after the answer began, is a no-op

    def _read_capped(self, reply: httpx.Response, url: str) -> bytes:
        declared = reply.headers.get("content-length")
        if declared and declared.isdigit() and int(declared) > self.max_bytes:
            raise TooLargeError(
                f"declares {int(declared):,} bytes, over the cap of {self.max_bytes:,}", url=url
            )
        chunks, size = [], 0
        for chunk in reply.iter_bytes():
            size += len(chunk)
            if size > self.max_bytes:
                raise TooLargeError(f"body over the cap of {self.max_bytes:,} bytes", url=url)
            chunks.append(chunk)
        return b"".join(chunks)

    # -- robots.txt -------------------------------------------------------------------------

    def _check_robots(self, url: str) -> None:
        if not self.obey_robots:
            return
        rules = self._robots_for(url)
        if rules is not None and not rules.can_fetch(url, ROBOTS_AGENT):
            raise RobotsDisallowed("robots.txt disallows this URL", url=url)

    def _robots_for(self, url: str) -> protego.Protego | None:
        """The host's robots.txt rules, asked for once per run; a failure is remembered too."""
        parts = urlsplit(url)
        host = f"{parts.scheme}://{parts.netloc}"
        with self._robots_lock:
            if host not in self._robots:
                try:
                    self._robots[host] = self._load_robots(host + "/robots.txt")
                except Stopped:
                    raise
                except FetchError as exc:
                    self._robots[host] = exc
            rules = self._robots[host]
        if isinstance(rules, FetchError):
            raise rules
        return rules

    def _load_robots(self, robots_url: str) -> protego.Protego | None:
        response = self.get(robots_url, check_robots=False)
        if response.status >= 400:
            log.info("no robots.txt at %s (HTTP %d): all allowed", robots_url, response.status)
            return None
        rules = protego.Protego.parse(response.content.decode("utf-8", errors="replace"))
        delay = rules.crawl_delay(ROBOTS_AGENT)
        if delay:
            log.info("robots.txt asks for a crawl delay of %s s", delay)
            self.limiter.slow_to(float(delay))
        return rules


def _host(url: str) -> str:
    """The host a URL names (the URL itself when it does not parse)."""
    try:
        return urlsplit(url).hostname or url
    except ValueError:
        return url


def _name_not_resolved(exc: BaseException) -> bool:
    """Whether a connection failed because the host name did not resolve (``socket.gaierror``,
    somewhere in the chain of causes httpx and httpcore build)."""
    seen: BaseException | None = exc
    for _ in range(8):
        if seen is None:
            return False
        if isinstance(seen, socket.gaierror):
            return True
        seen = seen.__cause__ or seen.__context__
    return False
