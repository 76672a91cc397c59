"""The sync's fetch stream: fetch many pages at once, hand them on in batches as they arrive.

The sync uses :func:`overlapped`: :func:`batches`' stream, each batch then processed (parsed and
converted: one pandoc process) on ``jobs`` threads of its own, and handed on (recorded) in the
order the batches were formed as soon as it is processed. Fetching, processing and recording
thus go on at the same time, ``jobs`` pandoc processes at once, and what is held stays bounded.
What follows holds for both.

A statement whose fetch waits on retries (a 503 or 429 with ``Retry-After``, a backoff after a
timeout) must not hold up the others. :func:`batches` submits the fetches to a pool of worker
threads and yields the finished ones in batches, to be parsed and recorded together (one pandoc
run, one archive transaction):

- when ``size`` have finished;
- when the stream idles: nothing has finished for ``linger`` seconds, so what is still in flight
  is slow or waiting on a retry; what has arrived is handed on without it;
- at the end.

A retried statement thus lands in a later batch, and the others go on being fetched and recorded
meanwhile. At most ``window`` fetches are in flight, and fewer than ``window + size`` pages are
held at once, however long the plan: items are taken from ``items`` only to be submitted. While
one batch is parsed and recorded, the next ``window`` are fetched. The syncer gives the pool more
worker threads than the fetcher's ``concurrency`` (:data:`RETRY_SPARE`): a worker waiting on a
retry sleeps outside the fetcher's request slots, and the spare workers keep the slots busy.

Order. Batches come in the order fetches complete; within a batch, items keep the order they were
given (the plan's), so a batch's content is recorded the same way whatever the threads did. Event
ids grow in recording order. Whatever must not depend on timing is decided after the stream ends
(the syncer's removals).

Stop. Once ``stop()`` is true nothing more is submitted; the fetches in flight are awaited (the
fetcher ends them quickly: no request starts, retry sleeps are cut short) and still handed on, so
what was fetched is recorded. If the consumer gives up (an exception, the generator closed), what
was not started is cancelled and fetches in flight are not waited for.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Generator, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from typing import Any, Generic, TypeVar

T = TypeVar("T")
R = TypeVar("R")
P = TypeVar("P")

#: Worker threads beyond the fetcher's concurrency: how many fetches may sleep on a retry
#: before the others have to wait for a worker too.
RETRY_SPARE = 8


def batches(
    items: Iterable[T],
    work: Callable[[T], R],
    *,
    workers: int,
    size: int,
    window: int,
    linger: float,
    stop: Callable[[], bool] = lambda: False,
) -> Generator[list[tuple[T, R]]]:
    """``work(item)`` for every item, on ``workers`` threads; the (item, result) pairs in batches
    of at most ``size``, as described in the module docstring. An exception ``work`` raises is
    raised here, when its batch would be formed."""
    if size < 1 or window < 1 or workers < 1:
        raise ValueError("size, window and workers must be at least 1")
    todo = iter(enumerate(items))
    pending: dict[Future[R], tuple[int, T]] = {}
    arrived: list[tuple[int, T, R]] = []
    pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="fetch")
    finished = False
    try:
        more = True
        while True:
            more = more and not stop() and _submit(pool, todo, work, pending, window)
            if not pending:
                break
            timeout = linger if arrived else None
            done, _ = wait(pending, timeout=timeout, return_when=FIRST_COMPLETED)
            for future in done:
                slot, item = pending.pop(future)
                arrived.append((slot, item, future.result()))
            while len(arrived) >= size or (arrived and not done):  # full, or the stream idles
                yield _in_order(arrived[:size])
                del arrived[:size]
        if arrived:
            yield _in_order(arrived)
        finished = True
    finally:
        pool.shutdown(wait=finished, cancel_futures=True)


def _submit(
    pool: ThreadPoolExecutor,
    todo: Iterator[tuple[int, T]],
    work: Callable[[T], R],
    pending: dict[Future[R], tuple[int, T]],
    window: int,
) -> bool:
    """Fill the window; whether items remain."""
    while len(pending) < window:
        nxt = next(todo, None)
        if nxt is None:
            return False
        pending[pool.submit(work, nxt[1])] = nxt
    return True


def _in_order(arrived: list[tuple[int, T, R]]) -> list[tuple[T, R]]:
    return [(item, result) for _, item, result in sorted(arrived, key=lambda a: a[0])]


def overlapped(
    items: Iterable[T],
    work: Callable[[T], R],
    process: Callable[[list[tuple[T, R]]], P],
    *,
    workers: int,
    size: int,
    window: int,
    linger: float,
    jobs: int,
    stop: Callable[[], bool] = lambda: False,
) -> Generator[tuple[list[tuple[T, R]], P]]:
    """:func:`batches`, with each batch then given to ``process`` on ``jobs`` more threads: yields
    (batch, what ``process`` made of it), in the order the batches were formed, while the next
    are fetched and processed. So fetching, processing (parsing, converting) and what the
    consumer does (recording) go on at the same time; ``jobs`` batches are processed at once.

    At most ``window`` fetches are in flight and ``window + jobs * size`` items held in all
    (fetching, fetched, processed, not yet handed on). Stop and giving up as :func:`batches`:
    on ``stop()`` what was fetched is still processed and handed on. An exception ``process``
    raises is raised here, when its batch's turn comes."""
    if size < 1 or window < 1 or workers < 1 or jobs < 1:
        raise ValueError("size, window, workers and jobs must be at least 1")
    flow = _Flow(iter(enumerate(items)), work, process, size, window, jobs)
    fetchers = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="fetch")
    processors = ThreadPoolExecutor(max_workers=jobs, thread_name_prefix="process")
    finished = False
    try:
        while flow.busy(stop):
            flow.fill(fetchers, stop)
            flow.arrive(linger)
            flow.form(processors, linger)
            while flow.processing and flow.processing[0][1].done():
                batch, future = flow.processing.pop(0)
                flow.held -= len(batch)
                yield batch, future.result()
        finished = True
    finally:
        for fetching in flow.pending:
            fetching.cancel()
        for _, processed in flow.processing:
            processed.cancel()
        processors.shutdown(wait=finished, cancel_futures=True)
        fetchers.shutdown(wait=finished, cancel_futures=True)


class _Flow(Generic[T, R, P]):
    """The state of :func:`overlapped`: fetches in flight, fetched items not yet in a batch,
    batches being processed (in the order formed)."""

    def __init__(
        self,
        todo: Iterator[tuple[int, T]],
        work: Callable[[T], R],
        process: Callable[[list[tuple[T, R]]], P],
        size: int,
        window: int,
        jobs: int,
    ) -> None:
        self.todo, self.work, self.process = todo, work, process
        self.size, self.window, self.jobs = size, window, jobs
        self.pending: dict[Future[R], tuple[int, T]] = {}
        self.arrived: list[tuple[int, T, R]] = []
        self.processing: list[tuple[list[tuple[T, R]], Future[P]]] = []
        self.held = 0  # items taken from ``todo`` and not yet handed on
        self.more = True
        self.last = time.monotonic()  # when a fetch last finished

    def busy(self, stop: Callable[[], bool]) -> bool:
        self.more = self.more and not stop()
        return bool(self.more or self.pending or self.arrived or self.processing)

    def fill(self, pool: ThreadPoolExecutor, stop: Callable[[], bool]) -> None:
        cap = self.window + self.jobs * self.size
        while self.more and len(self.pending) < self.window and self.held < cap:
            nxt = next(self.todo, None) if not stop() else None
            if nxt is None:
                self.more = False
                return
            self.pending[pool.submit(self.work, nxt[1])] = nxt
            self.held += 1

    def arrive(self, linger: float) -> None:
        """Wait for a fetch or a batch to finish, or for the stream to idle."""
        running = self.running()
        if not self.pending and not running:
            self.last = float("-inf")  # nothing more can arrive: what did is handed on
            return
        timeout = None  # processing is full: only a finished batch or fetch changes anything
        if self.arrived and len(running) < self.jobs:
            timeout = max(0.0, linger - (time.monotonic() - self.last))
        futures: list[Future[Any]] = [*self.pending, *running]
        done, _ = wait(futures, timeout=timeout, return_when=FIRST_COMPLETED)
        for future in done:
            if future in self.pending:
                slot, item = self.pending.pop(future)
                self.arrived.append((slot, item, future.result()))
                self.last = time.monotonic()

    def running(self) -> list[Future[P]]:
        return [future for _, future in self.processing if not future.done()]

    def form(self, pool: ThreadPoolExecutor, linger: float) -> None:
        """Hand the fetched on to processing: a full batch, or what arrived once the stream
        idles or ends; no more than ``jobs`` batches processed at once."""
        while self.arrived and len(self.running()) < self.jobs:
            idle = time.monotonic() - self.last >= linger
            ended = not self.more and not self.pending
            if len(self.arrived) < self.size and not idle and not ended:
                return
            batch = _in_order(self.arrived[: self.size])
            del self.arrived[: self.size]
            self.processing.append((batch, pool.submit(self.process, batch)))
