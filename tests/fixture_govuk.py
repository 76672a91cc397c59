"""A fixture GOV.UK: the Search API and the Content API over real HTTP on 127.0.0.1 (port 0).

It serves the real items of ``../shared/pages/gov.uk/content-api`` (when present, read in place,
never copied) and generated ones, and on demand edits them (with a change note: a "major" update
that moves ``public_updated_at``; without: a "minor" one that does not), withdraws them, moves
them to a new ``base_path`` keeping their ``content_id``, removes them, and answers faults (429
with ``Retry-After``, 5xx) a number of times. Every request is counted.

The Search API side follows GOV.UK's published documentation of ``/api/search.json`` (no raw
response was available offline): ``filter_content_store_document_type`` (repeatable), ``order``
(``-public_timestamp`` newest first, or ``public_timestamp``), ``fields`` (repeatable: only those
are returned), ``start`` and ``count``; an unknown parameter is refused with 422, as the
documentation says; the answer is ``{"results": [...], "total": N, "start": S, ...}`` and a
result's ``public_timestamp`` is the item's ``public_updated_at``.
"""

from __future__ import annotations

import copy
import datetime as dt
import hashlib
import json
import threading
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from tests.conftest import SHARED

CONTENT_API = SHARED / "pages" / "gov.uk" / "content-api"
SEARCH_PARAMS = {"filter_content_store_document_type", "order", "fields", "start", "count"}
DEFAULT_COUNT = 10
ROBOTS = "User-agent: *\nDisallow: /*/print$\nDisallow: /search/all*\n"
T0 = dt.datetime(2026, 11, 2, 9, 0, tzinfo=dt.UTC)
TYPES = ("press_release", "news_story", "speech", "oral_statement", "written_statement")


def _iso(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).isoformat(timespec="milliseconds")


def generated_item(n: int, *, published: dt.datetime | None = None) -> dict[str, Any]:
    """A made-up item in the Content API's shape (number ``n``: its id, path and words)."""
    when = published or T0 - dt.timedelta(hours=n)
    kind = TYPES[n % len(TYPES)]
    folder = "speeches" if kind in ("speech", "oral_statement", "written_statement") else "news"
    return {
        "base_path": f"/government/{folder}/generated-statement-{n}",
        "content_id": f"00000000-0000-4000-8000-{n:012d}",
        "document_type": kind,
        "schema_name": "speech" if folder == "speeches" else "news_article",
        "locale": "en",
        "title": f"Generated statement {n}",
        "first_published_at": _iso(when),
        "public_updated_at": _iso(when),
        "withdrawn_notice": {},
        "details": {
            "body": f'<div class="govspeak"><p>Statement number {n} says this.</p></div>',
            "change_history": [{"public_timestamp": _iso(when), "note": "First published."}],
        },
        "links": {
            "organisations": [
                {"content_id": "org-1", "title": "Cabinet Office", "base_path": "/co"}
            ]
        },
    }


@dataclass
class Fault:
    status: int
    retry_after: int | None = None


@dataclass
class Request:
    path: str  # with the query
    headers: dict[str, str]


@dataclass
class FixtureGovuk:
    """The fixture. ``real``: serve the real items of ../shared too (if present)."""

    generated: int = 0
    real: bool = True
    robots: str = ROBOTS
    items: dict[str, dict[str, Any]] = field(default_factory=dict)  # content_id -> item
    gone: dict[str, int] = field(default_factory=dict)  # base path -> 404/410
    redirects: dict[str, str] = field(default_factory=dict)  # old base path -> new
    requests: list[Request] = field(default_factory=list)
    faults: dict[str, deque[Fault]] = field(default_factory=dict)  # path prefix -> to answer

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        if self.real and CONTENT_API.is_dir():
            for path in sorted(CONTENT_API.glob("*.json")):
                self.add(json.loads(path.read_bytes()))
        for n in range(self.generated):
            self.add(generated_item(n))

    # -- running ------------------------------------------------------------------------------

    def start(self, port: int = 0) -> FixtureGovuk:
        self._server = _Server(self, port)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def __enter__(self) -> FixtureGovuk:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        assert self._server is not None, "not started"
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    # -- content and controls -----------------------------------------------------------------

    def add(self, item: dict[str, Any]) -> str:
        with self._lock:
            self.items[item["content_id"]] = copy.deepcopy(item)
        return str(item["content_id"])

    def item(self, content_id: str) -> dict[str, Any]:
        return self.items[content_id]

    def by_path(self, base_path: str) -> dict[str, Any] | None:
        return next((i for i in self.items.values() if i["base_path"] == base_path), None)

    def edit(
        self, content_id: str, body: str, *, note: str | None = None, at: dt.datetime = T0
    ) -> None:
        """A new body; with a change note, a major update (``public_updated_at`` moves and the
        note joins ``change_history``), without one a minor update (neither moves)."""
        with self._lock:
            item = self.items[content_id]
            item["details"]["body"] = body
            if note is not None:
                item["public_updated_at"] = _iso(at)
                history = item["details"].setdefault("change_history", [])
                history.insert(0, {"public_timestamp": _iso(at), "note": note})

    def withdraw(self, content_id: str, explanation: str, *, at: dt.datetime = T0) -> None:
        with self._lock:
            self.items[content_id]["withdrawn_notice"] = {
                "explanation": f'<div class="govspeak"><p>{explanation}</p></div>',
                "withdrawn_at": at.isoformat(),
            }

    def move(self, content_id: str, base_path: str, *, old_status: int = 301) -> None:
        """A new base path, the same content id; the old path redirects (301) or is gone."""
        with self._lock:
            item = self.items[content_id]
            old, item["base_path"] = item["base_path"], base_path
            if old_status == 301:
                self.redirects[old] = base_path
            else:
                self.gone[old] = old_status

    def remove(self, content_id: str, status: int = 410) -> None:
        with self._lock:
            item = self.items.pop(content_id)
            self.gone[item["base_path"]] = status

    def fail(
        self, prefix: str, status: int, *, times: int = 1, retry_after: int | None = None
    ) -> None:
        """The next ``times`` requests whose path starts with ``prefix`` answer ``status``."""
        with self._lock:
            queue = self.faults.setdefault(prefix, deque())
            queue.extend(Fault(status, retry_after) for _ in range(times))

    def count(self, prefix: str = "") -> int:
        with self._lock:
            return sum(r.path.startswith(prefix) for r in self.requests)

    def reset_counts(self) -> None:
        with self._lock:
            self.requests.clear()

    # -- answers ------------------------------------------------------------------------------

    def answer(self, target: str, headers: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
        with self._lock:
            self.requests.append(Request(target, headers))
            fault = self._fault(target)
        if fault is not None:
            extra = {} if fault.retry_after is None else {"Retry-After": str(fault.retry_after)}
            return fault.status, extra, b'{"error": "fixture fault"}'
        parts = urlsplit(target)
        if parts.path == "/robots.txt":
            return 200, {"Content-Type": "text/plain"}, self.robots.encode()
        if parts.path == "/api/search.json":
            return self._search(parse_qs(parts.query, keep_blank_values=True))
        if parts.path.startswith("/api/content/"):
            return self._content(parts.path.removeprefix("/api/content"), headers)
        return 404, {}, b'{"error": "not found"}'

    def _fault(self, target: str) -> Fault | None:
        for prefix, queue in self.faults.items():
            if target.startswith(prefix) and queue:
                return queue.popleft()
        return None

    def _search(self, query: dict[str, list[str]]) -> tuple[int, dict[str, str], bytes]:
        unknown = sorted(set(query) - SEARCH_PARAMS)
        if unknown:
            return 422, {}, json.dumps({"error": f"Unexpected parameters: {unknown}"}).encode()
        try:
            start = int(query.get("start", ["0"])[0])
            count = int(query.get("count", [str(DEFAULT_COUNT)])[0])
        except ValueError:
            return 422, {}, b'{"error": "start and count are numbers"}'
        order = query.get("order", ["-public_timestamp"])[0]
        if order not in ("-public_timestamp", "public_timestamp"):
            return 422, {}, b'{"error": "unsupported order"}'
        types = set(query.get("filter_content_store_document_type", []))
        with self._lock:
            items = [i for i in self.items.values() if not types or i["document_type"] in types]
        items.sort(key=lambda i: (_moment(i["public_updated_at"]), i["content_id"]))
        if order.startswith("-"):
            items.reverse()
        fields = query.get("fields") or ["link", "title", "public_timestamp"]
        results = [_result(i, fields) for i in items[start : start + count]]
        body = {
            "results": results,
            "total": len(items),
            "start": start,
            "aggregates": {},
            "suggested_queries": [],
        }
        return 200, {"Content-Type": "application/json"}, json.dumps(body).encode()

    def _content(self, path: str, headers: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
        with self._lock:
            if path in self.redirects:
                return 301, {"Location": "/api/content" + self.redirects[path]}, b""
            if path in self.gone:
                return self.gone[path], {}, b'{"error": "gone"}'
            item = self.by_path(path)
            body = None if item is None else json.dumps(item, ensure_ascii=False).encode()
        if body is None:
            return 404, {}, b'{"error": "not found"}'
        etag = '"' + hashlib.sha256(body).hexdigest()[:16] + '"'
        if headers.get("if-none-match") == etag:
            return 304, {"ETag": etag}, b""
        return 200, {"Content-Type": "application/json", "ETag": etag}, body


def _moment(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))


def _result(item: dict[str, Any], fields: Iterable[str]) -> dict[str, Any]:
    values = {
        "link": item["base_path"],
        "title": item["title"],
        "public_timestamp": item["public_updated_at"],
        "content_id": item["content_id"],
        "content_store_document_type": item["document_type"],
        "format": item["document_type"],
        "description": item.get("description", ""),
    }
    return {name: values[name] for name in fields if name in values}


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, fixture: FixtureGovuk, port: int) -> None:
        self.fixture = fixture
        super().__init__(("127.0.0.1", port), _Handler)


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        headers = {name.lower(): value for name, value in self.headers.items()}
        status, extra, body = self.server.fixture.answer(self.path, headers)
        self.send_response(status)
        for name, value in extra.items():
            self.send_header(name, value)
        if status != 304:
            if "Content-Type" not in extra:
                self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if status != 304:
            self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


def shared_items() -> list[Path]:
    """The real Content API items of ../shared (empty when absent)."""
    return sorted(CONTENT_API.glob("*.json")) if CONTENT_API.is_dir() else []


def main(argv: list[str] | None = None) -> None:
    """``python -m tests.fixture_govuk --port 8001 --generated 50``: serve it by hand."""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m tests.fixture_govuk")
    parser.add_argument("--port", type=int, default=8001)
    parser.add_argument("--generated", type=int, default=50, help="made-up items besides the real")
    args = parser.parse_args(argv)
    fixture = FixtureGovuk(generated=args.generated).start(args.port)
    print(f"fixture GOV.UK on {fixture.base_url} ({len(fixture.items)} items)", flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        fixture.stop()


if __name__ == "__main__":
    main()
