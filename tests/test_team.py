"""Team mode (``crawler.team``): Procrastinate workers on the index's PostgreSQL database.

The schedule mapping is pure and tested alone. Everything else runs for real: a throw-away
cluster (``tests/pgcluster.py``), loopback fixture publishers (``tests/fixture_site``), worker
processes (``tests/team_worker.py``, or ``statements worker`` in this process). Politeness is
measured on the server side, from the times the publisher saw the requests arrive.
"""

from __future__ import annotations

import datetime as dt
import itertools
import multiprocessing
from pathlib import Path
from typing import Any

import pytest

from crawler.cli import main
from crawler.team import every_to_cron

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
    assert state["last_runs"]["whitehouse"]["summary"]["counts"] == {"new": 6}
    with Archive(lite, create=False) as a, Archive(team, create=False, index=postgres_index) as b:
        assert [s.url for s in b.index.statements()] == [s.url for s in a.index.statements()]
        assert b.index.count_statements() == 6


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
