"""Reliability figures for discovery: broken and hostile sitemaps and listings (issue 10).

    python bench/reliability_discovery.py [--statements 60]   # prints the section, and writes
                                                                # it into docs/reliability.md

``bench/reliability.py`` runs it as one of its sections. Each case is one ``--full`` sync (the
public API's, as ``statements sync`` does it: the seed's own caps, the default retry policy,
politeness off) of the fixture site with one fault or hostile document planted; a case marked
"then" is a plain sync right after, with the fault gone. Per case: the exit code, statements
archived, requests made (all of them, as the site counts them), time, and what was said.
"""

from __future__ import annotations

import argparse
import re
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT))

from crawler.api import sync  # noqa: E402
from crawler.jobs import RunResult  # noqa: E402
from tests.fixture_site import (  # noqa: E402
    ORIGIN,
    FixtureSite,
    corpus_texts,
    dead_urlset,
    gzip_bomb,
    html_page,
    usable_texts,
)

HEADING = "### Discovery: broken and hostile sitemaps and listings"
Setup = Callable[[FixtureSite], None]


def _plant(path: str, answer: Callable[[], object]) -> Setup:
    return lambda site: site.plant(path, answer, child=True)  # type: ignore[arg-type]


def _fail_503(site: FixtureSite) -> None:
    site.fail("/post-sitemap2.xml", "status", status=503, times=4)  # every attempt


def _endless(mode: str) -> Setup:
    def setup(site: FixtureSite) -> None:
        site.endless = mode

    return setup


CASES: list[tuple[str, Setup]] = [
    ("gzip-bomb child (25 MB inflated, 25 KB sent)", _plant("/post-sitemap-bad.xml", gzip_bomb)),
    ("HTML page answered 200 as a child", _plant("/post-sitemap-bad.xml", html_page)),
    ("child answering 503 (4 attempts)", _fail_503),
    (
        "200,000-URL child (14 MB) of 404s",
        _plant("/post-sitemap-dead.xml", lambda: dead_urlset(200_000)),
    ),
    ("endless listing repeating its last page", _endless("repeat")),
    ("endless listing of new dead URLs", _endless("new")),
]


def _said(result: RunResult) -> str:
    if not result.reports:
        return "; ".join(result.broken)
    report = result.reports[0]
    said = [why for where, why in report.failures if where == "discovery"]
    said += report.warnings
    gone = sum(1 for _, why in report.failures if "answers HTTP 404" in why)
    if gone:
        said.append(f"{gone} new URLs failed as 404")
    said += [n for n in report.notes if "left for the next syncs" in n]
    text = "; ".join(said) or "-"
    return re.sub(r"\s*\([^()]*\)$", "", text.replace(ORIGIN, "")).replace("|", "/")


def _run(site: FixtureSite, root: Path, *, full: bool) -> list[str]:
    site.reset_counts()
    started = time.perf_counter()
    result = sync(root, "whitehouse", full=full, base_url=site.base_url, rate=0)
    seconds = time.perf_counter() - started
    archived = len(list(root.rglob("*.md")))
    return [
        f"{result.exit_code}",
        f"{archived}",
        f"{site.count()}",
        f"{site.statement_requests()}",
        f"{seconds:.1f} s",
        _said(result),
    ]


def discovery(count: int = 60) -> list[str]:
    texts = usable_texts(corpus_texts(), count)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for n, (name, setup) in enumerate(CASES):
            with FixtureSite(texts, sitemap_size=max(1, count // 3)) as site:
                setup(site)
                root = Path(tmp, f"case-{n}")
                rows.append([name, *_run(site, root, full=True)])
                if n < 3:  # the bad child gone: is it read again, and the rest not?
                    if n < 2:  # mended, still listed in the index (the 503s were all played)
                        site.plant("/post-sitemap-bad.xml", dead_urlset(0), child=True)
                    rows.append(["then, child mended: a plain sync", *_run(site, root, full=False)])
    header = "| case | exit | archived | requests | statement requests | time | said |"
    lines = [
        HEADING,
        "",
        f"{count} statements on the fixture site (3 child sitemaps), one `--full` sync per case"
        " with the seed's own caps (`max_urls` 50,000, `max_new` 5,000, `gone_streak` 50,"
        " `max_pages` 500), then for the first three a plain sync with the child mended: is"
        " it read again, and only it?"
        " Produced by `python bench/reliability_discovery.py`.",
        "",
        header,
        "| --- | --- | --- | --- | --- | --- | --- |",
        *("| " + " | ".join(row) + " |" for row in rows),
        "",
    ]
    return lines


def write_section(lines: list[str], out: Path) -> None:
    """Put the section into ``out``, in place of its previous version, else at the end."""
    text = out.read_text(encoding="utf-8") if out.exists() else ""
    section = "\n".join(lines)
    start = text.find(HEADING)
    if start < 0:
        text = text.rstrip("\n") + "\n\n" + section
    else:
        end = text.find("\n### ", start + len(HEADING))
        text = text[:start] + section + ("" if end < 0 else text[end:])
    out.write_text(text, encoding="utf-8")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--statements", type=int, default=60)
    parser.add_argument("--out", type=Path, default=PROJECT / "docs" / "reliability.md")
    args = parser.parse_args()
    lines = discovery(args.statements)
    write_section(lines, args.out)
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
