"""Sync throughput and incremental cost against the fixture site, politeness off.

    python bench/bench_sync.py [--sizes 1000 10000] [--concurrency 4]

For each N: a fixture site serving N statements (the corpus's current whitehouse.gov statements,
cloned under new URLs past the 2,125 it has), a cold ``statements sync --full`` into a fresh
archive, then a no-change ``statements sync``. Each sync runs as its own process, measured with
wait4: wall seconds, CPU seconds (pandoc's included), peak RSS. Ratios compare the sizes.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT))

from storage.document import Statement, dumps, loads  # noqa: E402
from tests.fixture_site import FixtureSite, corpus_texts, usable_texts  # noqa: E402


def statements(count: int) -> list[str]:
    base = usable_texts(corpus_texts())
    out = list(base[:count])
    clone = 0
    while len(out) < count:
        clone += 1
        for text in base[: count - len(out)]:
            doc = loads(text)
            meta = dict(doc.meta)
            meta["source_url"] = doc.source_url.rstrip("/") + f"-copy-{clone}/"
            meta["title"] = f"{doc.title} (copy {clone})"
            out.append(dumps(Statement(meta, doc.body)))
    return out


CHILD = """
import sys
from crawler.cli import main
code = main(sys.argv[1:])
status = open("/proc/self/status").read()
peak = next(line.split()[1] for line in status.splitlines() if line.startswith("VmHWM:"))
sys.stderr.write(f"VMHWM {peak}\\n")
sys.exit(code)
"""


def run(argv: list[str]) -> tuple[dict[str, object], float, float, float]:
    """Run the CLI in a child; (its JSON, wall s, CPU s with pandoc's, peak RSS MB).

    The peak is the child's own VmHWM: ru_maxrss would count the parent's pages from the fork.
    """
    env = {**os.environ, "PYTHONPATH": str(PROJECT)}
    started = time.perf_counter()
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, *argv, "--json"],
        cwd=PROJECT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    out, err = child.communicate()
    wall = time.perf_counter() - started
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = usage.ru_utime + usage.ru_stime - run.cpu_so_far  # type: ignore[attr-defined]
    run.cpu_so_far += cpu  # type: ignore[attr-defined]
    peak = next(
        int(line.split()[1]) for line in err.decode().splitlines() if line.startswith("VMHWM")
    )
    return json.loads(out), wall, cpu, peak / 1024


run.cpu_so_far = 0.0  # type: ignore[attr-defined]


def bench(count: int, concurrency: int) -> dict[str, float]:
    texts = statements(count)
    t = time.perf_counter()
    with FixtureSite(texts, sitemap_size=1000) as site, tempfile.TemporaryDirectory() as tmp:
        ready = time.perf_counter() - t
        common = [
            "sync",
            "--archive",
            f"{tmp}/archive",
            "--base-url",
            site.base_url,
            "--rate",
            "0",
            "--concurrency",
            str(concurrency),
        ]
        cold, cold_s, cold_cpu, cold_rss = run([*common, "--full"])
        archived = sum(1 for _ in Path(tmp, "archive").rglob("*.md"))
        site.reset_counts()
        idle, idle_s, _, idle_rss = run(common)
        idle_requests = len(site.requests)
        statement_requests = site.statement_requests()
    new = cold["sources"][0]["counts"].get("new", 0)  # type: ignore[index]
    print(f"N = {count:,} (fixture ready in {ready:.0f} s)")
    print(
        f"  cold sync          {cold_s:8.1f} s   {archived / cold_s:6.1f} pages/s   "
        f"{cold_cpu / archived * 1000:5.1f} ms CPU/page   peak RSS {cold_rss:5.0f} MB   "
        f"({new:,} new, {archived:,} files)"
    )
    print(
        f"  no-change re-sync  {idle_s:8.2f} s   {idle_requests} requests "
        f"({statement_requests} statement pages)   peak RSS {idle_rss:5.0f} MB   "
        f"events: {len(idle['sources'][0]['events'])}"
    )  # type: ignore[index]
    return {
        "rss": cold_rss,
        "cpu_page": cold_cpu / archived,
        "idle_s": idle_s,
        "idle_requests": idle_requests,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--concurrency", type=int, default=4)
    args = parser.parse_args()
    results = {n: bench(n, args.concurrency) for n in args.sizes}
    if len(results) > 1:
        small, large = results[min(results)], results[max(results)]
        rss, cpu = large["rss"] / small["rss"], large["cpu_page"] / small["cpu_page"]
        print(
            f"ratios {max(results):,} / {min(results):,}: peak RSS {rss:.2f}x, CPU/page {cpu:.2f}x"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
