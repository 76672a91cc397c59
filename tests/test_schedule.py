from __future__ import annotations

import datetime as dt
import itertools
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from crawler.cli.schedule import IndexState
from crawler.errors import SourceError
from crawler.schedule import Job, Scheduler, due, make_trigger
from crawler.source import Schedule

MIDNIGHT = dt.datetime(2026, 3, 2, 0, 0, tzinfo=dt.UTC)
H = dt.timedelta(hours=1)


class FakeClock:
    def __init__(self, now: dt.datetime) -> None:
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now

    def wait(self, seconds: float) -> bool:
        self.now += dt.timedelta(seconds=seconds)
        return False


class MemoryState:
    def __init__(self) -> None:
        self.saved: dict[str, tuple[dt.datetime | None, dt.datetime | None]] = {}

    def schedule_state(self, job: str) -> tuple[dt.datetime | None, dt.datetime | None]:
        return self.saved.get(job, (None, None))

    def save(self, job: str, last: dt.datetime | None, nxt: dt.datetime | None) -> None:
        self.saved[job] = (last, nxt)


def every_2h() -> Any:
    return make_trigger(Schedule(every="2h"), start=MIDNIGHT)


def test_triggers() -> None:
    assert every_2h().interval == dt.timedelta(hours=2)
    for bad in ("2 hours", "h", "0s", "-1h", "367d"):
        with pytest.raises(SourceError, match=r"every: .* is not a duration"):
            make_trigger(Schedule(every=bad), start=MIDNIGHT)
    with pytest.raises(SourceError, match="cron"):
        make_trigger(Schedule(cron="61 * * * *"), start=MIDNIGHT)
    cron = make_trigger(Schedule(cron="28 */2 * * *"), start=MIDNIGHT)
    assert cron.get_next_fire_time(None, MIDNIGHT) == MIDNIGHT.replace(minute=28)


def test_due_is_pure_and_coalesces_missed_runs() -> None:
    trigger = every_2h()
    assert due(trigger, None, MIDNIGHT).run
    assert not due(trigger, MIDNIGHT, MIDNIGHT + H).run
    late = due(trigger, MIDNIGHT, MIDNIGHT + 6.5 * H)  # 02:00, 04:00, 06:00 all missed
    assert late.run and late.fire_time == MIDNIGHT + 6 * H and late.missed == 2
    assert late.next_fire == MIDNIGHT + 8 * H
    too_late = due(trigger, MIDNIGHT, MIDNIGHT + 7.5 * H, grace=H)
    assert not too_late.run and too_late.fire_time == MIDNIGHT + 6 * H
    assert due(trigger, MIDNIGHT, MIDNIGHT + 6.5 * H) == late  # same inputs, same answer


def test_a_simulated_day_every_2h_is_12_runs_never_overlapping() -> None:
    clock = FakeClock(MIDNIGHT)
    durations = iter([dt.timedelta(minutes=5)] * 2 + [3 * H] + [dt.timedelta(minutes=5)] * 20)

    def work() -> dict[str, Any]:
        clock.now += next(durations)  # the third run takes longer than the interval
        return {"counts": {"new": 1}}

    scheduler = Scheduler(
        [Job("whitehouse", every_2h(), work)], state=MemoryState(), clock=clock, wait=clock.wait
    )
    scheduler.run(until=MIDNIGHT + 24 * H)
    runs = scheduler.runs
    assert len(runs) == 12
    assert all(b[2] >= a[3] for a, b in itertools.pairwise(runs))  # no overlap
    assert [r[1].hour for r in runs] == [0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22]
    assert runs[3][2] == MIDNIGHT + 7 * H  # the 06:00 run, late once, then back on time


def test_a_restart_does_not_rerun_what_ran_in_its_period(tmp_path: Path) -> None:
    state = IndexState(tmp_path / "archive")
    clock = FakeClock(MIDNIGHT)
    ran: list[dt.datetime] = []

    def work() -> dict[str, Any]:
        ran.append(clock.now)
        return {}

    def scheduler() -> Scheduler:
        return Scheduler([Job("wh", every_2h(), work)], state=state, clock=clock, wait=clock.wait)

    scheduler().run(max_runs=1)
    assert ran == [MIDNIGHT]
    clock.now = MIDNIGHT + 1.5 * H  # restarted within the period: nothing runs until 02:00
    scheduler().run(until=MIDNIGHT + 1.9 * H)
    assert ran == [MIDNIGHT]
    scheduler().run(until=MIDNIGHT + 2.1 * H)
    assert ran == [MIDNIGHT, MIDNIGHT + 2 * H]


def test_a_failing_run_does_not_stop_the_schedule() -> None:
    clock = FakeClock(MIDNIGHT)

    def boom() -> dict[str, Any]:
        raise RuntimeError("site down")

    scheduler = Scheduler(
        [Job("x", every_2h(), boom)], state=MemoryState(), clock=clock, wait=clock.wait
    )
    scheduler.run(until=MIDNIGHT + 5 * H)
    assert len(scheduler.runs) == 3


def test_jitter_never_delays_a_run_by_more_than_a_tenth_of_the_interval() -> None:
    trigger = make_trigger(Schedule(every="2s", jitter=120), start=MIDNIGHT)
    fires = [trigger.get_next_fire_time(MIDNIGHT, MIDNIGHT) for _ in range(50)]
    assert all(
        MIDNIGHT + dt.timedelta(seconds=2) <= f <= MIDNIGHT + dt.timedelta(seconds=2.2)
        for f in fires
    )


def test_a_run_logs_statements_counted_once_and_why_it_failed() -> None:
    from crawler.schedule import _line

    counts = {"new": 2, "updated": 1, "retitled": 1, "metadata": 1, "changed": 1, "unchanged": 9}
    assert _line({"counts": counts}) == "2 new, 1 changed"
    failed = {"counts": {"failed": 1}, "error": "cannot reach x: name not resolved (offline?)"}
    assert _line(failed) == "1 failed, error: cannot reach x: name not resolved (offline?)"
    assert _line({"counts": {"unchanged": 4}, "error": None}) == "no change"


def test_the_cli_loads_the_scheduler_and_the_team_only_for_their_commands() -> None:
    """A one-off sync starts some 0.2 s sooner without APScheduler, Procrastinate and psycopg."""
    code = "import sys, crawler.cli; print(sorted({m.split('.')[0] for m in sys.modules}))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    loaded = done.stdout
    assert "'crawler'" in loaded and "'httpx'" in loaded
    for heavy in ("apscheduler", "procrastinate", "psycopg"):
        assert f"'{heavy}'" not in loaded
