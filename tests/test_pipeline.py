"""The fetch stream (crawler/pipeline.py) with a fake fetch: a slow item holds up no batch, the
window bounds what is in flight, a stop still hands on what was fetched."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from crawler.pipeline import batches, overlapped

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


# -- overlapped: fetch, process (parse and convert) and hand on (record) at the same time ------


def test_overlapped_hands_on_every_item_once_processed_in_plan_order_batches() -> None:
    got = list(
        overlapped(
            range(23),
            lambda n: n * 10,
            lambda batch: [r + 1 for _, r in batch],
            workers=3,
            size=4,
            window=6,
            linger=SAFETY,
            jobs=2,
        )
    )
    assert sorted(n for batch, _ in got for n, _ in batch) == list(range(23))
    for batch, processed in got:
        assert len(batch) <= 4 and [n for n, _ in batch] == sorted(n for n, _ in batch)
        assert processed == [n * 10 + 1 for n, _ in batch]


def test_overlapped_processes_two_batches_at_once() -> None:
    both = threading.Barrier(2, timeout=SAFETY)  # broken unless two batches are in process at once
    started = iter(range(100))

    def process(batch: list[tuple[int, int]]) -> int:
        if next(started) < 2:  # the first two batches wait for each other
            both.wait()
        return len(batch)

    got = list(
        overlapped(
            range(8), lambda n: n, process, workers=2, size=2, window=4, linger=SAFETY, jobs=2
        )
    )
    assert sum(processed for _, processed in got) == 8


def test_overlapped_hands_a_batch_on_before_the_last_fetch() -> None:
    handed = threading.Event()

    def fetch(n: int) -> int:
        if n == 19:  # the last fetch waits until the consumer has recorded something
            assert handed.wait(SAFETY), "nothing was handed on while fetching went on"
        return n

    stream = overlapped(range(20), fetch, len, workers=4, size=3, window=4, linger=SAFETY, jobs=2)
    count = 0
    for batch, processed in stream:
        assert processed == len(batch)
        count += processed
        handed.set()
    assert count == 20


def test_overlapped_bounds_what_it_holds() -> None:
    drawn = 0

    def plan() -> Iterator[int]:
        nonlocal drawn
        for n in range(60):
            drawn += 1
            yield n

    handed = 0
    for batch, _ in overlapped(
        plan(), lambda n: n, len, workers=8, size=3, window=5, linger=SAFETY, jobs=2
    ):
        handed += len(batch)
        assert drawn - handed <= 5 + 2 * 3  # in flight, fetched, processed: the window and jobs
    assert handed == 60


def test_overlapped_stop_still_processes_and_hands_on_what_was_fetched() -> None:
    stop = threading.Event()
    fetched: list[int] = []

    def fetch(n: int) -> int:
        fetched.append(n)
        if n == 6:
            stop.set()
        return n

    handed = [
        n
        for batch, processed in overlapped(
            range(100),
            fetch,
            len,
            workers=1,
            size=4,
            window=3,
            linger=0.05,
            jobs=2,
            stop=stop.is_set,
        )
        for n, _ in batch
    ]
    assert len(fetched) < 100
    assert sorted(handed) == sorted(fetched)


def test_overlapped_an_error_in_processing_is_raised_to_the_consumer() -> None:
    def process(batch: list[tuple[int, int]]) -> int:
        if any(n == 5 for n, _ in batch):
            raise RuntimeError("a parser bug")
        return 0

    with pytest.raises(RuntimeError, match="a parser bug"):
        list(
            overlapped(
                range(9), lambda n: n, process, workers=2, size=2, window=2, linger=SAFETY, jobs=2
            )
        )
