"""Reliability figures: injected faults, SIGKILLed syncs, hostile input. Writes docs/reliability.md.

    python bench/reliability.py [--statements 1000] [--kills 30] [--kill-statements 200]
        [--alert-kills 10] [--alert-statements 120] [--storm-statements 300]
        [--only faults storm kills alerts hostile discovery]

1. Faults: the fixture site fails 20% of statement requests at random (500, 503, 429 with
   Retry-After, reset connections, stalls past the client timeout, bodies cut short). A full sync;
   every statement must end archived (after retries) or reported failed by name; none lost; every
   file equal to a fault-free run's (no truncated body stored). A second sync picks up failures.
2. Crashes: syncs killed with SIGKILL at random moments; after each, ``statements verify`` must
   pass and a rerun complete; the end state must equal an uninterrupted run's.
3. Alerts after a crash: syncs with the Atom feed and a webhook, killed with SIGKILL at random
   moments (announcing included), then the next run (a sync, or ``statements announce``): every
   event recorded must be in ``changes.atom`` and at the webhook; repeats carry the same id.
4. Retry storm: a handful of statements answer 503 with Retry-After several times before they
   succeed, spread over a ``statements sync --full`` (its own process, real sleeps) of statements
   that are otherwise healthy: every statement archived, requests, wall and CPU seconds (pandoc's
   included); and the order the healthy and the retried ones were recorded in.
5. Hostile input: the hostile-case and fuzz suites, counted.
6. Discovery: broken and hostile sitemaps and listings (bench/reliability_discovery.py).
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import json
import os
import random
import resource
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

PROJECT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT))

from bench.reliability_discovery import discovery  # noqa: E402
from crawler.fetch import Fetcher, RetryPolicy, make_client  # noqa: E402
from crawler.source import load_source  # noqa: E402
from crawler.syncer import Syncer, SyncOptions  # noqa: E402
from storage.archive import Archive  # noqa: E402
from tests.fixture_site import FixtureSite, corpus_texts, usable_texts  # noqa: E402
from tests.receiver import Receiver  # noqa: E402
from tests.test_sync import snapshot  # noqa: E402

ENV = {**os.environ, "PYTHONPATH": str(PROJECT)}


def sync_in_process(
    root: Path, site: FixtureSite, *, full: bool
) -> tuple[Counter[str], list[str], int]:
    source = load_source(PROJECT / "seeds" / "whitehouse.toml")
    source = dataclasses.replace(
        source, politeness=dataclasses.replace(source.politeness, rate=0.0)
    )
    retry = RetryPolicy(attempts=4, initial=0.1, maximum=1.0)
    with make_client(timeout=1.0) as client, Archive(root) as archive:
        fetcher = Fetcher(client, source, base_url=site.base_url, retry=retry, concurrency=4)
        report = Syncer(archive, source, fetcher, SyncOptions(full=full)).run()
        retried = sum(
            n for status, n in fetcher.stats.by_status.items() if status in (0, 429, 500, 503)
        )
    return report.counts, [url for url, _ in report.failures], retried


def _cpu() -> float:
    """CPU seconds of this process (the fixture site's threads too) and its finished children."""
    own, children = (
        resource.getrusage(resource.RUSAGE_SELF),
        resource.getrusage(resource.RUSAGE_CHILDREN),
    )
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def faults(count: int) -> list[str]:
    texts = usable_texts(corpus_texts(), count)
    with tempfile.TemporaryDirectory() as tmp, FixtureSite(texts, stall_seconds=1.5) as site:
        control = Path(tmp, "control")
        sync_in_process(control, site, full=True)
        site.fault_rate, site.fault_seed = 0.2, 7
        site.reset_counts()
        faulty = Path(tmp, "faulty")
        started, cpu_started = time.perf_counter(), _cpu()
        counts, failed, retried = sync_in_process(faulty, site, full=True)
        first_s, first_cpu = time.perf_counter() - started, _cpu() - cpu_started
        injected = dict(site.injected)
        archived = len(list(faulty.rglob("*.md")))
        again_counts, still_failed, _ = sync_in_process(faulty, site, full=False)
        site.fault_rate = 0.0
        final_counts, final_failed, _ = sync_in_process(faulty, site, full=False)
        files, control_files = snapshot(faulty)[0], snapshot(control)[0]
        corrupt = sum(1 for p, data in files.items() if control_files.get(p) != data)
        lost = count - archived - len(failed)
    rows = [f"| {kind} | {n} |" for kind, n in sorted(injected.items())]
    return [
        f"### Faults: {count} statements, 20% of statement requests failing at random",
        "",
        "| fault class | injected |",
        "| --- | --- |",
        *rows,
        f"| **all** | **{sum(injected.values())}** |",
        "",
        "| outcome | statements |",
        "| --- | --- |",
        f"| archived by the first sync (after retries) | {archived} |",
        f"| reported failed by name by the first sync | {len(failed)} |",
        f"| **lost** (neither archived nor reported) | **{lost}** |",
        f"| requests retried (timeouts, resets, cut bodies, 429/500/503) | {retried} |",
        f"| files differing from a fault-free run (truncated or wrong) | {corrupt} |",
        f"| failures left after a second sync (still 20% faults) | {len(still_failed)} |",
        f"| failures left after a third sync (faults off) | {len(final_failed)} |",
        "",
        f"First sync: {first_s:.1f} s, {first_cpu:.1f} s CPU (the fixture site's and pandoc's"
        f" included); {counts.get('new', 0)} new. Second sync: "
        f"{again_counts.get('new', 0)} new. Third: {final_counts.get('new', 0)} new.",
        "",
    ]


def kills(runs: int, count: int) -> list[str]:
    texts = usable_texts(corpus_texts(), count)
    rng = random.Random(11)
    results = []
    with tempfile.TemporaryDirectory() as tmp, FixtureSite(texts) as site:

        def sync(root: Path) -> list[str]:
            return [sys.executable, "-m", "crawler.cli", *site.sync_args(root, "--full", "--json")]

        whole = Path(tmp, "whole")
        started = time.perf_counter()
        subprocess.run(sync(whole), check=True, capture_output=True, cwd=PROJECT, env=ENV)
        duration = time.perf_counter() - started
        expected = snapshot(whole)
        for run in range(runs):
            root = Path(tmp, f"killed-{run}")
            delay = rng.uniform(0.3, duration)
            process = subprocess.Popen(
                sync(root),
                cwd=PROJECT,
                env=ENV,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            time.sleep(delay)
            process.send_signal(signal.SIGKILL)
            process.wait()
            files_then = len(list(root.rglob("*.md")))
            verified: int | None = None  # None: killed before it made an archive, nothing to check
            if (root / ".statements").exists():
                verify = subprocess.run(
                    [sys.executable, "-m", "crawler.cli", "verify", "--archive", str(root)],
                    capture_output=True,
                    cwd=PROJECT,
                    env=ENV,
                )
                verified = verify.returncode
            rerun = subprocess.run(sync(root), capture_output=True, cwd=PROJECT, env=ENV)
            equal = snapshot(root) == expected
            results.append((delay, files_then, verified, rerun.returncode, equal))
    passed = sum(1 for r in results if r[2] in (0, None) and r[3] == 0 and r[4])
    lines = [
        f"### Crashes: {runs} syncs of {count} statements killed with SIGKILL at random moments",
        "",
        "| run | killed after | files then | verify | rerun | equal to an uninterrupted run |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for i, (delay, files_then, verify_code, rerun_code, equal) in enumerate(results, 1):
        lines.append(
            f"| {i} | {delay:.2f} s | {files_then} | {_verdict(verify_code)}"
            f" | exit {rerun_code} | {'yes' if equal else 'NO'} |"
        )
    lines += [
        "",
        f"**{passed} of {runs}** runs: verify passed (or the kill came before any archive was"
        " made: nothing to verify), the rerun completed, the result equals the uninterrupted run"
        f" (its sync took {duration:.1f} s).",
        "",
    ]
    return lines


def _verdict(code: int | None) -> str:
    return "no archive yet" if code is None else "pass" if code == 0 else "FAIL"


def _configure_alerts(root: Path, hook_url: str) -> None:
    root.mkdir(parents=True, exist_ok=True)
    (root / "statements.toml").write_text(
        "[alerts.atom]\nentries = 10000\n"
        f'[[alerts.webhooks]]\nurl = "{hook_url}"\nattempts = 1\ntimeout = 5.0\n',
        encoding="utf-8",
    )


def _alerts_delivered(root: Path, receiver: Receiver) -> tuple[int, int, int, int, int]:
    """(events recorded, of them in the feed, of them at the webhook, receipts, missing)."""
    with Archive(root) as archive:
        ids = {e.id for e in archive.index.events(news=True)}
    feed = (
        (root / "changes.atom").read_text(encoding="utf-8")
        if (root / "changes.atom").exists()
        else ""
    )
    in_feed = {i for i in ids if f"event/{i}<" in feed}
    got = [e["id"] for _, body in receiver.posts for e in json.loads(body)["events"]]
    received = ids & set(got)
    return len(ids), len(in_feed), len(received), len(got), len(ids - in_feed) + len(ids - received)


def alert_kills(runs: int, count: int) -> list[str]:
    """Syncs killed at random moments (announcing included), then the next run: alerts lost?"""
    texts = usable_texts(corpus_texts(), count)
    rng = random.Random(10)
    rows = []
    with tempfile.TemporaryDirectory() as tmp, FixtureSite(texts) as site:

        def sync(root: Path) -> list[str]:
            return [sys.executable, "-m", "crawler.cli", *site.sync_args(root, "--full")]

        with Receiver(delay=1.0) as receiver:
            whole = Path(tmp, "whole")
            _configure_alerts(whole, receiver.url)
            started = time.perf_counter()
            subprocess.run(sync(whole), check=True, capture_output=True, cwd=PROJECT, env=ENV)
            duration = time.perf_counter() - started
        for run in range(runs):
            root = Path(tmp, f"killed-{run}")
            with Receiver(delay=1.0) as receiver:  # a slow receiver: kills land mid-POST too
                _configure_alerts(root, receiver.url)
                delay = rng.uniform(0.3, duration * 1.1)
                process = subprocess.Popen(
                    sync(root), cwd=PROJECT, env=ENV, stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )  # fmt: skip
                time.sleep(delay)
                process.send_signal(signal.SIGKILL)
                process.wait()
                told_then = sum(len(json.loads(b)["events"]) for _, b in receiver.posts)
                nxt = ["announce", "--archive", str(root)] if run % 2 else sync(root)[3:]
                subprocess.run(
                    [sys.executable, "-m", "crawler.cli", *nxt],
                    capture_output=True, cwd=PROJECT, env=ENV,
                )  # fmt: skip
                recorded, in_feed, received, receipts, missing = _alerts_delivered(root, receiver)
            rows.append(
                (
                    delay,
                    nxt[0],
                    recorded,
                    told_then,
                    in_feed,
                    received,
                    receipts - received,
                    missing,
                )
            )
    lines = [
        f"### Alerts after a crash: {runs} syncs of {count} statements killed with SIGKILL,"
        " then the next run",
        "",
        "Atom feed and a webhook (answering after 1 s) configured; each sync killed at a random"
        " moment (before, during or after announcing); then the next run (`statements sync`, or"
        " `statements announce`). Events: those the index holds (never a reformat).",
        "",
        "| run | killed after | next run | events recorded | webhook events before the next run"
        " | in changes.atom | at the webhook | duplicates (same id) | missing |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for i, (delay, nxt, recorded, then, in_feed, received, dupes, missing) in enumerate(rows, 1):
        lines.append(
            f"| {i} | {delay:.2f} s | {nxt} | {recorded} | {then} | {in_feed} | {received}"
            f" | {dupes} | {missing} |"
        )
    lost = sum(r[-1] for r in rows)
    lines += [
        "",
        f"**{lost}** alerts missing over {runs} runs; {sum(r[6] for r in rows)} duplicate"
        f" receipts, each with the id of an event already received (an uninterrupted sync took"
        f" {duration:.1f} s).",
        "",
    ]
    return lines


def retry_storm(count: int, storm: int = 10, times: int = 3, wait: int = 2) -> list[str]:
    """A ``--full`` of ``count`` statements while ``storm`` of them answer 503 with Retry-After
    ``wait`` the first ``times`` times; and the same with no fault, for comparison."""
    texts = usable_texts(corpus_texts(), count)
    rows, order = [], ""
    for label in ("no fault", "retry storm"):
        with tempfile.TemporaryDirectory() as tmp, FixtureSite(texts) as site:
            urls = site.urls()
            stormy = urls[:: max(1, len(urls) // storm)][:storm] if label != "no fault" else []
            for url in stormy:
                site.fail(url, "status", times=times, status=503, retry_after=wait)
            root = Path(tmp, "archive")
            code, report, wall, cpu = _cli_sync(site.sync_args(root, "--full", "--json"))
            archived = len(list(root.rglob("*.md")))
            rows.append(
                f"| {label} | exit {code} | {archived} of {count} | {report['requests']} "
                f"| {wall:.1f} s | {cpu:.1f} s |"
            )
            if stormy:
                healthy_last, stormy_first = _record_order(root, set(stormy))
                order = (
                    f"Recording order in the storm: the last healthy statement was recorded "
                    f"{healthy_last} of {archived}; the first retried one {stormy_first}."
                )
    return [
        f"### Retry storm: {count} statements, {storm} answering 503 (Retry-After {wait} s)"
        f" {times} times before they succeed",
        "",
        "`statements sync --full` in its own process (default concurrency, `--rate 0`):",
        "",
        "| run | exit | statements archived | requests | wall | CPU (pandoc's included) |",
        "| --- | --- | --- | --- | --- | --- |",
        *rows,
        "",
        order,
        "",
    ]


def _cli_sync(argv: list[str]) -> tuple[int, dict[str, Any], float, float]:
    """``statements`` with these arguments in a child: exit code, the source's JSON report,
    wall and CPU seconds (the child's and its pandoc's)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    out = subprocess.run(
        [sys.executable, "-m", "crawler.cli", *argv], capture_output=True, cwd=PROJECT, env=ENV
    )
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    (report,) = json.loads(out.stdout)["sources"]
    return out.returncode, report, wall, cpu


def _record_order(root: Path, stormy: set[str]) -> tuple[int, int]:
    """The place of the last healthy statement and of the first ``stormy`` one in the order
    their events were recorded (1-based)."""
    with Archive(root) as archive:
        rows = archive.index.db.execute(
            "SELECT s.url FROM events e JOIN statements s ON s.id = e.statement_id ORDER BY e.id"
        ).fetchall()
    urls = [url for (url,) in rows]
    healthy = [n for n, url in enumerate(urls, 1) if url not in stormy]
    retried = [n for n, url in enumerate(urls, 1) if url in stormy]
    return max(healthy, default=0), min(retried, default=0)


def hostile() -> list[str]:
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "tests/test_hostile.py",
            "tests/test_fuzz.py",
            "tests/test_discover.py",
            "-k",
            "not real_feeds",
        ],
        capture_output=True,
        text=True,
        cwd=PROJECT,
        env=ENV,
    )
    summary = out.stdout.strip().splitlines()[-1]
    return [
        "### Hostile input",
        "",
        "Hostile HTML, encodings, dates, titles and bodies, paths, discovery documents (off-host"
        " URLs, file://, private addresses, gzip bombs, entity expansion), and property-based"
        " fuzzing of the page parser and the document reader (tests/test_hostile.py,"
        " tests/test_fuzz.py, tests/test_discover.py):",
        "",
        f"    {summary}",
        "",
    ]


SECTIONS = ("faults", "storm", "kills", "alerts", "hostile", "discovery")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--statements", type=int, default=1000)
    parser.add_argument("--kills", type=int, default=30)
    parser.add_argument("--kill-statements", type=int, default=200)
    parser.add_argument("--alert-kills", type=int, default=10)
    parser.add_argument("--alert-statements", type=int, default=120)
    parser.add_argument("--storm-statements", type=int, default=300)
    parser.add_argument(
        "--only", nargs="+", choices=SECTIONS, default=list(SECTIONS), help="sections to run"
    )
    parser.add_argument("--out", type=Path, default=PROJECT / "docs" / "reliability.md")
    args = parser.parse_args()
    lines = [
        "# Reliability",
        "",
        f"Produced by `python bench/reliability.py` on {dt.date.today().isoformat()}"
        " (fixture site on 127.0.0.1, politeness off). Each section is one run of the script.",
        "",
    ]
    if "faults" in args.only:
        lines += faults(args.statements)
    if "storm" in args.only:
        lines += retry_storm(args.storm_statements)
    if "kills" in args.only:
        lines += kills(args.kills, args.kill_statements)
    if "alerts" in args.only:
        lines += alert_kills(args.alert_kills, args.alert_statements)
    if "hostile" in args.only:
        lines += hostile()
    if "discovery" in args.only:
        lines += discovery()
    args.out.write_text("\n".join(lines), encoding="utf-8")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
