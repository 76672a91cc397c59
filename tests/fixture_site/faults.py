"""Faults the site plays on requests: queued for a path by a test, or at random on statement pages.

"status" answers an error status, "stall" holds the answer, "reset" closes the connection with a
TCP reset, "truncate" sends less body than its Content-Length promises.
"""

from __future__ import annotations

import random
import threading
import time
from collections import Counter
from dataclasses import dataclass
from typing import Any

FAULT_KINDS = ("status", "stall", "reset", "truncate")


@dataclass
class _Fault:
    kind: str
    times: int
    status: int = 500
    retry_after: int | None = None


class _Faults:
    """The fault side of :class:`~tests.fixture_site.site.FixtureSite`."""

    _lock: threading.RLock
    _faults: dict[str, list[_Fault]]
    _random: random.Random
    _fault_seed: int
    _entries: dict[str, Any]
    fault_rate: float
    fault_kinds: tuple[str, ...]
    injected: Counter[str]
    requests: list[tuple[float, str, str, dict[str, str]]]

    def url_path(self, url: str) -> str:
        raise NotImplementedError  # the site's

    def fail(
        self,
        path: str,
        kind: str,
        *,
        times: int = 1,
        retry_after: int | None = None,
        status: int = 500,
    ) -> None:
        """Make the next ``times`` requests for a path (or URL) fail.

        "status": answer ``status`` (with Retry-After when given); "stall": hold the answer for
        ``stall_seconds``; "reset": close the connection without answering; "truncate": declare
        a longer Content-Length than the body sent, then close.
        """
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {kind!r}; one of {', '.join(FAULT_KINDS)}")
        if times < 1:
            raise ValueError("times must be at least 1")
        with self._lock:
            queue = self._faults.setdefault(self.url_path(path), [])
            queue.append(_Fault(kind, times, status, retry_after))

    @property
    def fault_seed(self) -> int:
        return self._fault_seed

    @fault_seed.setter
    def fault_seed(self, value: int) -> None:
        with self._lock:
            self._fault_seed, self._random = value, random.Random(value)

    def _arrive(self, method: str, target: str, headers: dict[str, str]) -> _Fault | None:
        """Record a request; the fault to play on it, if any."""
        path = self.url_path(target)
        with self._lock:
            self.requests.append((time.monotonic(), method, target, headers))
            queue = self._faults.get(path)
            if queue:
                fault = queue[0]
                fault.times -= 1
                if fault.times <= 0:
                    queue.pop(0)
                return fault
            chance = self.fault_rate if path in self._entries and self.fault_kinds else 0.0
            if chance > 0 and self._random.random() < chance:
                kind = self._random.choice(self.fault_kinds)
                status = self._random.choice((500, 503, 429))
                fault = _Fault(kind, 1, status, 1 if status == 429 else None)
                self.injected[f"HTTP {status}" if kind == "status" else kind] += 1
                return fault
        return None
