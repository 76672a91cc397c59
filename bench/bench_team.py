"""Team mode throughput: 1, 2 and 4 workers over many loopback publishers, each at 1 request/s.

    python bench/bench_team.py [--publishers 8] [--each 3] [--workers 1 2 4]

A throw-away PostgreSQL cluster (tests/pgcluster.py) and ``--publishers`` fixture sites on
127.0.0.1, each serving ``--each`` statements of the corpus and limited by its source's rate to
1 request a second (the host slots of ``storage/hostslots.py``, shared by the workers). For each
worker count: a fresh database, a ``--full`` sync of every publisher queued, the workers started
(``tests/team_worker.py``, ``once``: they exit when the queue is empty), the wall time until the
last one exits (worker start-up included: a second or two each, in parallel). Then, with the
most workers, a no-change cycle (a sync of every publisher again, not full): its requests and
seconds per publisher. Last, the index's size per statement in PostgreSQL (its own tables,
indexes and TOAST; small samples are dominated by fixed overhead).

Near-linear in workers is the goal while publishers outnumber workers: each sync waits on its
host's rate, not on the CPU.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT))

from crawler.team import enqueue  # noqa: E402
from tests.conftest import _corpus  # noqa: E402
from tests.pgcluster import Cluster, start_cluster  # noqa: E402
from tests.test_team import jobs_by_status, publishers, start_worker  # noqa: E402

TABLES = (
    "statements",
    "revisions",
    "events",
    "event_html",
    "urls",
    "runs",
    "fetch_state",
    "outbox",
)


def run(cluster: Cluster, folder: Path, sites: dict, seeds: Path, workers: int) -> dict:
    locator = cluster.new_database()
    archive = folder / f"archive-{workers}"
    spec = {"archive": str(archive), "index": locator, "seeds": str(seeds), "once": True}
    spec["base_urls"] = {name: site.base_url for name, site in sites.items()}
    for site in sites.values():
        site.requests.clear()
    enqueue(locator, list(sites), full=True)
    started = time.monotonic()
    procs = [start_worker(folder, n, rate=1, **spec) for n in range(workers)]
    codes = [p.wait(timeout=3600) for p in procs]
    seconds = time.monotonic() - started
    requests = sum(len(site.requests) for site in sites.values())
    assert codes == [0] * workers and jobs_by_status(locator) == {"succeeded": len(sites)}
    return {"locator": locator, "archive": archive, "seconds": seconds, "requests": requests}


def no_change(folder: Path, sites: dict, seeds: Path, first: dict, workers: int) -> dict:
    for site in sites.values():
        site.requests.clear()
    spec = {"archive": str(first["archive"]), "index": first["locator"], "seeds": str(seeds)}
    spec |= {"once": True, "base_urls": {n: s.base_url for n, s in sites.items()}}
    enqueue(first["locator"], list(sites))
    started = time.monotonic()
    procs = [start_worker(folder, 100 + n, rate=1, **spec) for n in range(workers)]
    assert [p.wait(timeout=3600) for p in procs] == [0] * workers
    seconds = time.monotonic() - started
    return {"seconds": seconds, "requests": sum(len(s.requests) for s in sites.values())}


def size_per_statement(locator: str) -> tuple[int, int]:
    import psycopg

    with psycopg.connect(locator) as db:
        size = sum(
            db.execute("SELECT pg_total_relation_size(%s)", (t,)).fetchone()[0]  # type: ignore[index]
            for t in TABLES
        )
        count = db.execute("SELECT count(*) FROM statements").fetchone()[0]  # type: ignore[index]
    return size, count


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--publishers", type=int, default=8)
    parser.add_argument("--each", type=int, default=3)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2, 4])
    args = parser.parse_args()
    cluster = start_cluster()
    try:
        with tempfile.TemporaryDirectory(prefix="bench-team-") as tmp:
            folder = Path(tmp)
            with publishers(_corpus(), folder, args.publishers, args.each) as (seeds, sites):
                results = {}
                for workers in args.workers:
                    results[workers] = run(cluster, folder, sites, seeds, workers)
                    r = results[workers]
                    print(
                        f"{workers} worker(s): {args.publishers} publishers x {args.each}"
                        f" statements in {r['seconds']:.1f} s, {r['requests']} requests"
                        f" ({r['requests'] / r['seconds']:.2f}/s,"
                        f" {args.publishers * args.each / r['seconds']:.2f} statements/s)",
                        flush=True,
                    )
                most = max(args.workers)
                cycle = no_change(folder, sites, seeds, results[most], most)
                print(
                    f"no-change cycle, {most} workers: {cycle['seconds']:.1f} s,"
                    f" {cycle['requests'] / args.publishers:.1f} requests and"
                    f" {cycle['seconds'] * most / args.publishers:.1f} worker-seconds"
                    " per publisher"
                )
                size, count = size_per_statement(results[most]["locator"])
                print(f"index: {size / 1024:.0f} KiB for {count} statements")
                print(f"  = {size / max(count, 1) / 1024:.1f} KiB per statement")
    finally:
        cluster.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
