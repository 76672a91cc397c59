"""Politeness across workers: one row per host with its next free request slot (PostgreSQL).

Workers on several processes or machines share a host's rate limit through the database: a
request first reserves the next free slot of its host with one ``UPDATE ... RETURNING`` in its
own short transaction (autocommit), and sleeps until that slot. The row lock serialises the
reservations of one host; slots are handed out on the database's clock (one clock for every
machine), each ``interval * (1 + margin + jitter)`` after the previous one, where ``margin`` is a
small safety margin against the time between the reservation and the request leaving. Hosts
never wait for each other (one row each).

The table ``team_host_slots`` belongs to team mode (PostgreSQL only; the single user's SQLite
index never needs it): :func:`ensure_table` creates it if absent, under the table's own
``CREATE TABLE IF NOT EXISTS``. This module knows nothing of HTTP: a host is a name.
"""

from __future__ import annotations

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

_RESERVE = """
WITH now AS (SELECT extract(epoch FROM clock_timestamp())::float8 AS t)
UPDATE team_host_slots SET
    next_free = GREATEST(next_free, (SELECT t FROM now)) + %(gap)s,
    requests = requests + 1
WHERE host = %(host)s
RETURNING GREATEST(next_free - %(gap)s, (SELECT t FROM now)) - (SELECT t FROM now)
"""


def ensure_table(db: Any) -> None:
    """Create the table of host slots if it is not there (idempotent)."""
    db.execute(TABLE_SQL)


class HostSlots:
    """Reserves request slots per host in a shared database; one connection of its own."""

    def __init__(self, locator: str):
        check_no_password(locator)
        self.locator = locator.strip()
        self.db = self._connect()
        ensure_table(self.db)
        self._known: set[str] = set()

    def _connect(self) -> psycopg.Connection[Any]:
        try:
            return psycopg.connect(self.locator, autocommit=True)
        except psycopg.Error as exc:
            raise ArchiveError(
                f"cannot connect to the index: {str(exc).strip().splitlines()[0]}",
                where=redact(self.locator),
            ) from None

    def reserve(self, host: str, gap: float) -> float:
        """Reserve ``host``'s next free slot, the next one ``gap`` seconds later; the seconds
        to wait until the reserved slot (0 when it is free now). A lost connection (the server
        restarted) is opened again once."""
        try:
            return self._reserve(host, gap)
        except psycopg.OperationalError:
            self.db.close()
            self.db = self._connect()
            return self._reserve(host, gap)

    def _reserve(self, host: str, gap: float) -> float:
        if host not in self._known:
            self.db.execute(
                "INSERT INTO team_host_slots (host, next_free) VALUES (%s, 0)"
                " ON CONFLICT (host) DO NOTHING",
                (host,),
            )
            self._known.add(host)
        row = self.db.execute(_RESERVE, {"host": host, "gap": gap}).fetchone()
        return max(0.0, float(row[0])) if row else 0.0

    def close(self) -> None:
        self.db.close()
