"""A fixture Federal Register: the documents API over real HTTP on 127.0.0.1 (port 0).

It serves generated presidential documents (and, with ``real=True``, the real EO 14430 of
``../shared/pages/federalregister.gov/api``, read in place, never copied) and on demand edits a
document's full text, publishes a correction of it (a document ``C<n>-<number>`` whose
``correction_of`` is the original, listed in the original's ``corrections``), removes one, and
answers faults a number of times. Every request is counted.

The API side follows the real responses in ../shared and the API's public documentation:
``/api/v1/documents.json`` with ``conditions[type][]``,
``conditions[presidential_document_type][]``, ``conditions[publication_date][gte|lte]``,
``fields[]``, ``order=newest``, ``per_page``, and a cursor (``search_after_cursor``, with
``page``) in each page's ``next_page_url``, which is on ``www.federalregister.gov`` as the real
one is; at most ``cap`` results of one query are served (the real API's is 10,000); an unknown
parameter is refused with 400. ``/api/v1/documents/<number>.json`` is a document,
``/documents/full_text/html/Y/M/D/<number>.html`` its full text.
"""

from __future__ import annotations

import base64
import copy
import datetime as dt
import json
import re
import threading
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from tests.conftest import SHARED

REAL = SHARED / "pages" / "federalregister.gov" / "api"
REAL_ORIGIN = "https://www.federalregister.gov"
#: The newest generated document's publication date; the others one a day before it.
NEWEST = dt.date(2026, 1, 12)
PARAMS = {
    "conditions[type][]",
    "conditions[presidential_document_type][]",
    "conditions[publication_date][gte]",
    "conditions[publication_date][lte]",
    "fields[]",
    "order",
    "per_page",
    "page",
    "search_after_cursor",
    "format",
}
SUBTYPES = (
    ("Executive Order", "executive_order"),
    ("Proclamation", "proclamation"),
    ("Memorandum", "memorandum"),
    ("Notice", "notice"),
    ("Determination", "determination"),
)
ROBOTS = "User-agent: *\nDisallow: /search\n"


def number(n: int) -> str:
    return f"2026-{10000 + n}"


def body_url(doc_number: str, day: dt.date) -> str:
    return f"{REAL_ORIGIN}/documents/full_text/html/{day:%Y/%m/%d}/{doc_number}.html"


def generated(n: int, day: dt.date | None = None) -> tuple[dict[str, Any], str]:
    """A made-up document in the API's shape (number ``n``) and its full text."""
    day = day or NEWEST - dt.timedelta(days=n)
    subtype, code = SUBTYPES[n % len(SUBTYPES)]
    doc_number = number(n)
    eo = str(14500 + n) if code == "executive_order" else None
    doc = {
        "document_number": doc_number,
        "type": "Presidential Document",
        "subtype": subtype,
        "presidential_document_type": code,
        "title": f"Generated {subtype} {n}",
        "publication_date": day.isoformat(),
        "signing_date": (day - dt.timedelta(days=3)).isoformat(),
        "executive_order_number": eo,
        "presidential_document_number": eo or str(900 + n),
        "citation": f"91 FR {1000 + n}",
        "html_url": f"{REAL_ORIGIN}/documents/{day:%Y/%m/%d}/{doc_number}/generated-{n}",
        "body_html_url": body_url(doc_number, day),
        "corrections": [],
        "correction_of": None,
    }
    text = f'<p id="p-1" data-page="{1000 + n}">Document number {n} orders this.</p>'
    return doc, text


@dataclass
class Fault:
    status: int
    retry_after: int | None = None
    body: bytes = b'{"errors": ["fixture fault"]}'


@dataclass
class FixtureFedreg:
    """The fixture: ``generated`` made-up documents; ``real``: EO 14430 of ../shared too."""

    generated: int = 0
    real: bool = False
    cap: int = 10_000
    robots: str = ROBOTS
    docs: dict[str, dict[str, Any]] = field(default_factory=dict)  # number -> JSON
    texts: dict[str, str] = field(default_factory=dict)  # number -> full text
    gone: dict[str, int] = field(default_factory=dict)  # number -> 404/410
    requests: list[str] = field(default_factory=list)
    faults: dict[str, deque[Fault]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        if self.real and REAL.is_dir():
            doc = json.loads((REAL / "document_2026-19417_eo14430.json").read_bytes())
            self.add(doc, (REAL / "full_text_html_2026-19417.html").read_text("utf-8"))
        for n in range(self.generated):
            self.add(*generated(n))

    # -- running ------------------------------------------------------------------------------

    def start(self, port: int = 0) -> FixtureFedreg:
        self._server = _Server(self, port)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def __enter__(self) -> FixtureFedreg:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        assert self._server is not None, "not started"
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    # -- content and controls -----------------------------------------------------------------

    def add(self, doc: dict[str, Any], text: str) -> str:
        with self._lock:
            self.docs[doc["document_number"]] = copy.deepcopy(doc)
            self.texts[doc["document_number"]] = text
        return str(doc["document_number"])

    def edit(self, doc_number: str, text: str) -> None:
        """A new full text, nothing else moved (the API declares no such edit)."""
        with self._lock:
            self.texts[doc_number] = text

    def correct(
        self, doc_number: str, day: dt.date, text: str = "<p>In the document...</p>"
    ) -> str:
        """Publish the next correction of a document on ``day``."""
        with self._lock:
            original = self.docs[doc_number]
            count = len(original["corrections"]) + 1
            fix = f"C{count}-{doc_number}"
            original["corrections"].append(f"{REAL_ORIGIN}/api/v1/documents/{fix}")
        self.add(
            {
                "document_number": fix,
                "type": "Presidential Document",
                "subtype": None,
                "title": "Correction",
                "publication_date": day.isoformat(),
                "citation": f"91 FR {70000 + count}",
                "html_url": f"{REAL_ORIGIN}/documents/{day:%Y/%m/%d}/{fix}/correction",
                "body_html_url": body_url(fix, day),
                "corrections": [],
                "correction_of": f"{REAL_ORIGIN}/api/v1/documents/{doc_number}",
            },
            text,
        )
        return fix

    def remove(self, doc_number: str, status: int = 404) -> None:
        with self._lock:
            self.docs.pop(doc_number)
            self.gone[doc_number] = status

    def fail(
        self,
        prefix: str,
        status: int,
        *,
        times: int = 1,
        retry_after: int | None = None,
        body: bytes | None = None,
    ) -> None:
        """The next ``times`` requests whose path starts with ``prefix`` answer ``status`` (with
        ``body``: a 200 that is not what was asked for, say)."""
        with self._lock:
            queue = self.faults.setdefault(prefix, deque())
            fault = Fault(status, retry_after) if body is None else Fault(status, retry_after, body)
            queue.extend(fault for _ in range(times))

    def count(self, prefix: str = "") -> int:
        with self._lock:
            return sum(r.startswith(prefix) for r in self.requests)

    def costs(self) -> tuple[int, int, int, int]:
        """(robots.txt, search pages, documents' JSON, full texts) asked for since the reset."""
        return (
            self.count("/robots.txt"),
            self.count("/api/v1/documents.json") + self.count("/api/v1/documents?"),
            self.count("/api/v1/documents/"),
            self.count("/documents/full_text/"),
        )

    def reset_counts(self) -> None:
        with self._lock:
            self.requests.clear()

    # -- answers ------------------------------------------------------------------------------

    def answer(self, target: str) -> tuple[int, dict[str, str], bytes]:
        with self._lock:
            self.requests.append(target)
            fault = next(
                (q.popleft() for p, q in self.faults.items() if target.startswith(p) and q), None
            )
        if fault is not None:
            extra = {} if fault.retry_after is None else {"Retry-After": str(fault.retry_after)}
            return fault.status, extra, fault.body
        parts = urlsplit(target)
        if parts.path == "/robots.txt":
            return 200, {"Content-Type": "text/plain"}, self.robots.encode()
        if parts.path in ("/api/v1/documents.json", "/api/v1/documents"):
            return self._search(parse_qs(parts.query, keep_blank_values=True))
        found = re.fullmatch(r"/api/v1/documents/([A-Za-z0-9-]+)(?:\.json)?", parts.path)
        if found:
            return self._document(found.group(1))
        found = re.fullmatch(
            r"/documents/full_text/html/\d{4}/\d\d/\d\d/([A-Za-z0-9-]+)\.html", parts.path
        )
        if found and found.group(1) in self.texts and found.group(1) in self.docs:
            return (
                200,
                {"Content-Type": "text/html; charset=utf-8"},
                self.texts[found.group(1)].encode(),
            )
        return 404, {"Content-Type": "text/html"}, b"<h1>Not found</h1>"

    def _document(self, doc_number: str) -> tuple[int, dict[str, str], bytes]:
        with self._lock:
            if doc_number in self.gone:
                return self.gone[doc_number], {}, b'{"errors": ["not found"]}'
            doc = self.docs.get(doc_number)
            body = None if doc is None else json.dumps(doc).encode()
        if body is None:
            return 404, {}, b'{"errors": ["not found"]}'
        return 200, {"Content-Type": "application/json; charset=utf-8"}, body

    def _search(self, query: dict[str, list[str]]) -> tuple[int, dict[str, str], bytes]:
        unknown = sorted(set(query) - PARAMS)
        if unknown or query.get("order", ["newest"]) != ["newest"]:
            return 400, {}, json.dumps({"errors": {"params": unknown}}).encode()
        per_page = int(query.get("per_page", ["20"])[0])
        types = set(query.get("conditions[presidential_document_type][]", []))
        gte = query.get("conditions[publication_date][gte]", [""])[0]
        lte = query.get("conditions[publication_date][lte]", ["9999-12-31"])[0]
        with self._lock:
            docs = [
                d
                for d in self.docs.values()
                if gte <= d["publication_date"] <= lte
                and (not types or d.get("presidential_document_type") in types)
            ]
        docs.sort(key=lambda d: (d["publication_date"], d["document_number"]), reverse=True)
        served = docs[: self.cap]
        cursor = query.get("search_after_cursor", [""])[0]
        start = 0
        if cursor:
            after = json.loads(base64.urlsafe_b64decode(cursor + "=="))
            keys = [[d["publication_date"], d["document_number"]] for d in served]
            start = keys.index(after) + 1 if after in keys else len(served)
        page = served[start : start + per_page]
        fields = query.get("fields[]") or ["document_number", "title", "publication_date"]
        body: dict[str, Any] = {
            "description": "Documents of type Presidential Document",
            "count": len(docs),
            "total_pages": max(1, -(-len(served) // per_page)),
            "results": [{f: d.get(f) for f in fields} for d in page],
        }
        if start + per_page < len(served):
            last = [page[-1]["publication_date"], page[-1]["document_number"]]
            token = base64.urlsafe_b64encode(json.dumps(last).encode()).decode().rstrip("=")
            params = [
                (k, v)
                for k, values in query.items()
                if k not in ("page", "search_after_cursor")
                for v in values
            ]
            params += [("page", str(start // per_page + 2)), ("search_after_cursor", token)]
            body["next_page_url"] = f"{REAL_ORIGIN}/api/v1/documents?{urlencode(params)}"
        return 200, {"Content-Type": "application/json; charset=utf-8"}, json.dumps(body).encode()


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, fixture: FixtureFedreg, port: int) -> None:
        self.fixture = fixture
        super().__init__(("127.0.0.1", port), _Handler)


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        status, extra, body = self.server.fixture.answer(self.path)
        self.send_response(status)
        for name, value in extra.items():
            self.send_header(name, value)
        if "Content-Type" not in extra:
            self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


def main(argv: list[str] | None = None) -> None:
    """``python -m tests.fixture_fedreg --port 8002 --generated 50``: serve it by hand."""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m tests.fixture_fedreg")
    parser.add_argument("--port", type=int, default=8002)
    parser.add_argument("--generated", type=int, default=50, help="made-up documents")
    args = parser.parse_args(argv)
    fixture = FixtureFedreg(generated=args.generated, real=True).start(args.port)
    print(f"fixture Federal Register on {fixture.base_url} ({len(fixture.docs)} documents)")
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        fixture.stop()


if __name__ == "__main__":
    main()
