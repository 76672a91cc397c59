"""Parse + convert throughput on 100 distinct real-size statement pages.

    python bench/bench_parse.py [--pages 100]

The pages: the fixture site's (tests/fixture_site), which plants the newest real statements of
the corpus (../shared) into real whitehouse.gov markup: each a different statement, ~135 KB.

Measured in the same run, on the same pages, each pipeline's wall time (pages/s) and CPU time
(ms/page, its pandoc processes' included):
- ``seed``: the seed system's pipeline, as it parsed and converted a page: BeautifulSoup with
  ``html.parser``, the page's ``<main>``, ``div.wp-block-whitehouse-topper`` removed, one pandoc
  process per page (``pandoc -f html -t markdown_strict+four_space_rule``), one page after the
  other;
- ``previous``: this project before issue 13 item 5: ``crawler.parse.parse_many`` with a whole
  BeautifulSoup tree (lxml) per page, the bodies in one pandoc batch of 50, two at once;
- ``pandoc``: ``now`` with every body through pandoc (the native writer off);
- ``now``: as a sync parses now: ``parse_many`` on batches of ``CONVERT_BATCH`` pages,
  ``CONVERTERS`` batches at once; lxml finds the parts and BeautifulSoup reads only those; a body
  the native writer (crawler/markdown.py) takes is written straight from the page's tree; of
  the others only the blocks it refuses go to pandoc (or the whole body, where pandoc reads
  across blocks), one process at a time.
The ratios are pages/s against the seed's; ``previous``, ``pandoc`` and ``now`` must write the
same bodies, byte for byte (checked after the timing). Also the extraction alone (no pandoc): the
seed's ``html.parser`` tree, a whole lxml BeautifulSoup tree, the lxml cut giving the body's
HTML, and the lxml cut as a sync runs it: the body written as Markdown straight from the page's
tree where the native writer takes it (so that part is conversion too), its HTML made only for
the rest.
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from unittest import mock

from bs4 import BeautifulSoup

PROJECT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT))

import crawler.pandoc  # noqa: E402
from crawler import parse  # noqa: E402
from crawler.errors import ConvertError, NotAStatement  # noqa: E402
from crawler.pandoc import MARKDOWN, pandoc_path, pandoc_version  # noqa: E402
from crawler.parse import Page, extract, parse_many  # noqa: E402
from crawler.source import Source, load_source  # noqa: E402
from crawler.syncer import CONVERT_BATCH, CONVERTERS  # noqa: E402
from storage.document import Statement  # noqa: E402
from tests.fixture_site import FixtureSite, corpus_texts, usable_texts  # noqa: E402


def pages(count: int) -> list[Page]:
    site = FixtureSite(usable_texts(corpus_texts(), count))
    return [Page(site.respond(site.url_path(url)).body, url) for url in site.urls()[:count]]


def seed(items: list[Page], source: Source) -> None:
    """The seed system's parse and convert, page after page (its output is not compared: its
    body HTML kept the attributes the archive's recipe strips)."""
    for page in items:
        soup = BeautifulSoup(page.html, "html.parser")
        main = soup.find("main")
        assert main is not None
        for topper in main.select("div.wp-block-whitehouse-topper"):
            topper.decompose()
        subprocess.run(
            [pandoc_path(), "-f", "html", "-t", MARKDOWN],
            input=str(main).encode(),
            capture_output=True,
            check=True,
        )


def previous(items: list[Page], source: Source) -> list[str]:
    with (
        mock.patch.object(parse, "_cuttable", lambda selectors: False),
        mock.patch.object(crawler.pandoc.Pandoc, "_writes_natively", lambda self: False),
    ):
        return _bodies(parse_many(items, source, jobs=2))


def pandoc_only(items: list[Page], source: Source) -> list[str]:
    """``now`` with every body through pandoc (the native writer turned off)."""
    with mock.patch.object(crawler.pandoc.Pandoc, "_writes_natively", lambda self: False):
        return now(items, source)


def now(items: list[Page], source: Source) -> list[str]:
    groups = [items[i : i + CONVERT_BATCH] for i in range(0, len(items), CONVERT_BATCH)]
    with ThreadPoolExecutor(max_workers=CONVERTERS) as pool:
        return [
            body
            for bodies in pool.map(lambda g: _bodies(parse_many(g, source, jobs=1)), groups)
            for body in bodies
        ]


def _bodies(results: list[Statement | NotAStatement | ConvertError]) -> list[str]:
    bodies = [r.body for r in results if isinstance(r, Statement)]
    assert len(bodies) == len(results), results
    return bodies


def measure(
    run: Callable[[list[Page], Source], list[str] | None], items: list[Page], source: Source
) -> tuple[float, float, list[str] | None]:
    """(pages/s, CPU ms/page with children's, the bodies written if the pipeline gives them)."""
    before = [resource.getrusage(who) for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)]
    started = time.perf_counter()
    bodies = run(items, source)
    wall = time.perf_counter() - started
    after = [resource.getrusage(who) for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)]
    cpu = sum(
        a.ru_utime + a.ru_stime - b.ru_utime - b.ru_stime
        for a, b in zip(after, before, strict=True)
    )
    return len(items) / wall, cpu / len(items) * 1000, bodies


def extraction(items: list[Page], source: Source) -> None:
    """The extraction alone, pages/s of CPU: the seed's tree, a whole lxml tree, the lxml cut."""

    def seed_tree(page: Page) -> None:
        BeautifulSoup(page.html, "html.parser").find("main")

    def whole(page: Page) -> None:
        with mock.patch.object(parse, "_cuttable", lambda selectors: False):
            extract(page.html, page.url, source)

    def cut(page: Page) -> None:
        with mock.patch.object(crawler.pandoc.Pandoc, "_writes_natively", lambda self: False):
            assert extract(page.html, page.url, source).body_html

    def written(page: Page) -> None:
        extract(page.html, page.url, source)  # the body's HTML made only where not written

    for name, run in (
        ("html.parser tree (seed)", seed_tree),
        ("whole lxml tree (previous)", whole),
        ("lxml cut, body HTML", cut),
        ("lxml cut, body written", written),
    ):
        started = time.process_time()
        for page in items:
            run(page)
        rate = len(items) / (time.process_time() - started)
        print(f"  extraction only, {name:28} {rate:7.1f} pages/s of CPU")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=100)
    args = parser.parse_args()
    items = pages(args.pages)
    size = sum(len(p.html) for p in items) / len(items) / 1000
    print(f"{len(items)} distinct pages, {size:.0f} KB on average, pandoc {pandoc_version()}")
    source = load_source(PROJECT / "seeds" / "whitehouse.toml")
    base = 0.0
    written: dict[str, list[str]] = {}
    runs = (("seed", seed), ("previous", previous), ("pandoc", pandoc_only), ("now", now))
    for name, run in runs:
        rate, cpu, bodies = measure(run, items, source)
        base = base or rate
        print(f"  {name:9} {rate:7.1f} pages/s   {cpu:6.1f} ms CPU/page   {rate / base:4.1f}x seed")
        if bodies is not None:
            written[name] = bodies
    # the same Markdown from every pipeline but the seed's, byte for byte
    assert written["now"] == written["pandoc"] == written["previous"]
    print(f"  previous, pandoc and now wrote the same {len(written['now'])} bodies")
    extraction(items, source)
    return 0


if __name__ == "__main__":
    sys.exit(main())
