"""A full audit through the WordPress REST API against today's ``--full``, side by side.

    python bench/bench_audit.py [--count N] [--edits 5]

Against the fixture site serving the corpus's current whitehouse.gov statements (all of them by
default) with its REST API: a cold ``--full`` sync into an archive, then one API audit (the
self-check and the baseline of every post), then ``--edits`` silent edits planted (a sentence
added to a statement's body; its modified time, Last-Modified and sitemap lastmod unmoved). Two
copies of that archive are then audited in the same run: one through the API (``--audit 50``,
the whitehouse seed's schedule), one with today's ``--full`` (every page, conditional GET).

The API audits include the page sweep (``[wordpress] page_sweep`` statements the API lists,
re-checked as pages each audit). The first audit's cost is reported apart: the self-check's
pages, the pages of posts whose words are not those of the archive's latest revision (fetched
before their baseline is kept), and the sweep's.

Reported for each: the requests of the whole sync and those of the audit itself (API pages and
statement pages; discovery's sitemaps, feed and listing pages counted apart), the wall time
those requests take at the seed's rate (``[politeness] rate``, 1 a second: the rate limit is per
host, so concurrency does not shorten it; computed from the request counts, not waited), the
planted edits found, and any other event (a false one). Politeness is off while measuring.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import re
import shutil
import sys
import tempfile
import time
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT))

from crawler.fetch import Fetcher, make_client  # noqa: E402
from crawler.source import Source, load_source  # noqa: E402
from crawler.syncer import Syncer, SyncOptions, SyncReport  # noqa: E402
from storage.archive import Archive  # noqa: E402
from storage.document import Statement, dumps, loads  # noqa: E402
from tests.fixture_site import FixtureSite, corpus_texts, usable_texts  # noqa: E402

SEED = PROJECT / "seeds" / "whitehouse.toml"
ADDED = "This sentence was added without a new modified time."


def source() -> tuple[Source, float]:
    """The seed with politeness off, and the rate it asks for."""
    seed = load_source(SEED)
    return dataclasses.replace(
        seed, politeness=dataclasses.replace(seed.politeness, rate=0.0)
    ), seed.politeness.rate


def sync(archive_dir: Path, site: FixtureSite, hours: int, **options: object) -> SyncReport:
    seed, _ = source()
    now = dt.datetime.now(dt.UTC) + dt.timedelta(hours=hours)
    with make_client(timeout=30) as client, Archive(archive_dir, clock=lambda: now) as archive:
        fetcher = Fetcher(client, seed, base_url=site.base_url)
        return Syncer(archive, seed, fetcher, SyncOptions(**options), clock=lambda: now).run()  # type: ignore[arg-type]


def counts(site: FixtureSite) -> dict[str, int]:
    api = site.count("/wp-json/")
    pages = site.statement_requests()
    total = len(site.requests)
    return {"total": total, "api": api, "pages": pages, "audit": api + pages}


def silent_edit(site: FixtureSite, text: str) -> str:
    doc = loads(text)
    site.edit(
        doc.source_url, dumps(Statement(doc.meta, doc.body + f"\n{ADDED}\n")), bump_lastmod=False
    )
    return doc.source_url


def measure(
    archive_dir: Path, site: FixtureSite, planted: set[str], **options: object
) -> dict[str, object]:
    site.reset_counts()
    started = time.perf_counter()
    report = sync(archive_dir, site, 3, **options)
    seconds = time.perf_counter() - started
    found = {e.url for e in report.events if "silent" in e.kinds}
    false = [e for e in report.events if e.url not in planted]
    return {
        **counts(site),
        "seconds": seconds,
        "found": len(found & planted),
        "false": len(false),
        "notes": report.notes,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=None, help="statements served (all)")
    parser.add_argument("--edits", type=int, default=5)
    args = parser.parse_args()
    texts = usable_texts(corpus_texts(), args.count)
    _, rate = source()
    with FixtureSite(texts) as site, tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        t = time.perf_counter()
        sync(root / "base", site, 0, full=True)
        cold = time.perf_counter() - t
        site.reset_counts()
        baseline = sync(root / "base", site, 1, audit=50)
        first = counts(site)
        step = max(1, len(texts) // args.edits)
        planted = {silent_edit(site, texts[i * step]) for i in range(args.edits)}
        shutil.copytree(root / "base", root / "full")
        api = measure(root / "base", site, planted, audit=50)
        full = measure(root / "full", site, planted, full=True)
    n = len(texts)
    print(
        f"{n:,} statements served (cold --full sync {cold:.0f} s);"
        f" {args.edits} silent edits planted"
    )
    seed, _ = source()
    unlike = re.search(r"(\d+) seen first not as archived", " ".join(baseline.notes))
    print(
        f"first API audit (self-check, baseline, sweep): {first['audit']} requests"
        f" ({first['api']} API pages, {first['pages']} statement pages: self-check"
        f" {seed.wordpress.self_check}, words not as archived {unlike[1] if unlike else 0},"
        f" page sweep {seed.wordpress.page_sweep}); events {len(baseline.events)}"
    )
    print(f"{'':22}{'API audit':>14}{'today --full':>14}{'ratio':>9}")
    rows = [
        ("audit requests", "audit"),
        ("  API pages", "api"),
        ("  statement pages", "pages"),
        ("whole sync requests", "total"),
    ]
    for label, key in rows:
        a, f = int(api[key]), int(full[key])  # type: ignore[call-overload]
        ratio = f"{a / f:.2%}" if f else "-"
        print(f"{label:22}{a:>14,}{f:>14,}{ratio:>9}")
    for label, key in (("wall at seed rate", "audit"), ("  whole sync", "total")):
        a, f = int(api[key]) / rate, int(full[key]) / rate  # type: ignore[call-overload]
        print(f"{label:22}{_minutes(a):>14}{_minutes(f):>14}{a / f:>9.2%}")
    print(
        f"{'planted edits found':22}{api['found']:>11} / {args.edits}"
        f"{full['found']:>11} / {args.edits}"
    )
    print(f"{'false events':22}{api['false']:>14}{full['false']:>14}")
    print(f"{'measured wall (rate 0)':22}{api['seconds']:>13.1f}s{full['seconds']:>13.1f}s")
    print(f"(wall at seed rate = requests / {rate:g} per second, computed, not waited)")
    ok = api["found"] == full["found"] == args.edits and api["false"] == full["false"] == 0
    return 0 if ok else 1


def _minutes(seconds: float) -> str:
    return f"{seconds / 60:.1f} min" if seconds >= 60 else f"{seconds:.0f} s"


if __name__ == "__main__":
    sys.exit(main())
