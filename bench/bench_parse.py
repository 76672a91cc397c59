"""Parse + convert throughput on the real whitehouse.gov article page.

    python bench/bench_parse.py [--pages N] [--jobs J]

Measures, in the same run and on the same page:
- the seed system's pipeline: BeautifulSoup with html.parser, one pandoc process per page;
- ours: crawler.parse.parse_many (lxml, bodies batched through few pandoc processes, J at once).
Prints pages per second for both and the ratio.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

from bs4 import BeautifulSoup

PROJECT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT))

from crawler.pandoc import MARKDOWN, pandoc_path, pandoc_version  # noqa: E402
from crawler.parse import Page, parse_many  # noqa: E402
from crawler.source import load_source  # noqa: E402

ARTICLE = (
    PROJECT.parent / "shared/pages/whitehouse.gov-2025/article/"
    "articles_2025-03-14_week-eight-wins_PRETTIFIED.html"
)
URL = "https://www.whitehouse.gov/articles/2025/03/week-eight-wins-a-testament-to-american-greatness-under-president-trump/"


def baseline(html: str, n: int) -> float:
    """html.parser and one pandoc process per page, as the seed system does."""
    started = time.perf_counter()
    for _ in range(n):
        soup = BeautifulSoup(html, "html.parser")
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
    return n / (time.perf_counter() - started)


def ours(html: str, n: int, jobs: int) -> float:
    source = load_source(PROJECT / "seeds" / "whitehouse.toml")
    pages = [Page(html.replace("The past week", f"The past week {i}"), URL) for i in range(n)]
    started = time.perf_counter()
    results = parse_many(pages, source, jobs=jobs)
    elapsed = time.perf_counter() - started
    assert all(not isinstance(r, Exception) for r in results)
    return n / elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=200)
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args()
    if not ARTICLE.exists():
        print(f"bench: {ARTICLE} is absent", file=sys.stderr)
        return 2
    html = ARTICLE.read_text(encoding="utf-8")
    print(f"page: {ARTICLE.name} ({len(html.encode()) / 1000:.0f} KB), pandoc {pandoc_version()}")
    for parser in ("html.parser", "lxml"):
        started = time.perf_counter()
        for _ in range(20):
            BeautifulSoup(html, parser)
        rate = 20 / (time.perf_counter() - started)
        print(f"BeautifulSoup tree only, {parser:11}           {rate:7.1f} pages/s")
    base = baseline(html, max(20, args.pages // 5))
    print(f"baseline (html.parser, 1 pandoc per page)   {base:7.1f} pages/s")
    for jobs in sorted({1, args.jobs}):
        rate = ours(html, args.pages, jobs)
        print(
            f"ours (lxml, batched pandoc, jobs={jobs})        {rate:7.1f} pages/s   "
            f"{rate / base:.1f}x baseline"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
