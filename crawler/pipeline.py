"""The sync's fetch stream: fetch many pages at once, hand them on in batches as they arrive.

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

from collections.abc import Callable, Generator, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")

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
