"""Sync throughput and incremental cost against the fixture site, politeness off.

    python bench/bench_sync.py [--sizes 1000 10000] [--concurrency 4] [--no-previous]

For each N: a fixture site serving N statements (the corpus's current whitehouse.gov statements,
cloned under new URLs past the 2,125 it has), a cold ``statements sync --full`` into a fresh
archive, then a no-change ``statements sync``. Each sync runs as its own process, measured with
wait4: wall seconds, CPU seconds (pandoc's included: the child waits for its pandoc processes, so
their time is in its RUSAGE_CHILDREN). Ratios compare the sizes.
Every child finds the project's bytecode compiled (once, before anything is measured, in a
temporary ``PYTHONPYCACHEPREFIX``), as an installed tool has it: pip compiles it at install.

Memory, pandoc included, three figures:
- ``sync`` the sync process's own peak, VmHWM of /proc/self/status;
- ``pandoc`` the largest pandoc child's peak, ru_maxrss of the sync process's RUSAGE_CHILDREN
  (about 100 MB of it is pandoc's 160 MB binary mapped from the page cache, shared by both
  pandoc processes);
- ``total`` the peak of the sync process's VmRSS plus its pandoc children's VmRSS, sampled from
  /proc every 10 ms while it runs, by the bench's own process (so the sampling's CPU is not
  counted as the sync's) (shared pages counted once per process: an upper bound), and
  the same with Pss of /proc/<pid>/smaps_rollup (a page shared by n processes counts 1/n in
  each: what the sync takes of the machine's memory).

The same pipeline with every body through pandoc (``pandoc`` row: the native Markdown writer of
crawler/markdown.py turned off) runs in the same run too, and the previous pipeline, for the cold
sync (``--no-previous`` leaves it out): the same code with the changes of issue 13 item 5 turned
back, in the child only: pages read with a whole BeautifulSoup tree, no native writer
(``crawler.parse._cuttable`` false), 50 pages to a pandoc process, one batch converted at a time
(``CONVERT_BATCH = 50``, ``CONVERTERS = 1``).
"""

from __future__ import annotations

import argparse
import atexit
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

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
import os, resource, sys
from crawler.cli import main
if os.environ.get("BENCH_PREVIOUS") or os.environ.get("BENCH_PANDOC_ONLY"):
    import crawler.pandoc
    crawler.pandoc.Pandoc._writes_natively = lambda self: False  # every body through pandoc
if os.environ.get("BENCH_PREVIOUS"):
    import crawler.parse, crawler.syncer
    crawler.parse._cuttable = lambda selectors: False
    crawler.syncer.CONVERT_BATCH, crawler.syncer.CONVERTERS = 50, 1

code = main(sys.argv[1:])
status = open("/proc/self/status").read()
peak = next(line.split()[1] for line in status.splitlines() if line.startswith("VmHWM:"))
child = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
sys.stderr.write(f"VMHWM {peak} {child}\\n")
sys.exit(code)
"""


@dataclass
class Run:
    """One sync in a child process."""

    out: dict[str, Any]
    wall: float  # seconds
    cpu: float  # seconds, user + system, its pandoc children's included
    rss: float  # MB: the sync process's VmHWM
    pandoc: float  # MB: the largest pandoc child's ru_maxrss
    total: float  # MB: sampled peak of the sync's VmRSS plus its children's
    pss: float  # MB: the same with Pss (pages shared by the processes counted once in all)


def _kb(path: str, key: str) -> int:
    try:
        with open(path) as lines:
            return next(int(line.split()[1]) for line in lines if line.startswith(key))
    except (OSError, StopIteration, ValueError):
        return 0


def _tree(pid: int) -> list[int]:
    """The process and its children (the pandoc processes), from /proc."""
    pids = [pid]
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return pids
    for tid in tasks:
        try:
            with open(f"/proc/{pid}/task/{tid}/children") as children:
                pids.extend(int(p) for p in children.read().split())
        except OSError:
            pass
    return pids


class Sampler:
    """Peak VmRSS and Pss of a process tree, sampled from this process every 10 ms: the
    sampling's CPU is this process's, not the measured sync's."""

    def __init__(self, pid: int) -> None:
        self.pid, self.rss, self.pss = pid, 0, 0
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._sample, daemon=True)
        self.thread.start()

    def _sample(self) -> None:
        while not self.done.wait(0.01):
            pids = _tree(self.pid)
            self.rss = max(self.rss, sum(_kb(f"/proc/{p}/status", "VmRSS:") for p in pids))
            self.pss = max(self.pss, sum(_kb(f"/proc/{p}/smaps_rollup", "Pss:") for p in pids))

    def stop(self) -> tuple[int, int]:
        self.done.set()
        self.thread.join()
        return self.rss, self.pss


#: Where the children keep the project's compiled bytecode, as an installed tool has it (pip
#: compiles it at install): without it every sync would first compile its ~80 modules (0.2 s).
PYCACHE = tempfile.mkdtemp(prefix="bench-pycache-")
atexit.register(shutil.rmtree, PYCACHE, ignore_errors=True)


def _child_env() -> dict[str, str]:
    env = {**os.environ, "PYTHONPATH": str(PROJECT), "PYTHONPYCACHEPREFIX": PYCACHE}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def warm() -> None:
    """Compile the project's bytecode once, before anything is measured."""
    code = "import crawler.cli, crawler.kinds.html, crawler.syncer, crawler.pandoc"
    subprocess.run([sys.executable, "-c", code], cwd=PROJECT, env=_child_env(), check=True)


def run(argv: list[str], *, previous: bool = False, pandoc_only: bool = False) -> Run:
    """Run the CLI in a child (the previous pipeline with ``previous``); see the docstring.

    The sync's peak is its own VmHWM: ru_maxrss would count the parent's pages from the fork.
    """
    env = {
        **_child_env(),
        "BENCH_PREVIOUS": "1" if previous else "",
        "BENCH_PANDOC_ONLY": "1" if pandoc_only else "",
    }
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, *argv, "--json"],
        cwd=PROJECT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    sampler = Sampler(child.pid)
    out, err = child.communicate()
    total, pss = (kb / 1024 for kb in sampler.stop())
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    line = next(line for line in err.decode().splitlines() if line.startswith("VMHWM"))
    peak, pandoc = (int(v) / 1024 for v in line.split()[1:])
    return Run(json.loads(out), wall, cpu, peak, pandoc, total, pss)


def bench(count: int, concurrency: int, previous: bool) -> dict[str, float]:
    texts = statements(count)
    t = time.perf_counter()
    with FixtureSite(texts, sitemap_size=1000) as site, tempfile.TemporaryDirectory() as tmp:
        ready = time.perf_counter() - t

        def common(archive: str) -> list[str]:
            return [
                *("sync", "--archive", f"{tmp}/{archive}", "--base-url", site.base_url),
                *("--rate", "0", "--concurrency", str(concurrency)),
            ]

        before = run([*common("previous"), "--full"], previous=True) if previous else None
        pandoc_only = run([*common("pandoc-only"), "--full"], pandoc_only=True)
        cold = run([*common("archive"), "--full"])
        archived = sum(1 for _ in Path(tmp, "archive").rglob("*.md"))
        site.reset_counts()
        idle = run(common("archive"))
        idle_requests = len(site.requests)
        statement_requests = site.statement_requests()
    new = cold.out["sources"][0]["counts"].get("new", 0)
    print(f"N = {count:,} (fixture ready in {ready:.0f} s)")
    for name, cold_run in (("previous", before), ("pandoc", pandoc_only), ("now", cold)):
        if cold_run is not None:
            print(
                f"  cold sync {name:9} {cold_run.wall:7.1f} s   {archived / cold_run.wall:6.1f} "
                f"pages/s   {cold_run.cpu / archived * 1000:5.1f} ms CPU/page   memory: sync "
                f"{cold_run.rss:4.0f} MB, largest pandoc {cold_run.pandoc:4.0f} MB, total "
                f"{cold_run.total:4.0f} MB (Pss {cold_run.pss:4.0f} MB)"
            )
    print(f"  ({new:,} new, {archived:,} files)")
    print(
        f"  no-change re-sync  {idle.wall:8.2f} s   {idle_requests} requests "
        f"({statement_requests} statement pages)   peak RSS {idle.rss:5.0f} MB   "
        f"events: {len(idle.out['sources'][0]['events'])}"
    )
    return {
        "rss": cold.rss,
        "cpu_page": cold.cpu / archived,
        "idle_s": idle.wall,
        "idle_requests": idle_requests,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--no-previous", action="store_true", help="leave the previous out")
    args = parser.parse_args()
    warm()
    results = {n: bench(n, args.concurrency, not args.no_previous) for n in args.sizes}
    if len(results) > 1:
        small, large = results[min(results)], results[max(results)]
        rss, cpu = large["rss"] / small["rss"], large["cpu_page"] / small["cpu_page"]
        print(
            f"ratios {max(results):,} / {min(results):,}: peak RSS {rss:.2f}x, CPU/page {cpu:.2f}x"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
