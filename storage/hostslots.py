"""Politeness across workers: one row per host with its next free request slot (PostgreSQL).

Workers on several processes or machines share a host's rate limit through the database. A
request first holds its host's slot in a short transaction: it locks the host's row
(``SELECT ... FOR UPDATE``, :meth:`HostSlots.hold`) and sleeps until the row's ``next_free``
time (on the database's clock, one clock for every machine); the request leaves; once its
answer begins (or it fails), :meth:`HostSlots.release` sets ``next_free`` to now plus ``gap``
and commits. The next request to that host waits on the row lock meanwhile, so its slot is
counted from when the previous request had surely reached the host, not from when it was
reserved: a worker that is late (a busy machine) never brings two requests closer together.
A worker that dies holding a slot loses its connection, and with it the lock. ``gap`` is the
rate's interval with a small safety margin (:class:`crawler.team.SharedLimiter`). Hosts never
wait for each other (one row each); threads of one worker take turns on its connection.

The table ``team_host_slots`` belongs to team mode (PostgreSQL only; the single user's SQLite
index never needs it): :func:`ensure_table` creates it if absent. This module knows nothing of
HTTP: a host is a name, the sleep is injected.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import psycopg

from storage.errors import ArchiveError
from storage.locator import check_no_password, redact

TABLE_SQL = """
CREATE TABLE IF NOT EXISTS team_host_slots (
    host TEXT PRIMARY KEY,
    next_free DOUBLE PRECISION NOT NULL,  -- seconds since the epoch, on the database's clock
    requests BIGINT NOT NULL DEFAULT 0
)
"""

_NOW = "extract(epoch FROM clock_timestamp())::float8"
_LOCK = f"SELECT next_free - {_NOW} FROM team_host_slots WHERE host = %(host)s FOR UPDATE"
_TAKE = f"""
UPDATE team_host_slots SET next_free = {_NOW} + %(gap)s, requests = requests + 1
WHERE host = %(host)s RETURNING next_free
"""


_TABLE_LOCK = 0x5747_4853  # the advisory lock key of its creation


def ensure_table(db: Any) -> None:
    """Create the table of host slots if it is not there (idempotent; workers that start
    together take turns: ``IF NOT EXISTS`` alone is not safe against a concurrent creation)."""
    with db.transaction():
        db.execute("SELECT pg_advisory_xact_lock(%s)", (_TABLE_LOCK,))
        db.execute(TABLE_SQL)


class HostSlots:
    """Reserves request slots per host in a shared database; one connection of its own."""

    def __init__(self, locator: str):
        check_no_password(locator)
        self.locator = locator.strip()
        self.db = self._connect()
        ensure_table(self.db)
        self._known: set[str] = set()
        self._threads = threading.Lock()
        self._held: str | None = None

    def _connect(self) -> psycopg.Connection[Any]:
        try:
            return psycopg.connect(self.locator, autocommit=True)
        except psycopg.Error as exc:
            raise ArchiveError(
                f"cannot connect to the index: {str(exc).strip().splitlines()[0]}",
                where=redact(self.locator),
            ) from None

    def hold(self, host: str, sleep: Callable[[float], Any]) -> float:
        """Wait for ``host``'s next free slot and hold it (its row locked) until
        :meth:`release`; the seconds slept. A lost connection (the server restarted) is opened
        again once."""
        self._threads.acquire()
        try:
            try:
                return self._hold(host, sleep)
            except psycopg.OperationalError:
                self.db.close()
                self.db = self._connect()
                return self._hold(host, sleep)
        except BaseException:
            self._abandon()
            raise

    def _hold(self, host: str, sleep: Callable[[float], Any]) -> float:
        if host not in self._known:
            self.db.execute(
                "INSERT INTO team_host_slots (host, next_free) VALUES (%s, 0)"
                " ON CONFLICT (host) DO NOTHING",
                (host,),
            )
            self._known.add(host)
        self.db.execute("BEGIN")
        row = self.db.execute(_LOCK, {"host": host}).fetchone()
        delay = max(0.0, float(row[0])) if row else 0.0
        if delay > 0:
            sleep(delay)
        self._held = host
        return delay

    def release(self, gap: float) -> None:
        """The request has left: the held host's next slot is ``gap`` seconds from now."""
        host, self._held = self._held, None
        if host is None:
            return
        try:
            self.db.execute(_TAKE, {"host": host, "gap": gap})
            self.db.execute("COMMIT")
        except BaseException:
            self._abandon()
            raise
        self._threads.release()

    def _abandon(self) -> None:
        """Give up a slot (a failure): roll back, let the next thread go."""
        self._held = None
        try:
            if not self.db.closed:
                self.db.execute("ROLLBACK")
        except psycopg.Error:
            pass  # the connection is gone: so is its lock
        finally:
            self._threads.release()

    def close(self) -> None:
        self.db.close()
