"""The fetch stream (crawler/pipeline.py) with a fake fetch: a slow item holds up no batch, the
window bounds what is in flight, a stop still hands on what was fetched."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from crawler.pipeline import batches

SAFETY = 30.0  # seconds a fake fetch waits before giving up (only when the stream is wrong)


def test_a_slow_item_is_handed_on_after_the_others_not_before() -> None:
    handed: list[int] = []
    released = threading.Event()

    def fetch(n: int) -> int:
        if n == 3:  # a statement waiting on retries until the others are recorded
            assert released.wait(SAFETY), "the others were not handed on while this one waited"
        return n * 10

    stream = batches(range(12), fetch, workers=3, size=4, window=6, linger=0.05)
    for batch in stream:
        handed.extend(n for n, _ in batch)
        assert all(result == n * 10 for n, result in batch)
        if len(handed) == 11:
            released.set()
    assert set(handed[:11]) == set(range(12)) - {3} and handed[-1] == 3  # once each, 3 last


def test_batches_are_full_unless_the_stream_idles_and_in_plan_order() -> None:
    got = list(batches(range(10), lambda n: n, workers=2, size=4, window=4, linger=SAFETY))
    assert [len(b) for b in got] == [4, 4, 2]
    assert sorted(n for b in got for n, _ in b) == list(range(10))
    for batch in got:
        assert [n for n, _ in batch] == sorted(n for n, _ in batch)


def test_the_window_bounds_what_is_in_flight() -> None:
    drawn = 0

    def plan() -> Iterator[int]:
        nonlocal drawn
        for n in range(40):
            drawn += 1  # taken from the plan only to be submitted
            yield n

    handed = 0
    for batch in batches(plan(), lambda n: n, workers=8, size=5, window=5, linger=SAFETY):
        handed += len(batch)
        assert drawn <= handed + 5 + 5  # the window in flight, less than a batch waiting
    assert handed == 40


def test_a_stop_submits_nothing_more_and_hands_on_what_was_fetched() -> None:
    stop = threading.Event()
    fetched: list[int] = []

    def fetch(n: int) -> int:
        fetched.append(n)
        if n == 4:
            stop.set()
        return n

    handed = [
        n
        for batch in batches(
            range(100), fetch, workers=1, size=3, window=5, linger=SAFETY, stop=stop.is_set
        )
        for n, _ in batch
    ]
    assert len(fetched) < 100
    assert sorted(handed) == sorted(fetched)  # all that was fetched, nothing else


def test_a_consumer_giving_up_cancels_what_was_not_started() -> None:
    fetched: list[int] = []
    gate = threading.Event()

    second = threading.Event()

    def fetch(n: int) -> int:
        if n > 0:
            second.set()
            gate.wait(SAFETY)  # the second fetch is still in flight when the consumer gives up
        fetched.append(n)
        return n

    stream = batches(range(50), fetch, workers=1, size=1, window=10, linger=SAFETY)
    assert next(stream) == [(0, 0)]
    assert second.wait(SAFETY)
    stream.close()  # as on an exception in the loop: the fetch in flight is not waited for
    assert fetched == [0]
    gate.set()
    for worker in [t for t in threading.enumerate() if t.name.startswith("fetch_")]:
        worker.join(SAFETY)
    assert fetched == [0, 1]  # the queued ones were cancelled


def test_an_error_in_a_fetch_is_raised_to_the_consumer() -> None:
    def fetch(n: int) -> int:
        if n == 2:
            raise RuntimeError("a bug")
        return n

    with pytest.raises(RuntimeError, match="a bug"):
        list(batches(range(5), fetch, workers=2, size=2, window=2, linger=SAFETY))


@pytest.mark.parametrize("bad", [{"size": 0}, {"window": 0}, {"workers": 0}])
def test_sizes_must_be_positive(bad: dict[str, int]) -> None:
    kw = {"workers": 1, "size": 1, "window": 1, "linger": 0.1} | bad
    with pytest.raises(ValueError):
        next(batches([1], lambda n: n, **kw))  # type: ignore[arg-type]
