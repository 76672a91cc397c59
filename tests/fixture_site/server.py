"""The HTTP side: a threading server on 127.0.0.1 that hands each request to the site, plays its
faults, and can drop every open connection when the site stops.
"""

from __future__ import annotations

import contextlib
import socket
import struct
import sys
import threading
import traceback
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any

from tests.fixture_site.answers import Response, _page

if TYPE_CHECKING:
    from tests.fixture_site.site import FixtureSite


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, site: FixtureSite, port: int) -> None:
        self.site = site
        self.connections: set[socket.socket] = set()
        self.connections_lock = threading.Lock()
        super().__init__(("127.0.0.1", port), _Handler)

    def drop_connections(self) -> None:
        with self.connections_lock:
            for connection in self.connections:
                with contextlib.suppress(OSError):
                    connection.shutdown(socket.SHUT_RDWR)

    def handle_error(self, request: Any, client_address: Any) -> None:
        if not isinstance(sys.exc_info()[1], OSError):  # a client gone away is no error here
            super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"
    timeout = 30  # idle keep-alive connections

    def setup(self) -> None:
        super().setup()
        # Headers and body go out in separate writes: without this, Nagle's algorithm and the
        # client's delayed ACK hold every small answer on a kept-alive connection for 40 ms.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        with self.server.connections_lock:
            self.server.connections.add(self.connection)

    def finish(self) -> None:
        with self.server.connections_lock:
            self.server.connections.discard(self.connection)
        super().finish()

    def do_GET(self) -> None:
        self._serve(head=False)

    def do_HEAD(self) -> None:
        self._serve(head=True)

    def log_message(self, format: str, *args: Any) -> None:
        if self.server.site.verbose:
            super().log_message(format, *args)

    def _serve(self, *, head: bool) -> None:
        site = self.server.site
        headers = {name.lower(): value for name, value in self.headers.items()}
        fault = site._arrive(self.command, self.path, headers)
        kind = fault.kind if fault else ""
        if kind == "reset":
            return self._reset()
        if kind == "stall" and site._stopping.wait(site.stall_seconds):
            self.close_connection = True
            return None
        if fault and kind == "status":
            response = _page(fault.status, "Error")
            if fault.retry_after is not None:
                response.headers["Retry-After"] = str(fault.retry_after)
        else:
            try:
                if site.url_path(self.path).startswith("/wp-json/"):
                    response = site.respond_api(self.path)
                else:
                    response = site.respond(site.url_path(self.path), headers)
            except Exception:
                response = Response(500, traceback.format_exc().encode(), "text/plain")
        return self._send(response, head=head, truncate=kind == "truncate")

    def _send(self, response: Response, *, head: bool, truncate: bool) -> None:
        self.send_response(response.status)
        for name, value in response.headers.items():
            self.send_header(name, value)
        body = response.body
        if response.status != 304:
            self.send_header("Content-Type", response.content_type)
            self.send_header("Content-Length", str(len(body) + (1024 if truncate else 0)))
        self.end_headers()
        if truncate:
            body, self.close_connection = body[: len(body) // 2], True
        if not head and response.status != 304:
            self.wfile.write(body)

    def _reset(self) -> None:
        """Close the connection with a TCP reset, answering nothing."""
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.rfile.close()
        self.connection.close()
