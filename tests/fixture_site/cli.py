"""The command line (``python -m tests.fixture_site``): serve the newest statements, to Ctrl-C."""

from __future__ import annotations

import argparse
import signal
import sys
import threading
import time

from tests.conftest import CORPUS
from tests.fixture_site.content import (
    ARTICLE_PAGE,
    LISTING_PAGE,
    ORIGIN,
    corpus_texts,
    usable_texts,
)
from tests.fixture_site.site import FixtureSite


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tests.fixture_site", description="Serve a fake www.whitehouse.gov."
    )
    parser.add_argument("--port", type=int, default=8000, help="0 picks a free port")
    parser.add_argument("--count", type=int, default=500, help="the newest N statements")
    parser.add_argument("--page-size", type=int, default=10)
    parser.add_argument("--sitemap-size", type=int, default=1000)
    parser.add_argument("--fault-rate", type=float, default=0.0)
    parser.add_argument("--quiet", action="store_true", help="do not log requests")
    args = parser.parse_args(argv)
    for path in (CORPUS, ARTICLE_PAGE, LISTING_PAGE):
        if not path.exists():
            print(f"error: {path} is absent (the real data in ../shared)", file=sys.stderr)
            return 2
    started = time.monotonic()
    texts = usable_texts(corpus_texts(), args.count)
    site = FixtureSite(
        texts,
        page_size=args.page_size,
        sitemap_size=args.sitemap_size,
        fault_rate=args.fault_rate,
    )
    site.verbose = not args.quiet
    site.start(args.port)
    print(site.base_url, flush=True)
    print(
        f"{len(site.urls())} statements, ready in {time.monotonic() - started:.1f} s: "
        f"{site.base_url}/news/ {site.base_url}/sitemap_index.xml {site.base_url}/feed/\n"
        f"crawl it with --base-url {site.base_url} (links name {ORIGIN}); Ctrl-C stops",
        file=sys.stderr,
        flush=True,
    )
    # Ctrl-C (SIGINT) stops it, even when started from a shell that ignores SIGINT (a job in the
    # background of a script): the default disposition is restored, not inherited.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        site.stop()
    return 0
