"""A fixture Written Statements API (UK Parliament) over real HTTP on 127.0.0.1 (port 0).

It serves generated written statements to both Houses and on demand edits one's text, adds one,
or removes one. Every request is counted. The list side follows the real responses in
``../shared/pages/parliament.uk-written-statements/api`` (``totalResults``, ``results`` of
``{value, links}``, the text cut at about 255 characters followed by ``...``, and
``linkedStatements`` not expanded: ``[]`` when ``hasLinkedStatements``, else ``null``) and the API's
parameters ``madeWhenFrom``, ``madeWhenTo``, ``house`` (``Commons``, ``Lords``, ``Bicameral``),
``skip``, ``take``, ``expandMember``; an unknown parameter is refused with 400. A statement,
``/api/writtenstatements/statements/<date>/<uin>``, is ``{value, links}`` with the whole text
(HTML) and its ``linkedStatements`` (``linkedStatementId``: the other's ``id``; ``linkType``:
``CorrectedStatement``, ``CorrectedAnswer`` or ``JointStatement``; ``linkDate``), as the API's
OpenAPI description (its swagger.json) describes them; no real one was available offline.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

LIST = "/api/writtenstatements/statements"
PARAMS = {"madeWhenFrom", "madeWhenTo", "house", "skip", "take", "expandMember"}
#: The day the newest generated statement was made; the others one a day before it.
NEWEST = dt.date(2026, 11, 27)


def generated(n: int, day: dt.date | None = None) -> dict[str, Any]:
    """A made-up statement (number ``n``): Commons for even numbers, Lords for odd ones."""
    day = day or NEWEST - dt.timedelta(days=n // 2)
    commons = n % 2 == 0
    return {
        "id": 5000 + n,
        "memberId": 100 + n,
        "member": {"id": 100 + n, "name": f"Minister {n}", "party": "Party"},
        "memberRole": "Minister of State",
        "uin": f"{'HCWS' if commons else 'HLWS'}{100 + n}",
        "dateMade": f"{day.isoformat()}T00:00:00",
        "answeringBodyId": 1,
        "answeringBodyName": "Home Office",
        "title": f"Generated statement {n}",
        "text": f"<p>Statement number {n} says this.</p>",
        "house": "Commons" if commons else "Lords",
        "noticeNumber": n,
        "hasAttachments": False,
        "hasLinkedStatements": False,
        "linkedStatements": [],
        "attachments": [],
    }


def correction(n: int, of: dict[str, Any], day: dt.date) -> dict[str, Any]:
    """A made-up statement (number ``n``) made on ``day`` that corrects ``of``, and says so."""
    value = generated(n, day)
    value["title"] = f"Correction: {of['title']}"
    value["text"] = of["text"].replace("says this", "says this, corrected")
    value["hasLinkedStatements"] = True
    value["linkedStatements"] = [link_to(of, day)]
    return value


def link_to(other: dict[str, Any], day: dt.date) -> dict[str, Any]:
    """A ``linkedStatements`` entry: a correction link to ``other``, made on ``day``."""
    return {
        "linkedStatementId": other["id"],
        "linkType": "CorrectedStatement",
        "linkDate": f"{day.isoformat()}T09:30:00",
    }


@dataclass
class FixtureUkParliament:
    generated: int = 0
    statements: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    requests: list[str] = field(default_factory=list)
    missing: set[tuple[str, str]] = field(default_factory=set)  # listed, but answering 404

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        for n in range(self.generated):
            self.add(generated(n))

    @contextmanager
    def running(self) -> Iterator[FixtureUkParliament]:
        self._server = _Server(self)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        try:
            yield self
        finally:
            self._server.shutdown()
            self._server.server_close()

    @property
    def base_url(self) -> str:
        assert self._server is not None, "not started"
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def add(self, value: dict[str, Any]) -> None:
        with self._lock:
            self.statements[(value["dateMade"][:10], value["uin"])] = copy.deepcopy(value)

    def edit(self, n: int, text: str) -> None:
        value = generated(n)
        with self._lock:
            self.statements[(value["dateMade"][:10], value["uin"])]["text"] = text

    def count(self, prefix: str = "") -> int:
        with self._lock:
            return sum(r.startswith(prefix) for r in self.requests)

    def costs(self) -> tuple[int, int]:
        """(list pages, statements) asked for since the reset."""
        return self.count(LIST + "?"), self.count(LIST + "/")

    def reset_counts(self) -> None:
        with self._lock:
            self.requests.clear()

    def answer(self, target: str) -> tuple[int, str, bytes]:
        with self._lock:
            self.requests.append(target)
        parts = urlsplit(target)
        if parts.path == "/robots.txt":
            return 200, "text/plain", b"User-agent: *\nDisallow:\n"
        if parts.path == LIST:
            return self._list(parse_qs(parts.query, keep_blank_values=True))
        found = re.fullmatch(LIST + r"/(\d{4}-\d\d-\d\d)/([A-Z]+\d+)", parts.path)
        with self._lock:
            key = (found.group(1), found.group(2)) if found else None
            value = None if key is None or key in self.missing else self.statements.get(key)
            body = None if value is None else json.dumps({"value": value, "links": []})
        if body is None:
            return 404, "application/json", b'{"title": "Not Found", "status": 404}'
        return 200, "application/json; charset=utf-8", body.encode()

    def _list(self, query: dict[str, list[str]]) -> tuple[int, str, bytes]:
        if set(query) - PARAMS:
            return 400, "application/json", b'{"title": "unknown parameter"}'
        first = query.get("madeWhenFrom", ["0000"])[0]
        last = query.get("madeWhenTo", ["9999"])[0]
        house = query.get("house", ["Bicameral"])[0]
        skip, take = int(query.get("skip", ["0"])[0]), int(query.get("take", ["20"])[0])
        with self._lock:
            chosen = [
                v
                for (day, _), v in self.statements.items()
                if first <= day <= last and house in ("Bicameral", v["house"])
            ]
        chosen.sort(key=lambda v: (v["dateMade"], v["id"]), reverse=True)
        results = [
            {"value": {**v, "text": v["text"][:255] + "...", **_unexpanded(v)}, "links": []}
            for v in chosen[skip : skip + take]
        ]
        body = json.dumps({"totalResults": len(chosen), "results": results})
        return 200, "application/json; charset=utf-8", body.encode()


def _unexpanded(value: dict[str, Any]) -> dict[str, Any]:
    return {"linkedStatements": [] if value["hasLinkedStatements"] else None}


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, fixture: FixtureUkParliament) -> None:
        self.fixture = fixture
        super().__init__(("127.0.0.1", 0), _Handler)


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        status, kind, body = self.server.fixture.answer(self.path)
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass
