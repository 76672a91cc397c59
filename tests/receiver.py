"""A local webhook receiver for the tests: records every POST it gets."""

from __future__ import annotations

import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class Receiver:
    def __init__(
        self, status: int = 200, hold: threading.Event | None = None, delay: float = 0.0
    ) -> None:
        self.status = status
        self.hold = hold  # set: each POST, once recorded, waits for it before it is answered
        self.delay = delay  # seconds each POST, once recorded, waits before it is answered
        self.arrived = threading.Event()  # set by the first POST
        self.posts: list[tuple[dict[str, str], bytes]] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                outer.posts.append(({k.lower(): v for k, v in self.headers.items()}, body))
                outer.arrived.set()
                if outer.hold is not None:
                    outer.hold.wait(30)
                time.sleep(outer.delay)
                self.send_response(outer.status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> Receiver:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
