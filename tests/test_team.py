"""Team mode (``crawler.team``): Procrastinate workers on the index's PostgreSQL database.

The schedule mapping is pure and tested alone. Everything else runs for real: a throw-away
cluster (``tests/pgcluster.py``), loopback fixture publishers (``tests/fixture_site``), worker
processes (``tests/team_worker.py``, or ``statements worker`` in this process). Politeness is
measured on the server side, from the times the publisher saw the requests arrive.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import itertools
import json
import multiprocessing
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from crawler.cli import main
from crawler.team import every_to_cron
from storage.index import EventFilter

CRONS = ("2h", "45m", "90s", "10s", "7s", "1d", "3d", "5h", "1h30m")


@pytest.mark.parametrize("every", CRONS)
def test_every_becomes_a_clock_aligned_cron_never_less_often(every: str) -> None:
    croniter = pytest.importorskip("croniter")
    from crawler.durations import parse_duration

    cron = every_to_cron(every, "whitehouse")
    assert cron == every_to_cron(every, "whitehouse")  # the same source: the same times
    times = croniter.croniter(cron, dt.datetime(2026, 1, 1, tzinfo=dt.UTC))
    runs = [times.get_next(dt.datetime) for _ in range(30)]
    gaps = {b - a for a, b in itertools.pairwise(runs)}
    wanted = parse_duration(every)
    longest = max(gaps)
    assert longest <= wanted or (wanted >= dt.timedelta(days=2) and longest <= wanted * 2)
    # never twice as often as asked (days step through the month: its end shortens a gap)
    assert min(gaps) >= min(wanted / 2, dt.timedelta(days=1))


def test_the_sources_start_at_different_times() -> None:
    crons = {every_to_cron("2h", f"source-{n}") for n in range(10)}
    assert len(crons) > 5


@pytest.mark.parametrize("command", ["worker", "enqueue", "team-status"])
def test_team_commands_refuse_the_sqlite_index_in_one_line(
    command: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main([command, "--archive", str(tmp_path / "a")]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert "team mode needs the index in PostgreSQL" in err and "--index postgresql://" in err


# -- on a real cluster ------------------------------------------------------------------------


def _recent(corpus: tuple[tuple[str, str], ...], count: int, skip: int = 0) -> list[str]:
    from storage.document import loads
    from tests.fixture_site import usable_texts

    texts = sorted(usable_texts(t for _, t in corpus), key=lambda t: str(loads(t).published_time))
    return texts[len(texts) - skip - count : len(texts) - skip]


@pytest.mark.corpus
def test_enqueue_queues_a_source_once_and_a_worker_syncs_it_as_one_user_does(
    corpus: tuple[tuple[str, str], ...],
    tmp_path: Path,
    postgres_index: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    import json

    import feedparser

    from crawler.config import load_config
    from crawler.team import publish
    from storage.archive import Archive
    from tests.fixture_site import FixtureSite

    team, lite = tmp_path / "team", tmp_path / "lite"
    at = ["--archive", str(team), "--index", postgres_index]
    with FixtureSite(_recent(corpus, 6)) as site:
        assert main(["enqueue", *at, "whitehouse", "--full"]) == 0
        assert main(["enqueue", *at, "whitehouse", "--full"]) == 0
        assert capsys.readouterr().out.splitlines() == [
            "whitehouse: queued",
            "whitehouse: already waiting in the queue",
        ]
        assert main(["team-status", *at, "--json"]) == 0
        assert json.loads(capsys.readouterr().out)["queue"] == {"todo": 1}
        worker = ["worker", *at, "whitehouse", "--once", "--base-url", site.base_url]
        assert main([*worker, "--rate", "0"]) == 0
        assert main([*site.sync_args(lite, "--full")]) == 0
    capsys.readouterr()
    assert main(["team-status", *at, "--json"]) == 0
    state = json.loads(capsys.readouterr().out)
    assert state["queue"].get("todo", 0) == 0 and state["queue"]["succeeded"] >= 1
    assert state["workers"] == [] and state["last_runs"]["whitehouse"]["ok"] is True
    with Archive(team, create=False, index=postgres_index) as b:  # a periodic run may follow
        runs = [json.loads(r[4]) for r in b.index.runs() if r[0] == "whitehouse"]
    assert sum(r["counts"].get("new", 0) for r in runs) == 6
    upcoming = dt.datetime.fromisoformat(state["next_runs"]["whitehouse"])  # from its seed
    assert dt.timedelta(0) < upcoming - dt.datetime.now(dt.UTC) <= dt.timedelta(hours=24)
    assert main(["team-status", *at]) == 0
    assert f"whitehouse: last run {state['last_runs']['whitehouse']['started']} ok; next run" in (
        capsys.readouterr().out
    )
    with Archive(lite, create=False) as a, Archive(team, create=False, index=postgres_index) as b:
        # the same statements (the overlapped pipeline records them in arrival order)
        assert sorted(s.url for s in b.index.statements()) == sorted(
            s.url for s in a.index.statements()
        )
        assert b.index.count_statements() == 6
    # The worker wrote no file; the publish job writes them from the database and announces
    # what the worker recorded, as the single user's sync did.
    assert not list(team.rglob("*.md")) and not (team / "changes.atom").exists()
    config = load_config(team, postgres_index)
    assert publish(team, config) == {"files": 6, "atom": 6}
    assert publish(team, config) == {"files": 0, "atom": 0}  # idempotent: done once
    statements = {p.relative_to(team): p.read_bytes() for p in team.rglob("*.md")}
    assert statements == {p.relative_to(lite): p.read_bytes() for p in lite.rglob("*.md")}
    feeds = [feedparser.parse((a / "changes.atom").read_bytes()) for a in (team, lite)]
    # the same entries (their ids are event ids, numbered in the order each archive recorded)
    entries = [sorted((e.title, e.link) for e in f.entries) for f in feeds]
    assert entries[0] == entries[1] and len(entries[0]) == 6


RATE = 10.0  # requests per second the publisher allows
PER_WORKER = 10


def _fetch_through_slots(locator: str, base_url: str, urls: list[str]) -> int:
    """A worker process's requests: a Fetcher whose limit is the database's host slots."""
    from crawler.fetch import Fetcher, make_client
    from crawler.team import SharedLimiter
    from storage.hostslots import HostSlots
    from tests.fixture_site import seed

    slots = HostSlots(locator)
    host = base_url.split("//", 1)[1]
    with make_client() as client:
        limiter = SharedLimiter(slots, host, RATE)
        fetcher = Fetcher(client, seed(), base_url=base_url, limiter=limiter, obey_robots=False)
        for url in urls:
            fetcher.get(url)
    slots.close()
    return len(urls)


@pytest.mark.corpus
def test_four_workers_together_keep_a_hosts_rate_measured_at_the_server(
    corpus: tuple[tuple[str, str], ...], postgres_index: str
) -> None:
    from tests.fixture_site import FixtureSite

    with FixtureSite(_recent(corpus, 4 * PER_WORKER)) as site:
        urls = site.urls()
        shares = [urls[n::4] for n in range(4)]
        with multiprocessing.get_context("spawn").Pool(4) as pool:
            done = pool.starmap(
                _fetch_through_slots, [(postgres_index, site.base_url, s) for s in shares]
            )
        arrivals = sorted(t for t, _, path, _ in site.requests if path in site_paths(site))
    assert sum(done) == len(arrivals) == 4 * PER_WORKER
    gaps = [b - a for a, b in itertools.pairwise(arrivals)]
    interval = 1.0 / RATE
    assert min(gaps) >= 0.9 * interval, f"the closest two requests: {min(gaps):.3f}s apart"
    busiest = max(sum(1 for t in arrivals if start <= t < start + 1.0) for start in arrivals)
    assert busiest <= RATE, f"{busiest} requests within one second"


def site_paths(site: Any) -> set[str]:
    return {site.url_path(url) for url in site.urls()}


# -- worker processes over several loopback publishers ----------------------------------------

PROJECT = Path(__file__).resolve().parent.parent


@contextlib.contextmanager
def publishers(
    corpus: tuple[tuple[str, str], ...], tmp_path: Path, count: int, each: int
) -> Iterator[tuple[Path, dict[str, Any]]]:
    """``count`` fixture publishers of ``each`` statements, and a seeds folder with a source for
    each (``pub0``, ``pub1``...: the fixture's seed, renamed). The fixture site always names
    www.whitehouse.gov, so each publisher serves one section and month of it, and its source's
    ``statement_url`` matches only those: no source takes another's statements for its own."""
    from storage.document import loads
    from tests.fixture_site import SEED, FixtureSite

    seeds = tmp_path / "seeds"
    seeds.mkdir()
    groups: dict[str, list[str]] = {}
    for text in reversed(_recent(corpus, 600)):
        prefix = "/".join(loads(text).source_url.split("/")[3:6])  # section/yyyy/mm
        groups.setdefault(prefix, []).append(text)
    chosen = [(p, t[:each]) for p, t in sorted(groups.items()) if len(t) >= each][:count]
    assert len(chosen) == count, "the corpus has too few statements for the publishers"
    seed_text = SEED.read_text(encoding="utf-8")
    with contextlib.ExitStack() as stack:
        sites = {}
        for n, (prefix, texts) in enumerate(chosen):
            name = f"pub{n}"
            section, year, month = prefix.split("/")
            text = seed_text.replace('name = "whitehouse"', f'name = "{name}"', 1)
            pattern = f"statement_url = '/(?P<tags>{section})/{year}/{month}/[^/]+/'"
            text = re.sub(r"(?m)^statement_url = .*$", lambda _, p=pattern: p, text, count=1)
            (seeds / f"{name}.toml").write_text(text, encoding="utf-8")
            sites[name] = stack.enter_context(FixtureSite(texts))
        yield seeds, sites


def start_worker(tmp_path: Path, n: int, **spec: Any) -> subprocess.Popen[bytes]:
    path = tmp_path / f"worker{n}.json"
    path.write_text(json.dumps({"name": f"w{n}", **spec}), encoding="utf-8")
    with (tmp_path / f"worker{n}.log").open("wb") as log:  # the process has its own copy
        return subprocess.Popen(
            [sys.executable, "-m", "tests.team_worker", str(path)],
            cwd=PROJECT,
            stdout=log,
            stderr=subprocess.STDOUT,
        )


def stop_workers(workers: list[subprocess.Popen[bytes]]) -> list[int | None]:
    for worker in workers:
        if worker.poll() is None:
            worker.send_signal(signal.SIGTERM)
    codes = []
    for worker in workers:
        try:
            codes.append(worker.wait(timeout=20))
        except subprocess.TimeoutExpired:
            worker.kill()
            codes.append(worker.wait())
    return codes


def wait_for(check: Callable[[], bool], seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, f"not within {seconds}s: {what}"
        time.sleep(0.2)


def jobs_by_status(locator: str) -> dict[str, int]:
    import psycopg

    with psycopg.connect(locator) as db:
        rows = db.execute(
            "SELECT status::text, count(*) FROM procrastinate_jobs"
            " WHERE task_name = 'statements.sync' GROUP BY status"
        ).fetchall()
    return dict(rows)


def history(index: Any) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """Statements with their revisions' hashes, and events, as comparable values."""
    statements = sorted(
        (
            s.url,
            s.path,
            s.source,
            s.title,
            s.status,
            s.head,
            tuple(r.content_hash for r in index.revisions(s.id)),
        )
        for s in index.statements()
    )
    url_of = {s.id: s.url for s in index.statements()}
    events = sorted(
        (url_of[e.statement_id], e.kinds, e.from_rev, e.to_rev) for e in index.events(EventFilter())
    )
    return statements, events


def single_user(root: Path, seeds: Path, sites: dict[str, Any]) -> None:
    for name, site in sites.items():
        argv = ["sync", name, "--archive", str(root), "--seeds", str(seeds), "--full"]
        assert main([*argv, "--base-url", site.base_url, "--rate", "0"]) == 0


PUBLISHERS = 20


@pytest.mark.corpus
@pytest.mark.slow
def test_four_workers_over_twenty_publishers_end_as_a_single_user_sync(
    corpus: tuple[tuple[str, str], ...], tmp_path: Path, postgres_index: str
) -> None:
    from crawler.team import enqueue
    from storage.archive import Archive

    team, lite = tmp_path / "team", tmp_path / "lite"
    with publishers(corpus, tmp_path, PUBLISHERS, 2) as (seeds, sites):
        queued = enqueue(postgres_index, list(sites), full=True)
        assert list(queued.values()) == [True] * PUBLISHERS
        spec = {"archive": str(team), "index": postgres_index, "seeds": str(seeds), "once": True}
        spec["base_urls"] = {name: site.base_url for name, site in sites.items()}
        workers = [start_worker(tmp_path, n, rate=0, **spec) for n in range(4)]
        codes = [w.wait(timeout=90) for w in workers]
        single_user(lite, seeds, sites)
    assert codes == [0, 0, 0, 0], (tmp_path / "worker0.log").read_text()
    assert jobs_by_status(postgres_index) == {"succeeded": PUBLISHERS}
    with Archive(lite, create=False) as a, Archive(team, create=False, index=postgres_index) as b:
        assert history(b.index) == history(a.index)
        assert b.index.count_statements() == 2 * PUBLISHERS == len(history(b.index)[1])
        assert {r[0] for r in b.index.runs()} >= set(sites)  # each source ran (in a worker)


@pytest.mark.corpus
@pytest.mark.slow
def test_a_worker_killed_mid_sync_is_swept_and_its_sync_retried_once_recorded(
    corpus: tuple[tuple[str, str], ...], tmp_path: Path, postgres_index: str
) -> None:
    from crawler.team import enqueue
    from storage.archive import Archive

    team = tmp_path / "team"
    with publishers(corpus, tmp_path, 1, 12) as (seeds, sites):
        site = sites["pub0"]
        spec = {"archive": str(team), "index": postgres_index, "seeds": str(seeds)}
        spec |= {"base_urls": {"pub0": site.base_url}, "rate": 5, "stalled_after": 2}
        spec["sweep"] = "2s"
        first = start_worker(tmp_path, 1, **spec)
        assert enqueue(postgres_index, ["pub0"], full=True) == {"pub0": True}
        wait_for(lambda: site.statement_requests() >= 5, 30, "the first worker fetched")
        first.kill()  # SIGKILL: the job stays 'doing', its lock held
        assert first.wait(timeout=10) == -signal.SIGKILL
        second = start_worker(tmp_path, 2, **spec)
        try:
            wait_for(lambda: jobs_by_status(postgres_index) == {"succeeded": 1}, 30, "retried")
        finally:
            codes = stop_workers([second])
    assert codes == [0], (tmp_path / "worker2.log").read_text()
    log = (tmp_path / "worker2.log").read_text()
    assert "Traceback" not in log and "swept job" in log  # the sweep put it back, not a retry
    with Archive(team, create=False, index=postgres_index) as archive:
        statements, events = history(archive.index)
    assert len(statements) == 12 and all(len(s[-1]) == 1 for s in statements)  # one revision
    assert len(events) == 12 and all(e[1:] == (("new",), None, 1) for e in events)


@pytest.mark.corpus
@pytest.mark.slow
def test_workers_reconnect_after_a_postgresql_restart_and_finish(
    corpus: tuple[tuple[str, str], ...], tmp_path: Path, postgres_cluster: Any
) -> None:
    from crawler.team import enqueue
    from storage.archive import Archive

    locator = postgres_cluster.new_database()
    team = tmp_path / "team"
    with publishers(corpus, tmp_path, 4, 5) as (seeds, sites):
        spec = {"archive": str(team), "index": locator, "seeds": str(seeds), "rate": 5}
        spec |= {"base_urls": {n: s.base_url for n, s in sites.items()}, "stalled_after": 2}
        spec["sweep"] = "2s"
        workers = [start_worker(tmp_path, n, **spec) for n in range(2)]
        try:
            enqueue(locator, list(sites), full=True)
            wait_for(lambda: sum(s.statement_requests() for s in sites.values()) >= 4, 30, "")
            data = postgres_cluster.folder / "data"
            pg_ctl = str(postgres_cluster.bin / "pg_ctl")
            log = str(postgres_cluster.folder / "log")  # not our pipe: run() would wait on it
            postgres_cluster.run(pg_ctl, "-D", str(data), "-l", log, "-m", "immediate", "restart")
            wait_for(lambda: jobs_by_status(locator).get("succeeded") == 4, 40, "all synced")
        finally:
            codes = stop_workers(workers)
    logs = "".join((tmp_path / f"worker{n}.log").read_text() for n in range(2))
    assert codes == [0, 0], logs
    assert "again in" in logs  # a worker lost the database and started again
    with Archive(team, create=False, index=locator) as archive:
        statements, events = history(archive.index)
    assert len(statements) == 20 and all(len(s[-1]) == 1 for s in statements)
    assert len(events) == 20


def test_the_sweep_requeues_a_dead_workers_job_or_fails_it_when_one_waits(
    postgres_index: str,
) -> None:
    """A stalled sync goes back in the queue with its lock; if its source has a sync waiting
    already (the queueing lock), it is failed instead and the waiting one does the work."""
    import asyncio

    import psycopg

    from crawler.team import SYNC_TASK, ensure_schema, lock_key, make_app, sweep

    ensure_schema(postgres_index)

    async def scenario() -> tuple[int, int, dict[str, str]]:
        app = make_app(postgres_index, {})
        async with app.open_async():
            manager, task = app.job_manager, app.tasks[SYNC_TASK]
            for name in ("a", "b"):
                await task.configure(lock=lock_key(name), queueing_lock=lock_key(name)).defer_async(
                    source=name
                )
            dead = await manager.register_worker()
            for _ in range(2):  # the dead worker took both
                assert await manager.fetch_job(queues=None, worker_id=dead) is not None
            await task.configure(lock=lock_key("b"), queueing_lock=lock_key("b")).defer_async(
                source="b"
            )
            alive = await sweep(manager, 60)  # its heartbeat is fresh: nothing stalled
            with psycopg.connect(postgres_index, autocommit=True) as db:
                db.execute(
                    "UPDATE procrastinate_workers SET last_heartbeat = now() - interval '1 hour'"
                )
            swept = await sweep(manager, 60)
        with psycopg.connect(postgres_index) as db:
            rows = db.execute(
                "SELECT id, args->>'source', status::text FROM procrastinate_jobs ORDER BY id"
            ).fetchall()
        return alive, swept, {f"{source}{n}": status for n, source, status in rows}

    alive, swept, jobs = asyncio.run(scenario())
    assert (alive, swept) == (0, 1)
    assert jobs == {"a1": "todo", "b2": "failed", "b3": "todo"}


def _git_lines(folder: Path, *args: str) -> list[str]:
    import subprocess

    done = subprocess.run(["git", "-C", str(folder), *args], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return done.stdout.splitlines()


def _posted(receiver: Any) -> list[tuple[str, str, tuple[str, ...], str]]:
    """What a receiver got, without the times and ids that differ between two archives."""
    import json

    events = [e for _, body in receiver.posts for e in json.loads(body)["events"]]
    return sorted((e["url"], e["path"], tuple(e["kinds"]), e["diff"] or "") for e in events)


@pytest.mark.corpus
@pytest.mark.slow
def test_a_publish_commits_and_posts_what_a_single_users_sync_does(
    corpus: tuple[tuple[str, str], ...], tmp_path: Path, postgres_index: str
) -> None:
    from crawler.config import load_config
    from crawler.team import publish
    from tests.fixture_site import FixtureSite
    from tests.receiver import Receiver

    team, lite = tmp_path / "team", tmp_path / "lite"
    with Receiver() as to_lite, Receiver() as to_team, FixtureSite(_recent(corpus, 4)) as site:
        for folder, receiver in ((lite, to_lite), (team, to_team)):
            folder.mkdir()
            (folder / "statements.toml").write_text(
                f'commit = true\n\n[[alerts.webhooks]]\nurl = "{receiver.url}"\n'
            )
        assert main([*site.sync_args(lite, "--full")]) == 0
        at = ["--archive", str(team), "--index", postgres_index]
        assert main(["enqueue", *at, "whitehouse", "--full"]) == 0
        worker = ["worker", *at, "whitehouse", "--once", "--base-url", site.base_url]
        assert main([*worker, "--rate", "0"]) == 0
        assert not list(team.rglob("*.md")) and not (team / ".git").exists()
        told = publish(team, load_config(team, postgres_index), wait=5)
        assert told == {"files": 4, "atom": 4, "git": 4, "webhook": 4}, told
    assert _git_lines(team, "log", "--format=%s") == _git_lines(lite, "log", "--format=%s")
    # The same files committed, byte for byte; not the Atom feed, whose entries carry the times
    # they were recorded at (compared in the enqueue test above), nor each folder's own
    # statements.toml (its receiver's URL).
    own = ("changes.atom", "statements.toml")
    trees = [
        [line for line in _git_lines(folder, "ls-tree", "-r", "HEAD") if not line.endswith(own)]
        for folder in (team, lite)
    ]
    assert trees[0] == trees[1] and len(trees[0]) == 5  # 4 statements and .gitignore
    assert _posted(to_team) == _posted(to_lite) and len(_posted(to_lite)) == 4
