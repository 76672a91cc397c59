"""The fake site's state and its methods for tests: publish, edit, move, remove, count requests."""

from __future__ import annotations

import datetime as dt
import re
import threading
from collections import Counter
from collections.abc import Iterable
from pathlib import Path
from urllib.parse import urlsplit

from storage.document import Statement, loads
from tests.fixture_site.answers import _Answers
from tests.fixture_site.content import (
    DEFAULT_ROBOTS,
    ORIGIN,
    READERS,
    _aware,
    _Entry,
    _latest,
    _usable,
    render_bodies,
    seed,
)
from tests.fixture_site.faults import FAULT_KINDS, _Fault, _Faults
from tests.fixture_site.hostile import Answer, _Hostile
from tests.fixture_site.server import _Server
from tests.fixture_site.templates import _templates
from tests.fixture_site.wpapi import _Api


class FixtureSite(_Faults, _Hostile, _Answers, _Api):
    """The current whitehouse.gov, imitated; every method is safe to call while it serves."""

    def __init__(
        self,
        statements: Iterable[str],
        *,
        page_size: int = 10,
        sitemap_size: int = 1000,
        robots: str = DEFAULT_ROBOTS,
        feed_size: int = 10,
        stall_seconds: float = 5.0,
        fault_rate: float = 0.0,
        fault_seed: int = 0,
        reader: str = "markdown_strict",
    ) -> None:
        if reader not in READERS:
            raise ValueError(f"unknown reader {reader!r}; one of {', '.join(READERS)}")
        self.reader = reader  # how archive bodies become the pages' HTML
        self.page_size, self.sitemap_size, self.feed_size = page_size, sitemap_size, feed_size
        self.robots = robots
        self.stall_seconds = stall_seconds  # how long a "stall" fault holds its answer
        self.fault_rate = fault_rate  # chance of a random fault on a statement page
        self.fault_kinds: tuple[str, ...] = FAULT_KINDS
        self.verbose = False  # log each request on stderr
        self.base_url = ""
        self.requests: list[tuple[float, str, str, dict[str, str]]] = []
        self._lock = threading.RLock()
        self._stopping = threading.Event()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._templates = _templates()
        self._statement_path = re.compile(seed().statement_url)
        self._entries: dict[str, _Entry] = {}  # served path -> statement
        self._redirects: dict[str, tuple[int, str]] = {}  # old path -> (status, Location)
        self._faults: dict[str, list[_Fault]] = {}
        self._planted: dict[str, Answer] = {}  # path -> a hostile or broken answer
        self._planted_children: dict[str, dt.datetime] = {}  # planted child sitemaps
        self.api_status: int | None = None  # the REST API's answer when disabled (401, 404)
        self.api_tracks = True  # False: the API serves bodies as first published (stale)
        self.endless = ""  # "repeat" or "new": /news/ never ends (tests/fixture_site/hostile.py)
        self.injected: Counter[str] = Counter()  # random faults played, by class
        self._next_id = 1000  # WordPress post IDs, in order of publication
        self.fault_seed = fault_seed
        found = _latest(statements)
        bodies = render_bodies([statement.body for statement, _, _ in found], reader)
        for (statement, category, _), body in zip(found, bodies, strict=True):
            self._add(statement, category, body)

    # -- lifecycle

    def start(self, port: int = 0) -> FixtureSite:
        if self._server is not None:
            raise RuntimeError("the fixture site is already serving")
        self._stopping.clear()
        self._server = _Server(self, port)
        host, bound = self._server.server_address[:2]
        self.base_url = f"http://{host!s}:{bound}"
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        server, self._server = self._server, None
        if server is None:
            return
        self._stopping.set()  # ends stalls
        server.shutdown()
        server.drop_connections()
        server.server_close()
        if self._thread is not None:
            self._thread.join(5)

    def __enter__(self) -> FixtureSite:
        return self if self._server is not None else self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- content

    def sync_args(self, archive: Path, *extra: str) -> list[str]:
        """``statements sync`` arguments that crawl this site, politeness off."""
        return [
            "sync",
            "--archive",
            str(archive),
            "--base-url",
            self.base_url,
            "--rate",
            "0",
            *extra,
        ]

    def url_path(self, url: str) -> str:
        """The path the site serves a real URL at."""
        return urlsplit(url).path or "/"

    def urls(self) -> list[str]:
        """The statements' URLs, newest published first (removed ones left out)."""
        with self._lock:
            return [entry.url for entry in self._newest("news")]

    def lastmod(self, url: str) -> dt.datetime:
        """The statement's modified (else published) time: sitemap lastmod and Last-Modified."""
        with self._lock:
            return self._entry(url).lastmod

    def add(self, text: str) -> str:
        """Publish another statement (an archive file text); returns its URL."""
        hit = _usable(text)
        if hit is None:
            raise ValueError("not a statement of the current whitehouse.gov")
        body = render_bodies([hit[0].body], self.reader)[0]
        with self._lock:
            if self.url_path(hit[0].source_url) in self._entries:
                raise ValueError(f"{hit[0].source_url} is already on the site")
            return self._add(hit[0], hit[1], body).url

    def edit(
        self,
        url: str,
        new_text: str,
        *,
        bump_lastmod: bool = True,
        modified: dt.datetime | None = None,
    ) -> None:
        """Replace a statement's title and body with those of another archive text.

        With ``bump_lastmod`` the published time follows the new text and the modified time moves
        to ``modified`` (a replayed edit's own time), by default to now; without it the edit is
        silent: the page changes, its article:modified_time, Last-Modified and sitemap lastmod
        do not.
        """
        new = loads(new_text)
        body = render_bodies([new.body], self.reader)[0]
        with self._lock:
            entry = self._entry(url)
            entry.set_content(new.title, body)
            if bump_lastmod:
                entry.published = _aware(new.published_time or entry.published)
                # Edited now, as a site does: the newest lastmod (so the edit shows in the last
                # sitemap child's lastmod, as Yoast orders its children by modification).
                if modified is not None:
                    entry.modified = _aware(modified)
                    return
                now = dt.datetime.now(seed().tz).replace(microsecond=0)
                old = entry.lastmod
                entry.modified = max(now, old + dt.timedelta(seconds=1))

    def move(
        self, old_url: str, new_url: str, status: int = 301, *, relative: bool = False
    ) -> None:
        """Serve a statement at a new URL; the old path redirects there.

        Location is the new real URL, or with ``relative`` its path. A new URL off the site
        (another host) takes the statement off the site: the old path only redirects.
        """
        if status not in (301, 302, 303, 307, 308):
            raise ValueError(f"{status} is not a redirect status")
        on_site = new_url.startswith(ORIGIN + "/")
        match = seed().statement_match(new_url) if on_site else None
        if on_site and match is None:
            raise ValueError(f"{new_url} is not a statement URL of the site")
        with self._lock:
            entry = self._entry(old_url)
            old_path, new_path = self.url_path(old_url), self.url_path(new_url)
            if match and new_path in self._entries:
                raise ValueError(f"{new_url} already serves a statement")
            del self._entries[old_path]
            location = new_url
            if match:
                entry.url, entry.category, entry.page = ORIGIN + new_path, match["tags"], None
                self._entries[new_path] = entry
                self._redirects.pop(new_path, None)
                location = new_path if relative else entry.url
            self._redirects[old_path] = (status, location)

    def remove(self, url: str, status: int = 410) -> None:
        """Take a statement down: its page answers ``status``; listings and sitemaps drop it."""
        with self._lock:
            self._entry(url).gone = status

    def restore(self, url: str) -> None:
        with self._lock:
            self._entry(url).gone = None

    def count(self, path_prefix: str = "") -> int:
        with self._lock:
            return sum(1 for _, _, path, _ in self.requests if path.startswith(path_prefix))

    def statement_requests(self) -> int:
        """Requests for statement pages (whatever the answer), not listings, sitemaps or feeds."""
        with self._lock:
            return sum(1 for r in self.requests if self._is_statement(r[2]))

    def reset_counts(self) -> None:
        with self._lock:
            self.requests.clear()

    # -- internals: state

    def _add(self, statement: Statement, category: str, body: str) -> _Entry:
        published = _aware(statement.published_time)
        modified = statement.modified_time and _aware(statement.modified_time)
        self._next_id += 1
        entry = _Entry(self._next_id, statement.source_url, category, "", "", published, modified)
        entry.set_content(statement.title, body)
        entry.first_body = body
        self._entries[self.url_path(entry.url)] = entry
        return entry

    def _entry(self, url: str) -> _Entry:
        entry = self._entries.get(self.url_path(url))
        if entry is None:
            raise KeyError(f"no statement is served at {url}")
        return entry

    def _newest(self, section: str) -> list[_Entry]:
        shown = [
            e for e in self._entries.values() if e.gone is None and section in ("news", e.category)
        ]
        return sorted(shown, key=lambda e: (e.published, e.post_id), reverse=True)

    def _is_statement(self, path: str) -> bool:
        return self._statement_path.fullmatch(urlsplit(path).path) is not None
